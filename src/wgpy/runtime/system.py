"""The operating system as the router code (uci/store.py, router/, cli.py) sees it: `os`,
`fcntl`, `subprocess`, `signal`, `monotonic`, `which`, `if_nametoindex`,
`udp_addresses`, and for unix sockets `unix_address`, `sendall` and `peer_pid`.

On CPython each is the standard library's own. On MicroPython the built-in `os` lacks
descriptors, locks and processes; runtime/mpy_os.py and mpy_subprocess.py supply the
part the router uses, through libc with `ffi`.
"""

import socket
import struct

from wgpy.runtime import MICROPYTHON

if MICROPYTHON:
    from wgpy.runtime import mpy_os as os
    from wgpy.runtime import mpy_subprocess as subprocess  # noqa: F401

    class fcntl:  # noqa: N801 - stands for the module
        LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = 1, 2, 4, 8
        flock = staticmethod(os.flock)

    class signal:  # noqa: N801
        SIGTERM = 15

    monotonic = os.monotonic
    if_nametoindex = os.if_nametoindex

    def udp_addresses(host: str, port: int) -> list:
        """(family, address text) for each getaddrinfo answer (MicroPython's sockaddr is
        the C struct's bytes)."""
        found = []
        for _, _, _, _, raw in socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM):
            family, packed = socket.sockaddr(raw)[:2]
            found.append((family, socket.inet_ntop(family, packed)))
        return found

    def unix_address(path: str) -> bytes:
        """What connect() takes for a unix socket: MicroPython wants the sockaddr_un."""
        return struct.pack("H", socket.AF_UNIX) + path.encode() + b"\0"

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
    import fcntl  # noqa: F401
    import os  # noqa: F401
    import signal  # noqa: F401
    import subprocess  # noqa: F401
    from shutil import which  # noqa: F401
    if_nametoindex = socket.if_nametoindex
    from time import monotonic  # noqa: F401

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
