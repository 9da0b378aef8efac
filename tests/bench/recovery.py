"""Recovery time after `kill -9` of wgpyd, as root: the distribution over N kills during an
iperf3 transfer, under the real netifd (../shared/owrt; skipped when absent) and standalone
with `wgpy watchdog` run every 5 s (test_supervision.WATCHDOG_S; cron runs it every 60 s,
which adds up to 55 s). Recovery = from the kill until a new wgpyd serves the
tunnel with its address and /1 routes and a LAN ping crosses it (polled every ~0.1 s).

    sudo PYTHONPATH=tests:tests/router .venv/bin/python tests/bench/recovery.py \\
        [--kills N] [--mode netifd|standalone|both]
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile

import owrtlab
from routerlab import Lab, kill_and_recover
from test_supervision import ready, start_watchdog, whole_lan
from wgpy.uapi.client import peer_pid

BOUND_S = 60.0


def netifd(kills: int, tmp: pathlib.Path) -> list:
    lab = owrtlab.OwrtLab(tmp)
    (tmp / "config").mkdir()
    try:
        ifname = owrtlab.build(lab, extra="\toption killswitch '1'\n")
        owrtlab.wait_ready(lab, ifname)
        return kill_and_recover(lab, kills, lambda: lab.wgpyd_pid(ifname),
                                lambda: owrtlab.tunnel_ready(lab, ifname), BOUND_S, "netifd")
    finally:
        lab.close()


def standalone(kills: int, tmp: pathlib.Path) -> list:
    os.environ["WGPY_RUN_DIR"] = str(tmp / "run")  # our run records only (see conftest)
    lab = Lab(tmp)
    (tmp / "config").mkdir()
    try:
        ifname = whole_lan(lab, extra="\toption killswitch '1'\n")
        lab.wgpy(lab.R, "up", ifname)
        owrtlab.wait_for(lambda: ready(lab, ifname), "tunnel")
        start_watchdog(lab)
        times = kill_and_recover(lab, kills, lambda: peer_pid(ifname),
                                 lambda: ready(lab, ifname), BOUND_S, "standalone")
        lab.wgpy(lab.R, "down", ifname)
        return times
    finally:
        lab.close()


def report(name: str, times: list) -> None:
    times = sorted(times)
    deciles = statistics.quantiles(times, n=10) if len(times) > 1 else times
    print(f"{name}: {len(times)} kills, recovery s: min {times[0]:.2f}  median "
          f"{statistics.median(times):.2f}  p90 {deciles[-1]:.2f}  max {times[-1]:.2f}")
    print(f"  all: {' '.join(f'{t:.2f}' for t in times)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--mode", choices=("netifd", "standalone", "both"), default="both")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.stderr.write("recovery.py: needs root (network namespaces)\n")
        return 2
    if args.mode in ("netifd", "both"):
        reason = owrtlab.owrt.skip_reason()
        if reason:
            print(f"netifd: skipped: {reason}")
        else:
            with tempfile.TemporaryDirectory() as tmp:
                report("netifd (proto task)", netifd(args.kills, pathlib.Path(tmp)))
    if args.mode in ("standalone", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            report("standalone (`wgpy watchdog` every 5 s)",
                   standalone(args.kills, pathlib.Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
