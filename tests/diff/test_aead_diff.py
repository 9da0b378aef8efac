"""wgpy.crypto's ChaCha20-Poly1305 / XChaCha20-Poly1305 against pyca/cryptography (OpenSSL)
on random keys, counters, nonces, AD and plaintexts of random lengths (hypothesis, fixed
derandomized profile from tests/conftest.py), including the in-place and batch paths."""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given
from hypothesis import strategies as st

from wgpy import crypto

keys = st.binary(min_size=32, max_size=32)
counters = st.integers(min_value=0, max_value=2**64 - 1)
# Lengths cluster around the 64-byte block, the multi-block (SIMD) edges and the
# 8 KiB chunks in which seal authenticates.
lengths = st.one_of(
    st.integers(0, 300),
    st.sampled_from([511, 512, 513, 1023, 1024, 1025, 1420, 1500, 4096,
                     8191, 8192, 8193, 20000]),
    st.integers(0, 5000),
)
ads = st.binary(max_size=80)


def wg_nonce(counter):
    return bytes(4) + counter.to_bytes(8, "little")


def payload(n, seed):
    return bytes((seed + 31 * i + (i >> 8)) & 0xFF for i in range(n))


@pytest.mark.parametrize("n", [8191, 8192, 8193, 16385, 20000])
def test_seal_chunk_edges_vs_openssl(n):
    """Every length here seals in more than one chunk or right at the edge."""
    key, pt = bytes(range(32)), payload(n, n & 0xFF)
    sealed = crypto.aead_seal(key, 7, pt, b"ad")
    assert sealed == ChaCha20Poly1305(key).encrypt(wg_nonce(7), pt, b"ad")
    assert crypto.aead_open(key, 7, sealed, b"ad") == pt


@given(keys, counters, lengths, st.integers(0, 255), ads)
def test_wg_seal_open_vs_openssl(key, counter, n, seed, ad):
    pt = payload(n, seed)
    sealed = crypto.aead_seal(key, counter, pt, ad)
    assert sealed == ChaCha20Poly1305(key).encrypt(wg_nonce(counter), pt, ad)
    assert crypto.aead_open(key, counter, sealed, ad) == pt


@given(keys, st.binary(min_size=12, max_size=12), lengths, st.integers(0, 255), ads)
def test_explicit_nonce_vs_openssl(key, nonce, n, seed, ad):
    pt = payload(n, seed)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, pt, ad)
    assert crypto.aead_seal_nonce(key, nonce, pt, ad) == sealed
    assert crypto.aead_open_nonce(key, nonce, sealed, ad) == pt


@given(keys, counters, lengths, st.integers(0, 255), st.integers(0, 2**20))
def test_tampering_is_refused(key, counter, n, seed, where):
    sealed = bytearray(
        ChaCha20Poly1305(key).encrypt(wg_nonce(counter), payload(n, seed), None)
    )
    sealed[where % len(sealed)] ^= 1 << (where % 8)
    assert crypto.aead_open(key, counter, bytes(sealed)) is None


@given(keys, counters, lengths, st.integers(0, 255), st.integers(0, 3))
def test_in_place_vs_openssl(key, counter, n, seed, offset):
    pt = payload(n, seed)
    want = ChaCha20Poly1305(key).encrypt(wg_nonce(counter), pt, None)
    raw = bytearray(offset + n + 16 + 5)
    view = memoryview(raw)[offset:]  # an unaligned start, and spare room after the tag
    view[:n] = pt
    crypto.seal_in_place(key, counter, view, n)
    assert bytes(view[: n + 16]) == want
    assert bytes(raw[offset + n + 16 :]) == bytes(5)
    assert crypto.open_in_place(key, counter, view, n + 16) is True
    assert bytes(view[:n]) == pt


@given(
    keys,
    st.lists(
        st.tuples(lengths, counters, st.integers(0, 255)), min_size=0, max_size=12
    ),
    st.sets(st.integers(0, 11)),
)
def test_batch_vs_openssl(key, packets, forged):
    ossl = ChaCha20Poly1305(key)
    bufs = [bytearray(payload(n, s) + bytes(16)) for n, _, s in packets]
    batch = crypto.Batch(max(1, len(packets)))
    for buf, (n, c, _) in zip(bufs, packets):
        batch.add(buf, n, c, sealing=True)
    assert batch.seal(key) == len(packets)
    for i, (buf, (n, c, s)) in enumerate(zip(bufs, packets)):
        assert batch.status(i) == 0
        assert bytes(buf) == ossl.encrypt(wg_nonce(c), payload(n, s), None)

    bad = {i for i in forged if i < len(packets)}
    batch.clear()
    for i, (buf, (n, c, _)) in enumerate(zip(bufs, packets)):
        if i in bad:
            buf[-1] ^= 0x10
        batch.add(buf, n + 16, c, sealing=False)
    before = [bytes(b) for b in bufs]
    assert batch.open(key) == len(packets) - len(bad)
    for i, (buf, (n, c, s)) in enumerate(zip(bufs, packets)):
        if i in bad:
            assert batch.status(i) == -1 and bytes(buf) == before[i]
        else:
            assert batch.status(i) == 0 and bytes(buf[:n]) == payload(n, s)


def _hchacha20(key, n16):
    import struct

    m = 0xFFFFFFFF
    s = list(
        struct.unpack("<4I", b"expand 32-byte k")
        + struct.unpack("<8I", key)
        + struct.unpack("<4I", n16)
    )

    def qr(a, b, c, d):
        for x, y, z, r in ((a, b, d, 16), (c, d, b, 12), (a, b, d, 8), (c, d, b, 7)):
            s[x] = (s[x] + s[y]) & m
            v = s[z] ^ s[x]
            s[z] = ((v << r) | (v >> (32 - r))) & m

    for _ in range(10):
        qr(0, 4, 8, 12)
        qr(1, 5, 9, 13)
        qr(2, 6, 10, 14)
        qr(3, 7, 11, 15)
        qr(0, 5, 10, 15)
        qr(1, 6, 11, 12)
        qr(2, 7, 8, 13)
        qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


@given(
    keys,
    st.binary(min_size=24, max_size=24),
    st.integers(0, 600),
    st.integers(0, 255),
    ads,
)
def test_xchacha_vs_openssl_with_python_hchacha(key, nonce, n, seed, ad):
    pt = payload(n, seed)
    want = ChaCha20Poly1305(_hchacha20(key, nonce[:16])).encrypt(
        bytes(4) + nonce[16:], pt, ad
    )
    assert crypto.xaead_seal(key, nonce, pt, ad) == want
    assert crypto.xaead_open(key, nonce, want, ad) == pt
