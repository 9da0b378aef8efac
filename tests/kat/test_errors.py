"""Local misuse raises ValueError at the wgpy.crypto boundary; a forged packet is not an
exception: the open functions return None (or False for open_in_place)."""

import pytest

from wgpy import crypto

KEY = bytes(range(32))


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33)])
@pytest.mark.parametrize(
    "call",
    [
        lambda k: crypto.aead_seal(k, 0, b"x"),
        lambda k: crypto.aead_open(k, 0, bytes(16)),
        lambda k: crypto.aead_seal_nonce(k, bytes(12), b"x"),
        lambda k: crypto.aead_open_nonce(k, bytes(12), bytes(16)),
        lambda k: crypto.xaead_seal(k, bytes(24), b"x"),
        lambda k: crypto.xaead_open(k, bytes(24), bytes(16)),
        lambda k: crypto.x25519(k, bytes(range(1, 33))),
        lambda k: crypto.x25519(KEY, k),
        lambda k: crypto.public_key(k),
        lambda k: crypto.mac(k, b""),
        lambda k: crypto.kdf(k, b"", 1),
        lambda k: crypto.seal_in_place(k, 0, bytearray(32), 16),
        lambda k: crypto.open_in_place(k, 0, bytearray(32), 16),
    ],
    ids=[
        "aead_seal",
        "aead_open",
        "aead_seal_nonce",
        "aead_open_nonce",
        "xaead_seal",
        "xaead_open",
        "x25519_private",
        "x25519_public",
        "public_key",
        "mac",
        "kdf",
        "seal_in_place",
        "open_in_place",
    ],
)
def test_wrong_key_length(bad, call):
    with pytest.raises(ValueError):
        call(bad)


@pytest.mark.parametrize("nonce_len", [0, 8, 11, 13, 16, 23, 25])
def test_wrong_nonce_length(nonce_len):
    with pytest.raises(ValueError):
        crypto.aead_seal_nonce(KEY, bytes(nonce_len), b"x")
    with pytest.raises(ValueError):
        crypto.xaead_open(KEY, bytes(nonce_len), bytes(16))


@pytest.mark.parametrize("n", [0, 1, 15])
def test_missing_tag(n):
    with pytest.raises(ValueError):
        crypto.aead_open(KEY, 0, bytes(n))
    with pytest.raises(ValueError):
        crypto.aead_open_nonce(KEY, bytes(12), bytes(n))
    with pytest.raises(ValueError):
        crypto.xaead_open(KEY, bytes(24), bytes(n))
    with pytest.raises(ValueError):
        crypto.open_in_place(KEY, 0, bytearray(n), n)


def test_short_buffers():
    with pytest.raises(ValueError):
        crypto.seal_in_place(KEY, 0, bytearray(20), 10)  # no room for the tag
    with pytest.raises(ValueError):
        crypto.open_in_place(KEY, 0, bytearray(20), 30)  # length past the buffer
    with pytest.raises(ValueError):
        crypto.seal_in_place(KEY, 0, bytearray(20), -1)
    batch = crypto.Batch(1)
    with pytest.raises(ValueError):
        batch.add(bytearray(20), 10, 0, sealing=True)
    with pytest.raises(ValueError):
        batch.add(bytearray(10), 10, 0, sealing=False)
    batch.add(bytearray(32), 16, 0, sealing=True)
    with pytest.raises(ValueError):
        batch.add(bytearray(32), 16, 1, sealing=True)  # full


def test_read_only_buffer_refused():
    with pytest.raises((TypeError, ValueError)):
        crypto.seal_in_place(KEY, 0, bytes(32), 16)


@pytest.mark.parametrize("out_len", [0, 33, -1])
def test_blake2s_bad_lengths(out_len):
    with pytest.raises(ValueError):
        crypto.blake2s(b"", out_len)


def test_blake2s_long_key():
    with pytest.raises(ValueError):
        crypto.blake2s(b"", 32, bytes(33))


@pytest.mark.parametrize("n", [0, 4])
def test_kdf_count(n):
    with pytest.raises(ValueError):
        crypto.kdf(KEY, b"", n)


@pytest.mark.parametrize("where", ["tag", "ciphertext", "ad", "counter"])
def test_forged_packet_returns_none(where):
    pt, ad = b"attack at dawn" * 5, b"header"
    sealed = bytearray(crypto.aead_seal(KEY, 9, pt, ad))
    counter = 9
    if where == "tag":
        sealed[-1] ^= 1
    elif where == "ciphertext":
        sealed[3] ^= 0x80
    elif where == "ad":
        ad = b"headeR"
    else:
        counter = 10
    assert crypto.aead_open(KEY, counter, bytes(sealed), ad) is None
    nonce = bytes(4) + counter.to_bytes(8, "little")
    assert crypto.aead_open_nonce(KEY, nonce, bytes(sealed), ad) is None


def test_forged_xaead_and_in_place():
    nonce = bytes(range(24))
    sealed = bytearray(crypto.xaead_seal(KEY, nonce, b"cookie" * 3))
    sealed[0] ^= 1
    assert crypto.xaead_open(KEY, nonce, bytes(sealed)) is None
    buf = bytearray(b"payload!" * 4 + bytes(16))
    crypto.seal_in_place(KEY, 3, buf, 32)
    buf[-1] ^= 1
    before = bytes(buf)
    assert crypto.open_in_place(KEY, 3, buf, 48) is False
    assert bytes(buf) == before  # output untouched on an authentication failure


def test_low_order_point_raises_crypto_error():
    with pytest.raises(crypto.CryptoError):
        crypto.x25519(KEY, bytes(32))
