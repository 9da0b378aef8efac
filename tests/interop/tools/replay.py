"""Capture and re-inject one WireGuard data packet on a veth, for the replay test.

`replay.py capture IFACE DST_PORT` waits for the first frame leaving IFACE that carries a
UDP transport-data message (type 4) with a non-empty payload to DST_PORT
(after printing `ready`), and prints it as hex. IPv4 only: see _without_udp_checksum.
`replay.py inject IFACE HEX COUNT` sends that exact frame COUNT times on IFACE.
`replay.py count IFACE HEX SECONDS` prints how many copies of that frame arrived on IFACE
(after printing `ready`): proof that injected frames reached the receiver."""

import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_HLEN = 14
TRANSPORT_DATA = 4
KEEPALIVE_LEN = 32  # header + tag: anything longer carries a packet


def _udp_payload(frame: bytes):
    """(dst_port, payload) of an IPv4/IPv6 UDP frame, or None."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[ETH_HLEN:]
    if ethertype == 0x0800 and ip[9] == 17:
        udp = ip[(ip[0] & 0xF) * 4:]
    elif ethertype == 0x86DD and ip[6] == 17:
        udp = ip[40:]
    else:
        return None
    return struct.unpack_from("!H", udp, 2)[0], udp[8:]


def _without_udp_checksum(frame: bytes) -> bytes:
    """The frame with its IPv4 UDP checksum zeroed ("none"). A frame captured on its way out
    carries only a partial checksum (offload), which the receiver would reject."""
    frame = bytearray(frame)
    if struct.unpack_from("!H", frame, 12)[0] == 0x0800:
        udp = ETH_HLEN + (frame[ETH_HLEN] & 0xF) * 4
        frame[udp + 6:udp + 8] = bytes(2)
    return bytes(frame)


def capture(iface: str, port: int) -> None:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as sock:
        sock.bind((iface, 0))
        sock.settimeout(20)
        print("ready", flush=True)
        while True:
            frame, (_, _, pkttype, _, _) = sock.recvfrom(65535)
            if pkttype != socket.PACKET_OUTGOING:
                continue  # the other side uses the same port: skip what arrives here
            found = _udp_payload(frame)
            if found and found[0] == port and found[1][:1] == bytes([TRANSPORT_DATA]) \
                    and len(found[1]) > KEEPALIVE_LEN:
                print(_without_udp_checksum(frame).hex(), flush=True)
                return


def inject(iface: str, frame_hex: str, count: int) -> None:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        for _ in range(count):
            sock.send(bytes.fromhex(frame_hex))


def count(iface: str, frame_hex: str, seconds: float) -> None:
    wanted = bytes.fromhex(frame_hex)[ETH_HLEN:]  # MACs are the same; compare from IP on
    seen = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as sock:
        sock.bind((iface, 0))
        sock.settimeout(seconds)
        print("ready", flush=True)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame = sock.recv(65535)
            except socket.timeout:
                break
            seen += frame[ETH_HLEN:] == wanted
    print(seen, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        capture(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "inject":
        inject(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        count(sys.argv[2], sys.argv[3], float(sys.argv[4]))
