"""`wgpyd [-f|--foreground] IFNAME`, the daemon's entry point: a drop-in for
`wireguard-go IFNAME` (the router's `wgpy` command is wgpy/cli.py).

wgpyd creates the TUN and the UAPI socket, then serves them. Unless told to stay in the
foreground it forks first; the parent exits only after the child reports that the interface
and socket exist (through a pipe), which is what wg-quick and netifd rely on.
"""

import os
import sys
import time

from wgpy import __version__
from wgpy.runtime import system

USAGE_WGPYD = "Usage: wgpyd [-f|--foreground] INTERFACE-NAME\n"
EXIT_SETUP_FAILED = 1
_READY = b"ok"


def _parse_args(argv: list):
    """-> (foreground, ifname), or None for usage.

    A name starting with '-' is never taken as an interface: `wgpyd --help` must not
    create a link called "--help"."""
    foreground = len(argv) == 2 and argv[0] in ("-f", "--foreground")
    if len(argv) != 1 + foreground or argv[-1].startswith("-"):
        return None
    return foreground, argv[-1]


def _setup(ifname: str):
    """Open the TUN, the UDP sockets and the UAPI listener; -> (dev, tun, udp, listener)."""
    from wgpy.daemon.tun import Tun
    from wgpy.daemon.udp import UdpSockets
    from wgpy.protocol.device import Device
    from wgpy.uapi.server import Listener

    # The C datapath (the default) takes TUN offloads: a virtio_net_hdr on every packet.
    tun = Tun(ifname, vnet_hdr=os.getenv("WGPY_DATAPATH") != "python")
    try:
        udp = UdpSockets()
        dev = Device(rng=os.urandom, wall_clock=time.time)
        dev.listen_port = udp.rebind(0, 0)
        listener = Listener(tun.name)
    except BaseException:
        tun.close()
        raise
    return dev, tun, udp, listener


def _start_clock_floor(dev, ifname: str, log):
    """Handshake timestamps continue from the saved floor; None if it cannot be kept."""
    from wgpy.daemon.clockfloor import ClockFloor, clock_looks_unset

    wall = time.time()
    if clock_looks_unset(wall):
        log.error("the system clock looks unset (%s): handshake timestamps continue from "
                  "the saved floor; set the time (NTP) for reliable handshakes",
                  time.strftime("%Y-%m-%d", time.gmtime(wall)))
    floor = ClockFloor(ifname)
    try:
        floor.start(dev, wall)
    except OSError as exc:
        log.error("cannot keep handshake timestamps across restarts (%s): %s",
                  floor.path, system.strerror(exc.errno) if exc.errno else exc)
        return None
    return floor


def _serve(ifname: str, foreground: bool, ready_fd) -> int:
    """ready_fd: where the parent waits for the setup report, or None (foreground)."""
    """Set up, report readiness on `ready_fd`, run the loop, clean up; -> exit status."""
    from wgpy.daemon import log as logmod
    from wgpy.daemon.loop import Loop
    from wgpy.runtime import heap

    heap.follow_live_size()

    log = logmod.setup(ifname, logmod.level_from_env(os.getenv("LOG_LEVEL") or ""),
                       use_syslog=not foreground)
    try:
        dev, tun, udp, listener = _setup(ifname)
    except Exception as exc:
        log.error("setup failed: %s", exc)
        _report(ready_fd, f"wgpyd: setup of {ifname} failed: {exc}".encode())
        return EXIT_SETUP_FAILED
    log.debug("device started on %s, UDP port %d", tun.name, udp.port)
    clock_floor = _start_clock_floor(dev, tun.name, log)
    # The C datapath is the default; WGPY_DATAPATH=python keeps every packet in the
    # sans-I/O core (for debugging only: it is far slower).
    fastpath = None
    if os.getenv("WGPY_DATAPATH") != "python":
        from wgpy.daemon.fastpath import FastPath
        fastpath = FastPath(dev, tun, udp, log)
    _report(ready_fd, _READY)
    try:
        reason = Loop(dev, tun, udp, listener, log, fastpath=fastpath,
                      clock_floor=clock_floor).run()
        log.debug("shutting down: %s", reason)
    finally:
        if fastpath is not None:
            fastpath.close()
        listener.close()
        udp.close()
        tun.close()
    return 0


def _report(ready_fd, message: bytes) -> None:
    if ready_fd is not None:
        system.write(ready_fd, message)
        system.close(ready_fd)


def _detach_stdio() -> None:
    null = system.open(system.devnull, system.O_RDWR)
    for fd in (0, 1, 2):
        system.dup2(null, fd)
    system.close(null)


def _daemonize(ifname: str) -> int:
    """Fork; the parent waits for the child's setup report and returns its exit status."""
    read_fd, write_fd = system.pipe()
    pid = system.fork()
    if pid == 0:
        system.close(read_fd)
        system.setsid()
        # Nothing may keep the caller's stdout/stderr open, or `$(wgpyd wg0)` would hang.
        _detach_stdio()
        status = EXIT_SETUP_FAILED
        try:
            status = _serve(ifname, foreground=False, ready_fd=write_fd)
        finally:
            system._exit(status)  # never return into the caller's code in the child
    system.close(write_fd)
    report = b""
    while chunk := system.read(read_fd, 4096):
        report += chunk
    system.close(read_fd)
    if report == _READY:
        return 0
    sys.stderr.write((report or b"wgpyd: the daemon died during setup").decode() + "\n")
    return EXIT_SETUP_FAILED


def main(argv=None) -> int:
    """Entry point of `wgpyd`."""
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:
        print(f"wgpyd v{__version__}")
        return 0
    if argv in (["-h"], ["--help"]):
        sys.stdout.write(USAGE_WGPYD)
        return 0
    parsed = _parse_args(argv)
    if parsed is None:
        sys.stderr.write(USAGE_WGPYD)
        return 2
    foreground, ifname = parsed
    if foreground or os.getenv("WG_PROCESS_FOREGROUND") == "1":
        return _serve(ifname, foreground=True, ready_fd=None)
    return _daemonize(ifname)


if __name__ == "__main__":      # `micropython -m wgpy.daemon.main` (bin/wgpyd-micropython)
    sys.exit(main())
