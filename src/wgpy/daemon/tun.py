"""The Linux TUN device: open /dev/net/tun as IFNAME (IFF_TUN|IFF_NO_PI), set its MTU,
read and write whole IP packets without blocking.

With vnet_hdr=True (for the C datapath) the TUN is opened with IFF_VNET_HDR: every packet
on the fd is framed by a 10-byte struct virtio_net_hdr, which lets the kernel hand over TSO
super-packets and take GRO-coalesced ones (the datapath turns that on with TUNSETOFFLOAD).
`read` and `write` here then strip and add a header saying "plain packet".

The device is not persistent: it vanishes when we close it, and `ip link del` makes our
reads fail, which `read` reports as `TunGone` so the daemon can exit.
"""

import struct

from wgpy.runtime import system
from wgpy.runtime.system import socket

DEFAULT_MTU = 1420

# _IOW('T', 202, int): the direction bits differ on MIPS (router SoCs), PowerPC and SPARC.
TUNSETIFF = 0x800454CA if system.machine().startswith(("mips", "ppc", "powerpc", "sparc")) \
    else 0x400454CA
SIOCSIFMTU = 0x8922
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFF_VNET_HDR = 0x4000
VNET_HDR_LEN = 10
_PLAIN = bytes(VNET_HDR_LEN)    # flags 0, gso_type NONE: a whole packet, checksums done
IFNAMSIZ = 16
_IFREQ = "16sH22x"      # struct ifreq: name, then a short (flags) in the 24-byte union
_IFREQ_MTU = "16si20x"  # the same union holding an int (mtu)
_READ_BYTES = 65536


class TunGone(Exception):
    """The interface was deleted (or the fd broke): time to shut down."""


def check_ifname(name: str) -> None:
    """Raise ValueError unless `name` can be a Linux interface name."""
    if not 0 < len(name.encode()) < IFNAMSIZ or "/" in name or name.strip() != name \
            or name in (".", ".."):
        raise ValueError(f"invalid interface name: {name!r}")


def set_mtu(name: str, mtu: int) -> None:
    """Set the link MTU (ioctl SIOCSIFMTU)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        system.ioctl(sock, SIOCSIFMTU, struct.pack(_IFREQ_MTU, name.encode(), mtu))


class Tun:
    """An open TUN interface; `name` is what the kernel really assigned."""

    def __init__(self, name: str, mtu: int = DEFAULT_MTU, vnet_hdr: bool = False) -> None:
        check_ifname(name)
        self.fd = system.open("/dev/net/tun", system.O_RDWR | system.O_CLOEXEC | system.O_NONBLOCK)
        try:
            flags = IFF_TUN | IFF_NO_PI
            try:
                ifreq = system.ioctl(self.fd, TUNSETIFF, struct.pack(
                    _IFREQ, name.encode(), flags | (IFF_VNET_HDR if vnet_hdr else 0)))
            except OSError:
                if not vnet_hdr:
                    raise
                ifreq = system.ioctl(self.fd, TUNSETIFF, struct.pack(_IFREQ, name.encode(), flags))
                vnet_hdr = False
            self.vnet_hdr = vnet_hdr
            self.name = struct.unpack(_IFREQ, ifreq)[0].rstrip(b"\0").decode()
            set_mtu(self.name, mtu)
        except OSError:
            system.close(self.fd)
            raise

    def fileno(self) -> int:
        return self.fd

    def read(self):
        """One IP packet, or None when none is waiting; raises TunGone if the link died."""
        try:
            data = system.read(self.fd, _READ_BYTES)
            return data[VNET_HDR_LEN:] if self.vnet_hdr else data
        except OSError as exc:
            if exc.errno in (system.EAGAIN, system.EINTR):
                return None
            raise TunGone(f"reading {self.name}: {exc}") from None

    def write(self, packet: bytes) -> bool:
        """Hand a packet to the kernel; False if it refused (e.g. the link is down)."""
        try:
            system.write(self.fd, _PLAIN + packet if self.vnet_hdr else packet)
        except OSError as exc:
            if exc.errno == system.EBADFD:
                raise TunGone(f"writing {self.name}: {exc}") from None
            return False
        return True

    def close(self) -> None:
        """Close the fd, which removes the (non-persistent) interface."""
        if self.fd >= 0:
            system.close(self.fd)
            self.fd = -1
