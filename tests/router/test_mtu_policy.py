"""The automatic tunnel MTU (router/mtu.py): known answers for the issue's paths, and
properties of the rule against a naive model of what the far end puts on the wire."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wgpy.protocol.peer import padding_size
from wgpy.router import mtu, netconf
from wgpy.uci.schema import PeerConfig


@pytest.mark.parametrize("paths,expected", [
    ({"2001:db8::1": (1492, "pppoe-wan")}, 1392),   # PPPoE, IPv6 endpoint
    ({"192.0.2.1": (1492, "pppoe-wan")}, 1392),     # PPPoE, IPv4 endpoint
    ({"192.0.2.1": (1500, "eth1")}, 1392),          # a DS-Lite modem may hide beyond
    ({"192.0.2.1": (1460, "ds-wan")}, 1392),        # DS-Lite on the router
    ({"2001:db8::1": (1280, "he-tunnel")}, 1280),   # never below IPv6's minimum
    ({"192.0.2.1": (1400, "lte")}, 1328),           # 1400 - 60 = 1340, rounded down
    ({"192.0.2.1": (1500, "eth1"), "2001:db8::1": (1420, "6rd")}, 1328),
])
def test_known_paths(paths, expected):
    choice = mtu.choose(None, paths)
    assert (choice.mtu, choice.source) == (expected, "auto")


def test_reason_names_the_smallest_path():
    choice = mtu.choose(None, {"192.0.2.1": (1500, "eth1"), "2001:db8::1": (1420, "6rd")})
    assert "2001:db8::1 via 6rd (MTU 1420)" in choice.reason
    assert "1420 - 80" in choice.reason


def test_explicit_mtu_wins():
    assert mtu.choose(1500, {"192.0.2.1": (1280, "x")}).as_dict() == \
        {"mtu": 1500, "source": "config", "reason": "option mtu"}


def test_no_endpoint_assumes_the_conservative_path():
    choice = mtu.choose(None, {})
    assert (choice.mtu, choice.source) == (1392, "assumed")


def _outer(inner_len: int, far_mtu: int, version: int) -> int:
    """What a far end at far_mtu sends for an inner packet (send.go's padding)."""
    return inner_len + padding_size(inner_len, far_mtu) + mtu.OVERHEAD[version]


@given(st.integers(1360, 9000), st.sampled_from([4, 6]), st.integers(1280, 9000))
def test_nothing_the_far_end_sends_exceeds_the_path(path, version, far_mtu):
    """Packets no larger than our MTU (the MSS clamp's promise) stay within the path,
    whatever MTU the far end pads to; and 16 more would not (the largest such MTU)."""
    ours = mtu.choose(None, {"192.0.2.1" if version == 4 else "2001:db8::1": (path, "x")}).mtu
    limit = min(path, mtu.ASSUMED_PATH_MTU[version])
    for inner in range(ours - 31, ours + 1):
        assert _outer(inner, max(far_mtu, ours), version) <= limit
    assert ours % 16 == 0 and ours + 16 + mtu.OVERHEAD[version] > limit


def test_whole_lan_needs_a_routed_default():
    half = PeerConfig(section="a", public_key="k", route_allowed_ips=True,
                      allowed_ips=[ipaddress.ip_network("0.0.0.0/1")])
    unrouted = PeerConfig(section="b", public_key="k", route_allowed_ips=False,
                          allowed_ips=[ipaddress.ip_network("::/0")])
    routed = PeerConfig(section="c", public_key="k", route_allowed_ips=True,
                        allowed_ips=[ipaddress.ip_network("::/0")])
    assert not netconf.whole_lan([half, unrouted])
    assert netconf.whole_lan([half, routed])
