"""Per-source token bucket: 20 packets/s, burst 5 (wireguard-go ratelimiter_test.go's shape)."""

from wgpy.protocol.ratelimiter import RateLimiter


def test_burst_then_refill():
    rl = RateLimiter()
    assert [rl.allow("192.0.2.1", 10.0) for _ in range(6)] == [True] * 5 + [False]
    assert not rl.allow("192.0.2.1", 10.0 + 0.049)
    assert rl.allow("192.0.2.1", 10.0 + 0.05)           # one packet's worth refilled
    assert not rl.allow("192.0.2.1", 10.0 + 0.05)


def test_sources_are_independent():
    rl = RateLimiter()
    for _ in range(5):
        rl.allow("192.0.2.1", 1.0)
    assert not rl.allow("192.0.2.1", 1.0)
    assert rl.allow("2001:db8::1", 1.0)


def test_steady_rate_20_per_second():
    rl = RateLimiter()
    allowed = sum(rl.allow("a", 100.0 + i * 0.01) for i in range(1000))   # 100/s for 10 s
    assert 5 + 20 * 10 - 2 <= allowed <= 5 + 20 * 10 + 1


def test_idle_entries_are_collected():
    rl = RateLimiter()
    rl.allow("a", 1.0)
    rl.allow("b", 1.5)
    rl.allow("c", 3.0)
    assert len(rl) == 1
