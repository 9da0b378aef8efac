"""wgpy.keys: known answers (RFC 7748), properties, and `wg` itself as the reference."""

import base64
import shutil
import subprocess

import pytest
from hypothesis import given, strategies as st

from wgpy import keys

# RFC 7748 section 6.1: Alice's private and public key.
ALICE_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
WG = shutil.which("wg")


def test_public_key_known_answer():
    assert keys.public_key(keys.encode(ALICE_PRIVATE)) == keys.encode(ALICE_PUBLIC)


@given(st.binary(min_size=32, max_size=32))
def test_every_32_byte_value_round_trips(raw):
    text = keys.encode(raw)
    assert len(text) == 44 and keys.is_key(text) and keys.decode(text) == raw


@given(st.binary(min_size=32, max_size=32))
def test_stray_low_bits_in_the_last_character_are_refused(raw):
    """The 44th character carries 4 bits of data and 2 that must be zero, as `wg` insists."""
    text = keys.encode(raw)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(text[42])
    for stray in (1, 2, 3):
        bad = text[:42] + alphabet[last | stray] + "="
        if bad != text:
            assert not keys.is_key(bad) and keys.public_key(bad) is None
            with pytest.raises(ValueError):
                keys.decode(bad)


@pytest.mark.parametrize("text", [
    None, 42, b"x" * 44, "", "A" * 43, "A" * 44, "A" * 43 + "=\n", " " + "A" * 42 + "=",
    base64.b64encode(bytes(31)).decode(), base64.b64encode(bytes(33)).decode(),
    "A" * 42 + "==", "!" * 43 + "=",
])
def test_what_is_not_a_key(text):
    assert not keys.is_key(text) and keys.public_key(text) is None


def test_generate_is_a_clamped_private_key():
    for _ in range(20):
        raw = keys.decode(keys.generate())
        assert raw[0] & 7 == 0 and raw[31] & 0x80 == 0 and raw[31] & 0x40


@pytest.mark.skipif(WG is None, reason="wg (Debian wireguard-tools) is not installed")
def test_against_wg():
    """`wg genkey | wg pubkey` and wgpy agree both ways."""
    for _ in range(5):
        theirs = subprocess.run([WG, "genkey"], capture_output=True, text=True,
                                check=True).stdout.strip()
        assert keys.is_key(theirs)
        mine = keys.generate()
        for private in (theirs, mine):
            public = subprocess.run([WG, "pubkey"], input=private + "\n", capture_output=True,
                                    text=True, check=True).stdout.strip()
            assert keys.public_key(private) == public
