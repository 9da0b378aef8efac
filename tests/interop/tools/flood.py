"""Handshake flood for the cookie test: `flood.py SRC DST PORT PUBKEY_B64 SECONDS RATE`.

Sends bogus handshake initiations that carry a valid mac1 for PUBKEY (so the target must
treat them as real work) from many source ports bound to SRC, and prints how many cookie
replies (message type 3) came back."""

import base64
import hashlib
import os
import selectors
import socket
import struct
import sys
import time

SOCKETS = 32
INITIATION = 1
COOKIE_REPLY = 3
COOKIE_REPLY_LEN = 64


def mac1(responder_public: bytes, message: bytes) -> bytes:
    key = hashlib.blake2s(b"mac1----" + responder_public).digest()
    return hashlib.blake2s(message, key=key, digest_size=16).digest()


def bogus_initiation(responder_public: bytes) -> bytes:
    body = struct.pack("<I", INITIATION) + os.urandom(4 + 32 + 48 + 28)
    return body + mac1(responder_public, body) + bytes(16)


def main(src, dst, port, public_b64, seconds, rate):
    public = base64.b64decode(public_b64)
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(SOCKETS):
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((src, 0))
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ)
        socks.append(sock)
    replies = sent = 0
    start = time.monotonic()
    while (now := time.monotonic()) < start + seconds:
        while sent < (now - start) * rate:
            try:
                socks[sent % SOCKETS].sendto(bogus_initiation(public), (dst, port))
            except OSError:
                pass
            sent += 1
        for key, _ in sel.select(0.005):
            while True:
                try:
                    data = key.fileobj.recv(2048)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                replies += len(data) == COOKIE_REPLY_LEN and data[0] == COOKIE_REPLY
    print(sent, replies, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]),
         float(sys.argv[6]))
