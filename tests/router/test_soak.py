"""Soak: six minutes of bidirectional TCP (two iperf3 streams, one each way) through a
`wgpy up` tunnel to wireguard-go, across at least two rekeys (REKEY_AFTER_TIME is 120 s;
there is no knob to shorten it): no one-second interval without data in either direction,
and no growth of wgpyd's resident memory after the first minute. The per-second reports
are read as iperf3 prints them (--forceflush), and the clients are stopped at the end
rather than waiting for iperf3's closing exchange on its idle control connection."""

import os
import re
import subprocess
import sys
import time

import pytest
from routerlab import wait_for
from test_end_to_end import network_config, router, server_peer_section, write
from wgpy.uapi.client import is_live

BIN = os.path.dirname(sys.executable)  # the venv's: wgpyd sits beside python

pytestmark = [pytest.mark.netns, pytest.mark.slow]

DURATION_S = 360
RATE = "20M"  # per direction: a steady load that leaves the shared CI cores some room
RSS_SLACK_KB = 2048  # allocator noise, not a leak (a leak grows with every packet)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


INTERVAL = re.compile(r"\]\s+(\d+\.\d+)-(\d+\.\d+)\s+sec\s+([\d.]+) (\w?)Bytes")


def per_second(text: str) -> list:
    """Bytes moved in each one-second interval of an iperf3 text report (-i 1)."""
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    out = []
    for match in INTERVAL.finditer(text):
        start, end = float(match.group(1)), float(match.group(2))
        if end - start <= 1.5:  # not the summary line
            out.append(float(match.group(3)) * scale[match.group(4)])
    return out


def start_wgpyd(lab, ifname: str) -> subprocess.Popen:
    """wgpyd in the foreground with its log kept (`wgpy up` then finds it running and
    configures it), so that a failure shows what the daemon said."""
    log = open(lab.tmp_path / "wgpyd.log", "w")
    proc = subprocess.Popen(["ip", "netns", "exec", lab.R, os.path.join(BIN, "wgpyd"), "-f",
                             ifname], stdout=log, stderr=log,
                            env=dict(os.environ, LOG_LEVEL="verbose"))
    lab.procs.append(("proc", proc))
    wait_for(lambda: is_live(ifname), "wgpyd", proc=proc)
    return proc


def test_six_minutes_bidirectional_across_rekeys(lab):
    ifname, private = router(lab)
    write(lab, network_config(ifname, private, server_peer_section(ifname, lab.server_public)))
    daemon = start_wgpyd(lab, ifname)
    lab.wgpy(lab.R, "up", ifname)
    assert lab.ok(lab.R, "ping", "-c1", "-W5", "10.77.0.2")
    pid = daemon.pid
    clients = {}
    for direction, port, extra in (("up", 5201, []), ("down", 5202, ["-R"])):
        lab.iperf3_server("10.77.0.2", port)
        out = open(lab.tmp_path / f"iperf3-{direction}.txt", "w")
        clients[direction] = subprocess.Popen(
            ["ip", "netns", "exec", lab.R, "iperf3", "-c", "10.77.0.2", "-p", str(port),
             "-b", RATE, "-t", str(DURATION_S + 30), "-i", "1", "--forceflush", *extra],
            stdout=out, stderr=subprocess.STDOUT)
        lab.procs.append((f"iperf3-{direction}", clients[direction]))
    handshakes, rss = set(), {}
    start = time.monotonic()
    while time.monotonic() - start < DURATION_S:
        assert all(c.poll() is None for c in clients.values()), "iperf3 stopped early"
        assert daemon.poll() is None, (f"wgpyd exited ({daemon.returncode}) after "
                                       f"{time.monotonic() - start:.0f} s: "
                                       f"{(lab.tmp_path / 'wgpyd.log').read_text()[-3000:]}")
        dump = lab.run(lab.S, "wg", "show", lab.server_if, "latest-handshakes").stdout.split()
        if len(dump) > 1 and dump[1] != "0":
            handshakes.add(int(dump[1]))
        rss[int(time.monotonic() - start)] = rss_kb(pid)
        time.sleep(5)
    for direction, client in clients.items():
        client.kill()
        client.wait()
        seconds = per_second((lab.tmp_path / f"iperf3-{direction}.txt").read_text())
        assert len(seconds) >= DURATION_S - 10, (direction, len(seconds))
        stalled = [n for n, moved in enumerate(seconds) if moved == 0]
        assert not stalled, f"{direction}: seconds without data: {stalled}"
    # the first handshake and at least two rekeys (one every ~120 s)
    assert len(handshakes) >= 3, sorted(handshakes)
    settled = [kb for t, kb in sorted(rss.items()) if t >= 60]
    assert settled[-1] <= settled[0] + RSS_SLACK_KB, (settled[0], settled[-1])
    print(f"soak: {len(handshakes)} handshakes seen, wgpyd RSS {settled[0]} -> "
          f"{settled[-1]} kB", file=sys.stderr)
    lab.wgpy(lab.R, "down", ifname)
