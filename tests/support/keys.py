"""Key pairs for the labs' peers, in wg's base64 (wgpy.keys, checked against `wg genkey |
wg pubkey` in tests/keys)."""

from wgpy import keys


def genkey():
    """(private, public)."""
    private = keys.generate()
    return private, keys.public_key(private)
