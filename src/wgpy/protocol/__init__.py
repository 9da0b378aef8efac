"""wgpy.protocol: the sans-I/O WireGuard core.

Rule 1: nothing here touches sockets, TUN, threads, logging handlers or the
real clock; time arrives as `now` (monotonic seconds) and wall time through
an injected callable. Rule 2: only the stdlib, wgpy.crypto and
wgpy.runtime (for what MicroPython's stdlib lacks) are imported; the same
files run on CPython and MicroPython.
The entry point is wgpy.protocol.device.Device (see docs/device-api.md).
"""
