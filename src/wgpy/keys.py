"""WireGuard keys as text, the way `wg` prints them: 44 characters of base64 for 32 bytes.

The one copy of key generation, encoding and derivation for everything above the protocol
(UCI, the CLI, ubus, the web); the protocol itself works on raw bytes (wgpy.crypto).
"""

import binascii

from wgpy import crypto


def encode(raw: bytes) -> str:
    return binascii.b2a_base64(raw)[:-1].decode()  # without the newline it appends


def decode(text: str) -> bytes:
    """The 32 bytes of a key; ValueError unless `is_key(text)`."""
    if not is_key(text):
        raise ValueError("not a WireGuard key (44 characters of base64)")
    return binascii.a2b_base64(text.encode())


def is_key(text) -> bool:
    """True if `text` is a str holding a key exactly as `wg` prints it (canonical base64)."""
    if not isinstance(text, str) or len(text) != 44:
        return False
    try:
        raw = binascii.a2b_base64(text.encode())
    except Exception:  # noqa: BLE001 - binascii.Error; micropython-lib's raises a bare Exception
        return False
    # Canonical form only (which also rules out any character outside base64, skipped by
    # the decoder): `wg` refuses a last character with stray low bits.
    return len(raw) == crypto.KEY_LEN and encode(raw) == text


def generate() -> str:
    """A fresh private key (as `wg genkey`; also serves as a preshared key, `wg genpsk`)."""
    return encode(crypto.generate_private_key())


def public_key(private: str) -> "str | None":
    """The public key of a private key (as `wg pubkey`), or None if `private` is not a key."""
    if not is_key(private):
        return None
    return encode(crypto.public_key(binascii.a2b_base64(private.encode())))
