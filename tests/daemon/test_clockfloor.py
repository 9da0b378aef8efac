"""The persisted handshake-timestamp floor: a restart, even with the clock set back to
1970, never sends a timestamp a peer has already seen."""

import os
import stat

from wgpy.daemon.clockfloor import AHEAD_S, ClockFloor, clock_looks_unset
from wgpy.protocol import tai64n
from wgpy.protocol.device import Device

NOW = 1_800_000_000.0


def _device(wall):
    return Device(rng=os.urandom, wall_clock=lambda: wall[0])


def test_restart_with_clock_in_1970_continues_past_the_last_timestamp(tmp_path):
    wall = [NOW]
    dev = _device(wall)
    floor = ClockFloor("wg0", str(tmp_path))
    floor.start(dev, wall[0])
    sent = [dev.next_timestamp() for _ in range(3)]
    floor.update(dev)

    wall[0] = 5.0  # the router rebooted without a real-time clock
    dev2 = _device(wall)
    ClockFloor("wg0", str(tmp_path)).start(dev2, wall[0])
    assert dev2.next_timestamp() > max(sent)


def test_file_is_written_ahead_and_rarely(tmp_path):
    wall = [NOW]
    dev = _device(wall)
    floor = ClockFloor("wg0", str(tmp_path))
    floor.start(dev, wall[0])
    first = floor.saved
    assert int.from_bytes(first[:8], "big") == tai64n.TAI64_BASE + int(NOW) + AHEAD_S
    for _ in range(100):
        dev.next_timestamp()
        floor.update(dev)
    assert floor.saved == first  # still ahead: no write per handshake
    wall[0] = NOW + AHEAD_S + 1
    dev.next_timestamp()
    floor.update(dev)
    assert floor.saved > first


def test_file_is_root_only_and_garbage_is_ignored(tmp_path):
    floor = ClockFloor("wg0", str(tmp_path / "state"))
    floor.start(_device([NOW]), NOW)
    assert stat.S_IMODE(os.stat(floor.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700
    with open(floor.path, "wb") as f:
        f.write(b"short")
    assert ClockFloor("wg0", str(tmp_path / "state")).saved is None


def test_unset_clock_is_recognised():
    assert clock_looks_unset(0.0) and clock_looks_unset(1_600_000_000.0)
    assert not clock_looks_unset(NOW)
