"""The operating system on either runtime: the one door through which the daemon, the UAPI
socket and the router code (uci/store.py, router/, cli.py) reach it.

The daemon's calls, by their `os` names: descriptors (`open`/`read`/`write`/`close`/
`fsync`), `fork`/`pipe`/`setsid`/`dup2`/`umask`/`_exit`, `makedirs`/`replace`, `ioctl`,
`openlog`/`syslog`, the `E*` numbers of this CPU, and `socket`. The router's: the modules
`os`, `fcntl`, `subprocess`, `signal`, and `which`, `if_nametoindex`, `udp_addresses`, and
for unix sockets `unix_address`, `sendall` and `peer_pid`. Both: `monotonic`.

On CPython each is the standard library's own. On MicroPython the built-in `os` lacks
descriptors, locks and processes, its `socket` takes raw sockaddrs, and there is no
`syslog` or monotonic float clock: runtime/mpy_os.py, mpy_subprocess.py and mpy_socket.py
supply them, through the C library (runtime/libc.py). OSError carries the errno, ioctl
returns the buffer as the kernel left it.
"""

import struct

from wgpy.runtime import MICROPYTHON

if MICROPYTHON:
    import socket as _raw_socket

    from wgpy.runtime import libc
    from wgpy.runtime import mpy_os as os
    from wgpy.runtime import mpy_socket as socket  # noqa: F401
    from wgpy.runtime import mpy_subprocess as subprocess  # noqa: F401
    from wgpy.runtime.libc import (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT,  # noqa: F401
                                   EAGAIN, EBADFD, EEXIST, EINTR, EINVAL, EIO, ENETUNREACH,
                                   ENOBUFS, ENOENT)
    from wgpy.runtime.mpy_os import (O_CLOEXEC, O_CREAT, O_NONBLOCK, O_RDONLY,  # noqa: F401
                                     O_RDWR, O_TRUNC, O_WRONLY, _exit, close, devnull, dup2,
                                     fork, fsync, getpid, if_nametoindex, makedirs, monotonic,
                                     open, pipe, read, replace, setsid, strerror, umask, write)

    LOG_PID, LOG_DAEMON = 0x01, 3 << 3
    LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG = 2, 3, 4, 6, 7

    def ioctl(fd, request: int, arg: bytes) -> bytes:
        buf = bytearray(arg)
        fd = fd if isinstance(fd, int) else fd.fileno()
        libc.check(libc.ioctl(fd, request, buf))
        return bytes(buf)

    class fcntl:  # noqa: N801 - stands for the module
        LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = 1, 2, 4, 8

        @staticmethod
        def flock(fd: int, operation: int) -> None:
            libc.check(libc.flock(fd, operation))

    class signal:  # noqa: N801
        SIGTERM = 15

    def machine() -> str:
        return libc.MACHINE

    def openlog(ident: str, option: int, facility: int) -> None:
        global _ident
        _ident = ident          # syslog keeps the pointer: the str must live on
        libc.openlog(ident, option, facility)

    def syslog(priority: int, message: str) -> None:
        libc.syslog(priority, "%s", message)

    def udp_addresses(host: str, port: int) -> list:
        """(family, address text) for each getaddrinfo answer (MicroPython's sockaddr is
        the C struct's bytes)."""
        found = []
        for _, _, _, _, raw in _raw_socket.getaddrinfo(host, port, 0, _raw_socket.SOCK_DGRAM):
            family, packed = _raw_socket.sockaddr(raw)[:2]
            found.append((family, _raw_socket.inet_ntop(family, packed)))
        return found

    def unix_address(path: str) -> bytes:
        """What connect() takes for a unix socket: MicroPython wants the sockaddr_un."""
        return struct.pack("H", _raw_socket.AF_UNIX) + path.encode() + b"\0"

    def sendall(sock, data: bytes) -> None:
        sock.write(data)  # a blocking stream write: all of it, or OSError

    def peer_pid(sock) -> int:
        return os.peer_pid(sock.fileno())

    def which(name: str):
        """shutil.which: the first executable `name` on $PATH, or None."""
        for directory in os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
            candidate = f"{directory or '.'}/{name}"
            if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
                return candidate
        return None
else:
    import fcntl
    import os
    import signal  # noqa: F401
    import socket
    import subprocess  # noqa: F401
    from errno import (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EBADFD,  # noqa: F401
                       EEXIST, EINTR, EINVAL, EIO, ENETUNREACH, ENOBUFS, ENOENT)
    from os import (O_CLOEXEC, O_CREAT, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC,  # noqa: F401
                    O_WRONLY, _exit, close, devnull, dup2, fork, fsync, getpid, makedirs,
                    open, pipe, read, replace, setsid, strerror, umask, write)
    from shutil import which  # noqa: F401
    from syslog import (LOG_CRIT, LOG_DAEMON, LOG_DEBUG, LOG_ERR, LOG_INFO,  # noqa: F401
                        LOG_PID, LOG_WARNING, openlog, syslog)
    from time import monotonic  # noqa: F401

    ioctl = fcntl.ioctl
    if_nametoindex = socket.if_nametoindex

    def machine() -> str:
        return os.uname().machine

    def udp_addresses(host: str, port: int) -> list:
        """(family, address text) for each getaddrinfo answer."""
        return [(family, sockaddr[0]) for family, _, _, _, sockaddr
                in socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)]

    def unix_address(path: str) -> str:
        return path

    def sendall(sock, data: bytes) -> None:
        sock.sendall(data)

    def peer_pid(sock) -> int:
        """The PID at the other end of a connected unix socket (SO_PEERCRED), 0 if unknown."""
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[0]


def inode(path: str) -> int:
    """The inode number of path."""
    return os.stat(path).st_ino
