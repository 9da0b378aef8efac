"""Endpoint resolution and the built-in equivalent of OpenWrt's wireguard_watchdog.

`endpoint` turns a peer's endpoint_host/endpoint_port into the `ip:port` (or `[ip6]:port`)
UAPI wants, resolving names once, as `wg` does. `due_for_reresolve` picks the peers whose
name should be looked up again: a hostname endpoint, a handshake older than STALE_AFTER_S
(or none yet), and no attempt in the last RETRY_INTERVAL_S. The clock and the resolver are
arguments, so this module does no I/O of its own beyond the default resolver.
"""

import socket

from wgpy.runtime.compat import ipaddress
from wgpy.runtime.system import udp_addresses
from wgpy.uapi.text import format_endpoint
from wgpy.uci.schema import PeerConfig

# WireGuard's REJECT_AFTER_TIME: past it no session can still be valid (wireguard_watchdog
# uses 150 s; PR OW#22710 argues for this value so live links are not re-resolved).
STALE_AFTER_S = 180
RETRY_INTERVAL_S = 30

# The type of a resolver, for annotations: (host, port) -> "ip:port", as system_resolver.
Resolver = "Callable[[str, int], str]"


class ResolveError(Exception):
    """A hostname that does not resolve (now)."""


def is_literal(host: str) -> bool:
    """True for an IPv4 or IPv6 address (no DNS needed)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def system_resolver(host: str, port: int) -> str:
    """The first address getaddrinfo gives, as `wg` picks it; raises ResolveError."""
    try:
        addresses = udp_addresses(host, port)
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise ResolveError(f"cannot resolve '{host}': {exc.args[-1]}") from None
    for family, address in addresses:
        if family in (socket.AF_INET, socket.AF_INET6):
            return format_endpoint(address, port)
    raise ResolveError(f"cannot resolve '{host}': no IPv4 or IPv6 address")


def endpoint(peer: PeerConfig, resolver: Resolver = system_resolver) -> "str | None":
    """The UAPI endpoint for `peer`, None if it has none; raises ResolveError."""
    if peer.endpoint_host is None:
        return None
    if is_literal(peer.endpoint_host):
        return format_endpoint(peer.endpoint_host, peer.endpoint_port)
    return resolver(peer.endpoint_host, peer.endpoint_port)


def endpoint_ip(uapi_endpoint: str) -> str:
    """The address part of `ip:port` or `[ip6]:port`."""
    host = uapi_endpoint.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") else host


def is_stale(live_peer: dict, wall_now: float) -> bool:
    """True if the peer has had no handshake for STALE_AFTER_S (or never had one)."""
    last = live_peer.get("last_handshake_time_sec", 0)
    return last == 0 or wall_now - last >= STALE_AFTER_S


def due_for_reresolve(peers: list[PeerConfig], live: dict[str, dict], wall_now: float,
                      attempts: dict[tuple[str, str], float], ifname: str,
                      now: float) -> list[PeerConfig]:
    """Hostname peers to look up again: stale or missing from the device (skipped at start
    because DNS failed), not tried within RETRY_INTERVAL_S; records the attempt in `attempts`."""
    due = []
    for peer in peers:
        if peer.endpoint_host is None or is_literal(peer.endpoint_host):
            continue
        live_peer = live.get(peer.public_key)
        if live_peer is not None and not is_stale(live_peer, wall_now):
            continue
        key = (ifname, peer.public_key)
        if now - attempts.get(key, -RETRY_INTERVAL_S) < RETRY_INTERVAL_S:
            continue
        attempts[key] = now
        due.append(peer)
    return due
