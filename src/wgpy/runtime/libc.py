"""The C library through MicroPython's `ffi`, for the POSIX calls MicroPython's `os` and
`socket` lack (MicroPython only): the one place that opens libc and declares its functions,
for runtime/mpy_os.py, mpy_subprocess.py, mpy_socket.py, signals.py and system.py.

Every call that can fail goes through `check`, which raises OSError(errno) as CPython's
`os` does. The constants that differ between CPUs (MIPS numbers several of them its own
way) are chosen here from uname's machine.
"""

import ffi
import struct
import uctypes

_LIBRARY_NAMES = ("libc.so.6", "libc.so")     # glibc (Debian), musl (OpenWrt)


def _open():
    for name in _LIBRARY_NAMES:
        try:
            return ffi.open(name), name
        except OSError:
            pass
    raise OSError(2, "no C library found")


_libc, _opened = _open()
GLIBC = _opened == "libc.so.6"
# off_t: 64 bits on musl everywhere, on glibc only for LP64 (the unsuffixed symbols).
_OFF_T = "q" if struct.calcsize("P") == 8 or not GLIBC else "l"

# name: (result, argument types) in `ffi`'s type codes (runtime/mpy_core.py).
FUNCTIONS = {
    "uname": ("i", "p"),
    "__errno_location": ("p", ""),
    "strerror": ("s", "i"),
    "open": ("i", "siI"),
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
    "lseek": (_OFF_T, "i" + _OFF_T + "i"),
    "ftruncate": ("i", "i" + _OFF_T),
    "flock": ("i", "ii"),
    "access": ("i", "si"),
    "realpath": ("p", "sp"),
    "kill": ("i", "ii"),
    "waitpid": ("i", "ipi"),
    "posix_spawnp": ("i", "pspppp"),
    "posix_spawn_file_actions_init": ("i", "p"),
    "posix_spawn_file_actions_destroy": ("i", "p"),
    "posix_spawn_file_actions_adddup2": ("i", "pii"),
    "posix_spawn_file_actions_addopen": ("i", "pisiI"),
    "posix_spawn_file_actions_addclose": ("i", "pi"),
    "rename": ("i", "ss"),
    "chmod": ("i", "sI"),
    "_exit": ("v", "i"),
    "getpid": ("i", ""),
    "getppid": ("i", ""),
    # The unsuffixed symbol keeps the old 32-bit time_t ABI on musl too: two longs.
    "clock_gettime": ("i", "ip"),
    "if_nametoindex": ("I", "s"),
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
environ = _libc.var("L", "environ")     # char **: what posix_spawnp hands the child


def _machine() -> str:
    buf = bytearray(65 * 6)     # struct utsname: six 65-byte fields, machine is the fifth
    uname(buf)
    return bytes(buf[4 * 65:5 * 65]).split(b"\0")[0].decode()


MACHINE = _machine()
MIPS = MACHINE.startswith("mips")

# <fcntl.h> and <signal.h> numbers that MIPS numbers its own way.
O_RDONLY, O_WRONLY, O_RDWR = 0, 1, 2
O_CREAT = 0x100 if MIPS else 0x40
O_EXCL = 0x400 if MIPS else 0x80
O_TRUNC = 0x200
O_APPEND = 0x8 if MIPS else 0x400
O_NONBLOCK = 0x80 if MIPS else 0x800
O_CLOEXEC = 0x80000
SIG_BLOCK = 1 if MIPS else 0
SOL_SOCKET = 0xFFFF if MIPS else 1
SO_PEERCRED = 18 if MIPS else 17
SIGSET_BYTES = 128          # glibc's and musl's sigset_t, the larger of the two
CLOCK_MONOTONIC = 1

# <errno.h> numbers the shared code tests for (micropython-lib's `errno` lacks most, and
# has the x86 ones): MIPS numbers those above 34 its own way.
ENOENT, EINTR, EIO, EAGAIN, EEXIST, ENODEV, EINVAL = 2, 4, 5, 11, 17, 19, 22
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

