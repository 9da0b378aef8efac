"""TUN and UDP offloads in the C datapath, checked against Python references: a TSO
super-packet written (behind a virtio_net_hdr) into A's fake TUN comes out of B as MTU-sized
segments whose IP/TCP checksums, lengths, IDs, sequence numbers and flags we recompute here;
with GRO on B they come out coalesced again (round trip); NEEDS_CSUM on a single packet is
completed; A's UDP_SEGMENT sends reach a UDP_GRO socket as one super-datagram of valid
transport messages; and every fallback (no UDP GSO, no UDP GRO, no TUN GRO) still delivers.
The fake TUN is a SOCK_DGRAM socketpair, so no root is needed."""

import ipaddress
import socket
import struct
import time

import pytest

from dpside import VNET, Side
from wgpy import crypto
from wgpy.daemon.datapath import Datapath

PACKET_MAX = 2048
MTU = 1420
K1, K2 = bytes(range(32)), bytes(range(100, 132))
ADDR = {4: ("10.0.0.1", "10.0.0.2"), 6: ("fd00::1", "fd00::2")}
FIN, PSH, ACK, CWR = 0x01, 0x08, 0x10, 0x80
GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 4, 5
UDP_SEGMENT, UDP_GRO = 103, 104
TS_OPTION = bytes([1, 1, 8, 10]) + struct.pack("!II", 12345, 678)   # NOP NOP timestamps


# ---- Python references ----

def csum(data: bytes) -> int:
    """RFC 1071 one's-complement sum, folded (not complemented)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def pseudo(ip: bytes, proto: int, length: int) -> bytes:
    addrs = ip[12:20] if ip[0] >> 4 == 4 else ip[8:40]
    return addrs + struct.pack("!HH", proto, length)


def l4_offset(ip: bytes) -> int:
    return (ip[0] & 15) * 4 if ip[0] >> 4 == 4 else 40


def l4_checksum_ok(ip: bytes, proto: int) -> bool:
    l4 = ip[l4_offset(ip):]
    return csum(pseudo(ip, proto, len(l4)) + l4) == 0xffff


def tcp_super(version: int, payload: bytes, flags: int, seq: int = 1000, ip_id: int = 0x1234):
    """A TSO super-packet as the kernel hands it over: the TCP checksum field holds the
    pseudo-header sum (CHECKSUM_PARTIAL), lengths cover the whole thing."""
    src, dst = ADDR[version]
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 777, (32 // 4) << 4, flags, 500, 0, 0)
    tcp += TS_OPTION
    if version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), ip_id, 0x4000,
                         64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", 0xffff - csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp) + len(payload), 6, 64,
                         socket.inet_pton(socket.AF_INET6, src),
                         socket.inet_pton(socket.AF_INET6, dst))
    partial = csum(pseudo(ip, 6, len(tcp) + len(payload)))
    tcp = tcp[:16] + struct.pack("!H", partial) + tcp[18:]
    return ip + tcp + payload


def tcp_fields(ip: bytes):
    l4 = l4_offset(ip)
    seq, = struct.unpack_from("!I", ip, l4 + 4)
    hdr = l4 + (ip[l4 + 12] >> 4) * 4
    return seq, ip[l4 + 13], ip[hdr:]


def vnet(flags=0, gso_type=GSO_NONE, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return VNET.pack(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def tso_vnet(packet: bytes, gso_size: int) -> bytes:
    l4 = l4_offset(packet)
    return vnet(1, GSO_TCPV4 if packet[0] >> 4 == 4 else GSO_TCPV6,
                l4 + (packet[l4 + 12] >> 4) * 4, gso_size, l4, 16)


# ---- two datapaths over loopback, with start flags ----

def make_pair(flags_a: int, flags_b: int):
    a, b = Side(PACKET_MAX, MTU, flags_a), Side(PACKET_MAX, MTU, flags_b)
    for side, me, other in ((a, 0, 1), (b, 1, 0)):
        side.dp.set_allowed_ips([(ipaddress.ip_network(ADDR[v][other]), side.peer)
                                 for v in (4, 6)])
    a.dp.set_endpoint(a.peer, ("127.0.0.1", b.port))
    b.dp.set_endpoint(b.peer, ("127.0.0.1", a.port))
    now = time.monotonic_ns()
    a.dp.set_keypairs(a.peer, [None, (K1, K2, now, 111, 222, True, True), None])
    b.dp.set_keypairs(b.peer, [None, (K2, K1, now, 222, 111, False, True), None])
    a.start()
    b.start()
    return a, b


@pytest.fixture
def sides(request):
    made = []

    def make(flags_a, flags_b):
        made.extend(make_pair(flags_a, flags_b))
        return made[-2], made[-1]
    yield make
    for side in made:
        side.close()


V = Datapath.VNET_HDR
FALLBACKS = [(V, 0), (V | Datapath.NO_UDP_GSO, Datapath.NO_UDP_GRO),
             (V, V | Datapath.NO_TUN_GRO), (V | Datapath.NO_UDP_GSO, V | Datapath.NO_TUN_GRO)]


def check_segments(segments, original: bytes, gso_size: int, flags: int):
    """Every segment is a valid, MTU-sized TCP packet and together they are `original`."""
    version = original[0] >> 4
    seq0, _, payload = tcp_fields(original)
    n = -(-len(payload) // gso_size)
    assert len(segments) == n
    for k, seg in enumerate(segments):
        assert len(seg) <= MTU
        if version == 4:
            assert struct.unpack_from("!H", seg, 2)[0] == len(seg)
            assert csum(seg[:20]) == 0xffff                       # header checksum
            assert struct.unpack_from("!H", seg, 4)[0] == 0x1234 + k   # consecutive IDs
        else:
            assert struct.unpack_from("!H", seg, 4)[0] == len(seg) - 40
        assert l4_checksum_ok(seg, 6)
        seq, seg_flags, seg_payload = tcp_fields(seg)
        assert seq == seq0 + k * gso_size
        assert seg_payload == payload[k * gso_size:(k + 1) * gso_size]
        want = flags
        if k != n - 1:
            want &= ~(FIN | PSH)
        if k != 0:
            want &= ~CWR
        assert seg_flags == want


@pytest.mark.parametrize("flags_a,flags_b", FALLBACKS)
@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("length", [1500, 9500])    # inside one buffer / past packet_max
def test_tso_super_packet_is_cut_into_valid_segments(sides, flags_a, flags_b, version, length):
    a, b = sides(flags_a, flags_b)
    gso_size = 1000
    payload = bytes((i * 7) & 0xff for i in range(length))
    flags = ACK | PSH | FIN | CWR          # FIN/CWR: never coalesced, so B writes segments
    super_packet = tcp_super(version, payload, flags)
    a.tun.send(tso_vnet(super_packet, gso_size) + super_packet)
    segments = []
    for _ in range(-(-length // gso_size)):
        header, packet = b.read()
        assert header is None or header == (0, GSO_NONE, 0, 0, 0, 0)
        segments.append(packet)
    check_segments(segments, super_packet, gso_size, flags)
    assert a.dp.stats()["tun_bad_offload"] == 0


@pytest.mark.parametrize("version", [4, 6])
def test_gro_round_trip_coalesces_one_flow(sides, version):
    a, b = sides(V, V)
    gso_size = 1000
    payload = bytes((i * 13) & 0xff for i in range(9500))
    super_packet = tcp_super(version, payload, ACK | PSH)
    a.tun.send(tso_vnet(super_packet, gso_size) + super_packet)
    header, packet = b.read()
    flags, gso_type, hdr_len, size, csum_start, csum_offset = header
    l4 = l4_offset(packet)
    assert (flags, gso_type, size, csum_start, csum_offset) == (
        1, GSO_TCPV4 if version == 4 else GSO_TCPV6, gso_size, l4, 16)
    assert hdr_len == l4 + 32
    # The coalesced packet: right lengths, IPv4 header checksum, partial TCP checksum.
    if version == 4:
        assert struct.unpack_from("!H", packet, 2)[0] == len(packet)
        assert csum(packet[:20]) == 0xffff
    else:
        assert struct.unpack_from("!H", packet, 4)[0] == len(packet) - 40
    assert struct.unpack_from("!H", packet, l4 + 16)[0] == csum(pseudo(packet, 6, len(packet) - l4))
    seq, tcp_flags, got = tcp_fields(packet)
    assert (seq, tcp_flags, got) == (1000, ACK | PSH, payload)


def test_gro_keeps_flows_apart_and_in_order(sides):
    a, b = sides(V, V)
    one = tcp_super(4, bytes(3000), ACK)
    two = tcp_super(6, bytes(range(256)) * 8, ACK)
    for packet in (one, two):
        a.tun.send(tso_vnet(packet, 1000) + packet)
    got = {}
    while sum(map(len, got.values())) < 3000 + 2048:
        _, packet = b.read()
        seq, _, payload = tcp_fields(packet)
        got.setdefault(packet[0] >> 4, b"")
        assert seq == 1000 + len(got[packet[0] >> 4])     # in order within the flow
        got[packet[0] >> 4] += payload
    assert got == {4: bytes(3000), 6: bytes(range(256)) * 8}


def test_needs_csum_on_a_single_packet_is_completed(sides):
    a, b = sides(V, 0)
    src, dst = ADDR[4]
    data = b"checksum me" * 7
    udp_len = 8 + len(data)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", 0xffff - csum(ip)) + ip[12:]
    packet = ip + struct.pack("!HHHH", 1, 2, udp_len, csum(pseudo(ip, 17, udp_len))) + data
    a.tun.send(vnet(1, GSO_NONE, 0, 0, 20, 6) + packet)
    _, got = b.read()
    assert got[:26] == packet[:26] and got[28:] == packet[28:]
    assert l4_checksum_ok(got, 17)


def test_unsupported_gso_is_dropped_and_counted(sides):
    a, b = sides(V, 0)
    packet = tcp_super(4, bytes(3000), ACK)
    a.tun.send(vnet(1, GSO_UDP_L4, 52, 1000, 20, 16) + packet)
    a.tun.send(tso_vnet(packet, 4000) + packet)       # segments larger than packet_max
    small = tcp_super(4, b"ok", ACK)
    a.tun.send(vnet() + small)
    assert b.read()[1] == small
    assert a.dp.stats()["tun_bad_offload"] == 2


@pytest.mark.parametrize("gso", [True, False])
def test_udp_gso_sends_one_super_datagram(sides, gso):
    a, _ = sides(V | (0 if gso else Datapath.NO_UDP_GSO), 0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as spy:
        spy.bind(("127.0.0.1", 0))
        spy.setsockopt(socket.IPPROTO_UDP, UDP_GRO, 1)
        spy.settimeout(2)
        a.dp.set_endpoint(a.peer, ("127.0.0.1", spy.getsockname()[1]))
        payload = bytes(9500)
        packet = tcp_super(4, payload, ACK)
        a.tun.send(tso_vnet(packet, 1000) + packet)
        datagrams = []
        while len(datagrams) < 10:
            data, ancdata, _, _ = spy.recvmsg(1 << 16, 64)
            size = len(data)
            for level, kind, value in ancdata:
                if (level, kind) == (socket.IPPROTO_UDP, UDP_GRO):
                    size = struct.unpack("=i", value)[0]
            if gso:
                assert size == 16 + 1056 + 16 and len(data) > size   # coalesced on the wire
            datagrams += [data[i:i + size] for i in range(0, len(data), size)]
    segments = []
    for counter, d in enumerate(datagrams):
        assert struct.unpack_from("<IIQ", d) == (4, 222, counter)
        plain = crypto.aead_open(K1, counter, d[16:])
        segments.append(plain[:struct.unpack_from("!H", plain, 2)[0]])    # padding off
    check_segments(segments, packet, 1000, ACK)


def udp_super(version: int, payload: bytes) -> bytes:
    """A USO super-packet (UDP_SEGMENT sender): lengths cover it all, partial checksum."""
    src, dst = ADDR[version]
    udp_len = 8 + len(payload)
    if version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0x99, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", 0xffff - csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, udp_len, 17, 64,
                         socket.inet_pton(socket.AF_INET6, src),
                         socket.inet_pton(socket.AF_INET6, dst))
    return ip + struct.pack("!HHHH", 4433, 5353, udp_len, csum(pseudo(ip, 17, udp_len))) + payload


U = V | Datapath.TUN_USO


@pytest.mark.parametrize("version", [4, 6])
def test_uso_super_packet_is_cut_into_valid_datagrams(sides, version):
    a, b = sides(U, 0)
    payload = bytes(range(200)) * 3                      # 600 bytes: 9 x 64 + 24
    packet = udp_super(version, payload)
    l4 = l4_offset(packet)
    a.tun.send(vnet(1, GSO_UDP_L4, l4 + 8, 64, l4, 6) + packet)
    got = b""
    for k in range(10):
        _, seg = b.read()
        assert l4_checksum_ok(seg, 17)
        assert struct.unpack_from("!H", seg, l4 + 4)[0] == len(seg) - l4
        if version == 4:
            assert csum(seg[:20]) == 0xffff and struct.unpack_from("!H", seg, 4)[0] == 0x99 + k
        got += seg[l4 + 8:]
    assert got == payload


@pytest.mark.parametrize("version", [4, 6])
def test_udp_gro_round_trip(sides, version):
    a, b = sides(U, U)
    payload = bytes(range(200)) * 3
    packet = udp_super(version, payload)
    l4 = l4_offset(packet)
    a.tun.send(vnet(1, GSO_UDP_L4, l4 + 8, 64, l4, 6) + packet)
    header, got = b.read()
    assert header == (1, GSO_UDP_L4, l4 + 8, 64, l4, 6)
    assert got[l4 + 8:] == payload
    assert struct.unpack_from("!H", got, l4 + 4)[0] == len(got) - l4
    assert struct.unpack_from("!H", got, l4 + 6)[0] == csum(pseudo(got, 17, len(got) - l4))
    # Without USO on B's TUN, UDP is written datagram by datagram.
    c, d = sides(U, V)
    c.tun.send(vnet(1, GSO_UDP_L4, l4 + 8, 64, l4, 6) + packet)
    assert [d.read()[0][1] for _ in range(10)] == [GSO_NONE] * 10


def udp_out_datagrams() -> int:
    """The namespace's Udp OutDatagrams (/proc/net/snmp): one per send, so a UDP_SEGMENT
    send of many datagrams counts once."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("OutDatagrams")])


_REFUSED_GSO = r"""
import subprocess
subprocess.run(["ip", "link", "set", "lo", "up", "mtu", "1100"], check=True)
import test_offload as t
a, b = t.make_pair(t.V, 0)
try:
    packet = t.tcp_super(4, bytes(5000), t.ACK)
    a.tun.send(t.tso_vnet(packet, 1000) + packet)     # 1088-byte datagrams > MTU 1100 - 28
    t.check_segments([b.read()[1] for _ in range(5)], packet, 1000, t.ACK)
    # EINVAL (MTU) is not "GSO can't work here": once the MTU is fixed, GSO is used again.
    assert a.dp.stats()["udp_gso_refused"] == 0 and a.dp.stats()["send_errors"] == 0, a.dp.stats()
    subprocess.run(["ip", "link", "set", "lo", "mtu", "65536"], check=True)
    before = t.udp_out_datagrams()
    a.tun.send(t.tso_vnet(packet, 1000) + packet)
    t.check_segments([b.read()[1] for _ in range(5)], packet, 1000, t.ACK)
    sends = t.udp_out_datagrams() - before
    assert sends == 1, f"{sends} UDP sends for 5 segments: GSO is off"
    assert a.dp.stats()["udp_gso_refused"] == 0, a.dp.stats()
finally:
    a.close()
    b.close()
print("ok")
"""


def test_udp_gso_refused_for_the_mtu_stays_on(tmp_path):
    """In a private network namespace whose loopback MTU is below the datagram size the
    kernel refuses UDP_SEGMENT (EINVAL); that batch goes out unsegmented, but GSO stays
    on, so the segments go out as one UDP_SEGMENT send again once the MTU is raised."""
    import os
    import shutil
    import subprocess
    import sys
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root for a private network namespace")
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", _REFUSED_GSO],
                         env=dict(os.environ, PYTHONPATH=os.path.dirname(__file__)),
                         capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "ok", res.stdout + res.stderr
