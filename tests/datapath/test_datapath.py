"""The C datapath through cffi: its allowed-IPs mirror against the Python AllowedIPs, and
two datapath objects talking over loopback UDP with a SOCK_DGRAM socketpair standing in for
each TUN (no root needed): delivery, counters, replay and forgery handling, the inner
source check, upcalls, keypair rotation with counter retention, and keepalives."""

import ipaddress
import os
import select
import socket
import struct
import time

import pytest
from hypothesis import given, strategies as st

from dpside import Side
from wgpy import crypto
from wgpy.daemon.datapath import Datapath
from wgpy.protocol.allowedips import AllowedIPs

PACKET_MAX = 2048
K1, K2 = bytes(range(32)), bytes(range(100, 132))


# ---- allowed IPs: C mirror vs the Python table ----

def _prefix(draw_bits, version, length):
    bits = 32 if version == 4 else 128
    addr = draw_bits & ((1 << bits) - 1)
    return ipaddress.ip_network((addr, length), strict=False)


prefixes = st.lists(
    st.tuples(st.sampled_from([4, 6]), st.integers(0, (1 << 128) - 1), st.integers(0, 128),
              st.integers(0, 7)),
    max_size=40)


@given(prefixes, st.lists(st.integers(0, (1 << 128) - 1), min_size=1, max_size=30))
def test_lpm_matches_python_allowedips(entries, probes):
    table = AllowedIPs()
    for version, addr, length, peer in entries:
        table.insert(_prefix(addr, version, min(length, 32 if version == 4 else 128)), peer)
    dp = Datapath(8, PACKET_MAX, 1420)
    try:
        dp.set_allowed_ips([(net, peer) for peer in range(8) for net in table.networks_of(peer)])
        # Probe random addresses and the first address of every prefix (so matches happen).
        addresses = [p.to_bytes(16, "big") for p in probes] + \
                    [(p & 0xffffffff).to_bytes(4, "big") for p in probes]
        addresses += [net.network_address.packed for peer in range(8)
                      for net in table.networks_of(peer)]
        for address in addresses:
            expected = table.lookup(address)
            assert dp.lookup(address) == (-1 if expected is None else expected), address
    finally:
        dp.close()


def test_lpm_refuses_bad_entries_and_keeps_the_table():
    dp = Datapath(4, PACKET_MAX, 1420)
    dp.set_allowed_ips([(ipaddress.ip_network("10.0.0.0/8"), 1)])
    with pytest.raises(ValueError):
        dp.set_allowed_ips([(ipaddress.ip_network("10.0.0.0/8"), -1)])
    assert dp.lookup(bytes([10, 9, 9, 9])) == 1
    dp.close()


# ---- two datapaths over loopback ----

def ipv4_packet(src: str, dst: str, payload: bytes = b"x" * 37) -> bytes:
    total = 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return header + payload


def keypair(send, recv, local, remote, initiator=True, created=None):
    created_ns = time.monotonic_ns() if created is None else created
    return (send, recv, created_ns, local, remote, initiator, True)


@pytest.fixture
def pair():
    a, b = Side(PACKET_MAX), Side(PACKET_MAX)
    a.dp.set_allowed_ips([(ipaddress.ip_network("10.0.0.2/32"), a.peer)])
    b.dp.set_allowed_ips([(ipaddress.ip_network("10.0.0.1/32"), b.peer)])
    a.dp.set_endpoint(a.peer, ("127.0.0.1", b.port))
    b.dp.set_endpoint(b.peer, ("127.0.0.1", a.port))
    a.dp.set_keypairs(a.peer, [None, keypair(K1, K2, 111, 222), None])
    b.dp.set_keypairs(b.peer, [None, keypair(K2, K1, 222, 111, initiator=False), None])
    a.start()
    b.start()
    yield a, b
    a.close()
    b.close()


def wait_events(side, timeout=2.0):
    """Wait for the event fd, then return {slot: DpPeerState} of the polled peers."""
    select.select([side.dp.event_fd()], [], [], timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.read(side.dp.event_fd(), 8)
        except BlockingIOError:
            pass
        states = {slot: side.dp.peer_read(slot) for slot in side.dp.poll()}
        if states or time.monotonic() > deadline:
            return states
        time.sleep(0.01)


def wait_stat(side, name, value, timeout=2.0):
    deadline = time.monotonic() + timeout
    while side.dp.stats()[name] != value and time.monotonic() < deadline:
        time.sleep(0.01)
    return side.dp.stats()[name]


def transport(receiver: int, counter: int, key: bytes, plaintext: bytes) -> bytes:
    padded = plaintext + bytes(-len(plaintext) % 16)
    return struct.pack("<IIQ", 4, receiver, counter) + crypto.aead_seal(key, counter, padded)


def inject(side_to, datagram: bytes):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(datagram, ("127.0.0.1", side_to.port))


def test_packets_cross_and_counters_flow_back(pair):
    a, b = pair
    packets = [ipv4_packet("10.0.0.1", "10.0.0.2", bytes([i]) * (i * 40 + 1)) for i in range(20)]
    for packet in packets:
        a.tun.send(packet)
    assert [b.tun.recv(4096) for _ in packets] == packets      # in order, padding trimmed
    state = wait_events(a)[a.peer]
    assert state.events & Datapath.EV_ACTIVITY
    assert state.tx_bytes == sum(32 + len(p) + (-len(p) % 16) for p in packets)
    assert state.last_data_sent_ns > 0 and state.last_auth_sent_ns >= state.last_data_sent_ns
    state_b = wait_events(b)[b.peer]
    assert state_b.rx_bytes == state.tx_bytes and state_b.last_data_recv_ns > 0
    assert state_b.endpoint == ("127.0.0.1", a.port) and state_b.source is not None
    # And back the other way, with the sticky source learned from A's packets.
    reply = ipv4_packet("10.0.0.2", "10.0.0.1")
    b.tun.send(reply)
    assert a.tun.recv(4096) == reply


def test_c_owns_the_sticky_source_and_answers_for_it(pair):
    a, b = pair
    a.tun.send(ipv4_packet("10.0.0.1", "10.0.0.2"))
    b.tun.recv(4096)
    learned = wait_events(b)[b.peer].source
    assert learned == (socket.inet_aton("127.0.0.1"), 1)
    assert b.dp.source_for(("127.0.0.1", a.port)) == (True, learned)
    assert b.dp.source_for(("127.0.0.1", a.port + 1)) == (False, None)
    b.dp.forget_source(("127.0.0.1", a.port))
    assert b.dp.source_for(("127.0.0.1", a.port)) == (True, None)
    assert b.dp.peer_read(b.peer).source is None
    b.tun.send(ipv4_packet("10.0.0.2", "10.0.0.1"))     # routing chooses; still delivered
    assert a.tun.recv(4096) == ipv4_packet("10.0.0.2", "10.0.0.1")


def test_python_datagrams_leave_through_c_from_the_source_and_a_gone_source_is_told(pair):
    a, _ = pair
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(2)
        remote = ("127.0.0.1", rx.getsockname()[1])
        assert a.dp.send_datagram(b"hello", remote, (socket.inet_aton("127.0.0.1"), 1)) == 0
        assert rx.recvfrom(64) == (b"hello", ("127.0.0.1", a.port))
        # An address this host does not have: sent as routing chooses, and said so.
        assert a.dp.send_datagram(b"again", remote, (socket.inet_aton("192.0.2.77"), 0)) == 1
        assert rx.recv(64) == b"again"


def test_replayed_and_forged_packets_are_dropped_without_moving_the_window(pair):
    a, b = pair
    packet = ipv4_packet("10.0.0.1", "10.0.0.2")
    good = transport(222, 5, K1, packet)
    inject(b, good)
    assert b.tun.recv(4096) == packet
    inject(b, good)
    assert wait_stat(b, "rx_replay", 1) == 1
    forged = bytearray(transport(222, 6, K1, packet))
    forged[-1] ^= 1
    inject(b, bytes(forged))
    assert wait_stat(b, "rx_decrypt", 1) == 1
    inject(b, transport(222, 6, K1, packet))                  # counter 6 still fresh
    assert b.tun.recv(4096) == packet
    inject(b, transport(222, 6 + 8200, K1, packet))           # far ahead: window moves
    assert b.tun.recv(4096) == packet
    inject(b, transport(222, 7, K1, packet))                  # now behind the window
    assert wait_stat(b, "rx_replay", 2) == 2


def test_a_counter_python_accepted_is_refused_by_c_later(pair):
    """A packet C passed up before it had the keypair is opened by Python, which records
    its counter in C's window: the same packet sent again, now C's, is a replay."""
    a, b = pair
    packet = ipv4_packet("10.0.0.1", "10.0.0.2")
    assert b.dp.replay_check(222, 9) is True        # what Python reports after opening it
    assert b.dp.replay_check(222, 9) is False
    assert b.dp.replay_check(999, 9) is None        # no such keypair in C
    inject(b, transport(222, 9, K1, packet))
    assert wait_stat(b, "rx_replay", 1) == 1
    inject(b, transport(222, 10, K1, packet))
    assert b.tun.recv(4096) == packet
    assert b.dp.replay_check(222, 10) is False      # and C's own counters are seen too


def test_inner_source_must_belong_to_the_sending_peer(pair):
    a, b = pair
    a.dp.set_allowed_ips([(ipaddress.ip_network("0.0.0.0/0"), a.peer)])
    a.tun.send(ipv4_packet("10.9.9.9", "10.0.0.2"))
    assert wait_stat(b, "rx_inner_not_allowed", 1) == 1
    inject(b, transport(222, 50, K1, b"\x45" + bytes(30)))    # length field does not fit
    assert wait_stat(b, "rx_inner_malformed", 1) == 1


def test_upcalls_for_handshakes_unknown_indices_and_keyless_peers(pair):
    a, b = pair
    initiation = struct.pack("<I", 1) + bytes(144)
    inject(b, initiation)
    inject(b, transport(999, 0, K1, b""))
    select.select([b.dp.event_fd()], [], [], 2)
    time.sleep(0.05)
    ups = b.dp.upcalls()
    assert [(kind, data) for kind, data, _, _ in ups] == [
        (Datapath.UP_UDP, initiation), (Datapath.UP_UDP, transport(999, 0, K1, b""))]
    remote, source = ups[0][2], ups[0][3]
    assert remote[0] == "127.0.0.1" and source == (socket.inet_aton("127.0.0.1"), 1)
    a.dp.set_keypairs(a.peer, [None, None, None])             # no usable keypair now
    packet = ipv4_packet("10.0.0.1", "10.0.0.2")
    a.tun.send(packet)
    select.select([a.dp.event_fd()], [], [], 2)
    time.sleep(0.05)
    assert [(kind, data) for kind, data, _, _ in a.dp.upcalls()] == [(Datapath.UP_TUN, packet)]


def test_rotation_keeps_counters_and_confirms_next(pair):
    a, b = pair
    packet = ipv4_packet("10.0.0.1", "10.0.0.2")
    for _ in range(3):
        a.tun.send(packet)
        assert b.tun.recv(4096) == packet
    # Responder B gets a new keypair in `next`; A (initiator) makes it current at once.
    K3, K4 = bytes([3]) * 32, bytes([4]) * 32
    old_a, old_b = keypair(K1, K2, 111, 222), keypair(K2, K1, 222, 111, initiator=False)
    b.dp.set_keypairs(b.peer, [None, old_b, keypair(K4, K3, 444, 333, initiator=False)])
    a.dp.set_keypairs(a.peer, [old_a, keypair(K3, K4, 333, 444), None])
    wait_events(b)
    a.tun.send(packet)
    assert b.tun.recv(4096) == packet
    state = wait_events(b)[b.peer]
    assert state.events & Datapath.EV_CONFIRMED and state.confirmed_index == 444
    # Old keypair 111 is previous on A: its counter (3) survived the reinstall.
    a.dp.set_keypairs(a.peer, [None, old_a, None])
    b.dp.set_keypairs(b.peer, [None, old_b, None])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as spy:
        spy.bind(("127.0.0.1", 0))
        spy.settimeout(2)
        a.dp.set_endpoint(a.peer, ("127.0.0.1", spy.getsockname()[1]))
        a.tun.send(packet)
        assert struct.unpack_from("<IIQ", spy.recv(4096)) == (4, 222, 3)
        assert a.dp.send(a.peer, b"")                          # keepalive, same counter space
        assert struct.unpack_from("<IIQ", spy.recv(4096)) == (4, 222, 4)


def test_keepalive_counts_as_authenticated_not_data(pair):
    a, b = pair
    assert a.dp.send(a.peer, b"")
    state = wait_events(b)[b.peer]
    assert state.last_auth_recv_ns > 0 and state.last_data_recv_ns == 0
    assert state.rx_bytes == 32


def test_expired_and_unsendable_keypairs_are_not_used(pair):
    a, b = pair
    stale = time.monotonic_ns() - 181 * 10**9
    a.dp.set_keypairs(a.peer, [None, keypair(K1, K2, 111, 222, created=stale), None])
    assert not a.dp.send(a.peer, b"")
    b.dp.set_keypairs(b.peer, [None, keypair(K2, K1, 222, 111, created=stale), None])
    inject(b, transport(222, 1, K1, b""))
    assert wait_stat(b, "rx_expired_keypair", 1) == 1
    refused = keypair(K1, K2, 222, 111)                       # index 222 belongs to peer... of B
    other = b.dp.peer_add()
    with pytest.raises(ValueError):
        b.dp.set_keypairs(other, [None, refused, None])


def test_rekey_signal_after_rekey_after_time(pair):
    a, b = pair
    old = time.monotonic_ns() - 121 * 10**9
    a.dp.set_keypairs(a.peer, [None, keypair(K1, K2, 111, 222, created=old), None])
    wait_events(a)
    a.tun.send(ipv4_packet("10.0.0.1", "10.0.0.2"))
    assert b.tun.recv(4096)
    assert wait_events(a)[a.peer].events & Datapath.EV_REKEY_SEND


def test_reading_without_polling_never_queues_a_peer_twice(pair):
    """A peer sits in the pending queue at most once, however often it is read in between
    (the queue holds one entry per peer: a second entry would overflow it)."""
    a, b = pair
    for i in range(12):
        a.tun.send(ipv4_packet("10.0.0.1", "10.0.0.2", bytes([i]) * 20))
        b.tun.recv(4096)
        deadline = time.monotonic() + 2
        while not a.dp.peer_read(a.peer).events and time.monotonic() < deadline:
            time.sleep(0.005)
    assert a.dp.poll() == [a.peer]
    assert a.dp.poll() == []
