"""Bulk TCP for the interop tests: `tcp.py serve ADDR PORT` prints the sha256 and byte count
of everything one client sends; `tcp.py send ADDR PORT NBYTES SEED` sends seeded random
bytes and prints their sha256. Run each side inside its namespace with `ip netns exec`."""

import hashlib
import random
import socket
import sys

CHUNK = 65536


def serve(addr: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((addr, port))
        listener.listen(1)
        print("listening", flush=True)
        conn, _ = listener.accept()
        digest, total = hashlib.sha256(), 0
        with conn:
            while data := conn.recv(CHUNK):
                digest.update(data)
                total += len(data)
        print(digest.hexdigest(), total, flush=True)


def send(addr: str, port: int, nbytes: int, seed: int) -> None:
    rng = random.Random(seed)
    digest = hashlib.sha256()
    with socket.create_connection((addr, port), timeout=30) as conn:
        left = nbytes
        while left:
            data = rng.randbytes(min(CHUNK, left))
            conn.sendall(data)
            digest.update(data)
            left -= len(data)
    print(digest.hexdigest(), nbytes, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
