"""The RX worker's handshake gate (dp_cookie.c): mac1 drops, cookie replies under load, the
per-source rate limit, all with the Device's key and secret, so its replies are the ones
protocol/cookie.py makes and its cookies pass cookie.py's mac2 check."""

import os
import select
import time

from wgpy import crypto
from wgpy.protocol import cookie, messages
from wgpy.protocol.constants import UNDER_LOAD_HANDSHAKES_PER_SECOND
from wgpy.protocol.device import Device


def _keys():
    priv = crypto.generate_private_key()
    return crypto.public_key(priv)


def _initiation(gen, sender_index, now=0.0):
    body = messages.Initiation(sender_index, os.urandom(32), os.urandom(48),
                               os.urandom(28)).pack()
    return gen.add_macs(body, now)


def _stat(side, name, want, timeout=2.0):
    deadline = time.monotonic() + timeout
    while side.dp.stats()[name] < want and time.monotonic() < deadline:
        time.sleep(0.01)
    return side.dp.stats()[name]


def _drain(side):
    out = []
    while select.select([side.dp.event_fd()], [], [], 0.2)[0]:
        try:
            os.read(side.dp.event_fd(), 8)
        except BlockingIOError:
            pass
        got = side.dp.upcalls()
        if not got:
            break
        out += got
    return out


def test_without_a_key_everything_goes_up(side, sender):
    gen = cookie.CookieGenerator(_keys())
    sender.sendto(_initiation(gen, 1), ("127.0.0.1", side.port))
    assert len(_drain(side)) == 1


def test_wrong_mac1_dropped_right_mac1_goes_up(side, sender):
    pub = _keys()
    side.dp.set_cookie(pub, os.urandom(32), time.monotonic_ns())
    good = _initiation(cookie.CookieGenerator(pub), 1)
    bad = _initiation(cookie.CookieGenerator(_keys()), 2)
    sender.sendto(bad, ("127.0.0.1", side.port))
    sender.sendto(good, ("127.0.0.1", side.port))
    assert _stat(side, "hs_mac1", 1) == 1
    assert [data for _, data, _, _ in _drain(side)] == [good]


def _flood_until_loaded(side, sender, gen):
    for i in range(UNDER_LOAD_HANDSHAKES_PER_SECOND):
        sender.sendto(_initiation(gen, 1000 + i), ("127.0.0.1", side.port))
    _drain(side)


def test_under_load_cookie_reply_then_mac2_then_rate_limit(side, sender):
    rng_secret = os.urandom(32)
    pub = _keys()
    checker = cookie.CookieChecker(lambda n: rng_secret if n == 32 else os.urandom(n))
    checker.init(pub)
    now = time.monotonic()
    checker.refresh(now)
    secret, drawn = checker.secret
    side.dp.set_cookie(pub, secret, int(drawn * 1e9))
    gen = cookie.CookieGenerator(pub)
    _flood_until_loaded(side, sender, gen)
    # device.py's rule: the 128th message within a second is the first one under load.
    dev = Device()
    assert [dev._is_under_load(0.0) for _ in range(UNDER_LOAD_HANDSHAKES_PER_SECOND)] == \
        [False] * (UNDER_LOAD_HANDSHAKES_PER_SECOND - 1) + [True]
    assert _stat(side, "hs_cookie_sent", 1) == 1
    sender.sendto(_initiation(gen, 7, time.monotonic()), ("127.0.0.1", side.port))
    reply = messages.parse(sender.recv(100))
    assert reply.receiver == 1000 + UNDER_LOAD_HANDSHAKES_PER_SECOND - 1
    reply = messages.parse(sender.recv(100))
    assert reply.receiver == 7
    assert isinstance(reply, messages.CookieReply)
    assert gen.consume_reply(reply, time.monotonic())
    assert _drain(side) == []                            # answered in C, nothing went up
    # With the cookie, mac2 is valid for cookie.py too, and 5 (the burst) pass the limiter.
    passed = [_initiation(gen, 100 + i, time.monotonic()) for i in range(8)]
    assert all(checker.check_mac2(m, sender.getsockname(), time.monotonic()) for m in passed)
    for m in passed:
        sender.sendto(m, ("127.0.0.1", side.port))
    assert _stat(side, "hs_ratelimited", 3) == 3
    assert [data for _, data, _, _ in _drain(side)] == passed[:5]


def test_a_stale_secret_leaves_the_reply_to_python(side, sender):
    pub = _keys()
    side.dp.set_cookie(pub, os.urandom(32), time.monotonic_ns() - 121 * 10**9)
    gen = cookie.CookieGenerator(pub)
    _flood_until_loaded(side, sender, gen)
    msg = _initiation(gen, 9)
    sender.sendto(msg, ("127.0.0.1", side.port))
    assert msg in [data for _, data, _, _ in _drain(side)]
    assert side.dp.stats()["hs_cookie_sent"] == 0
