"""wgpyd against Debian's wireguard-go and against itself: pings over both inner families,
with IPv4 and IPv6 outer endpoints, either side initiating; a bulk TCP transfer whose bytes
are checked; and `wg show IF dump` from the stock tool reporting the session.
(Topology: see conftest.py.)"""

import pytest

from support.pair import make_pair, ping, tcp_transfer

pytestmark = pytest.mark.netns

BULK_BYTES = 4 << 20


@pytest.mark.parametrize("initiator", ["A", "B"])
@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("kind_b", ["wireguard-go", "wgpyd"])
def test_ping_both_families(lab, kind_b, family, initiator):
    a, b = make_pair(lab, kind_b, family)
    first, second = (a, b) if initiator == "A" else (b, a)
    assert ping(first, second.inner[0]), "first ping (handshake) failed"
    assert ping(first, second.inner[1], count=3)
    assert ping(second, first.inner[0], count=3)
    assert ping(second, first.inner[1], count=3)

    stats = a.peer_stats(b)  # what the stock `wg` reads from wgpyd
    assert stats["handshake"] > 0 and stats["rx"] > 0 and stats["tx"] > 0
    expected = b.outer[0] if family == 4 else f"[{b.outer[1]}]"
    assert stats["endpoint"] == f"{expected}:51820"
    assert stats["allowed_ips"] == f"{b.inner[0]}/32,{b.inner[1]}/128"
    assert b.peer_stats(a)["handshake"] > 0
    interface = a.dump()["interface"]
    assert interface[0] == a.private and interface[1] == a.public and interface[2] == "51820"


@pytest.mark.parametrize("kind_b", ["wireguard-go", "wgpyd"])
def test_bulk_tcp_bytes_arrive_intact(lab, kind_b):
    a, b = make_pair(lab, kind_b, 6)
    assert ping(a, b.inner[0])
    tcp_transfer(a, b, b.inner[1], BULK_BYTES, timeout=90)
    stats = a.peer_stats(b)
    assert stats["tx"] > BULK_BYTES and b.peer_stats(a)["rx"] > BULK_BYTES
