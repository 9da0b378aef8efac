"""`os` for the router code on MicroPython: the built-in `os` and micropython-lib's os.path,
plus the descriptor calls it lacks, made through libc with `ffi`.

Only what uci/store.py, router/ and cli.py use, with CPython's behaviour for those uses:
descriptors are opened close-on-exec (PEP 446), errors raise OSError(errno). The O_*
numbers differ on MIPS; off_t is 64 bits on musl everywhere and on glibc only for LP64
(the unsuffixed symbols), which decides how lseek and ftruncate are called.
"""

import array
import ffi
import platform
import struct
import uctypes
from os import *  # noqa: F401,F403 - the built-in os: listdir, mkdir, rename, stat, getenv, ...
from os import getenv, mkdir, rename, stat as _stat

import os.path as path  # noqa: F401 - micropython-lib's

_LIBC = ffi.open("libc.so.6" if "glibc" in platform.platform() else "libc.so")
_OFF_T = "q" if struct.calcsize("P") == 8 or "glibc" not in platform.platform() else "l"


def _fn(ret, name, args):
    return _LIBC.func(ret, name, args)


_errno_location = _fn("p", "__errno_location", "")
_open = _fn("i", "open", "siI")
_read = _fn("l", "read", "ipL")
_write = _fn("l", "write", "iPL")
_close = _fn("i", "close", "i")
_fsync = _fn("i", "fsync", "i")
_lseek = _fn(_OFF_T, "lseek", "i" + _OFF_T + "i")
_ftruncate = _fn("i", "ftruncate", "i" + _OFF_T)
_flock = _fn("i", "flock", "ii")
_kill = _fn("i", "kill", "ii")
_access = _fn("i", "access", "si")
_realpath = _fn("p", "realpath", "sp")
_strerror = _fn("s", "strerror", "i")
_uname = _fn("i", "uname", "p")
# The unsuffixed symbol keeps the old 32-bit time_t ABI on musl too: two longs.
_clock_gettime = _fn("i", "clock_gettime", "ip")
_if_nametoindex = _fn("I", "if_nametoindex", "s")
_getsockopt = _fn("i", "getsockopt", "iiipp")
getpid = _fn("i", "getpid", "")
getppid = _fn("i", "getppid", "")


def _machine() -> bytes:
    buf = bytearray(6 * 65)  # struct utsname on Linux: six 65-byte fields
    _uname(buf)
    return bytes(buf[4 * 65:5 * 65]).split(b"\0")[0]


MIPS = _machine().startswith(b"mips")
if MIPS:
    O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0x100, 0x400, 0x200, 0x8
else:
    O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 0o100, 0o200, 0o1000, 0o2000
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CLOEXEC = 0o2000000  # the same on x86, ARM and MIPS
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
F_OK, X_OK, W_OK, R_OK = 0, 1, 2, 4
ENOENT, EEXIST, ENODEV = 2, 17, 19


def _errno() -> int:
    return struct.unpack("i", uctypes.bytearray_at(_errno_location(), 4))[0]


def _check(result: int) -> int:
    """result, or OSError(errno) for -1."""
    if result == -1:
        code = _errno()
        raise OSError(code, _strerror(code))
    return result


def monotonic() -> float:
    """time.monotonic(): CLOCK_MONOTONIC, comparable with CPython's across processes."""
    timespec = array.array("l", (0, 0))
    _check(_clock_gettime(1, timespec))  # CLOCK_MONOTONIC
    return timespec[0] + timespec[1] / 1e9


def if_nametoindex(name: str) -> int:
    """socket.if_nametoindex."""
    index = _if_nametoindex(name)
    if not index:
        raise OSError(ENODEV, "no such device")
    return index


def peer_pid(fd: int) -> int:
    """The PID at the other end of a connected unix socket (SO_PEERCRED), 0 if unknown."""
    level, option = (0xFFFF, 18) if MIPS else (1, 17)  # SOL_SOCKET, SO_PEERCRED
    ucred, size = array.array("i", (0, 0, 0)), array.array("I", (12,))
    _check(_getsockopt(fd, level, option, ucred, size))
    return ucred[0]


def strerror(code: int) -> str:
    return _strerror(code)


def open(file: str, flags: int, mode: int = 0o777) -> int:  # noqa: A001 - os.open
    return _check(_open(file, flags | O_CLOEXEC, mode))


def read(fd: int, n: int) -> bytes:
    buf = bytearray(n)
    got = _check(_read(fd, buf, n))
    return bytes(buf[:got])


def write(fd: int, data) -> int:
    return _check(_write(fd, data, len(data)))


def close(fd: int) -> None:
    _check(_close(fd))


def fsync(fd: int) -> None:
    _check(_fsync(fd))


def lseek(fd: int, offset: int, whence: int) -> int:
    return _check(_lseek(fd, offset, whence))


def ftruncate(fd: int, length: int) -> None:
    _check(_ftruncate(fd, length))


def flock(fd: int, operation: int) -> None:
    _check(_flock(fd, operation))


def kill(pid: int, sig: int) -> None:
    _check(_kill(pid, sig))


def access(file: str, mode: int) -> bool:
    return _access(file, mode) == 0


def realpath(file: str) -> str:
    buf = bytearray(4096)  # PATH_MAX
    if not _realpath(file, buf):
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
