"""SIGTERM and SIGINT as a readable file descriptor the daemon's poll loop watches.

CPython: Python-level handlers note the signal and `signal.set_wakeup_fd` wakes the loop
through a socket pair. MicroPython has no `signal` module (micropython-lib's calls Python
from the signal handler, which an interpreter without a GIL must never allow): the two
signals are blocked and read from a signalfd instead. Blocked before the C datapath's
threads start, they stay blocked in them, so only the signalfd ever sees them.
"""

from wgpy.runtime import MICROPYTHON

_NAMES = {2: "SIGINT", 15: "SIGTERM"}   # the same numbers on every Linux CPU


class SignalFd:
    """MicroPython's StopSignals (see StopSignals below)."""

    def open(self) -> None:
        from wgpy.runtime import libc

        mask = bytearray(libc.SIGSET_BYTES)
        libc.sigemptyset(mask)
        for signum in _NAMES:
            libc.sigaddset(mask, signum)
        libc.check(libc.sigprocmask(libc.SIG_BLOCK, mask, None))
        self._fd = libc.check(libc.signalfd(-1, mask, libc.O_NONBLOCK | libc.O_CLOEXEC))

    def fileno(self) -> int:
        return self._fd

    def take(self):
        import struct

        from wgpy.runtime import mpy_os

        try:
            info = mpy_os.read(self._fd, 128)     # struct signalfd_siginfo: ssi_signo first
        except OSError:
            return None
        return _NAMES.get(struct.unpack_from("I", info)[0])

    def close(self) -> None:
        from wgpy.runtime import mpy_os

        mpy_os.close(self._fd)


class WakeupFd:
    """CPython's StopSignals (see StopSignals below)."""

    def open(self) -> None:
        import signal
        import socket

        self._caught = None
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._wake_w.fileno())
        self._old_handlers = {signum: signal.signal(signum, self._on_signal)
                              for signum in _NAMES}

    def _on_signal(self, signum, frame) -> None:
        self._caught = _NAMES[signum]

    def fileno(self) -> int:
        return self._wake_r.fileno()

    def take(self):
        try:
            while self._wake_r.recv(64):
                pass
        except OSError:     # drained (EAGAIN)
            pass
        caught, self._caught = self._caught, None
        return caught

    def close(self) -> None:
        import signal

        signal.set_wakeup_fd(self._old_wakeup)
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, handler)
        self._wake_r.close()
        self._wake_w.close()


# Catches SIGTERM and SIGINT from open() to close(); fileno() turns readable when one
# came, and take() then names it ("SIGTERM"), or returns None.
StopSignals = SignalFd if MICROPYTHON else WakeupFd
