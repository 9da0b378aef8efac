#!/usr/bin/env python3
"""wgpyd on CPython beside wgpyd on MicroPython, with wireguard-go for scale (root).

    make bench-runtime [BENCH_ARGS=--quick|--full]
    (= PYTHONPATH=tests python tests/bench/bench_runtime.py)

Not a test: it never asserts. The lab, the measurements and their method are
bench_tunnel.py's (its docstring); what differs is what is compared: the same wgpyd source
started as the CPython console script `wgpyd` and as the MicroPython launcher
src/wgpy/daemon/wgpyd-micropython (this tree's build/libwgcore.so, WGPY_HEAP as set, else
the launcher's default), each in a pair with itself, and wireguard-go beside them.

* RSS: VmRSS of the daemon process idle with 1 peer (after a ping) and with 1,000 peers
  (the handshake responder before the flood).
* TCP and 64-byte UDP through the tunnel (iperf3), runs interleaved round-robin.
* Handshakes per second as responder with 1,000 peers (tests/bench/handshake_flood.py).
"""

import os
import sys
import time

import bench_tunnel as bench     # the venv switch, the lab and the measurements
from bench_tunnel import med, netns, table

from support.procs import LabError, stop_pid

# The daemons compared, each in a pair with itself.
RUNTIMES = ("CPython", "MicroPython", "wireguard-go")


def micropython_wgpyd():
    """The launcher, with this tree's MicroPython settings put in our environment (the
    lab's daemons inherit it); None, with the reason printed, when MicroPython is absent."""
    import pytest

    from mpy import mpyrun

    try:
        env = mpyrun.daemon_env()
    except pytest.skip.Exception as exc:
        print(f"bench_runtime: no MicroPython: {exc}", file=sys.stderr)
        return None
    os.environ.update(env)
    return str(mpyrun.WGPYD)


def start_pair(lab, runtime: str, program):
    """A pair of one runtime with itself, up and handshaken (bench_tunnel.Pair)."""
    if program is not None:
        lab.wgpyd = program
    kind = "wireguard-go" if program is None else "wgpyd"
    return bench.Pair(lab, kind, kind)


def main() -> int:
    _, runs, secs, hs_secs = bench.durations(__doc__)
    if os.geteuid() != 0:
        print("bench_runtime: needs root (network namespaces)", file=sys.stderr)
        return 1
    programs = {"CPython": bench.WGPYD, "MicroPython": micropython_wgpyd(),
                "wireguard-go": None}
    if programs["MicroPython"] is None:
        return 1
    print("== wgpyd: CPython vs MicroPython (wireguard-go for scale) ==")
    print("\n".join(bench.machine_info()))
    print(f"MicroPython: {os.environ['MICROPYTHON']}, heap {os.environ.get('WGPY_HEAP', 'the launcher default')}"
          f", C core {os.environ['WGPY_LIBWGCORE']}")
    print(f"method: iperf3 {runs} run(s) x {secs} s per case, handshake flood {hs_secs:.0f} s "
          "(bench_tunnel.py's method; 2 cores shared with other work, so expect noise)")
    print(flush=True)
    lab = netns.Lab(f"wgpyr{os.getpid() % 100000}")
    started = time.monotonic()
    try:
        return _bench(lab, programs, runs, secs, hs_secs, started)
    except LabError as exc:
        print(f"bench_runtime: setup failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench_runtime: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        lab.close()


def _bench(lab, programs: dict, runs: int, secs: int, hs_secs: float, started: float) -> int:
    pairs = {rt: start_pair(lab, rt, programs[rt]) for rt in RUNTIMES}
    time.sleep(1.0)
    idle1 = {rt: pairs[rt].status(0)["VmRSS"] for rt in RUNTIMES}
    tcp = {rt: [] for rt in RUNTIMES}
    udp = {rt: [] for rt in RUNTIMES}
    print(f"TCP and 64-byte UDP: {len(RUNTIMES)} pairs x {runs} runs ...", flush=True)
    for r in range(runs):
        for rt in RUNTIMES:
            tcp[rt].append(bench.tcp_mbps(bench.iperf(pairs[rt].ns[0], "10.77.0.2",
                                                      ["-O", "1"], secs)))
            udp[rt].append(bench.udp_pps(bench.iperf(
                pairs[rt].ns[0], "10.77.0.2",
                ["-u", "-l", "64", "-b", "0", "--get-server-output"], secs + 1)))
            print(f"  run {r + 1} {rt}: TCP {tcp[rt][-1] or 0:.0f} Mbit/s, "
                  f"UDP {udp[rt][-1] or 0:.0f} pps", flush=True)
    for pair in pairs.values():     # free the cores before the handshake runs
        for _, proc in pair.daemons:
            stop_pid(proc.pid, proc)

    print(f"handshakes: {bench.N_PEERS}-peer responders ...", flush=True)
    idle1000, hs = {}, {}
    for rt in RUNTIMES:
        if programs[rt] is not None:
            lab.wgpyd = programs[rt]
        status, hs[rt] = bench.handshake_bench(
            lab, "wireguard-go" if programs[rt] is None else "wgpyd", hs_secs, 1.5)
        idle1000[rt] = status["VmRSS"]
        print(f"  {rt}: {hs[rt].get('rate') or 0:.0f} handshakes/s, responder CPU "
              f"{100 * hs[rt]['responder_cpu']:.0f}% {hs[rt].get('error', '')}", flush=True)

    def mib(kib):
        return f"{kib / 1024:.1f}"

    def num(value, digits=0):
        return "failed" if value is None else f"{value:.{digits}f}"

    def ratio(a, b):
        return f"{a / b:.2f}" if a is not None and b else "-"

    rates = {rt: hs[rt].get("rate") for rt in RUNTIMES}
    print()
    print(table(["", *RUNTIMES, "MicroPython / CPython"], [
        ["idle RSS, 1 peer (MiB)", *(mib(idle1[rt]) for rt in RUNTIMES),
         ratio(idle1["MicroPython"], idle1["CPython"])],
        [f"idle RSS, {bench.N_PEERS} peers (MiB)", *(mib(idle1000[rt]) for rt in RUNTIMES),
         ratio(idle1000["MicroPython"], idle1000["CPython"])],
        ["TCP Mbit/s (median)", *(num(med(tcp[rt])) for rt in RUNTIMES),
         ratio(med(tcp["MicroPython"]), med(tcp["CPython"]))],
        ["64-byte UDP pps received (median)", *(num(med(udp[rt])) for rt in RUNTIMES),
         ratio(med(udp["MicroPython"]), med(udp["CPython"]))],
        [f"handshakes/s as responder ({bench.N_PEERS} peers)",
         *(num(rates[rt]) for rt in RUNTIMES), ratio(rates["MicroPython"], rates["CPython"])],
    ]))
    print("\nTargets (issue #16, not asserted): MicroPython idle RSS < wireguard-go's with 1 "
          f"peer and <= 8 MiB with {bench.N_PEERS}; TCP and UDP within 10 % of CPython; "
          "handshakes/s >= CPython's.")
    print(f"(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
