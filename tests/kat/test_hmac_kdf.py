"""HMAC-BLAKE2s and WireGuard's KDF_n through wgpy.crypto, against Python's hmac +
hashlib (there are no official vectors for either)."""

import hashlib
import hmac

import pytest

from wgpy import crypto


def ref_hmac(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def ref_kdf(ck, data, n):
    t0 = ref_hmac(ck, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = ref_hmac(t0, prev + bytes([i]))
        out.append(prev)
    return tuple(out)


@pytest.mark.parametrize("key_len", [0, 1, 16, 32, 33, 63, 64, 65, 100, 200])
@pytest.mark.parametrize("n", [0, 1, 32, 63, 64, 65, 150])
def test_hmac_blake2s(key_len, n):
    key, data = (
        bytes((7 * i + 3) & 0xFF for i in range(key_len)),
        bytes((5 * i) & 0xFF for i in range(n)),
    )
    assert crypto.hmac_blake2s(key, data) == ref_hmac(key, data)


@pytest.mark.parametrize("n_out", [1, 2, 3])
@pytest.mark.parametrize("n", [0, 32, 100])
def test_kdf(n_out, n):
    ck, data = bytes(range(1, 33)), bytes((3 * i) & 0xFF for i in range(n))
    assert crypto.kdf(ck, data, n_out) == ref_kdf(ck, data, n_out)
