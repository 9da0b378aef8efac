"""TAI64N encoding, whitening and our monotonic guarantee."""

from wgpy.protocol import tai64n


def test_encoding_and_whitening():
    ts = tai64n.from_wall(1_700_000_000.123456789)
    assert int.from_bytes(ts[:8], "big") == (1 << 62) + 10 + 1_700_000_000
    ns = int.from_bytes(ts[8:], "big")
    assert ns % (1 << 24) == 0 and ns <= 123456789 < ns + (1 << 24)


def test_order_is_bytes_order():
    assert tai64n.is_after(tai64n.from_wall(2.0), tai64n.from_wall(1.99))
    assert not tai64n.is_after(tai64n.from_wall(1.0), tai64n.from_wall(1.001))   # same bucket


def test_successor_carries_into_seconds():
    last = tai64n.pack(5, 59 * (1 << 24))
    assert tai64n.successor(last) == tai64n.pack(6, 0)
    assert tai64n.successor(tai64n.pack(5, 0)) == tai64n.pack(5, 1 << 24)


def test_monotonic_survives_clock_going_back():
    first = tai64n.monotonic(1_700_000_000.0, None)
    second = tai64n.monotonic(1_600_000_000.0, first)
    third = tai64n.monotonic(1_700_000_000.0, second)
    assert first < second < third
    assert tai64n.monotonic(1_800_000_000.0, third) == tai64n.from_wall(1_800_000_000.0)
