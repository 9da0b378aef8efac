"""Two protocol Devices wired in memory with a fake clock (wireguard-go genTestPair style)."""

import ipaddress

from hypothesis import HealthCheck, given, settings, strategies as st

from wgpy.protocol import messages
from wgpy.protocol.constants import (KEEPALIVE_TIMEOUT, REJECT_AFTER_TIME, REKEY_AFTER_TIME,
                                     REKEY_ATTEMPT_TIME, REKEY_TIMEOUT)
from wgpy.protocol.messages import MessageType

from wgtestlib import SEED, Pair, ipv4_packet, ipv6_packet


def types_sent(net, since=0):
    return [messages.message_type(p) for _, _, p in net.log[since:]]


def test_handshake_and_data_both_ways(pair):
    pair.handshake()
    assert pair.pb.keypairs.current is not None and pair.pa.keypairs.current is not None
    assert pair.pb.keypairs.current.is_initiator and not pair.pa.keypairs.current.is_initiator
    back = pair.send_b_to_a(b"pong")
    assert pair.a.packets_to_deliver() == [back]
    assert pair.pb.last_handshake_wall == pair.clock.wall()
    assert pair.pa.last_handshake_wall == pair.clock.wall()
    assert pair.pa.endpoint == Pair.A_ADDR          # learned from the initiation
    assert not pair.a.drops and not pair.b.drops


def test_ipv4_and_ipv6_inner_packets(pair):
    pair.handshake()
    v6 = ipv6_packet("fd00::1", "fd00::2", b"six" * 7)
    pair.a.receive_packet(v6, pair.now)
    pair.net.flush()
    assert pair.b.packets_to_deliver() == [v6]
    v4 = ipv4_packet("10.0.0.2", "10.0.0.1", b"x" * 33)
    pair.b.receive_packet(v4, pair.now)
    pair.net.flush()
    assert pair.a.packets_to_deliver() == [v4]


def test_padding_to_16_and_byte_counters(pair):
    pair.handshake()
    before = (pair.pb.tx_bytes, pair.pa.rx_bytes)
    start = len(pair.net.log)
    pair.send_a_to_b(b"abc")                     # 23-byte IP packet -> 32 padded
    (_, _, datagram), = pair.net.log[start:]
    assert len(datagram) == 16 + 32 + 16
    assert pair.pb.tx_bytes - before[0] == len(datagram)
    assert pair.pa.rx_bytes - before[1] == len(datagram)
    assert pair.pb.tx_bytes == pair.pa.rx_bytes and pair.pa.tx_bytes == pair.pb.rx_bytes


def test_replayed_data_packet_dropped_counters_unchanged(pair):
    pair.handshake()
    start = len(pair.net.log)
    pair.send_a_to_b(b"once")
    (src, _, datagram), = pair.net.log[start:]
    pair.b.packets_to_deliver()
    counters = (pair.pa.rx_bytes, pair.pa.tx_bytes)
    pair.b.receive_datagram(datagram, src, pair.now)
    assert pair.b.packets_to_deliver() == []
    assert pair.b.drops["transport_replay"] == 1
    assert (pair.pa.rx_bytes, pair.pa.tx_bytes) == counters


def test_forged_transport_does_not_move_replay_window(pair):
    pair.handshake()
    kp = pair.pa.keypairs.current
    forged = messages.pack_transport(kp.local_index, 10_000, bytes(48))
    pair.b.receive_datagram(forged, Pair.A_ADDR, pair.now)
    assert pair.b.drops["transport_decrypt"] == 1
    pair.send_a_to_b(b"still fine")             # counter 2 is far behind 10000
    assert len(pair.b.packets_to_deliver()) == 1


def test_inner_source_must_be_allowed(pair):
    pair.handshake()
    pair.a.receive_packet(ipv4_packet("10.9.9.9", "10.0.0.2", b"spoof"), pair.now)
    pair.net.flush()
    assert pair.b.packets_to_deliver() == []
    assert pair.b.drops["inner_source_not_allowed"] == 1


def test_no_route_and_non_ip_from_tun(pair):
    pair.a.receive_packet(ipv4_packet("10.0.0.1", "10.7.7.7"), pair.now)
    pair.a.receive_packet(b"\x00" * 40, pair.now)
    assert pair.a.drops["tun_no_route"] == 1 and pair.a.drops["tun_not_ip"] == 1
    assert pair.a.datagrams_to_send() == []


def test_wrong_public_key_never_gets_session():
    p = Pair(SEED)
    wrong = bytearray(p.pb.public_key)
    wrong[0] ^= 1
    p.a.remove_peer(p.b_pub)
    peer = p.a.add_peer(bytes(wrong), p.now)
    peer.set_endpoint(Pair.B_ADDR)
    p.a.allowed_ips.insert(ipaddress.ip_network("10.0.0.2/32"), peer)
    p.send_a_to_b()
    p.net.advance(REKEY_ATTEMPT_TIME + 20)
    assert peer.keypairs.current is None and p.pa.keypairs.current is None
    assert p.b.drops["mac1"] >= 1


def test_wrong_psk_never_gets_session():
    p = Pair(SEED, psk_a=b"\x01" * 32, psk_b=b"\x02" * 32)
    p.send_a_to_b()
    p.net.advance(30)
    assert p.pb.keypairs.current is None and p.pa.keypairs.current is None
    assert p.a.drops["response_invalid"] >= 1
    assert p.b.packets_to_deliver() == []


def test_matching_psk_works():
    p = Pair(SEED, psk_a=b"\x07" * 32, psk_b=b"\x07" * 32)
    p.handshake()


def test_handshake_retransmits_then_gives_up(pair):
    pair.net.filter = lambda src, dst, payload: dst != Pair.B_ADDR     # B unreachable
    pair.a.receive_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), pair.now)
    pair.net.advance(REKEY_ATTEMPT_TIME + 30)
    assert pair.net.log == []
    # 1 initiation + MAX_TIMER_HANDSHAKES + 1 retries = 20, as the kernel logs it
    assert pair.pb.tx_bytes == 20 * messages.INITIATION_SIZE
    assert len(pair.pb.staged) == 0 and pair.a.drops["staged_flushed"] == 1
    assert pair.pb.timers.pending("zero_key_material")


def test_rekey_after_time_without_dropping_traffic(pair):
    pair.handshake()
    first = pair.pb.keypairs.current
    sent = delivered = 0
    for _ in range(40):                          # 400 s of traffic both ways every 10 s
        pair.net.advance(10)
        sent += 2
        pair.send_a_to_b(b"a")
        pair.send_b_to_a(b"b")
        delivered += len(pair.b.packets_to_deliver()) + len(pair.a.packets_to_deliver())
    assert delivered == sent
    assert pair.pb.keypairs.current is not first
    assert pair.now - pair.pb.keypairs.current.created <= REKEY_AFTER_TIME + 10
    assert not pair.b.drops and not pair.a.drops


def test_keypair_rotation_slots(pair):
    pair.handshake()
    k1 = pair.pa.keypairs.current
    pair.net.advance(REKEY_TIMEOUT + 1)
    pair.pb.send_handshake_initiation(pair.now, is_retry=False)
    pair.net.flush()
    # A (initiator) installed k2 at once and sent a keepalive, which confirmed it at B.
    assert pair.pa.keypairs.previous is k1 and pair.pa.keypairs.next is None
    assert pair.pa.keypairs.current.local_index != k1.local_index
    assert pair.pb.keypairs.previous is not None


def test_responder_waits_in_next_until_confirmed(pair):
    pair.net.filter = lambda src, dst, payload: messages.message_type(payload) != MessageType.TRANSPORT
    pair.send_a_to_b()
    assert pair.pa.keypairs.next is not None and pair.pa.keypairs.current is None
    assert pair.pa.last_handshake_wall is None
    pair.b.receive_packet(ipv4_packet("10.0.0.2", "10.0.0.1"), pair.now)
    assert len(pair.pa.staged) == 1             # cannot send with an unconfirmed key
    pair.net.filter = None
    pair.pb.send_keepalive(pair.now)
    pair.net.flush()
    assert pair.pa.keypairs.current is not None and not pair.pa.staged
    assert len(pair.a.packets_to_deliver()) == 1


def test_keys_zeroed_after_three_reject_after_time(pair):
    pair.handshake()
    pair.net.advance(3 * REJECT_AFTER_TIME - 1)
    assert pair.pb.keypairs.current is not None
    pair.net.advance(2)
    for peer in (pair.pa, pair.pb):
        assert (peer.keypairs.previous, peer.keypairs.current, peer.keypairs.next) == (None,) * 3
        assert peer.handshake.symmetric is None
    assert len(pair.a.index) == 0 and len(pair.b.index) == 0


def test_roaming_changes_endpoint(pair):
    pair.handshake()
    new_addr = ("203.0.113.9", 40000)
    pair.net.devices[new_addr] = pair.net.devices.pop(Pair.A_ADDR)
    pair.send_a_to_b(b"from new place")
    assert pair.pa.endpoint == new_addr
    pair.send_b_to_a(b"reply")
    assert len(pair.a.packets_to_deliver()) == 1


def test_failed_packet_does_not_move_endpoint(pair):
    pair.handshake()
    kp = pair.pa.keypairs.current
    pair.b.receive_datagram(messages.pack_transport(kp.local_index, 5, bytes(32)),
                            ("203.0.113.66", 1), pair.now)
    assert pair.pa.endpoint == Pair.A_ADDR


def test_replayed_initiation_rejected(pair):
    pair.send_a_to_b()
    initiation = next(p for _, _, p in pair.net.log
                      if messages.message_type(p) == MessageType.INITIATION)
    pair.net.advance(1)
    pair.b.receive_datagram(initiation, Pair.A_ADDR, pair.now)
    assert pair.b.drops["initiation_replay"] == 1
    assert pair.b.datagrams_to_send() == []


def test_initiation_flood_rejected(pair):
    pair.send_a_to_b()
    pair.pb.handshake.last_sent_handshake = -1e9
    pair.pb.send_handshake_initiation(pair.now, is_retry=False)   # fresh timestamp, same instant
    (payload, _), = pair.a.datagrams_to_send()
    pair.clock.wall_skew += 1                    # newer timestamp, but < 20 ms since the last
    pair.b.receive_datagram(payload, Pair.A_ADDR, pair.now)
    assert pair.b.drops["initiation_flood"] == 1


def test_own_timestamps_monotonic_when_wall_clock_goes_back(pair):
    pair.handshake()
    pair.clock.wall_skew -= 3600                 # NTP steps the clock back an hour
    pair.net.advance(REKEY_TIMEOUT + 1)
    pair.pb.send_handshake_initiation(pair.now, is_retry=False)
    pair.net.flush()
    assert pair.b.drops["initiation_replay"] == 0
    assert pair.pa.keypairs.previous is not None


def test_timestamp_floor_respected():
    p = Pair(SEED)
    p.a.timestamp_floor = (1 << 63).to_bytes(8, "big") + bytes(4)    # far future
    p.handshake()
    assert p.a.timestamp_floor > (1 << 63).to_bytes(8, "big") + bytes(4)


def test_cookie_reply_path_under_load(pair):
    pair.b.under_load_threshold = 1              # every handshake message means load
    pair.send_a_to_b()
    assert pair.b.drops["mac2_cookie_sent"] == 1
    assert pair.pa.keypairs.next is None
    assert types_sent(pair.net) == [MessageType.INITIATION, MessageType.COOKIE_REPLY]
    pair.net.advance(REKEY_TIMEOUT + 1)          # retransmit carries a valid mac2
    assert pair.pb.keypairs.current is not None
    assert len(pair.b.packets_to_deliver()) == 1


def test_set_private_key_expires_sessions(pair):
    pair.handshake()
    pair.a.set_private_key(pair.a_priv, pair.now)        # same key: no-op
    assert pair.pb.keypairs.current.send_counter < 10
    new_priv = bytes([9] * 31 + [64])
    pair.a.set_private_key(new_priv, pair.now)
    pair.a.receive_packet(ipv4_packet("10.0.0.1", "10.0.0.2"), pair.now)
    payload, _ = pair.a.datagrams_to_send()[0]
    assert messages.message_type(payload) == MessageType.INITIATION


def test_remove_peer_frees_everything(pair):
    pair.handshake()
    pair.a.remove_peer(pair.b_pub)
    assert len(pair.a.peers) == 0 and len(pair.a.index) == 0
    assert pair.a.allowed_ips.lookup(bytes([10, 0, 0, 2])) is None
    assert pair.a.get_timer() is None


def test_persistent_keepalive(pair):
    pair.handshake()
    pair.a.set_persistent_keepalive(pair.pb, 25, pair.now)
    start = len(pair.net.log)
    pair.net.advance(100)
    keepalives = [p for s, _, p in pair.net.log[start:] if s == Pair.A_ADDR and len(p) == 32]
    assert len(keepalives) >= 4


def test_passive_keepalive_after_data(pair):
    pair.handshake()
    start = len(pair.net.log)
    pair.net.advance(KEEPALIVE_TIMEOUT + 0.5)
    from_b = [p for s, _, p in pair.net.log[start:] if s == Pair.B_ADDR]
    assert [len(p) for p in from_b] == [32]


def test_garbage_on_both_devices_from_pair_never_raises(pair):
    pair.handshake()
    for dev in (pair.a, pair.b):
        for n in (0, 1, 31, 32, 63, 64, 91, 92, 147, 148, 149):
            for t in range(6):
                dev.receive_datagram(bytes([t]) + bytes(max(0, n - 1)), ("192.0.2.77", 9), 1.0)
    assert pair.b.packets_to_deliver() == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), kind=st.sampled_from([0, 1, 2, 3, 4, 5]))
def test_garbage_datagrams_never_raise(pair, data, kind):
    if data and kind:
        data = bytes([kind, 0, 0, 0]) + data[4:]
    pair.b.receive_datagram(data, ("192.0.2.99", 1234), pair.now)
    assert pair.b.packets_to_deliver() == []


def test_rekey_after_messages(pair):
    from wgpy.protocol.constants import REKEY_AFTER_MESSAGES
    pair.handshake()
    old = pair.pa.keypairs.current
    old.send_counter = REKEY_AFTER_MESSAGES + 1     # B is responder: only the count rekeys it
    pair.net.advance(REKEY_TIMEOUT + 1)
    start = len(pair.net.log)
    pair.send_b_to_a()
    assert types_sent(pair.net, start)[:2] == [MessageType.TRANSPORT, MessageType.INITIATION]
    assert pair.pa.keypairs.current is not old and pair.pa.keypairs.current.is_initiator


def test_reject_after_messages_stages_and_rehandshakes(pair):
    from wgpy.protocol.constants import REJECT_AFTER_MESSAGES
    pair.handshake()
    pair.net.advance(REKEY_TIMEOUT + 1)
    pair.pb.keypairs.current.send_counter = REJECT_AFTER_MESSAGES - 1
    pair.net.filter = lambda src, dst, payload: src != Pair.A_ADDR    # hold A's output
    pair.a.receive_packet(ipv4_packet("10.0.0.1", "10.0.0.2", b"last"), pair.now)
    pair.a.receive_packet(ipv4_packet("10.0.0.1", "10.0.0.2", b"next"), pair.now)
    sent = pair.a.datagrams_to_send()
    assert [messages.message_type(p) for p, _ in sent] == [MessageType.TRANSPORT,
                                                           MessageType.INITIATION]
    assert [len(pair.pb.staged)] == [1]


def test_ratelimit_under_load_after_cookie(pair):
    pair.b.under_load_threshold = 1
    pair.send_a_to_b()
    pair.net.advance(REKEY_TIMEOUT + 1)              # handshake completes with a cookie
    assert pair.pb.keypairs.current is not None
    pair.net.filter = lambda src, dst, payload: False
    for _ in range(10):                              # many fresh initiations, same instant
        pair.pb.handshake.last_sent_handshake = -1e9
        pair.pb.send_handshake_initiation(pair.now, is_retry=False)
        (payload, _), = pair.a.datagrams_to_send()
        pair.b.receive_datagram(payload, Pair.A_ADDR, pair.now)
    assert pair.b.drops["ratelimited"] >= 5


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(min_size=16, max_size=300), counter=st.integers(0, 2**64 - 1))
def test_forged_transport_on_live_index_never_raises(pair, body, counter):
    if pair.pa.keypairs.current is None:
        pair.handshake()
    index = pair.pa.keypairs.current.local_index
    pair.b.receive_datagram(messages.pack_transport(index, counter, body), Pair.A_ADDR, pair.now)
    assert pair.b.packets_to_deliver() == []


class _FastPathWindow:
    """The seam's replay_check as the daemon's C window answers it: counters it has seen."""

    def __init__(self):
        self.seen = set()

    def changed(self, kind, peer):
        pass

    def send_transport(self, peer, packet):
        return False        # not used: B only receives here

    def replay_check(self, local_index, counter):
        fresh = (local_index, counter) not in self.seen
        self.seen.add((local_index, counter))
        return fresh


def test_transport_the_fast_path_has_seen_is_a_replay():
    """A packet C handled already (its counter in C's window) is refused when it also
    reaches the Device; a fresh one counts in both windows."""
    pair = Pair(SEED)
    pair.handshake()
    window = _FastPathWindow()
    pair.b.fastpath = window
    packet = pair.send_a_to_b(b"fresh")
    assert pair.b.packets_to_deliver() == [packet]
    assert len(window.seen) == 1
    index, counter = next(iter(window.seen))
    replays = pair.b.drops["transport_replay"]
    window.seen = {(index, counter + 1)}                  # C opened the next one itself
    pair.send_a_to_b(b"again")
    assert pair.b.packets_to_deliver() == []
    assert pair.b.drops["transport_replay"] == replays + 1
