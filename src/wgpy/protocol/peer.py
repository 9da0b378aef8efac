"""One peer: its handshake, keypairs, cookie generator, timers and the send path
(kernel peer.c + send.c, wireguard-go peer.go + send.go).

Decisions about sending live here: when to initiate, when to stage packets
waiting for a session, how to pad and number transport packets. Bytes leave through
device.queue_datagram() and device.send_transport(); nothing here knows sockets. Rule: only
our own code calls these methods, so misuse may raise; remote bytes never reach here raw.
"""

import base64

from wgpy import crypto
from wgpy.runtime.compat import deque

from . import messages, noise
from .constants import (KEY_LEN, PADDING_MULTIPLE, QUEUE_STAGED_SIZE,
                        REJECT_AFTER_MESSAGES, REJECT_AFTER_TIME, REKEY_AFTER_MESSAGES,
                        REKEY_AFTER_TIME, REKEY_TIMEOUT, KEEPALIVE_TIMEOUT)
from .cookie import CookieGenerator
from .keypairs import Keypair, Keypairs
from .timers import Timers

ZERO_PSK = bytes(KEY_LEN)


def padding_size(packet_len: int, mtu: int) -> int:
    """Zero bytes to append: up to a multiple of 16, never past the MTU (send.go)."""
    if mtu <= 0:
        return -packet_len % PADDING_MULTIPLE
    last_unit = packet_len % mtu if packet_len > mtu else packet_len
    padded = min(last_unit + (-last_unit % PADDING_MULTIPLE), mtu)
    return max(0, padded - last_unit)


class Peer:
    """A configured remote peer. Public fields are those of docs/device-api.md."""

    # Slots: one Peer (and its Timers, Keypairs, CookieGenerator) per configured peer,
    # thousands on a hub; no per-instance dict keeps idle RSS down.
    __slots__ = ("device", "public_key", "handshake", "keypairs", "cookie_generator", "timers",
                 "staged", "_endpoint", "persistent_keepalive_interval", "rx_bytes", "tx_bytes",
                 "last_handshake_wall")

    def __init__(self, device, public_key: bytes):
        self.device = device
        self.public_key = public_key
        self.handshake = noise.Handshake(remote_static=public_key)
        self.keypairs = Keypairs(device.index)
        self.keypairs.on_change = lambda: device._changed("keypairs", self)
        self.cookie_generator = CookieGenerator(public_key)
        self.timers = Timers(self, device.rng)
        self.timers.on_set = device.timer_set
        self.staged = deque(maxlen=QUEUE_STAGED_SIZE)   # full: oldest drops
        self._endpoint = None
        self.persistent_keepalive_interval = 0
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.last_handshake_wall = None

    def __repr__(self) -> str:
        return f"<Peer {self.short_name()}>"

    def short_name(self) -> str:
        """First 5 and last 6 base64 characters of the key, as LuCI shows peers."""
        text = base64.b64encode(self.public_key).decode()
        return f"{text[:5]}…{text[-6:]}"

    # ---- configuration ----

    @property
    def endpoint(self):
        """(host, port) or None; assignments are reported to the device (roaming, UAPI)."""
        return self._endpoint

    @endpoint.setter
    def endpoint(self, addr) -> None:
        if addr != self._endpoint:
            self._endpoint = addr
            self.device._changed("endpoint", self)

    @property
    def preshared_key(self) -> bytes:
        return self.handshake.preshared_key

    def set_preshared_key(self, psk) -> None:
        """Set the PSK; None means none (all zeros)."""
        if psk is not None and len(psk) != KEY_LEN:
            raise ValueError("preshared key must be 32 bytes")
        self.handshake.preshared_key = psk or ZERO_PSK
        self.device._changed("handshake", self)

    def set_endpoint(self, addr) -> None:
        """Set (host, port) or None; roaming may replace it later."""
        self.endpoint = None if addr is None else (str(addr[0]), int(addr[1]))

    def update_static_static(self, private_key) -> None:
        """Recompute DH(our static, their static); None if unusable."""
        hs = self.handshake
        hs.static_static = None if private_key is None else noise.dh(private_key, self.public_key)
        self.device._changed("handshake", self)

    # ---- handshakes ----

    def send_handshake_initiation(self, now: float, is_retry: bool) -> None:
        """Send an initiation unless one went out less than REKEY_TIMEOUT ago."""
        if not is_retry:
            self.timers.handshake_attempts = 0
        hs = self.handshake
        if now - hs.last_sent_handshake < REKEY_TIMEOUT:
            return
        hs.last_sent_handshake = now
        dev = self.device
        if dev.private_key is None or hs.static_static is None:
            return
        dev.index.delete(hs.local_index)
        sender = dev.index.new_index(self, hs)
        msg = noise.create_initiation(hs, dev.public_key, noise.new_private_key(dev.rng),
                                      dev.next_timestamp(), sender)
        if msg is None:
            dev.index.delete(sender)
            hs.local_index = 0
            return
        self._send_handshake_message(msg, now)
        self.timers.timers_handshake_initiated(now)

    def send_handshake_response(self, now: float) -> None:
        """Answer a consumed initiation and derive the (unconfirmed) session."""
        hs, dev = self.handshake, self.device
        hs.last_sent_handshake = now     # why: keeps us from duelling with an initiation
        dev.index.delete(hs.local_index)
        sender = dev.index.new_index(self, hs)
        msg = noise.create_response(hs, noise.new_private_key(dev.rng), sender)
        if msg is None:
            dev.index.delete(sender)
            hs.local_index = 0
            return
        self.begin_symmetric_session(now)
        self.timers.timers_session_derived(now)
        self._send_handshake_message(msg, now)

    def _send_handshake_message(self, msg, now: float) -> None:
        data = self.cookie_generator.add_macs(msg.pack(), now)
        self.timers.timers_any_authenticated_packet_traversal(now)
        self.timers.timers_any_authenticated_packet_sent(now)
        self.device.queue_datagram(self, data)

    def begin_symmetric_session(self, now: float) -> bool:
        """Turn the finished handshake into a keypair in the right slot."""
        session = noise.begin_session(self.handshake)
        if session is None:
            return False
        send_key, recv_key, initiator, local_index, remote_index = session
        keypair = Keypair(send_key, recv_key, initiator, local_index, remote_index, now)
        self.device.index.swap_for_keypair(local_index, keypair)
        self.keypairs.install(keypair)
        return True

    def handshake_complete(self, now: float) -> None:
        """Call when a response is consumed or a next keypair is confirmed."""
        self.timers.timers_handshake_complete(now)
        self.last_handshake_wall = self.device.wall_clock()

    # ---- transport ----

    def stage_packet(self, packet: bytes) -> None:
        """Queue an IP packet (b"" = keepalive) until it can be encrypted."""
        if len(self.staged) == self.staged.maxlen:
            self.device.drops["staged_queue_full"] += 1
        self.staged.append(packet)

    def send_keepalive(self, now: float) -> None:
        """Send an empty transport packet (or start a handshake so we can)."""
        if not self.staged:
            self.staged.append(b"")
        self.send_staged_packets(now)

    def flush_staged_packets(self) -> None:
        """Drop packets waiting for a session."""
        self.device.drops["staged_flushed"] += len(self.staged)
        self.staged.clear()

    def _usable_keypair(self, now: float):
        keypair = self.keypairs.current
        if (keypair is None or keypair.send_counter >= REJECT_AFTER_MESSAGES
                or now - keypair.created >= REJECT_AFTER_TIME):
            return None
        return keypair

    def send_staged_packets(self, now: float) -> None:
        """Encrypt and send everything staged, or initiate a handshake if no key can."""
        while self.staged:
            keypair = self._usable_keypair(now)
            if keypair is None:
                self.send_handshake_initiation(now, is_retry=False)
                return
            batch, data_sent = [], False
            # With a fast path, C numbers and seals (it owns the send counter).
            offload = self.device.fastpath is not None
            while self.staged and keypair.send_counter < REJECT_AFTER_MESSAGES:
                packet = self.staged.popleft()
                batch.append(packet if offload else self._seal(keypair, packet))
                data_sent = data_sent or bool(packet)
            self._send_transport_batch(batch, data_sent, now)

    def _seal(self, keypair, packet: bytes) -> bytes:
        counter = keypair.send_counter
        keypair.send_counter += 1
        plaintext = packet + bytes(padding_size(len(packet), self.device.mtu))
        sealed = crypto.aead_seal(keypair.send_key, counter, plaintext)
        return messages.pack_transport(keypair.remote_index, counter, sealed)

    def _send_transport_batch(self, batch, data_sent: bool, now: float) -> None:
        self.timers.timers_any_authenticated_packet_traversal(now)
        self.timers.timers_any_authenticated_packet_sent(now)
        for packet in batch:
            self.device.send_transport(self, packet)
        if data_sent:
            self.timers.timers_data_sent(now)
        self.keep_key_fresh_sending(now)

    def keep_key_fresh_sending(self, now: float) -> None:
        """Initiate after REKEY_AFTER_MESSAGES, or REKEY_AFTER_TIME if we initiated."""
        keypair = self.keypairs.current
        if keypair is None:
            return
        if (keypair.send_counter > REKEY_AFTER_MESSAGES
                or (keypair.is_initiator and now - keypair.created > REKEY_AFTER_TIME)):
            self.send_handshake_initiation(now, is_retry=False)

    def keep_key_fresh_receiving(self, now: float) -> None:
        """Initiate once if our initiated key is about to expire while receiving."""
        if self.timers.sent_last_minute_handshake:
            return
        keypair = self.keypairs.current
        limit = REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT
        if keypair is not None and keypair.is_initiator and now - keypair.created > limit:
            self.timers.sent_last_minute_handshake = True
            self.send_handshake_initiation(now, is_retry=False)

    # ---- teardown ----

    def expire_current_keypairs(self, now: float) -> None:
        """Stop sending with current/next and allow an immediate new handshake."""
        self.device.index.delete(self.handshake.local_index)
        self.handshake.clear()
        self.handshake.last_sent_handshake = now - (REKEY_TIMEOUT + 1)
        self.keypairs.expire_current()

    def zero_and_flush_all(self) -> None:
        """Forget all keys and handshake state, and drop staged packets."""
        self.keypairs.clear()
        self.device.index.delete(self.handshake.local_index)
        self.handshake.clear()
        self.flush_staged_packets()
