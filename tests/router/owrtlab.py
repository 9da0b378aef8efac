"""routerlab's topology with the real OpenWrt netifd and ubusd in ns R (../shared/owrt's
router-ns.sh, found through tests/support/owrt.py), and wgpy's own proto handler at
/lib/netifd/proto/wgpy.sh, wgpy and wgpyd at /usr/bin: the router as on OpenWrt.

    ns L  vL 192.168.77.2 <-> vRL (netifd 'lan', static 192.168.77.1/24)
    ns R  (router-ns: ubusd, netifd)  vRW (netifd 'wan', static 10.66.0.1/24, gw 10.66.0.2)
          wgX (netifd proto 'wgpy': wgpyd is its proto task)  <->  ns S wireguard-go
"""

import json
import os
import shutil
import subprocess
import sys

from routerlab import ENDPOINT, SERVER_PORT, Lab, genkey, wait_for
from support import owrt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

BIN = os.path.dirname(sys.executable)  # the venv's: wgpy and wgpyd sit beside python
MPY_PREFIX = os.environ.get("MPY_PREFIX", "/var/cache/wgpy-micropython")
ROUTER_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"

NETWORK = """
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'wan'
	option device 'vRW'
	option proto 'static'
	option ipaddr '10.66.0.1'
	option netmask '255.255.255.0'
	option gateway '10.66.0.2'

config interface 'lan'
	option device 'vRL'
	option proto 'static'
	option ipaddr '192.168.77.1'
	option netmask '255.255.255.0'
"""


def wgpy_interface(ifname: str, private: str, server_public: str, extra: str = "",
                   peer_extra: str = "") -> str:
    """A whole-LAN wgpy interface with the server as its one peer (UCI text)."""
    return (f"\nconfig interface '{ifname}'\n\toption proto 'wgpy'\n"
            f"\toption private_key '{private}'\n\tlist addresses '10.77.0.1/24'\n{extra}"
            f"\nconfig wireguard_{ifname} 'server'\n\toption public_key '{server_public}'\n"
            f"\toption endpoint_host '{ENDPOINT}'\n\toption endpoint_port '{SERVER_PORT}'\n"
            f"\toption route_allowed_ips '1'\n\tlist allowed_ips '0.0.0.0/0'\n"
            f"\toption persistent_keepalive '5'\n{peer_extra}")


def _bash(script: str, check=True) -> subprocess.CompletedProcess:
    full = f". {owrt.ROUTER_NS}\n{script}"
    result = subprocess.run(["bash", "-c", full], capture_output=True, text=True,
                            env=owrt.env(), timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{script}: {result.stdout}{result.stderr}")
    return result


class OwrtLab(Lab):
    """Lab whose R is an owrt router; start() after build() and the UCI files. CLI is the
    interpreter the proto handler's `wgpy` runs on: "cpython" (the venv's entry point) or
    "micropython" (the package's /usr/bin/wgpy launcher on ../shared/micropython's
    interpreter, logging each run to cli.log); wgpyd is CPython's either way."""

    CLI = "cpython"

    def _cli(self) -> str:
        """The program the router gets as /usr/bin/wgpy."""
        if self.CLI == "cpython":
            return f"{BIN}/wgpy"
        # Outside /tmp, which is private inside the router.
        directory = os.path.join(ROOT, "build", f"owrt-mpy-{self.R}")
        os.makedirs(directory, exist_ok=True)
        self.cli_log = os.path.join(directory, "cli.log")
        wrapper = os.path.join(directory, "wgpy")
        with open(wrapper, "w") as f:
            f.write(f"""#!/bin/sh
echo "$*" >> {self.cli_log}
export MICROPYPATH=.frozen:{ROOT}/src:{MPY_PREFIX}/lib/micropython
export WGPY_LIBWGCORE={ROOT}/build/libwgcore.so WGPY_MICROPYTHON={MPY_PREFIX}/bin/micropython
exec {ROOT}/package/wgpy/files/wgpy "$@"
""")
        os.chmod(wrapper, 0o755)
        return wrapper

    def start_router(self, options: str = "") -> None:
        confdir = self.tmp_path / "config"
        proto = self.tmp_path / "proto"
        proto.mkdir()
        (proto / "wgpy.sh").write_bytes(
            open(os.path.join(ROOT, "package", "wgpy", "files", "wgpy.sh"), "rb").read())
        os.chmod(proto / "wgpy.sh", 0o755)
        self.router_name = self.R
        binds = f"--bind {self._cli()}:/usr/bin/wgpy --bind {BIN}/wgpyd:/usr/bin/wgpyd"
        _bash(f"owrt_router_start {self.R} {confdir} --proto {proto} --daemons "
              f"'ubusd netifd' --private-tmp {binds} {options}")
        self.started_router = True
        self.pid = _bash(f"owrt_router_pid {self.R}").stdout.strip()

    def rx(self, *argv, check=True, timeout=60, input=None) -> subprocess.CompletedProcess:
        """Run a command inside the router (its mount namespace: /var/run, /etc/config)."""
        result = subprocess.run(["nsenter", "-t", self.pid, "-m", "-n", "-u", "--", "env",
                                 f"PATH={ROUTER_PATH}", *argv], capture_output=True,
                                text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv}: {result.stdout}{result.stderr}")
        return result

    def iface_status(self, ifname: str) -> dict:
        out = self.rx("ubus", "call", f"network.interface.{ifname}", "status", check=False)
        return json.loads(out.stdout) if out.returncode == 0 else {}

    def netifd_log(self) -> str:
        path = _bash(f"owrt_router_log {self.R} netifd").stdout.strip()
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wgpyd_pid(self, ifname: str) -> int:
        """wgpyd's PID as the UAPI socket reports it (inside the router's /var/run)."""
        code = ("import sys; from wgpy.uapi.client import peer_pid; "
                "print(peer_pid(sys.argv[1]) or 0)")
        return int(self.rx(f"{BIN}/python", "-c", code, ifname).stdout.strip() or 0)

    def router_pids(self) -> list:
        """PIDs of the processes in the router's network namespace (the PID namespace is
        the host's, so they are told apart by their /proc/PID/ns/net)."""
        ns = os.readlink(f"/proc/{self.pid}/ns/net")
        pids = []
        for name in os.listdir("/proc"):
            try:
                if name.isdigit() and os.readlink(f"/proc/{name}/ns/net") == ns:
                    pids.append(int(name))
            except OSError:
                continue    # gone meanwhile
        return pids

    def wgpy_processes(self) -> dict:
        """{pid: argv} of every wgpy process in the router: a program whose name has
        "wgpy" in it (wgpy, wgpyd, an rpcd plugin), or an interpreter running one or
        wgpy.cli (MicroPython's `micropython -X heapsize=4M -m wgpy.cli`: the name comes
        fifth); `ubus call wgpy ...` is not one."""
        found = {}
        for pid in self.router_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")[:-1]
            except OSError:
                continue
            if argv and os.path.basename(argv[0]) != "ubus" and \
                    any("wgpy" in os.path.basename(a) for a in argv[:7]):
                found[pid] = argv
        return found

    def close(self) -> None:
        if getattr(self, "started_router", False):
            _bash(f"owrt_router_stop {self.R}", check=False)
        if self.CLI != "cpython" and hasattr(self, "R"):
            shutil.rmtree(os.path.join(ROOT, "build", f"owrt-mpy-{self.R}"), ignore_errors=True)
        super().close()


def build(lab: OwrtLab, extra: str = "", peer_extra: str = "", options: str = ""):
    """Topology, server, UCI and the router (router-ns.sh `options` added); -> ifname. The
    tunnel is whole-LAN; IFNAME in `peer_extra` (more peer sections) stands for the
    interface's name."""
    lab.build(lan=True)
    ifname = lab.ifname()
    private, public = genkey()
    lab.start_server(public, "10.77.0.1/32, 192.168.77.0/24")
    (lab.tmp_path / "config" / "network").write_text(
        NETWORK + wgpy_interface(ifname, private, lab.server_public, extra,
                                 peer_extra.replace("IFNAME", ifname)))
    # netifd owns vRL/vRW's addresses and the default route from here on.
    for dev in ("vRL", "vRW"):
        lab.run(lab.R, "ip", "addr", "flush", "dev", dev)
    lab.start_router(options)
    return ifname


def tunnel_ready(lab: OwrtLab, ifname: str) -> bool:
    """netifd says up, the address and the /1 routes are on wgX, and LAN pings cross."""
    if not lab.iface_status(ifname).get("up"):
        return False
    addrs = lab.rx("ip", "-4", "addr", "show", "dev", ifname, check=False).stdout
    routes = lab.rx("ip", "-4", "route", "show", "dev", ifname, check=False).stdout
    return ("10.77.0.1/24" in addrs and "0.0.0.0/1" in routes and "128.0.0.0/1" in routes
            and lab.ok(lab.L, "ping", "-c1", "-W1", "10.99.0.1"))


def wait_ready(lab: OwrtLab, ifname: str, timeout: float = 30.0) -> None:
    try:
        wait_for(lambda: tunnel_ready(lab, ifname), f"{ifname} up with routes and pings",
                 timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nstatus: {lab.iface_status(ifname)}\n"
                             f"netifd log:\n{lab.netifd_log()[-3000:]}") from None
