"""Following the TUN's MTU: whoever changes it (`ip link set mtu`, wg-quick, netifd, `wgpy
up`), the Device's padding and the C datapath's padding follow at once.

A NETLINK_ROUTE socket subscribed to RTMGRP_LINK wakes the loop on every link change, as
wireguard-go's tun watches RTM_NEWLINK. The message is not parsed: any wake-up (or an
overflow, ENOBUFS, which loses events) just re-reads our MTU with SIOCGIFMTU, so nothing
can be missed and there is no netlink attribute parsing to get wrong. A poll in the
housekeeping tick would be simpler but leaves up to a second in which packets are padded
past the new MTU and leave too big for the path the MTU was lowered for.
"""

import struct

from wgpy.runtime import system
from wgpy.runtime.system import socket

NETLINK_ROUTE = 0
RTMGRP_LINK = 1
SIOCGIFMTU = 0x8921
_IFREQ_MTU = "16si20x"  # struct ifreq: name, then the union holding an int (mtu)
_DRAIN_BYTES = 65536


def read_mtu(ifname: str):
    """The link MTU of ifname (SIOCGIFMTU), None if the link is gone."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            ifreq = system.ioctl(sock, SIOCGIFMTU, struct.pack(_IFREQ_MTU, ifname.encode(), 0))
        except OSError:
            return None
    return struct.unpack(_IFREQ_MTU, ifreq)[1]


class MtuWatch:
    """A selectable that calls on_change(mtu) whenever ifname's MTU differs from the last."""

    def __init__(self, ifname: str, mtu: int, on_change) -> None:
        self.ifname, self.mtu, self.on_change = ifname, mtu, on_change
        self.sock = socket.socket(socket.AF_NETLINK,
                                  socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC,
                                  NETLINK_ROUTE)
        try:
            self.sock.bind((0, RTMGRP_LINK))
        except OSError:
            self.sock.close()
            raise
        self.check()  # a change between creating the TUN and subscribing

    def fileno(self) -> int:
        return self.sock.fileno()

    def on_readable(self) -> None:
        """Drain the link events, then look at our MTU once."""
        while True:
            try:
                if not self.sock.recv(_DRAIN_BYTES):
                    break
            except OSError as exc:
                if exc.errno == system.EINTR:
                    continue
                if exc.errno != system.ENOBUFS:
                    break   # drained (EAGAIN)
                # ENOBUFS: events were lost; the check below covers them
        self.check()

    def check(self) -> None:
        mtu = read_mtu(self.ifname)
        if mtu is not None and mtu != self.mtu:
            self.mtu = mtu
            self.on_change(mtu)

    def close(self) -> None:
        self.sock.close()
