"""How a device on the Internet can reach the router: the wizard's endpoint suggestions.

From what the router knows, in this order: enabled DDNS names (`ddns` service `lookup_host`),
its host name when that has a domain (`system.hostname` with a dot), and the WAN's addresses:
a static `network.wan.ipaddr`, else the global addresses of the interface that carries the
default route (a DHCP or PPPoE WAN, read with `ip -j`; nothing is sent anywhere). Public
addresses come before private ones, and a note says what the user should know: that nothing
was found, or that the only WAN address is private (another router or the provider's NAT
is in front, so devices reach this one only through a port forward there).
"""

import json

from wgpy.runtime.compat import ipaddress, unique
from wgpy.runtime.system import subprocess

from wgpy.uci import syntax
from wgpy.uci.store import Store
from wgpy.uci import edit

NOTHING_KNOWN = ("The router knows no public name or address for itself (no DDNS name, no host "
                 "name with a domain, no WAN address): enter the address or name devices on "
                 "the Internet reach it by.")


def default_route_addresses() -> list:
    """Global addresses of the interfaces that carry a default route, IPv4 first."""
    out = []
    for version in (4, 6):
        try:
            routes = json.loads(subprocess.run(
                ["ip", "-j", f"-{version}", "route", "show", "default"], capture_output=True,
                text=True).stdout or "[]")
            for dev in unique(r["dev"] for r in routes if r.get("dev")):
                links = json.loads(subprocess.run(
                    ["ip", "-j", f"-{version}", "addr", "show", "dev", dev, "scope", "global"],
                    capture_output=True, text=True).stdout or "[]")
                out += [a["local"] for link in links for a in link.get("addr_info", [])
                        if a.get("local")]
        except (OSError, ValueError):
            continue
    return out


def _is_public(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_global
    except ValueError:
        return True  # a name


def candidates(ddns: list, hostname: str, wan: list) -> "tuple[list[str], str | None]":
    """(names and addresses to offer, best first; a note for the user or None)."""
    hosts = unique(ddns + ([hostname] if "." in hostname else []) +
                   [a for a in wan if _is_public(a)] + [a for a in wan if not _is_public(a)])
    if not hosts:
        return [], NOTHING_KNOWN
    if not _is_public(hosts[0]):
        return hosts, (f"The router's WAN address {hosts[0]} is private: another router or "
                       f"the provider's NAT is in front of it, so devices on the Internet "
                       f"reach it only through a port forward there. Enter that public "
                       f"address or a DDNS name if you have one.")
    return hosts, None


def suggest(store: Store, package: syntax.Package, hostname: str
            ) -> "tuple[list[str], str | None]":
    """The wizard's endpoint suggestions and note, from UCI and the live WAN."""
    ddns = [entry["lookup_host"] for entry in edit.sections_of(store, "ddns", "service")
            if entry.get("lookup_host") and entry.get("enabled", "1") == "1"]
    wan = edit.interface_section(package, "wan")
    static = [] if wan is None or edit.option_text(wan, "proto") != "static" else \
        [w.split("/")[0] for w in edit.option_list(wan, "ipaddr")]
    return candidates(ddns, hostname, static or default_route_addresses())
