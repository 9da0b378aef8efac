"""Helpers for the protocol tests: fake clock, seeded RNG, IP packet builders, an in-memory net."""

import ipaddress
import struct

from wgpy import crypto
from wgpy.protocol import noise
from wgpy.protocol.device import Device

SEED = 0x5EED_2024


class FakeClock:
    """Monotonic `now` plus a wall clock that can be skewed independently."""

    def __init__(self, now: float = 1000.0, wall: float = 1_700_000_000.0):
        self.now = now
        self.wall_skew = wall - now

    def wall(self) -> float:
        return self.now + self.wall_skew

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def make_rng(seed: int):
    """A deterministic rng(n) -> bytes: BLAKE2s over (seed, block number), so that it
    runs alike on CPython and MicroPython (which has no random.Random)."""
    blocks = [0]
    pending = bytearray()

    def rng(n: int) -> bytes:
        while len(pending) < n:
            pending.extend(crypto.blake2s(seed.to_bytes(8, "little") + blocks[0].to_bytes(8, "little")))
            blocks[0] += 1
        out = bytes(pending[:n])
        pending[:] = pending[n:]
        return out
    return rng


def make_keypair(rng):
    private = noise.new_private_key(rng)
    return private, crypto.public_key(private)


class HandshakePeer:
    """What noise.consume_initiation's lookup returns: anything with a .handshake."""

    def __init__(self, hs):
        self.handshake = hs


def handshake_pair(rng, psk_i=bytes(32), psk_r=bytes(32)):
    """An initiator's and a responder's noise.Handshake for fresh keys; -> ((i_priv, i_pub,
    hi), (r_priv, r_pub, hr), lookup) with lookup finding hr's HandshakePeer by i_pub."""
    i_priv, i_pub = make_keypair(rng)
    r_priv, r_pub = make_keypair(rng)
    hi = noise.Handshake(remote_static=r_pub, preshared_key=psk_i,
                         static_static=crypto.x25519(i_priv, r_pub))
    hr = noise.Handshake(remote_static=i_pub, preshared_key=psk_r,
                         static_static=crypto.x25519(r_priv, i_pub))
    return (i_priv, i_pub, hi), (r_priv, r_pub, hr), {i_pub: HandshakePeer(hr)}.get


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_packet(src: str, dst: str, payload: bytes = b"", proto: int = 17) -> bytes:
    """A minimal valid IPv4 packet (20-byte header with checksum)."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                         ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + payload


def ipv6_packet(src: str, dst: str, payload: bytes = b"", next_header: int = 59) -> bytes:
    """A minimal valid IPv6 packet (40-byte header)."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64,
                       ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed) + payload


class Net:
    """Devices wired by address; datagrams move only when flush() is called."""

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.devices = {}           # addr -> Device
        self.filter = None          # optional f(src, dst, payload) -> bool (False drops)
        self.log = []               # every (src, dst, payload) that was delivered

    def add(self, dev: Device, addr) -> None:
        self.devices[addr] = dev

    def addr_of(self, dev: Device):
        return next(a for a, d in self.devices.items() if d is dev)

    def flush(self, rounds: int = 50) -> int:
        """Deliver until quiet; returns the number of datagrams moved."""
        moved = 0
        for _ in range(rounds):
            batch = [(src, payload, dst) for src, dev in self.devices.items()
                     for payload, dst in dev.datagrams_to_send()]
            if not batch:
                return moved
            for src, payload, dst in batch:
                if self.filter is not None and not self.filter(src, dst, payload):
                    continue
                target = self.devices.get(dst)
                if target is not None:
                    self.log.append((src, dst, payload))
                    target.receive_datagram(payload, src, self.clock.now)
                    moved += 1
        raise AssertionError("network did not go quiet")

    def run_until(self, t: float) -> None:
        """Advance the clock to t, firing timers in order and flushing after each."""
        self.flush()
        while True:
            deadlines = [d for d in (dev.get_timer() for dev in self.devices.values())
                         if d is not None and d <= t]
            if not deadlines:
                break
            self.clock.now = max(self.clock.now, min(deadlines))
            for dev in self.devices.values():
                timer = dev.get_timer()
                if timer is not None and timer <= self.clock.now:
                    dev.handle_timer(self.clock.now)
            self.flush()
        self.clock.now = max(self.clock.now, t)

    def advance(self, seconds: float) -> None:
        self.run_until(self.clock.now + seconds)


class Pair:
    """Two devices A (10.0.0.1, fd00::1) and B (10.0.0.2, fd00::2); A knows B's endpoint."""

    A_ADDR = ("192.0.2.1", 51820)
    B_ADDR = ("198.51.100.2", 51821)

    def __init__(self, seed: int, psk_a=None, psk_b=None, clock=None):
        self.clock = clock or FakeClock()
        rng = make_rng(seed)
        self.a = Device(rng=make_rng(seed + 1), wall_clock=self.clock.wall)
        self.b = Device(rng=make_rng(seed + 2), wall_clock=self.clock.wall)
        self.a_priv, self.a_pub = make_keypair(rng)
        self.b_priv, self.b_pub = make_keypair(rng)
        now = self.clock.now
        self.a.set_private_key(self.a_priv, now)
        self.b.set_private_key(self.b_priv, now)
        self.pb = self.a.add_peer(self.b_pub, now)      # B as seen by A
        self.pa = self.b.add_peer(self.a_pub, now)      # A as seen by B
        self.pb.set_preshared_key(psk_a)
        self.pa.set_preshared_key(psk_b)
        self.pb.set_endpoint(self.B_ADDR)
        for net_text in ("10.0.0.2/32", "fd00::2/128"):
            self.a.allowed_ips.insert(ipaddress.ip_network(net_text), self.pb)
        for net_text in ("10.0.0.1/32", "fd00::1/128"):
            self.b.allowed_ips.insert(ipaddress.ip_network(net_text), self.pa)
        self.net = Net(self.clock)
        self.net.add(self.a, self.A_ADDR)
        self.net.add(self.b, self.B_ADDR)

    @property
    def now(self) -> float:
        return self.clock.now

    def send_a_to_b(self, payload: bytes = b"ping") -> bytes:
        packet = ipv4_packet("10.0.0.1", "10.0.0.2", payload)
        self.a.receive_packet(packet, self.now)
        self.net.flush()
        return packet

    def send_b_to_a(self, payload: bytes = b"pong") -> bytes:
        packet = ipv4_packet("10.0.0.2", "10.0.0.1", payload)
        self.b.receive_packet(packet, self.now)
        self.net.flush()
        return packet

    def handshake(self) -> None:
        """A initiates (via a data packet) and B confirms; both end with a current keypair."""
        packet = self.send_a_to_b(b"hello")
        assert self.b.packets_to_deliver() == [packet]


