"""Addresses, MTU and routes of a wgpy interface, through `ip` (iproute2), when no netifd
does it for us; plus the record of what was added, so `down` and `reload` undo exactly that.

The MTU is UCI's `mtu`, else chosen from the routes towards the peers' endpoints (mtu.py);
a tunnel that carries the whole LAN (a routed /0) gets its forwarded TCP MSS clamped.

Routes for allowed_ips are added when a peer sets route_allowed_ips. A /0 becomes its two
/1 halves, which win over the WAN default route without replacing it (so nothing competes on
metrics, OW#9448, and `down` restores the old path by itself). An endpoint that falls inside
a routed range gets a host route via the route the system had to it without the tunnel, so the
encrypted UDP never loops into the tunnel (netifd's proto_add_host_dependency, unless
nohostroute). The record lives in RUN_DIR/IFNAME.json: runtime state, not configuration.
It only says what wgpy added; what is on the system now is read back from the kernel
(`observed`) before anything is changed, so a record left by a run that died (kill -9,
deleted link) is never taken for the truth. Writers use a unique temp file and rename it,
and `locked` serialises whole operations on one interface (flock on RUN_DIR/IFNAME.lock).
"""

import contextlib
import errno
import json

from wgpy.router import firewall
from wgpy.router import mtu as mtu_policy
from wgpy.router.resolve import endpoint_ip
from wgpy.runtime.compat import Record, ipaddress
from wgpy.runtime.system import fcntl, os, subprocess
from wgpy.uci import store
from wgpy.uci.schema import InterfaceConfig, PeerConfig

RUN_DIR = os.environ.get("WGPY_RUN_DIR", "/var/run/wgpy")


class NetconfError(Exception):
    """An `ip` command failed; the message has its output."""


class NetState(Record):
    """What wgpy put on the system for one interface. host_routes: dst -> {gateway?, dev};
    skipped: peers left out for DNS, for status; netifd: netifd owns addresses and routes,
    we only keep `skipped`; mtu_choice: mtu.Choice.as_dict(), the MTU and why."""
    FIELDS = ("ifname", "mtu", "addresses", "routes", "host_routes", "skipped", "netifd",
              "mtu_choice", "mss_clamp")
    DEFAULTS = {"mtu": None, "netifd": False, "mtu_choice": None, "mss_clamp": False}
    FACTORIES = {"addresses": list, "routes": list, "host_routes": dict, "skipped": list}


# ---- what we want (pure) ----

def split_default(net) -> list:
    """A /0 as its two /1 halves; any other network unchanged."""
    if net.prefixlen == 0:
        top = 1 << (net.max_prefixlen - 1)
        return [type(net)((0, 1)), type(net)((top, 1))]
    return [net]


def routed_networks(peers: list[PeerConfig]) -> list:
    """The networks to route into the tunnel, in config order, without duplicates."""
    out: list = []
    for peer in peers:
        if peer.route_allowed_ips:
            for net in peer.allowed_ips:
                out += [n for n in split_default(net) if n not in out]
    return out


def host_route_targets(conf: InterfaceConfig, endpoints: list[str], routed: list) -> list[str]:
    """Endpoint addresses (as /32 or /128) that the tunnel routes would swallow."""
    if conf.nohostroute:
        return []
    out = []
    for uapi_endpoint in endpoints:
        ip = ipaddress.ip_address(endpoint_ip(uapi_endpoint))
        if any(ip in net for net in routed if net.version == ip.version):
            dst = f"{ip}/{ip.max_prefixlen}"
            if dst not in out:
                out.append(dst)
    return out


def whole_lan(peers: list[PeerConfig]) -> bool:
    """True when a peer routes a /0 into the tunnel: LAN traffic is forwarded through it."""
    return any(net.prefixlen == 0 for peer in peers if peer.route_allowed_ips
               for net in peer.allowed_ips)


def best_route(dst: str, table: list[dict], exclude_dev: str) -> "dict | None":
    """Longest-prefix match of `dst` in an `ip -j route` table, ignoring our own device
    (whose routes we are about to add or already added), lowest metric first on a tie."""
    ip = ipaddress.ip_interface(dst).ip
    best, best_key = None, None
    for route in table:
        if route.get("dev") == exclude_dev or route.get("type", "unicast") != "unicast":
            continue
        text = route.get("dst", "")
        net = ipaddress.ip_network("0.0.0.0/0" if ip.version == 4 else "::/0") \
            if text == "default" else ipaddress.ip_network(text, strict=False)
        if net.version != ip.version or ip not in net:
            continue
        key = (net.prefixlen, -route.get("metric", 0))
        if best_key is None or key > best_key:
            best, best_key = route, key
    if best is None:
        return None
    return {k: best[k] for k in ("gateway", "dev") if k in best}


# ---- doing it (I/O) ----

def ip(*args: str, check: bool = True) -> str:
    """Run `ip ARGS`; -> stdout; raises NetconfError."""
    result = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NetconfError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def route_table(version: int) -> list[dict]:
    """The main routing table of one family as `ip -j route` data."""
    return json.loads(ip("-j", f"-{version}", "route", "show", "table", "main") or "[]")


def _device_mtu(dev: str) -> "int | None":
    try:
        with open(f"/sys/class/net/{dev}/mtu", encoding="ascii") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def path_mtu(address: str, ifname: str, fwmark: int) -> "tuple[int, str] | None":
    """(MTU, device) of the way to address as the kernel sends our UDP there: the route's
    mtu (or a learned path MTU) if it has one, else its device's; our own tunnel is never
    the way (the host route keeps endpoints off it, or will once added). None: no route."""
    version = ipaddress.ip_address(address).version
    mark = ["mark", str(fwmark)] if fwmark else []
    try:
        routes = json.loads(ip("-j", f"-{version}", "route", "get", address, *mark) or "[]")
    except (NetconfError, ValueError):
        routes = []
    route = routes[0] if routes else None
    if route is None or route.get("dev") == ifname:
        route = best_route(address, route_table(version), ifname)
        if route is None:
            return None
    metric = next((m["mtu"] for m in route.get("metrics", []) if "mtu" in m), None)
    mtu = metric or _device_mtu(route["dev"])
    return None if mtu is None else (mtu, route["dev"])


def choose_mtu(conf: InterfaceConfig, endpoints: list[str]) -> mtu_policy.Choice:
    """UCI's mtu, else the automatic one over the endpoints' paths."""
    paths: dict[str, tuple[int, str]] = {}
    if conf.mtu is None:
        for uapi_endpoint in endpoints:
            address = endpoint_ip(uapi_endpoint)
            found = path_mtu(address, conf.name, conf.fwmark)
            if found is not None:
                paths[address] = found
    return mtu_policy.choose(conf.mtu, paths)


def _host_routes(conf: InterfaceConfig, targets: list[str], old: dict[str, dict]) -> dict:
    routes = {}
    tables = {4: None, 6: None}
    for dst in targets:
        version = ipaddress.ip_interface(dst).version
        if tables[version] is None:
            tables[version] = route_table(version)
        via = best_route(dst, [r for r in tables[version] if r.get("dst") != dst],
                         conf.name) or old.get(dst)
        if via is not None:
            routes[dst] = via
    return routes


def desired_state(conf: InterfaceConfig, peers: list[PeerConfig], endpoints: list[str],
                  old: "NetState | None") -> NetState:
    """The state to reach: addresses, tunnel routes and the endpoint host routes."""
    routed = routed_networks(peers)
    targets = host_route_targets(conf, endpoints, routed)
    choice = choose_mtu(conf, endpoints)
    return NetState(ifname=conf.name, mtu=choice.mtu, mtu_choice=choice.as_dict(),
                    addresses=[str(a) for a in conf.addresses],
                    routes=[str(n) for n in routed],
                    host_routes=_host_routes(conf, targets, old.host_routes if old else {}),
                    mss_clamp=whole_lan(peers))


def _route_args(dst: str, via: dict) -> list[str]:
    return [dst] + (["via", via["gateway"]] if "gateway" in via else []) + ["dev", via["dev"]]


def transition(new: NetState, old: "NetState | None") -> None:
    """Move the system from `old` (None: fresh link) to `new`; host routes go in first so
    the endpoint stays reachable while the tunnel routes change."""
    old = old or NetState(new.ifname)
    dev = new.ifname
    for dst, via in new.host_routes.items():
        if old.host_routes.get(dst) != via:
            ip("route", "replace", *_route_args(dst, via))
    if new.mtu is not None and new.mtu != old.mtu:
        ip("link", "set", "dev", dev, "mtu", str(new.mtu))
    ip("link", "set", "dev", dev, "up")
    for address in old.addresses:
        if address not in new.addresses:
            ip("address", "del", address, "dev", dev, check=False)
    for address in new.addresses:
        if address not in old.addresses:
            ip("address", "replace", address, "dev", dev)
    for dst in old.routes:
        if dst not in new.routes:
            ip("route", "del", dst, "dev", dev, check=False)
    for dst in new.routes:
        ip("route", "replace", dst, "dev", dev)
    for dst, via in old.host_routes.items():
        if dst not in new.host_routes:
            ip("route", "del", *_route_args(dst, via), check=False)
    if new.mss_clamp or old.mss_clamp:
        clamped = firewall.clamp_mss(dev, new.mss_clamp)
        new.mss_clamp = new.mss_clamp and clamped


def set_mtu(state: NetState, choice: mtu_policy.Choice) -> bool:
    """Move the link to choice.mtu if it differs (wgpyd follows); -> whether it changed."""
    state.mtu_choice = choice.as_dict()
    if state.mtu == choice.mtu:
        return False
    ip("link", "set", "dev", state.ifname, "mtu", str(choice.mtu))
    state.mtu = choice.mtu
    return True


def _present_routes(ifname: str) -> set:
    out = set()
    for version in (4, 6):
        for route in json.loads(ip("-j", f"-{version}", "route", "show", "dev", ifname,
                                   check=False) or "[]"):
            if route.get("protocol") != "kernel" and route.get("dst") not in (None, "default"):
                out.add(str(ipaddress.ip_network(route["dst"], strict=False)))
    return out


def _host_route_present(dst: str, via: dict) -> bool:
    version = ipaddress.ip_interface(dst).version
    routes = json.loads(ip("-j", f"-{version}", "route", "show", "exact", dst,
                           check=False) or "[]")
    return any(r.get("dev") == via.get("dev") and r.get("gateway") == via.get("gateway")
               for r in routes)


def observed(ifname: str, recorded: "NetState | None") -> "NetState | None":
    """What the kernel has now of what wgpy added for IFNAME: the link's MTU, and those
    recorded addresses, routes and host routes that are still there (what someone else
    put on the link is neither counted nor touched). None: no such link."""
    try:
        link = json.loads(ip("-j", "link", "show", "dev", ifname) or "[]")
    except NetconfError:
        return None
    if not link:
        return None
    recorded = recorded or NetState(ifname)
    present = set()
    for entry in json.loads(ip("-j", "address", "show", "dev", ifname) or "[]"):
        for info in entry.get("addr_info", []):
            present.add(str(ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")))
    routes = _present_routes(ifname)
    return NetState(ifname, mtu=link[0].get("mtu"),
                    addresses=[a for a in recorded.addresses if a in present],
                    routes=[r for r in recorded.routes if r in routes],
                    host_routes={d: v for d, v in recorded.host_routes.items()
                                 if _host_route_present(d, v)})


def remove_host_routes(state: NetState) -> None:
    """Undo the host routes and the MSS clamp (the only things that outlive the link)."""
    for dst, via in state.host_routes.items():
        ip("route", "del", *_route_args(dst, via), check=False)
    if state.mss_clamp:
        firewall.clamp_mss(state.ifname, False)


def delete_link(ifname: str) -> bool:
    """Delete the interface (wgpyd exits when its TUN goes); False if it was not there."""
    return subprocess.run(["ip", "link", "del", "dev", ifname], capture_output=True).returncode == 0


# ---- the record ----

def state_path(ifname: str) -> str:
    return os.path.join(RUN_DIR, f"{ifname}.json")


def write_atomic(path: str, text: str) -> None:
    """Replace `path` with `text` through a temp file of its own (unique name, same
    directory), so concurrent writers never share or delete each other's temp file."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    store.write_atomic(path, text.encode())


@contextlib.contextmanager
def locked(ifname: str):
    """Hold RUN_DIR/IFNAME.lock exclusively: one up/reload/down of IFNAME at a time."""
    os.makedirs(RUN_DIR, mode=0o755, exist_ok=True)
    fd = os.open(os.path.join(RUN_DIR, f"{ifname}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def save_state(state: NetState) -> None:
    """Remember what was applied, for `down` and `reload`."""
    write_atomic(state_path(state.ifname), json.dumps(dict(zip(state.FIELDS, state.values()))))


def load_state(ifname: str) -> "NetState | None":
    """The last saved state, or None if wgpy did not bring IFNAME up."""
    try:
        with open(state_path(ifname), encoding="utf-8") as f:
            return NetState(**json.load(f))
    except (OSError, ValueError, TypeError):
        return None


def remove_file(path: str) -> None:
    """Unlink `path`; one that is already gone is fine."""
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def forget_state(ifname: str) -> None:
    remove_file(state_path(ifname))
