"""The Noise_IKpsk2 handshake as WireGuard uses it (kernel noise.c, wireguard-go noise-protocol.go).

Two layers live here. The lower one is generic Noise IKpsk2 with the
prologue and payloads as parameters, so the cacophony test vector can check
it. The upper one is WireGuard's use of it: per-peer Handshake state,
create/consume of initiation and response, and begin_session. Index
allocation, timers and sending belong to the caller (peer.py, device.py).
Rule: consume_* never raise on remote bytes and never change state on failure.
Where the C core has the handshake (wgpy.handshake_native: always on CPython), the
WireGuard layer runs each message as one C call on a `struct wgc_hs` kept in
Handshake.symmetric; the generic layer below stays the spec, and NATIVE = None selects
it (tests compare the two byte for byte).
"""

import math

from wgpy import crypto
from wgpy.runtime.compat import Record, lru_cache

try:
    from wgpy import handshake_native as NATIVE
except ImportError:         # a runtime without the C handshake (MicroPython, #13)
    NATIVE = None

from . import messages, tai64n
from .constants import CONSTRUCTION, HANDSHAKE_INITIATION_RATE, IDENTIFIER, KEY_LEN

ZERO_KEY = bytes(KEY_LEN)


class HandshakeState:
    ZEROED = 0
    CREATED_INITIATION = 1
    CONSUMED_INITIATION = 2
    CREATED_RESPONSE = 3
    CONSUMED_RESPONSE = 4


class Reject:
    """Why an initiation was refused: the strings are drop-counter reasons."""
    DECRYPT = "initiation_decrypt"
    UNKNOWN_PEER = "initiation_unknown_peer"
    NO_STATIC_STATIC = "initiation_no_static_static"
    REPLAY = "initiation_replay"
    FLOOD = "initiation_flood"


def hash_(data: bytes) -> bytes:
    """HASH() of the paper: unkeyed BLAKE2s-256."""
    return crypto.blake2s(data)


def dh(private: bytes, public: bytes):
    """X25519, or None for a low-order public key (all-zero result)."""
    try:
        return crypto.x25519(private, public)
    except crypto.CryptoError:
        return None


def new_private_key(rng) -> bytes:
    """A clamped Curve25519 private key from rng(32)."""
    k = bytearray(rng(32))
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return bytes(k)


# ---- Generic Noise symmetric state (Noise spec section 5.2) ----

class SymmetricState:
    """Chaining key ck, hash h and the current cipher key with its nonce."""

    __slots__ = ("ck", "h", "k", "n")

    def __init__(self, ck: bytes, h: bytes, k=None, n: int = 0):
        self.ck, self.h, self.k, self.n = ck, h, k, n

    @classmethod
    def initialize(cls, protocol_name: bytes, prologue: bytes) -> "SymmetricState":
        """InitializeSymmetric(protocol_name) then MixHash(prologue)."""
        if len(protocol_name) <= 32:
            h = protocol_name + bytes(32 - len(protocol_name))
        else:
            h = hash_(protocol_name)
        state = cls(h, h)
        state.mix_hash(prologue)
        return state

    def copy(self) -> "SymmetricState":
        """An independent copy, so failed consumption leaves the original intact."""
        return SymmetricState(self.ck, self.h, self.k, self.n)

    def mix_hash(self, data: bytes) -> None:
        self.h = hash_(self.h + data)

    def mix_key(self, data: bytes) -> None:
        self.ck, self.k = crypto.kdf(self.ck, data, 2)
        self.n = 0

    def mix_key_and_hash(self, data: bytes) -> None:
        self.ck, tau, self.k = crypto.kdf(self.ck, data, 3)
        self.mix_hash(tau)
        self.n = 0

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = crypto.aead_seal(self.k, self.n, plaintext, self.h)
        self.n += 1
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes):
        """Plaintext, or None when the tag fails (state then unusable: copy first)."""
        plaintext = crypto.aead_open(self.k, self.n, ciphertext, self.h)
        if plaintext is None:
            return None
        self.n += 1
        self.mix_hash(ciphertext)
        return plaintext

    def split(self, initiator: bool):
        """(send_key, recv_key) for this side: KDF2(ck, empty)."""
        first, second = crypto.kdf(self.ck, b"", 2)
        return (first, second) if initiator else (second, first)


def initial_state(protocol_name: bytes, prologue: bytes, responder_static: bytes):
    """Both sides' state before message 1: name, prologue, then the pre-message `<- s`."""
    state = SymmetricState.initialize(protocol_name, prologue)
    state.mix_hash(responder_static)
    return state


# ---- Generic IKpsk2 message patterns (each Noise token marked) ----

def write_message1(state, e_priv, s_pub, rs_pub, static_static, payload):
    """-> e, es, s, ss: returns (e_pub, encrypted_static, encrypted_payload) or None."""
    e_pub = crypto.public_key(e_priv)
    state.mix_hash(e_pub)                       # e
    state.mix_key(e_pub)                        # e (psk mode mixes it into ck too)
    es = dh(e_priv, rs_pub)                     # es
    if es is None or static_static is None:
        return None
    state.mix_key(es)
    encrypted_static = state.encrypt_and_hash(s_pub)    # s
    state.mix_key(static_static)                # ss
    return e_pub, encrypted_static, state.encrypt_and_hash(payload)


def read_message1_static(state, s_priv, e_pub, encrypted_static):
    """First half of reading message 1 (e, es, s): the initiator's static key or None."""
    state.mix_hash(e_pub)                       # e
    state.mix_key(e_pub)
    es = dh(s_priv, e_pub)                      # es
    if es is None:
        return None
    state.mix_key(es)
    return state.decrypt_and_hash(encrypted_static)     # s


def read_message1_payload(state, static_static, encrypted_payload):
    """Second half of reading message 1 (ss, payload): the payload or None."""
    if static_static is None:
        return None
    state.mix_key(static_static)                # ss
    return state.decrypt_and_hash(encrypted_payload)


def write_message2(state, e_priv, re_pub, rs_pub, psk, payload):
    """<- e, ee, se, psk: returns (e_pub, encrypted_payload) or None."""
    e_pub = crypto.public_key(e_priv)
    state.mix_hash(e_pub)                       # e
    state.mix_key(e_pub)
    ee = dh(e_priv, re_pub)                     # ee
    se = dh(e_priv, rs_pub)                     # se
    if ee is None or se is None:
        return None
    state.mix_key(ee)
    state.mix_key(se)
    state.mix_key_and_hash(psk)                 # psk
    return e_pub, state.encrypt_and_hash(payload)


def read_message2(state, e_priv, s_priv, re_pub, psk, encrypted_payload):
    """Read message 2 (e, ee, se, psk, payload): the payload or None."""
    state.mix_hash(re_pub)                      # e
    state.mix_key(re_pub)
    ee = dh(e_priv, re_pub)                     # ee
    se = dh(s_priv, re_pub)                     # se
    if ee is None or se is None:
        return None
    state.mix_key(ee)
    state.mix_key(se)
    state.mix_key_and_hash(psk)                 # psk
    return state.decrypt_and_hash(encrypted_payload)


# ---- WireGuard's handshake ----

@lru_cache(maxsize=64)
def wireguard_initial_state(responder_static: bytes) -> SymmetricState:
    """ck = HASH(CONSTRUCTION), h = HASH(ck || IDENTIFIER || responder static)."""
    return initial_state(CONSTRUCTION, IDENTIFIER, responder_static)


class Handshake(Record):
    """One peer's handshake (wireguard-go's Handshake struct)."""
    FIELDS = ("remote_static", "preshared_key", "static_static", "state", "symmetric",
              "local_ephemeral", "remote_ephemeral", "local_index", "remote_index",
              "last_timestamp", "last_initiation_consumption", "last_sent_handshake")
    DEFAULTS = {
        "preshared_key": ZERO_KEY,
        "static_static": None,          # DH(our static, their static), None if unusable
        "state": HandshakeState.ZEROED,
        "symmetric": None,              # a SymmetricState
        "local_ephemeral": None,
        "remote_ephemeral": None,
        "local_index": 0,
        "remote_index": 0,
        "last_timestamp": tai64n.ZERO,
        "last_initiation_consumption": -math.inf,
        "last_sent_handshake": -math.inf,
    }

    def clear(self) -> None:
        """Forget ephemeral state; keeps the replay timestamp and the pacing stamps."""
        _forget_state(self)
        self.state = HandshakeState.ZEROED
        self.local_ephemeral = None
        self.remote_ephemeral = None
        self.local_index = 0
        self.remote_index = 0


def _forget_state(hs: Handshake) -> None:
    """Wipe a C handshake state before it is dropped (Python's bytes cannot be wiped)."""
    if hs.symmetric is not None and not isinstance(hs.symmetric, SymmetricState):
        NATIVE.wipe(hs.symmetric)
    hs.symmetric = None


def create_initiation(hs: Handshake, local_static_pub: bytes, ephemeral_priv: bytes,
                      timestamp: bytes, sender_index: int):
    """Build message 1 for hs (macs left zero); None if the peer key is unusable."""
    if hs.static_static is None:
        return None
    if NATIVE is not None:
        out = NATIVE.create_initiation(local_static_pub, hs.remote_static, hs.static_static,
                                       ephemeral_priv, timestamp, sender_index)
        if out is None:
            return None
        state, raw = out
        msg = messages.Initiation(sender_index, raw[8:40], raw[40:88], raw[88:116])
    else:
        state = wireguard_initial_state(hs.remote_static).copy()
        out = write_message1(state, ephemeral_priv, local_static_pub, hs.remote_static,
                             hs.static_static, timestamp)
        if out is None:
            return None
        msg = messages.Initiation(sender_index, *out)
    _forget_state(hs)
    hs.symmetric, hs.local_ephemeral = state, ephemeral_priv
    hs.local_index = sender_index
    hs.state = HandshakeState.CREATED_INITIATION
    return msg


def _read_initiation(msg, local_static_priv: bytes, local_static_pub: bytes, lookup):
    """(peer, state, timestamp) from message 1, or a Reject."""
    if NATIVE is not None:
        raw = msg.pack()
        out = NATIVE.consume_initiation(raw, local_static_priv, local_static_pub)
        if out is None:
            return Reject.DECRYPT
        state, initiator_static = out
    else:
        state = wireguard_initial_state(local_static_pub).copy()
        initiator_static = read_message1_static(state, local_static_priv, msg.ephemeral,
                                                msg.encrypted_static)
        if initiator_static is None:
            return Reject.DECRYPT
    peer = lookup(initiator_static)
    if peer is None:
        return Reject.UNKNOWN_PEER
    hs = peer.handshake
    if hs.static_static is None:
        return Reject.NO_STATIC_STATIC
    if NATIVE is not None:
        timestamp = NATIVE.consume_initiation_payload(state, raw, hs.static_static)
    else:
        timestamp = read_message1_payload(state, hs.static_static, msg.encrypted_timestamp)
    if timestamp is None:
        return Reject.DECRYPT
    return peer, state, timestamp


def consume_initiation(msg, local_static_priv: bytes, local_static_pub: bytes, lookup, now: float):
    """The peer whose initiation msg is, or a Reject; lookup(static) gives a peer with .handshake."""
    result = _read_initiation(msg, local_static_priv, local_static_pub, lookup)
    if isinstance(result, str):     # a Reject reason
        return result
    peer, state, timestamp = result
    hs = peer.handshake
    # Why both: the timestamp stops replays of captured initiations, the rate check
    # stops a flood of fresh ones from burning our CPU.
    if not tai64n.is_after(timestamp, hs.last_timestamp):
        return Reject.REPLAY
    if now - hs.last_initiation_consumption <= HANDSHAKE_INITIATION_RATE:
        return Reject.FLOOD
    _forget_state(hs)
    hs.symmetric, hs.remote_index, hs.remote_ephemeral = state, msg.sender, msg.ephemeral
    hs.last_timestamp = timestamp
    hs.last_initiation_consumption = max(hs.last_initiation_consumption, now)
    hs.state = HandshakeState.CONSUMED_INITIATION
    return peer


def create_response(hs: Handshake, ephemeral_priv: bytes, sender_index: int):
    """Build message 2 after consume_initiation (macs left zero); None on failure."""
    if hs.state != HandshakeState.CONSUMED_INITIATION:
        return None
    if NATIVE is not None:
        raw = NATIVE.create_response(hs.symmetric, hs.remote_static, hs.preshared_key,
                                     ephemeral_priv, sender_index, hs.remote_index)
        if raw is None:
            return None
        state, ephemeral, encrypted_nothing = hs.symmetric, raw[12:44], raw[44:60]
    else:
        state = hs.symmetric.copy()
        out = write_message2(state, ephemeral_priv, hs.remote_ephemeral, hs.remote_static,
                             hs.preshared_key, b"")
        if out is None:
            return None
        ephemeral, encrypted_nothing = out
    hs.symmetric, hs.local_ephemeral, hs.local_index = state, ephemeral_priv, sender_index
    hs.state = HandshakeState.CREATED_RESPONSE
    return messages.Response(sender_index, hs.remote_index, ephemeral, encrypted_nothing)


def consume_response(msg, hs: Handshake, local_static_priv: bytes) -> bool:
    """Verify message 2 against our pending initiation; True updates hs."""
    if hs.state != HandshakeState.CREATED_INITIATION:
        return False
    if NATIVE is not None:
        if not NATIVE.consume_response(hs.symmetric, msg.pack(), local_static_priv,
                                       hs.preshared_key):
            return False
    else:
        state = hs.symmetric.copy()
        payload = read_message2(state, hs.local_ephemeral, local_static_priv, msg.ephemeral,
                                hs.preshared_key, msg.encrypted_nothing)
        if payload is None:
            return False
        hs.symmetric = state
    hs.remote_index = msg.sender
    hs.state = HandshakeState.CONSUMED_RESPONSE
    return True


def begin_session(hs: Handshake):
    """(send_key, recv_key, is_initiator, local_index, remote_index), zeroing hs; or None."""
    if hs.state == HandshakeState.CONSUMED_RESPONSE:
        initiator = True
    elif hs.state == HandshakeState.CREATED_RESPONSE:
        initiator = False
    else:
        return None
    if NATIVE is not None:
        send_key, recv_key = NATIVE.derive_keys(hs.symmetric, initiator)
    else:
        send_key, recv_key = hs.symmetric.split(initiator)
    result = (send_key, recv_key, initiator, hs.local_index, hs.remote_index)
    hs.clear()
    return result
