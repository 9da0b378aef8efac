"""The responder in the RX worker (dp_handshake.c): initiations from a protocol/noise.py
initiator are answered with responses that initiator accepts, the upcall carries the keys it
derives (swapped) and the indices, and noise.consume_initiation's refusals (unknown peer,
replay, flood, bad decryption) hold in C without an upcall."""

import os
import select
import time

from wgpy import crypto
from wgpy.protocol import cookie, messages, noise, tai64n
from wgpy.protocol.constants import UNDER_LOAD_HANDSHAKES_PER_SECOND

from dpside import Side


class Pair:
    """A responder key in the datapath (slot side.peer knows the initiator) and a Python
    initiator's Handshake."""

    def __init__(self, side, psk=bytes(32), install=True):
        self.r_priv = crypto.generate_private_key()
        self.r_pub = crypto.public_key(self.r_priv)
        self.i_priv = crypto.generate_private_key()
        self.i_pub = crypto.public_key(self.i_priv)
        self.psk = psk
        self.hi = noise.Handshake(remote_static=self.r_pub, preshared_key=psk,
                                  static_static=crypto.x25519(self.i_priv, self.r_pub))
        self.gen = cookie.CookieGenerator(self.r_pub)       # the initiator's macs
        side.dp.set_cookie(self.r_pub, os.urandom(32), time.monotonic_ns())
        side.dp.hs_set_key(self.r_priv, self.r_pub)
        if install:
            assert side.dp.hs_peer(side.peer, self.i_pub, psk,
                                   crypto.x25519(self.r_priv, self.i_pub), tai64n.ZERO, 0)

    def initiation(self, index=7, timestamp=None):
        ts = timestamp or tai64n.monotonic(time.time(), None)
        msg = noise.create_initiation(self.hi, self.i_pub, noise.new_private_key(os.urandom),
                                      ts, index)
        return self.gen.add_macs(msg.pack(), 0.0)


def _upcalls(side, timeout=1.0):
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([side.dp.event_fd()], [], [], 0.05)[0]:
            try:
                os.read(side.dp.event_fd(), 8)
            except BlockingIOError:
                pass
        out += side.dp.upcalls()
        if out:
            return out
    return out


def _stat(side, name, want, timeout=2.0):
    deadline = time.monotonic() + timeout
    while side.dp.stats()[name] < want and time.monotonic() < deadline:
        time.sleep(0.01)
    return side.dp.stats()[name]


def test_answer_is_accepted_by_the_initiator_and_the_upcall_has_its_keys(side, sender):
    psk = os.urandom(32)
    pair = Pair(side, psk)
    ts = tai64n.monotonic(time.time(), None)
    sender.sendto(pair.initiation(7, ts), ("127.0.0.1", side.port))
    data, addr = sender.recvfrom(2048)
    assert addr == ("127.0.0.1", side.port)
    assert len(data) == messages.RESPONSE_SIZE
    # The macs are the ones cookie.py's checker of the initiator's key wants.
    checker = cookie.CookieChecker(os.urandom)
    checker.init(pair.i_pub)
    assert checker.check_mac1(data)
    response = messages.parse(data)
    assert response.receiver == 7
    assert noise.consume_response(response, pair.hi, pair.i_priv)
    send_key, recv_key, initiator, local_index, remote_index = noise.begin_session(pair.hi)
    assert initiator and local_index == 7
    ups = _upcalls(side)
    assert len(ups) == 1
    kind, up, remote, _ = ups[0]
    assert kind == side.dp.UP_HANDSHAKE and len(up) == 104
    assert remote == sender.getsockname()
    assert int.from_bytes(up[0:4], "little") == side.peer
    assert int.from_bytes(up[4:8], "little") == response.sender == remote_index
    assert int.from_bytes(up[8:12], "little") == 7
    assert up[12:24] == ts
    assert up[24:40] == data[60:76]                 # the response's mac1
    assert (up[40:72], up[72:104]) == (recv_key, send_key)
    assert side.dp.stats()["hs_responses"] == 1


def test_a_wrong_psk_gives_a_response_the_initiator_refuses(side, sender):
    pair = Pair(side, os.urandom(32))
    pair.hi.preshared_key = os.urandom(32)
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    data, _ = sender.recvfrom(2048)
    assert not noise.consume_response(messages.parse(data), pair.hi, pair.i_priv)


def test_replayed_initiation_is_refused(side, sender):
    pair = Pair(side)
    msg = pair.initiation()
    sender.sendto(msg, ("127.0.0.1", side.port))
    sender.recvfrom(2048)
    assert len(_upcalls(side)) == 1
    time.sleep(0.05)                    # past the flood limit: only the timestamp refuses it
    sender.sendto(msg, ("127.0.0.1", side.port))
    assert _stat(side, "hs_replay", 1) == 1
    assert _upcalls(side, 0.2) == []


def test_installed_timestamp_is_the_replay_floor(side, sender):
    pair = Pair(side, install=False)
    later = tai64n.monotonic(time.time() + 100, None)
    side.dp.hs_peer(side.peer, pair.i_pub, bytes(32),
                    crypto.x25519(pair.r_priv, pair.i_pub), later, 0)
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    assert _stat(side, "hs_replay", 1) == 1
    assert side.dp.stats()["hs_responses"] == 0


def test_initiations_faster_than_the_rate_are_refused(side, sender):
    pair = Pair(side, install=False)
    # Python's last consumption a second ahead: any initiation now is too soon (noise.py).
    side.dp.hs_peer(side.peer, pair.i_pub, bytes(32), crypto.x25519(pair.r_priv, pair.i_pub),
                    tai64n.ZERO, time.monotonic_ns() + 10**9)
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    assert _stat(side, "hs_flood", 1) == 1
    assert side.dp.stats()["hs_responses"] == 0


def test_unknown_and_removed_peers_get_nothing(side, sender):
    pair = Pair(side, install=False)
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    assert _stat(side, "hs_unknown_peer", 1) == 1
    assert side.dp.hs_peer(side.peer, pair.i_pub, bytes(32),
                           crypto.x25519(pair.r_priv, pair.i_pub), tai64n.ZERO, 0)
    assert side.dp.hs_peer(side.peer, None)
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    assert _stat(side, "hs_unknown_peer", 2) == 2
    assert _upcalls(side, 0.2) == []


def test_one_key_in_two_slots_is_refused(side):
    pair = Pair(side)
    other = side.dp.peer_add()
    assert not side.dp.hs_peer(other, pair.i_pub, bytes(32), bytes(32), tai64n.ZERO, 0)


def test_many_peers_are_found_after_removals(side, sender):
    """The static-key hash survives removals (linear probing's backward shift)."""
    dp = Side(side.dp.packet_max)
    try:
        pairs = []
        slots = []
        for _ in range(3):
            slots.append(dp.dp.peer_add())
        for slot in [dp.peer] + slots:
            i_pub = crypto.public_key(crypto.generate_private_key())
            assert dp.dp.hs_peer(slot, i_pub, bytes(32), bytes(32), tai64n.ZERO, 0)
            pairs.append((slot, i_pub))
        for slot, i_pub in pairs[:2]:
            assert dp.dp.hs_peer(slot, None)
        for slot, i_pub in pairs[2:]:       # still there: a second add of the key is refused
            assert not dp.dp.hs_peer(pairs[0][0], i_pub, bytes(32), bytes(32), tai64n.ZERO, 0)
        for slot, i_pub in pairs[:2]:       # gone: free to add again
            assert dp.dp.hs_peer(slot, i_pub, bytes(32), bytes(32), tai64n.ZERO, 0)
    finally:
        dp.close()


def test_garbage_with_a_right_mac1_is_counted_as_undecryptable(side, sender):
    pair = Pair(side)
    body = messages.Initiation(9, os.urandom(32), os.urandom(48), os.urandom(28)).pack()
    sender.sendto(pair.gen.add_macs(body, 0.0), ("127.0.0.1", side.port))
    assert _stat(side, "hs_decrypt", 1) == 1
    assert _upcalls(side, 0.2) == []


def test_the_peers_cookie_stamps_mac2(side, sender):
    pair = Pair(side)
    checker = cookie.CookieChecker(os.urandom)
    checker.init(pair.i_pub)
    checker.refresh(time.monotonic())
    reply = checker.create_reply(bytes(messages.RESPONSE_SIZE), 1, ("127.0.0.1", side.port),
                                 time.monotonic())
    # What the responder's CookieGenerator would hold after consuming that reply.
    gen = cookie.CookieGenerator(pair.i_pub)
    gen.sent_mac1(bytes(16))
    assert gen.consume_reply(reply, time.monotonic())
    value, _ = gen.cookie
    side.dp.hs_cookie(side.peer, value, time.monotonic_ns())
    sender.sendto(pair.initiation(), ("127.0.0.1", side.port))
    data, _ = sender.recvfrom(2048)
    assert checker.check_mac2(data, ("127.0.0.1", side.port), time.monotonic())


def test_under_load_without_a_fresh_secret_initiations_go_up(side, sender):
    """Python rotates the cookie secret only when it sees handshake traffic."""
    pair = Pair(side)
    side.dp.set_cookie(pair.r_pub, os.urandom(32), 0)      # no secret yet
    n = UNDER_LOAD_HANDSHAKES_PER_SECOND + 20
    for i in range(n):
        body = messages.Initiation(i, os.urandom(32), os.urandom(48), os.urandom(28)).pack()
        sender.sendto(pair.gen.add_macs(body, 0.0), ("127.0.0.1", side.port))
    ups = []

    def accounted():
        stats = side.dp.stats()
        return stats["hs_decrypt"] + stats["hs_queue_full"] + len(ups)

    deadline = time.monotonic() + 5
    while accounted() < n and time.monotonic() < deadline:
        ups += _upcalls(side, 0.2)
    assert len(ups) >= 20 and all(kind == side.dp.UP_UDP for kind, *_ in ups)
    assert accounted() == n


def test_a_burst_from_many_peers_is_answered_once_each(side, sender):
    """The queue and the workers (one per CPU): every initiation of a burst gets one
    response the initiator accepts and one upcall."""
    r_priv = crypto.generate_private_key()
    r_pub = crypto.public_key(r_priv)
    side.dp.set_cookie(r_pub, os.urandom(32), time.monotonic_ns())
    side.dp.hs_set_key(r_priv, r_pub)
    gen = cookie.CookieGenerator(r_pub)
    slots = [side.peer] + [side.dp.peer_add() for _ in range(3)]
    initiators = {}
    for i, slot in enumerate(slots):
        i_priv = crypto.generate_private_key()
        i_pub = crypto.public_key(i_priv)
        assert side.dp.hs_peer(slot, i_pub, bytes(32), crypto.x25519(r_priv, i_pub),
                               tai64n.ZERO, 0)
        hi = noise.Handshake(remote_static=r_pub, static_static=crypto.x25519(i_priv, r_pub))
        msg = noise.create_initiation(hi, i_pub, noise.new_private_key(os.urandom),
                                      tai64n.monotonic(time.time(), None), 100 + i)
        initiators[100 + i] = (hi, i_priv, slot, gen.add_macs(msg.pack(), 0.0))
    for _, _, _, data in initiators.values():
        sender.sendto(data, ("127.0.0.1", side.port))
    answered = {}
    for _ in initiators:
        data, _ = sender.recvfrom(2048)
        response = messages.parse(data)
        hi, i_priv, slot, _ = initiators[response.receiver]
        assert noise.consume_response(response, hi, i_priv)
        answered[response.receiver] = slot
    ups = []
    deadline = time.monotonic() + 2
    while len(ups) < len(initiators) and time.monotonic() < deadline:
        ups += _upcalls(side, 0.2)
    assert sorted((int.from_bytes(u[8:12], "little"), int.from_bytes(u[0:4], "little"))
                  for _, u, _, _ in ups) == sorted(answered.items())
    assert side.dp.stats()["hs_responses"] == len(initiators)


def test_reinstalling_a_peer_keeps_the_later_replay_floor(side, sender):
    """A PSK change pushes the slot again with Python's timestamp, which may lag C's."""
    pair = Pair(side)
    msg = pair.initiation()
    sender.sendto(msg, ("127.0.0.1", side.port))
    sender.recvfrom(2048)
    assert side.dp.hs_peer(side.peer, pair.i_pub, os.urandom(32),
                           crypto.x25519(pair.r_priv, pair.i_pub), tai64n.ZERO, 0)
    time.sleep(0.05)
    sender.sendto(msg, ("127.0.0.1", side.port))
    assert _stat(side, "hs_replay", 1) == 1
