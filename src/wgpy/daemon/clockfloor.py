"""Handshake timestamps that never go backwards, across restarts and clockless boots.

A responder silently drops an initiation whose TAI64N timestamp is not newer than the
last one it accepted from us. Many routers have no real-time clock and boot in 1970 (or
at the firmware's build date) until NTP answers, so a restarted wgpyd could be locked out
by every peer. We keep a floor in a small file and start from it: Device.timestamp_floor.

The file holds a timestamp one hour AHEAD of the newest one we sent (peers accept any
later timestamp, there is no upper bound), so it is rewritten at most about once an hour
of handshaking: routers keep it on flash, which must not be written per handshake.
"""

import os

from wgpy.protocol import tai64n
from wgpy.runtime import system

AHEAD_S = 3600
# A wall clock before this (2024-01-01) has not been set yet.
CLOCK_SET_AFTER = 1704067200


def default_dir() -> str:
    """Flash on OpenWrt (/etc survives reboots, /var does not), /var/lib elsewhere."""
    override = os.getenv("WGPY_STATE_DIR")
    if override:
        return override
    return "/etc/wgpy" if os.path.exists("/etc/openwrt_release") else "/var/lib/wgpy"


def clock_looks_unset(wall_s: float) -> bool:
    """True for a wall clock that NTP has evidently not set yet."""
    return wall_s < CLOCK_SET_AFTER


class ClockFloor:
    """The persisted floor of one interface's handshake timestamps."""

    def __init__(self, ifname: str, state_dir=None) -> None:
        self.path = os.path.join(state_dir or default_dir(), f"{ifname}.tai64n")
        self.saved = self._read()

    def _read(self):
        try:
            with open(self.path, "rb") as f:
                data = f.read(13)
        except OSError:
            return None
        return data if len(data) == 12 else None

    def start(self, dev, wall_s: float) -> None:
        """Seed dev's floor from the file (or the clock) and save a fresh one ahead."""
        dev.timestamp_floor = max(filter(None, (self.saved, dev.timestamp_floor)), default=None)
        self._save(max(filter(None, (dev.timestamp_floor, tai64n.from_wall(wall_s)))))

    def update(self, dev) -> None:
        """Call now and then: saves again once dev's timestamps have caught up with the file."""
        floor = dev.timestamp_floor
        if floor is not None and (self.saved is None or floor >= self.saved):
            self._save(floor)

    def _save(self, sent: bytes) -> None:
        secs = int.from_bytes(sent[:8], "big") + AHEAD_S
        ahead = tai64n.pack(secs, 0)
        system.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        tmp = f"{self.path}.tmp"
        fd = system.open(tmp, system.O_WRONLY | system.O_CREAT | system.O_TRUNC, 0o600)
        try:
            system.write(fd, ahead)
            system.fsync(fd)
        finally:
            system.close(fd)
        system.replace(tmp, self.path)
        self.saved = ahead
