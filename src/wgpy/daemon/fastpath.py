"""The bridge between the sans-I/O Device and the C datapath (daemon/datapath.py).

Downwards it mirrors what the Device decides: keypair slots, endpoints, allowed IPs and
peer removal arrive through the Device's fast-path seam (`changed`), and transport packets
Python originates (keepalives, staged packets) go through C so the send counter stays C's.
Upwards it turns what the C workers report into Device calls, with the loop's clock:
upcalls (handshakes, cookie replies, packets waiting for a session) are fed to the Device;
counters become rx/tx bytes; the workers' timestamps become the timers_* hooks, replayed in
time order; key confirmation and rekey signals become keypair_confirmed / initiations.
Rule: nothing here runs per packet on the fast path; it runs when the event fd wakes the loop,
and at most every SYNC_INTERVAL_S while traffic flows.
"""

import os

from wgpy.daemon.datapath import Datapath, DpPeerState
from wgpy.protocol.constants import MAX_PEERS, REJECT_AFTER_MESSAGES
from wgpy.runtime import system
from wgpy.runtime.system import socket

# How stale the timers' view of traffic may get while packets flow: the timers act on
# seconds (keepalive 10 s, new handshake 15 s), boringtun polls its timers every 250 ms.
SYNC_INTERVAL_S = 0.25
# Upcalls handled before their answers are sent: under a handshake flood the rest wait in
# C, and an answer never waits for hundreds of handshakes after its own (MicroPython takes
# milliseconds per handshake: a whole ring's answers would all arrive too late).
UPCALL_ROUND = 16
# Largest IP packet or datagram handled in C; the MTU can be raised this far.
PACKET_MAX = 4096
_NS = 1e9


class FastPath:
    """Owns the C datapath for one Device; the Loop drives it."""

    def __init__(self, dev, tun, udp, log) -> None:
        self.dev, self.tun, self.udp, self.log = dev, tun, udp, log
        self.dp = Datapath(MAX_PEERS, PACKET_MAX, dev.mtu)
        self.next_sync = None           # monotonic deadline of the next activity sync
        self._slots = {}                # Peer -> slot
        self._peers = {}                # slot -> Peer
        self._seen = {}                 # slot -> last DpPeerState read
        self._routes_dirty = True
        self._echo = False              # applying C's endpoint: do not push it back
        self._offload = None            # TUNSETOFFLOAD's start flags (asked at the first start)
        # C owns the sticky source of every peer endpoint; this holds only where the last
        # event's datagrams came to, for the replies they cause.
        self._arrivals = {}             # (host, port) -> (local bytes, ifindex)
        self._cookie = None             # (public key, secret drawn at) last pushed to C
        self._static = None             # the private key the responder in C has
        dev.fastpath = self
        for peer in dev.peers.values():
            self._push_handshake(peer)

    # ---- lifecycle ----

    def fileno(self) -> int:
        return self.dp.event_fd()

    def start(self) -> None:
        """Start the workers on the current TUN and UDP sockets (only they read them)."""
        socks = self.udp.sockets
        fds = [socks[f].fileno() if f in socks else -1 for f in (socket.AF_INET, socket.AF_INET6)]
        self.dp.start(self.tun.fileno(), fds[0], fds[1], self._flags())

    def _flags(self) -> int:
        """Offloads: TSO/GRO on a vnet_hdr TUN, UDP GSO/GRO where the kernel has them.
        WGPY_OFFLOADS_OFF="tun-gro udp-gso udp-gro" (any of them, or "all") turns some
        off, for measurements and debugging."""
        off = (os.getenv("WGPY_OFFLOADS_OFF") or "").replace(",", " ").split()
        flags = 0
        if getattr(self.tun, "vnet_hdr", False):
            flags |= self.dp.VNET_HDR
            if self._offload is None:
                self._offload = self.dp.tun_offload(self.tun.fileno())
                if self._offload is None:
                    self.log.debug("TUN: the kernel refused checksum/TSO offload")
                    self._offload = 0
            flags |= self._offload
        for name, flag in (("tun-gro", self.dp.NO_TUN_GRO), ("udp-gso", self.dp.NO_UDP_GSO),
                           ("udp-gro", self.dp.NO_UDP_GRO)):
            if name in off or "all" in off:
                flags |= flag
        return flags

    def stop(self) -> None:
        self.dp.stop()

    def set_mtu(self, mtu: int) -> None:
        """The TUN's MTU changed: C pads to it (and so sizes its UDP GSO runs) from now on."""
        self.dp.set_mtu(mtu)

    def close(self) -> None:
        self.dev.fastpath = None
        self.dp.close()

    # ---- the Device's seam ----

    def changed(self, kind: str, peer) -> None:
        """Mirror a Device change into C (see protocol/device.py)."""
        if kind == "allowed_ips":
            self._routes_dirty = True
        elif kind == "peer_removed":
            slot = self._slots.pop(peer, None)
            if slot is not None:
                self.dp.hs_peer(slot, None)
                self.dp.peer_remove(slot)
                del self._peers[slot], self._seen[slot]
        elif self.dev.peers.get(peer.public_key) is peer:   # detached peers are not mirrored
            if kind == "keypairs":
                self._push_keypairs(peer)
            elif kind == "endpoint" and not self._echo:
                self._push_endpoint(peer)
            elif kind == "handshake":
                self._push_handshake(peer)
            elif kind == "cookie":
                cookie, at = peer.cookie_generator.cookie
                self.dp.hs_cookie(self._slot(peer), cookie, int(at * _NS))

    def send_transport(self, peer, packet: bytes) -> bool:
        """Seal and send packet (b"" = keepalive) for peer in C."""
        slot = self._slots.get(peer)
        return slot is not None and self.dp.send(slot, packet)

    def replay_check(self, local_index: int, counter: int) -> bool:
        """A transport packet the Device opened (C passed it up before it had the keypair):
        False if C's window of that keypair has its counter already."""
        return self.dp.replay_check(local_index, counter) is not False

    def flush_config(self) -> None:
        """Push the allowed-IPs table and the cookie state if they changed (once per
        event, not per insert)."""
        self._push_cookie()
        if not self._routes_dirty:
            return
        self._routes_dirty = False
        routes = [(network, self._slot(peer)) for peer in self.dev.peers.values()
                  for network in self.dev.allowed_ips.networks_of(peer)]
        self.dp.set_allowed_ips(routes)

    def _push_cookie(self) -> None:
        """C checks mac1 and answers floods with the Device's key and cookie secret."""
        if self._static is not self.dev.private_key:
            self._static = self.dev.private_key
            self.dp.hs_set_key(self.dev.private_key, self.dev.public_key)
        secret, drawn = self.dev.cookie_checker.secret
        if self._cookie != (self.dev.public_key, drawn):
            self._cookie = (self.dev.public_key, drawn)
            self.dp.set_cookie(self.dev.public_key, secret,
                               int(drawn * _NS) if drawn > 0 else 0)

    def _slot(self, peer) -> int:
        slot = self._slots.get(peer)
        if slot is None:
            slot = self.dp.peer_add()
            self._slots[peer], self._peers[slot] = slot, peer
            self._seen[slot] = DpPeerState()
        return slot

    def _push_keypairs(self, peer) -> None:
        kps = peer.keypairs
        self.dp.set_keypairs(self._slot(peer), [
            None if kp is None else
            (kp.send_key, kp.recv_key, int(kp.created * _NS), kp.local_index, kp.remote_index,
             kp.is_initiator, kp.send_counter < REJECT_AFTER_MESSAGES)
            for kp in (kps.previous, kps.current, kps.next)])

    def _push_handshake(self, peer) -> None:
        """What the responder in C needs of peer's handshake (noise.consume_initiation's state)."""
        hs = peer.handshake
        if hs.static_static is None:
            self.dp.hs_peer(self._slot(peer), None)
            return
        last = hs.last_initiation_consumption
        self.dp.hs_peer(self._slot(peer), peer.public_key, hs.preshared_key, hs.static_static,
                        hs.last_timestamp, int(last * _NS) if last > 0 else 0)

    def _push_endpoint(self, peer) -> None:
        endpoint = peer.endpoint
        source = None if endpoint is None else self._arrivals.get(endpoint)
        self.dp.set_endpoint(self._slot(peer), endpoint, source)

    # ---- the datagrams Python makes (handshakes, cookie replies) ----

    def send_datagram(self, payload: bytes, remote):
        """Send through C's sockets from the sticky source: the address a datagram being
        answered came to (the freshest), else C's source for the peer whose endpoint
        remote is. A gone source is forgotten. Returns an OSError, or None when sent."""
        source = self._arrivals.get(remote) or self.dp.source_for(remote)[1]
        sent = self.dp.send_datagram(payload, remote, source)
        if sent == 1:
            self.dp.forget_source(remote)
            self._arrivals.pop(remote, None)
        return OSError(system.EIO, "the datapath could not send") if sent < 0 else None

    # ---- what the workers report ----

    def tun_gone(self) -> bool:
        return bool(self.dp.stats()["tun_gone"])

    def on_event(self, clock, flush) -> None:
        """The event fd is readable: feed upcalls to the Device in rounds of UPCALL_ROUND,
        calling flush() (the loop's: send what the Device queued) after each round that
        may have left more waiting; then read peer events. clock: monotonic seconds."""
        try:
            system.read(self.dp.event_fd(), 8)
        except OSError as exc:
            if exc.errno != system.EAGAIN:
                raise
        while True:
            now = clock()
            self._arrivals = {}
            upcalls = self.dp.upcalls(UPCALL_ROUND)
            for kind, data, remote, source in upcalls:
                if kind == self.dp.UP_TUN:
                    self.dev.receive_packet(data, now)
                    continue
                if source is not None:
                    self._arrivals[remote] = source
                if kind == self.dp.UP_UDP:
                    self.dev.receive_datagram(data, remote, now)
                else:
                    self._answered(data, remote, now)
            if len(upcalls) < UPCALL_ROUND:
                break
            flush()
        self.sync(clock())

    def _answered(self, data: bytes, remote, now: float) -> None:
        """A WGC_DP_UP_HANDSHAKE upcall (wgcore.h has its layout) to the Device."""
        peer = self._peers.get(int.from_bytes(data[0:4], "little"))
        if peer is None:
            return      # removed since
        self.dev.handshake_answered(peer, (
            int.from_bytes(data[4:8], "little"), int.from_bytes(data[8:12], "little"),
            data[12:24], data[24:40], data[40:72], data[72:104]), remote, now)
        # Also when (host, port) stayed: the initiation may have come to another of our
        # addresses, and the initiator's first packets can reach Python before C has the
        # keypair (C sent the response already), so C's roaming would not see them.
        if self.dev.peers.get(peer.public_key) is peer:
            self._push_endpoint(peer)

    def sync(self, now: float) -> None:
        """Apply pending peer events; keep syncing every SYNC_INTERVAL_S while traffic flows."""
        self.dev.cookie_checker.refresh(now)    # pushed by the flush_config that follows
        active = self._apply_events(now)
        if active:
            self.next_sync = now + SYNC_INTERVAL_S
        elif self.next_sync is not None and now >= self.next_sync:
            # Quiet: let the next packet wake us, and catch one that raced the arming.
            self.next_sync = None
            self.dp.arm()
            if self._apply_events(now):
                self.next_sync = now + SYNC_INTERVAL_S

    def _apply_events(self, now: float) -> bool:
        active = False
        for slot in self.dp.poll():
            peer, state = self._peers.get(slot), self.dp.peer_read(slot)
            if peer is None or state is None:
                continue
            active = active or bool(state.events & self.dp.EV_ACTIVITY)
            self._apply_state(peer, slot, state, now)
        return active

    def _apply_state(self, peer, slot: int, state, now: float) -> None:
        seen, self._seen[slot] = self._seen[slot], state
        peer.rx_bytes += state.rx_bytes - seen.rx_bytes
        peer.tx_bytes += state.tx_bytes - seen.tx_bytes
        if state.endpoint is not None and state.endpoint != peer.endpoint:
            self._echo = True       # roaming happened in C already
            try:
                peer.endpoint = state.endpoint
            finally:
                self._echo = False
        self._replay_timers(peer, seen, state, now)
        if state.events & self.dp.EV_CONFIRMED:
            self.dev.keypair_confirmed(peer, state.confirmed_index, now)
        if state.events & self.dp.EV_REKEY_SEND:
            peer.send_handshake_initiation(now, is_retry=False)
        if state.events & self.dp.EV_REKEY_RECV:
            peer.keep_key_fresh_receiving(now)

    @staticmethod
    def _replay_timers(peer, seen, state, now: float) -> None:
        """Run the timers_* hooks for what the workers did, oldest first, at their times."""
        t = peer.timers
        hooks = []
        if state.last_auth_recv_ns > seen.last_auth_recv_ns:
            hooks.append((state.last_auth_recv_ns, 0, t.timers_any_authenticated_packet_traversal))
            hooks.append((state.last_auth_recv_ns, 1, t.timers_any_authenticated_packet_received))
        if state.last_data_recv_ns > seen.last_data_recv_ns:
            hooks.append((state.last_data_recv_ns, 2, t.timers_data_received))
        if state.last_auth_sent_ns > seen.last_auth_sent_ns:
            hooks.append((state.last_auth_sent_ns, 0, t.timers_any_authenticated_packet_traversal))
            hooks.append((state.last_auth_sent_ns, 1, t.timers_any_authenticated_packet_sent))
        if state.last_data_sent_ns > seen.last_data_sent_ns:
            hooks.append((state.last_data_sent_ns, 2, t.timers_data_sent))
        hooks.sort(key=lambda h: (h[0], h[1]))
        for when_ns, _, hook in hooks:
            hook(min(now, when_ns / _NS))
