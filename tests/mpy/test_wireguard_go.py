"""wgpy.protocol under MicroPython against the real thing: a MicroPython process
(tests/mpy/wg_echo.py: Device, a UDP socket, select.poll) completes a handshake with
wireguard-go on loopback inside a network namespace and gets an ICMP echo reply
through the tunnel, on x86_64 and, under qemu-user, on MIPS32r2 LE and ARMv7."""

import base64
import os
import shutil
import subprocess
import time

import pytest

from wgpy import crypto

from . import mpyrun

pytestmark = pytest.mark.netns
PORT = 51999


def ip(*argv, check=True):
    return subprocess.run(["ip", *argv], check=check, capture_output=True, text=True)


@pytest.fixture
def wireguard_go(tmp_path):
    """wireguard-go as wgm0 (10.77.0.1) in a fresh namespace; yields (netns, its key pair)."""
    if os.geteuid() != 0 or not shutil.which("wireguard-go") or not shutil.which("wg"):
        pytest.skip("needs root, wireguard-go and wg (make apt-deps)")
    ns = f"wgmpy{os.getpid()}"
    ip("netns", "add", ns)
    proc = None
    try:
        ip("-n", ns, "link", "set", "lo", "up")
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "wireguard-go", "-f", "wgm0"],
                                env=dict(os.environ, WG_PROCESS_FOREGROUND="1"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while ip("-n", ns, "link", "show", "wgm0", check=False).returncode != 0:
            assert time.monotonic() < deadline and proc.poll() is None, "wireguard-go did not start"
            time.sleep(0.05)
        private = crypto.generate_private_key()
        key_file = tmp_path / "go.key"
        key_file.write_text(base64.b64encode(private).decode())
        yield ns, private, crypto.public_key(private)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        ip("netns", "del", ns, check=False)


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_handshake_and_ping_through_wireguard_go(arch, wireguard_go, tmp_path):
    ns, _, go_public = wireguard_go
    ours = crypto.generate_private_key()
    subprocess.run(["ip", "netns", "exec", ns, "wg", "set", "wgm0", "private-key", str(tmp_path / "go.key"),
                    "listen-port", str(PORT), "peer", base64.b64encode(crypto.public_key(ours)).decode(),
                    "allowed-ips", "10.77.0.2/32"], check=True)
    ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "wgm0")
    ip("-n", ns, "link", "set", "wgm0", "up")
    result = mpyrun.run(arch, mpyrun.ROOT / "tests" / "mpy" / "wg_echo.py", ours.hex(), go_public.hex(), PORT,
                        timeout=120, prefix=("ip", "netns", "exec", ns))
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "echo reply: wgpy-on-micropython" in result.stdout
    handshakes = subprocess.run(["ip", "netns", "exec", ns, "wg", "show", "wgm0", "latest-handshakes"],
                                check=True, capture_output=True, text=True).stdout.split()
    assert int(handshakes[1]) > 0
