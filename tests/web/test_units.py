"""The pure helpers behind the API: wg-quick parsing and writing, address allocation,
field validation."""

import ipaddress

import pytest

from wgpy.web import alloc, validate, wgquick
from wgpy.web.validate import FieldError

KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
nets = lambda *t: [ipaddress.ip_network(x) for x in t]  # noqa: E731
ifaces = lambda *t: [ipaddress.ip_interface(x) for x in t]  # noqa: E731


def test_parse_provider_config():
    conf = wgquick.parse(f"""
[Interface]  # comment
privatekey = {KEY}
Address = 10.2.0.2/32
Address = fd00::2/128
DNS = 10.2.0.1, example.lan
MTU = 1380
Table = off

[Peer]
PublicKey = {KEY}
AllowedIPs = 0.0.0.0/0,::/0
Endpoint = [2001:db8::1]:443
PersistentKeepalive = off
""")
    assert conf.addresses == ["10.2.0.2/32", "fd00::2/128"] and conf.mtu == 1380
    assert conf.dns == ["10.2.0.1"] and conf.dns_search == ["example.lan"]
    peer = conf.peers[0]
    assert (peer.endpoint_host, peer.endpoint_port, peer.persistent_keepalive) == \
        ("2001:db8::1", 443, None)
    assert peer.allowed_ips == ["0.0.0.0/0", "::/0"]
    assert conf.warnings == ["line 8: 'table' is not used by wgpy, ignored"]


@pytest.mark.parametrize("text,message", [
    ("[Peer]\nPublicKey = x\n", "line 2: PublicKey"),
    (f"[Peer]\nPublicKey = {KEY}\nEndpoint = host:99999\n", "line 3: Endpoint port"),
    (f"[Peer]\nPublicKey = {KEY}\nAllowedIPs = 10.0.0.0/33\n", "line 3: AllowedIPs"),
    ("[Peer]\nAllowedIPs = 10.0.0.0/8\n", "line 1: [Peer] without PublicKey"),
    (f"[Interface]\n[Interface]\n[Peer]\nPublicKey = {KEY}\n", "more than one"),
    ("[Wat]\n", "unknown section"),
    ("Key = value\n", "line 1"),
])
def test_parse_errors(text, message):
    with pytest.raises(FieldError) as err:
        wgquick.parse(text)
    assert err.value.field == "config" and message in err.value.message


def test_render_client_round_trips():
    text = wgquick.render_client(KEY, ["10.0.0.2/32"], ["10.0.0.1"], KEY, KEY,
                                 ["0.0.0.0/0", "::/0"], "[2001:db8::1]:51820", 25)
    conf = wgquick.parse(text)
    assert conf.private_key == KEY and conf.addresses == ["10.0.0.2/32"]
    assert conf.peers[0].endpoint_host == "2001:db8::1" and conf.peers[0].persistent_keepalive == 25


def test_next_free_skips_used_and_own():
    own = ifaces("10.66.0.1/24", "fd66::1/64")
    assert alloc.next_free(own, []) == ["10.66.0.2/32", "fd66::2/128"]
    used = nets("10.66.0.2/32", "fd66::3/128", "10.66.0.4/31", "0.0.0.0/0")
    assert alloc.next_free(own, used) == ["10.66.0.6/32", "fd66::6/128"]
    assert alloc.next_free(ifaces("10.1.1.1/30"), nets("10.1.1.2/32")) == []  # full
    assert alloc.next_free([], []) == []


def test_validation_helpers():
    assert validate.networks({"a": "10.0.0.1, fd00::/64"}, "a") == nets("10.0.0.1/32", "fd00::/64")
    assert validate.host({"h": "[fd00::1]"}, "h") == "fd00::1"
    assert validate.integer({"listen_port": "51820"}, "listen_port") == 51820
    for value in (True, "x", 0, 65536):
        with pytest.raises(FieldError):
            validate.integer({"listen_port": value}, "listen_port")
    assert validate.overlapping(nets("10.0.0.0/24"), {"a": nets("10.0.0.5/32")}) == \
        "10.0.0.0/24 overlaps 10.0.0.5/32 of peer 'a'"
    assert validate.overlapping(nets("0.0.0.0/0"), {"a": nets("10.0.0.5/32")}) is None
    with pytest.raises(FieldError):
        validate.ifname({"n": "9bad"}, "n")
