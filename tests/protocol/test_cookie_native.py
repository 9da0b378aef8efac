"""The C cookie path (core/cookie.c) against protocol/cookie.py and ratelimiter.py."""

import ipaddress
import random

import pytest

from wgpy import handshake_native as hn
from wgpy.protocol import cookie, messages
from wgpy.protocol.ratelimiter import RateLimiter

from wgtestlib import make_keypair, make_rng


def _signed(rng, pub, kind):
    """A handshake datagram of kind with a correct mac1 for pub."""
    body = (messages.Initiation(0x1234ABCD, rng(32), rng(48), rng(28)) if kind == 1 else
            messages.Response(0x5678, 0x9ABC, rng(32), rng(16))).pack()
    return cookie.CookieGenerator(pub).add_macs(body, 0.0)


@pytest.mark.parametrize("kind", [1, 2])
def test_mac1_agrees(kind):
    rng = make_rng(kind)
    _, pub = make_keypair(rng)
    checker = cookie.CookieChecker(rng)
    checker.init(pub)
    mac1_key, cookie_key = hn.cookie_keys(pub)
    assert (mac1_key, cookie_key) == (cookie.mac1_key(pub), cookie.cookie_key(pub))
    data = _signed(rng, pub, kind)
    for i in range(0, len(data) - 16):      # every byte that mac1 covers, and mac1 itself
        bad = data[:i] + bytes([data[i] ^ 0x40]) + data[i + 1:]
        assert hn.mac1_ok(bad, mac1_key) is checker.check_mac1(bad) is False
    assert hn.mac1_ok(data, mac1_key) is checker.check_mac1(data) is True


@pytest.mark.parametrize("addr", [("192.0.2.7", 51820), ("2001:db8::5", 1), ("10.1.2.3", 65535)])
def test_cookie_reply_and_mac2_byte_for_byte(addr):
    """Same secret and nonce source: identical reply bytes, and the cookie the reply
    carries makes a mac2 both sides accept."""
    seed = 77
    rng_py, rng_c = make_rng(seed), make_rng(seed)
    _, pub = make_keypair(make_rng(1))
    checker = cookie.CookieChecker(rng_py)
    checker.init(pub)
    data = _signed(make_rng(2), pub, 1)
    reply = checker.create_reply(data, 0x1234ABCD, addr, 10.0).pack()
    secret, nonce = rng_c(32), rng_c(24)        # create_reply draws the secret, then the nonce
    packed = ipaddress.ip_address(addr[0]).packed
    _, cookie_key = hn.cookie_keys(pub)
    assert hn.cookie_reply(data, cookie_key, secret, packed, addr[1], nonce) == reply
    gen = cookie.CookieGenerator(pub)
    gen.add_macs(data[:-32] + bytes(32), 10.0)
    assert gen.consume_reply(messages.parse(reply), 10.0)
    with_mac2 = gen.add_macs(data[:-32] + bytes(32), 10.5)
    assert checker.check_mac2(with_mac2, addr, 10.5)
    assert hn.mac2_ok(with_mac2, secret, packed, addr[1])
    other_port = addr[1] ^ 1
    assert not checker.check_mac2(with_mac2, (addr[0], other_port), 10.5)
    assert not hn.mac2_ok(with_mac2, secret, packed, other_port)
    assert not hn.mac2_ok(data, secret, packed, addr[1])        # zero mac2


def test_ratelimiter_verdicts_agree():
    """A random stream from a few sources, bursts and pauses: the same verdict per packet."""
    r = random.Random(5)
    sources = [ipaddress.ip_address(f"10.0.0.{i}").packed for i in range(1, 6)]
    sources.append(ipaddress.ip_address("2001:db8::1").packed)
    py, c = RateLimiter(), hn.RateLimiter(r.getrandbits(64))
    now, verdicts = 100.0, []
    for _ in range(5000):
        now += r.choice([0.0, 0.0001, 0.001, 0.01, 0.05, 0.3, 1.5])
        src = r.choice(sources)
        a, b = py.allow(src, now), c.allow(src, now)
        assert a == b, (src, now)
        verdicts.append(a)
    assert True in verdicts and False in verdicts


def test_ratelimiter_burst_then_rate():
    c = hn.RateLimiter(1)
    src = bytes([192, 0, 2, 1])
    assert [c.allow(src, 1.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert c.allow(src, 1.05) and not c.allow(src, 1.05)
    assert c.allow(bytes([192, 0, 2, 2]), 1.05)             # another source: its own bucket


def test_ratelimiter_full_table_refuses_new_sources():
    c = hn.RateLimiter(3)
    admitted = sum(c.allow(i.to_bytes(4, "big"), 5.0) for i in range(1, 3 * 4096))
    assert 3000 < admitted <= 4096                          # never more entries than slots
    assert c.allow((1 << 30).to_bytes(4, "big"), 6.5)       # a second later every slot is free
