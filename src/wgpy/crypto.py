"""The one door to the C core (wgpy._wgcore).

Every other module calls these functions with bytes; lengths are checked
here so a mistake in our own code raises ValueError instead of reaching C
with a short buffer. Authentication failures are not exceptions: the open
functions return None, because forged packets are routine on the Internet.
"""

import os
import socket

from wgpy._wgcore import ffi, lib

KEY_LEN = lib.WGC_KEY_LEN
TAG_LEN = lib.WGC_TAG_LEN
MAC_LEN = lib.WGC_MAC_LEN
HASH_LEN = lib.WGC_BLAKE2S_OUT_LEN


class CryptoError(ValueError):
    """A cryptographic operation refused its input (e.g. a low-order point)."""


def _check(name: str, value, length: int) -> None:
    if len(value) != length:
        raise ValueError(f"{name} must be {length} bytes, got {len(value)}")


# ---- X25519 ----

def generate_private_key() -> bytes:
    """A fresh clamped Curve25519 private key (as `wg genkey`)."""
    k = bytearray(os.urandom(32))
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return bytes(k)


def public_key(private: bytes) -> bytes:
    _check("private key", private, KEY_LEN)
    out = ffi.new("uint8_t[32]")
    lib.wgc_x25519_public(out, private)
    return bytes(out)


def x25519(private: bytes, public: bytes) -> bytes:
    """Shared secret; raises CryptoError when it is all zeros (low-order point)."""
    _check("private key", private, KEY_LEN)
    _check("public key", public, KEY_LEN)
    out = ffi.new("uint8_t[32]")
    if lib.wgc_x25519(out, private, public) != 0:
        raise CryptoError("X25519 result is all zeros (low-order public key)")
    return bytes(out)


# ---- BLAKE2s, HMAC, KDF ----

def blake2s(data: bytes, out_len: int = HASH_LEN, key: bytes = b"") -> bytes:
    if not 1 <= out_len <= 32:
        raise ValueError("BLAKE2s output length must be 1..32")
    if len(key) > 32:
        raise ValueError("BLAKE2s key must be at most 32 bytes")
    out = ffi.new("uint8_t[]", out_len)
    lib.wgc_blake2s(out, out_len, ffi.from_buffer(data), len(data),
                    ffi.from_buffer(key), len(key))
    return bytes(out)


def mac(key: bytes, data: bytes) -> bytes:
    """Keyed BLAKE2s with a 16-byte output (WireGuard's MAC, for mac1/mac2)."""
    _check("MAC key", key, 32)
    return blake2s(data, MAC_LEN, key)


def hmac_blake2s(key: bytes, data: bytes) -> bytes:
    out = ffi.new("uint8_t[32]")
    lib.wgc_hmac_blake2s(out, ffi.from_buffer(key), len(key), ffi.from_buffer(data), len(data))
    return bytes(out)


def kdf(chaining_key: bytes, data: bytes, n: int) -> tuple:
    """WireGuard's KDF_n: n (1..3) 32-byte outputs."""
    _check("chaining key", chaining_key, 32)
    if not 1 <= n <= 3:
        raise ValueError("KDF output count must be 1..3")
    out = ffi.new("uint8_t[]", 32 * n)
    lib.wgc_kdf(out, n, chaining_key, ffi.from_buffer(data), len(data))
    raw = bytes(out)
    lib.wgc_wipe(out, 32 * n)
    return tuple(raw[i * 32:(i + 1) * 32] for i in range(n))


# ---- ChaCha20-Poly1305 ----

_from_buffer = ffi.from_buffer


def _seal(fn, nonce, key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    """ciphertext || tag from one of the C seal functions."""
    _check("key", key, KEY_LEN)
    out = bytearray(len(plaintext) + TAG_LEN)
    fn(_from_buffer(out), _from_buffer(plaintext), len(plaintext),
       _from_buffer(ad), len(ad), nonce, key)
    return bytes(out)


def _open(fn, nonce, key: bytes, ciphertext: bytes, ad: bytes):
    """Plaintext from one of the C open functions, or None on a forged tag."""
    _check("key", key, KEY_LEN)
    if len(ciphertext) < TAG_LEN:
        raise ValueError("ciphertext is shorter than the 16-byte tag")
    out = bytearray(len(ciphertext) - TAG_LEN)
    if fn(_from_buffer(out), _from_buffer(ciphertext), len(ciphertext),
          _from_buffer(ad), len(ad), nonce, key) != 0:
        return None
    return bytes(out)


def aead_seal(key: bytes, counter: int, plaintext: bytes, ad: bytes = b"") -> bytes:
    """WireGuard AEAD: nonce is the 64-bit little-endian counter."""
    return _seal(lib.wgc_wg_seal, counter, key, plaintext, ad)


def aead_open(key: bytes, counter: int, ciphertext: bytes, ad: bytes = b""):
    """Plaintext, or None when the tag does not verify."""
    return _open(lib.wgc_wg_open, counter, key, ciphertext, ad)


def aead_seal_nonce(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes = b"") -> bytes:
    """RFC 8439 AEAD with an explicit 12-byte nonce."""
    _check("nonce", nonce, 12)
    return _seal(lib.wgc_aead_seal, nonce, key, plaintext, ad)


def aead_open_nonce(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes = b""):
    _check("nonce", nonce, 12)
    return _open(lib.wgc_aead_open, nonce, key, ciphertext, ad)


def xaead_seal(key: bytes, nonce: bytes, plaintext: bytes, ad: bytes = b"") -> bytes:
    """XChaCha20-Poly1305 (24-byte nonce), used for cookie replies."""
    _check("nonce", nonce, 24)
    return _seal(lib.wgc_xaead_seal, nonce, key, plaintext, ad)


def xaead_open(key: bytes, nonce: bytes, ciphertext: bytes, ad: bytes = b""):
    _check("nonce", nonce, 24)
    return _open(lib.wgc_xaead_open, nonce, key, ciphertext, ad)


# ---- In place and in batches (no copies: cffi from_buffer on writable buffers) ----

def _writable(buf):
    try:
        return ffi.from_buffer(buf, require_writable=True)
    except (BufferError, TypeError):
        raise TypeError("in-place operations need a writable buffer (bytearray, memoryview)") from None


def seal_in_place(key: bytes, counter: int, buf, length: int) -> None:
    """Encrypt buf[:length] in place and write the tag at buf[length:length+16]."""
    _check("key", key, KEY_LEN)
    if length < 0 or len(buf) < length + TAG_LEN:
        raise ValueError("buffer has no room for the 16-byte tag")
    p = _writable(buf)
    lib.wgc_wg_seal(p, p, length, ffi.NULL, 0, counter, key)


def open_in_place(key: bytes, counter: int, buf, length: int) -> bool:
    """Decrypt buf[:length] (ciphertext || tag) in place; False on a forged tag."""
    _check("key", key, KEY_LEN)
    if length < TAG_LEN or len(buf) < length:
        raise ValueError("buffer is shorter than its length or than the tag")
    p = _writable(buf)
    return lib.wgc_wg_open(p, p, length, ffi.NULL, 0, counter, key) == 0


class Batch:
    """A reusable batch of in-place transport payloads under one key.

    Build it once for a set of writable buffers, then seal or open them all
    with one call into C. Each entry is (buffer, length, counter).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._items = ffi.new("struct wgc_batch_item[]", capacity)
        self._keep = [None] * capacity
        self.count = 0

    def clear(self) -> None:
        self.count = 0
        self._keep = [None] * self.capacity

    def add(self, buf, length: int, counter: int, sealing: bool) -> None:
        if self.count == self.capacity:
            raise ValueError("batch is full")
        need = length + TAG_LEN if sealing else length
        if length < (0 if sealing else TAG_LEN) or len(buf) < need:
            raise ValueError("buffer too short for this packet")
        p = _writable(buf)
        item = self._items[self.count]
        item.data = p
        item.len = length
        item.counter = counter
        item.status = -1
        self._keep[self.count] = p
        self.count += 1

    def seal(self, key: bytes) -> int:
        _check("key", key, KEY_LEN)
        return lib.wgc_wg_seal_batch(self._items, self.count, key)

    def open(self, key: bytes) -> int:
        _check("key", key, KEY_LEN)
        return lib.wgc_wg_open_batch(self._items, self.count, key)

    def status(self, i: int) -> int:
        return self._items[i].status


def implementation() -> str:
    return ffi.string(lib.wgc_impl()).decode()


class ReplayWindow:
    """The receive counter window of one keypair (8128 packets, in C)."""

    def __init__(self):
        self._r = ffi.new("struct wgc_replay *")
        lib.wgc_replay_init(self._r)

    def check(self, counter: int) -> bool:
        """Record counter; False if replayed, too old or past REJECT_AFTER_MESSAGES.

        Caller must call this only after the packet authenticated."""
        if not 0 <= counter < 1 << 64:
            return False
        return lib.wgc_replay_check(self._r, counter) == 0


# ---- The datapath (wgc_dp_*, Linux): thin wrappers, policy lives in wgpy.daemon ----

class DpPeerState:
    """A peer's counters, timestamps (ns, CLOCK_MONOTONIC), events and endpoint, read from C."""

    __slots__ = ("events", "confirmed_index", "rx_bytes", "tx_bytes", "last_data_sent_ns",
                 "last_auth_sent_ns", "last_data_recv_ns", "last_auth_recv_ns", "endpoint",
                 "source")

    def __init__(self, st=None):
        for name in self.__slots__[:8]:
            setattr(self, name, 0 if st is None else getattr(st, name))
        self.endpoint, self.source = (None, None) if st is None else _from_endpoint(st.endpoint)


def _to_endpoint(ep, endpoint, source) -> None:
    """Fill a wgc_dp_endpoint from (host, port) or None and (local bytes, ifindex) or None."""
    ffi.memmove(ep, bytes(ffi.sizeof("struct wgc_dp_endpoint")), ffi.sizeof(ep[0]))
    if endpoint is None:
        return
    family = socket.AF_INET6 if ":" in endpoint[0] else socket.AF_INET
    raw = socket.inet_pton(family, endpoint[0])
    ep.family = 6 if family == socket.AF_INET6 else 4
    ep.port = endpoint[1]
    ffi.memmove(ep.addr, raw, len(raw))
    if source is not None and len(source[0]) == len(raw):
        ep.has_src = 1
        ffi.memmove(ep.src, source[0], len(raw))
        ep.src_ifindex = source[1]


def _from_endpoint(ep):
    """((host, port) or None, (local bytes, ifindex) or None) from a wgc_dp_endpoint."""
    if ep.family not in (4, 6):
        return None, None
    size, family = (4, socket.AF_INET) if ep.family == 4 else (16, socket.AF_INET6)
    endpoint = (socket.inet_ntop(family, ffi.buffer(ep.addr, size)[:]), ep.port)
    source = (ffi.buffer(ep.src, size)[:], ep.src_ifindex) if ep.has_src else None
    return endpoint, source


class Datapath:
    """The C fast path object (see the Datapath section of wgcore.h)."""

    EV_ACTIVITY = lib.WGC_DP_EV_ACTIVITY
    EV_CONFIRMED = lib.WGC_DP_EV_CONFIRMED
    EV_REKEY_SEND = lib.WGC_DP_EV_REKEY_SEND
    EV_REKEY_RECV = lib.WGC_DP_EV_REKEY_RECV
    UP_UDP = lib.WGC_DP_UP_UDP
    UP_TUN = lib.WGC_DP_UP_TUN
    VNET_HDR = lib.WGC_DP_VNET_HDR
    NO_TUN_GRO = lib.WGC_DP_NO_TUN_GRO
    NO_UDP_GSO = lib.WGC_DP_NO_UDP_GSO
    NO_UDP_GRO = lib.WGC_DP_NO_UDP_GRO
    TUN_USO = lib.WGC_DP_TUN_USO

    @staticmethod
    def tun_offload(tun_fd: int):
        """Turn on checksum/TSO (and USO) offload on a TUN opened with IFF_VNET_HDR:
        the start flags that go with it, or None if the kernel refused."""
        flags = lib.wgc_dp_tun_offload(tun_fd)
        return None if flags < 0 else flags

    def __init__(self, max_peers: int, packet_max: int, mtu: int):
        dp = lib.wgc_dp_new(max_peers, packet_max, mtu)
        if dp == ffi.NULL:
            raise MemoryError("cannot create the datapath")
        self._dp = ffi.gc(dp, lib.wgc_dp_free)
        self.max_peers, self.packet_max = max_peers, packet_max
        self._state = ffi.new("struct wgc_dp_peer_state *")
        self._ep = ffi.new("struct wgc_dp_endpoint *")
        self._kps = ffi.new("struct wgc_dp_keypair[3]")
        self._polled = ffi.new("int32_t[]", 256)
        # A few upcalls per call keeps this buffer (zero-filled, so resident) small.
        self._ups = ffi.new("struct wgc_dp_upcall[]", 8)
        self._upbuf = ffi.new("uint8_t[]", 8 * packet_max)
        self._stats = ffi.new("struct wgc_dp_stats *")

    def close(self) -> None:
        """Stop the workers and free everything (keys are wiped)."""
        if self._dp is not None:
            lib.wgc_dp_stop(self._dp)
            ffi.release(self._dp)
            self._dp = None

    def event_fd(self) -> int:
        return lib.wgc_dp_event_fd(self._dp)

    def start(self, tun_fd: int, udp4_fd: int, udp6_fd: int, flags: int = 0) -> None:
        """flags: VNET_HDR, TUN_USO, NO_TUN_GRO, NO_UDP_GSO, NO_UDP_GRO (wgcore.h)."""
        if lib.wgc_dp_start(self._dp, tun_fd, udp4_fd, udp6_fd, flags) != 0:
            raise OSError("cannot start the datapath workers")

    def stop(self) -> None:
        lib.wgc_dp_stop(self._dp)

    def set_mtu(self, mtu: int) -> None:
        lib.wgc_dp_set_mtu(self._dp, mtu)

    def peer_add(self) -> int:
        slot = lib.wgc_dp_peer_add(self._dp)
        if slot < 0:
            raise ValueError("datapath peer table is full")
        return slot

    def peer_remove(self, slot: int) -> None:
        lib.wgc_dp_peer_remove(self._dp, slot)

    def set_endpoint(self, slot: int, endpoint, source=None) -> None:
        _to_endpoint(self._ep, endpoint, source)
        lib.wgc_dp_peer_set_endpoint(self._dp, slot, self._ep)

    def source_for(self, endpoint):
        """(True, C's sticky source (local bytes, ifindex) or None) when a peer's endpoint is
        endpoint (host, port); (False, None) when none is."""
        _to_endpoint(self._ep, endpoint, None)
        if lib.wgc_dp_source_for(self._dp, self._ep) != 0:
            return False, None
        return True, _from_endpoint(self._ep)[1]

    def forget_source(self, endpoint) -> None:
        """The peer at endpoint (host, port) sends without its sticky source from now on."""
        _to_endpoint(self._ep, endpoint, None)
        lib.wgc_dp_forget_source(self._dp, self._ep)

    def set_keypairs(self, slot: int, keypairs) -> None:
        """keypairs: previous, current, next, each None or (send_key, recv_key, created_ns,
        local_index, remote_index, is_initiator, can_send). Raises ValueError if refused."""
        for i, kp in enumerate(keypairs):
            item = self._kps[i]
            item.present = kp is not None
            if kp is None:
                continue
            send_key, recv_key, created_ns, local, remote, initiator, can_send = kp
            _check("send key", send_key, KEY_LEN)
            _check("receive key", recv_key, KEY_LEN)
            ffi.memmove(item.send_key, send_key, KEY_LEN)
            ffi.memmove(item.recv_key, recv_key, KEY_LEN)
            item.created_ns, item.local_index, item.remote_index = created_ns, local, remote
            item.is_initiator, item.can_send = bool(initiator), bool(can_send)
        rc = lib.wgc_dp_peer_set_keypairs(self._dp, slot, self._kps)
        lib.wgc_wipe(self._kps, ffi.sizeof("struct wgc_dp_keypair") * 3)
        if rc != 0:
            raise ValueError("datapath refused the keypairs")

    def peer_read(self, slot: int):
        """DpPeerState for slot (its events are cleared), or None for a free slot."""
        if lib.wgc_dp_peer_read(self._dp, slot, self._state) != 0:
            return None
        return DpPeerState(self._state)

    def set_allowed_ips(self, routes) -> None:
        """routes: (ipaddress network, slot) pairs; replaces the whole table."""
        table = ffi.new("struct wgc_dp_prefix[]", max(1, len(routes)))
        for i, (network, slot) in enumerate(routes):
            raw = network.network_address.packed
            item = table[i]
            item.family, item.len, item.peer = network.version, network.prefixlen, slot
            ffi.memmove(item.addr, raw, len(raw))
        if lib.wgc_dp_set_allowed_ips(self._dp, table, len(routes)) != 0:
            raise ValueError("datapath refused the allowed-IPs table")

    def lookup(self, address: bytes) -> int:
        """Slot for a 4- or 16-byte address, or -1."""
        if len(address) not in (4, 16):
            raise ValueError("address must be 4 or 16 bytes")
        return lib.wgc_dp_lookup(self._dp, 4 if len(address) == 4 else 6, address)

    def send(self, slot: int, packet: bytes) -> bool:
        """Seal packet with slot's current keypair in C and send it; False if C could not."""
        if len(packet) > self.packet_max:
            raise ValueError("packet larger than the datapath's packet_max")
        return lib.wgc_dp_send(self._dp, slot, ffi.from_buffer(packet), len(packet)) == 0

    def poll(self) -> list:
        """Slots with pending events."""
        out = []
        while True:
            n = lib.wgc_dp_poll(self._dp, self._polled, len(self._polled))
            out.extend(self._polled[i] for i in range(n))
            if n < len(self._polled):
                return out

    def arm(self) -> None:
        lib.wgc_dp_arm(self._dp)

    def upcalls(self) -> list:
        """Waiting upcalls as (kind, data, (host, port) or None, (local, ifindex) or None)."""
        out = []
        while True:
            n = lib.wgc_dp_upcalls(self._dp, self._ups, len(self._ups), self._upbuf,
                                   len(self._upbuf))
            for i in range(n):
                up = self._ups[i]
                remote, source = _from_endpoint(getattr(up, "from"))   # a Python keyword
                out.append((up.kind, ffi.buffer(up.data, up.len)[:], remote, source))
            if n < len(self._ups):
                return out

    def stats(self) -> dict:
        lib.wgc_dp_get_stats(self._dp, self._stats)
        return {name: getattr(self._stats, name) for name, _ in
                ffi.typeof("struct wgc_dp_stats").fields}

    def set_cookie(self, public_key, secret: bytes, secret_set_ns: int) -> None:
        """The responder's mac1 key (public_key None: none) and cookie secret."""
        _check("cookie secret", secret, 32)
        lib.wgc_dp_set_cookie(self._dp, ffi.NULL if public_key is None else public_key,
                              secret, secret_set_ns)
