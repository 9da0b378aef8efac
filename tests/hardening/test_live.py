"""A live wgpyd (C data path, LOG_LEVEL=verbose, preshared key) against wireguard-go, attacked
from outside and from the local UAPI socket. Tests run in file order on one pair; the last
one reads everything wgpyd logged meanwhile and looks for its keys.

Invariants: replayed, bit-flipped, truncated, oversized and unknown-index packets are dropped
with the peer's rx/tx bytes and last handshake untouched and the session still working;
hostile UAPI requests get errno=N (or a hang-up) with the daemon alive and its configuration
unchanged; no private or preshared key appears in wgpyd's log, in hex or base64.
"""

import base64
import os
import random
import socket
import stat
import subprocess
import sys
import time

import pytest

from support.pair import PORT, ping
from wgpy.uapi.client import SOCKET_DIR

pytestmark = pytest.mark.netns

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools")
ATTACKER = "10.66.0.9"      # a second address in ns B: wireguard-go holds 10.66.0.2:51820
CONFIG_KEYS = ("private_key", "listen_port", "fwmark", "public_key", "preshared_key",
               "endpoint", "allowed_ip", "persistent_keepalive_interval")


def _rx_packets(node) -> int:
    return int(node.ns.run("cat", "/sys/class/net/vA/statistics/rx_packets").stdout)


def _session(node, other) -> tuple:
    stats = node.peer_stats(other)
    return stats["rx"], stats["tx"], stats["handshake"]


def _send_from_attacker(b, a, payloads) -> None:
    script = ("import socket,sys\n"
              "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
              f"s.bind(({ATTACKER!r},0))\n"
              "for line in sys.stdin.read().split():\n"
              f"    s.sendto(bytes.fromhex(line),({a.outer[0]!r},{PORT}))\n")
    b.ns.run(sys.executable, "-c", script, input="\n".join(p.hex() for p in payloads))


def _renew_peer(b, a, psk) -> None:
    b.wg("set", b.ifname, "peer", a.public, "remove")
    b.wg("set", b.ifname, "peer", a.public, "preshared-key", "/dev/stdin", "endpoint",
         f"{a.outer[0]}:{PORT}", "allowed-ips", f"{a.inner[0]}/32,{a.inner[1]}/128",
         input=psk + "\n")


def _tampered(initiation: bytes, data: bytes) -> list:
    """Every hostile variant of a captured initiation and data packet."""
    rng = random.Random(0x7A3)
    out = [initiation, initiation, data, data]                       # replays
    for pkt in (initiation, data):
        for pos in [0, 1, 4, 8, 15, 16, len(pkt) - 17, len(pkt) - 1] + \
                [rng.randrange(len(pkt)) for _ in range(8)]:
            flipped = bytearray(pkt)
            flipped[pos] ^= 1 << rng.randrange(8)
            out.append(bytes(flipped))                                # bit flips
        out += [pkt[:n] for n in (0, 1, 4, 15, 16, 31, 32, len(pkt) - 1)]   # truncated
        out += [pkt + b"\0", pkt + bytes(100), pkt + os.urandom(1400)]      # extended
    out += [data[:16] + os.urandom(3000), data[:16] + os.urandom(9000),    # oversized
            data[:16] + os.urandom(65000)]
    for _ in range(8):                                                # unknown receivers
        out.append(data[:4] + rng.randbytes(4) + data[8:])
    out.append(initiation[:4] + rng.randbytes(len(initiation) - 4))   # garbage initiation
    return out


def test_replayed_and_tampered_packets_are_dropped(live):
    lab, a, b, psk = live
    _renew_peer(b, a, psk)      # wireguard-go forgets the session: it will initiate
    sniff = b.ns.spawn(sys.executable, os.path.join(TOOLS, "sniff.py"), "vB", str(PORT), "1,4",
                       "15", stdout=subprocess.PIPE)
    assert sniff.stdout.readline().strip() == "ready"
    assert ping(b, a.inner[0], count=2)   # wireguard-go initiates, then sends data
    captured = dict(line.split() for line in sniff.communicate(timeout=20)[0].split("\n")
                    if line.strip())
    assert set(captured) == {"1", "4"}, captured
    initiation, data = bytes.fromhex(captured["1"]), bytes.fromhex(captured["4"])
    b.ns.run("ip", "addr", "add", f"{ATTACKER}/24", "dev", "vB")
    time.sleep(1)
    before, rx_before = _session(a, b), _rx_packets(a)
    hostile = _tampered(initiation, data)
    _send_from_attacker(b, a, hostile)
    time.sleep(1.5)
    assert _rx_packets(a) - rx_before >= len(hostile), "the packets did not reach ns A"
    assert _session(a, b) == before, "a hostile packet moved counters or the session"
    assert a.proc.poll() is None
    assert ping(a, b.inner[0], count=2), "the session did not survive"


def _uapi(ifname: str, request: bytes, bytewise: bool = False) -> bytes:
    """Send request, read until the answer's blank line or hang-up; -> the raw answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        for _ in range(100):    # a full listen backlog answers EAGAIN at once: wait for accept
            try:
                sock.connect(f"{SOCKET_DIR}/{ifname}.sock")
                break
            except BlockingIOError:
                time.sleep(0.05)
        try:
            if bytewise:
                for i in range(len(request)):
                    sock.send(request[i:i + 1])
            else:
                sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while not answer.endswith(b"\n\n"):
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            answer += chunk
        return answer


def _config(ifname: str) -> list:
    answer = _uapi(ifname, b"get=1\n\n").decode()
    assert answer.endswith("errno=0\n\n"), answer
    return [line for line in answer.split("\n") if line.split("=", 1)[0] in CONFIG_KEYS]


KEY = "11" * 32
HOSTILE_UAPI = [
    (b"set=1\nprivate_key=zz\n\n", b"errno=-22"),
    (b"set=1\nprivate_key=" + b"1" * 63 + b"\n\n", b"errno=-22"),
    (b"set=1\nlisten_port=70000\n\n", b"errno=-22"),
    (b"set=1\nlisten_port=-1\n\n", b"errno=-22"),
    (b"set=1\nlisten_port=\xd9\xa1\n\n", b"errno=-22"),                       # Arabic-Indic 1
    (b"set=1\nfwmark=" + b"0" * 4000 + b"99999999999\n\n", b"errno=-22"),
    (b"set=1\nlisten_port=" + b"9" * 5000 + b"\n\n", b""),              # line over 4 KiB
    (b"set=1\n" + b"A" * 10000, b""),                                   # no newline at all
    (b"set=1\nnoequals\n\n", b"errno=-71"),
    (b"set=1\nreplace_peers=false\n\n", b"errno=-22"),
    (b"set=1\nbogus_key=1\n\n", b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nendpoint=[::1\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nendpoint=example.com:1\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nallowed_ip=10.0.0.0/33\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nallowed_ip=fe80::1%eth0/64\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nprotocol_version=2\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\npersistent_keepalive_interval=65536\n\n".encode(),
     b"errno=-22"),
    (f"set=1\npublic_key={KEY[:-1]}g\n\n".encode(), b"errno=-22"),
    (f"set=1\npublic_key={KEY}\nremove=yes\n\n".encode(), b"errno=-22"),
    (b"get=1\nextra\n\n", b"errno=-22"),
    (b"bogus=1\n\n", b""),
    (b"\x00\xff\xfe" * 300 + b"\n\n", b""),
    (b"set=1\nprivate_key=\xff\xfe" + b"a" * 62 + b"\n\n", b"errno=-22"),
]


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "byte-at-a-time"])
def test_hostile_uapi_requests(live, bytewise):
    _, a, _, _ = live
    before = _config(a.ifname)
    for request, expected in HOSTILE_UAPI:
        if bytewise and len(request) > 2000:
            continue    # one send per byte: keep the run short
        answer = _uapi(a.ifname, request, bytewise)
        assert answer.startswith(expected) if expected else answer == b"", \
            (request[:80], answer)
        assert a.proc.poll() is None, request[:80]
        assert _config(a.ifname) == before, request[:80]


def test_random_uapi_lines(live):
    _, a, _, _ = live
    rng = random.Random(0x0A91)
    print("seed 0x0A91")
    before = _config(a.ifname)
    alphabet = "abcdefghijklmnopqrstuvwxyz_=0123456789:[]./-%\x00\xe9 "
    for _ in range(60):
        lines = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60)))
                 for _ in range(rng.randrange(1, 5))]
        lines = [line if "=" in line else line + "=" for line in lines]
        answer = _uapi(a.ifname, ("set=1\n" + "\n".join(lines) + "\n\n").encode())
        assert answer in (b"errno=-22\n\n", b"errno=-71\n\n"), (lines, answer)
    assert a.proc.poll() is None
    assert _config(a.ifname) == before


def test_many_idle_connections_do_not_block_the_socket(live):
    _, a, _, _ = live
    idle = []
    try:
        for _ in range(100):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            for _ in range(100):    # a full listen backlog answers EAGAIN: wait for accept
                try:
                    s.connect(f"{SOCKET_DIR}/{a.ifname}.sock")
                    break
                except BlockingIOError:
                    time.sleep(0.05)
            else:
                raise AssertionError(f"wgpyd stopped accepting after {len(idle)} connections")
            s.send(b"set=1\nlisten_port=1")     # half a request, never finished
            idle.append(s)
        start = time.monotonic()
        assert _config(a.ifname)
        assert time.monotonic() - start < 2
    finally:
        for s in idle:
            s.close()
    time.sleep(0.3)
    assert a.proc.poll() is None


def test_uapi_socket_is_root_only(live):
    _, a, _, _ = live
    st = os.stat(f"{SOCKET_DIR}/{a.ifname}.sock")
    assert stat.S_ISSOCK(st.st_mode) and st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)
    dir_mode = stat.S_IMODE(os.stat(SOCKET_DIR).st_mode)
    assert dir_mode & 0o022 == 0, oct(dir_mode)     # 0755 as wireguard-go: nobody else writes


def test_no_key_in_wgpyd_log(live):
    """Last in the file: everything above (handshakes, data, hostile UAPI) has been logged."""
    lab, a, b, psk = live
    _renew_peer(b, a, psk)
    assert ping(b, a.inner[0])
    logs = list(lab.tmp_path.glob(f"{a.ns.name}-*.log"))
    text = "".join(p.read_text(errors="replace") for p in logs)
    assert "UAPI" in text and len(text) > 500, "the log is not verbose: nothing to check"
    for name, b64 in (("private key", a.private), ("preshared key", psk)):
        raw = base64.b64decode(b64)
        for form in (b64, raw.hex(), raw.hex().upper(), b64.rstrip("=")):
            assert form not in text, f"{name} appears in wgpyd's log as {form[:6]}..."
