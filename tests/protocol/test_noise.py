"""Noise IKpsk2: the cacophony vector on the generic layer, then WireGuard's handshake."""

import hashlib
import json
import pathlib

import pytest

from wgpy import crypto
from wgpy.protocol import messages, noise, tai64n
from wgpy.protocol.constants import CONSTRUCTION, IDENTIFIER

from wgtestlib import HandshakePeer, handshake_pair, make_rng

_NAME = "noise_IKpsk2_25519_ChaChaPoly_BLAKE2s_cacophony.json"
_HERE = pathlib.Path(__file__).parent
_CANDIDATES = [_HERE.parent / "vectors" / _NAME, pathlib.Path("/work/shared/vectors") / _NAME]


@pytest.fixture(scope="module")
def vector():
    path = next(p for p in _CANDIDATES if p.exists())
    raw = json.loads(path.read_text())["vectors"][0]
    out = {k: bytes.fromhex(v) for k, v in raw.items()
           if isinstance(v, str) and k != "protocol_name"}
    out.update(protocol_name=raw["protocol_name"], messages=raw["messages"],
               init_psks=[bytes.fromhex(p) for p in raw["init_psks"]],
               resp_psks=[bytes.fromhex(p) for p in raw["resp_psks"]])
    return out


@pytest.fixture(scope="module")
def run(vector):
    """Play the vector: both sides' states after messages 1 and 2, and the wire bytes."""
    v = vector
    name = v["protocol_name"].encode()
    rs = crypto.public_key(v["resp_static"])
    assert rs == v["init_remote_static"]
    init = noise.initial_state(name, v["init_prologue"], rs)
    resp = noise.initial_state(name, v["resp_prologue"], rs)
    payloads = [bytes.fromhex(m["payload"]) for m in v["messages"]]
    si = v["init_static"]
    e_pub, enc_s, enc_p = noise.write_message1(init, v["init_ephemeral"], crypto.public_key(si),
                                               rs, crypto.x25519(si, rs), payloads[0])
    got_static = noise.read_message1_static(resp, v["resp_static"], e_pub, enc_s)
    got_p1 = noise.read_message1_payload(resp, crypto.x25519(v["resp_static"], got_static), enc_p)
    psk = v["init_psks"][0]
    re_pub, enc_p2 = noise.write_message2(resp, v["resp_ephemeral"], e_pub, got_static, psk,
                                          payloads[1])
    got_p2 = noise.read_message2(init, v["init_ephemeral"], si, re_pub, v["resp_psks"][0], enc_p2)
    return dict(init=init, resp=resp, payloads=payloads, m1=e_pub + enc_s + enc_p,
                m2=re_pub + enc_p2, got=(got_static, got_p1, got_p2))


def test_vector_message1(vector, run):
    assert run["m1"].hex() == vector["messages"][0]["ciphertext"]
    assert run["got"][0] == crypto.public_key(vector["init_static"])
    assert run["got"][1] == run["payloads"][0]


def test_vector_message2(vector, run):
    assert run["m2"].hex() == vector["messages"][1]["ciphertext"]
    assert run["got"][2] == run["payloads"][1]


def test_vector_handshake_hash(vector, run):
    assert run["init"].h == vector["handshake_hash"]
    assert run["resp"].h == vector["handshake_hash"]


@pytest.mark.parametrize("i", [2, 3, 4, 5])
def test_vector_transport_messages(vector, run, i):
    init_send, init_recv = run["init"].split(True)
    resp_send, resp_recv = run["resp"].split(False)
    assert (init_send, init_recv) == (resp_recv, resp_send)
    key = init_send if i % 2 == 0 else resp_send      # messages alternate, initiator first
    counter = (i - 2) // 2
    ciphertext = crypto.aead_seal(key, counter, run["payloads"][i])
    assert ciphertext.hex() == vector["messages"][i]["ciphertext"]


def test_wireguard_initial_state_matches_paper():
    ck = hashlib.blake2s(CONSTRUCTION).digest()
    h = hashlib.blake2s(hashlib.blake2s(ck + IDENTIFIER).digest() + b"R" * 32).digest()
    state = noise.wireguard_initial_state(b"R" * 32)
    assert (state.ck, state.h) == (ck, h)


def _initiate(rng, side_i, ts=tai64n.from_wall(1.7e9)):
    i_priv, i_pub, hi = side_i
    msg = noise.create_initiation(hi, i_pub, noise.new_private_key(rng), ts, 7)
    return messages.parse(msg.pack())


def test_wireguard_handshake_between_two_peers(rng):
    side_i, side_r, lookup = handshake_pair(rng, b"k" * 32, b"k" * 32)
    (i_priv, _, hi), (r_priv, r_pub, hr) = side_i, side_r
    init = _initiate(rng, side_i)
    peer = noise.consume_initiation(init, r_priv, r_pub, lookup, 100.0)
    assert isinstance(peer, HandshakePeer) and hr.remote_index == 7
    resp = messages.parse(noise.create_response(hr, noise.new_private_key(rng), 9).pack())
    assert noise.consume_response(resp, hi, i_priv)
    si, ri, initiator_i, li, rmi = noise.begin_session(hi)
    sr, rr, initiator_r, lr, rmr = noise.begin_session(hr)
    assert (si, ri) == (rr, sr) and initiator_i and not initiator_r
    assert (li, rmi, lr, rmr) == (7, 9, 9, 7)
    assert hi.state is hr.state is noise.HandshakeState.ZEROED


def test_wireguard_handshake_psk_mismatch(rng):
    side_i, side_r, lookup = handshake_pair(rng, b"a" * 32, b"b" * 32)
    init = _initiate(rng, side_i)
    noise.consume_initiation(init, side_r[0], side_r[1], lookup, 100.0)
    resp = noise.create_response(side_r[2], noise.new_private_key(rng), 9)
    assert not noise.consume_response(resp, side_i[2], side_i[0])
    assert side_i[2].state is noise.HandshakeState.CREATED_INITIATION   # unchanged


def test_consume_initiation_rejections(rng):
    side_i, side_r, lookup = handshake_pair(rng)
    r_priv, r_pub, hr = side_r
    init = _initiate(rng, side_i)
    assert noise.consume_initiation(init, r_priv, r_pub, lambda k: None, 1.0) is noise.Reject.UNKNOWN_PEER
    assert isinstance(noise.consume_initiation(init, r_priv, r_pub, lookup, 1.0), HandshakePeer)
    assert noise.consume_initiation(init, r_priv, r_pub, lookup, 2.0) is noise.Reject.REPLAY
    newer = _initiate(rng, side_i, tai64n.from_wall(1.8e9))
    assert noise.consume_initiation(newer, r_priv, r_pub, lookup, 1.01) is noise.Reject.FLOOD
    tampered = messages.parse(newer.pack()[:40] + b"\xff" + newer.pack()[41:])
    assert noise.consume_initiation(tampered, r_priv, r_pub, lookup, 5.0) is noise.Reject.DECRYPT


def test_low_order_ephemeral_rejected(rng):
    side_i, side_r, lookup = handshake_pair(rng)
    init = _initiate(rng, side_i)
    init.ephemeral = bytes(32)                   # the all-zero point gives an all-zero DH
    assert noise.consume_initiation(init, side_r[0], side_r[1], lookup, 1.0) is noise.Reject.DECRYPT


def test_create_response_requires_consumed_initiation(rng):
    hs = noise.Handshake(remote_static=bytes(32))
    assert noise.create_response(hs, noise.new_private_key(rng), 1) is None
    assert noise.begin_session(hs) is None


def test_new_private_key_is_clamped():
    k = noise.new_private_key(make_rng(1))
    assert k[0] & 7 == 0 and k[31] & 0x80 == 0 and k[31] & 0x40
