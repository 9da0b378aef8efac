"""Namespace lab for the router tests (root, marker `netns`). Only namespaces made here and
private addresses inside them; `close` kills what it started, by PID, and deletes them.

    ns L (LAN)              ns R (router: `wgpy up` -> wgpyd)       ns S (server: wireguard-go)
    vL 192.168.77.2/24 <-> vRL 192.168.77.1/24
                            vRW 10.66.0.1/24            <->         vSW 10.66.0.2/24
                            default via 10.66.0.2                   lo 10.55.0.1 (endpoint),
                            wgR 10.77.0.1/24 (from UCI)                10.99.0.1 ("internet")
                                                                    wgS 10.77.0.2/24
The server's endpoint sits behind R's default gateway, so a 0.0.0.0/0 tunnel route would
swallow it without the host route wgpy adds.
"""

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
from netlab import stop_process, wait_for  # noqa: E402  (one copy of the process helpers)

from wgpy.crypto import generate_private_key
from wgpy.uapi.client import peer_pid
from wgpy.uci.schema import public_key_of

PYTHON = sys.executable
ENDPOINT = "10.55.0.1"
INTERNET = "10.99.0.1"
SERVER_PORT = 51820
SOCKET_DIR = "/var/run/wireguard"
_serial = itertools.count()


def tag() -> str:
    """Unique across concurrent runs: interface names share one socket directory (the
    separator keeps pid 1234 + serial 56 apart from pid 12345 + serial 6)."""
    return f"{os.getpid() % 100000}x{next(_serial)}"


def genkey():
    """(private, public) in base64, from wgpy's own crypto."""
    private = base64.b64encode(generate_private_key()).decode()
    return private, public_key_of(private)


class Lab:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.tag = tag()
        self.namespaces = []
        self.procs = []
        self.ifnames = []
        self.etc_dirs = []
        self.made_etc_netns = False

    # ---- plumbing ----

    def netns(self, side: str) -> str:
        name = f"wgpyr{self.tag}{side}"
        subprocess.run(["ip", "netns", "add", name], check=True)
        self.namespaces.append(name)
        self.run(name, "ip", "link", "set", "lo", "up")
        return name

    def run(self, ns: str, *argv, check=True, timeout=30, input=None, env=None):
        result = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True,
                                text=True, timeout=timeout, input=input, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} failed ({result.returncode}): "
                                 f"{result.stdout}{result.stderr}")
        return result

    def ok(self, ns: str, *argv) -> bool:
        return self.run(ns, *argv, check=False).returncode == 0

    def veth(self, a: str, a_name: str, b: str, b_name: str) -> None:
        subprocess.run(["ip", "link", "add", a_name, "netns", a, "type", "veth", "peer",
                        "name", b_name, "netns", b], check=True)
        self.run(a, "ip", "link", "set", a_name, "up")
        self.run(b, "ip", "link", "set", b_name, "up")

    def hosts(self, ns: str, text: str) -> None:
        """/etc/hosts as seen inside `ns` (ip netns exec bind-mounts /etc/netns/NS)."""
        directory = f"/etc/netns/{ns}"
        if not os.path.isdir("/etc/netns"):
            self.made_etc_netns = True
        os.makedirs(directory, exist_ok=True)
        if directory not in self.etc_dirs:
            self.etc_dirs.append(directory)
        with open(f"{directory}/hosts", "w") as f:
            f.write(text)

    def ifname(self) -> str:
        name = f"wgr{tag()}"
        self.ifnames.append(name)
        return name

    # ---- the topology ----

    def build(self, lan: bool = False) -> None:
        self.R, self.S = self.netns("R"), self.netns("S")
        self.veth(self.R, "vRW", self.S, "vSW")
        self.run(self.R, "ip", "addr", "add", "10.66.0.1/24", "dev", "vRW")
        self.run(self.R, "ip", "route", "add", "default", "via", "10.66.0.2")
        self.run(self.S, "ip", "addr", "add", "10.66.0.2/24", "dev", "vSW")
        for address in (ENDPOINT, INTERNET):
            self.run(self.S, "ip", "addr", "add", f"{address}/32", "dev", "lo")
        self.L = None
        if lan:
            self.L = self.netns("L")
            self.veth(self.L, "vL", self.R, "vRL")
            self.run(self.L, "ip", "addr", "add", "192.168.77.2/24", "dev", "vL")
            self.run(self.L, "ip", "route", "add", "default", "via", "192.168.77.1")
            self.run(self.R, "ip", "addr", "add", "192.168.77.1/24", "dev", "vRL")
            self.run(self.R, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def start_server(self, router_public: str, allowed: str = "10.77.0.1/32") -> None:
        """wireguard-go in S with R as its only peer."""
        self.server_if = self.ifname()
        self.server_private, self.server_public = genkey()
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1")
        log = open(self.tmp_path / "server.log", "w")
        proc = subprocess.Popen(["ip", "netns", "exec", self.S, "wireguard-go", "-f",
                                 self.server_if], env=env, stdout=log, stderr=log)
        self.procs.append(proc)
        wait_for(lambda: os.path.exists(f"{SOCKET_DIR}/{self.server_if}.sock")
                 and self.ok(self.S, "ip", "link", "show", self.server_if), "wireguard-go")
        key_file = self.tmp_path / "server.key"
        key_file.write_text(self.server_private + "\n")
        self.run(self.S, "wg", "set", self.server_if, "listen-port", str(SERVER_PORT),
                 "private-key", str(key_file), "peer", router_public, "allowed-ips", allowed)
        self.run(self.S, "ip", "addr", "add", "10.77.0.2/24", "dev", self.server_if)
        self.run(self.S, "ip", "link", "set", self.server_if, "up")
        if "192.168.77.0/24" in allowed:
            self.run(self.S, "ip", "route", "add", "192.168.77.0/24", "dev", self.server_if)

    def iperf3_server(self, address: str, port: int = 5201) -> None:
        """iperf3 -s in S, in the foreground so `close` stops it (-D would outlive us)."""
        proc = subprocess.Popen(["ip", "netns", "exec", self.S, "iperf3", "-s", "-B", address,
                                 "-p", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        wait_for(lambda: f":{port} " in self.run(self.S, "ss", "-ltn").stdout, "iperf3 -s",
                 proc=proc)

    def server_peer(self) -> dict:
        """R as S's wireguard-go sees it: `wg show dump` fields."""
        line = self.run(self.S, "wg", "show", self.server_if, "dump").stdout.split("\n")[1]
        fields = line.split("\t")
        return {"endpoint": fields[2], "handshake": int(fields[4]), "rx": int(fields[5])}

    # ---- wgpy ----

    def wgpy(self, ns: str, *args, check=True):
        """`python -m wgpy.router.command -c CONFDIR ARGS` inside `ns`."""
        return self.run(ns, PYTHON, "-m", "wgpy.router.command", "-c",
                        str(self.tmp_path / "config"), *args, check=check, timeout=60)

    def python(self, ns: str, code: str):
        """Run Python code inside `ns`; -> its stdout parsed as JSON."""
        return json.loads(self.run(ns, PYTHON, "-c", code, timeout=60).stdout)

    def close(self) -> None:
        for proc in self.procs:
            stop_process(proc.pid, proc)
        for name in self.ifnames:
            pid = peer_pid(name)
            if pid:
                stop_process(pid)
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        for directory in self.etc_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        if self.made_etc_netns:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # someone else put something there meanwhile
        for name in self.ifnames:
            for path in (f"{SOCKET_DIR}/{name}.sock", f"/var/run/wgpy/{name}.json"):
                if os.path.exists(path):
                    os.unlink(path)


def kill_and_recover(lab: Lab, kills: int, pid_of, is_ready, bound_s: float,
                     what: str, proc=None) -> list:
    """`kill -9` wgpyd (`pid_of()`) `kills` times while iperf3 runs from L to INTERNET
    through the tunnel, each time waiting until `is_ready()` with a new wgpyd; -> the
    recovery times in seconds. iperf3 is restarted when it gave up."""
    lab.iperf3_server(INTERNET)
    iperf, times = None, []
    try:
        for _ in range(kills):
            if iperf is None or iperf.poll() is not None:
                iperf = subprocess.Popen(["ip", "netns", "exec", lab.L, "iperf3", "-c",
                                          INTERNET, "-t", "3600", "-b", "20M"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
            pid = pid_of()
            assert pid, f"no wgpyd to kill ({what})"
            start = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: pid_of() not in (None, 0, pid) and is_ready(),
                     f"the tunnel back after kill -9 ({what})", timeout=bound_s, proc=proc)
            times.append(time.monotonic() - start)
    finally:
        if iperf is not None:
            iperf.kill()
            iperf.wait()
    return times
