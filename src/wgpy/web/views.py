"""What the page's read methods return (methods.py): live status, the editable
configuration of an interface, and the wizard's suggestions. Read-only; edits are in actions.py.

Status is the router layer's `wgpy status` (router.handlers.wgpy_status over a
control.gather snapshot) with what the page needs on top: the router's name, disabled
peers (the typed schema leaves them out) and the configured key and port of a stopped
interface.
"""

from wgpy import keys
from wgpy.runtime.compat import ipaddress, unique
from wgpy.router import control, handlers
from wgpy.uci import edit, schema, syntax
from wgpy.uci.store import Store, UciError
from wgpy.web import alloc, reach


def peer_name(label: str, section: syntax.Section) -> str:
    """How error messages name a peer: its description, else its section label."""
    return edit.option_text(section, "description") or label


def peer_networks(section: syntax.Section) -> list:
    """A peer section's allowed IPs as networks; unparsable words are skipped (the schema
    reports them)."""
    out = []
    for word in edit.option_list(section, "allowed_ips"):
        try:
            out.append(schema.parse_network(word))
        except ValueError:
            continue
    return out


def _interface_addresses(section: syntax.Section) -> list:
    out = []
    for word in edit.option_list(section, "addresses"):
        try:
            out.append(schema.parse_address(word))
        except ValueError:
            continue
    return out


def suggest_addresses(package: syntax.Package, ifname: str) -> list:
    """The next free /32 and /128 for a new peer of IFNAME."""
    section = edit.interface_section(package, ifname)
    if section is None:
        return []
    used = [n for _, s in edit.peer_sections(package, ifname) for n in peer_networks(s)]
    return alloc.next_free(_interface_addresses(section), used)


def hostname(store: Store) -> str:
    """The router's name from UCI `system`, else the kernel's."""
    for entry in edit.sections_of(store, "system", "system"):
        if entry.get("hostname"):
            return entry["hostname"]
    with open("/proc/sys/kernel/hostname") as f:  # gethostname(), which MicroPython lacks
        return f.read().strip()


def _public_key(section: syntax.Section) -> "str | None":
    private = edit.option_text(section, "private_key")
    return keys.public_key(private)


def _disabled_peer(label: str, section: syntax.Section) -> dict:
    return {"section": label, "description": edit.option_text(section, "description"),
            "public_key": edit.option_text(section, "public_key"),
            "allowed_ips": edit.option_list(section, "allowed_ips"),
            "endpoint": None, "latest_handshake": 0, "handshake_age_s": None,
            "rx_bytes": 0, "tx_bytes": 0, "state": "disabled", "errors": []}


def status(store: Store) -> dict:
    """Every wgpy interface with its peers, live where running."""
    out = handlers.wgpy_status(control.gather(store))
    out["hostname"] = hostname(store)
    try:
        package = edit.load(store)
    except UciError:
        return out
    for ifname, entry in out["interfaces"].items():
        section = edit.interface_section(package, ifname)
        if section is None:
            continue
        if not entry["up"]:
            entry["public_key"] = _public_key(section)
            entry["listen_port"] = _int(edit.option_text(section, "listen_port"))
        entry["peers"] += [_disabled_peer(label, s)
                           for label, s in edit.peer_sections(package, ifname)
                           if is_on(s, "disabled")]
    return out


def _int(text: str) -> "int | None":
    return int(text) if text.isdigit() else None


def is_on(section: syntax.Section, option: str) -> bool:
    """A UCI boolean as the schema reads it."""
    return schema.is_true(edit.option_text(section, option))


def peer_view(label: str, section: syntax.Section) -> dict:
    """A peer section as the edit form shows it."""
    port = _int(edit.option_text(section, "endpoint_port"))
    keepalive = _int(edit.option_text(section, "persistent_keepalive"))
    return {
        "section": label,
        "revision": edit.revision(section),  # sent back with an edit: a stale one is a conflict
        "description": edit.option_text(section, "description"),
        "public_key": edit.option_text(section, "public_key"),
        # Never the key itself: stored keys do not leave the router.
        "preshared_key_set": bool(edit.option_text(section, "preshared_key")),
        "allowed_ips": edit.option_list(section, "allowed_ips"),
        "route_allowed_ips": is_on(section, "route_allowed_ips"),
        "endpoint_host": edit.option_text(section, "endpoint_host"),
        "endpoint_port": port,
        "persistent_keepalive": keepalive,
        "disabled": is_on(section, "disabled"),
    }


def interface_detail(package: syntax.Package, section: syntax.Section) -> dict:
    """An interface's settings and its peers, for the Interface and Peers tabs."""
    ifname = section.name or ""
    return {
        "name": ifname,
        "public_key": _public_key(section),
        "listen_port": _int(edit.option_text(section, "listen_port")),
        "addresses": edit.option_list(section, "addresses"),
        "mtu": _int(edit.option_text(section, "mtu")),
        "peers": [peer_view(label, s) for label, s in edit.peer_sections(package, ifname)],
    }


def interface_names(package: syntax.Package) -> list:
    return [s.name for s in package.sections
            if s.type == "interface" and s.get("proto") == schema.PROTO and s.name]


def _prefix_length(netmask: str) -> int:
    """255.255.255.0 -> 24 (MicroPython's ipaddress reads only lengths); ValueError if not
    a netmask."""
    mask = int(ipaddress.IPv4Address(netmask))
    length = bin(mask).count("1")
    if mask != ((1 << length) - 1) << (32 - length):
        raise ValueError(f"not a netmask: {netmask}")
    return length


def _lan(store: Store, package: syntax.Package) -> "ipaddress.IPv4Interface | None":
    """The LAN's address and subnet (`network.lan`: ipaddr as CIDR or with netmask)."""
    lan = edit.interface_section(package, "lan")
    if lan is None:
        return None
    words = edit.option_list(lan, "ipaddr")
    netmask = edit.option_text(lan, "netmask")
    try:
        if words and "/" not in words[0] and netmask:
            return ipaddress.ip_interface(f"{words[0]}/{_prefix_length(netmask)}")
        return ipaddress.ip_interface(words[0]) if words else None
    except ValueError:
        return None


def suggest(store: Store, package: syntax.Package, section: syntax.Section) -> dict:
    """Defaults for the wizard: addresses, endpoints, port, DNS, split-tunnel networks."""
    ifname = section.name or ""
    own = _interface_addresses(section)
    lan = _lan(store, package)
    split = [str(a.network) for a in own] + ([str(lan.network)] if lan else [])
    dns = [str(lan.ip)] if lan else [str(a.ip) for a in own[:1]]
    hosts, note = reach.suggest(store, package, hostname(store))
    return {
        "addresses": suggest_addresses(package, ifname),
        "endpoint_hosts": hosts,
        "endpoint_note": note,
        "endpoint_port": _int(edit.option_text(section, "listen_port")),
        "dns": dns,
        "split_allowed_ips": unique(split),
        "persistent_keepalive": 25,
    }
