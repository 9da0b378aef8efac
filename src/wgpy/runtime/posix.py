"""The operating-system calls of the daemon and the UAPI socket, on either runtime.

CPython: the standard library's own (`os`, `fcntl`, `syslog`, `time.monotonic`, `socket`).
MicroPython: its `os` has files and directories but no file descriptors, processes or
ioctl, its `socket` takes raw sockaddrs, and there is no `syslog` or monotonic float
clock; those come from the C library here (runtime/libc.py) and runtime/mpy_socket.py.
The names and behaviour are CPython's: OSError carries the errno (E* here: the numbers
of this CPU), ioctl returns the buffer as the kernel left it.
"""

import os

from wgpy.runtime import MICROPYTHON

devnull = "/dev/null"

if MICROPYTHON:
    import struct

    from wgpy.runtime import libc
    from wgpy.runtime import mpy_socket as socket  # noqa: F401
    from wgpy.runtime.libc import (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT,  # noqa: F401
                                   EAGAIN, EBADFD, EEXIST, EINTR, EINVAL, EIO, ENETUNREACH,
                                   ENOBUFS, ENOENT)

    O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_NONBLOCK, O_CLOEXEC = (
        libc.O_RDONLY, libc.O_WRONLY, libc.O_RDWR, libc.O_CREAT, libc.O_TRUNC,
        libc.O_NONBLOCK, libc.O_CLOEXEC)
    LOG_PID, LOG_DAEMON = 0x01, 3 << 3
    LOG_CRIT, LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG = 2, 3, 4, 6, 7

    def machine() -> str:
        return libc.MACHINE

    def open(path: str, flags: int, mode: int = 0o777) -> int:   # noqa: A001 - os.open
        return libc.check(libc.open(path, flags, mode))

    def read(fd: int, size: int) -> bytes:
        buf = bytearray(size)
        n = libc.check(libc.read(fd, buf, size))
        return bytes(buf[:n]) if n < size else bytes(buf)

    def write(fd: int, data) -> int:
        return libc.check(libc.write(fd, data, len(data)))

    def close(fd: int) -> None:
        libc.check(libc.close(fd))

    def fork() -> int:
        return libc.check(libc.fork())

    def pipe() -> tuple:
        fds = bytearray(8)
        libc.check(libc.pipe(fds))
        return struct.unpack("ii", fds)

    def setsid() -> int:
        return libc.check(libc.setsid())

    def dup2(fd: int, fd2: int) -> int:
        return libc.check(libc.dup2(fd, fd2))

    def umask(mask: int) -> int:
        return libc.umask(mask)

    def fsync(fd: int) -> None:
        libc.check(libc.fsync(fd))

    def replace(src: str, dst: str) -> None:
        libc.check(libc.rename(src, dst))

    def _exit(status: int) -> None:
        libc.exit(status)

    def getpid() -> int:
        return libc.getpid()

    def strerror(code: int) -> str:
        return libc.strerror(code)

    def makedirs(path: str, mode: int = 0o777, exist_ok: bool = False) -> None:
        parent = os.path.dirname(path)
        if parent and parent != path and not os.path.exists(parent):
            makedirs(parent, mode, exist_ok=True)
        try:
            os.mkdir(path)
        except OSError as exc:
            if not (exist_ok and exc.errno == EEXIST):
                raise
            return
        current = umask(0)      # MicroPython's mkdir takes no mode: as os.makedirs, mode & ~umask
        umask(current)
        libc.check(libc.chmod(path, mode & ~current))

    def ioctl(fd, request: int, arg: bytes) -> bytes:
        buf = bytearray(arg)
        fd = fd if isinstance(fd, int) else fd.fileno()
        libc.check(libc.ioctl(fd, request, buf))
        return bytes(buf)

    _timespec = bytearray(16)

    def monotonic() -> float:
        """CLOCK_MONOTONIC in seconds: the C datapath's clock too."""
        libc.clock_gettime(libc.CLOCK_MONOTONIC, _timespec)
        seconds, nanoseconds = struct.unpack_from("ll", _timespec)
        return seconds + nanoseconds / 1e9

    def openlog(ident: str, option: int, facility: int) -> None:
        global _ident
        _ident = ident          # syslog keeps the pointer: the str must live on
        libc.openlog(ident, option, facility)

    def syslog(priority: int, message: str) -> None:
        libc.syslog(priority, "%s", message)
else:
    import fcntl
    import socket  # noqa: F401
    from errno import (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EBADFD,  # noqa: F401
                       EEXIST, EINTR, EINVAL, EIO, ENETUNREACH, ENOBUFS, ENOENT)
    from os import (O_CLOEXEC, O_CREAT, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC,  # noqa: F401
                    O_WRONLY, _exit, close, dup2, fork, fsync, getpid, makedirs, open, pipe,
                    read, replace, setsid, strerror, umask, write)
    from syslog import (LOG_CRIT, LOG_DAEMON, LOG_DEBUG, LOG_ERR, LOG_INFO,  # noqa: F401
                        LOG_PID, LOG_WARNING, openlog, syslog)
    from time import monotonic  # noqa: F401

    ioctl = fcntl.ioctl

    def machine() -> str:
        return os.uname().machine


def inode(path: str) -> int:
    """The inode number of path: os.stat's second field on both runtimes (MicroPython's
    stat result is a plain tuple)."""
    return os.stat(path)[1]
