"""The standard `socket` module as wgpy uses it, on MicroPython (runtime/system.py picks it).

MicroPython's own sockets take and return raw `struct sockaddr` bytes and have no
getsockname, getsockopt or sendall; this wraps them so that the shared code passes
(host, port) tuples and paths as on CPython. What wgpy never does is not here:
recvmsg/sendmsg with control messages are the C datapath's (wgc_dp_send_datagram).
"""

import socket as _micro
import struct

from wgpy.runtime import libc

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = _micro.AF_UNIX, _micro.AF_INET, _micro.AF_INET6, 16
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = _micro.SOCK_STREAM, _micro.SOCK_DGRAM, _micro.SOCK_RAW
SOCK_NONBLOCK, SOCK_CLOEXEC = libc.O_NONBLOCK, libc.O_CLOEXEC
SOL_SOCKET = _micro.SOL_SOCKET
SO_PEERCRED = libc.SO_PEERCRED
IPPROTO_IP, IPPROTO_IPV6, IPV6_V6ONLY = 0, 41, 26
inet_pton, inet_ntop = _micro.inet_pton, _micro.inet_ntop


def _sockaddr(family: int, address) -> bytes:
    """(host, port), a path or (pid, groups) as the kernel's struct sockaddr_*."""
    if family == AF_UNIX:
        return struct.pack("H", family) + address.encode() + b"\0"
    if family == AF_NETLINK:
        return struct.pack("HHII", family, 0, address[0], address[1])
    host, port = address[0], address[1]
    raw = inet_pton(family, host or ("::" if family == AF_INET6 else "0.0.0.0"))
    if family == AF_INET6:
        return struct.pack("H", family) + struct.pack(">HI", port, 0) + raw + bytes(4)
    return struct.pack("H", family) + struct.pack(">H", port) + raw + bytes(8)


class socket:
    """A socket with CPython's methods for what wgpy calls."""

    def __init__(self, family: int = AF_INET, type: int = SOCK_STREAM, proto: int = 0,
                 _wrapped=None):
        self.family = family
        if _wrapped is not None:
            self._sock = _wrapped
            return
        self._sock = _micro.socket(family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), proto)
        if type & SOCK_NONBLOCK:
            self._sock.setblocking(False)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def bind(self, address) -> None:
        self._sock.bind(_sockaddr(self.family, address))

    def connect(self, address) -> None:
        self._sock.connect(_sockaddr(self.family, address))

    def listen(self, backlog: int) -> None:
        self._sock.listen(backlog)

    def accept(self) -> tuple:
        client, address = self._sock.accept()
        return socket(self.family, _wrapped=client), address

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def settimeout(self, seconds) -> None:
        self._sock.settimeout(seconds)

    def setsockopt(self, level: int, option: int, value) -> None:
        self._sock.setsockopt(level, option, value)

    def getsockopt(self, level: int, option: int, size: int) -> bytes:
        value, length = bytearray(size), bytearray(struct.pack("I", size))
        libc.check(libc.getsockopt(self.fileno(), level, option, value, length))
        return bytes(value[:struct.unpack("I", length)[0]])

    def getsockname(self) -> tuple:
        """(host, port) of an inet socket: what wgpy asks for is the port."""
        name, length = bytearray(28), bytearray(struct.pack("I", 28))
        libc.check(libc.getsockname(self.fileno(), name, length))
        raw = name[8:24] if self.family == AF_INET6 else name[4:8]
        return inet_ntop(self.family, bytes(raw)), struct.unpack_from(">H", name, 2)[0]

    def recv(self, size: int) -> bytes:
        return self._sock.recv(size)

    def send(self, data) -> int:
        return self._sock.send(data)

    def sendall(self, data) -> None:
        view = memoryview(data)
        while view:
            view = view[self._sock.send(view):]

    def close(self) -> None:
        self._sock.close()
