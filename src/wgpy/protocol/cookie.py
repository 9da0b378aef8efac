"""MAC1/MAC2 and cookie replies (kernel cookie.c, wireguard-go cookie.go).

CookieChecker is our side as a receiver of handshakes: it checks mac1 with
our public key, checks mac2 under load, and makes cookie replies from a
secret rotated every COOKIE_REFRESH_TIME. CookieGenerator is per peer, our
side as a sender: it stamps mac1/mac2 and consumes cookie replies.
Rule: remote bytes never raise here; checks return bool / MacVerdict.
"""

import math

from wgpy import crypto
from wgpy.runtime.compat import compare_digest, packed_ip

from . import messages
from .constants import COOKIE_NONCE_LEN, COOKIE_REFRESH_TIME, LABEL_COOKIE, LABEL_MAC1, MAC_LEN


class MacVerdict:
    """Outcome of checking a handshake message's MACs (kernel cookie.h)."""
    INVALID_MAC = 0
    VALID_BUT_NO_COOKIE = 1
    VALID_WITH_COOKIE = 2


def mac1_key(public_key: bytes) -> bytes:
    """HASH("mac1----" || public key of the message's receiver)."""
    return crypto.blake2s(LABEL_MAC1 + public_key)


def cookie_key(public_key: bytes) -> bytes:
    """HASH("cookie--" || public key of the cookie reply's sender)."""
    return crypto.blake2s(LABEL_COOKIE + public_key)


def address_bytes(addr) -> bytes:
    """Source IP and port as the cookie input (wireguard-go feeds IP and port)."""
    host, port = addr[0], addr[1]
    try:
        packed = packed_ip(host.split("%", 1)[0])
    except ValueError:
        packed = host.encode()
    return packed + (port & 0xFFFF).to_bytes(2, "big")


def _keyed_mac(key: bytes, data: bytes) -> bytes:
    return crypto.blake2s(data, MAC_LEN, key)


class CookieChecker:
    """Validates incoming handshake MACs and creates cookie replies."""

    def __init__(self, rng):
        self._rng = rng
        self._mac1_key = None
        self._cookie_key = None
        self._secret = bytes(32)
        self._secret_set = -math.inf

    def init(self, public_key) -> None:
        """Rekey for our (new) public key, or None when we have no key."""
        self._mac1_key = mac1_key(public_key) if public_key else None
        self._cookie_key = cookie_key(public_key) if public_key else None
        self._secret_set = -math.inf

    def check_mac1(self, data: bytes) -> bool:
        """True when mac1 of handshake datagram data is valid for our key."""
        if self._mac1_key is None or len(data) < messages.MACS_SIZE:
            return False
        end = len(data) - messages.MACS_SIZE
        return compare_digest(_keyed_mac(self._mac1_key, data[:end]), data[end:end + MAC_LEN])

    def check_mac2(self, data: bytes, addr, now: float) -> bool:
        """True when mac2 is valid under the cookie we would give addr now."""
        if now - self._secret_set > COOKIE_REFRESH_TIME:
            return False
        cookie = _keyed_mac(self._secret, address_bytes(addr))
        end = len(data) - MAC_LEN
        return compare_digest(_keyed_mac(cookie, data[:end]), data[end:])

    def validate(self, data: bytes, addr, now: float) -> MacVerdict:
        """Both MACs at once, in the kernel's verdict form."""
        if not self.check_mac1(data):
            return MacVerdict.INVALID_MAC
        if self.check_mac2(data, addr, now):
            return MacVerdict.VALID_WITH_COOKIE
        return MacVerdict.VALID_BUT_NO_COOKIE

    def refresh(self, now: float) -> None:
        """Draw a new secret when the current one is older than COOKIE_REFRESH_TIME."""
        if now - self._secret_set > COOKIE_REFRESH_TIME:
            self._secret = self._rng(32)
            self._secret_set = now

    @property
    def secret(self):
        """(secret, when it was drawn): the C receive worker answers floods with it."""
        return self._secret, self._secret_set

    def create_reply(self, data: bytes, receiver: int, addr, now: float):
        """A CookieReply telling addr its cookie, bound to data's mac1."""
        self.refresh(now)
        cookie = _keyed_mac(self._secret, address_bytes(addr))
        end = len(data) - messages.MACS_SIZE
        nonce = self._rng(COOKIE_NONCE_LEN)
        sealed = crypto.xaead_seal(self._cookie_key, nonce, cookie, data[end:end + MAC_LEN])
        return messages.CookieReply(receiver, nonce, sealed)


class CookieGenerator:
    """Per-peer MAC stamping and cookie storage."""

    __slots__ = ("_mac1_key", "_cookie_key", "_last_mac1", "_cookie", "_cookie_set")

    def __init__(self, peer_public_key: bytes):
        self._mac1_key = mac1_key(peer_public_key)
        self._cookie_key = cookie_key(peer_public_key)
        self._last_mac1 = None
        self._cookie = None
        self._cookie_set = -math.inf

    def add_macs(self, data: bytes, now: float) -> bytes:
        """data (a packed handshake message with zero macs) with mac1 and maybe mac2 set."""
        end1 = len(data) - messages.MACS_SIZE
        body = data[:end1]
        mac1 = _keyed_mac(self._mac1_key, body)
        self._last_mac1 = mac1
        # Why the age check: the responder rotates its secret every 2 minutes, so an
        # older cookie can only produce an invalid mac2.
        if self._cookie is None or now - self._cookie_set > COOKIE_REFRESH_TIME:
            return body + mac1 + messages.ZERO_MAC
        return body + mac1 + _keyed_mac(self._cookie, body + mac1)

    def sent_mac1(self, mac1: bytes) -> None:
        """Someone else (the C responder) stamped and sent a message with this mac1."""
        self._last_mac1 = mac1

    @property
    def cookie(self):
        """(cookie, when it came) or None: the C responder stamps mac2 with it."""
        return None if self._cookie is None else (self._cookie, self._cookie_set)

    def consume_reply(self, reply, now: float) -> bool:
        """Store the cookie if reply decrypts against the last mac1 we sent."""
        if self._last_mac1 is None:
            return False
        cookie = crypto.xaead_open(self._cookie_key, reply.nonce, reply.encrypted_cookie,
                                   self._last_mac1)
        if cookie is None:
            return False
        self._cookie, self._cookie_set = cookie, now
        return True
