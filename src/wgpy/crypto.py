"""The C core's cryptographic primitives (through wgpy._native), for Python callers.

The same code runs on CPython and MicroPython: keys and nonces go to C as the bytes
they are (both bindings take bytes for a const pointer), other buffers through
wgpy._native's buffer(), which each runtime spells its own way. C writes only into
bytearrays made here, or into callers' buffers that writable() accepted.

Every other module calls these functions with bytes; lengths are checked
here so a mistake in our own code raises ValueError instead of reaching C
with a short buffer. Authentication failures are not exceptions: the open
functions return None, because forged packets are routine on the Internet.
"""

import os

from wgpy._native import NULL, buffer, c_string, lib, new, writable

KEY_LEN = lib.WGC_KEY_LEN
TAG_LEN = lib.WGC_TAG_LEN
MAC_LEN = lib.WGC_MAC_LEN
HASH_LEN = lib.WGC_BLAKE2S_OUT_LEN


class CryptoError(ValueError):
    """A cryptographic operation refused its input (e.g. a low-order point)."""


def check_length(name: str, value, length: int) -> None:
    """ValueError unless len(value) == length (before anything reaches C)."""
    if len(value) != length:
        raise ValueError(f"{name} must be {length} bytes, got {len(value)}")


# ---- X25519 ----

def generate_private_key() -> bytes:
    """A fresh clamped Curve25519 private key (as `wg genkey`)."""
    k = bytearray(os.urandom(32))
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return bytes(k)


def public_key(private: bytes) -> bytes:
    check_length("private key", private, KEY_LEN)
    out = bytearray(32)
    lib.wgc_x25519_public(buffer(out), private)
    return bytes(out)


def x25519(private: bytes, public: bytes) -> bytes:
    """Shared secret; raises CryptoError when it is all zeros (low-order point)."""
    check_length("private key", private, KEY_LEN)
    check_length("public key", public, KEY_LEN)
    out = bytearray(32)
    if lib.wgc_x25519(buffer(out), private, public) != 0:
        raise CryptoError("X25519 result is all zeros (low-order public key)")
    return bytes(out)


# ---- BLAKE2s, HMAC, KDF ----

def blake2s(data: bytes, out_len: int = HASH_LEN, key: bytes = b"") -> bytes:
    if not 1 <= out_len <= 32:
        raise ValueError("BLAKE2s output length must be 1..32")
    if len(key) > 32:
        raise ValueError("BLAKE2s key must be at most 32 bytes")
    out = bytearray(out_len)
    lib.wgc_blake2s(buffer(out), out_len, buffer(data), len(data), buffer(key), len(key))
    return bytes(out)


def mac(key: bytes, data: bytes) -> bytes:
    """Keyed BLAKE2s with a 16-byte output (WireGuard's MAC, for mac1/mac2)."""
    check_length("MAC key", key, 32)
    return blake2s(data, MAC_LEN, key)


def hmac_blake2s(key: bytes, data: bytes) -> bytes:
    out = bytearray(32)
    lib.wgc_hmac_blake2s(buffer(out), buffer(key), len(key), buffer(data), len(data))
    return bytes(out)


def kdf(chaining_key: bytes, data: bytes, n: int) -> tuple:
    """WireGuard's KDF_n: n (1..3) 32-byte outputs."""
    check_length("chaining key", chaining_key, 32)
    if not 1 <= n <= 3:
        raise ValueError("KDF output count must be 1..3")
    out = bytearray(32 * n)
    p = buffer(out)
    lib.wgc_kdf(p, n, chaining_key, buffer(data), len(data))
    raw = bytes(out)
    lib.wgc_wipe(p, 32 * n)
    return tuple(raw[i * 32:(i + 1) * 32] for i in range(n))


# ---- ChaCha20-Poly1305 ----

def _seal(fn, nonce, key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """ciphertext || tag from one of the C seal functions."""
    check_length("key", key, KEY_LEN)
    out = bytearray(len(plaintext) + TAG_LEN)
    fn(buffer(out), buffer(plaintext), len(plaintext), buffer(ad), len(ad), nonce, key)
    return bytes(out)


def _open(fn, nonce, key: bytes, ciphertext: bytes, ad: bytes):
    """Plaintext from one of the C open functions, or None on a forged tag."""
    check_length("key", key, KEY_LEN)
    if len(ciphertext) < TAG_LEN:
        raise ValueError("ciphertext is shorter than the 16-byte tag")
    out = bytearray(len(ciphertext) - TAG_LEN)
    if fn(buffer(out), buffer(ciphertext), len(ciphertext), buffer(ad), len(ad), nonce, key) != 0:
        return None
    return bytes(out)


def aead_seal(key: bytes, counter: int, plaintext: bytes, ad: bytes = b"") -> bytes:
    """WireGuard AEAD: nonce is the 64-bit little-endian counter."""
    return _seal(lib.wgc_wg_seal, counter, key, plaintext, ad)


def aead_open(key: bytes, counter: int, ciphertext: bytes, ad: bytes = b""):
    """Plaintext, or None when the tag does not verify."""
    return _open(lib.wgc_wg_open, counter, key, ciphertext, ad)


def aead_seal_nonce(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes = b"") -> bytes:
    """RFC 8439 AEAD with an explicit 12-byte nonce."""
    check_length("nonce", nonce, 12)
    return _seal(lib.wgc_aead_seal, nonce, key, plaintext, ad)


def aead_open_nonce(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes = b""):
    check_length("nonce", nonce, 12)
    return _open(lib.wgc_aead_open, nonce, key, ciphertext, ad)


def xaead_seal(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes = b"") -> bytes:
    """XChaCha20-Poly1305 (24-byte nonce), used for cookie replies."""
    check_length("nonce", nonce, 24)
    return _seal(lib.wgc_xaead_seal, nonce, key, plaintext, ad)


def xaead_open(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes = b""):
    check_length("nonce", nonce, 24)
    return _open(lib.wgc_xaead_open, nonce, key, ciphertext, ad)


# ---- In place and in batches (no copies: pointers into the caller's writable buffers) ----

def seal_in_place(key: bytes, counter: int, buf, length: int) -> None:
    """Encrypt buf[:length] in place and write the tag at buf[length:length+16]."""
    check_length("key", key, KEY_LEN)
    if length < 0 or len(buf) < length + TAG_LEN:
        raise ValueError("buffer has no room for the 16-byte tag")
    p = writable(buf)
    lib.wgc_wg_seal(p, p, length, NULL, 0, counter, key)


def open_in_place(key: bytes, counter: int, buf, length: int) -> bool:
    """Decrypt buf[:length] (ciphertext || tag) in place; False on a forged tag."""
    check_length("key", key, KEY_LEN)
    if length < TAG_LEN or len(buf) < length:
        raise ValueError("buffer is shorter than its length or than the tag")
    p = writable(buf)
    return lib.wgc_wg_open(p, p, length, NULL, 0, counter, key) == 0


class Batch:
    """A reusable batch of in-place transport payloads under one key.

    Build it once for a set of writable buffers, then seal or open them all
    with one call into C. Each entry is (buffer, length, counter).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items, self._view = new("wgc_batch_item", capacity)
        self._keep = [None] * capacity
        self.count = 0

    def clear(self) -> None:
        self.count = 0
        self._keep = [None] * self.capacity

    def add(self, buf, length: int, counter: int, sealing: bool) -> None:
        if self.count == self.capacity:
            raise ValueError("batch is full")
        need = length + TAG_LEN if sealing else length
        if length < (0 if sealing else TAG_LEN) or len(buf) < need:
            raise ValueError("buffer too short for this packet")
        p = writable(buf)
        item = self._view[self.count]
        item.data = p
        item.len = length
        item.counter = counter
        item.status = -1
        self._keep[self.count] = (buf, p)   # C holds an address into buf until clear()
        self.count += 1

    def seal(self, key: bytes) -> int:
        check_length("key", key, KEY_LEN)
        return lib.wgc_wg_seal_batch(self._items, self.count, key)

    def open(self, key: bytes) -> int:
        check_length("key", key, KEY_LEN)
        return lib.wgc_wg_open_batch(self._items, self.count, key)

    def status(self, i: int) -> int:
        return self._view[i].status


def implementation() -> str:
    return c_string(lib.wgc_impl())


class ReplayWindow:
    """The receive counter window of one keypair (8128 packets, in C)."""

    def __init__(self):
        self._r, _ = new("wgc_replay")
        lib.wgc_replay_init(self._r)

    def check(self, counter: int) -> bool:
        """Record counter; False if replayed, too old or past REJECT_AFTER_MESSAGES.

        Caller must call this only after the packet authenticated."""
        if not 0 <= counter < 1 << 64:
            return False
        return lib.wgc_replay_check(self._r, counter) == 0
