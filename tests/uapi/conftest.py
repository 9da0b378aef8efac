"""Fixtures for the UAPI tests: a real protocol Device with a fixed clock and keys."""

import pytest


@pytest.fixture
def dev():
    device_module = pytest.importorskip("wgpy.protocol.device")
    return device_module.Device(rng=lambda n: b"\x42" * n, wall_clock=lambda: 1_700_000_000.25)


class FakeNetwork:
    """Stands in for the daemon's UDP sockets: records rebinds, can be told to fail."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def rebind(self, listen_port, fwmark):
        self.calls.append((listen_port, fwmark))
        if self.fail:
            raise OSError(98, "Address already in use")
        return listen_port or 40000


@pytest.fixture
def net():
    return FakeNetwork()
