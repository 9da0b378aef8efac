"""Allowed IPs: longest-prefix match from address to peer (kernel allowedips.c).

Not a trie: one dict per prefix length, probed from the longest length in
use downwards. That is at most 33 (IPv4) or 129 (IPv6) dict probes, far
simpler to get right than a path-compressed trie, and tests check it against
a naive linear model. Semantics follow wireguard-go: inserting an existing
prefix moves it to the new peer; removal needs the exact prefix and owner;
networks_of() lists a peer's prefixes in insertion order.
"""

from collections import OrderedDict   # MicroPython's plain dicts keep no order


_BITS = {4: 32, 6: 128}


class _Family:
    """The prefix tables of one IP version."""

    def __init__(self, bits: int):
        self.bits = bits
        self.tables = {}            # prefix length -> {address >> (bits - length): peer}
        self.lengths = []           # lengths in use, longest first

    def key(self, network):
        return network.prefixlen, int(network.network_address) >> (self.bits - network.prefixlen)

    def get(self, length, key):
        table = self.tables.get(length)
        return None if table is None else table.get(key)

    def put(self, length, key, peer) -> None:
        table = self.tables.get(length)
        if table is None:
            table = self.tables[length] = {}
            self.lengths = sorted(self.tables, reverse=True)
        table[key] = peer

    def delete(self, length, key) -> None:
        table = self.tables[length]
        del table[key]
        if not table:
            del self.tables[length]
            self.lengths = sorted(self.tables, reverse=True)

    def lookup(self, address: int):
        for length in self.lengths:
            peer = self.tables[length].get(address >> (self.bits - length))
            if peer is not None:
                return peer
        return None


class AllowedIPs:
    """Prefix -> peer map with longest-prefix lookup for IPv4 and IPv6."""

    def __init__(self):
        self._families = {4: _Family(32), 6: _Family(128)}
        self._by_peer = {}          # peer -> OrderedDict {network: None}
        self.on_change = None       # called after any change (the datapath mirrors the table)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def insert(self, network, peer) -> None:
        """Route network to peer (moving it from any previous owner)."""
        family = self._families[network.version]
        length, key = family.key(network)
        old = family.get(length, key)
        if old is peer:
            return
        if old is not None:
            self._by_peer[old].pop(network, None)
        family.put(length, key, peer)
        self._by_peer.setdefault(peer, OrderedDict())[network] = None
        self._changed()

    def remove(self, network, peer) -> None:
        """Remove network if peer owns exactly that prefix."""
        family = self._families[network.version]
        length, key = family.key(network)
        if family.get(length, key) is not peer:
            return
        family.delete(length, key)
        self._by_peer[peer].pop(network, None)
        self._changed()

    def remove_peer(self, peer) -> None:
        """Remove every prefix owned by peer."""
        networks = list(self._by_peer.pop(peer, {}))
        for network in networks:
            family = self._families[network.version]
            family.delete(*family.key(network))
        if networks:
            self._changed()

    def networks_of(self, peer) -> list:
        """peer's prefixes in insertion order."""
        return list(self._by_peer.get(peer, ()))

    def lookup(self, address: bytes):
        """Peer for a 4- or 16-byte address, or None."""
        version = 4 if len(address) == 4 else 6 if len(address) == 16 else None
        if version is None:
            return None
        return self._families[version].lookup(int.from_bytes(address, "big"))

    def lookup_dst(self, packet: bytes):
        """Peer for an IP packet's destination (outbound routing), or None."""
        address = _address(packet, 16, 24)
        return None if address is None else self.lookup(address)

    def lookup_src(self, packet: bytes):
        """Peer for an IP packet's source (inbound check), or None."""
        address = _address(packet, 12, 8)
        return None if address is None else self.lookup(address)


def _address(packet: bytes, v4_offset: int, v6_offset: int):
    """The address field of an IPv4/IPv6 packet, or None if too short or not IP."""
    if not packet:
        return None
    version = packet[0] >> 4
    if version == 4 and len(packet) >= 20:
        return bytes(packet[v4_offset:v4_offset + 4])
    if version == 6 and len(packet) >= 40:
        return bytes(packet[v6_offset:v6_offset + 16])
    return None
