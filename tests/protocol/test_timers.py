"""Every timer transition of timers.py with a fake clock and a recording peer."""

import pytest

from wgpy.protocol.constants import (KEEPALIVE_TIMEOUT, MAX_TIMER_HANDSHAKES, REJECT_AFTER_TIME,
                                     REKEY_TIMEOUT)
from wgpy.protocol.timers import Timers

JITTER_MAX = 0.333


class RecordingPeer:
    def __init__(self):
        self.calls = []
        self.persistent_keepalive_interval = 0

    def send_handshake_initiation(self, now, is_retry):
        self.calls.append(("initiation", now, is_retry))

    def send_keepalive(self, now):
        self.calls.append(("keepalive", now))

    def flush_staged_packets(self):
        self.calls.append(("flush",))

    def zero_and_flush_all(self):
        self.calls.append(("zero",))


@pytest.fixture
def peer():
    return RecordingPeer()


@pytest.fixture
def timers(peer, rng):
    return Timers(peer, rng)


def test_jitter_range(timers):
    values = [timers.jitter() for _ in range(500)]
    assert min(values) >= 0 and max(values) <= JITTER_MAX and len(set(values)) > 50


def test_retransmit_then_give_up(timers, peer):
    now = 0.0
    timers.timers_handshake_initiated(now)
    # 19 retries (attempts 1..MAX+1) after the first send, i.e. 20 initiations, then give up.
    for attempt in range(1, MAX_TIMER_HANDSHAKES + 3):
        deadline = timers.deadlines["retransmit_handshake"]
        assert REKEY_TIMEOUT <= deadline - now <= REKEY_TIMEOUT + JITTER_MAX
        now = deadline
        timers.expire(now - 0.001)
        assert len(peer.calls) == attempt - 1            # not yet due
        timers.expire(now)
        if attempt <= MAX_TIMER_HANDSHAKES + 1:
            assert peer.calls[-1] == ("initiation", now, True)
            timers.timers_handshake_initiated(now)       # the peer re-arms after sending
    assert peer.calls[-1] == ("flush",)
    assert timers.deadlines["zero_key_material"] == now + 3 * REJECT_AFTER_TIME
    assert timers.deadlines["retransmit_handshake"] is None


def test_handshake_complete_resets(timers):
    timers.timers_handshake_initiated(0.0)
    timers.handshake_attempts = 7
    timers.sent_last_minute_handshake = True
    timers.timers_handshake_complete(1.0)
    assert timers.deadlines["retransmit_handshake"] is None
    assert timers.handshake_attempts == 0 and not timers.sent_last_minute_handshake


def test_send_keepalive_after_data_received(timers, peer):
    timers.timers_data_received(0.0)
    assert timers.deadlines["send_keepalive"] == KEEPALIVE_TIMEOUT
    timers.timers_data_received(3.0)                     # pending: only flags another
    assert timers.deadlines["send_keepalive"] == KEEPALIVE_TIMEOUT
    timers.expire(KEEPALIVE_TIMEOUT)
    assert peer.calls == [("keepalive", KEEPALIVE_TIMEOUT)]
    assert timers.deadlines["send_keepalive"] == 2 * KEEPALIVE_TIMEOUT
    timers.expire(2 * KEEPALIVE_TIMEOUT)
    assert timers.deadlines["send_keepalive"] is None


def test_any_sent_cancels_keepalive(timers, peer):
    timers.timers_data_received(0.0)
    timers.timers_any_authenticated_packet_sent(1.0)
    timers.expire(100.0)
    assert peer.calls == []


def test_new_handshake_when_sent_without_reply(timers, peer):
    timers.timers_data_sent(0.0)
    first = timers.deadlines["new_handshake"]
    assert KEEPALIVE_TIMEOUT + REKEY_TIMEOUT <= first <= KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + JITTER_MAX
    timers.timers_data_sent(5.0)                         # not pushed back while pending
    assert timers.deadlines["new_handshake"] == first
    timers.expire(first)
    assert peer.calls == [("initiation", first, False)]


def test_any_received_cancels_new_handshake(timers, peer):
    timers.timers_data_sent(0.0)
    timers.timers_any_authenticated_packet_received(1.0)
    timers.expire(100.0)
    assert peer.calls == []


def test_zero_key_material(timers, peer):
    timers.timers_session_derived(0.0)
    timers.timers_session_derived(10.0)                  # re-armed from the latest session
    timers.expire(3 * REJECT_AFTER_TIME)
    assert peer.calls == []
    timers.expire(10.0 + 3 * REJECT_AFTER_TIME)
    assert peer.calls == [("zero",)]


def test_persistent_keepalive(timers, peer):
    timers.timers_any_authenticated_packet_traversal(0.0)
    assert timers.deadlines["persistent_keepalive"] is None      # interval 0: off
    peer.persistent_keepalive_interval = 25
    timers.timers_any_authenticated_packet_traversal(1.0)
    timers.timers_any_authenticated_packet_traversal(2.0)
    assert timers.deadlines["persistent_keepalive"] == 27.0
    timers.expire(27.0)
    assert peer.calls == [("keepalive", 27.0)]
    timers.timers_any_authenticated_packet_traversal(30.0)
    peer.persistent_keepalive_interval = 0                       # turned off meanwhile
    timers.expire(55.0)
    assert peer.calls == [("keepalive", 27.0)]


def test_next_deadline_and_stop(timers):
    assert timers.next_deadline() is None
    timers.timers_data_received(0.0)
    timers.timers_session_derived(0.0)
    assert timers.next_deadline() == KEEPALIVE_TIMEOUT
    timers.stop()
    assert timers.next_deadline() is None
    timers.timers_data_received(1.0)                             # inactive: ignored
    assert timers.next_deadline() is None
