"""Which `Host` headers `wgpy web`'s /ubus answers: the guard against DNS rebinding.

A page on evil.example whose name the attacker then points at the router's LAN address makes
the victim's browser send the page's requests to the router with `Host: evil.example`; to
the browser that is still one origin, so only the server can tell. The API therefore answers
only when Host names the router itself:

- an IP address literal (`192.168.1.1`, `[fd00::1]`): a browser sends one only when the
  page's own origin is that address, which no other site can be;
- `localhost`, and the host part of the listen address when it is a name;
- the router's host name (UCI `system.hostname`), alone, with the local domain (dnsmasq's
  `domain`, `lan` by default) or with `.local`;
- the enabled DDNS names (`ddns` service `lookup_host`).

Anything else, and a request without Host, is refused (server.py answers 421). Static files
are not guarded: they are the same for everybody and hold no data.
"""

import ipaddress
from typing import Optional, Set

from wgpy.uci.store import Store
from wgpy.uci import edit
from wgpy.web import views

DEFAULT_DOMAIN = "lan"  # OpenWrt's dnsmasq default


def host_name(header: Optional[str]) -> Optional[str]:
    """The host part of a Host header, lower case, without port or final dot; None when
    missing or malformed."""
    text = (header or "").strip().lower()
    if text.startswith("["):  # [v6] or [v6]:port
        inside, _, rest = text[1:].partition("]")
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return f"[{inside}]"
    name, sep, port = text.partition(":")
    if sep and not port.isdigit():
        return None
    return name.rstrip(".") or None


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name[1:-1] if name.startswith("[") and name.endswith("]") else name)
    except ValueError:
        return False
    return ":" not in name or name.startswith("[")


def router_names(store: Store, listen_host: str = "") -> Set[str]:
    """The names the router answers to, lower case."""
    names = {"localhost"}
    if listen_host and not is_ip_literal(listen_host):
        names.add(listen_host.lower().rstrip("."))
    hostname = views.hostname(store).lower().rstrip(".")
    if hostname:
        domains = {entry.get("domain") or DEFAULT_DOMAIN
                   for entry in edit.sections_of(store, "dhcp", "dnsmasq")} or {DEFAULT_DOMAIN}
        names |= {hostname, f"{hostname}.local"} | {f"{hostname}.{d.lower()}" for d in domains}
    names |= {entry["lookup_host"].lower().rstrip(".")
              for entry in edit.sections_of(store, "ddns", "service")
              if entry.get("lookup_host") and entry.get("enabled", "1") == "1"}
    return names


def allowed(header: Optional[str], store: Store, listen_host: str = "") -> bool:
    """True when a request with this Host header may reach /ubus."""
    name = host_name(header)
    if name is None:
        return False
    return is_ip_literal(name) or name in router_names(store, listen_host)
