"""TAI64N timestamps for handshake initiations (wireguard-go tai64n/).

12 bytes, big-endian: seconds + 2^62 + 10, then nanoseconds rounded down to
a multiple of 2^24 ("whitening"). Big-endian means plain `bytes` comparison
orders timestamps, which is all the responder needs. No clock is read here.
"""

import math

TAI64_BASE = (1 << 62) + 10
WHITENER_NS = 1 << 24
NS_PER_S = 1_000_000_000
ZERO = bytes(12)


def pack(seconds: int, nanoseconds: int) -> bytes:
    """Encode raw TAI64 seconds and nanoseconds."""
    return seconds.to_bytes(8, "big") + nanoseconds.to_bytes(4, "big")


def from_wall(wall_s: float) -> bytes:
    """The whitened timestamp for UNIX time wall_s (as tai64n.Now())."""
    wall_s = max(0.0, wall_s)
    secs = math.floor(wall_s)
    ns = min(int((wall_s - secs) * NS_PER_S), NS_PER_S - 1)
    return pack(TAI64_BASE + secs, ns & ~(WHITENER_NS - 1))


def successor(ts: bytes) -> bytes:
    """The smallest whitened timestamp strictly after ts."""
    secs = int.from_bytes(ts[:8], "big")
    ns = (int.from_bytes(ts[8:], "big") & ~(WHITENER_NS - 1)) + WHITENER_NS
    if ns >= NS_PER_S:
        secs, ns = secs + 1, 0
    return pack(secs, ns)


def monotonic(wall_s: float, floor) -> bytes:
    """Timestamp for wall_s, bumped past floor (bytes or None) if the clock went back.

    Why: a peer silently drops initiations that are not newer than the last it
    accepted, so a router booting with a stale clock must never go backwards.
    """
    ts = from_wall(wall_s)
    if floor is not None and ts <= floor:
        ts = successor(floor)
    return ts


def is_after(a: bytes, b: bytes) -> bool:
    """True when timestamp a is strictly later than b."""
    return a > b
