"""The C library through MicroPython's `ffi`, for the POSIX calls MicroPython's `os` and
`socket` lack (MicroPython only; runtime/posix.py and runtime/mpy_socket.py use it).

Every call that can fail goes through `check`, which raises OSError(errno) as CPython's
`os` does. The constants that differ between CPUs (MIPS numbers several of them its own
way) are chosen here from uname's machine.
"""

import ffi
import uctypes

_LIBRARY_NAMES = ("libc.so.6", "libc.so")     # glibc (Debian), musl (OpenWrt)


def _open():
    for name in _LIBRARY_NAMES:
        try:
            return ffi.open(name)
        except OSError:
            pass
    raise OSError(2, "no C library found")


_libc = _open()

# name: (result, argument types) in `ffi`'s type codes (runtime/mpy_core.py).
FUNCTIONS = {
    "uname": ("i", "p"),
    "__errno_location": ("p", ""),
    "strerror": ("s", "i"),
    "open": ("i", "sii"),
    "read": ("l", "ipL"),
    "write": ("l", "ipL"),
    "close": ("i", "i"),
    "ioctl": ("i", "ilp"),
    "fork": ("i", ""),
    "pipe": ("i", "p"),
    "setsid": ("i", ""),
    "dup2": ("i", "ii"),
    "umask": ("I", "I"),
    "fsync": ("i", "i"),
    "rename": ("i", "ss"),
    "chmod": ("i", "sI"),
    "_exit": ("v", "i"),
    "getpid": ("i", ""),
    "clock_gettime": ("i", "ip"),
    "getsockname": ("i", "ipp"),
    "getsockopt": ("i", "iiipp"),
    "sigemptyset": ("i", "p"),
    "sigaddset": ("i", "pi"),
    "sigprocmask": ("i", "ipp"),
    "signalfd": ("i", "ipi"),
    "openlog": ("v", "sii"),
    "syslog": ("v", "iss"),
}

# Each becomes a module attribute, its leading underscores dropped (exit, errno_location).
for _name, (_result, _args) in FUNCTIONS.items():
    globals()[_name.lstrip("_")] = _libc.func(_result, _name, _args)


def _machine() -> str:
    buf = bytearray(65 * 6)     # struct utsname: six 65-byte fields, machine is the fifth
    uname(buf)
    return bytes(buf[4 * 65:5 * 65]).split(b"\0")[0].decode()


MACHINE = _machine()
MIPS = MACHINE.startswith("mips")

# <fcntl.h> and <signal.h> numbers that MIPS numbers its own way.
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CREAT = 0x100 if MIPS else 0x40
O_TRUNC = 0x200
O_NONBLOCK = 0x80 if MIPS else 0x800
O_CLOEXEC = 0x80000
SIG_BLOCK = 1 if MIPS else 0
SO_PEERCRED = 18 if MIPS else 17
SIGSET_BYTES = 128          # glibc's and musl's sigset_t, the larger of the two
CLOCK_MONOTONIC = 1

# <errno.h> numbers the shared code tests for (micropython-lib's `errno` lacks most, and
# has the x86 ones): MIPS numbers those above 34 its own way.
ENOENT, EINTR, EIO, EAGAIN, EEXIST, EINVAL = 2, 4, 5, 11, 17, 22
EBADFD = 81 if MIPS else 77
EAFNOSUPPORT = 124 if MIPS else 97
EADDRINUSE = 125 if MIPS else 98
EADDRNOTAVAIL = 126 if MIPS else 99
ENETUNREACH = 128 if MIPS else 101
ENOBUFS = 132 if MIPS else 105


def errno() -> int:
    return uctypes.struct(errno_location(), {"value": uctypes.INT32 | 0}, uctypes.NATIVE).value


def check(result: int) -> int:
    """result, unless it is -1: then OSError with the call's errno."""
    if result == -1:
        code = errno()
        raise OSError(code, strerror(code))
    return result

