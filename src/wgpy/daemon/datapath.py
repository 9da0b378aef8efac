"""The C data path object (wgc_dp_*, Linux; the Datapath section of wgcore.h): thin
wrappers over wgpy._native, lengths checked here. Policy lives in daemon/fastpath.py.
"""

from wgpy._native import (NULL, buffer, copy_into, field_bytes, int32_array, lib, new,
                          pointed_bytes, sizeof, writable)
from wgpy.crypto import KEY_LEN, check_length
from wgpy.runtime import layout
from wgpy.runtime.system import socket

_STATS = tuple(name for name, _ in layout.STRUCTS["wgc_dp_stats"])
# A few upcalls per call keeps their buffer (zero-filled, so resident) small.
_UPCALLS_PER_CALL = 8
_POLLED_PER_CALL = 256


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
    ep.family = ep.has_src = ep.port = ep.src_ifindex = 0
    if endpoint is None:
        return
    family = socket.AF_INET6 if ":" in endpoint[0] else socket.AF_INET
    raw = socket.inet_pton(family, endpoint[0])
    ep.family = 6 if family == socket.AF_INET6 else 4
    ep.port = endpoint[1]
    copy_into(ep.addr, raw)
    if source is not None and len(source[0]) == len(raw):
        ep.has_src = 1
        copy_into(ep.src, source[0])
        ep.src_ifindex = source[1]


def _from_endpoint(ep):
    """((host, port) or None, (local bytes, ifindex) or None) from a wgc_dp_endpoint."""
    if ep.family not in (4, 6):
        return None, None
    size, family = (4, socket.AF_INET) if ep.family == 4 else (16, socket.AF_INET6)
    endpoint = (socket.inet_ntop(family, field_bytes(ep.addr, size)), ep.port)
    source = (field_bytes(ep.src, size), ep.src_ifindex) if ep.has_src else None
    return endpoint, source


class Datapath:
    """The C fast path object (see the Datapath section of wgcore.h)."""

    EV_ACTIVITY = lib.WGC_DP_EV_ACTIVITY
    EV_CONFIRMED = lib.WGC_DP_EV_CONFIRMED
    EV_REKEY_SEND = lib.WGC_DP_EV_REKEY_SEND
    EV_REKEY_RECV = lib.WGC_DP_EV_REKEY_RECV
    UP_UDP = lib.WGC_DP_UP_UDP
    UP_TUN = lib.WGC_DP_UP_TUN
    UP_HANDSHAKE = lib.WGC_DP_UP_HANDSHAKE
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
        if dp == NULL:
            raise MemoryError("cannot create the datapath")
        self._dp = dp               # freed by close(): MicroPython has no finalisers
        self.max_peers, self.packet_max = max_peers, packet_max
        # new() gives (memory for C, view of the fields); the memory must stay referenced.
        self._state_mem, self._state = new("wgc_dp_peer_state")
        self._ep_mem, self._ep = new("wgc_dp_endpoint")
        self._kps_mem, self._kps = new("wgc_dp_keypair", 3)
        self._polled_mem, self._polled = int32_array(_POLLED_PER_CALL)
        self._ups_mem, self._ups = new("wgc_dp_upcall", _UPCALLS_PER_CALL)
        self._upbuf = bytearray(_UPCALLS_PER_CALL * packet_max)
        self._stats_mem, self._stats = new("wgc_dp_stats")

    def close(self) -> None:
        """Stop the workers and free everything (keys are wiped)."""
        if self._dp is not None:
            lib.wgc_dp_stop(self._dp)
            lib.wgc_dp_free(self._dp)
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
        lib.wgc_dp_peer_set_endpoint(self._dp, slot, self._ep_mem)

    def source_for(self, endpoint):
        """(True, C's sticky source (local bytes, ifindex) or None) when a peer's endpoint is
        endpoint (host, port); (False, None) when none is."""
        _to_endpoint(self._ep, endpoint, None)
        if lib.wgc_dp_source_for(self._dp, self._ep_mem) != 0:
            return False, None
        return True, _from_endpoint(self._ep)[1]

    def forget_source(self, endpoint) -> None:
        """The peer at endpoint (host, port) sends without its sticky source from now on."""
        _to_endpoint(self._ep, endpoint, None)
        lib.wgc_dp_forget_source(self._dp, self._ep_mem)

    def set_keypairs(self, slot: int, keypairs) -> None:
        """keypairs: previous, current, next, each None or (send_key, recv_key, created_ns,
        local_index, remote_index, is_initiator, can_send). Raises ValueError if refused."""
        for i, kp in enumerate(keypairs):
            item = self._kps[i]
            item.present = kp is not None
            if kp is None:
                continue
            send_key, recv_key, created_ns, local, remote, initiator, can_send = kp
            check_length("send key", send_key, KEY_LEN)
            check_length("receive key", recv_key, KEY_LEN)
            copy_into(item.send_key, send_key)
            copy_into(item.recv_key, recv_key)
            item.created_ns, item.local_index, item.remote_index = created_ns, local, remote
            item.is_initiator, item.can_send = bool(initiator), bool(can_send)
        rc = lib.wgc_dp_peer_set_keypairs(self._dp, slot, self._kps_mem)
        lib.wgc_wipe(self._kps_mem, sizeof("wgc_dp_keypair") * 3)
        if rc != 0:
            raise ValueError("datapath refused the keypairs")

    def replay_check(self, local_index: int, counter: int):
        """Record a counter Python accepted in C's window of that keypair: True recorded,
        False already seen (a replay), None no such keypair in C."""
        rc = lib.wgc_dp_replay_check(self._dp, local_index, counter)
        return None if rc == 1 else rc == 0

    def peer_read(self, slot: int):
        """DpPeerState for slot (its events are cleared), or None for a free slot."""
        if lib.wgc_dp_peer_read(self._dp, slot, self._state_mem) != 0:
            return None
        return DpPeerState(self._state)

    def set_allowed_ips(self, routes) -> None:
        """routes: (ipaddress network, slot) pairs; replaces the whole table."""
        memory, table = new("wgc_dp_prefix", max(1, len(routes)))
        for i, (network, slot) in enumerate(routes):
            item = table[i]
            item.family, item.len, item.peer = network.version, network.prefixlen, slot
            copy_into(item.addr, network.network_address.packed)
        if lib.wgc_dp_set_allowed_ips(self._dp, memory, len(routes)) != 0:
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
        return lib.wgc_dp_send(self._dp, slot, buffer(packet), len(packet)) == 0

    def send_datagram(self, payload: bytes, remote, source=None) -> int:
        """Send a datagram Python made to remote (host, port) from source (local bytes,
        ifindex) or as routing chooses: 0 sent, 1 sent without source (it was gone), -1
        failed."""
        _to_endpoint(self._ep, remote, source)
        return lib.wgc_dp_send_datagram(self._dp, self._ep_mem, buffer(payload), len(payload))

    def poll(self) -> list:
        """Slots with pending events."""
        out = []
        while True:
            n = lib.wgc_dp_poll(self._dp, self._polled_mem, _POLLED_PER_CALL)
            out.extend(self._polled[i] for i in range(n))
            if n < _POLLED_PER_CALL:
                return out

    def arm(self) -> None:
        lib.wgc_dp_arm(self._dp)

    def upcalls(self, most=None) -> list:
        """Waiting upcalls as (kind, data, (host, port) or None, (local, ifindex) or None):
        all of them, or about `most` (the rest stay waiting in C)."""
        out = []
        while most is None or len(out) < most:
            n = lib.wgc_dp_upcalls(self._dp, self._ups_mem, _UPCALLS_PER_CALL, writable(self._upbuf),
                                   len(self._upbuf))
            for i in range(n):
                up = self._ups[i]
                remote, source = _from_endpoint(getattr(up, "from"))   # a Python keyword
                out.append((up.kind, pointed_bytes(up.data, up.len), remote, source))
                if up.kind == lib.WGC_DP_UP_HANDSHAKE:
                    lib.wgc_wipe(up.data, up.len)       # session keys
            if n < _UPCALLS_PER_CALL:
                break
        return out

    def stats(self) -> dict:
        lib.wgc_dp_get_stats(self._dp, self._stats_mem)
        return {name: getattr(self._stats, name) for name in _STATS}

    def set_cookie(self, public_key, secret: bytes, secret_set_ns: int) -> None:
        """The responder's mac1 key (public_key None: none) and cookie secret."""
        check_length("cookie secret", secret, 32)
        lib.wgc_dp_set_cookie(self._dp, NULL if public_key is None else buffer(public_key),
                              buffer(secret), secret_set_ns)

    def hs_set_key(self, private_key, public_key) -> None:
        """Our static key for the responder in C (None: initiations go up to Python)."""
        if private_key is None:
            lib.wgc_dp_hs_set_key(self._dp, NULL, NULL)
            return
        check_length("private key", private_key, KEY_LEN)
        check_length("public key", public_key, KEY_LEN)
        lib.wgc_dp_hs_set_key(self._dp, buffer(private_key), buffer(public_key))

    def hs_peer(self, slot: int, remote_static, psk=None, static_static=None,
                last_timestamp=None, last_initiation_ns: int = 0) -> bool:
        """What the responder in C knows of slot's peer (remote_static None: nothing);
        False if another slot has the key."""
        if remote_static is None:
            return lib.wgc_dp_hs_peer(self._dp, slot, NULL, NULL, NULL, NULL, 0) == 0
        for name, value, size in (("static key", remote_static, KEY_LEN), ("psk", psk, KEY_LEN),
                                  ("static-static", static_static, KEY_LEN),
                                  ("timestamp", last_timestamp, 12)):
            check_length(name, value, size)
        return lib.wgc_dp_hs_peer(self._dp, slot, buffer(remote_static), buffer(psk),
                                  buffer(static_static), buffer(last_timestamp),
                                  last_initiation_ns) == 0

    def hs_cookie(self, slot: int, cookie: bytes, cookie_set_ns: int) -> None:
        """The cookie slot's peer sent us, for the mac2 of C's responses."""
        check_length("cookie", cookie, 16)
        lib.wgc_dp_hs_cookie(self._dp, slot, buffer(cookie), cookie_set_ns)
