"""UAPI set parsing: every key's accepted and refused forms, as wireguard-go's uapi.go."""

import ipaddress

import pytest

from wgpy.uapi import text as p

KEY = "a8" * 32
ZERO = "00" * 32


def parse_one_peer_op(line):
    request = p.parse_set([f"public_key={KEY}", line])
    assert len(request.peers) == 1
    return request.peers[0].ops


def errno_of(lines):
    with pytest.raises(p.UapiError) as info:
        p.parse_set(lines)
    return info.value.errno


def test_device_keys_parse_in_order():
    request = p.parse_set([f"private_key={KEY}", "listen_port=51820", "fwmark=4294967295",
                           "replace_peers=true"])
    assert request.device_ops == [p.SetPrivateKey(p.clamp_private_key(bytes.fromhex(KEY))),
                                  p.SetListenPort(51820), p.SetFwmark(2**32 - 1),
                                  p.ReplacePeers()]
    assert request.peers == []


def test_private_key_is_clamped_and_zero_clears():
    op = p.parse_set(["private_key=" + "ff" * 32]).device_ops[0]
    assert op.key[0] == 0xF8 and op.key[31] == 0x7F
    assert p.parse_set([f"private_key={ZERO}"]).device_ops == [p.SetPrivateKey(None)]


def test_upper_case_hex_is_accepted():
    assert p.parse_set([f"public_key={KEY.upper()}"]).peers[0].public_key == bytes.fromhex(KEY)


@pytest.mark.parametrize("value", ["", "a8" * 31, "a8" * 33, "g8" + "a8" * 31,
                                   "a8 " + "a8" * 30 + "a", "+8" + "a8" * 31])
@pytest.mark.parametrize("key", ["private_key", "public_key"])
def test_bad_keys_are_einval(key, value):
    assert errno_of([f"{key}={value}"]) == p.EINVAL


@pytest.mark.parametrize("line", ["listen_port=65536", "listen_port=-1", "listen_port=+1",
                                  "listen_port= 1", "listen_port=1_0", "listen_port=",
                                  "listen_port=0x10", "fwmark=4294967296", "fwmark=on",
                                  "replace_peers=false", "replace_peers=1",
                                  "endpoint=1.2.3.4:5", "persistent_keepalive_interval=1",
                                  "jc=3"])
def test_bad_device_lines_are_einval(line):
    assert errno_of([line]) == p.EINVAL


def test_line_without_equals_is_eproto():
    assert errno_of(["listen_port"]) == p.EPROTO
    assert errno_of([f"public_key={KEY}", "remove"]) == p.EPROTO


def test_every_peer_key():
    ops = p.parse_set([f"public_key={KEY}", "update_only=true", f"preshared_key={KEY}",
                       "endpoint=192.0.2.1:51820", "persistent_keepalive_interval=25",
                       "replace_allowed_ips=true", "allowed_ip=10.0.0.1/24",
                       "allowed_ip=-fd00::/64", "protocol_version=1", "remove=true"]).peers[0].ops
    assert ops == [p.UpdateOnly(), p.SetPresharedKey(bytes.fromhex(KEY)),
                   p.SetEndpoint(("192.0.2.1", 51820)), p.SetKeepalive(25),
                   p.ReplaceAllowedIps(), p.AddAllowedIp(ipaddress.ip_network("10.0.0.0/24")),
                   p.RemoveAllowedIp(ipaddress.ip_network("fd00::/64")), p.RemovePeer()]


def test_zero_psk_means_none():
    assert parse_one_peer_op(f"preshared_key={ZERO}") == [p.SetPresharedKey(None)]


@pytest.mark.parametrize("text, expected", [
    ("10.1.2.3:1", ("10.1.2.3", 1)),
    ("[fd00::0001]:65535", ("fd00::1", 65535)),
    ("[::ffff:10.1.2.3]:7", ("10.1.2.3", 7)),  # our IPv6 socket is V6ONLY
    ("0.0.0.0:0", ("0.0.0.0", 0)),
])
def test_endpoints(text, expected):
    assert parse_one_peer_op(f"endpoint={text}") == [p.SetEndpoint(expected)]


@pytest.mark.parametrize("text", ["10.1.2.3", "10.1.2.3:", "10.1.2.3:65536", "fd00::1:5",
                                  "[10.1.2.3]:5", "example.com:51820", "[fd00::1]", ":5",
                                  "10.1.2.3:+5", "010.1.2.3:5"])
def test_bad_endpoints_are_einval(text):
    assert errno_of([f"public_key={KEY}", f"endpoint={text}"]) == p.EINVAL


@pytest.mark.parametrize("text, expected", [
    ("10.1.2.3/24", "10.1.2.0/24"), ("0.0.0.0/0", "0.0.0.0/0"), ("fd00::1/128", "fd00::1/128"),
    ("fd00:1:8002::9/33", "fd00:1:8000::/33"), ("10.0.0.1/32", "10.0.0.1/32")])
def test_allowed_ips_are_masked(text, expected):
    assert parse_one_peer_op(f"allowed_ip={text}") == [
        p.AddAllowedIp(ipaddress.ip_network(expected))]


@pytest.mark.parametrize("text", ["10.0.0.1", "10.0.0.0/33", "fd00::/129", "10.0.0.0/255.0.0.0",
                                  "10.0.0.0/+8", "10.0.0.0/ 8", "fe80::1%eth0/64", "/8", "x/8",
                                  "--10.0.0.0/8"])
def test_bad_allowed_ips_are_einval(text):
    assert errno_of([f"public_key={KEY}", f"allowed_ip={text}"]) == p.EINVAL


@pytest.mark.parametrize("line", ["update_only=false", "remove=1", "replace_allowed_ips=yes",
                                  "protocol_version=2", "listen_port=1", "private_key=" + KEY,
                                  "persistent_keepalive_interval=65536", "bogus=1"])
def test_bad_peer_lines_are_einval(line):
    assert errno_of([f"public_key={KEY}", line]) == p.EINVAL


def test_protocol_version_1_is_accepted_and_does_nothing():
    assert parse_one_peer_op("protocol_version=1") == []


def test_error_messages_never_contain_keys():
    for lines in (["private_key=" + "ab" * 31 + "zz"], ["preshared_key=" + KEY[:-1]],
                  [f"public_key={KEY}", f"preshared_key={KEY}x"]):
        with pytest.raises(p.UapiError) as info:
            p.parse_set(lines)
        assert "ab" * 8 not in str(info.value) and "a8" * 8 not in str(info.value)


def test_format_endpoint():
    assert p.format_endpoint("10.0.0.1", 5) == "10.0.0.1:5"
    assert p.format_endpoint("fd00::1", 5) == "[fd00::1]:5"
