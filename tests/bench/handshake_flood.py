"""Handshake-initiation generator for bench_tunnel.py and bench_handshake.py (run inside a
network namespace). Two modes, by the JSON object it reads on stdin.

Mode "spoof" (bench_handshake.py): {"mode": "spoof", "responder_public": b64,
"responder": "10.66.0.1", "port": 51820, "prefix": "10.200", "rate": 60000, "duration": 5.0,
"warmup": 1.0}. Bogus initiations with a valid mac1 and no mac2, from POOL random source
addresses in prefix.0.0/16 with random ports, through a raw socket (IP_HDRINCL), paced at
`rate` per second; the cookie replies (type 3, 64 bytes) that come back to any of those
addresses (the namespace routes prefix/16 locally) are counted after the warm-up. The packets
are built once (a pool) with their mmsghdr array, and go out and come back in batches of
BATCH per sendmmsg/recvmmsg (libc through ctypes), so the generator costs little more than
the kernel's work and offers far more than either responder answers. Prints offered and
sent/s, replies/s and the generator's CPU.

Default mode: reads one JSON object on stdin:
  {"responder_public": b64, "responder": "10.66.0.1", "port": 51820,
   "peers": [b64 private key, ...], "sources": ["10.88.0.1", ...],   # one source IP per peer
   "warmup": 1.5, "duration": 5.0, "window": 256, "per_peer_rate": 18}
and prints one JSON object with the counts.

Method: every initiation is a valid Noise_IKpsk2 message 1 from one of the peers the
responder has configured, built with wgpy.protocol (noise, messages, cookie, tai64n), with a
fresh, strictly increasing TAI64N timestamp per peer, a correct mac1, and mac2 once the
responder has sent that source address a cookie (it does so when "under load"). One
ephemeral key is shared by all initiations of a run, so that building a message costs the
generator one ChaCha20-Poly1305 seal and one or two BLAKE2s instead of two X25519; the
responder cannot tell (neither implementation caches anything by ephemeral key) and still
does all of its work: DH(e, s), decrypt, timestamp/replay check, a new ephemeral, DH(e, e),
DH(e, s), the response and a new keypair.

Peer i always sends from source address i (IP_PKTINFO), at most `per_peer_rate` per second,
which keeps every peer under both responders' limits (50 initiations/s per peer, 20
handshakes/s per source IP once under load). The loop is closed: at most `window`
initiations are in flight; one that gets neither a response nor a cookie reply within 1 s is
counted as lost. A completed handshake is a handshake response (type 2) whose receiver index
is one of our outstanding initiations; only those arriving after the warm-up are counted.
"""

import base64
import ctypes
import json
import os
import random
import resource
import select
import socket
import struct
import sys
import time

from wgpy import crypto
from wgpy.protocol import cookie, messages, noise, tai64n

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
POOL = 8192
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)     # Linux; Python lacks the name
TIMEOUT = 1.0
_BODY = struct.Struct("<II32s48s28s")
BATCH = 256         # datagrams per sendmmsg / recvmmsg


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(_Iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


class _Mmsg:
    """n mmsghdrs over fixed buffers (and one shared destination), for sendmmsg/recvmmsg."""

    def __init__(self, buffers, name=None):
        self.bufs = [ctypes.create_string_buffer(b, len(b)) for b in buffers]
        self.iovs = (_Iovec * len(buffers))()
        self.msgs = (_Mmsghdr * len(buffers))()
        self.name = name
        for i, buf in enumerate(self.bufs):
            self.iovs[i].base, self.iovs[i].len = ctypes.addressof(buf), len(buf)
            hdr = self.msgs[i].hdr
            hdr.iov, hdr.iovlen = ctypes.pointer(self.iovs[i]), 1
            if name is not None:
                hdr.name, hdr.namelen = ctypes.addressof(name), ctypes.sizeof(name)

    def at(self, i: int):
        return ctypes.byref(self.msgs, i * ctypes.sizeof(_Mmsghdr))


_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
_LIBC.recvmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                           ctypes.c_void_p]
MSG_DONTWAIT = 0x40


def _sockaddr_in(host: str, port: int):
    raw = struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(host)
    return ctypes.create_string_buffer(raw + bytes(8), 16)


def spoof(cfg) -> dict:
    mac1_key = cookie.mac1_key(base64.b64decode(cfg["responder_public"]))
    dst, port = cfg["responder"], int(cfg["port"])
    a, b = (int(x) for x in cfg["prefix"].split("."))
    rate, warmup, duration = float(cfg["rate"]), float(cfg["warmup"]), float(cfg["duration"])
    rnd = random.Random(int.from_bytes(os.urandom(8), "little"))
    pool = []
    for _ in range(POOL):
        body = struct.pack("<I", messages.MessageType.INITIATION) + rnd.randbytes(4 + 32 + 48 + 28)
        payload = body + crypto.blake2s(body, 16, mac1_key) + bytes(16)
        src = bytes((a, b, rnd.randrange(256), rnd.randrange(1, 255)))
        udp = struct.pack("!HHHH", rnd.randrange(1024, 65535), port, 8 + len(payload), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                         src, socket.inet_aton(dst))
        pool.append(ip + udp + payload)
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    rx.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 32 << 20)   # replies come in bursts
    send = _Mmsg(pool, _sockaddr_in(dst, 0))
    # A cookie reply seen by the raw socket: IPv4 header (20 bytes, no options) + UDP + 64.
    reply_len = 20 + 8 + 64
    recv = _Mmsg([bytes(reply_len + 1)] * BATCH)
    sent = replies = errors = 0
    start = time.monotonic()
    t0, t_end = start + warmup, start + warmup + duration
    counted_sent = 0
    cpu0 = None
    while (now := time.monotonic()) < t_end:
        if cpu0 is None and now >= t0:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu0, counted_sent, replies = usage.ru_utime + usage.ru_stime, sent, 0
        burst = min(BATCH, int((now - start) * rate) - sent, POOL - sent % POOL)
        if burst > 0:
            n = _LIBC.sendmmsg(out.fileno(), send.at(sent % POOL), burst, 0)
            if n < 0:
                errors += 1
                n = burst       # counted as offered: the kernel refused them
            sent += n
        while True:
            n = _LIBC.recvmmsg(rx.fileno(), recv.at(0), BATCH, MSG_DONTWAIT, None)
            if n <= 0:
                break
            replies += sum(1 for i in range(n) if recv.msgs[i].len == reply_len
                           and recv.bufs[i].raw[28] == 3)
        if burst <= 0:
            time.sleep(0.0002)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"sent_per_s": (sent - counted_sent) / duration, "rate": replies / duration,
            "replies": replies, "errors": errors, "offered": rate, "sources": POOL,
            "generator_cpu": (usage.ru_utime + usage.ru_stime - cpu0) / duration}


def main() -> int:
    cfg = json.load(sys.stdin)
    if cfg.get("mode") == "spoof":
        json.dump(spoof(cfg), sys.stdout)
        print()
        return 0
    resp_pub = base64.b64decode(cfg["responder_public"])
    dest = (cfg["responder"], int(cfg["port"]))
    privs = [base64.b64decode(k) for k in cfg["peers"]]
    sources = cfg["sources"]
    n = len(privs)
    min_gap = 1.0 / float(cfg.get("per_peer_rate", 18))
    window = int(cfg.get("window", 256))
    warmup, duration = float(cfg["warmup"]), float(cfg["duration"])

    # Shared ephemeral: the state after "e, es" is the same for every peer.
    eph_priv = crypto.generate_private_key()
    eph_pub = crypto.public_key(eph_priv)
    common = noise.wireguard_initial_state(resp_pub).copy()
    common.mix_hash(eph_pub)
    common.mix_key(eph_pub)
    common.mix_key(crypto.x25519(eph_priv, resp_pub))
    peers = []          # (encrypted_static, key for the timestamp, hash for its AD)
    for priv in privs:
        st = common.copy()
        enc_static = st.encrypt_and_hash(crypto.public_key(priv))
        st.mix_key(crypto.x25519(priv, resp_pub))   # ss
        peers.append((enc_static, st.k, st.h))
    mac1_key = cookie.mac1_key(resp_pub)
    cookie_key = cookie.cookie_key(resp_pub)
    pktinfo = [[(socket.IPPROTO_IP, IP_PKTINFO,
                 struct.pack("=I4s4s", 0, socket.inet_aton(src), bytes(4)))] for src in sources]

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.bind(("0.0.0.0", int(cfg.get("local_port", 40000))))
    sock.setblocking(False)

    last_ts = [tai64n.ZERO] * n
    last_send = [-1.0] * n
    cookies = [None] * n
    outstanding = {}    # sender index -> (peer, mac1, sent_at)
    next_index = 1
    rr = 0
    sent = completed = completed_total = cookie_replies = lost = other = 0
    capped_loops = loops = 0
    start = time.monotonic()
    t0, t_end = start + warmup, start + warmup + duration

    cpu0 = None
    while True:
        now = time.monotonic()
        if now >= t_end:
            break
        if cpu0 is None and now >= t0:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu0 = (usage.ru_utime + usage.ru_stime, now)
        # Send while the window and the per-peer pacing allow.
        while len(outstanding) < window:
            i = rr
            if now - last_send[i] < min_gap:
                capped_loops += 1
                break
            rr = (rr + 1) % n
            enc_static, k, h = peers[i]
            ts = tai64n.monotonic(time.time(), last_ts[i])
            last_ts[i] = ts
            index = next_index
            next_index = next_index + 1 if next_index < 0xFFFFFFFF else 1
            body = _BODY.pack(messages.MessageType.INITIATION, index, eph_pub, enc_static,
                              crypto.aead_seal(k, 0, ts, h))
            mac1 = crypto.blake2s(body, 16, mac1_key)
            mac2 = crypto.blake2s(body + mac1, 16, cookies[i]) if cookies[i] else bytes(16)
            try:
                sock.sendmsg([body + mac1 + mac2], pktinfo[i], 0, dest)
            except (BlockingIOError, OSError):
                break
            last_send[i] = now
            outstanding[index] = (i, mac1, now)
            sent += 1
        loops += 1
        # Receive everything that is there (wait a little if nothing is).
        ready, _, _ = select.select([sock], [], [], 0.002)
        while ready:
            try:
                data = sock.recv(2048)
            except BlockingIOError:
                break
            kind = messages.message_type(data)
            if kind is messages.MessageType.RESPONSE and len(data) == messages.RESPONSE_SIZE:
                receiver = int.from_bytes(data[8:12], "little")
                if outstanding.pop(receiver, None) is not None:
                    completed_total += 1
                    if time.monotonic() >= t0:
                        completed += 1
            elif kind is messages.MessageType.COOKIE_REPLY and \
                    len(data) == messages.COOKIE_REPLY_SIZE:
                reply = messages.parse(data)
                entry = outstanding.pop(reply.receiver, None)
                if entry is not None:
                    cookie_replies += 1
                    value = crypto.xaead_open(cookie_key, reply.nonce, reply.encrypted_cookie,
                                              entry[1])
                    if value is not None:
                        cookies[entry[0]] = value
            else:
                other += 1
        # Expire initiations nobody answered.
        if outstanding:
            now = time.monotonic()
            stale = [idx for idx, (_, _, at) in outstanding.items() if now - at > TIMEOUT]
            for idx in stale:
                del outstanding[idx]
            lost += len(stale)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime + usage.ru_stime - cpu0[0]) / (time.monotonic() - cpu0[1]) \
        if cpu0 else None
    json.dump({"generator_cpu": cpu, "completed": completed, "seconds": duration,
               "rate": completed / duration, "completed_incl_warmup": completed_total,
               "sent": sent, "cookie_replies": cookie_replies, "lost": lost,
               "other": other, "peers": n,
               "generator_cap": n / min_gap,
               "paced_fraction": capped_loops / max(1, loops)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
