"""A small UAPI client: what `wg` does over /var/run/wireguard/IFNAME.sock, from Python, so
the router needs no wg binary.

`get` returns the device as plain data (keys in base64, numbers as int); `set` sends the
`key=value` lines of one `set=1` request and raises UapiError on a non-zero errno.
`interfaces` lists the sockets that answer, like `wg show interfaces`.
"""

import errno
import socket

from wgpy import keys
from wgpy.runtime.system import peer_pid as _peer_pid
from wgpy.runtime.system import os, sendall, unix_address

SOCKET_DIR = "/var/run/wireguard"
TIMEOUT_S = 5.0
_INT_KEYS = frozenset(("listen_port", "fwmark", "persistent_keepalive_interval",
                       "last_handshake_time_sec", "last_handshake_time_nsec", "rx_bytes",
                       "tx_bytes", "protocol_version"))
_KEY_KEYS = frozenset(("private_key", "public_key", "preshared_key"))


class UapiError(Exception):
    """The daemon answered errno != 0, or the socket failed; `errno` is positive."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno


def socket_path(ifname: str, directory: str = SOCKET_DIR) -> str:
    """Where `wg` and wgpyd put IFNAME's socket."""
    return os.path.join(directory, f"{ifname}.sock")


def hex_to_b64(hex_key: str) -> str:
    """A UAPI hex key as `wg` prints it."""
    return keys.encode(bytes.fromhex(hex_key))


def b64_to_hex(b64_key: str) -> str:
    """A base64 key as UAPI wants it; ValueError if it is not a key."""
    return keys.decode(b64_key).hex()


def _exchange(ifname: str, request: str, directory: str) -> list[str]:
    """Send one request; -> the answer's lines up to the blank line that ends it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    try:
        sock.connect(unix_address(socket_path(ifname, directory)))
        sendall(sock, request.encode())
        # Split into lines as they arrive: a 1,000-peer answer is some 300 KB, more than
        # MicroPython's heap can hold as one contiguous copy (or two, decoded).
        lines, rest = [], b""
        while not (rest == b"" and lines and lines[-1] == ""):  # a blank line ends it
            chunk = sock.recv(4096)
            if not chunk:
                break
            *complete, rest = (rest + chunk).split(b"\n")
            lines += [line.decode("utf-8", "replace") for line in complete]
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UapiError(exc.errno or 5, f"{ifname}: {reason}") from None
    finally:
        sock.close()
    return lines + [rest.decode("utf-8", "replace")]


def _errno(ifname: str, lines: list[str]) -> int:
    for line in lines:
        if line.startswith("errno="):
            return abs(int(line[6:]))
    raise UapiError(71, f"{ifname}: answer without errno")


def _value(key: str, value: str):
    if key in _INT_KEYS:
        return int(value)
    if key in _KEY_KEYS:
        return hex_to_b64(value)
    return value


def parse_get(lines: list[str]) -> dict:
    """The `get=1` answer -> {"private_key", "public_key", "listen_port", "fwmark",
    "peers": [{"public_key", "endpoint", "allowed_ips": [...], ...}]}; absent keys are left
    out, as in the wire form."""
    device: dict = {"peers": []}
    peer: "dict | None" = None
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or key == "errno":
            continue
        if key == "public_key":
            peer = {"public_key": hex_to_b64(value), "allowed_ips": []}
            device["peers"].append(peer)
        elif peer is None:
            device[key] = _value(key, value)
        elif key == "allowed_ip":
            peer["allowed_ips"].append(value)
        else:
            peer[key] = _value(key, value)
    return device


def get(ifname: str, directory: str = SOCKET_DIR) -> dict:
    """The live device (see parse_get); raises UapiError."""
    lines = _exchange(ifname, "get=1\n\n", directory)
    errno = _errno(ifname, lines)
    if errno:
        raise UapiError(errno, f"{ifname}: get failed with errno {errno}")
    return parse_get(lines)


def set_lines(ifname: str, lines: list[str], directory: str = SOCKET_DIR) -> None:
    """Apply one `set=1` request made of `lines` ("key=value"); raises UapiError."""
    request = "set=1\n" + "".join(line + "\n" for line in lines) + "\n"
    answer = _exchange(ifname, request, directory)
    errno = _errno(ifname, answer)
    if errno:
        raise UapiError(errno, f"{ifname}: the daemon refused the configuration "
                               f"(errno {errno}: {os.strerror(errno)})")


def is_live(ifname: str, directory: str = SOCKET_DIR) -> bool:
    """True if a daemon answers on IFNAME's socket."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(unix_address(socket_path(ifname, directory)))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def peer_pid(ifname: str, directory: str = SOCKET_DIR) -> "int | None":
    """The PID of the daemon serving IFNAME (SO_PEERCRED), or None if none answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(unix_address(socket_path(ifname, directory)))
        return _peer_pid(sock) or None
    except OSError:
        return None
    finally:
        sock.close()


def interfaces(directory: str = SOCKET_DIR) -> list[str]:
    """Names of the interfaces whose socket answers, sorted, like `wg show interfaces`."""
    try:
        names = sorted(entry[:-5] for entry in os.listdir(directory) if entry.endswith(".sock"))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise
    return [name for name in names if is_live(name, directory)]
