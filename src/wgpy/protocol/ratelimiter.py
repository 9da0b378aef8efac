"""Per-source token bucket for handshake messages under load (wireguard-go ratelimiter/).

Each source IP may pass RATELIMIT_PACKETS_PER_SECOND with a burst of
RATELIMIT_BURST. Tokens are integer nanoseconds as in wireguard-go; a packet
passes when tokens >= its cost (the kernel's test; wireguard-go's strict >
only gives the full burst of 5 because its real clock advances between calls). Entries idle for more than a second
are garbage-collected lazily, since there is no background goroutine here.
"""

import math

from .constants import RATELIMIT_BURST, RATELIMIT_GC_INTERVAL, RATELIMIT_PACKETS_PER_SECOND

PACKET_COST_NS = 1_000_000_000 // RATELIMIT_PACKETS_PER_SECOND
MAX_TOKENS_NS = PACKET_COST_NS * RATELIMIT_BURST


class RateLimiter:
    """allow(source, now) -> bool, one bucket per source."""

    def __init__(self):
        self._buckets = {}          # source -> [tokens_ns, last_ns]
        self._last_gc = -math.inf

    def __len__(self) -> int:
        return len(self._buckets)

    def _gc(self, now_ns: int) -> None:
        limit = int(RATELIMIT_GC_INTERVAL * 1e9)
        stale = [k for k, (_, last) in self._buckets.items() if now_ns - last > limit]
        for key in stale:
            del self._buckets[key]

    def allow(self, source, now: float) -> bool:
        """True if source may send one more handshake message at now."""
        now_ns = int(now * 1e9)
        if now - self._last_gc >= RATELIMIT_GC_INTERVAL:
            self._gc(now_ns)
            self._last_gc = now
        bucket = self._buckets.get(source)
        if bucket is None:
            self._buckets[source] = [MAX_TOKENS_NS - PACKET_COST_NS, now_ns]
            return True
        tokens = min(MAX_TOKENS_NS, bucket[0] + max(0, now_ns - bucket[1]))
        bucket[1] = now_ns
        if tokens >= PACKET_COST_NS:
            bucket[0] = tokens - PACKET_COST_NS
            return True
        bucket[0] = tokens
        return False
