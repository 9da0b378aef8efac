"""Namespace plumbing for the demo: make namespaces and veth pairs, run commands inside them,
start background processes, and undo all of it.

Every namespace, process and file made here is recorded when it is made, so `close` removes
exactly those (processes by PID, never by name) and nothing else on the machine; it is safe
to call after a half-built lab and more than once. Names carry our PID so that two demos,
or the demo beside the test suite, never collide.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

# wgpyd and wireguard-go both keep their UAPI socket here, shared by every namespace.
SOCKET_DIR = "/var/run/wireguard"


class LabError(Exception):
    """A command of the lab failed; the message has its output."""


class Lab:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tmp = tempfile.mkdtemp(prefix=f"{prefix}-")
        self.namespaces = []    # names, in creation order
        self.procs = []         # (label, Popen)
        self.uapi_names = []    # interface names whose sockets we must remove
        self.closers = []       # extra callables (web forwarder), run first on close

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
        self.run(ns, "ip", "addr", "add", cidr, "dev", dev)

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
            raise LabError(f"[{ns}] {' '.join(argv)} exited {result.returncode}: "
                           f"{(result.stdout + result.stderr).strip()}")
        return result

    def ok(self, ns: str, *argv, timeout: float = 30) -> bool:
        return self.run(ns, *argv, check=False, timeout=timeout).returncode == 0

    def spawn(self, label: str, ns: str, *argv, env=None) -> subprocess.Popen:
        """A background process in `ns`, output to TMP/label.log. `ip netns exec` execs the
        command, so the PID we hold is the program's own. A new session keeps a terminal's
        Ctrl-C away from it: we stop it ourselves, in order, in `close`."""
        log = open(self.log_path(label), "w")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
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

    def uapi(self, ifname: str) -> None:
        """Remember a UAPI interface name so its socket file is removed on close."""
        self.uapi_names.append(ifname)

    # ---- teardown ----

    def close(self) -> None:
        """Undo everything, newest first; never raises."""
        for closer in reversed(self.closers):
            _quietly(closer)
        self.closers = []
        for _, proc in reversed(self.procs):
            stop_pid(proc.pid, proc)
        self.procs = []
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        self.namespaces = []
        for name in self.uapi_names:
            path = os.path.join(SOCKET_DIR, f"{name}.sock")
            if os.path.exists(path):
                _quietly(os.unlink, path)
        shutil.rmtree(self.tmp, ignore_errors=True)


def stop_pid(pid: int, proc: subprocess.Popen = None, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; by PID only."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        elif not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait(2)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def wait_for(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise LabError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _quietly(fn, *args) -> None:
    # Teardown must go on past one failure: the rest still needs removing.
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        print(f"cleanup: {exc}")
