"""wgpy's own password file: the scrypt parameters new hashes get, and old hashes moved to
them on the next good login (the memory a login burst can take depends on them)."""

import base64
import hashlib

from wgpy.web import auth


def _old_hash(password: str) -> str:
    """A hash as wgpy stored them before: N = 2^14, r = 8, p = 1 (16 MiB per check)."""
    salt = b"\x01" * 16
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1)
    return (f"scrypt$16384$8$1${base64.b64encode(salt).decode()}$"
            f"{base64.b64encode(digest).decode()}")


def test_new_hashes_hold_8_mib_and_verify():
    stored = auth.hash_password("correct horse")
    kind, n, r, p = stored.split("$")[:4]
    assert (kind, int(n), int(r), int(p)) == ("scrypt", 2 ** 13, 8, 2)
    assert 128 * int(r) * int(n) == 8 * 2 ** 20
    assert auth.check_hash("correct horse", stored)
    assert not auth.check_hash("correct horsE", stored)


def test_old_hash_verifies_and_is_rewritten_on_a_good_login(tmp_path):
    passwd = tmp_path / "web.passwd"
    passwd.write_text(_old_hash("correct horse") + "\n")
    passwords = auth.Passwords(str(passwd), shadow_path=str(tmp_path / "no-shadow"))

    assert not passwords.verify("wrong password")
    assert passwd.read_text().startswith("scrypt$16384$8$1$")  # a failure changes nothing

    assert passwords.verify("correct horse")
    assert passwd.read_text().startswith("scrypt$8192$8$2$")
    assert passwords.verify("correct horse")
    assert not passwords.verify("wrong password")
