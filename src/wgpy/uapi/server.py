"""The UAPI Unix socket: listener setup, framing and per-connection buffers, nothing else.

`open_listener` creates /var/run/wireguard/IFNAME.sock the way wireguard-go does (directory
0755, socket 0600 via umask 077, a stale file replaced, a live one refused). A `Connection`
turns bytes into whole `get`/`set` operations for a handler and queues its answers; it never
blocks, serves several operations per connection, and a bad line only costs that connection.
What the requests mean is `wgpy.uapi.text`'s business; when to read or write is the loop's.
"""

import os

from wgpy.runtime import system
from wgpy.runtime.system import socket

SOCKET_DIR = "/var/run/wireguard"
MAX_LINE_BYTES = 4096          # the longest real line is under 100 bytes
MAX_REQUEST_BYTES = 64 << 20   # ~200k peers of setconf; guards memory against a runaway client
_RECV_BYTES = 65536


def _decode(raw) -> str:
    """UTF-8 text, non-ASCII bytes of an invalid line as U+FFFD (MicroPython's decode has
    no errors="replace"; no valid UAPI line has them)."""
    try:
        return raw.decode()
    except UnicodeError:
        return "".join(chr(byte) if byte < 0x80 else "\ufffd" for byte in raw)


class SocketInUse(Exception):
    """Another process is listening on the interface's UAPI socket."""


def socket_path(ifname: str, directory: str = SOCKET_DIR) -> str:
    """Where `wg` looks for IFNAME's socket."""
    return os.path.join(directory, f"{ifname}.sock")


def _bind(path: str):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = system.umask(0o077)
    try:
        sock.bind(path)
    except OSError:
        sock.close()
        raise
    finally:
        system.umask(old_umask)
    return sock


def _is_live(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


class Listener:
    """The bound, listening UAPI socket; unlinks its file on close if it is still ours."""

    def __init__(self, ifname: str, directory: str = SOCKET_DIR) -> None:
        system.makedirs(directory, mode=0o755, exist_ok=True)
        self.path = socket_path(ifname, directory)
        try:
            self.sock = _bind(self.path)
        except OSError as exc:
            if exc.errno != system.EADDRINUSE:
                raise
            if _is_live(self.path):
                raise SocketInUse(f"{self.path} is in use by another process") from None
            os.unlink(self.path)  # stale: left by a daemon that died
            self.sock = _bind(self.path)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self._inode = system.inode(self.path)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self):
        """A new non-blocking client socket, or None if none is waiting (or it gave up)."""
        try:
            client, _ = self.sock.accept()
        except OSError:
            return None
        client.setblocking(False)
        return client

    def is_gone(self) -> bool:
        """True once our socket file was removed or replaced (the cue to shut down)."""
        try:
            return system.inode(self.path) != self._inode
        except OSError:
            return True

    def close(self) -> None:
        """Close and unlink, unless the file now belongs to someone else."""
        if not self.is_gone():
            try:
                os.unlink(self.path)
            except OSError:
                pass    # gone already
        self.sock.close()


class Connection:
    """One client: reads lines, hands whole operations to `handler`, buffers the answers."""

    def __init__(self, sock, handler) -> None:
        """handler(op, body lines) -> answer text; op is "get" or "set"."""
        self.sock = sock
        self._handler = handler
        self._inbuf = bytearray()
        self._outbuf = bytearray()
        self._state = None                  # None: awaiting an op line; "get"; "set"
        self._body = []
        self._body_bytes = 0
        self._closing = False               # close once the answers are flushed
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def wants_write(self) -> bool:
        return bool(self._outbuf)

    def on_readable(self) -> None:
        """Call when the socket is readable: consumes input and runs complete operations."""
        try:
            data = self.sock.recv(_RECV_BYTES)
        except OSError as exc:
            if exc.errno not in (system.EAGAIN, system.EINTR):
                self.close()
            return
        if not data:
            self._end_of_input()
        elif not self._closing:
            self._inbuf += data
            self._consume_lines()
        self._flush()

    def on_writable(self) -> None:
        """Call when the socket is writable and `wants_write`."""
        self._flush()

    def _end_of_input(self) -> None:
        if self._state == "set":
            self._answer(self._handler("set", self._body))  # EOF ends a set, as in wireguard-go
        self._closing = True

    def _consume_lines(self) -> None:
        start = 0
        while not self._closing:
            newline = self._inbuf.find(b"\n", start)
            if newline < 0 or newline - start > MAX_LINE_BYTES:
                # A line over the limit costs the connection, whether or not its newline
                # arrived in the same read.
                if len(self._inbuf) - start > MAX_LINE_BYTES:
                    self._closing = True
                break
            line = _decode(self._inbuf[start:newline])
            start = newline + 1
            self._on_line(line)
        # Once per read, not per line: MicroPython's bytearray has no `del buf[:n]`, and
        # a copy per line of a 1,000-peer set would fragment its heap.
        self._inbuf = self._inbuf[start:]

    def _on_line(self, line: str) -> None:
        if self._state is None:
            self._on_op_line(line)
        elif self._state == "get":
            # `get=1` must be followed by the blank line and nothing else.
            self._answer(self._handler("get", []) if line == "" else "errno=-22\n\n")
            self._state = None
            self._closing = line != ""
        elif line == "":
            self._answer(self._handler("set", self._body))
            self._state, self._body, self._body_bytes = None, [], 0
        else:
            self._body.append(line)
            self._body_bytes += len(line) + 1
            self._closing = self._body_bytes > MAX_REQUEST_BYTES

    def _on_op_line(self, line: str) -> None:
        if line == "get=1":
            self._state = "get"
        elif line == "set=1":
            self._state = "set"
        else:
            self._closing = True  # unknown operation: wireguard-go hangs up without answering

    def _answer(self, text: str) -> None:
        self._outbuf += text.encode()

    def _flush(self) -> None:
        while self._outbuf:
            try:
                sent = self.sock.send(self._outbuf)
            except OSError as exc:
                if exc.errno not in (system.EAGAIN, system.EINTR):
                    self.close()
                return
            self._outbuf = self._outbuf[sent:]
        if self._closing:
            self.close()

    def close(self) -> None:
        """Drop the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            self.sock.close()
