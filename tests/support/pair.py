"""Two WireGuard peers in two namespaces, for the interop and hardening tests (run as root;
marker `netns`), on the shared lab (netns.py).

Every test gets private namespaces joined by a veth pair; all addresses live inside
them (10.66/16, 10.77/16, fd00::/8), so nothing leaves the machine. Teardown kills every
process the lab started, by PID, and deletes the namespaces.

      ns A: wgpyd                                ns B: wireguard-go or wgpyd
      wgA  10.77.0.1/24  fd00:77::1/64           wgB  10.77.0.2/24  fd00:77::2/64
      vA   10.66.0.1/24  fd00:66::1/64  <veth>   vB   10.66.0.2/24  fd00:66::2/64
"""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Optional

from support import netns
from support.keys import genkey

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "interop",
                     "tools")    # the interop tests' packet tools
PORT = 51820
OUTER = {"A": ("10.66.0.1", "fd00:66::1"), "B": ("10.66.0.2", "fd00:66::2")}
INNER = {"A": ("10.77.0.1", "fd00:77::1"), "B": ("10.77.0.2", "fd00:77::2")}


class Netns:
    """One namespace of the lab; what runs in it is tracked by the lab."""

    def __init__(self, lab: netns.Lab, name: str) -> None:
        self.lab, self.name = lab, name

    def run(self, *argv, check=True, timeout=30, env=None, input=None):
        """Run to completion; returns CompletedProcess with text output."""
        return self.lab.run(self.name, *argv, check=check, timeout=timeout, env=env,
                            input=input)

    def spawn(self, *argv, env=None, stdout=subprocess.DEVNULL) -> subprocess.Popen:
        """Start in the background (stderr to NS-N.log); the lab stops it in teardown."""
        return self.lab.spawn(None, self.name, *argv, env=env, stdout=stdout)

    def ok(self, *argv, timeout=30) -> bool:
        return self.lab.ok(self.name, *argv, timeout=timeout)


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
    """The interop topology on the shared lab (support/netns.py); `close` undoes it all."""

    def __init__(self, tmp_path, wgpyd: str = netns.WGPYD) -> None:
        """wgpyd: the daemon program for kind "wgpyd" (netns.Lab)."""
        self.tmp_path = tmp_path
        self.wgpyd = wgpyd
        self.base = netns.Lab(f"wgpyt{netns.unique_tag()}", tmp_path, wgpyd)

    def netns(self, side: str) -> Netns:
        return Netns(self.base, self.base.netns(side))

    def link(self, a: Netns, b: Netns) -> None:
        """veth vA (in a) <-> vB (in b) with the OUTER addresses."""
        self.base.veth(a.name, "vA", b.name, "vB")
        for ns, side in ((a, "A"), (b, "B")):
            v4, v6 = OUTER[side]
            self.base.address(ns.name, f"v{side}", f"{v4}/24")
            self.base.address(ns.name, f"v{side}", f"{v6}/64")

    def ifname(self) -> str:
        return self.base.ifname("wgp")

    def node(self, ns: Netns, side: str, kind: str) -> Node:
        return Node(ns, side, kind, self.ifname(), *genkey())

    def start(self, node: Node) -> None:
        """Start the node's daemon in the foreground and wait for its interface and socket."""
        node.proc = self.base.daemon(node.ns.name, node.kind, node.ifname,
                                     env=dict(LOG_LEVEL="verbose", **node.extra_env))

    def close(self) -> None:
        self.base.close()


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
    path = os.path.join(node.ns.lab.tmp, f"{node.ifname}.conf")
    with open(path, "w") as f:
        f.write(config_text(node, peer, family, **options))
    node.wg("setconf", node.ifname, path)
    node.ns.lab.address(node.ns.name, node.ifname, f"{node.inner[0]}/24")
    node.ns.lab.address(node.ns.name, node.ifname, f"{node.inner[1]}/64")
    node.ns.run("ip", "link", "set", node.ifname, "up")
    return path


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


def tcp_transfer(src: Node, dst: Node, dst_addr: str, size: int, timeout: float) -> None:
    """Send size bytes over TCP from src's namespace to dst_addr (a server in dst's, port
    5201) through the tunnel; asserts both ends agree on what crossed, digest and length."""
    tcp = os.path.join(TOOLS, "tcp.py")
    server = dst.ns.spawn(sys.executable, tcp, "serve", dst_addr, "5201", stdout=subprocess.PIPE)
    assert server.stdout.readline().strip() == "listening"
    sent = src.ns.run(sys.executable, tcp, "send", dst_addr, "5201", str(size), "7",
                      timeout=timeout).stdout.split()
    received = server.stdout.readline().split()
    server.wait(10)
    assert sent == received == [sent[0], str(size)]


def ping(src: Node, dst_addr: str, count: int = 1, wait_s: int = 5) -> bool:
    """True if `count` pings from src's namespace to dst_addr were answered."""
    return src.ns.ok("ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(wait_s),
                     "-w", str(wait_s + count), dst_addr, timeout=wait_s + count + 5)
