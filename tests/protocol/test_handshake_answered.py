"""Device.handshake_answered, the fast path's seam for initiations the C responder answered:
fed what dp_handshake.c computes (here noise.py computes it), the responder Device ends in the
state its own _receive_initiation would give: the session in `next` until confirmed, the index,
the replay timestamp, endpoint, counters and the mac1 a cookie reply would be bound to."""

import os

from wgpy import crypto
from wgpy.protocol import cookie, messages, noise
from wgpy.protocol.messages import MessageType

from wgtestlib import SEED, HandshakePeer, Pair


def _answer(pair, data):
    """What the C responder does with initiation `data` to B: (answer tuple, response bytes)."""
    msg = messages.parse(data)
    hs = noise.Handshake(remote_static=pair.a_pub, preshared_key=pair.pa.preshared_key,
                         static_static=crypto.x25519(pair.b_priv, pair.a_pub))
    assert noise.consume_initiation(msg, pair.b_priv, pair.b_pub, {pair.a_pub: HandshakePeer(hs)}.get,
                                    pair.now) is not None
    timestamp = hs.last_timestamp
    local_index = int.from_bytes(os.urandom(4), "little") | 1
    response = noise.create_response(hs, noise.new_private_key(os.urandom), local_index)
    send_key, recv_key, _, _, remote_index = noise.begin_session(hs)
    raw = cookie.CookieGenerator(pair.a_pub).add_macs(response.pack(), pair.now)
    return (local_index, remote_index, timestamp, raw[60:76], send_key, recv_key), raw


def _intercepted_initiation(pair):
    caught = []

    def keep(src, dst, payload):
        if messages.message_type(payload) == MessageType.INITIATION:
            caught.append(payload)
            return False
        return True
    pair.net.filter = keep
    pair.send_a_to_b()
    pair.net.filter = None
    assert len(caught) == 1
    return caught[0]


def test_answered_handshake_carries_traffic_both_ways():
    pair = Pair(SEED, psk_a=b"k" * 32, psk_b=b"k" * 32)
    data = _intercepted_initiation(pair)
    answer, raw = _answer(pair, data)
    pair.b.handshake_answered(pair.pa, answer, Pair.A_ADDR, pair.now)
    kp = pair.pa.keypairs.next
    assert kp is not None and not kp.is_initiator and kp.local_index == answer[0]
    assert pair.b.index.lookup(answer[0]).keypair is kp
    assert pair.pa.handshake.last_timestamp == answer[2]
    assert pair.pa.endpoint == Pair.A_ADDR
    assert pair.pa.rx_bytes == messages.INITIATION_SIZE
    assert pair.pa.tx_bytes == messages.RESPONSE_SIZE
    pair.a.receive_datagram(raw, Pair.B_ADDR, pair.now)
    pair.net.flush()
    assert pair.pa.keypairs.current is kp          # confirmed by A's first packet
    assert pair.b.packets_to_deliver()             # A's staged ping arrived
    back = pair.send_b_to_a(b"pong")
    assert pair.a.packets_to_deliver() == [back]
    assert not pair.a.drops and not pair.b.drops
    # The replay floor moved: the same initiation through Python's path is refused.
    pair.b.receive_datagram(data, Pair.A_ADDR, pair.now + 1)
    assert pair.b.drops["initiation_replay"] == 1


def test_the_cookie_reply_to_an_answered_response_is_accepted():
    pair = Pair(SEED)
    answer, raw = _answer(pair, _intercepted_initiation(pair))
    pair.b.handshake_answered(pair.pa, answer, Pair.A_ADDR, pair.now)
    checker = cookie.CookieChecker(os.urandom)
    checker.init(pair.a_pub)          # A, under load, answers B's response
    checker.refresh(pair.now)
    reply = checker.create_reply(raw, answer[0], Pair.A_ADDR, pair.now)
    assert pair.pa.cookie_generator.consume_reply(reply, pair.now)


def test_an_index_already_taken_drops_the_answer():
    pair = Pair(SEED)
    answer, _ = _answer(pair, _intercepted_initiation(pair))
    taken = pair.b.index.new_index(pair.pa, None)
    pair.b.handshake_answered(pair.pa, (taken,) + answer[1:], Pair.A_ADDR, pair.now)
    assert pair.b.drops["initiation_index_taken"] == 1
    assert pair.pa.keypairs.next is None
