"""A WireGuard peer in a few lines of MicroPython over wgpy.protocol: handshake with
the peer at 127.0.0.1:PORT, ping 10.77.0.1 through the tunnel from 10.77.0.2 and wait
for the echo reply. Prints "echo reply: <payload>" and exits 0, or exits 1 after
10 s. Run by test_wireguard_go.py inside a network namespace.

    micropython wg_echo.py PRIVATE_KEY_HEX PEER_PUBLIC_KEY_HEX PORT
"""

import os
import select
import socket
import sys
import time

sys.path.insert(0, (__file__.rpartition("/")[0] or ".") + "/shim")      # ipaddress for wgtestlib
sys.path.insert(0, (__file__.rpartition("/")[0] or ".") + "/../protocol")

from wgtestlib import _checksum, ipv4_packet  # noqa: E402

from wgpy.protocol.device import Device  # noqa: E402
from wgpy.runtime.compat import ipaddress  # noqa: E402

PAYLOAD = b"wgpy-on-micropython"


def now() -> float:
    return time.time_ns() / 1e9


def echo_request() -> bytes:
    icmp = bytes([8, 0, 0, 0]) + (0x1234).to_bytes(2, "big") + (1).to_bytes(2, "big") + PAYLOAD
    icmp = icmp[:2] + _checksum(icmp + bytes(len(icmp) % 2)).to_bytes(2, "big") + icmp[4:]
    return ipv4_packet("10.77.0.2", "10.77.0.1", icmp, proto=1)


def main(private_hex: str, peer_hex: str, port: str) -> int:
    dev = Device(rng=os.urandom, wall_clock=time.time)
    dev.set_private_key(bytes.fromhex(private_hex), now())
    peer = dev.add_peer(bytes.fromhex(peer_hex), now())
    peer.set_endpoint(("127.0.0.1", int(port)))
    dev.allowed_ips.insert(ipaddress.ip_network("10.77.0.1/32"), peer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    dev.receive_packet(echo_request(), now())        # no session yet: starts the handshake
    deadline = now() + 10
    while now() < deadline:
        for data, (host, dport) in dev.datagrams_to_send():
            sock.sendto(data, socket.getaddrinfo(host, dport)[0][-1])
        for packet in dev.packets_to_deliver():
            if packet[9] == 1 and packet[20] == 0 and packet[28:] == PAYLOAD:
                print("echo reply:", packet[28:].decode())
                print("handshake with", peer_hex[:8], "rx", peer.rx_bytes, "tx", peer.tx_bytes)
                return 0
        timer = dev.get_timer()
        wait = max(0, min(deadline, timer if timer is not None else deadline) - now())
        if poller.poll(int(wait * 1000) + 1):
            data, addr = sock.recvfrom(2048)        # addr: a raw struct sockaddr_in here
            host = socket.inet_ntop(socket.AF_INET, addr[4:8])
            dev.receive_datagram(data, (host, int.from_bytes(addr[2:4], "big")), now())
        timer = dev.get_timer()
        if timer is not None and now() >= timer:
            dev.handle_timer(now())
    print("no echo reply; drops:", dict(dev.drops.items()))
    return 1


sys.exit(main(*sys.argv[1:]))
