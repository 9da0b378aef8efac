"""`wgpy ubus`: the long-running router service that procd keeps alive.

Every TICK_S it reads the live devices, sends wgpy.peer.up/down events, and runs the built-in
watchdog (re-resolve stale hostname peers, add peers DNS kept out at start). When OpenWrt's
python3-ubus bindings are importable it also serves the `wireguard`, `luci.wireguard` and
`wgpy` objects (router/ubus.py) between ticks, so no interpreter is spawned per call, and
registers them again within a tick when ubusd comes back after a restart; without them it
still does the watchdog work, and logs events to stderr instead.
"""

import signal
import sys
import time
from typing import Callable, Dict, Optional

from wgpy.router import control, handlers
from wgpy.uci.store import Store

TICK_S = 5.0


class _Stop:
    """SIGTERM/SIGINT end the loop after the current slice."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True


def _log(message: str) -> None:
    sys.stderr.write(f"wgpy: {message}\n")
    sys.stderr.flush()


def tick(store: Store, states: Dict, attempts: Dict, now: float,
         send: Callable[[str, dict], None]) -> Dict:
    """One round: events for handshake changes, then the watchdog; -> the new peer states."""
    events, states = handlers.peer_events(states, control.gather(store))
    for name, data in events:
        send(name, data)
    for message in control.watchdog_round(store, attempts, now):
        _log(message)
    return states


def _open_bus(store: Store) -> Optional[object]:
    """The ubus connection, or None (then only the watchdog runs) when there is none."""
    try:
        from wgpy.router import ubus as glue
    except ImportError:
        _log("python3-ubus not available: serving the watchdog only")
        return None
    try:
        return glue.Bus(store)
    except (OSError, RuntimeError) as exc:
        _log(f"cannot connect to ubus ({exc}): serving the watchdog only")
        return None


def _reconnect(bus, retrying: bool) -> bool:
    """One attempt to register again after ubusd went away; -> True while it still fails
    (later attempts are then quiet)."""
    if not retrying:
        _log(f"lost the ubus connection (ubusd restarted?): registering again every {TICK_S:g} s")
    try:
        bus.reconnect()
    except (OSError, RuntimeError):
        return True
    _log("registered on ubus again")
    return False


def run(store: Store, bus: Optional[object] = None, rounds: Optional[int] = None) -> int:
    """Serve until SIGTERM (or for `rounds` ticks, for tests); -> exit status."""
    bus = bus if bus is not None else _open_bus(store)
    stop = _Stop()
    states: Dict = {}
    attempts: Dict = {}
    send = bus.send if bus is not None else (lambda name, data: _log(f"{name} {data}"))
    done = 0
    retrying = False
    try:
        while not stop.requested and (rounds is None or done < rounds):
            if bus is not None and bus.lost():
                retrying = _reconnect(bus, retrying)
            states = tick(store, states, attempts, time.monotonic(), send)
            done += 1
            deadline = time.monotonic() + TICK_S
            while not stop.requested and time.monotonic() < deadline and \
                    (rounds is None or done < rounds):
                if bus is not None:
                    bus.serve(min(1.0, deadline - time.monotonic()))
                else:
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    finally:
        if bus is not None:
            bus.close()
    return 0
