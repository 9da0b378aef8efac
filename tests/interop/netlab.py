"""Network-namespace lab for the interop tests (run as root; marker `netns`).

Every test gets private namespaces joined by a veth pair; all addresses live inside
them (10.66/16, 10.77/16, fd00::/8), so nothing leaves the machine. Teardown kills every
process the lab started, by PID, and deletes the namespaces.

      ns A: wgpyd                                ns B: wireguard-go or wgpyd
      wgA  10.77.0.1/24  fd00:77::1/64           wgB  10.77.0.2/24  fd00:77::2/64
      vA   10.66.0.1/24  fd00:66::1/64  <veth>   vB   10.66.0.2/24  fd00:66::2/64
"""

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

BIN_DIR = os.path.dirname(sys.executable)
WGPYD = os.path.join(BIN_DIR, "wgpyd")
TOOLS = os.path.join(os.path.dirname(__file__), "tools")
SOCKET_DIR = "/var/run/wireguard"
PORT = 51820
OUTER = {"A": ("10.66.0.1", "fd00:66::1"), "B": ("10.66.0.2", "fd00:66::2")}
INNER = {"A": ("10.77.0.1", "fd00:77::1"), "B": ("10.77.0.2", "fd00:77::2")}
_serial = itertools.count()


def unique_tag() -> str:
    """Short and unique across concurrent runs: the socket directory is shared by all netns."""
    return f"{os.getpid() % 100000}{next(_serial)}"


class Netns:
    """One namespace; commands in it are tracked by the lab."""

    def __init__(self, lab: "Lab", name: str) -> None:
        self.lab, self.name = lab, name

    def cmd(self, *argv) -> List[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv, check=True, timeout=30, env=None, input=None):
        """Run to completion; returns CompletedProcess with text output."""
        result = subprocess.run(self.cmd(*argv), capture_output=True, text=True,
                                timeout=timeout, env=env, input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} failed ({result.returncode}): "
                                 f"{result.stdout}{result.stderr}")
        return result

    def spawn(self, *argv, env=None, stdout=subprocess.DEVNULL) -> subprocess.Popen:
        """Start in the background; the lab kills it in teardown."""
        log = open(self.lab.tmp_path / f"{self.name}-{len(self.lab.procs)}.log", "w")
        proc = subprocess.Popen(self.cmd(*argv), env=env, stdout=stdout, stderr=log, text=True)
        self.lab.procs.append(proc)
        return proc

    def ok(self, *argv, timeout=30) -> bool:
        return self.run(*argv, check=False, timeout=timeout).returncode == 0


@dataclass
class Node:
    """A WireGuard interface in a namespace and its keys."""
    ns: Netns
    side: str
    kind: str
    ifname: str
    private: str
    public: str
    proc: Optional[subprocess.Popen] = None
    extra_env: dict = field(default_factory=dict)

    @property
    def inner(self):
        return INNER[self.side]

    @property
    def outer(self):
        return OUTER[self.side]

    def wg(self, *args, check=True, input=None):
        return self.ns.run("wg", *args, check=check, input=input)

    def dump(self) -> dict:
        """`wg show IF dump` from the stock tool -> {"interface": [...], peer_pub: {...}}."""
        lines = self.wg("show", self.ifname, "dump").stdout.strip().split("\n")
        peers = {}
        for line in lines[1:]:
            pub, psk, endpoint, ips, handshake, rx, tx, keepalive = line.split("\t")
            peers[pub] = dict(psk=psk, endpoint=endpoint, allowed_ips=ips,
                              handshake=int(handshake), rx=int(rx), tx=int(tx),
                              keepalive=keepalive)
        return {"interface": lines[0].split("\t"), "peers": peers}

    def peer_stats(self, other: "Node") -> dict:
        return self.dump()["peers"][other.public]


class Lab:
    """Creates namespaces and daemons; `close` undoes everything it did."""

    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.tag = unique_tag()
        self.namespaces: List[Netns] = []
        self.procs: List[subprocess.Popen] = []
        self.ifnames: List[str] = []

    def netns(self, side: str) -> Netns:
        ns = Netns(self, f"wgpyt{self.tag}{side}")
        subprocess.run(["ip", "netns", "add", ns.name], check=True)
        self.namespaces.append(ns)
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    def link(self, a: Netns, b: Netns) -> None:
        """veth vA (in a) <-> vB (in b) with the OUTER addresses."""
        subprocess.run(["ip", "link", "add", "vA", "netns", a.name, "type", "veth",
                        "peer", "name", "vB", "netns", b.name], check=True)
        for ns, side in ((a, "A"), (b, "B")):
            v4, v6 = OUTER[side]
            ns.run("ip", "addr", "add", f"{v4}/24", "dev", f"v{side}")
            ns.run("ip", "addr", "add", f"{v6}/64", "dev", f"v{side}", "nodad")
            ns.run("ip", "link", "set", f"v{side}", "up")

    def ifname(self) -> str:
        name = f"wgp{unique_tag()}"
        self.ifnames.append(name)
        return name

    def node(self, ns: Netns, side: str, kind: str) -> Node:
        return Node(ns, side, kind, self.ifname(), *genkey())

    def start(self, node: Node) -> None:
        """Start the node's daemon in the foreground and wait for its interface and socket."""
        env = dict(os.environ, LOG_LEVEL="verbose", WG_PROCESS_FOREGROUND="1", **node.extra_env)
        argv = [WGPYD, "-f", node.ifname] if node.kind == "wgpyd" else \
            ["wireguard-go", "-f", node.ifname]
        node.proc = node.ns.spawn(*argv, env=env)
        wait_for(lambda: os.path.exists(f"{SOCKET_DIR}/{node.ifname}.sock")
                 and node.ns.ok("ip", "link", "show", node.ifname), f"{node.ifname} to start",
                 proc=node.proc)

    def close(self) -> None:
        for proc in self.procs:
            stop_process(proc.pid, proc)
        for pid in stray_pids(self.ifnames):  # daemons that forked, e.g. under wg-quick
            stop_process(pid)
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns.name], check=False)
        for name in self.ifnames:
            try:
                os.unlink(f"{SOCKET_DIR}/{name}.sock")
            except FileNotFoundError:
                pass


def genkey():
    """(private, public) in wg's base64, from the stock tool."""
    private = subprocess.run(["wg", "genkey"], capture_output=True, text=True,
                             check=True).stdout.strip()
    public = subprocess.run(["wg", "pubkey"], input=private, capture_output=True,
                            text=True, check=True).stdout.strip()
    return private, public


def wait_for(predicate, what: str, timeout: float = 10.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def skip_reason() -> Optional[str]:
    """Why the netns tests cannot run on this machine, or None when they can."""
    missing = [tool for tool in ("ip", "wg", "wireguard-go", "ping") if not shutil.which(tool)]
    return ("needs root" if os.geteuid() != 0 else
            f"missing {', '.join(missing)}" if missing else
            f"no wgpyd next to {sys.executable}" if not os.path.exists(WGPYD) else None)


def stop_process(pid: int, proc: Optional[subprocess.Popen] = None) -> None:
    """SIGTERM, then SIGKILL after 3 s; only ever by PID."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if proc is not None:
        try:
            proc.wait(3)
            return
        except subprocess.TimeoutExpired:
            pass
    else:
        for _ in range(60):
            if not os.path.exists(f"/proc/{pid}") or _is_zombie(pid):
                return
            time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc is not None:
        proc.wait(3)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def stray_pids(ifnames: List[str]) -> List[int]:
    """PIDs of live processes whose argv ends with one of our (unique) interface names."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        argv = [a.decode(errors="replace") for a in argv if a]
        if argv and argv[-1] in ifnames and not _is_zombie(int(entry)):
            pids.append(int(entry))
    return pids


def config_text(node: Node, peer: Node, family: int, psk: Optional[str] = None,
                peer_public: Optional[str] = None, endpoint: bool = True,
                keepalive: int = 0) -> str:
    """A wg(8) config for `node` talking to `peer` over outer IPv`family`."""
    host = peer.outer[0] if family == 4 else f"[{peer.outer[1]}]"
    lines = ["[Interface]", f"PrivateKey = {node.private}", f"ListenPort = {PORT}", "",
             "[Peer]", f"PublicKey = {peer_public or peer.public}",
             f"AllowedIPs = {peer.inner[0]}/32, {peer.inner[1]}/128"]
    if psk:
        lines.append(f"PresharedKey = {psk}")
    if endpoint:
        lines.append(f"Endpoint = {host}:{PORT}")
    if keepalive:
        lines.append(f"PersistentKeepalive = {keepalive}")
    return "\n".join(lines) + "\n"


def configure(node: Node, peer: Node, family: int, **options) -> str:
    """setconf + inner addresses + link up; returns the config file path."""
    path = node.ns.lab.tmp_path / f"{node.ifname}.conf"
    path.write_text(config_text(node, peer, family, **options))
    node.wg("setconf", node.ifname, str(path))
    ns = node.ns
    ns.run("ip", "addr", "add", f"{node.inner[0]}/24", "dev", node.ifname)
    ns.run("ip", "addr", "add", f"{node.inner[1]}/64", "dev", node.ifname, "nodad")
    ns.run("ip", "link", "set", node.ifname, "up")
    return str(path)


def make_pair(lab: Lab, kind_b: str, family: int = 4, **options):
    """wgpyd in ns A, `kind_b` in ns B, configured for each other and up."""
    ns_a, ns_b = lab.netns("A"), lab.netns("B")
    lab.link(ns_a, ns_b)
    a, b = lab.node(ns_a, "A", "wgpyd"), lab.node(ns_b, "B", kind_b)
    for node in (a, b):
        lab.start(node)
    configure(a, b, family, **options.get("a", {}))
    configure(b, a, family, **options.get("b", {}))
    return a, b


def ping(src: Node, dst_addr: str, count: int = 1, wait_s: int = 5) -> bool:
    """True if `count` pings from src's namespace to dst_addr were answered."""
    return src.ns.ok("ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(wait_s),
                     "-w", str(wait_s + count), dst_addr, timeout=wait_s + count + 5)
