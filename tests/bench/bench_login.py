"""Server memory under a burst of wrong logins (issue #13, item 1).

Method: `wgpy -c DIR web`, the installed console script, serves a throw-away config on
127.0.0.1 with a real scrypt password file. After the first answer, its RSS is the idle
figure. Then N clients connect at once and each sends one wrong password (`session login`
over /ubus JSON-RPC); the server's peak RSS is the kernel's VmHWM (high-water mark of the whole process), and "after" is VmRSS 2 s after the last
answer. Two bursts, each against a fresh server: all from one address, and each from its own
loopback address (127.0.1.x: loopback only, no traffic leaves the machine). Target: peak at
most 40 MiB, after back near idle.

    .venv/bin/python tests/bench/bench_login.py [--clients 200]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

from wgpy.web import auth

TARGET_KIB = 40 * 1024
WGPY = os.path.join(os.path.dirname(sys.executable), "wgpy")  # the console script
NETWORK = """
config interface 'wgbench0'
\toption proto 'wgpy'
\toption private_key 'generate'
\tlist addresses '10.98.0.1/24'
"""


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def post_login(port: int, source: str, password: str) -> str:
    """-> "ok", "wrong", "locked" or "busy" (jsonrpc.py's answers), or "http N"."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [
        "0" * 32, "session", "login", {"username": "root", "password": password}]}).encode()
    with socket.socket() as s:
        s.settimeout(120)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"POST /ubus HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    if not answer:
        return "closed"
    head, _, data = answer.partition(b"\r\n\r\n")
    if head.split()[1] != b"200":
        return "http " + head.split()[1].decode()
    result = json.loads(data)["result"]
    if result[0] == 0:
        return "ok"
    if len(result) == 1:
        return "wrong"
    return "locked" if "too many" in result[1]["error"] else "busy"


def burst(clients: int, sources) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(f"{tmp}/config")
        with open(f"{tmp}/config/network", "w") as f:
            f.write(NETWORK)
        with open(f"{tmp}/web.passwd", "w") as f:
            f.write(auth.hash_password("the right password"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = open(f"{tmp}/web.log", "w+")
        proc = subprocess.Popen(
            [WGPY, "-c", f"{tmp}/config", "web", "--listen", f"127.0.0.1:{port}",
             "--passwd-file", f"{tmp}/web.passwd", "--shadow", f"{tmp}/no-shadow"],
            stderr=log)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    post_login(port, "127.0.0.1", "")  # an empty password runs no scrypt
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        log.seek(0)
                        raise SystemExit(f"wgpy web did not start:\n{log.read()}")
                    time.sleep(0.1)
            idle = status_kib(proc.pid, "VmRSS")
            codes: Counter = Counter()
            start = threading.Barrier(clients)

            def one(i: int) -> None:
                start.wait()
                try:
                    codes[post_login(port, sources(i), "wrong password")] += 1
                except OSError as exc:
                    codes[type(exc).__name__] += 1
            threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
            began = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            seconds = time.monotonic() - began
            peak = status_kib(proc.pid, "VmHWM")
            time.sleep(2)
            after = status_kib(proc.pid, "VmRSS")
        finally:
            proc.kill()
            proc.wait()
            log.close()
    return {"idle": idle, "peak": peak, "after": after, "seconds": seconds,
            "codes": dict(sorted(codes.items(), key=str))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.clients} concurrent wrong logins; MAX_CONCURRENT_CHECKS="
          f"{auth.MAX_CONCURRENT_CHECKS}, scrypt {auth._SCRYPT}; RSS in MiB "
          f"(peak = VmHWM), target peak <= {TARGET_KIB // 1024}")
    print(f"{'sources':<22} {'idle':>6} {'peak':>6} {'after':>6} {'time s':>7}  answers")
    worst = 0
    for name, sources in (("one address", lambda i: "127.0.0.1"),
                          (f"{args.clients} addresses", lambda i: f"127.0.1.{1 + i % 250}")):
        r = burst(args.clients, sources)
        worst = max(worst, r["peak"])
        print(f"{name:<22} {r['idle'] / 1024:6.1f} {r['peak'] / 1024:6.1f} "
              f"{r['after'] / 1024:6.1f} {r['seconds']:7.2f}  {r['codes']}")
    print("peak within target" if worst <= TARGET_KIB else "PEAK OVER TARGET")
    return 0 if worst <= TARGET_KIB else 1


if __name__ == "__main__":
    sys.exit(main())
