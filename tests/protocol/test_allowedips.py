"""Allowed IPs against a naive model (kernel horrible_allowedips, wireguard-go SlowRouter)."""

import ipaddress

from hypothesis import given, settings, strategies as st

from wgpy.protocol.allowedips import AllowedIPs


class NaiveModel:
    """Linear scan over (network, peer) with last-writer-wins on equal prefixes."""

    def __init__(self):
        self.routes = {}

    def insert(self, network, peer):
        self.routes[network] = peer

    def remove(self, network, peer):
        if self.routes.get(network) is peer:
            del self.routes[network]

    def remove_peer(self, peer):
        self.routes = {n: p for n, p in self.routes.items() if p is not peer}

    def lookup(self, address):
        best = None
        for network, peer in self.routes.items():
            if address in network and (best is None or network.prefixlen > best[0].prefixlen):
                best = (network, peer)
        return None if best is None else best[1]


PEERS = [object() for _ in range(4)]


def _v4_net(draw_bits, plen):
    return ipaddress.IPv4Network((draw_bits >> (32 - plen) << (32 - plen), plen))


def _v6_net(draw_bits, plen):
    return ipaddress.IPv6Network((draw_bits >> (128 - plen) << (128 - plen), plen))


# A small address space on top so prefixes overlap often.
v4_nets = st.builds(lambda hi, plen: _v4_net(0x0A000000 | hi << 16, plen),
                    st.integers(0, 3), st.integers(0, 32))
v6_nets = st.builds(lambda hi, plen: _v6_net(0xFD00 << 112 | hi << 96, plen),
                    st.integers(0, 3), st.integers(0, 128))
ops = st.lists(st.tuples(st.sampled_from(["insert", "remove", "remove_peer"]),
                         st.one_of(v4_nets, v6_nets), st.integers(0, 3)), max_size=40)
probes = st.lists(st.one_of(
    st.builds(lambda x: ipaddress.IPv4Address(0x0A000000 | x), st.integers(0, (4 << 16) - 1)),
    st.builds(lambda x, y: ipaddress.IPv6Address(0xFD00 << 112 | x << 96 | y),
              st.integers(0, 3), st.integers(0, 2**96 - 1))), min_size=1, max_size=30)


@settings(max_examples=150)
@given(ops, probes)
def test_matches_naive_model(operations, addresses):
    real, model = AllowedIPs(), NaiveModel()
    for op, network, p in operations:
        peer = PEERS[p]
        if op == "remove_peer":
            real.remove_peer(peer)
            model.remove_peer(peer)
        else:
            getattr(real, op)(network, peer)
            getattr(model, op)(network, peer)
    for address in addresses:
        assert real.lookup(address.packed) is model.lookup(address)
    for peer in PEERS:
        assert set(real.networks_of(peer)) == {n for n, q in model.routes.items() if q is peer}


def test_longest_prefix_wins_and_default_route():
    t = AllowedIPs()
    a, b, c = object(), object(), object()
    t.insert(ipaddress.ip_network("0.0.0.0/0"), a)
    t.insert(ipaddress.ip_network("10.0.0.0/8"), b)
    t.insert(ipaddress.ip_network("10.1.2.3/32"), c)
    assert t.lookup(bytes([10, 1, 2, 3])) is c
    assert t.lookup(bytes([10, 1, 2, 4])) is b
    assert t.lookup(bytes([8, 8, 8, 8])) is a
    assert t.lookup(ipaddress.ip_address("::1").packed) is None


def test_insert_moves_prefix_and_networks_of_keeps_order():
    t = AllowedIPs()
    a, b = object(), object()
    nets = [ipaddress.ip_network(n) for n in ("10.0.0.0/24", "fd00::/64", "192.168.1.1/32")]
    for n in nets:
        t.insert(n, a)
    t.insert(nets[0], a)                        # same owner: position unchanged
    assert t.networks_of(a) == nets
    t.insert(nets[1], b)
    assert t.networks_of(a) == [nets[0], nets[2]] and t.networks_of(b) == [nets[1]]
    t.remove(nets[0], b)                        # not b's: no-op
    assert t.lookup(bytes([10, 0, 0, 1])) is a
    t.remove(nets[0], a)
    assert t.lookup(bytes([10, 0, 0, 1])) is None
    t.remove_peer(a)
    assert t.networks_of(a) == [] and t.lookup(bytes([192, 168, 1, 1])) is None


def test_lookup_dst_and_src_from_packets():
    from wgtestlib import ipv4_packet, ipv6_packet
    t = AllowedIPs()
    a, b = object(), object()
    t.insert(ipaddress.ip_network("10.0.0.2/32"), a)
    t.insert(ipaddress.ip_network("fd00::/8"), b)
    assert t.lookup_dst(ipv4_packet("10.9.9.9", "10.0.0.2")) is a
    assert t.lookup_src(ipv4_packet("10.0.0.2", "1.1.1.1")) is a
    assert t.lookup_dst(ipv6_packet("::1", "fd12::1")) is b
    assert t.lookup_src(ipv6_packet("fd12::1", "::1")) is b
    assert t.lookup_dst(b"\x45" + bytes(10)) is None and t.lookup_dst(b"") is None
