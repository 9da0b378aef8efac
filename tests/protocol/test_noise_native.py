"""The C handshake (core/handshake.c) against noise.py's pure-Python path, byte for byte."""

import pytest

from wgpy import crypto, handshake_native
from wgpy._native import ffi
from wgpy.protocol import messages, noise, tai64n

from wgtestlib import HandshakePeer, handshake_pair, make_keypair, make_rng


def _play(seed: int, psk_i: bytes, psk_r: bytes, tamper_response: bool = False):
    """One whole handshake; every wire byte and key it produced, in order."""
    rng = make_rng(seed)
    (i_priv, i_pub, hi), (r_priv, r_pub, hr), lookup = handshake_pair(rng, psk_i, psk_r)
    init = noise.create_initiation(hi, i_pub, noise.new_private_key(rng),
                                   tai64n.from_wall(1.7e9), 7).pack()
    peer = noise.consume_initiation(messages.parse(init), r_priv, r_pub, lookup, 100.0)
    assert isinstance(peer, HandshakePeer)
    resp = noise.create_response(hr, noise.new_private_key(rng), 9).pack()
    if tamper_response:
        resp = resp[:50] + bytes([resp[50] ^ 1]) + resp[51:]
    ok = noise.consume_response(messages.parse(resp), hi, i_priv)
    return init, resp, ok, noise.begin_session(hr), noise.begin_session(hi)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("psks", [(bytes(32), bytes(32)), (b"k" * 32, b"k" * 32),
                                  (b"a" * 32, b"b" * 32)])
def test_native_matches_python(monkeypatch, seed, psks):
    assert noise.NATIVE is handshake_native
    native = _play(seed, *psks)
    monkeypatch.setattr(noise, "NATIVE", None)
    assert _play(seed, *psks) == native
    assert native[2] is (psks[0] == psks[1])
    if native[2]:
        (sr, rr, *_), (si, ri, *_) = native[3], native[4]
        assert (si, ri) == (rr, sr)


def test_native_tampered_response_matches_python(monkeypatch):
    native = _play(5, bytes(32), bytes(32), tamper_response=True)
    assert native[2] is False and native[4] is None
    monkeypatch.setattr(noise, "NATIVE", None)
    assert _play(5, bytes(32), bytes(32), tamper_response=True) == native


def test_failed_consume_leaves_state_untouched():
    rng = make_rng(9)
    i_priv, i_pub = make_keypair(rng)
    r_priv, r_pub = make_keypair(rng)
    hi = noise.Handshake(remote_static=r_pub, static_static=crypto.x25519(i_priv, r_pub))
    noise.create_initiation(hi, i_pub, noise.new_private_key(rng), tai64n.from_wall(1.7e9), 7)
    before = bytes(ffi.buffer(hi.symmetric))
    bogus = messages.Response(9, 7, crypto.public_key(noise.new_private_key(rng)), b"x" * 16)
    assert not noise.consume_response(bogus, hi, i_priv)
    low_order = messages.Response(9, 7, bytes(32), b"x" * 16)
    assert not noise.consume_response(low_order, hi, i_priv)
    assert bytes(ffi.buffer(hi.symmetric)) == before


def test_clear_wipes_the_c_state():
    rng = make_rng(10)
    i_priv, i_pub = make_keypair(rng)
    _, r_pub = make_keypair(rng)
    hi = noise.Handshake(remote_static=r_pub, static_static=crypto.x25519(i_priv, r_pub))
    noise.create_initiation(hi, i_pub, noise.new_private_key(rng), tai64n.from_wall(1.7e9), 7)
    state = hi.symmetric
    assert any(bytes(ffi.buffer(state)))
    hi.clear()
    assert not any(bytes(ffi.buffer(state)))
