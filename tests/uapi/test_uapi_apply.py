"""UAPI set/get applied to a real Device: semantics of every key, wireguard-go's order,
identical device values as no-ops, and requests that fail changing nothing at all."""

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wgpy.uapi import text as p

device = pytest.importorskip("wgpy.protocol.device")

PRIV_A = "08" + "11" * 30 + "51"   # already clamped
PK1, PK2, PK3 = "b1" * 32, "b2" * 32, "b3" * 32
PSK = "c4" * 32
ZERO = "00" * 32
NOW = 10.0


def uapi_set(dev, *lines, net=None):
    return p.handle_set(dev, list(lines), NOW, net)


def get_lines(dev):
    text = p.render_get(dev)
    assert text.endswith("errno=0\n\n")
    return text.split("\n")[:-3]


def peer(dev, hexkey):
    return dev.peers[bytes.fromhex(hexkey)]


def nets(dev, hexkey):
    return [str(n) for n in dev.allowed_ips.networks_of(peer(dev, hexkey))]


def test_empty_device_get_is_just_errno(dev):
    assert p.render_get(dev) == "errno=0\n\n"


def test_full_get_has_wireguard_go_keys_in_order(dev, net):
    assert uapi_set(dev, f"private_key={PRIV_A}", "listen_port=51820", "fwmark=7",
                    f"public_key={PK1}", f"preshared_key={PSK}", "endpoint=[fd00::2]:51821",
                    "persistent_keepalive_interval=25", "allowed_ip=10.9.0.0/24",
                    "allowed_ip=fd00:9::5/128", f"public_key={PK2}", net=net) == 0
    # turning on the keepalive sends at once (a handshake initiation): tx_bytes varies
    lines = [line if not line.startswith("tx_bytes=") else "tx_bytes=N"
             for line in get_lines(dev)]
    assert lines == [
        f"private_key={PRIV_A}", "listen_port=51820", "fwmark=7",
        f"public_key={PK1}", f"preshared_key={PSK}", "protocol_version=1",
        "endpoint=[fd00::2]:51821", "last_handshake_time_sec=0", "last_handshake_time_nsec=0",
        "tx_bytes=N", "rx_bytes=0", "persistent_keepalive_interval=25",
        "allowed_ip=10.9.0.0/24", "allowed_ip=fd00:9::5/128",
        f"public_key={PK2}", f"preshared_key={ZERO}", "protocol_version=1",
        "last_handshake_time_sec=0", "last_handshake_time_nsec=0",
        "tx_bytes=N", "rx_bytes=0", "persistent_keepalive_interval=0"]
    assert net.calls == [(51820, 7)]


def test_last_handshake_is_absolute_epoch(dev):
    uapi_set(dev, f"public_key={PK1}")
    peer(dev, PK1).last_handshake_wall = 1_700_000_123.5
    lines = get_lines(dev)
    assert "last_handshake_time_sec=1700000123" in lines
    assert "last_handshake_time_nsec=500000000" in lines


def test_private_key_sets_public_key_and_zero_clears(dev):
    uapi_set(dev, f"private_key={PRIV_A}")
    assert dev.private_key == bytes.fromhex(PRIV_A) and dev.public_key
    uapi_set(dev, f"private_key={ZERO}")
    assert dev.private_key is None
    assert not any(line.startswith("private_key") for line in get_lines(dev))


def test_identical_private_key_keeps_peer_objects(dev):
    uapi_set(dev, f"private_key={PRIV_A}", f"public_key={PK1}")
    before = peer(dev, PK1)
    uapi_set(dev, f"private_key={PRIV_A}", f"public_key={PK1}")
    assert peer(dev, PK1) is before


def test_identical_listen_port_and_fwmark_do_not_rebind(dev, net):
    uapi_set(dev, "listen_port=51820", "fwmark=3", net=net)
    uapi_set(dev, "listen_port=51820", "fwmark=3", net=net)
    assert net.calls == [(51820, 3)]


def test_listen_port_zero_keeps_the_bound_port(dev, net):
    uapi_set(dev, "listen_port=51820", net=net)
    uapi_set(dev, "listen_port=0", "fwmark=0", net=net)
    assert dev.listen_port == 51820 and net.calls == [(51820, 0)]


def test_listen_port_zero_on_unbound_device_asks_for_any_port(dev, net):
    dev.listen_port, dev.fwmark = 0, 0
    assert uapi_set(dev, "fwmark=1", net=net) == 0
    assert net.calls == [(0, 1)] and dev.listen_port == 40000


def test_bind_failure_is_eaddrinuse_and_changes_nothing(dev, net):
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=10.0.0.0/8")
    before = p.render_get(dev)
    net.fail = True
    assert uapi_set(dev, f"private_key={PRIV_A}", "listen_port=1", "replace_peers=true",
                    f"public_key={PK2}", net=net) == -p.EADDRINUSE
    assert p.render_get(dev) == before


@pytest.mark.parametrize("bad_line", ["allowed_ip=10.0.0.0/33", "endpoint=nowhere:1",
                                      "remove=yes", "listen_port=1", "oops"])
def test_bad_line_anywhere_changes_nothing(dev, net, bad_line):
    uapi_set(dev, f"private_key={PRIV_A}", f"public_key={PK1}", "allowed_ip=10.0.0.0/8")
    before = p.render_get(dev)
    answer = uapi_set(dev, "private_key=" + "09" * 32, "listen_port=4000", "replace_peers=true",
                      f"public_key={PK2}", "allowed_ip=10.1.0.0/16", bad_line, net=net)
    assert answer in (-p.EINVAL, -p.EPROTO)
    assert p.render_get(dev) == before and net.calls == []


def test_replace_peers(dev):
    uapi_set(dev, f"public_key={PK1}", f"public_key={PK2}")
    uapi_set(dev, "replace_peers=true", f"public_key={PK3}")
    assert list(dev.peers) == [bytes.fromhex(PK3)]


def test_existing_peer_is_updated_in_place(dev):
    uapi_set(dev, f"public_key={PK1}", "endpoint=10.0.0.1:1", "allowed_ip=10.1.0.0/16")
    before = peer(dev, PK1)
    uapi_set(dev, f"public_key={PK1}", f"preshared_key={PSK}")
    assert peer(dev, PK1) is before
    assert before.endpoint == ("10.0.0.1", 1) and nets(dev, PK1) == ["10.1.0.0/16"]
    assert before.preshared_key == bytes.fromhex(PSK)
    uapi_set(dev, f"public_key={PK1}", f"preshared_key={ZERO}")
    assert before.preshared_key in (None, bytes(32))


def test_remove_ignores_rest_of_section(dev):
    uapi_set(dev, f"public_key={PK1}", f"public_key={PK2}")
    uapi_set(dev, f"public_key={PK1}", "remove=true", "allowed_ip=10.0.0.0/8")
    assert list(dev.peers) == [bytes.fromhex(PK2)]
    assert dev.allowed_ips.networks_of(peer(dev, PK2)) == []


def test_update_only_does_not_create(dev):
    uapi_set(dev, f"public_key={PK1}", "update_only=true", "allowed_ip=10.0.0.0/8")
    assert len(dev.peers) == 0


def test_update_only_updates_existing(dev):
    uapi_set(dev, f"public_key={PK1}")
    uapi_set(dev, f"public_key={PK1}", "update_only=true", "persistent_keepalive_interval=5")
    assert peer(dev, PK1).persistent_keepalive_interval == 5


def test_own_public_key_is_ignored(dev):
    uapi_set(dev, f"private_key={PRIV_A}")
    own = dev.public_key.hex()
    assert uapi_set(dev, f"public_key={own}", "allowed_ip=10.0.0.0/8", f"public_key={PK1}") == 0
    assert list(dev.peers) == [bytes.fromhex(PK1)]


def test_private_key_equal_to_a_peer_removes_that_peer(dev):
    uapi_set(dev, f"private_key={PRIV_A}")
    own = dev.public_key.hex()
    uapi_set(dev, f"private_key={ZERO}", f"public_key={own}", f"public_key={PK1}")
    assert uapi_set(dev, f"private_key={PRIV_A}") == 0
    assert list(dev.peers) == [bytes.fromhex(PK1)]


def test_replace_allowed_ips_applies_at_its_position(dev):
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=10.1.0.0/16", "allowed_ip=10.2.0.0/16")
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=10.3.0.0/16", "replace_allowed_ips=true",
             "allowed_ip=10.4.0.0/16")
    assert nets(dev, PK1) == ["10.4.0.0/16"]


def test_allowed_ip_moves_between_peers_and_minus_removes(dev):
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=10.1.0.0/16", "allowed_ip=fd00::/64")
    uapi_set(dev, f"public_key={PK2}", "allowed_ip=10.1.0.0/16")
    assert nets(dev, PK1) == ["fd00::/64"] and nets(dev, PK2) == ["10.1.0.0/16"]
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=-10.1.0.0/16", "allowed_ip=-fd00::/64")
    assert nets(dev, PK1) == [] and nets(dev, PK2) == ["10.1.0.0/16"]


def test_keepalive_and_endpoint(dev):
    uapi_set(dev, f"public_key={PK1}", "persistent_keepalive_interval=25",
             "endpoint=10.0.0.1:51820")
    assert peer(dev, PK1).persistent_keepalive_interval == 25
    uapi_set(dev, f"public_key={PK1}", "persistent_keepalive_interval=0",
             "endpoint=[fd00::1]:1")
    assert peer(dev, PK1).persistent_keepalive_interval == 0
    assert peer(dev, PK1).endpoint == ("fd00::1", 1)


def test_get_allowed_ips_always_have_a_length(dev):
    uapi_set(dev, f"public_key={PK1}", "allowed_ip=10.0.0.1/32", "allowed_ip=::/0")
    assert [x for x in get_lines(dev) if x.startswith("allowed_ip")] == [
        "allowed_ip=10.0.0.1/32", "allowed_ip=::/0"]
    assert ipaddress.ip_network("::/0") in dev.allowed_ips.networks_of(peer(dev, PK1))


_LINE = st.one_of(
    st.sampled_from([f"private_key={PRIV_A}", f"private_key={ZERO}", "listen_port=51820",
                     "listen_port=0", "fwmark=9", "replace_peers=true", f"public_key={PK1}",
                     f"public_key={PK2}", "remove=true", "update_only=true",
                     f"preshared_key={PSK}", "endpoint=10.0.0.1:9", "endpoint=[fd00::1]:9",
                     "persistent_keepalive_interval=0", "replace_allowed_ips=true",
                     "allowed_ip=10.0.0.0/8", "allowed_ip=-10.0.0.0/8", "allowed_ip=::/0"]),
    st.text(max_size=80).filter(lambda text: "\n" not in text))


@settings(max_examples=100)
@given(prefix=st.lists(_LINE, max_size=8), request=st.lists(_LINE, min_size=1, max_size=12))
def test_any_request_answers_errno_and_a_refused_one_changes_nothing(prefix, request):
    dev = device.Device(rng=lambda n: b"\x42" * n, wall_clock=lambda: 1_700_000_000.0)
    p.handle_set(dev, prefix, NOW)
    before = p.render_get(dev)
    answer = p.handle_set(dev, request, NOW)
    assert answer in (0, -p.EINVAL, -p.EPROTO)
    if answer:
        assert p.render_get(dev) == before
