"""wgpyd under adverse conditions, against wireguard-go: roaming to a new outer address,
restart of wgpyd alone, a handshake flood (cookie replies), a replayed data packet, and
wrong keys. (Topology: see conftest.py.)"""

import os
import signal
import subprocess
import sys
import time

import pytest

from support.keys import genkey
from support.pair import PORT, TOOLS, configure, make_pair, ping

pytestmark = pytest.mark.netns

FLOOD_SOURCE = "10.66.0.9"  # a second address in ns B: wireguard-go's own IP is not rate-limited


def test_roaming_wgpyd_changes_outer_address(lab):
    a, b = make_pair(lab, "wireguard-go", 4)
    assert ping(a, b.inner[0])
    assert b.peer_stats(a)["endpoint"] == f"{a.outer[0]}:{PORT}"
    # Without promotion, deleting the primary address would take the new one with it.
    a.ns.run("sysctl", "-q", "-w", "net.ipv4.conf.vA.promote_secondaries=1")
    a.ns.run("ip", "addr", "add", "10.66.0.3/24", "dev", "vA")
    a.ns.run("ip", "addr", "del", f"{a.outer[0]}/24", "dev", "vA")
    assert ping(a, b.inner[0], count=3)
    assert b.peer_stats(a)["endpoint"] == f"10.66.0.3:{PORT}"
    assert ping(b, a.inner[1], count=2)  # and wireguard-go's replies follow the new address


def test_replies_leave_from_the_address_the_peer_used(lab):
    a, b = make_pair(lab, "wireguard-go", 4)
    a.ns.run("ip", "addr", "add", "10.66.0.4/24", "dev", "vA")  # secondary: never the default
    b.wg("set", b.ifname, "peer", a.public, "endpoint", f"10.66.0.4:{PORT}")
    assert ping(b, a.inner[0]) and ping(a, b.inner[0], count=2)
    assert b.peer_stats(a)["endpoint"] == f"10.66.0.4:{PORT}"


def test_restart_wgpyd_session_recovers(lab):
    a, b = make_pair(lab, "wireguard-go", 4)
    assert ping(a, b.inner[0])
    first = b.peer_stats(a)["handshake"]
    a.proc.send_signal(signal.SIGTERM)
    assert a.proc.wait(5) == 0
    assert not os.path.exists(f"/var/run/wireguard/{a.ifname}.sock")
    lab.start(a)
    configure(a, b, 4)
    assert ping(a, b.inner[0], count=3)
    assert b.peer_stats(a)["handshake"] >= first
    assert a.peer_stats(b)["handshake"] > 0


def test_handshake_flood_gets_cookies_and_real_peer_still_connects(lab):
    a, b = make_pair(lab, "wireguard-go", 4)
    b.ns.run("ip", "addr", "add", f"{FLOOD_SOURCE}/24", "dev", "vB")
    flood = b.ns.spawn(sys.executable, os.path.join(TOOLS, "flood.py"), FLOOD_SOURCE,
                       a.outer[0], str(PORT), a.public, "8", "400", stdout=subprocess.PIPE)
    time.sleep(1)  # let the flood put wgpyd under load before wireguard-go's first initiation
    assert ping(b, a.inner[0], wait_s=14), "real peer could not handshake during the flood"
    sent, cookie_replies = map(int, flood.communicate(timeout=20)[0].split())
    assert sent > 1000 and cookie_replies > 0
    assert a.proc.poll() is None and a.peer_stats(b)["handshake"] > 0


def test_replayed_data_packet_is_dropped(lab):
    a, b = make_pair(lab, "wireguard-go", 4)
    capture = b.ns.spawn(sys.executable, os.path.join(TOOLS, "replay.py"), "capture", "vB",
                         str(PORT), stdout=subprocess.PIPE)
    assert capture.stdout.readline().strip() == "ready"
    assert ping(a, b.inner[0])            # the echo reply wireguard-go sends is captured
    frame = capture.communicate(timeout=10)[0].strip()
    assert frame
    rx_before = a.peer_stats(b)["rx"]
    arrivals = a.ns.spawn(sys.executable, os.path.join(TOOLS, "replay.py"), "count", "vA", frame,
                          "1.5", stdout=subprocess.PIPE)
    assert arrivals.stdout.readline().strip() == "ready"
    b.ns.run(sys.executable, os.path.join(TOOLS, "replay.py"), "inject", "vB", frame, "3")
    assert arrivals.communicate(timeout=10)[0].strip() == "3"  # they did reach wgpyd's host
    assert a.peer_stats(b)["rx"] == rx_before
    assert ping(a, b.inner[0])            # and the session is unharmed


def test_matching_psk_connects(lab):
    psk = genkey()[0]
    a, b = make_pair(lab, "wireguard-go", 4, a={"psk": psk}, b={"psk": psk})
    assert ping(b, a.inner[0]) and ping(a, b.inner[1])
    assert a.peer_stats(b)["psk"] == psk


@pytest.mark.parametrize("mismatch", ["public_key", "preshared_key"])
def test_wrong_key_never_gets_a_session(lab, mismatch):
    psk, other_psk, wrong_public = genkey()[0], genkey()[0], genkey()[1]
    options = ({"a": {"peer_public": wrong_public}} if mismatch == "public_key" else
               {"a": {"psk": psk}, "b": {"psk": other_psk}})
    a, b = make_pair(lab, "wireguard-go", 4, **options)
    assert not ping(a, b.inner[0], wait_s=2)
    assert not ping(b, a.inner[0], wait_s=2)
    assert b.peer_stats(a)["handshake"] == 0
    assert all(peer["handshake"] == 0 for peer in a.dump()["peers"].values())
    assert a.proc.poll() is None
