"""Fuzz targets over every Python parser of untrusted bytes, shared by the atheris runner
(atheris_main.py), the hypothesis tests (test_fuzz_python.py) and the regression replay.

Invariants (house style 8.5): a datagram gives a drop or a valid event; UAPI text, fed whole
or one byte at a time, gives errno=N with state unchanged; a UCI file gives a ConfigError (or
UciError) naming its location and is not rewritten. Each target takes bytes, raises
AssertionError on a broken invariant, and lets any other exception escape (a crash).

The datagram target decodes its input as  mode[1] body: mode 0 sends body as it is; mode 1
re-stamps mac1 (so a mutated handshake message reaches the Noise consumers); mode 2 seals
body[8:] under the receiver's live transport key with counter body[:8] (so the plaintext
reaches the inner-packet checks); mode 3 is a cookie reply for the sender's pending
handshake, sealed correctly when body[0] is odd.
"""

import io
import os
import tempfile

from wgpy import crypto
from wgpy.protocol import cookie, messages
from wgpy.uapi import text as uapi
from wgpy.uapi import server as uapi_server
from wgpy.uci import schema, store, syntax
from wgtestlib import Pair      # tests/protocol: on pytest's pythonpath; run.py passes it on

# ---- datagrams into the sans-I/O Device ----


class _Lab:
    """A Pair after one handshake, plus a pending initiation from A (so B's responses and
    cookie replies have a live receiver index on A); rebuilt every REBUILD inputs."""
    REBUILD = 400

    def __init__(self) -> None:
        self.uses = 0
        self.pair = None

    def get(self) -> Pair:
        if self.pair is None or self.uses >= self.REBUILD:
            self.pair = _fresh_pair()
            self.uses = 0
        self.uses += 1
        return self.pair


def _fresh_pair() -> Pair:
    pair = Pair(seed=0xF022)
    pair.handshake()
    pair.clock.advance(6)
    pair.pb.send_handshake_initiation(pair.now, is_retry=False)
    pair.initiation = next(p for p, dst in pair.a.datagrams_to_send() if dst == pair.B_ADDR)
    return pair


_LAB = _Lab()


def seed_datagrams() -> list:
    """Valid messages of every kind, each prefixed with the mode byte that fits it."""
    pair = _fresh_pair()
    seeds = [b"\x00" + pair.initiation, b"\x01" + pair.initiation]
    pair.b.receive_datagram(pair.initiation, pair.A_ADDR, pair.now)
    for payload, _ in pair.b.datagrams_to_send():
        seeds += [b"\x00" + payload, b"\x01" + payload]
    keypair = pair.pa.keypairs.current
    packet = pair.send_b_to_a(b"hello")
    seeds.append(b"\x02" + (7).to_bytes(8, "little") + packet)
    seeds.append(b"\x02" + (8).to_bytes(8, "little"))          # keepalive
    sealed = messages.pack_transport(keypair.remote_index, 9,
                                     crypto.aead_seal(keypair.send_key, 9, packet))
    seeds += [b"\x00" + sealed, b"\x03\x01" + bytes(24) + bytes(16), b"\x03\x00" + bytes(56)]
    seeds += [b"\x00" + bytes(32), b"\x00" + b"\x04" + bytes(40), b"\x00"]
    return seeds


def _events(dev) -> tuple:
    peers = tuple((p.rx_bytes, p.tx_bytes, p.endpoint, p.last_handshake_wall,
                   p.cookie_generator._cookie, p.cookie_generator._cookie_set, p.handshake.state)
                  for p in dev.peers.values())
    return sum(dev.drops.values()), len(dev._outgoing), len(dev._delivered), peers


def fuzz_datagram(data: bytes) -> None:
    if not data:
        return
    pair = _LAB.get()
    mode, body = data[0] % 4, data[1:]
    target, source = pair.b, pair.A_ADDR
    if mode == 1 and len(body) >= messages.MACS_SIZE:
        end = len(body) - messages.MACS_SIZE
        mac1 = crypto.blake2s(body[:end], 16, cookie.mac1_key(pair.b_pub))
        body = body[:end] + mac1 + bytes(16)
    elif mode == 2 and len(body) >= 8:
        keypair = pair.pa.keypairs.current
        if keypair is not None:
            counter = int.from_bytes(body[:8], "little")
            body = messages.pack_transport(keypair.remote_index, counter,
                                           crypto.aead_seal(keypair.send_key, counter, body[8:]))
    elif mode == 3 and len(body) >= 41:
        target, source = pair.a, pair.B_ADDR
        hs = pair.pb.handshake
        nonce, cookie_value = body[1:25], body[25:41]
        encrypted = (crypto.xaead_seal(cookie.cookie_key(pair.b_pub), nonce, cookie_value,
                                       pair.pb.cookie_generator._last_mac1 or bytes(16))
                     if body[0] & 1 else body[25:57].ljust(32, b"\0"))
        body = messages.CookieReply(hs.local_index, nonce, encrypted).pack()
    before = _events(target)
    target.receive_datagram(body, source, pair.now)
    after = _events(target)
    assert after != before, "a datagram changed nothing: neither a drop nor an event"
    assert after[0] - before[0] <= 1, "one datagram counted as several drops"
    for packet in target.packets_to_deliver():
        assert packet[0] >> 4 in (4, 6), "non-IP packet delivered to TUN"
    target.datagrams_to_send()
    pair.clock.advance(0.001)


def fuzz_messages_parse(data: bytes) -> None:
    msg = messages.parse(data)
    if msg is not None:
        assert msg.pack() == bytes(data), "parse/pack is not the identity"


# ---- UAPI ----

def _uapi_device():
    pair = Pair(seed=0xA1)
    return pair.a


_UAPI_DEV = None


def fuzz_uapi(data: bytes) -> None:
    """set=1 body: parse+apply on a Device whole, then the socket framing byte by byte."""
    global _UAPI_DEV
    if _UAPI_DEV is None:
        _UAPI_DEV = _uapi_device()
    dev = _UAPI_DEV
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    before = uapi.render_get(dev)
    try:
        request = uapi.parse_set(lines)
    except uapi.UapiError as exc:
        assert exc.errno in (uapi.EINVAL, uapi.EPROTO), exc.errno
        assert uapi.render_get(dev) == before, "a refused request changed the device"
    else:
        # Applied to a throw-away device: a valid request may legitimately change state.
        uapi.execute_set(_uapi_device(), request, 1000.0)
    _framing(b"set=1\n" + data + b"\n\n")


def _framing(stream: bytes) -> None:
    """The Connection state machine fed one byte at a time gives only errno= answers."""
    answers = []

    class _Sock:
        def __init__(self):
            self.chunks = [bytes([b]) for b in stream]

        def recv(self, n):
            return self.chunks.pop(0) if self.chunks else b""

        def send(self, buf):
            answers.append(bytes(buf))
            return len(buf)

        def fileno(self):
            return -1

        def close(self):
            pass

    def handler(op, body):
        if op == "get":
            return "errno=0\n\n"
        try:
            uapi.parse_set(body)
        except uapi.UapiError as exc:
            return f"errno=-{exc.errno}\n\n"
        return "errno=0\n\n"

    sock = _Sock()
    conn = uapi_server.Connection(sock, handler)
    for _ in range(len(stream) + 2):
        if conn.closed:
            break
        conn.on_readable()
    for answer in b"".join(answers).decode().split("\n\n"):
        if answer:
            assert answer.startswith("errno="), answer


# ---- UCI ----

def fuzz_uci(data: bytes) -> None:
    """A network config file: parse + schema give a result or a located error; no rewrite."""
    with tempfile.TemporaryDirectory() as confdir:
        path = os.path.join(confdir, "network")
        with open(path, "wb") as f:
            f.write(data)
        st = store.Store(confdir, backend="syntax")
        try:
            package = st.load("network")
        except store.UciError as exc:
            assert exc.path == path and str(exc), exc
        else:
            try:
                confs = schema.interfaces(package, path)
            except schema.ConfigError as exc:
                assert exc.path == path and exc.section, exc
            else:
                for conf in confs.values():
                    for err in conf.errors + conf.peer_errors:
                        assert err.path == path and err.section, err
            # The writer's output must read back as the same package.
            again = syntax.parse(syntax.render(package), "network")
            assert again.as_dict() == package.as_dict(), "render/parse round trip differs"
        with open(path, "rb") as f:
            assert f.read() == data, "reading a config rewrote it"
        assert os.listdir(confdir) == ["network"], "reading a config left files behind"


def seed_uci() -> list:
    return [b"""config interface 'wg0'
\toption proto 'wgpy'
\toption private_key 'YNqHwpcAmVj0lVzPSt7IaBl3d6VSHw+IhBR8HjMh4lU='
\tlist addresses '10.0.0.1/24'
\toption listen_port '51820'

config wireguard_wg0 'peer1'
\toption public_key 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
\tlist allowed_ips '10.0.0.2/32'
\toption endpoint_host 'vpn.example.com'
\toption endpoint_port '51820'
\toption persistent_keepalive '25'
""", b"package network\nconfig interface lan\n\toption ifname \"eth0\" # c\n",
            b"c interface 'x'; o proto wgpy\nl addresses \\\n 10.1.1.1/8\n"]


def seed_uapi() -> list:
    key = "11" * 32
    return [f"private_key={key}\nlisten_port=51820\nfwmark=0\nreplace_peers=true\n"
            f"public_key={'22' * 32}\npreshared_key={'00' * 32}\nendpoint=1.2.3.4:5\n"
            "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
            "allowed_ip=10.0.0.0/8\nallowed_ip=-fd00::/8\nprotocol_version=1\n".encode(),
            f"public_key={'33' * 32}\nremove=true\nupdate_only=true\n"
            "endpoint=[::1]:1\n".encode()]


TARGETS = {
    "datagram": (fuzz_datagram, seed_datagrams),
    "messages": (fuzz_messages_parse, lambda: [s[1:] for s in seed_datagrams()]),
    "uapi": (fuzz_uapi, seed_uapi),
    "uci": (fuzz_uci, seed_uci),
}
