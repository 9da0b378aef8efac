"""`subprocess.run` for the router code on MicroPython: posix_spawnp through libc with
`ffi`, so no Python runs in the child.

The part of run() the router uses: an argv list, `input`, `capture_output`, `stdout`/
`stderr` = DEVNULL, `text`, `check`; the child gets the caller's environment and, as
CPython's close_fds does by default, no other descriptor (mpy_os opens all close-on-exec).
"""

import array
import select
import uctypes

from wgpy.runtime import libc
from wgpy.runtime import mpy_os as os

DEVNULL = -3
PIPE = -1

_ACTIONS_SIZE = 256  # posix_spawn_file_actions_t: 76-80 bytes on glibc and musl; room to spare


class CalledProcessError(Exception):
    def __init__(self, returncode: int, cmd):
        super().__init__(f"Command {cmd!r} returned non-zero exit status {returncode}.")
        self.returncode, self.cmd = returncode, cmd


class CompletedProcess:
    def __init__(self, args, returncode: int, stdout, stderr):
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr


def _argv(args) -> tuple:
    """A NULL-terminated char *[] and the buffers it points into (kept alive by the caller)."""
    strings = [arg.encode() + b"\0" for arg in args]
    return array.array("L", [uctypes.addressof(s) for s in strings] + [0]), strings


def _exit_code(status: int) -> int:
    """waitpid's status as CPython reports it: the exit code, or -signal."""
    return (status >> 8) & 0xFF if status & 0x7F == 0 else -(status & 0x7F)


def run(args, input=None, capture_output=False, stdout=None, stderr=None, text=False,  # noqa: A002
        check=False) -> CompletedProcess:
    if capture_output:
        stdout = stderr = PIPE
    actions = bytearray(_ACTIONS_SIZE)
    error = libc.posix_spawn_file_actions_init(actions)    # returns the errno, sets none
    if error:
        raise OSError(error, os.strerror(error))
    parent, child_ends = {}, []  # child fd -> our pipe end
    try:
        for target, how in ((0, PIPE if input is not None else None), (1, stdout), (2, stderr)):
            if how == DEVNULL:
                libc.posix_spawn_file_actions_addopen(actions, target, os.devnull, os.O_RDWR, 0)
            elif how == PIPE:
                read_end, write_end = os.pipe()
                ours, theirs = (write_end, read_end) if target == 0 else (read_end, write_end)
                parent[target] = ours
                child_ends.append(theirs)
                libc.posix_spawn_file_actions_adddup2(actions, theirs, target)
        for fd in list(parent.values()) + child_ends:
            libc.posix_spawn_file_actions_addclose(actions, fd)
        argv, keep = _argv(args)
        pid = array.array("i", (0,))
        error = libc.posix_spawnp(pid, args[0], actions, None, argv, libc.environ.get())
    finally:
        libc.posix_spawn_file_actions_destroy(actions)
        for fd in child_ends:
            os.close(fd)
    if error:
        for fd in parent.values():
            os.close(fd)
        raise OSError(error, f"{os.strerror(error)}: {args[0]!r}")
    output = _communicate(parent, input.encode() if isinstance(input, str) else input)
    status = array.array("i", (0,))
    libc.check(libc.waitpid(pid[0], status, 0))
    out, err = output.get(1), output.get(2)
    if text:
        out, err = (None if b is None else b.decode() for b in (out, err))
    result = CompletedProcess(args, _exit_code(status[0]), out, err)
    if check and result.returncode:
        raise CalledProcessError(result.returncode, args)
    return result


def _communicate(parent: dict, data) -> dict:
    """Write data to the child's stdin and read its stdout/stderr until both close, with
    poll so that neither side can fill a pipe and stall the other."""
    poller = select.poll()
    by_fd = {fd: target for target, fd in parent.items()}
    chunks = {target: [] for target in parent if target}
    for target, fd in parent.items():
        poller.register(fd, select.POLLOUT if target == 0 else select.POLLIN)
    while by_fd:
        for fd, _ in poller.poll(-1):
            target = by_fd[fd]
            if target == 0:
                sent = os.write(fd, data) if data else 0
                data = data[sent:]
                done = not data
            else:
                chunk = os.read(fd, 65536)
                chunks[target].append(chunk)
                done = not chunk
            if done:
                poller.unregister(fd)
                os.close(fd)
                del by_fd[fd]
    return {target: b"".join(parts) for target, parts in chunks.items()}
