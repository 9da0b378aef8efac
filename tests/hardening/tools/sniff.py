"""`sniff.py IFACE PORT TYPES SECONDS`: print `TYPE HEX` for the first UDP payload of each
WireGuard message type in TYPES (e.g. 1,4) that leaves IFACE towards PORT, then exit (prints
`ready` first). Data packets (type 4) count only when they carry more than a keepalive."""

import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def main(iface, port, types, seconds):
    wanted = {int(t) for t in types.split(",")}
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as sock:
        sock.bind((iface, 0))
        print("ready", flush=True)
        deadline = time.monotonic() + seconds
        while wanted and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame, (_, _, pkttype, _, _) = sock.recvfrom(65535)
            except socket.timeout:
                break
            if pkttype != socket.PACKET_OUTGOING or struct.unpack_from("!H", frame, 12)[0] != 0x0800:
                continue
            ip = frame[14:]
            if ip[9] != 17:
                continue
            udp = ip[(ip[0] & 0xF) * 4:]
            payload = udp[8:struct.unpack_from("!H", udp, 4)[0]]
            if struct.unpack_from("!H", udp, 2)[0] != port or not payload:
                continue
            kind = payload[0]
            if kind in wanted and not (kind == 4 and len(payload) <= 32):
                wanted.discard(kind)
                print(kind, payload.hex(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
