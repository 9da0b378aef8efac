"""The sans-I/O WireGuard device: configuration, dispatch of received datagrams,
routing of packets from TUN, and timers (kernel device.c + receive.c, wireguard-go
device.go + receive.go). The interface is docs/device-api.md.

Rule 1: receive_datagram never raises on remote bytes: every rejection bumps
drops[reason] and returns. Rule 2: no I/O and no clock here; the caller passes
`now` (monotonic seconds) and drains datagrams_to_send()/packets_to_deliver().
Rule 3: a transport packet counts only after AEAD authentication AND the replay
check, in that order, so forged packets cannot move the replay window.
The fast-path seam: with `dev.fastpath` set (the daemon's C data path), changes of
keypair slots, endpoints, allowed IPs and peers are reported to it through
fastpath.changed(kind, peer), and transport packets are handed to it unsealed
(fastpath.send_transport); it reports key confirmation back via keypair_confirmed().
A transport packet C passed up before it had the keypair counts only if C's replay
window takes its counter too (fastpath.replay_check): C handles the same packet sent
again later.
"""

import math
import os
import time

from wgpy import crypto
from wgpy.runtime.compat import Counter, deque
from wgpy.runtime.ordered import OrderedDict

from . import messages, noise, tai64n
from .allowedips import AllowedIPs
from .constants import (DEFAULT_MTU, KEY_LEN, MAX_PEERS, REJECT_AFTER_TIME, UNDER_LOAD_AFTER_TIME,
                        UNDER_LOAD_HANDSHAKES_PER_SECOND)
from .cookie import CookieChecker
from .index import IndexTable
from .messages import MessageType
from .keypairs import Keypair
from .peer import Peer
from .ratelimiter import RateLimiter

IPV4_HEADER_LEN = 20
IPV6_HEADER_LEN = 40


class Device:
    """One WireGuard interface's protocol state."""

    def __init__(self, rng=os.urandom, wall_clock=time.time):
        self.rng = rng
        self.wall_clock = wall_clock
        self.private_key = None
        self.public_key = None
        self.listen_port = 0
        self.fwmark = 0
        self.mtu = DEFAULT_MTU
        self.peers = OrderedDict()     # public key -> Peer, in the order added (`wg show`'s)
        self.allowed_ips = AllowedIPs()
        self.index = IndexTable(rng)
        self.cookie_checker = CookieChecker(rng)
        self.ratelimiter = RateLimiter()
        self.drops = Counter()
        self.timestamp_floor = None     # bytes(12): our next TAI64N must be later
        self.under_load_threshold = UNDER_LOAD_HANDSHAKES_PER_SECOND
        self._handshake_times = deque()
        # Never later than the earliest peer deadline (None: to compute), so the loop's
        # per-wake-up get_timer is not a walk over every peer.
        self._earliest = None
        self._under_load_until = -1.0
        self._outgoing = []
        self._delivered = []
        self.fastpath = None
        self.allowed_ips.on_change = lambda: self._changed("allowed_ips", None)

    def _changed(self, kind: str, peer) -> None:
        """Report "keypairs", "endpoint", "allowed_ips" or "peer_removed" to the fast path."""
        if self.fastpath is not None:
            self.fastpath.changed(kind, peer)

    # ---- configuration ----

    def set_private_key(self, key, now: float) -> None:
        """Set or clear our static key; see docs/device-api.md for the side effects."""
        if key is not None and len(key) != KEY_LEN:
            raise ValueError("private key must be 32 bytes")
        if key == self.private_key:
            return
        public = None if key is None else crypto.public_key(key)
        if public is not None and public in self.peers:
            self.remove_peer(public)
        self.private_key, self.public_key = key, public
        self.cookie_checker.init(public)
        for peer in self.peers.values():
            peer.update_static_static(key)
            peer.expire_current_keypairs(now)

    def add_peer(self, public_key: bytes, now: float) -> Peer:
        """The peer for public_key, created if new.

        A key equal to our own public key gets a detached peer that is not kept,
        so UAPI settings for it are accepted and ignored (as wireguard-go does).
        """
        if len(public_key) != KEY_LEN:
            raise ValueError("public key must be 32 bytes")
        peer = self.peers.get(public_key)
        if peer is not None:
            return peer
        if len(self.peers) >= MAX_PEERS:
            raise ValueError(f"too many peers (limit {MAX_PEERS})")
        peer = Peer(self, bytes(public_key))
        peer.update_static_static(self.private_key)
        if public_key != self.public_key:
            self.peers[peer.public_key] = peer
            self._changed("handshake", peer)
        else:
            peer.timers.stop()
        return peer

    def remove_peer(self, public_key: bytes) -> None:
        """Forget a peer: its keys, indices, staged packets and allowed IPs."""
        peer = self.peers.pop(public_key, None)
        if peer is None:
            return
        self.allowed_ips.remove_peer(peer)
        peer.timers.stop()
        self._earliest = None
        peer.zero_and_flush_all()
        self._changed("peer_removed", peer)

    def remove_all_peers(self) -> None:
        """remove_peer for every peer."""
        for public_key in list(self.peers):
            self.remove_peer(public_key)

    def set_persistent_keepalive(self, peer: Peer, seconds: int, now: float) -> None:
        """Set the interval; turning it on sends a keepalive at once."""
        old, peer.persistent_keepalive_interval = peer.persistent_keepalive_interval, int(seconds)
        if old == 0 and seconds > 0 and peer.timers.active:
            peer.send_keepalive(now)

    def next_timestamp(self) -> bytes:
        """A TAI64N for a new initiation, later than every one we sent before."""
        ts = tai64n.monotonic(self.wall_clock(), self.timestamp_floor)
        self.timestamp_floor = ts
        return ts

    # ---- output queues ----

    def queue_datagram(self, peer: Peer, payload: bytes) -> None:
        """Queue payload for peer's endpoint; without one it is dropped (as a failed send)."""
        if peer.endpoint is None:
            self.drops["no_endpoint"] += 1
            return
        peer.tx_bytes += len(payload)
        self._outgoing.append((payload, peer.endpoint))

    def send_transport(self, peer: Peer, packet: bytes) -> None:
        """A transport packet for peer: sealed by the Peer and queued (no fast path), or
        unsealed (b"" = keepalive) and handed to the fast path, which owns the counter."""
        if self.fastpath is None:
            self.queue_datagram(peer, packet)
        elif peer.endpoint is None:
            self.drops["no_endpoint"] += 1
        elif not self.fastpath.send_transport(peer, packet):
            self.drops["datapath_refused"] += 1

    def keypair_confirmed(self, peer: Peer, local_index: int, now: float) -> None:
        """Call when the datapath authenticated a transport packet under peer's next keypair."""
        keypair = peer.keypairs.next
        if keypair is not None and keypair.local_index == local_index \
                and peer.keypairs.received_with(keypair):
            peer.handshake_complete(now)
            peer.send_staged_packets(now)

    def datagrams_to_send(self) -> list:
        """Drain (payload, (host, port)) pairs for the UDP socket."""
        out, self._outgoing = self._outgoing, []
        return out

    def packets_to_deliver(self) -> list:
        """Drain decrypted IP packets for TUN."""
        out, self._delivered = self._delivered, []
        return out

    # ---- timers ----

    def timer_set(self, deadline: float) -> None:
        """A peer timer was set (Timers.on_set): keep the cached earliest deadline early."""
        if self._earliest is not None and deadline < self._earliest:
            self._earliest = deadline

    def get_timer(self):
        """The earliest peer timer deadline (monotonic), or None; may be early when timers
        were cancelled since, which only makes handle_timer run with nothing due."""
        if self._earliest is None:
            deadlines = [d for d in (p.timers.next_deadline() for p in self.peers.values())
                         if d is not None]
            self._earliest = min(deadlines) if deadlines else math.inf
        return None if self._earliest == math.inf else self._earliest

    def handle_timer(self, now: float) -> None:
        """Run every timer that is due at now."""
        for peer in list(self.peers.values()):
            peer.timers.expire(now)
        self._earliest = None

    # ---- from TUN ----

    def receive_packet(self, ip_packet: bytes, now: float) -> None:
        """Route an IP packet from TUN to its peer, encrypting or staging it."""
        packet = bytes(ip_packet)
        version = packet[0] >> 4 if packet else 0
        if not ((version == 4 and len(packet) >= IPV4_HEADER_LEN)
                or (version == 6 and len(packet) >= IPV6_HEADER_LEN)):
            self.drops["tun_not_ip"] += 1
            return
        peer = self.allowed_ips.lookup_dst(packet)
        if peer is None:
            self.drops["tun_no_route"] += 1
            return
        peer.stage_packet(packet)
        peer.send_staged_packets(now)

    # ---- from UDP ----

    def receive_datagram(self, data: bytes, addr: tuple, now: float) -> None:
        """Handle one UDP payload from addr; never raises on its contents."""
        kind = messages.message_type(data)
        if kind is None:
            self.drops["too_short" if len(data) < messages.MIN_MESSAGE_SIZE
                       else "unknown_type"] += 1
        elif kind == MessageType.TRANSPORT:
            self._receive_transport(bytes(data), addr, now)
        else:
            self._receive_handshake(bytes(data), addr, now)

    def _is_under_load(self, now: float) -> bool:
        """Count one handshake message; True while the recent rate is high (device.go)."""
        times = self._handshake_times
        times.append(now)
        while times and times[0] <= now - 1.0:
            times.popleft()
        if len(times) >= self.under_load_threshold:
            self._under_load_until = now + UNDER_LOAD_AFTER_TIME
            return True
        return self._under_load_until > now

    def _receive_handshake(self, data: bytes, addr, now: float) -> None:
        msg = messages.parse(data)
        if msg is None:
            self.drops["handshake_bad_size"] += 1
            return
        under_load = self._is_under_load(now)
        if isinstance(msg, messages.CookieReply):
            self._receive_cookie_reply(msg, now)
            return
        if not self.cookie_checker.check_mac1(data):
            self.drops["mac1"] += 1
            return
        if under_load:
            if not self.cookie_checker.check_mac2(data, addr, now):
                reply = self.cookie_checker.create_reply(data, msg.sender, addr, now)
                self._outgoing.append((reply.pack(), (addr[0], addr[1])))
                self.drops["mac2_cookie_sent"] += 1
                return
            if not self.ratelimiter.allow(addr[0], now):
                self.drops["ratelimited"] += 1
                return
        if isinstance(msg, messages.Initiation):
            self._receive_initiation(msg, data, addr, now)
        else:
            self._receive_response(msg, data, addr, now)

    def _receive_cookie_reply(self, msg, now: float) -> None:
        entry = self.index.lookup(msg.receiver)
        if entry is None:
            self.drops["cookie_unknown_index"] += 1
        elif not entry.peer.cookie_generator.consume_reply(msg, now):
            self.drops["cookie_invalid"] += 1
        else:
            self._changed("cookie", entry.peer)

    def _receive_initiation(self, msg, data: bytes, addr, now: float) -> None:
        result = noise.consume_initiation(msg, self.private_key, self.public_key,
                                          self.peers.get, now)
        if isinstance(result, str):     # a noise.Reject reason
            self.drops[result] += 1
            return
        peer = result
        self._changed("handshake", peer)    # the replay timestamp moved
        peer.rx_bytes += len(data)
        peer.timers.timers_any_authenticated_packet_traversal(now)
        peer.timers.timers_any_authenticated_packet_received(now)
        peer.endpoint = (addr[0], addr[1])
        peer.send_handshake_response(now)

    def handshake_answered(self, peer: Peer, answer, addr, now: float) -> None:
        """The fast path's responder consumed peer's initiation from addr and sent the response:
        answer is (local_index, remote_index, timestamp, response mac1, send_key, recv_key).
        The bookkeeping of _receive_initiation and Peer.send_handshake_response."""
        local_index, remote_index, timestamp, mac1, send_key, recv_key = answer
        keypair = Keypair(send_key, recv_key, False, local_index, remote_index, now)
        if not self.index.claim(local_index, peer, keypair):
            self.drops["initiation_index_taken"] += 1     # the initiator will retry
            return
        hs = peer.handshake
        hs.last_timestamp = timestamp
        hs.last_initiation_consumption = max(hs.last_initiation_consumption, now)
        hs.last_sent_handshake = now
        self.index.delete(hs.local_index)
        hs.clear()
        peer.rx_bytes += messages.INITIATION_SIZE
        peer.timers.timers_any_authenticated_packet_traversal(now)
        peer.timers.timers_any_authenticated_packet_received(now)
        peer.endpoint = (addr[0], addr[1])
        peer.keypairs.install(keypair)
        peer.timers.timers_session_derived(now)
        peer.cookie_generator.sent_mac1(mac1)
        peer.timers.timers_any_authenticated_packet_traversal(now)
        peer.timers.timers_any_authenticated_packet_sent(now)
        peer.tx_bytes += messages.RESPONSE_SIZE

    def _receive_response(self, msg, data: bytes, addr, now: float) -> None:
        entry = self.index.lookup(msg.receiver)
        if entry is None or entry.handshake is None:
            self.drops["response_unknown_index"] += 1
            return
        peer = entry.peer
        if not noise.consume_response(msg, peer.handshake, self.private_key):
            self.drops["response_invalid"] += 1
            return
        peer.rx_bytes += len(data)
        peer.endpoint = (addr[0], addr[1])
        peer.timers.timers_any_authenticated_packet_traversal(now)
        peer.timers.timers_any_authenticated_packet_received(now)
        if peer.begin_symmetric_session(now):
            peer.timers.timers_session_derived(now)
            peer.handshake_complete(now)
            # Why at once: the responder cannot send until this confirms its key.
            peer.send_keepalive(now)

    def _receive_transport(self, data: bytes, addr, now: float) -> None:
        receiver, counter = messages.TRANSPORT_HEADER.unpack_from(data)[1:]
        entry = self.index.lookup(receiver)
        keypair = None if entry is None else entry.keypair
        if keypair is None:
            self.drops["transport_unknown_index"] += 1
            return
        if now - keypair.created > REJECT_AFTER_TIME:
            self.drops["transport_expired_keypair"] += 1
            return
        plaintext = crypto.aead_open(keypair.recv_key, counter,
                                     data[messages.TRANSPORT_HEADER_SIZE:])
        if plaintext is None:
            self.drops["transport_decrypt"] += 1
            return
        if not keypair.replay.check(counter) or self.fastpath is not None and \
                not self.fastpath.replay_check(keypair.local_index, counter):
            self.drops["transport_replay"] += 1
            return
        peer = entry.peer
        if peer.keypairs.received_with(keypair):
            peer.endpoint = (addr[0], addr[1])
            peer.handshake_complete(now)
            peer.send_staged_packets(now)
        peer.rx_bytes += len(data)
        # Any non-empty plaintext counts as data for the timers, even if the inner
        # packet is then refused (receive.go sets dataPacketReceived first).
        data_received = bool(plaintext)
        if data_received:
            self._deliver(peer, plaintext)
        peer.endpoint = (addr[0], addr[1])
        peer.keep_key_fresh_receiving(now)
        peer.timers.timers_any_authenticated_packet_traversal(now)
        peer.timers.timers_any_authenticated_packet_received(now)
        if data_received:
            peer.timers.timers_data_received(now)

    def _deliver(self, peer: Peer, plaintext: bytes) -> None:
        """Trim padding, check the inner source belongs to peer, queue for TUN."""
        packet = _trim_ip_packet(plaintext)
        if packet is None:
            self.drops["inner_malformed"] += 1
        elif self.allowed_ips.lookup_src(packet) is not peer:
            self.drops["inner_source_not_allowed"] += 1
        else:
            self._delivered.append(packet)


def _trim_ip_packet(plaintext: bytes):
    """The IP packet without padding, or None if its length fields do not fit."""
    version = plaintext[0] >> 4
    if version == 4:
        if len(plaintext) < IPV4_HEADER_LEN:
            return None
        length = int.from_bytes(plaintext[2:4], "big")
        if length < IPV4_HEADER_LEN or length > len(plaintext):
            return None
    elif version == 6:
        if len(plaintext) < IPV6_HEADER_LEN:
            return None
        length = int.from_bytes(plaintext[4:6], "big") + IPV6_HEADER_LEN
        if length > len(plaintext):
            return None
    else:
        return None
    return plaintext[:length]
