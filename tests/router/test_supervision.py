"""Standalone (no netifd): `wgpy up` and `wgpy watchdog` (what cron runs every minute;
crond itself is not here, the test runs the command on a timer) against wireguard-go in
namespaces (routerlab.py): recovery from `kill -9` of wgpyd, reconciliation with the
kernel instead of the record of a dead run, the kill switch, concurrent reloads."""

import os
import signal
import subprocess
import sys
import threading

import pytest
from routerlab import PYTHON, genkey, kill_and_recover, wait_for
from test_end_to_end import network_config, server_peer_section, write
from wgpy.uapi.client import peer_pid

pytestmark = pytest.mark.netns

KILLS = 20
RECOVERY_BOUND_S = 30.0
WATCHDOG_S = 5.0   # cron's step is a minute; closer here so 20 recoveries take minutes


def whole_lan(lab, extra: str = "") -> str:
    lab.build(lan=True)
    ifname = lab.ifname()
    private, public = genkey()
    lab.start_server(public, "10.77.0.1/32, 192.168.77.0/24")
    write(lab, network_config(ifname, private, server_peer_section(
        ifname, lab.server_public, allowed="0.0.0.0/0",
        extra="\toption route_allowed_ips '1'\n\toption persistent_keepalive '5'\n"),
        extra=extra))
    return ifname


def ready(lab, ifname: str) -> bool:
    addrs = lab.run(lab.R, "ip", "-4", "addr", "show", "dev", ifname, check=False).stdout
    routes = lab.run(lab.R, "ip", "-4", "route", "show", "dev", ifname, check=False).stdout
    return ("10.77.0.1/24" in addrs and "0.0.0.0/1" in routes and "128.0.0.0/1" in routes
            and lab.ok(lab.L, "ping", "-c1", "-W1", "10.99.0.1"))


def start_watchdog(lab) -> threading.Event:
    """Run `wgpy watchdog` in R every WATCHDOG_S until the returned event is set."""
    stop = threading.Event()
    cmd = ["ip", "netns", "exec", lab.R, PYTHON, "-m", "wgpy.cli", "-c",
           str(lab.tmp_path / "config"), "watchdog"]

    def cron():
        with open(lab.tmp_path / "watchdog.log", "w") as log:
            while not stop.is_set():
                subprocess.run(cmd, stdout=log, stderr=log, timeout=120)
                stop.wait(WATCHDOG_S)

    thread = threading.Thread(target=cron, daemon=True)
    thread.start()
    lab.closers.append(lambda: (stop.set(), thread.join()))
    return stop


def test_up_after_kill9_restores_addresses_and_routes(lab):
    """The record of the dead run says the addresses are there; the kernel says not."""
    ifname = whole_lan(lab, extra="\toption mtu '1380'\n")
    lab.wgpy(lab.R, "up", ifname)
    wait_for(lambda: ready(lab, ifname), "tunnel")
    os.kill(peer_pid(ifname), signal.SIGKILL)
    wait_for(lambda: not lab.ok(lab.R, "ip", "link", "show", ifname), "link gone")
    assert os.path.exists(lab.tmp_path / "run" / f"{ifname}.json")  # the stale record
    lab.wgpy(lab.R, "up", ifname)
    wait_for(lambda: ready(lab, ifname), "tunnel back, complete", timeout=20)
    assert "mtu 1380" in lab.run(lab.R, "ip", "link", "show", ifname).stdout
    host = lab.run(lab.R, "ip", "route", "show", "10.55.0.1").stdout
    assert "via 10.66.0.2" in host, host
    lab.wgpy(lab.R, "down", ifname)


def test_concurrent_reloads_are_serialised(lab):
    ifname = whole_lan(lab)
    lab.wgpy(lab.R, "up", ifname)
    cmd = ["ip", "netns", "exec", lab.R, PYTHON, "-m", "wgpy.cli", "-c",
           str(lab.tmp_path / "config"), "reload", ifname]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(8)]
    outcomes = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    assert all(rc == 0 for rc, _ in outcomes), outcomes
    assert not [n for n in os.listdir(lab.tmp_path / "run") if n.startswith(f"{ifname}.json.")]
    assert ready(lab, ifname)
    lab.wgpy(lab.R, "down", ifname)


def leak_counter(lab) -> int:
    out = lab.run(lab.S, "nft", "list", "table", "inet", "wgpyleak").stdout
    return int(out.split("packets ")[1].split()[0])


def test_killswitch_survives_kill9_and_is_undone_by_down_and_by_option_off(lab):
    ifname = whole_lan(lab, extra="\toption killswitch '1'\n")
    lab.run(lab.S, "nft", "-f", "-", input=(
        "table inet wgpyleak {\n chain in {\n  type filter hook prerouting priority -300;\n"
        "  iifname \"vSW\" ip saddr 192.168.77.0/24 counter\n }\n}\n"))
    lab.wgpy(lab.R, "up", ifname)
    wait_for(lambda: ready(lab, ifname), "tunnel")
    table = f"wgpy_ks_{ifname}"
    assert lab.ok(lab.R, "nft", "list", "table", "inet", table)
    os.kill(peer_pid(ifname), signal.SIGKILL)  # no supervisor: the tunnel stays down
    wait_for(lambda: not lab.ok(lab.R, "ip", "link", "show", ifname), "link gone")
    assert not lab.ok(lab.L, "ping", "-c3", "-i0.2", "-W1", "10.99.0.1")
    assert leak_counter(lab) == 0
    lab.wgpy(lab.R, "up", ifname)  # through the tunnel again
    wait_for(lambda: ready(lab, ifname), "tunnel back", timeout=20)
    lab.wgpy(lab.R, "down", ifname)
    assert not lab.ok(lab.R, "nft", "list", "table", "inet", table)
    # without it, the same outage leaks (so the counter above could have seen one)
    lab.ok(lab.L, "ping", "-c1", "-W2", "10.99.0.1")
    assert leak_counter(lab) > 0
    # on again, then turned off by a reload
    lab.wgpy(lab.R, "up", ifname)
    assert lab.ok(lab.R, "nft", "list", "table", "inet", table)
    config = lab.tmp_path / "config" / "network"
    config.write_text(config.read_text().replace("option killswitch '1'", ""))
    lab.wgpy(lab.R, "reload", ifname)
    assert not lab.ok(lab.R, "nft", "list", "table", "inet", table)
    lab.wgpy(lab.R, "down", ifname)


@pytest.mark.slow
def test_kill9_during_iperf3_20_times_with_the_watchdog(lab):
    ifname = whole_lan(lab, extra="\toption killswitch '1'\n")
    lab.wgpy(lab.R, "up", ifname)
    wait_for(lambda: ready(lab, ifname), "tunnel")
    start_watchdog(lab)
    times = kill_and_recover(lab, KILLS, lambda: peer_pid(ifname), lambda: ready(lab, ifname),
                             RECOVERY_BOUND_S, "standalone, `wgpy watchdog` every 5 s")
    assert len(times) == KILLS
    print(f"standalone recovery s: {sorted(round(t, 2) for t in times)}", file=sys.stderr)
    lab.wgpy(lab.R, "down", ifname)
