"""The UDP side: one IPv4 and one IPv6 (V6ONLY) socket on the same port, fwmark, and
"sticky" source addresses, and the DF policy.

Replies must leave from the address the peer wrote to, or peers behind multi-address or
multi-WAN routers drop them. So every datagram is read with IP_PKTINFO / IPV6_PKTINFO and the
local address is remembered per remote (host, port) — that is, per peer endpoint, since the
Device only deals in (host, port) — and used again as the source when sending there.

DF: as the kernel's WireGuard (socket.c sets ignore_df and sends IPv4 without DF), never DF,
on every send path alike (Python's, C's single datagrams and UDP GSO batches, whose
segments inherit the socket's choice). A datagram that meets a smaller hop beyond the router
is then fragmented there instead of vanishing where ICMP is filtered; the tunnel MTU
(router/mtu.py) keeps datagrams within the known path, so none are fragmented here.
wireguard-go leaves the system default (IP_PMTUDISC_WANT), where DF depends on the size
and a UDP GSO batch larger than the MTU leaves without it while single datagrams carry it.
"""

import struct
from collections import OrderedDict

from wgpy.runtime import system
from wgpy.runtime.system import socket

SO_MARK = getattr(socket, "SO_MARK", 36)
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
IP_MTU_DISCOVER = getattr(socket, "IP_MTU_DISCOVER", 10)
IPV6_MTU_DISCOVER = getattr(socket, "IPV6_MTU_DISCOVER", 23)
PMTUDISC_DONT = 0   # IP_PMTUDISC_DONT and IPV6_PMTUDISC_DONT: no DF, fragment if needed
_IN_PKTINFO = "=I4s4s"    # ifindex, spec_dst (source to use), addr (header destination)
_IN6_PKTINFO = "=16sI"    # addr, ifindex

# wireguard-go asks for 7 MiB; routers have little RAM, so less, but enough for bursts.
SOCKET_BUFFER_BYTES = 2 << 20
MAX_DATAGRAM = 65535
# One entry per remote endpoint; bounded because a flood from many ports would grow it.
MAX_STICKY_SOURCES = 1024
_RANDOM_PORT_ATTEMPTS = 16


def _open_socket(family: int, port: int, fwmark: int):
    sock = socket.socket(family, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_DONT)
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DONT)
        for option in (SO_RCVBUFFORCE, SO_SNDBUFFORCE):
            try:
                sock.setsockopt(socket.SOL_SOCKET, option, SOCKET_BUFFER_BYTES)
            except OSError:
                pass  # needs CAP_NET_ADMIN; the default buffers still work
        if fwmark:
            sock.setsockopt(socket.SOL_SOCKET, SO_MARK, fwmark)
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))
    except OSError:
        sock.close()
        raise
    return sock


def _open_pair_once(port: int, fwmark: int) -> dict:
    """Both families on one port; IPv6 is skipped when the kernel lacks it."""
    sockets = {}
    try:
        try:
            sockets[socket.AF_INET6] = _open_socket(socket.AF_INET6, port, fwmark)
            port = sockets[socket.AF_INET6].getsockname()[1]
        except OSError as exc:
            if exc.errno not in (system.EAFNOSUPPORT, system.EADDRNOTAVAIL):
                raise
        sockets[socket.AF_INET] = _open_socket(socket.AF_INET, port, fwmark)
    except OSError:
        for sock in sockets.values():
            sock.close()
        raise
    return sockets


def open_pair(port: int, fwmark: int) -> dict:
    """Bind IPv4 and IPv6 sockets on `port` (0: a random port free in both families)."""
    for _ in range(_RANDOM_PORT_ATTEMPTS if port == 0 else 1):
        try:
            return _open_pair_once(port, fwmark)
        except OSError as exc:
            # A random IPv6 port may be taken in IPv4; pick another.
            if port != 0 or exc.errno != system.EADDRINUSE:
                raise
    raise OSError(system.EADDRINUSE, "no random port free in both IPv4 and IPv6")


def _parse_pktinfo(ancdata):
    """(local address bytes, ifindex) from recvmsg's control messages."""
    for level, kind, data in ancdata:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            ifindex, _, local = struct.unpack_from(_IN_PKTINFO, data)
            return local, ifindex
        if level == socket.IPPROTO_IPV6 and kind == IPV6_PKTINFO:
            local, ifindex = struct.unpack_from(_IN6_PKTINFO, data)
            return local, ifindex
    return None


def _pktinfo_cmsg(family: int, local: bytes, ifindex: int):
    if family == socket.AF_INET:
        # ifindex 0: let routing pick the interface, only the source address is pinned.
        return [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack(_IN_PKTINFO, 0, local, bytes(4)))]
    # IPv6 keeps the ifindex: link-local sources are meaningless without it.
    return [(socket.IPPROTO_IPV6, IPV6_PKTINFO, struct.pack(_IN6_PKTINFO, local, ifindex))]


class UdpSockets:
    """The bound socket pair plus the sticky source-address map.

    receive() and send() are Python's own datapath (WGPY_DATAPATH=python, CPython only: they
    need recvmsg/sendmsg). With the C datapath its workers read the sockets, and Python's
    datagrams go out through it (FastPath.send_datagram), from its sticky sources."""

    def __init__(self) -> None:
        self.sockets = {}               # family -> socket
        self.port = 0
        self.fwmark = 0
        self._sources = OrderedDict()   # (host, port) -> (local address bytes, ifindex)

    def rebind(self, port: int, fwmark: int) -> int:
        """Move to (port, fwmark) all-or-nothing; return the bound port; OSError on failure."""
        if port == self.port and self.sockets:
            for sock in self.sockets.values():
                sock.setsockopt(socket.SOL_SOCKET, SO_MARK, fwmark)
        else:
            new = open_pair(port, fwmark)
            self.close()
            self.sockets = new
            self.port = next(iter(new.values())).getsockname()[1]
        self.fwmark = fwmark
        return self.port

    def receive(self, sock, limit: int) -> list:
        """Up to `limit` waiting datagrams as (payload, (host, port))."""
        batch = []
        for _ in range(limit):
            try:
                data, ancdata, _, addr = sock.recvmsg(
                    MAX_DATAGRAM, socket.CMSG_SPACE(struct.calcsize(_IN6_PKTINFO)))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # e.g. ECONNREFUSED from an earlier send's ICMP: not fatal
            remote = (addr[0].split("%", 1)[0], addr[1])  # the Device wants no scope/flowinfo
            self.remember_source(remote, _parse_pktinfo(ancdata))
            batch.append((data, remote))
        return batch

    def remember_source(self, remote: tuple, source) -> None:
        """Reply to remote from this (local address, ifindex) from now on."""
        if source is None:
            return
        if self._sources.get(remote) != source:
            self._sources[remote] = source
        self._sources.move_to_end(remote)
        if len(self._sources) > MAX_STICKY_SOURCES:
            self._sources.popitem(last=False)

    def source_for(self, remote: tuple):
        """The remembered (local address, ifindex) for remote, or None."""
        return self._sources.get(remote)

    def forget_source(self, remote: tuple) -> None:
        self._sources.pop(remote, None)

    def send(self, payload: bytes, remote: tuple):
        """Send from the remembered source if any; returns the error instead of raising."""
        family = socket.AF_INET6 if ":" in remote[0] else socket.AF_INET
        sock = self.sockets.get(family)
        if sock is None:
            return OSError(system.EAFNOSUPPORT, "no socket for this address family")
        source = self.source_for(remote)
        if source is not None:
            try:
                sock.sendmsg([payload], _pktinfo_cmsg(family, *source), 0, remote)
                return None
            except OSError as exc:
                if exc.errno not in (system.EINVAL, system.EADDRNOTAVAIL, system.ENETUNREACH):
                    return exc
                # Our address went away (roaming, DHCP renew): forget it, let routing choose.
                self.forget_source(remote)
        try:
            sock.sendto(payload, remote)
        except OSError as exc:
            return exc
        return None

    def close(self) -> None:
        """Close both sockets and forget the sticky sources."""
        for sock in self.sockets.values():
            sock.close()
        self.sockets = {}
        self._sources.clear()
