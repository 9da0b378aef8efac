"""Bindings of the C handshake hot path (core/handshake.c, core/cookie.c).

Noise: one call per WireGuard handshake message on a caller-owned `struct wgc_hs`
(protocol/noise.py keeps the decisions and uses these when the C core is there).
Cookies: mac1/mac2 checks, cookie replies and the per-source rate limit as the
receive worker does them, exposed so tests hold them to protocol/cookie.py and
ratelimiter.py. Remote bytes never raise here: failures return None/False.
Through wgpy._native's helpers, so the same calls serve CPython and MicroPython.
"""

from wgpy._native import lib, new, sizeof, writable

INITIATION_LEN = lib.WGC_HS_INITIATION_LEN
RESPONSE_LEN = lib.WGC_HS_RESPONSE_LEN


def new_state():
    return new("wgc_hs")[0]


def wipe(state) -> None:
    lib.wgc_wipe(state, sizeof("wgc_hs"))


def create_initiation(s_pub, rs_pub, static_static, e_priv, timestamp, sender: int):
    """(state, 148-byte message with zero macs), or None for a low-order remote key."""
    state = new_state()
    msg = bytearray(INITIATION_LEN)
    if lib.wgc_hs_create_initiation(state, writable(msg), s_pub, rs_pub, static_static, e_priv,
                                    timestamp, sender) != 0:
        return None
    return state, bytes(msg)


def consume_initiation(msg: bytes, s_priv, s_pub):
    """(state, initiator's static key) from message 1, or None."""
    state = new_state()
    static = bytearray(32)
    if lib.wgc_hs_consume_initiation(state, writable(static), msg, s_priv, s_pub) != 0:
        return None
    return state, bytes(static)


def consume_initiation_payload(state, msg: bytes, static_static):
    """The decrypted timestamp (state advanced), or None (state unchanged)."""
    ts = bytearray(12)
    if lib.wgc_hs_consume_initiation_payload(state, writable(ts), msg, static_static) != 0:
        return None
    return bytes(ts)


def create_response(state, rs_pub, psk, e_priv, sender: int, receiver: int):
    """The 92-byte message 2 with zero macs (state advanced), or None (unchanged)."""
    msg = bytearray(RESPONSE_LEN)
    if lib.wgc_hs_create_response(state, writable(msg), rs_pub, psk, e_priv, sender,
                                  receiver) != 0:
        return None
    return bytes(msg)


def consume_response(state, msg: bytes, s_priv, psk) -> bool:
    """True (state advanced) if message 2 answers our message 1."""
    return lib.wgc_hs_consume_response(state, msg, s_priv, psk) == 0


def derive_keys(state, initiator: bool):
    """(send_key, recv_key); wipes state."""
    send, recv = bytearray(32), bytearray(32)
    lib.wgc_hs_derive_keys(state, writable(send), writable(recv), 1 if initiator else 0)
    keys = bytes(send), bytes(recv)
    for buf in (send, recv):
        lib.wgc_wipe(writable(buf), 32)
    return keys


# ---- cookies and the rate limit ----

def _addr(addr: bytes):
    if len(addr) not in (4, 16):
        raise ValueError("address must be 4 or 16 bytes")
    return addr


def cookie_keys(public_key: bytes):
    """(mac1 key, cookie key) for the receiver's public key."""
    mac1_key, cookie_key = bytearray(32), bytearray(32)
    lib.wgc_cookie_keys(writable(mac1_key), writable(cookie_key), public_key)
    return bytes(mac1_key), bytes(cookie_key)


def mac1_ok(msg: bytes, mac1_key: bytes) -> bool:
    return lib.wgc_mac1_check(msg, len(msg), mac1_key) == 0


def mac2_ok(msg: bytes, secret: bytes, addr: bytes, port: int) -> bool:
    a = _addr(addr)
    return lib.wgc_mac2_check(msg, len(msg), secret, a, len(a), port) == 0


def cookie_reply(msg: bytes, cookie_key: bytes, secret: bytes, addr: bytes, port: int,
                 nonce: bytes):
    """The 64-byte cookie reply to msg, or None if msg is too short."""
    a = _addr(addr)
    out = bytearray(64)
    if lib.wgc_cookie_reply(writable(out), msg, len(msg), cookie_key, secret, a, len(a), port,
                            nonce) != 0:
        return None
    return bytes(out)


class RateLimiter:
    """The C token-bucket table: allow(addr bytes, now seconds) -> bool."""

    def __init__(self, seed: int):
        self._r = new("wgc_ratelimit")[0]
        lib.wgc_ratelimit_init(self._r, seed)

    def allow(self, addr: bytes, now: float) -> bool:
        a = _addr(addr)
        return lib.wgc_ratelimit_allow(self._r, 4 if len(a) == 4 else 6, a,
                                       int(now * 1e9)) == 0
