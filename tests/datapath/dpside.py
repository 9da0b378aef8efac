"""The one datapath test double: a C datapath with a SOCK_DGRAM socketpair standing in for
its TUN (no root needed) and real UDP sockets on loopback. Used by test_datapath.py,
test_offload.py and conftest.py's `side` (tests/datapath is on sys.path as the directory
of those tests)."""

import socket
import struct

from wgpy.daemon.datapath import Datapath
from wgpy.daemon.udp import UdpSockets

VNET = struct.Struct("=BBHHHH")     # virtio_net_hdr, host order (legacy TUN)


class Side:
    """One datapath with one peer slot; flags are its start flags."""

    def __init__(self, packet_max: int, mtu: int = 1420, flags: int = 0):
        self.flags = flags
        self.dp = Datapath(4, packet_max, mtu)
        self.tun, self.tun_dp = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        for s in (self.tun, self.tun_dp):   # room for 64 KiB super-packets
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.tun_dp.setblocking(False)
        self.tun.settimeout(2)
        self.udp = UdpSockets()
        self.port = self.udp.rebind(0, 0)
        self.peer = self.dp.peer_add()

    def start(self):
        socks = self.udp.sockets
        self.dp.start(self.tun_dp.fileno(), socks[socket.AF_INET].fileno(),
                      socks[socket.AF_INET6].fileno() if socket.AF_INET6 in socks else -1,
                      self.flags)

    def read(self):
        """(vnet header fields or None, packet) of the next TUN write."""
        data = self.tun.recv(1 << 17)
        if self.flags & Datapath.VNET_HDR:
            return VNET.unpack_from(data), data[VNET.size:]
        return None, data

    def close(self):
        self.dp.close()
        self.udp.close()
        self.tun.close()
        self.tun_dp.close()
