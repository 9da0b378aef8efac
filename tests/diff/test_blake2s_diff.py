"""wgpy.crypto BLAKE2s / keyed MAC / HMAC / KDF against hashlib and hmac on random input."""

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from wgpy import crypto

data = st.one_of(st.binary(max_size=300), st.binary(min_size=500, max_size=3000))


@given(data, st.integers(1, 32), st.binary(max_size=32))
def test_blake2s_vs_hashlib(d, out_len, key):
    assert (
        crypto.blake2s(d, out_len, key)
        == hashlib.blake2s(d, digest_size=out_len, key=key).digest()
    )


@given(st.binary(max_size=200), data)
def test_hmac_vs_python(key, d):
    assert crypto.hmac_blake2s(key, d) == hmac.new(key, d, hashlib.blake2s).digest()


@given(st.binary(min_size=32, max_size=32), st.binary(max_size=100), st.integers(1, 3))
def test_kdf_vs_python(ck, d, n):
    t0 = hmac.new(ck, d, hashlib.blake2s).digest()
    want, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(t0, prev + bytes([i]), hashlib.blake2s).digest()
        want.append(prev)
    assert crypto.kdf(ck, d, n) == tuple(want)
