"""The next free tunnel address for a new peer, from the interface's own subnets.

A candidate host number N gives 10.66.0.N in the IPv4 subnet and prefix::N in the IPv6 one,
so a device gets matching addresses in both families. N is free when neither address is
the interface's own, the subnet's network or broadcast address, nor inside any existing
peer's allowed IPs (disabled peers included: enabling one later must not clash). Default
routes (/0) are ignored, since a VPN exit peer routes everything. Pure: no I/O.
"""

from wgpy.runtime.compat import ipaddress

SEARCH_LIMIT = 65536  # host numbers tried; a home router never has that many peers


def _subnets(addresses) -> dict:
    """The first interface address of each family -> {version: interface}."""
    out: dict = {}
    for address in addresses:
        out.setdefault(address.version, address)
    return out


def _taken(address, used: list) -> bool:
    return any(net.version == address.version and net.prefixlen and address in net
               for net in used)


def _candidate(iface, number: int):
    """Host number `number` of the interface's subnet, or None past its end."""
    net = iface.network
    size = 1 << (net.max_prefixlen - net.prefixlen)  # num_addresses, which MicroPython lacks
    if number >= size - (1 if net.version == 4 else 0):
        return None
    return ipaddress.ip_address(int(net.network_address) + number)


def next_free(addresses, used) -> list:
    """["10.66.0.N/32", "fd66::N/128"] for the lowest free N (one entry per family the
    interface has), or [] if the subnets are full or the interface has no addresses."""
    subnets = _subnets(addresses)
    used = [n for n in used if n.prefixlen] + [ipaddress.ip_network(str(a.ip)) for a in subnets.values()]
    for number in range(1, SEARCH_LIMIT):
        picks = [_candidate(iface, number) for iface in subnets.values()]
        if any(p is None for p in picks):
            return []
        if not any(_taken(p, used) for p in picks):
            return [f"{p}/{p.max_prefixlen}" for p in picks]
    return []

