"""MAC1/MAC2 and cookie replies; mac1 cross-checked with hashlib (tests only)."""

import hashlib
import ipaddress

from wgpy.protocol import cookie, messages
from wgpy.protocol.constants import COOKIE_REFRESH_TIME
from wgpy.protocol.device import Device

from wgtestlib import FakeClock, ipv4_packet, make_keypair, make_rng

ADDR = ("192.0.2.5", 4444)


def _message():
    return messages.Initiation(0xABCD, b"e" * 32, b"s" * 48, b"t" * 28).pack()


def _checker_and_generator(rng):
    _, pub = make_keypair(rng)
    checker = cookie.CookieChecker(rng)
    checker.init(pub)
    return pub, checker, cookie.CookieGenerator(pub)


def test_mac1_matches_hashlib(rng):
    pub, checker, gen = _checker_and_generator(rng)
    data = gen.add_macs(_message(), 0.0)
    key = hashlib.blake2s(b"mac1----" + pub).digest()
    assert data[-32:-16] == hashlib.blake2s(data[:-32], digest_size=16, key=key).digest()
    assert data[-16:] == bytes(16)                   # no cookie yet
    assert checker.check_mac1(data)
    assert not checker.check_mac1(data[:5] + b"\0" + data[6:])


def test_mac1_wrong_key_fails(rng):
    _, checker, _ = _checker_and_generator(rng)
    _, other = make_keypair(rng)
    assert not checker.check_mac1(cookie.CookieGenerator(other).add_macs(_message(), 0.0))


def test_cookie_reply_round_trip_gives_valid_mac2(rng):
    _, checker, gen = _checker_and_generator(rng)
    now = 50.0
    sent = gen.add_macs(_message(), now)
    assert checker.validate(sent, ADDR, now) is cookie.MacVerdict.VALID_BUT_NO_COOKIE
    reply = checker.create_reply(sent, 0xABCD, ADDR, now)
    parsed = messages.parse(reply.pack())
    assert parsed.receiver == 0xABCD
    assert gen.consume_reply(parsed, now)
    again = gen.add_macs(_message(), now + 1)
    assert again[-16:] != bytes(16)
    assert checker.validate(again, ADDR, now + 1) is cookie.MacVerdict.VALID_WITH_COOKIE
    assert not checker.check_mac2(again, ("192.0.2.6", 4444), now + 1)   # cookie is per source
    assert not checker.check_mac2(again, (ADDR[0], 4445), now + 1)       # ... and port


def test_cookie_reply_bound_to_last_mac1(rng):
    _, checker, gen = _checker_and_generator(rng)
    assert not gen.consume_reply(checker.create_reply(_message(), 1, ADDR, 0.0), 0.0)
    gen.add_macs(_message(), 0.0)
    other = messages.Initiation(1, b"x" * 32, b"s" * 48, b"t" * 28).pack()
    stale = checker.create_reply(cookie.CookieGenerator(b"q" * 32).add_macs(other, 0.0), 1, ADDR, 0.0)
    assert not gen.consume_reply(stale, 0.0)


def test_cookie_expires_and_secret_rotates(rng):
    _, checker, gen = _checker_and_generator(rng)
    sent = gen.add_macs(_message(), 0.0)
    gen.consume_reply(checker.create_reply(sent, 1, ADDR, 0.0), 0.0)
    assert gen.add_macs(_message(), COOKIE_REFRESH_TIME + 1)[-16:] == bytes(16)
    fresh = gen.add_macs(_message(), 10.0)
    assert checker.check_mac2(fresh, ADDR, 10.0)
    assert not checker.check_mac2(fresh, ADDR, COOKIE_REFRESH_TIME + 1)   # secret too old
    checker.create_reply(fresh, 1, ADDR, COOKIE_REFRESH_TIME + 1)          # rotates it
    assert not checker.check_mac2(fresh, ADDR, COOKIE_REFRESH_TIME + 2)


def test_mac2_required_under_load(rng):
    """A valid initiation without mac2 gets only a cookie reply while the device is loaded."""
    clock = FakeClock()
    a, b = Device(make_rng(1), clock.wall), Device(make_rng(2), clock.wall)
    a_priv, a_pub = make_keypair(rng)
    b_priv, b_pub = make_keypair(rng)
    a.set_private_key(a_priv, clock.now)
    b.set_private_key(b_priv, clock.now)
    pb, pa = a.add_peer(b_pub, clock.now), b.add_peer(a_pub, clock.now)
    pb.set_endpoint(("198.51.100.2", 1))
    a.allowed_ips.insert(ipaddress.ip_network("10.0.0.0/24"), pb)
    a.receive_packet(ipv4_packet("10.1.0.1", "10.0.0.9"), clock.now)
    (initiation, _), = a.datagrams_to_send()
    for i in range(b.under_load_threshold - 1):   # flood of junk handshakes with bad mac1
        b.receive_datagram(b"\x01\0\0\0" + bytes(144), ("203.0.113.1", i), clock.now)
    assert b.drops["mac1"] == b.under_load_threshold - 1
    b.receive_datagram(initiation, ("192.0.2.1", 5), clock.now)
    (reply, dst), = b.datagrams_to_send()
    assert dst == ("192.0.2.1", 5) and messages.message_type(reply) == messages.MessageType.COOKIE_REPLY
    assert pa.keypairs.next is None
    a.receive_datagram(reply, dst, clock.now)
    assert a.drops["cookie_invalid"] == 0
    assert pb.cookie_generator._cookie is not None
