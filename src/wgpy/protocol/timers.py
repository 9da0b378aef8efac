"""Per-peer timers as event hooks (kernel timers.c, wireguard-go timers.go).

The five timers, each a deadline in monotonic seconds (None = not pending):
  retransmit_handshake  REKEY_TIMEOUT + jitter after an initiation is sent;
                        resend, or give up after MAX_TIMER_HANDSHAKES retries.
  send_keepalive        KEEPALIVE_TIMEOUT after data is received with nothing sent back.
  new_handshake         KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter after data is sent
                        with nothing received back: the session is presumed dead.
  zero_key_material     3 * REJECT_AFTER_TIME after a session is derived: wipe keys.
  persistent_keepalive  the configured interval after any authenticated packet.
Hooks timers_<event>(now) only set or clear deadlines; expire(now) runs the
_expired_<timer> actions, which call back into the peer (duck-typed: see Peer).
"""

from .constants import (KEEPALIVE_TIMEOUT, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME,
                        REKEY_TIMEOUT, REKEY_TIMEOUT_JITTER_MAX_MS)

TIMER_NAMES = ("retransmit_handshake", "send_keepalive", "new_handshake",
               "zero_key_material", "persistent_keepalive")


class Timers:
    """Deadlines and counters of one peer's five timers."""

    __slots__ = ("_peer", "_rng", "deadlines", "handshake_attempts", "need_another_keepalive",
                 "sent_last_minute_handshake", "active", "on_set")

    def __init__(self, peer, rng):
        self._peer = peer
        self._rng = rng
        self.deadlines = dict.fromkeys(TIMER_NAMES)
        self.handshake_attempts = 0
        self.need_another_keepalive = False
        self.sent_last_minute_handshake = False
        self.active = True
        self.on_set = None      # on_set(deadline) after a deadline is set (the Device's cache)

    # ---- plumbing ----

    def jitter(self) -> float:
        """0..333 ms from the injected RNG, so retries from many peers do not align."""
        return (int.from_bytes(self._rng(2), "little") % REKEY_TIMEOUT_JITTER_MAX_MS) / 1000.0

    def _mod(self, name: str, deadline: float) -> None:
        if self.active:
            self.deadlines[name] = deadline
            if self.on_set is not None:
                self.on_set(deadline)

    def _del(self, name: str) -> None:
        self.deadlines[name] = None

    def pending(self, name: str) -> bool:
        return self.deadlines[name] is not None

    def next_deadline(self):
        """The earliest pending deadline, or None."""
        pending = [d for d in self.deadlines.values() if d is not None]
        return min(pending) if pending else None

    def stop(self) -> None:
        """Cancel everything (peer removed)."""
        self.active = False
        for name in TIMER_NAMES:
            self._del(name)

    def expire(self, now: float) -> None:
        """Run the action of every timer whose deadline is <= now."""
        for name in TIMER_NAMES:
            deadline = self.deadlines[name]
            if deadline is not None and deadline <= now:
                self._del(name)
                getattr(self, "_expired_" + name)(now)

    # ---- expiry actions ----

    def _expired_retransmit_handshake(self, now: float) -> None:
        if self.handshake_attempts > MAX_TIMER_HANDSHAKES:
            # Give up: drop what waited for a session, and wipe any half-done state later.
            self._del("send_keepalive")
            self._peer.flush_staged_packets()
            if not self.pending("zero_key_material"):
                self._mod("zero_key_material", now + 3 * REJECT_AFTER_TIME)
            return
        self.handshake_attempts += 1
        self._peer.send_handshake_initiation(now, is_retry=True)

    def _expired_send_keepalive(self, now: float) -> None:
        self._peer.send_keepalive(now)
        if self.need_another_keepalive:
            self.need_another_keepalive = False
            self._mod("send_keepalive", now + KEEPALIVE_TIMEOUT)

    def _expired_new_handshake(self, now: float) -> None:
        self._peer.send_handshake_initiation(now, is_retry=False)

    def _expired_zero_key_material(self, now: float) -> None:
        self._peer.zero_and_flush_all()

    def _expired_persistent_keepalive(self, now: float) -> None:
        if self._peer.persistent_keepalive_interval > 0:
            self._peer.send_keepalive(now)

    # ---- event hooks ----

    def timers_data_sent(self, now: float) -> None:
        """Call after an authenticated data packet is sent."""
        if not self.pending("new_handshake"):
            self._mod("new_handshake", now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + self.jitter())

    def timers_data_received(self, now: float) -> None:
        """Call after an authenticated data packet is received."""
        if not self.pending("send_keepalive"):
            self._mod("send_keepalive", now + KEEPALIVE_TIMEOUT)
        else:
            self.need_another_keepalive = True

    def timers_any_authenticated_packet_sent(self, now: float) -> None:
        """Call after any authenticated packet (keepalive, data, handshake) is sent."""
        self._del("send_keepalive")

    def timers_any_authenticated_packet_received(self, now: float) -> None:
        """Call after any authenticated packet (keepalive, data, handshake) is received."""
        self._del("new_handshake")

    def timers_handshake_initiated(self, now: float) -> None:
        """Call after a handshake initiation is sent."""
        self._mod("retransmit_handshake", now + REKEY_TIMEOUT + self.jitter())

    def timers_handshake_complete(self, now: float) -> None:
        """Call after a response is consumed, or on key confirmation by first data."""
        self._del("retransmit_handshake")
        self.handshake_attempts = 0
        self.sent_last_minute_handshake = False

    def timers_session_derived(self, now: float) -> None:
        """Call after session keys are derived (response sent or consumed)."""
        self._mod("zero_key_material", now + 3 * REJECT_AFTER_TIME)

    def timers_any_authenticated_packet_traversal(self, now: float) -> None:
        """Call before an authenticated packet is sent or after one is received."""
        interval = self._peer.persistent_keepalive_interval
        if interval > 0:
            self._mod("persistent_keepalive", now + interval)
