"""`os` on MicroPython: the built-in `os` and micropython-lib's os.path, plus the descriptor
and process calls it lacks, made through runtime/libc.py.

Only what wgpy uses, with CPython's behaviour for those uses: descriptors are opened
close-on-exec (PEP 446), errors raise OSError(errno).
"""

import struct
from os import *  # noqa: F401,F403 - the built-in os: listdir, mkdir, rename, stat, getenv, ...
from os import getenv, mkdir, rename, stat as _stat

import os.path as path  # noqa: F401 - micropython-lib's

from wgpy.runtime import libc
from wgpy.runtime.libc import (EEXIST, ENODEV, O_APPEND, O_CLOEXEC, O_CREAT,  # noqa: F401
                               O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
                               check, getpid, getppid, strerror)

devnull = "/dev/null"
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
F_OK, X_OK, W_OK, R_OK = 0, 1, 2, 4

_timespec = bytearray(16)


def monotonic() -> float:
    """time.monotonic(): CLOCK_MONOTONIC, the C datapath's clock, comparable with CPython's
    across processes."""
    check(libc.clock_gettime(libc.CLOCK_MONOTONIC, _timespec))
    seconds, nanoseconds = struct.unpack_from("ll", _timespec)
    return seconds + nanoseconds / 1e9


def if_nametoindex(name: str) -> int:
    """socket.if_nametoindex."""
    index = libc.if_nametoindex(name)
    if not index:
        raise OSError(ENODEV, "no such device")
    return index


def peer_pid(fd: int) -> int:
    """The PID at the other end of a connected unix socket (SO_PEERCRED), 0 if unknown."""
    ucred, size = bytearray(12), bytearray(struct.pack("I", 12))
    check(libc.getsockopt(fd, libc.SOL_SOCKET, libc.SO_PEERCRED, ucred, size))
    return struct.unpack_from("i", ucred)[0]


def open(file: str, flags: int, mode: int = 0o777) -> int:  # noqa: A001 - os.open
    return check(libc.open(file, flags | O_CLOEXEC, mode))


def read(fd: int, n: int) -> bytes:
    buf = bytearray(n)
    got = check(libc.read(fd, buf, n))
    return bytes(buf[:got]) if got < n else bytes(buf)


def write(fd: int, data) -> int:
    return check(libc.write(fd, data, len(data)))


def close(fd: int) -> None:
    check(libc.close(fd))


def fsync(fd: int) -> None:
    check(libc.fsync(fd))


def lseek(fd: int, offset: int, whence: int) -> int:
    return check(libc.lseek(fd, offset, whence))


def ftruncate(fd: int, length: int) -> None:
    check(libc.ftruncate(fd, length))


def pipe() -> tuple:
    fds = bytearray(8)
    check(libc.pipe(fds))
    return struct.unpack("ii", fds)


def dup2(fd: int, fd2: int) -> int:
    return check(libc.dup2(fd, fd2))


def fork() -> int:
    return check(libc.fork())


def setsid() -> int:
    return check(libc.setsid())


def umask(mask: int) -> int:
    return libc.umask(mask)


def _exit(status: int) -> None:
    libc.exit(status)


def kill(pid: int, sig: int) -> None:
    check(libc.kill(pid, sig))


def access(file: str, mode: int) -> bool:
    return libc.access(file, mode) == 0


def realpath(file: str) -> str:
    buf = bytearray(4096)  # PATH_MAX
    if not libc.realpath(file, buf):
        return path.abspath(file)  # as CPython: a missing file is not an error
    return bytes(buf).split(b"\0")[0].decode()


path.realpath = realpath  # micropython-lib's os.path has none


class stat_result:
    """os.stat's fields by name (the built-in os.stat gives a tuple)."""

    def __init__(self, fields: tuple):
        (self.st_mode, self.st_ino, self.st_dev, self.st_nlink, self.st_uid, self.st_gid,
         self.st_size, self.st_atime, self.st_mtime, self.st_ctime) = fields


def stat(file: str) -> stat_result:
    return stat_result(_stat(file))


def fstat(fd: int) -> stat_result:
    return stat_result(_stat(f"/proc/self/fd/{fd}"))  # the open file, even once renamed


def unlink(file: str) -> None:
    remove(file)  # noqa: F405 - the built-in os's


def replace(src: str, dst: str) -> None:
    rename(src, dst)  # rename(2) replaces dst atomically


def makedirs(name: str, mode: int = 0o777, exist_ok: bool = False) -> None:
    parent = path.dirname(name.rstrip("/"))
    if parent and not path.isdir(parent):
        makedirs(parent, mode, exist_ok=True)
    try:
        mkdir(name)
    except OSError as exc:
        if not (exist_ok and exc.errno == EEXIST and path.isdir(name)):
            raise
        return
    current = umask(0)  # MicroPython's mkdir takes no mode: as os.makedirs, mode & ~umask
    umask(current)
    check(libc.chmod(name, mode & ~current))


class _Environ:
    """os.environ, read-only: the process environment through getenv."""

    def get(self, key: str, default=None):
        value = getenv(key)
        return default if value is None else value

    def __getitem__(self, key: str) -> str:
        value = getenv(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: str) -> bool:
        return getenv(key) is not None


environ = _Environ()
