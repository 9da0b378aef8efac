"""A handshake-initiation flood from many spoofed sources against wgpyd (C data path) in a
namespace: wgpyd answers with cookie replies instead of doing Diffie-Hellman, its CPU use
stays bounded, and a real wireguard-go peer still completes a handshake within 10 seconds.

      ns A: wgpyd  vA 10.66.0.1  <veth>  vB 10.66.0.2  ns B: wireguard-go + spoof_flood.py
      route 10.200.0.0/16 via vB          10.200.0.0/16 local (sources of the flood)

Figures (sent/s, cookie replies/s, CPU) are printed and written to build/hardening/flood.json.
WGPY_FLOOD_RATE and WGPY_FLOOD_SECONDS change the offered load (default 4000/s for 10 s:
well under the ~8,400/s wgpyd holds on an idle 2-core VM, so a busy CI machine still passes).
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from support.pair import PORT, Lab, make_pair

pytestmark = pytest.mark.netns

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools")
RATE = float(os.environ.get("WGPY_FLOOD_RATE", "4000"))
SECONDS = float(os.environ.get("WGPY_FLOOD_SECONDS", "10"))
OUT = pathlib.Path(__file__).resolve().parents[2] / "build" / "hardening"


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def handshake_cost() -> float:
    """CPU seconds wgpy spends consuming one genuine initiation (2 X25519 + AEAD) in-process:
    the work a flood would cost without cookies."""
    from wgtestlib import Pair
    from wgpy.protocol import messages, noise
    pair = Pair(seed=7)
    pair.pb.send_handshake_initiation(pair.now, is_retry=False)
    data = next(p for p, _ in pair.a.datagrams_to_send())
    msg = messages.parse(data)
    start = time.process_time()
    for _ in range(50):
        noise.consume_initiation(msg, pair.b_priv, pair.b_pub, pair.b.peers.get, pair.now)
    return (time.process_time() - start) / 50


def test_spoofed_initiation_flood(tmp_path):
    lab = Lab(tmp_path)
    try:
        a, b = make_pair(lab, "wireguard-go", 4)
        a.ns.run("ip", "route", "add", "10.200.0.0/16", "via", b.outer[0])
        b.ns.run("ip", "route", "add", "local", "10.200.0.0/16", "dev", "lo")
        pid = a.proc.pid
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        flood = b.ns.spawn(sys.executable, os.path.join(TOOLS, "spoof_flood.py"), a.outer[0],
                           str(PORT), a.public, str(SECONDS), str(RATE), "10.200",
                           stdout=subprocess.PIPE)
        time.sleep(1.5)     # under load before wireguard-go's first initiation
        b.ns.spawn("ping", "-n", "-q", "-c", "1", "-W", "12", a.inner[0])
        asked = time.monotonic()
        handshake_after = None
        while time.monotonic() - asked < 12:
            if b.peer_stats(a)["handshake"] > 0:
                handshake_after = time.monotonic() - asked
                break
            time.sleep(0.2)
        result = json.loads(flood.communicate(timeout=SECONDS + 30)[0])
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        assert a.proc.poll() is None, "wgpyd died under the flood"
        cpu_share = (cpu1 - cpu0) / (t1 - t0)
        per_packet = (cpu1 - cpu0) / max(result["sent"], 1)
        cost = handshake_cost()
        figures = dict(result, offered_rate=RATE, sent_per_s=result["sent"] / result["seconds"],
                       replies_per_s=result["replies"] / result["seconds"],
                       wgpyd_cpu_s=round(cpu1 - cpu0, 2), wall_s=round(t1 - t0, 2),
                       wgpyd_cpu_share=round(cpu_share, 3),
                       wgpyd_cpu_us_per_flood_packet=round(per_packet * 1e6, 1),
                       handshake_consume_cpu_us=round(cost * 1e6, 1),
                       real_peer_handshake_s=handshake_after)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "flood.json").write_text(json.dumps(figures, indent=1) + "\n")
        print(json.dumps(figures))
        assert result["sources"] > 1000 and result["replies"] > 0, figures
        assert handshake_after is not None and handshake_after < 10, figures
        # Bounded: at most the one Python loop plus the data path's RX thread, whatever the
        # offered rate (the kernel drops what the loop cannot take). Per packet the cookie path
        # costs about what consuming a genuine initiation does (Python overhead dominates both),
        # which docs/security.md reports rather than asserts.
        assert cpu_share < 1.6, figures
    finally:
        lab.close()
