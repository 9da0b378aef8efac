"""Processes of the labs: stop one by PID, wait for a condition, find daemons by interface name.

Only ever by PID: the machine is shared with other runs of the same programs, so nothing
here signals by name.
"""

import os
import signal
import subprocess
import time
from typing import List, Optional


class LabError(AssertionError):
    """A lab step failed; the message has the command's output. An AssertionError, so a test
    that meets one fails (rather than errors) with that message."""


def stop_pid(pid: int, proc: Optional[subprocess.Popen] = None, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds. With `proc` (our child) it is reaped."""
    if proc is not None and proc.poll() is not None:
        return      # reaped already: the PID may belong to someone else by now
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if (proc.poll() is not None) if proc is not None else _gone(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait(grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def wait_for(predicate, what: str, timeout: float = 10.0,
             proc: Optional[subprocess.Popen] = None) -> None:
    """Poll `predicate` until true; LabError after `timeout` s, or at once if `proc` exits."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise LabError(f"process exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise LabError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stray_pids(ifnames: List[str]) -> List[int]:
    """PIDs of live processes whose argv ends with one of our (unique) interface names:
    daemons that forked away from the process we started (e.g. under wg-quick)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        argv = [a.decode(errors="replace") for a in argv if a]
        if argv and argv[-1] in ifnames and not _gone(int(entry)):
            pids.append(int(entry))
    return pids


def _gone(pid: int) -> bool:
    """Exited: no /proc entry, or a zombie nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
