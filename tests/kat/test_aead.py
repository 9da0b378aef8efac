"""ChaCha20-Poly1305 and XChaCha20-Poly1305 known answers through wgpy.crypto.

RFC 8439 §2.8.2 / A.5, draft-irtf-cfrg-xchacha-03 §A.3.1, and every Wycheproof case:
valid cases must seal to exactly ct||tag and open back; invalid ones must be refused
(open returns None, or the facade raises ValueError for a nonce size it cannot take).
"""

import pytest

from wgpy import crypto

from ._vectors import rfc, wycheproof

h = bytes.fromhex


@pytest.mark.parametrize("v", rfc("aead"))
def test_rfc8439_aead(v):
    key, nonce, aad, pt = h(v["key"]), h(v["nonce"]), h(v["aad"]), h(v["plaintext"])
    sealed = h(v["ciphertext"]) + h(v["tag"])
    assert crypto.aead_seal_nonce(key, nonce, pt, aad) == sealed
    assert crypto.aead_open_nonce(key, nonce, sealed, aad) == pt


@pytest.mark.parametrize("v", rfc("xaead"))
def test_xchacha_draft_aead(v):
    key, nonce, aad, pt = h(v["key"]), h(v["nonce"]), h(v["aad"]), h(v["plaintext"])
    sealed = h(v["ciphertext"]) + h(v["tag"])
    assert crypto.xaead_seal(key, nonce, pt, aad) == sealed
    assert crypto.xaead_open(key, nonce, sealed, aad) == pt


def _check(t, seal, open_, nonce_len):
    key, iv, aad, msg = h(t["key"]), h(t["iv"]), h(t["aad"]), h(t["msg"])
    sealed = h(t["ct"]) + h(t["tag"])
    if t["result"] == "valid":
        assert len(iv) == nonce_len
        assert seal(key, iv, msg, aad) == sealed
        assert open_(key, iv, sealed, aad) == msg
        return
    if len(iv) != nonce_len:
        with pytest.raises(ValueError):
            open_(key, iv, sealed, aad)
    else:
        assert open_(key, iv, sealed, aad) is None


@pytest.mark.parametrize("t", wycheproof("wycheproof_chacha20_poly1305_test.json"))
def test_wycheproof_chacha20_poly1305(t):
    _check(t, crypto.aead_seal_nonce, crypto.aead_open_nonce, 12)


@pytest.mark.parametrize("t", wycheproof("wycheproof_xchacha20_poly1305_test.json"))
def test_wycheproof_xchacha20_poly1305(t):
    _check(t, crypto.xaead_seal, crypto.xaead_open, 24)


@pytest.mark.parametrize(
    "t",
    [
        p
        for p in wycheproof("wycheproof_chacha20_poly1305_test.json")
        if p.values[0]["result"] == "valid" and len(p.values[0]["iv"]) == 24
    ],
)
def test_wycheproof_through_wireguard_nonce(t):
    """The WireGuard form (0^4 || le64 counter) when the vector's nonce has that shape,
    else consistency with the explicit-nonce AEAD on the same counter."""
    key, iv, aad, msg = h(t["key"]), h(t["iv"]), h(t["aad"]), h(t["msg"])
    counter = int.from_bytes(iv[4:], "little")
    sealed = crypto.aead_seal(key, counter, msg, aad)
    assert sealed == crypto.aead_seal_nonce(key, bytes(4) + iv[4:], msg, aad)
    assert crypto.aead_open(key, counter, sealed, aad) == msg
    if iv[:4] == bytes(4):
        assert sealed == h(t["ct"]) + h(t["tag"])
