"""BLAKE2s known answers through wgpy.crypto: the 512 BLAKE2 KATs (256 unkeyed, 256
keyed), RFC 7693 Appendix B, and WireGuard's 16-byte keyed MAC against hashlib."""

import hashlib

import pytest

from wgpy import crypto

from ._vectors import load, rfc

h = bytes.fromhex


def _kats():
    out = []
    for i, e in enumerate(load("blake2s-kat.json")):
        kind = "keyed" if e["key"] else "unkeyed"
        out.append(pytest.param(e, id=f"kat{i:03d}-{kind}-{len(e['in']) // 2}B"))
    return out


@pytest.mark.parametrize("e", _kats())
def test_blake2_kat(e):
    assert crypto.blake2s(h(e["in"]), 32, h(e["key"])) == h(e["out"])


@pytest.mark.parametrize("v", rfc("blake2s"))
def test_rfc7693(v):
    assert crypto.blake2s(h(v["input"]), v["out_len"], h(v["key"])) == h(v["out"])


@pytest.mark.parametrize("out_len", [1, 16, 20, 31, 32])
@pytest.mark.parametrize("key_len", [0, 1, 16, 32])
@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 200])
def test_output_and_key_lengths_vs_hashlib(out_len, key_len, n):
    data, key = bytes(range(n % 256)) * (n // 256 + 1), bytes(range(100, 100 + key_len))
    data = data[:n]
    assert (
        crypto.blake2s(data, out_len, key)
        == hashlib.blake2s(data, digest_size=out_len, key=key).digest()
    )


@pytest.mark.parametrize("n", [0, 1, 116, 148, 200])
def test_mac_is_keyed_blake2s_128(n):
    key, data = bytes(range(32)), bytes(range(n))
    assert (
        crypto.mac(key, data) == hashlib.blake2s(data, digest_size=16, key=key).digest()
    )
