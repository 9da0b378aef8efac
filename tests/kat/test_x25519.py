"""X25519 known answers through wgpy.crypto: RFC 7748 §5.2/§6.1, the iterated test
(1 and 1,000 iterations) and every Wycheproof case. An all-zero shared secret must
raise CryptoError (WireGuard refuses such a handshake, as the kernel does)."""

import pytest

from wgpy import crypto

from ._vectors import rfc, wycheproof

h = bytes.fromhex


@pytest.mark.parametrize("t", wycheproof("wycheproof_x25519_test.json"))
def test_wycheproof_x25519(t):
    priv, pub, shared = h(t["private"]), h(t["public"]), h(t["shared"])
    if shared == bytes(32):
        with pytest.raises(crypto.CryptoError):
            crypto.x25519(priv, pub)
    else:
        assert crypto.x25519(priv, pub) == shared


@pytest.mark.parametrize("v", rfc("x25519"))
def test_rfc7748(v):
    scalar, u, out = h(v["scalar"]), h(v["u"]), h(v["out"])
    assert crypto.x25519(scalar, u) == out
    if u == (9).to_bytes(32, "little"):
        assert crypto.public_key(scalar) == out


@pytest.mark.parametrize("v", rfc("x25519_iterated"))
def test_rfc7748_iterated(v):
    k = u = (9).to_bytes(32, "little")
    for _ in range(v["iterations"]):
        k, u = crypto.x25519(k, u), k
    assert k == h(v["out"])


def test_generated_private_key_is_clamped():
    k = crypto.generate_private_key()
    assert len(k) == 32 and k[0] & 7 == 0 and k[31] & 0x80 == 0 and k[31] & 0x40
