"""wgpyd as a router runs it: MicroPython with the C core cross-built for the router's CPU
(MIPS32r2 LE, ARMv7; under qemu-user), started by its launcher, against wireguard-go in
the interop lab (support/pair.py): a real handshake, then a TCP transfer through the
tunnel whose bytes all arrive."""

import os

import pytest

from support.netns import skip_reason
from support.pair import Lab, make_pair, ping, tcp_transfer

from . import mpyrun

pytestmark = [pytest.mark.netns, pytest.mark.cross]
TRANSFER_BYTES = 4 << 20    # qemu emulates every instruction of the C datapath: kept modest


@pytest.fixture
def router_lab(tmp_path, monkeypatch, request):
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    for name, value in mpyrun.daemon_env(request.param).items():
        monkeypatch.setenv(name, value)
    lab = Lab(tmp_path, str(mpyrun.WGPYD))
    yield lab
    lab.close()


@pytest.mark.parametrize("router_lab", ["mipsel", "armhf"], indirect=True)
def test_handshake_and_tcp_transfer_with_wireguard_go(router_lab):
    a, b = make_pair(router_lab, "wireguard-go", 4)
    assert os.path.basename(os.readlink(f"/proc/{a.proc.pid}/exe")).startswith("qemu-")
    assert ping(a, b.inner[0], wait_s=20)
    assert b.peer_stats(a)["handshake"] > 0
    tcp_transfer(a, b, b.inner[0], TRANSFER_BYTES, timeout=180)
    assert b.peer_stats(a)["rx"] > TRANSFER_BYTES
