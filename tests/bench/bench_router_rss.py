#!/usr/bin/env python3
"""What wgpy keeps resident on a router with one tunnel, beside wireguard-go, and what one
status call costs, measured on a throwaway OpenWrt router (../shared/owrt: the real netifd
and ubusd in namespaces, tests/router/owrtlab.py) on this machine (root).

    make bench-router [BENCH_ARGS="--runtime cpython --polls 20 --plugin-arch mipsel"]

Not a test: it never asserts and exits 0 unless the setup itself fails. Method, printed
again with every run:

* Runtime (--runtime, default micropython, what the package installs): wgpyd (the
  package's /usr/bin/wgpyd launcher), the `wgpy` command and rpcd's exec plugin (the
  package's launcher, bound at /usr/libexec/rpcd as tests/web/rpcdrig.py does) run on
  ../shared/micropython's interpreter; cpython: the venv's. The router runs the real
  ubusd, rpcd and netifd (`--daemons 'ubusd rpcd netifd'`), so the status call is
  `ubus call wgpy status` through rpcd, which runs the plugin; on MicroPython the plugin
  loads the package's .mpy files (build/mpy, from `make router-stage`), as on a router.
  --plugin-arch mipsel|armhf runs the plugin (only it) on the MicroPython and C core built
  for that CPU under qemu-user, the router's CPU emulated, against the same running wgpyd
  (its RSS is then qemu's too). "The plugin alone": the same call without ubus and rpcd,
  `echo {} | /usr/libexec/rpcd/wgpy call status` in the router.
* The router runs one wgpy interface (proto 'wgpy' under netifd, whole-LAN, one peer: the
  wireguard-go server in another namespace) and, in the same network namespace, a
  wireguard-go interface with one peer on the same server; each gets a handshake and 20
  pings through it before anything is measured.
* Status: the command is run POLLS times, one second apart, as the page polls; latency is
  the wall time of each run, from the host through nsenter (median, min-max). Its RSS is
  the peak (VmHWM) of the wgpy processes it starts in the router, read from /proc about
  every millisecond during SAMPLED further runs (not timed: the sampling takes CPU),
  summed over distinct command lines (a child forked to run `ip` shows its parent's until
  it execs, and shares its pages); a process shorter than that is missed, and the last
  reading before its exit may be a little under its true peak. The default command is the page's own
  call, `ubus call wgpy status` (an rpcd plugin answers it); without that ubus object it
  falls back to `wgpy status --json`, and says so.
* The watchdog (`wgpy watchdog`, what cron runs every minute): the same two figures over
  3 timed and 3 sampled runs, for what that choice costs.
* Resident: after the calls, VmRSS of every process wgpy keeps in the router (its command
  line names wgpy: wgpyd, a plugin or `wgpy` still running), summed, and VmRSS of
  wireguard-go.
"""

import argparse
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")

try:
    import wgpy  # noqa: F401
except ImportError:     # run by a Python without wgpy: use the project's venv
    if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.executable) != \
            os.path.realpath(VENV_PYTHON):
        os.execv(VENV_PYTHON, [VENV_PYTHON, *sys.argv])
    raise
sys.path[:0] = [os.path.join(REPO, "tests"), os.path.join(REPO, "tests", "router"),
                os.path.join(REPO, "tests", "web")]
from owrtlab import OwrtLab, build, owrt, wait_ready  # noqa: E402
from routerlab import ENDPOINT, SERVER_PORT, genkey, wait_for  # noqa: E402
import rpcdrig  # noqa: E402
from mpy import mpyrun  # noqa: E402

STATUS_COMMAND = "ubus call wgpy status"
FALLBACK_COMMAND = "wgpy status --json"
PLUGIN = "/usr/libexec/rpcd/wgpy"
WGGO_ADDRESS, WGGO_FAR = "10.79.0.1", "10.79.0.2"   # the wireguard-go tunnel's two ends


def kib(pid: int, key: str) -> int:
    """VmRSS or VmHWM of pid in KiB, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
    except (OSError, StopIteration):
        return 0


def wireguard_go_tunnel(lab: OwrtLab) -> int:
    """A wireguard-go interface in the router with the server as its peer, handshake done,
    pinged through; -> its PID."""
    ifname = lab.ifname("wgo")
    private, public = genkey()
    lab.run(lab.S, "wg", "set", lab.server_if, "peer", public, "allowed-ips",
            f"{WGGO_ADDRESS}/32")
    lab.run(lab.S, "ip", "addr", "add", f"{WGGO_FAR}/32", "dev", lab.server_if)
    lab.run(lab.S, "ip", "route", "add", f"{WGGO_ADDRESS}/32", "dev", lab.server_if)
    proc = lab.wireguard_go(lab.R, ifname, (
        f"[Interface]\nPrivateKey = {private}\n\n[Peer]\nPublicKey = {lab.server_public}\n"
        f"AllowedIPs = {WGGO_FAR}/32\nEndpoint = {ENDPOINT}:{SERVER_PORT}\n"
        "PersistentKeepalive = 25\n"), addresses=[f"{WGGO_ADDRESS}/32"],
        routes=[f"{WGGO_FAR}/32"])
    lab.run(lab.R, "ping", "-c20", "-i0.05", "-W2", WGGO_FAR)
    return proc.pid


def micropython_wgpyd(directory: pathlib.Path) -> str:
    """The package's wgpyd launcher with this tree's wgpy and C core (the environment a
    router has by its file layout; netifd runs it with its own)."""
    env = mpyrun.daemon_env()
    wrapper = directory / "wgpyd"
    wrapper.write_text(f"#!/bin/sh\nexport WGPY_MICROPYTHON={env['MICROPYTHON']} "
                       f"MICROPYPATH={env['MICROPYPATH']} WGPY_LIBWGCORE={env['WGPY_LIBWGCORE']}\n"
                       f"exec {REPO}/package/wgpy/files/wgpyd \"$@\"\n")
    wrapper.chmod(0o755)
    return str(wrapper)


def one_call(lab: OwrtLab, command: str, sample: bool) -> tuple:
    """One run of `command` in the router; -> (seconds, peak KiB of the wgpy processes it
    started, or 0 unless `sample`: sampling competes for the CPU, so those runs are not
    timed)."""
    before = set(lab.wgpy_processes()) if sample else set()
    peaks = {}
    start = time.monotonic()
    proc = subprocess.Popen(["nsenter", "-t", lab.pid, "-m", "-n", "-u", "--", "env",
                             "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "sh", "-c", command],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while proc.poll() is None:
        if sample:
            for pid, argv in lab.wgpy_processes().items():
                if pid not in before:   # a child forked to run `ip` is its parent until exec
                    key = tuple(argv)
                    peaks[key] = max(peaks.get(key, 0), kib(pid, "VmHWM"))
        time.sleep(0.001)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"`{command}` failed: {proc.stderr.read().decode()}")
    return seconds, sum(peaks.values())


def choose_command(lab: OwrtLab, command: str) -> str:
    if command == STATUS_COMMAND and lab.rx("ubus", "-t", "1", "list", "wgpy",
                                            check=False).returncode != 0:
        print(f"no ubus object `wgpy` on this router: `{STATUS_COMMAND}` falls back to "
              f"`{FALLBACK_COMMAND}`")
        return FALLBACK_COMMAND
    return command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--status-command", default=STATUS_COMMAND, metavar="CMD",
                        help="the status call, run by sh in the router (default: "
                             f"%(default)s; `{FALLBACK_COMMAND}` where there is no ubus "
                             "object wgpy)")
    parser.add_argument("--polls", type=int, default=10, help="timed status calls, 1 s apart")
    parser.add_argument("--sampled", type=int, default=3, help="status calls for the RSS")
    parser.add_argument("--runtime", choices=(rpcdrig.CPYTHON, rpcdrig.MICROPYTHON),
                        default=rpcdrig.MICROPYTHON, help="of wgpyd, wgpy and the plugin")
    parser.add_argument("--plugin-arch", choices=("x86_64", "mipsel", "armhf"),
                        default="x86_64", help="the plugin's CPU (micropython only; others "
                                               "under qemu-user)")
    args = parser.parse_args()
    if owrt.skip_reason():
        raise SystemExit(owrt.skip_reason())
    print(__doc__.split("Method, printed\nagain with every run:\n")[1].rstrip() + "\n")
    tmp = tempfile.TemporaryDirectory(prefix="bench-router-")
    (pathlib.Path(tmp.name) / "config").mkdir()
    lab = OwrtLab(pathlib.Path(tmp.name))
    here = pathlib.Path(tmp.name)
    try:    # mpyrun says what is missing (the interpreters: `make mpy-deps`) as a skip
        lib = None
        if args.runtime == rpcdrig.MICROPYTHON:
            subprocess.run(["make", "-s", "router-stage"], cwd=REPO, check=True)
            lib = pathlib.Path(REPO) / "build" / "mpy"
        options = "--daemons 'ubusd rpcd netifd' --bind " + rpcdrig.plugin_dir(
            here / "libexec", args.runtime, args.plugin_arch, lib) + ":/usr/libexec/rpcd"
        if args.runtime == rpcdrig.MICROPYTHON:
            lab.CLI = "micropython"
            options += f" --bind {micropython_wgpyd(here)}:/usr/bin/wgpyd"
    except pytest.skip.Exception as exc:
        raise SystemExit(f"--runtime {args.runtime}: {exc}") from None
    try:
        ifname = build(lab, options=options)
        wait_ready(lab, ifname)
        lab.rx("ubus", "-t", "30", "wait_for", "wgpy")  # rpcd ran the plugin's `list`
        lab.rx("ping", "-c20", "-i0.05", "-W2", "10.77.0.2")
        wggo = wireguard_go_tunnel(lab)
        command = choose_command(lab, args.status_command)
        calls = []
        for i in range(args.polls + args.sampled):
            calls.append(one_call(lab, command, sample=i >= args.polls))
            time.sleep(1.0)
        alone = sorted(one_call(lab, f"echo {{}} | {PLUGIN} call status", False)[0]
                       for _ in range(5))
        watchdog = [one_call(lab, "wgpy watchdog", sample=i >= 3) for i in range(6)]
        wait_for(lambda: len(lab.wgpy_processes()) == 1, "only wgpyd left", timeout=10)
        resident = {pid: (argv, kib(pid, "VmRSS")) for pid, argv in lab.wgpy_processes().items()}
        latencies = sorted(s for s, _ in calls[:args.polls])
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs (shared); runtime of "
              f"wgpyd, wgpy and the plugin: {args.runtime}; the plugin's CPU: "
              f"{args.plugin_arch if args.runtime == rpcdrig.MICROPYTHON else 'x86_64'}\n")
        print(f"{'what':52} {'figure':>24}")
        for pid, (argv, rss) in resident.items():
            name = " ".join(os.path.basename(a) for a in argv[:6])
            print(f"{'resident: ' + name:52} {rss / 1024:>20.1f} MiB")
        print(f"{'resident: every wgpy process, total':52} "
              f"{sum(r for _, r in resident.values()) / 1024:>20.1f} MiB")
        print(f"{'wireguard-go, one tunnel (same run)':52} {kib(wggo, 'VmRSS') / 1024:>20.1f} MiB")
        print(f"{'status call: ' + command:52} {args.polls:>20} runs")
        print(f"{'  latency, median (min-max)':52} {statistics.median(latencies) * 1000:>8.0f} ms "
              f"({latencies[0] * 1000:.0f}-{latencies[-1] * 1000:.0f})")
        print(f"{'  RSS of the processes it starts, peak':52} "
              f"{max(r for _, r in calls) / 1024:>20.1f} MiB")
        print(f"{'  the plugin alone (no ubus, rpcd), median (min-max)':52} "
              f"{alone[2] * 1000:>8.0f} ms ({alone[0] * 1000:.0f}-{alone[-1] * 1000:.0f})")
        seconds = sorted(s for s, _ in watchdog[:3])
        print(f"{'watchdog run (cron, every minute): wgpy watchdog':52} {3:>20} runs")
        print(f"{'  wall time, median (min-max)':52} {seconds[1] * 1000:>8.0f} ms "
              f"({seconds[0] * 1000:.0f}-{seconds[-1] * 1000:.0f})")
        print(f"{'  RSS, peak':52} {max(r for _, r in watchdog) / 1024:>20.1f} MiB")
    finally:
        lab.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
