"""`make demo`: a home network whose router sends the whole LAN through wgpy to a VPN provider
running Debian's wireguard-go, all in network namespaces on this machine (root needed).

    sudo make demo [ARGS="--check --web-port N"]
    (= PYTHONPATH=tests .venv/bin/python demo/homelab.py: the lab is tests/support/netns.py)

    ns lan        ns router                   ns internet              ns vpn
    192.168.50.2 - 192.168.50.1 | wan0 172.31.1.2 - 172.31.1.1
    fd50::2        fd50::1      |      fd31:1::2     fd31:1::1
                  wgpy up (UCI) |                    172.31.2.1 - 172.31.2.2 wireguard-go
                                |                    fd31:2::1    fd31:2::2
                  wgX 10.99.0.1 ===== encrypted UDP ============== 10.99.0.2 wgS (wg set)
                      fd99::1                                      fd99::2
                  nft masquerade|                    172.31.3.1 - 172.31.3.2 ns web
                  on wan0 + wgX |                    fd31:3::1    fd31:3::2 (whoami.py :8000)

Every link is dual-stack (private IPv4 and ULA IPv6), as a home LAN with native IPv6 is.

The router is configured as on OpenWrt: a UCI `network` file in a temp dir with a `proto
'wgpy'` interface and one peer with allowed_ips 0.0.0.0/0 and route_allowed_ips, brought up
by `wgpy -c DIR up`; it masquerades the LAN out of the WAN and out of the tunnel, as a home
router's firewall does. The VPN server masquerades the tunnel out to the internet, so with
the tunnel up the web server sees the VPN server's address instead of the router's.

Without --check: print the evidence and the web UI's address and password, then wait for
Ctrl-C. With --check: verify each piece, print PASS/FAIL lines, exit 0 or 1 at once.
Everything created (namespaces, processes, temp files) is removed on exit, Ctrl-C, SIGTERM
or error. Only private addresses are used, and only inside the demo's own namespaces.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback

import webui
from support.netns import Lab
from support.procs import LabError, stop_pid, wait_for

PYTHON = sys.executable  # the venv's: it has wgpy, and wgpyd sits beside it
HERE = os.path.dirname(os.path.abspath(__file__))
LAN_CLIENT, LAN_GW = "192.168.50.2", "192.168.50.1"
ROUTER_WAN, ISP_GW = "172.31.1.2", "172.31.1.1"
VPN_PUBLIC, VPN_GW = "172.31.2.2", "172.31.2.1"
WEB_SERVER, WEB_GW = "172.31.3.2", "172.31.3.1"
TUNNEL_ROUTER, TUNNEL_SERVER = "10.99.0.1", "10.99.0.2"
LAN_CLIENT6, LAN_GW6 = "fd50::2", "fd50::1"
ROUTER_WAN6, ISP_GW6 = "fd31:1::2", "fd31:1::1"
VPN_PUBLIC6, VPN_GW6 = "fd31:2::2", "fd31:2::1"
WEB_SERVER6, WEB_GW6 = "fd31:3::2", "fd31:3::1"
TUNNEL_ROUTER6, TUNNEL_SERVER6 = "fd99::1", "fd99::2"
VPN_PORT, WEB_PORT, WEBUI_PORT = 51820, 8000, 8080
WEB_URL = f"http://{WEB_SERVER}:{WEB_PORT}"
WEB_URL6 = f"http://[{WEB_SERVER6}]:{WEB_PORT}"
BIG_BYTES = 1 << 20  # what whoami.py serves at /big
REQUIRED = {"ip": "iproute2", "wg": "wireguard-tools", "wireguard-go": "wireguard-go",
            "nft": "nftables", "ping": "iputils-ping"}


class Checks:
    """The PASS/FAIL list; each line says what was verified and what was seen."""

    def __init__(self) -> None:
        self.results = []

    def add(self, name: str, ok: bool, seen: str = "") -> bool:
        self.results.append((name, bool(ok), seen))
        print(f"  [{'PASS' if ok else 'FAIL'}] {name}" + (f" ({seen})" if seen else ""))
        return bool(ok)

    def passed(self) -> bool:
        return bool(self.results) and all(ok for _, ok, _ in self.results)

    def summary(self) -> str:
        lines = [f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok, _ in self.results]
        failed = sum(1 for _, ok, _ in self.results if not ok)
        lines.append(f"{len(self.results) - failed} passed, {failed} failed")
        return "\n".join(lines)


class Demo:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.ifname = f"wgd{os.getpid()}"     # the router's wgpy interface (UCI section)
        self.server_if = f"wgs{os.getpid()}"  # wireguard-go's interface on the VPN server
        self.confdir = os.path.join(lab.tmp, "config")
        # wgpy's runtime record (what `up` added, for `down`) stays in our temp dir.
        self.env = dict(os.environ, WGPY_RUN_DIR=os.path.join(lab.tmp, "run"))

    # ---- the topology ----

    def build(self) -> None:
        lab = self.lab
        self.lan, self.router = lab.netns("lan"), lab.netns("router")
        self.internet, self.vpn, self.web = (lab.netns("internet"), lab.netns("vpn"),
                                             lab.netns("web"))
        lab.veth(self.lan, "eth0", self.router, "lan0")
        lab.veth(self.router, "wan0", self.internet, "isp0")
        for ns, dev in ((self.router, "wan0"), (self.internet, "isp0")):
            lab.run(ns, "ip", "link", "set", dev, "mtu", "1492")  # a PPPoE-sized WAN
        lab.veth(self.vpn, "eth0", self.internet, "vpn0")
        lab.veth(self.web, "eth0", self.internet, "web0")
        for ns, dev, cidr in ((self.lan, "eth0", LAN_CLIENT), (self.router, "lan0", LAN_GW),
                              (self.router, "wan0", ROUTER_WAN), (self.internet, "isp0", ISP_GW),
                              (self.vpn, "eth0", VPN_PUBLIC), (self.internet, "vpn0", VPN_GW),
                              (self.web, "eth0", WEB_SERVER), (self.internet, "web0", WEB_GW)):
            lab.address(ns, dev, cidr + "/24")
        for ns, dev, ip6 in ((self.lan, "eth0", LAN_CLIENT6), (self.router, "lan0", LAN_GW6),
                             (self.router, "wan0", ROUTER_WAN6), (self.internet, "isp0", ISP_GW6),
                             (self.vpn, "eth0", VPN_PUBLIC6), (self.internet, "vpn0", VPN_GW6),
                             (self.web, "eth0", WEB_SERVER6), (self.internet, "web0", WEB_GW6)):
            lab.run(ns, "ip", "-6", "addr", "add", ip6 + "/64", "dev", dev, "nodad")
        for ns, gateway, gateway6 in ((self.lan, LAN_GW, LAN_GW6), (self.router, ISP_GW, ISP_GW6),
                                      (self.vpn, VPN_GW, VPN_GW6), (self.web, WEB_GW, WEB_GW6)):
            lab.run(ns, "ip", "route", "add", "default", "via", gateway)
            lab.run(ns, "ip", "-6", "route", "add", "default", "via", gateway6)
        for ns in (self.router, self.internet, self.vpn):
            lab.forwarding(ns)
            lab.run(ns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        # The home router's firewall: LAN traffic leaves with the router's own address,
        # whether it goes out of the WAN or into the tunnel (the VPN server only routes
        # the router's tunnel address back).
        lab.nft(self.router, masquerade_ruleset(["wan0", self.ifname]))
        lab.spawn("web", self.web, PYTHON, os.path.join(HERE, "whoami.py"),
                  f"{WEB_SERVER},{WEB_SERVER6}", str(WEB_PORT))
        wait_for(lambda: "serving" in lab.log_tail("web"), "the web server")

    def start_vpn_server(self, router_public: str) -> str:
        """wireguard-go set up with `wg`, as any third-party server would be; -> its key."""
        lab = self.lab
        private = lab.run(self.vpn, "wg", "genkey").stdout.strip()
        public = lab.run(self.vpn, "wg", "pubkey", input=private + "\n").stdout.strip()
        key_file = os.path.join(lab.tmp, "vpn-server.key")
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(private + "\n")
        lab.uapi(self.server_if)
        lab.spawn("wireguard-go", self.vpn, "wireguard-go", "-f", self.server_if,
                  env=dict(os.environ, WG_PROCESS_FOREGROUND="1"))
        wait_for(lambda: lab.ok(self.vpn, "ip", "link", "show", self.server_if)
                 and lab.ok(self.vpn, "wg", "show", self.server_if),
                 f"wireguard-go (log: {lab.log_tail('wireguard-go')})")
        lab.run(self.vpn, "wg", "set", self.server_if, "listen-port", str(VPN_PORT),
                "private-key", key_file, "peer", router_public,
                "allowed-ips", f"{TUNNEL_ROUTER}/32,{TUNNEL_ROUTER6}/128")
        lab.address(self.vpn, self.server_if, f"{TUNNEL_SERVER}/24")
        lab.run(self.vpn, "ip", "-6", "addr", "add", f"{TUNNEL_SERVER6}/64", "dev",
                self.server_if, "nodad")
        lab.run(self.vpn, "ip", "link", "set", self.server_if, "up")
        # The provider's NAT: tunnel clients reach the internet with the server's address.
        lab.nft(self.vpn, masquerade_ruleset(["eth0"]))
        return public

    # ---- the router: wgpy ----

    def wgpy(self, *args, check: bool = True, input=None):
        return self.lab.run(self.router, PYTHON, "-m", "wgpy.cli", "-c",
                            self.confdir, *args, check=check, input=input, env=self.env)

    def router_keys(self):
        private = self.wgpy("genkey").stdout.strip()
        return private, self.wgpy("pubkey", input=private + "\n").stdout.strip()

    def write_uci(self, private: str, server_public: str) -> str:
        os.makedirs(self.confdir, exist_ok=True)
        text = uci_network(self.ifname, private, server_public)
        with open(os.path.join(self.confdir, "network"), "w") as f:
            f.write(text)
        return text

    def up(self):
        # Registered before `up` runs: a half-started wgpyd is still ours to stop.
        self.lab.uapi(self.ifname)
        self.lab.closers.append(self.router_down)
        return self.wgpy("up", self.ifname, check=False)

    def router_down(self) -> None:
        """`wgpy down`, then make sure wgpyd is gone (by the PID its socket reports)."""
        from wgpy.uapi.client import peer_pid
        pid = peer_pid(self.ifname)
        self.wgpy("down", self.ifname, check=False)
        if pid:
            stop_pid(pid)

    def peer_status(self) -> dict:
        status = json.loads(self.wgpy("status", "--json").stdout)
        peers = status["interfaces"][self.ifname]["peers"]
        return next((p for p in peers if p.get("section") == "vpn"), peers[0] if peers else {})

    def server_peer(self) -> dict:
        """The router as wireguard-go sees it (`wg show dump`)."""
        lines = self.lab.run(self.vpn, "wg", "show", self.server_if, "dump").stdout.split("\n")
        fields = lines[1].split("\t") if len(lines) > 1 and lines[1] else [""] * 8
        return {"endpoint": fields[2], "handshake": int(fields[4] or 0),
                "rx": int(fields[5] or 0), "tx": int(fields[6] or 0)}

    # ---- the LAN client ----

    def fetch(self, path: str = "/", url: str = WEB_URL, timeout: int = 10) -> str:
        """What the LAN client gets from the internet web server ('' on failure)."""
        code = ("import sys, urllib.request\n"
                "body = urllib.request.urlopen(sys.argv[1], timeout=int(sys.argv[2])).read()\n"
                "print(body.decode().strip() if len(body) < 200 else f'{len(body)} bytes')\n")
        result = self.lab.run(self.lan, PYTHON, "-c", code, url + path, str(timeout),
                              check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    def seen(self) -> list:
        """Every client address the web server has logged, oldest first."""
        return re.findall(r"seen (\S+)", self.lab.log_tail("web", 100000))

    def hops(self, target: str = WEB_SERVER, limit: int = 8) -> list:
        """traceroute done with ping's TTL: one address per hop, '*' when none answered."""
        out = []
        for ttl in range(1, limit + 1):
            text = self.lab.run(self.lan, "ping", "-n", "-c1", "-W1", "-t", str(ttl), target,
                                check=False).stdout
            match = re.search(r"[Ff]rom (\d+\.\d+\.\d+\.\d+)", text)
            out.append(match.group(1) if match else "*")
            if out[-1] == target:
                break
        return out


# ---- configuration text (pure) ----

def masquerade_ruleset(out_devices: list) -> str:
    """Masquerade both families (fw4's masq + masq6) out of these devices."""
    devices = ", ".join(f'"{dev}"' for dev in out_devices)
    return ("table inet wgpydemo {\n"
            "  chain postrouting {\n"
            "    type nat hook postrouting priority srcnat; policy accept;\n"
            f"    oifname {{ {devices} }} masquerade\n"
            "  }\n"
            "}\n")


def uci_network(ifname: str, private: str, server_public: str) -> str:
    """/etc/config/network as LuCI would write it for "send everything through the VPN"."""
    return (f"config interface '{ifname}'\n"
            "\toption proto 'wgpy'\n"
            f"\toption private_key '{private}'\n"
            f"\tlist addresses '{TUNNEL_ROUTER}/24'\n"
            f"\tlist addresses '{TUNNEL_ROUTER6}/64'\n"
            "\toption killswitch '1'\n\n"
            f"config wireguard_{ifname} 'vpn'\n"
            "\toption description 'VPN provider'\n"
            f"\toption public_key '{server_public}'\n"
            "\tlist allowed_ips '0.0.0.0/0'\n"
            "\tlist allowed_ips '::/0'\n"
            "\toption route_allowed_ips '1'\n"
            f"\toption endpoint_host '{VPN_PUBLIC}'\n"
            f"\toption endpoint_port '{VPN_PORT}'\n"
            "\toption persistent_keepalive '25'\n")


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "(private key hidden)")


def section(title: str) -> None:
    print(f"\n== {title}")


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


# ---- the scenario ----

def scenario(demo: Demo, checks: Checks, args) -> None:
    """Build, bring up, verify; raises LabError when a step cannot go on."""
    lab = demo.lab
    section("building the home network (namespaces " + ", ".join(lab.namespaces or
            [f"{lab.prefix}-*"]) + ")")
    demo.build()
    print(indent(f"lan {LAN_CLIENT} -> router {LAN_GW} | {ROUTER_WAN} -> internet -> "
                 f"vpn {VPN_PUBLIC}, web {WEB_SERVER}:{WEB_PORT}"))

    section("without the tunnel: the LAN client asks the web server who it is")
    before = demo.fetch()
    print(indent(f"lan$ GET {WEB_URL}/  ->  {before or '(failed)'}"))
    checks.add("LAN reaches the internet through the router's NAT",
               before == f"you came from {ROUTER_WAN}", before)
    before6 = demo.fetch(url=WEB_URL6)
    print(indent(f"lan$ GET {WEB_URL6}/  ->  {before6 or '(failed)'}"))
    checks.add("LAN reaches the internet over native IPv6 too",
               before6 == f"you came from {ROUTER_WAN6}", before6)
    print(indent("hops: " + " -> ".join(demo.hops())))

    section("the VPN provider: wireguard-go, configured with wg")
    router_private, router_public = demo.router_keys()
    server_public = demo.start_vpn_server(router_public)
    print(indent(redact(lab.run(demo.vpn, "wg", "show", demo.server_if).stdout,
                        router_private)))

    section(f"the router: UCI config in {demo.confdir}/network, then `wgpy up`")
    print(indent(redact(demo.write_uci(router_private, server_public), router_private)))
    result = demo.up()
    output = (result.stdout + result.stderr).strip()
    print(indent(f"router$ wgpy -c {demo.confdir} up {demo.ifname}  ->  exit "
                 f"{result.returncode}" + (f"\n{output}" if output else "")))
    if not checks.add("wgpy up brings the tunnel interface up",
                      result.returncode == 0 and lab.ok(demo.router, "ip", "link", "show",
                                                        demo.ifname), f"exit {result.returncode}"):
        raise LabError(f"wgpy up failed: {output}")
    routes = lab.run(demo.router, "ip", "route").stdout
    print(indent("router$ ip route\n" + routes))
    routes6 = lab.run(demo.router, "ip", "-6", "route").stdout
    checks.add("whole LAN routed into the tunnel, endpoint kept on the WAN",
               f"0.0.0.0/1 dev {demo.ifname}" in routes
               and f"128.0.0.0/1 dev {demo.ifname}" in routes
               and f"{VPN_PUBLIC} via {ISP_GW} dev wan0" in routes)
    checks.add("IPv6 too: the LAN's IPv6 goes into the tunnel, not out by native IPv6",
               f"::/1 dev {demo.ifname}" in routes6 and f"8000::/1 dev {demo.ifname}" in routes6)

    section("with the tunnel: the same question from the LAN client")
    mark = len(demo.seen())
    after = demo.fetch()
    print(indent(f"lan$ GET {WEB_URL}/  ->  {after or '(failed)'}"))
    checks.add("web server sees the VPN server's address, not the router's",
               after == f"you came from {VPN_PUBLIC}", after)
    after6 = demo.fetch(url=WEB_URL6)
    print(indent(f"lan$ GET {WEB_URL6}/  ->  {after6 or '(failed)'}"))
    checks.add("over IPv6 as well: the VPN server's IPv6 address",
               after6 == f"you came from {VPN_PUBLIC6}", after6)
    peer = demo.peer_status()
    server = demo.server_peer()
    checks.add("handshake done (wgpy and wireguard-go agree)",
               peer.get("latest_handshake", 0) > 0 and server["handshake"] > 0,
               f"wgpy {peer.get('handshake_age_s')} s ago, server sees router at "
               f"{server['endpoint']}")
    checks.add("the VPN server sees the router's WAN address as the endpoint",
               server["endpoint"].startswith(ROUTER_WAN + ":"), server["endpoint"])
    hop_list = demo.hops()
    print(indent("hops: " + " -> ".join(hop_list)))
    checks.add("the path goes router -> VPN server -> internet",
               hop_list[:2] == [LAN_GW, TUNNEL_SERVER] and hop_list[-1] == WEB_SERVER,
               " -> ".join(hop_list))

    section(f"byte counters: the LAN client downloads {BIG_BYTES} bytes")
    got = demo.fetch("/big")
    moved = demo.peer_status()
    rx_delta = moved.get("rx_bytes", 0) - peer.get("rx_bytes", 0)
    tx_delta = moved.get("tx_bytes", 0) - peer.get("tx_bytes", 0)
    print(indent(f"lan$ GET {WEB_URL}/big  ->  {got or '(failed)'}\n"
                 f"wgpy: received +{rx_delta} B, sent +{tx_delta} B"))
    checks.add("byte counters grow with the download",
               got == f"{BIG_BYTES} bytes" and rx_delta >= BIG_BYTES and tx_delta > 0,
               f"rx +{rx_delta} B, tx +{tx_delta} B")
    seen = sorted(set(demo.seen()[mark:]))
    print(indent("the web server saw, with the tunnel up: " + ", ".join(seen)))
    checks.add("the web server saw the VPN server's IPv4 and IPv6 addresses and nothing else",
               seen == sorted([VPN_PUBLIC, VPN_PUBLIC6]), ", ".join(seen))

    kill_switch(demo, checks)

    section("router$ wgpy status")
    print(indent(demo.wgpy("status").stdout))
    chosen = json.loads(demo.wgpy("status", "--json").stdout)["interfaces"][demo.ifname]
    chosen = chosen.get("mtu_in_use") or {}
    checks.add("no mtu in UCI: the tunnel MTU fits the PPPoE WAN (1492), a multiple of 16",
               chosen.get("source") in ("auto", "assumed") and
               chosen.get("mtu", 1500) <= 1492 - 80 and chosen.get("mtu", 1) % 16 == 0,
               f"{chosen.get('mtu')} ({chosen.get('reason')})")

    if args.web_port >= 0:
        web_ui(demo, checks, args)


def kill_switch(demo: Demo, checks: Checks) -> None:
    """wgpyd killed, nothing restarts it (no service here): the LAN must reach nothing
    rather than the internet by the WAN; `wgpy up` brings the tunnel back."""
    from wgpy.uapi.client import peer_pid
    section("kill switch: wgpyd killed (kill -9), the tunnel device gone")
    lab = demo.lab
    os.kill(peer_pid(demo.ifname), signal.SIGKILL)
    wait_for(lambda: not lab.ok(demo.router, "ip", "link", "show", demo.ifname),
             "the tunnel device to go")
    mark = len(demo.seen())
    got = [demo.fetch(url=url, timeout=3) for url in (WEB_URL, WEB_URL6)]
    print(indent(f"lan$ GET {WEB_URL}/ and {WEB_URL6}/  ->  "
                 + ", ".join(g or "(failed)" for g in got)))
    checks.add("kill switch: with wgpyd dead the LAN reaches nothing by the WAN",
               got == ["", ""] and not demo.seen()[mark:], ", ".join(demo.seen()[mark:]))
    result = demo.wgpy("up", demo.ifname, check=False)
    wait_for(lambda: demo.fetch(timeout=3) == f"you came from {VPN_PUBLIC}",
             "the tunnel to carry the LAN again", timeout=20)
    after = demo.fetch(url=WEB_URL6)
    print(indent(f"router$ wgpy up {demo.ifname}  ->  exit {result.returncode}; "
                 f"lan$ GET {WEB_URL6}/  ->  {after or '(failed)'}"))
    checks.add("wgpy up restores the tunnel, complete: both families through the VPN",
               result.returncode == 0 and after == f"you came from {VPN_PUBLIC6}", after)


def web_ui(demo: Demo, checks: Checks, args) -> None:
    """The admin page on the router's LAN address, and a loopback forwarder on this host."""
    section("the wgpy web UI")
    if not webui.usable():
        print(indent("wgpy.web is not installed yet: skipped"))
        return
    listen = f"{LAN_GW}:{WEBUI_PORT}"
    demo.password = webui.start(demo.lab, demo.router, demo.confdir, listen, demo.env)
    status = webui.login_and_status(demo.lab, demo.lan, f"http://{listen}", demo.password)
    text = json.dumps(status)
    checks.add("web UI: the LAN client logs in and sees the tunnel",
               demo.ifname in text and demo.peer_status().get("public_key", "?") in text)
    # --check takes any free port, so it never fights a demo already running here.
    try:
        forwarder = webui.Forwarder(demo.router, (LAN_GW, WEBUI_PORT),
                                    0 if args.check else args.web_port)
    except OSError as exc:  # the port is taken (another demo?): any free one will do
        print(indent(f"127.0.0.1:{args.web_port}: {exc}; using a free port instead"))
        forwarder = webui.Forwarder(demo.router, (LAN_GW, WEBUI_PORT), 0)
    demo.lab.closers.append(forwarder.close)
    demo.web_url = f"http://127.0.0.1:{forwarder.port}/"
    checks.add("web UI: reachable from this host", webui.fetch_via_host(forwarder.port) == 200,
               demo.web_url)
    print(indent(f"from this machine: {demo.web_url}  (on the LAN: http://{listen}/)\n"
                 f"log in as root, password: {demo.password}"))


def preflight() -> str:
    """'' when the demo can run here, else why not."""
    if os.geteuid() != 0:
        return "the demo needs root (network namespaces): run it with sudo"
    missing = [pkg for tool, pkg in REQUIRED.items() if shutil.which(tool) is None]
    if missing:
        return f"missing tools; install the Debian packages: {' '.join(missing)}"
    try:
        import wgpy.cli  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a stale C core fails with AttributeError
        return (f"wgpy does not import in {PYTHON} ({type(exc).__name__}: {exc}); "
                "run `make build` and use .venv/bin/python")
    return ""


def _raise_exit(signum, _frame) -> None:
    # SIGTERM and SIGHUP unwind like Ctrl-C does, so the `finally` cleans up.
    raise SystemExit(128 + signum)


def wait_forever(demo: Demo) -> None:
    print("\nThe home network keeps running. Try, in another shell:")
    print(f"  sudo ip netns exec {demo.lan} ping -c3 {WEB_SERVER}")
    print(f"  sudo ip netns exec {demo.router} wg show {demo.ifname}")
    print(f"  sudo {os.path.join(os.path.dirname(PYTHON), 'wgpy')} -c {demo.confdir} status")
    if getattr(demo, "web_url", None):
        print(f"Web UI: {demo.web_url}  password: {demo.password}")
    print("Press Ctrl-C to stop and remove everything.")
    while True:
        time.sleep(3600)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="verify, print PASS/FAIL, exit 0/1 without waiting")
    parser.add_argument("--web-port", type=int, default=WEBUI_PORT, metavar="N",
                        help="host loopback port for the web UI (default %(default)s; "
                             "-1: no web UI)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    # SIGINT too: a parent (a background job, some CI runners) may have left it ignored,
    # and Ctrl-C must still stop the demo and clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    args = parse_args(argv)
    problem = preflight()
    if problem:
        print(f"demo: {problem}", file=sys.stderr)
        return 2
    lab = Lab(f"wgdemo{os.getpid()}")
    demo, checks, status = Demo(lab), Checks(), 1
    try:
        scenario(demo, checks, args)
        status = 0 if checks.passed() else 1
        if not args.check:
            print("\n== result\n" + checks.summary())
            wait_forever(demo)
    except (KeyboardInterrupt, SystemExit) as exc:
        print(f"\nstopping ({'Ctrl-C' if isinstance(exc, KeyboardInterrupt) else 'signal'})")
    except Exception as exc:  # noqa: BLE001 - any failure is a FAIL line, then cleanup
        if not isinstance(exc, LabError):
            traceback.print_exc()
        checks.add("scenario ran to the end", False, str(exc))
        for label, _ in lab.procs:
            print(f"-- {label}.log:\n{lab.log_tail(label)}")
    finally:
        # A second Ctrl-C must not leave namespaces behind half-removed.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        print("\ncleaning up: stopping processes, deleting namespaces")
        lab.close()
    if args.check or status:
        # Last, after cleanup, so the verdict is the final thing on the screen.
        print("\n== result\n" + checks.summary())
    return status


if __name__ == "__main__":
    sys.exit(main())
