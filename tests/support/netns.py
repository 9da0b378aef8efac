"""The one namespace lab of the tests, the bench and the demo: make namespaces and veth pairs,
run commands inside them, start WireGuard daemons and background processes, undo all of it.

Every namespace, process, interface name and file made here is recorded when it is made
(before the step that could fail), so `close` removes exactly those (processes by PID, never
by name) and nothing else on the machine; it is safe to call after a half-built lab and more
than once. Names carry our PID and a counter, so concurrent runs never collide: interface
names matter most, since the UAPI socket directory is shared by every namespace.

    lab = Lab("wgpyt1234")                         # prefix of the namespace names
    r, s = lab.netns("R"), lab.netns("S")          # -> "wgpyt1234-R", "wgpyt1234-S"
    lab.veth(r, "vR", s, "vS")
    lab.wireguard_go(s, lab.ifname(), conf_text, addresses=["10.77.0.2/24"])
    lab.wgpy(r, "up", lab.ifname())                # `wgpy -c TMP/config up IF` inside r
    lab.close()                                    # both daemons stopped, by PID
"""

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from typing import Iterable, List, Optional

from wgpy.uapi.client import SOCKET_DIR, peer_pid, socket_path

from support.procs import LabError, stop_pid, stray_pids, wait_for

PYTHON = sys.executable     # the venv's: it has wgpy, and wgpyd sits beside it
WGPYD = os.path.join(os.path.dirname(PYTHON), "wgpyd")
TOOLS = ("ip", "wg", "wireguard-go", "ping")
_serial = itertools.count()


def unique_tag() -> str:
    """Short and unique across concurrent runs (interface names have 15 characters; the
    separator keeps pid 1234 + serial 56 apart from pid 12345 + serial 6)."""
    return f"{os.getpid() % 100000}x{next(_serial)}"


def skip_reason() -> Optional[str]:
    """Why the netns tests cannot run on this machine, or None when they can."""
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    return ("needs root" if os.geteuid() != 0 else
            f"missing {', '.join(missing)}" if missing else
            f"no wgpyd next to {PYTHON}" if not os.path.exists(WGPYD) else None)


def skip_unrunnable(items, directory: str) -> None:
    """For a conftest's pytest_collection_modifyitems: skip, rather than fail, the `netns`
    tests under `directory` where they cannot run."""
    import pytest
    reason = skip_reason()
    if reason:
        for item in items:
            if "netns" in item.keywords and str(item.path).startswith(str(directory)):
                item.add_marker(pytest.mark.skip(reason=reason))


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the kernel's pick), for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, prefix: str, tmp=None, wgpyd: str = WGPYD) -> None:
        """`tmp`: where logs and files go (a pytest tmp_path, kept); else a temp dir, removed.
        `wgpyd`: the program `daemon` starts for kind "wgpyd" (a runtime's launcher)."""
        self.prefix = prefix
        self.wgpyd = wgpyd
        self.own_tmp = tmp is None
        self.tmp = tempfile.mkdtemp(prefix=f"{prefix}-") if tmp is None else str(tmp)
        self.confdir = os.path.join(self.tmp, "config")    # the router's UCI directory
        self.namespaces: List[str] = []    # in creation order
        self.procs = []                     # (label, Popen)
        self.uapi_names: List[str] = []     # interfaces whose daemons and sockets we remove
        self.closers = []                   # extra callables (`wgpy down`...), run first

    # ---- namespaces and links ----

    def netns(self, role: str) -> str:
        name = f"{self.prefix}-{role}"
        self.namespaces.append(name)  # first: a signal right after `add` must not leak it
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        self.run(name, "ip", "link", "set", "lo", "up")
        return name

    def veth(self, a: str, a_dev: str, b: str, b_dev: str) -> None:
        """A cable between namespaces a and b, both ends up."""
        subprocess.run(["ip", "link", "add", a_dev, "netns", a, "type", "veth", "peer",
                        "name", b_dev, "netns", b], check=True, capture_output=True)
        self.run(a, "ip", "link", "set", a_dev, "up")
        self.run(b, "ip", "link", "set", b_dev, "up")

    def address(self, ns: str, dev: str, cidr: str) -> None:
        # nodad: an IPv6 address is usable at once, not after duplicate detection.
        self.run(ns, "ip", "addr", "add", cidr, "dev", dev, *(["nodad"] if ":" in cidr else []))

    def forwarding(self, ns: str) -> None:
        self.run(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def nft(self, ns: str, ruleset: str) -> None:
        """Load an nftables ruleset in `ns`; it dies with the namespace."""
        self.run(ns, "nft", "-f", "-", input=ruleset)

    # ---- commands ----

    def run(self, ns: str, *argv, check: bool = True, timeout: float = 60, input=None,
            env=None) -> subprocess.CompletedProcess:
        result = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True,
                                text=True, timeout=timeout, input=input, env=env)
        if check and result.returncode != 0:
            raise LabError(f"[{ns}] {' '.join(map(str, argv))} exited {result.returncode}: "
                           f"{(result.stdout + result.stderr).strip()}")
        return result

    def ok(self, ns: str, *argv, timeout: float = 30) -> bool:
        return self.run(ns, *argv, check=False, timeout=timeout).returncode == 0

    def spawn(self, label: Optional[str], ns: str, *argv, env=None, stdout=None,
              stdin=subprocess.DEVNULL) -> subprocess.Popen:
        """A background process in `ns`; stderr (and stdout, unless given) to TMP/LABEL.log,
        LABEL defaulting to NS-N. `ip netns exec` execs the command, so the PID we hold is
        the program's own. A new session keeps a terminal's Ctrl-C away from it: we stop
        it ourselves, in order, in `close`."""
        label = label or f"{ns}-{len(self.procs)}"
        log = open(self.log_path(label), "w")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], env=env, text=True,
                                stdout=log if stdout is None else stdout, stderr=log,
                                stdin=stdin, start_new_session=True)
        log.close()
        self.procs.append((label, proc))
        return proc

    def log_path(self, label: str) -> str:
        return os.path.join(self.tmp, f"{label}.log")

    def log_tail(self, label: str, lines: int = 15) -> str:
        try:
            with open(self.log_path(label), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # ---- WireGuard ----

    def uapi(self, ifname: str) -> None:
        """Remember an interface name: `close` stops the daemon serving it (found by its
        socket's peer PID or its argv) and removes its socket file."""
        self.uapi_names.append(ifname)

    def ifname(self, stem: str = "wgp") -> str:
        """A fresh interface name, remembered as `uapi` does."""
        name = f"{stem}{unique_tag()}"
        self.uapi(name)
        return name

    def daemon(self, ns: str, kind: str, ifname: str, env=None) -> subprocess.Popen:
        """wgpyd or wireguard-go for `ifname` in the foreground in `ns`; returns once its
        socket and interface exist."""
        self.uapi(ifname)
        env = dict(os.environ, WG_PROCESS_FOREGROUND="1", **(env or {}))
        program = self.wgpyd if kind == "wgpyd" else "wireguard-go"
        proc = self.spawn(None, ns, program, "-f", ifname, env=env)
        wait_for(lambda: os.path.exists(socket_path(ifname))
                 and self.ok(ns, "ip", "link", "show", ifname), f"{kind} {ifname} to start",
                 timeout=15, proc=proc)
        return proc

    def wireguard_go(self, ns: str, ifname: str, conf: str, addresses: Iterable[str] = (),
                     routes: Iterable[str] = ()) -> subprocess.Popen:
        """The peer every router scenario talks to: Debian's wireguard-go in `ns`, set from
        the wg(8) config text `conf`, with its addresses, up, and routes into it."""
        proc = self.daemon(ns, "wireguard-go", ifname)
        path = os.path.join(self.tmp, f"{ifname}.conf")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(conf)
        self.run(ns, "wg", "setconf", ifname, path)
        for address in addresses:
            self.address(ns, ifname, address)
        self.run(ns, "ip", "link", "set", ifname, "up")
        for net in routes:
            self.run(ns, "ip", "route", "add", net, "dev", ifname)
        return proc

    def wgpy(self, ns: str, *args, confdir=None, check: bool = True, input=None, env=None,
             timeout: float = 60) -> subprocess.CompletedProcess:
        """The router command, `wgpy -c CONFDIR ARGS`, inside `ns` (CONFDIR: self.confdir).
        A daemon it starts is stopped in `close` when its interface name came from `ifname`
        or `uapi`."""
        return self.run(ns, PYTHON, "-m", "wgpy.cli", "-c", str(confdir or self.confdir), *args,
                        check=check, input=input, env=env, timeout=timeout)

    # ---- teardown ----

    def close(self) -> None:
        """Undo everything, newest first; never raises."""
        for closer in reversed(self.closers):
            _quietly(closer)
        self.closers = []
        for _, proc in reversed(self.procs):
            stop_pid(proc.pid, proc)
        self.procs = []
        # Daemons we did not start directly: `wgpy up`'s wgpyd, one forked under wg-quick.
        pids = {peer_pid(name) for name in self.uapi_names} | set(stray_pids(self.uapi_names))
        for pid in pids - {None}:
            stop_pid(pid)
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces = []
        for name in self.uapi_names:
            if os.path.exists(socket_path(name)):
                _quietly(os.unlink, socket_path(name))
        self.uapi_names = []
        if self.own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _quietly(fn, *args) -> None:
    # Teardown must go on past one failure: the rest still needs removing.
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        print(f"cleanup: {exc}")
