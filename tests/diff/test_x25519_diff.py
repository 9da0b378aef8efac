"""wgpy.crypto X25519 against pyca/cryptography (OpenSSL) on random scalars and points,
including non-canonical u (top bit set, u >= p) which both must accept."""

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st

from wgpy import crypto

scalars = st.binary(min_size=32, max_size=32)
points = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.integers(2**255 - 19, 2**256 - 1).map(lambda u: u.to_bytes(32, "little")),
)


@given(scalars, points)
def test_x25519_vs_openssl(k, u):
    try:
        want = X25519PrivateKey.from_private_bytes(k).exchange(
            X25519PublicKey.from_public_bytes(u)
        )
    except ValueError:  # OpenSSL refuses an all-zero result; so must we
        want = None
    if want is None:
        try:
            crypto.x25519(k, u)
        except crypto.CryptoError:
            return
        raise AssertionError("all-zero X25519 output not refused")
    assert crypto.x25519(k, u) == want


@given(scalars)
def test_public_key_vs_openssl(k):
    want = X25519PrivateKey.from_private_bytes(k).public_key().public_bytes_raw()
    assert crypto.public_key(k) == want


@given(scalars, scalars)
def test_diffie_hellman_agrees(a, b):
    assert crypto.x25519(a, crypto.public_key(b)) == crypto.x25519(
        b, crypto.public_key(a)
    )
