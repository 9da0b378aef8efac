#!/usr/bin/env python3
"""wgpyd vs Debian wireguard-go, measured in network namespaces on this machine (root).

    make bench [BENCH_ARGS=--quick|--full]   (= PYTHONPATH=tests python tests/bench/bench_tunnel.py)

Not a test: it never asserts and exits 0 unless the setup itself fails. Method, printed
again at the top of every run:

* Topology: for every pair two private namespaces joined by a veth pair (outer 10.66.0.1/24
  and .2), a WireGuard interface in each (inner 10.77.0.1/24 and .2, MTU 1420), daemons in
  the foreground with LOG_LEVEL=error. Pairs: wgpyd<->wgpyd, wireguard-go<->wireguard-go,
  wgpyd(A)<->wireguard-go(B). "veth" is the wgpyd pair's outer link without the tunnel, the
  ceiling. All pairs exist at once and the runs are interleaved round-robin (run 1 of every
  case, then run 2, ...), so slow drifts of the shared machine's load hit all cases alike.
* TCP: iperf3 -c (A -> B; -R for B -> A) -t T -O 1, receiver's bits/s; median (min-max).
* 64-byte UDP: iperf3 -u -l 64 -b 0 (64-byte payload, 92-byte inner IP packets), packets
  per second received by the iperf3 server at the far side (its per-second total - lost,
  first second left out). Sender, both daemons and receiver share the same cores, so this
  is "what gets through when everything competes for the CPU", veth included.
* Handshakes: a responder (wgpyd or wireguard-go) with 1,000 peers configured; a generator
  (tests/bench/handshake_flood.py, Python + wgpy.protocol) sends valid initiations from the
  1,000 peers, each from its own source address, answers cookie replies with mac2 as a
  real initiator must, and counts handshake responses per second after a warm-up (paced
  below both responders' per-peer and per-IP limits; one ephemeral key shared by all
  initiations to keep the generator cheap; its own and the responder's CPU are printed,
  so a generator-bound result would show).
* RSS: VmRSS/VmHWM from /proc/PID/status of the daemon process: idle with 1 peer (after a
  ping), idle with 1,000 peers (the handshake responder before the flood, no traffic), and
  peak under load = VmHWM after the TCP runs (max of the pair's two daemons; the target
  row). VmHWM after the UDP runs and after the handshake flood are shown too.
"""

import argparse
import json
import os
import re
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV_BIN = os.path.join(REPO, ".venv", "bin")

try:
    from wgpy import crypto
except ImportError:     # run by a Python without wgpy: use the project's venv
    venv_python = os.path.join(VENV_BIN, "python")
    if os.path.exists(venv_python) and os.path.realpath(sys.executable) != \
            os.path.realpath(venv_python):
        os.execv(venv_python, [venv_python, *sys.argv])
    raise
from support import netns               # noqa: E402 (after the venv switch: it imports wgpy)
from support.keys import genkey         # noqa: E402
from support.procs import LabError, stop_pid  # noqa: E402

WGPYD = netns.WGPYD
WGPYD_PYTHON = os.path.join(VENV_BIN, "python") if os.path.exists(
    os.path.join(VENV_BIN, "python")) else sys.executable
FLOOD = os.path.join(HERE, "handshake_flood.py")
PORT = 51820
N_PEERS = 1000
KINDS = ("wgpyd", "wireguard-go")


# ---------------------------------------------------------------- namespaces and daemons

def linked_namespaces(lab: netns.Lab):
    """Two namespaces joined by a veth: vA 10.66.0.1/24 <-> vB 10.66.0.2/24."""
    tag = netns.unique_tag()
    a, b = lab.netns(f"{tag}A"), lab.netns(f"{tag}B")
    lab.veth(a, "vA", b, "vB")
    lab.address(a, "vA", "10.66.0.1/24")
    lab.address(b, "vB", "10.66.0.2/24")
    return a, b


def start_daemon(lab: netns.Lab, ns: str, kind: str):
    """wgpyd or wireguard-go in the foreground, quiet; -> (ifname, Popen)."""
    ifname = lab.ifname("wgb")
    return ifname, lab.daemon(ns, kind, ifname, env={"LOG_LEVEL": "error"})


def run(argv, timeout=60, input=None, check=True):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed: {result.stdout}{result.stderr}")
    return result


def nsrun(ns, argv, **kw):
    return run(["ip", "netns", "exec", ns, *argv], **kw)


def proc_status(pid: int) -> dict:
    """VmRSS / VmHWM of pid in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of pid (all threads), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Pair:
    """kind_a in namespace A <-> kind_b in namespace B, up, handshaken, iperf3 -s in B."""

    def __init__(self, lab: netns.Lab, kind_a: str, kind_b: str) -> None:
        self.kinds = (kind_a, kind_b)
        self.ns = linked_namespaces(lab)
        keys = (genkey(), genkey())
        self.daemons = []
        for side in (0, 1):
            ifname, proc = start_daemon(lab, self.ns[side], self.kinds[side])
            self.daemons.append((ifname, proc))
        for side in (0, 1):
            ns, (ifname, _), other = self.ns[side], self.daemons[side], 1 - side
            conf = os.path.join(lab.tmp, f"{ifname}.conf")
            with open(conf, "w") as f:
                f.write(f"[Interface]\nPrivateKey = {keys[side][0]}\nListenPort = {PORT}\n\n"
                        f"[Peer]\nPublicKey = {keys[other][1]}\n"
                        f"AllowedIPs = 10.77.0.{other + 1}/32\n"
                        f"Endpoint = 10.66.0.{other + 1}:{PORT}\n")
            nsrun(ns, ["wg", "setconf", ifname, conf])
            nsrun(ns, ["ip", "addr", "add", f"10.77.0.{side + 1}/24", "dev", ifname])
            nsrun(ns, ["ip", "link", "set", ifname, "up"])
        ok = nsrun(self.ns[0], ["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "5",
                                "-w", "10", "10.77.0.2"], check=False, timeout=20)
        if ok.returncode != 0:
            raise LabError(f"no ping through {kind_a}<->{kind_b}: {ok.stdout}")
        lab.spawn(None, self.ns[1], "iperf3", "-s", "-p", "5201", stdout=subprocess.DEVNULL)
        time.sleep(0.3)

    def status(self, side: int) -> dict:
        return proc_status(self.daemons[side][1].pid)


# ---------------------------------------------------------------- measurements

def iperf(ns: str, addr: str, args, seconds: int) -> dict:
    """One iperf3 client run (retried while the server starts); -> parsed JSON."""
    argv = ["iperf3", "-c", addr, "-p", "5201", "-t", str(seconds), "-J", *args]
    for attempt in range(5):
        res = nsrun(ns, argv, check=False, timeout=seconds + 30)
        try:
            data = json.loads(res.stdout)
        except ValueError:
            data = {"error": res.stdout + res.stderr}
        if "error" not in data:
            return data
        time.sleep(0.5 + attempt)
    return data


def tcp_mbps(data: dict):
    try:
        return data["end"]["sum_received"]["bits_per_second"] / 1e6
    except (KeyError, TypeError):
        return None


_INTERVAL = re.compile(r"\]\s+([\d.]+)-([\d.]+)\s+sec\s.*?(\d+)/(\d+)\s+\(")


def udp_pps(data: dict):
    """Packets per second received by the iperf3 server, from its per-second report.

    The first second (ramp-up, ARP, socket buffers filling) and trailing fragments are
    left out; received = total - lost of each interval, as the server counted them.
    """
    received = seconds = 0.0
    for line in str(data.get("server_output_text", "")).splitlines():
        if "receiver" in line or "sender" in line:
            continue
        m = _INTERVAL.search(line)
        if not m:
            continue
        start, end, lost, total = float(m[1]), float(m[2]), int(m[3]), int(m[4])
        if start < 0.99 or end - start < 0.5:
            continue
        received += total - lost
        seconds += end - start
    return received / seconds if seconds else None


def handshake_bench(lab: netns.Lab, kind: str, duration: float, warmup: float):
    """-> (idle status with N_PEERS peers, flood result dict)."""
    resp_ns, gen_ns = linked_namespaces(lab)
    # Generator source addresses live on lo in its namespace; the responder routes them via
    # the veth, so it needs one neighbour entry, not a thousand.
    sources = [f"10.88.{i // 250}.{i % 250 + 1}" for i in range(N_PEERS)]
    batch = "".join(f"addr add {s}/32 dev lo\n" for s in sources)
    run(["ip", "-n", gen_ns, "-batch", "-"], input=batch)
    run(["ip", "-n", resp_ns, "route", "add", "10.88.0.0/16", "via", "10.66.0.2"])
    ifname, proc = start_daemon(lab, resp_ns, kind)
    resp_priv, resp_pub = genkey()
    peers = [genkey() for _ in range(N_PEERS)]
    conf = os.path.join(lab.tmp, f"{ifname}.conf")
    with open(conf, "w") as f:
        f.write(f"[Interface]\nPrivateKey = {resp_priv}\nListenPort = {PORT}\n")
        for i, (_, pub) in enumerate(peers):
            f.write(f"\n[Peer]\nPublicKey = {pub}\n"
                    f"AllowedIPs = 10.99.{i // 250}.{i % 250 + 1}/32\n")
    nsrun(resp_ns, ["wg", "setconf", ifname, conf])
    nsrun(resp_ns, ["ip", "addr", "add", "10.77.0.1/24", "dev", ifname])
    nsrun(resp_ns, ["ip", "link", "set", ifname, "up"])
    count = len(nsrun(resp_ns, ["wg", "show", ifname, "peers"]).stdout.split())
    if count != N_PEERS:
        raise LabError(f"{kind} has {count} peers, not {N_PEERS}")
    time.sleep(2.0)
    idle = proc_status(proc.pid)
    cfg = {"responder_public": resp_pub, "responder": "10.66.0.1", "port": PORT,
           "peers": [p for p, _ in peers], "sources": sources, "warmup": warmup,
           "duration": duration, "window": 256, "per_peer_rate": 18}
    result = run_generator(lab, gen_ns, proc, cfg)
    result["hwm"] = proc_status(proc.pid)["VmHWM"]
    return idle, result


def run_generator(lab: netns.Lab, gen_ns: str, proc, cfg: dict, settle: float = 0.0) -> dict:
    """handshake_flood.py in gen_ns with cfg against the responder proc; -> its result dict
    plus the responder's CPU (share of one core), measured from `settle` s after the start."""
    gen = lab.spawn(None, gen_ns, WGPYD_PYTHON, FLOOD, stdout=subprocess.PIPE,
                    stdin=subprocess.PIPE)
    time.sleep(settle)
    cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
    out, _ = gen.communicate(json.dumps(cfg), timeout=cfg["warmup"] + cfg["duration"] + 60)
    responder_cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - wall0)
    try:
        result = json.loads(out)
    except ValueError:
        result = {"rate": None, "error": f"generator failed ({gen.returncode}), log in "
                                         f"{lab.tmp}"}
    result["responder_cpu"] = responder_cpu
    return result


# ---------------------------------------------------------------- reporting

def machine_info() -> list:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    wggo = first_line(["dpkg-query", "-W", "-f", "${Version}", "wireguard-go"])
    try:
        from wgpy import __version__ as wgpy_version
    except ImportError:
        wgpy_version = "?"
    commit = first_line(["git", "-C", REPO, "describe", "--always", "--dirty"])
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return [f"machine: {os.cpu_count()} CPUs ({cpu}), kernel {platform.release()}, "
            f"load average at start {load}",
            f"wgpyd {wgpy_version} (git {commit}, crypto {crypto.implementation()}) = {WGPYD}",
            f"wireguard-go {wggo} (Debian) = {shutil.which('wireguard-go')}",
            f"{first_line(['iperf3', '--version'])}; {first_line(['wg', '--version'])}"]


def fmt_runs(values, unit_div=1.0, digits=0):
    vals = [v / unit_div for v in values if v is not None]
    if not vals:
        return "failed"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({min(vals):.{digits}f}-{max(vals):.{digits}f})"


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def table(header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(r):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *map(line, rows)])


def durations(doc: str):
    """The --quick/--full choice of a bench's command line (its description: the first line
    of doc): (its name, iperf3 runs, seconds per run, seconds of the handshake flood)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="1 run each, 3 s")
    mode.add_argument("--full", action="store_true", help="5 runs each, 10 s")
    args = ap.parse_args()
    if args.quick:
        return "quick", 1, 3, 3.0
    return ("full", 5, 10, 10.0) if args.full else ("default", 3, 5, 5.0)


def main() -> int:
    mode, runs, secs, hs_secs = durations(__doc__)
    if os.geteuid() != 0:
        print("bench_tunnel: needs root (network namespaces)", file=sys.stderr)
        return 1
    for tool in ("iperf3", "wireguard-go", "wg", "ping", "ip"):
        if not shutil.which(tool):
            print(f"bench_tunnel: {tool} not found", file=sys.stderr)
            return 1
    if not os.path.exists(WGPYD):
        print("bench_tunnel: wgpyd not found", file=sys.stderr)
        return 1

    print("== wgpy tunnel benchmark ==")
    print("\n".join(machine_info()))
    print(f"method ({mode}: "
          f"iperf3 {runs} run(s) x {secs} s per case, handshake flood {hs_secs:.0f} s after "
          "a 1.5 s warm-up; 2 cores shared with other work, so expect noise):")
    print(__doc__.split("every run:\n", 1)[1].rstrip())
    print(flush=True)

    lab = netns.Lab(f"wgpyb{os.getpid() % 100000}")
    started = time.monotonic()

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even if inherited as ignored
    try:
        return _bench(lab, runs, secs, hs_secs, started)
    except LabError as exc:
        print(f"bench_tunnel: setup failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench_tunnel: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        lab.close()


def _bench(lab: netns.Lab, runs: int, secs: int, hs_secs: float, started: float) -> int:
    pairs = {"wgpyd": Pair(lab, "wgpyd", "wgpyd"),
             "wireguard-go": Pair(lab, "wireguard-go", "wireguard-go"),
             "mixed": Pair(lab, "wgpyd", "wireguard-go")}
    time.sleep(1.0)
    idle1 = {k: pairs[k].status(0) for k in KINDS}

    # (label, pair, server address, extra iperf3 args)
    tcp_cases = [("veth (no tunnel)", pairs["wgpyd"], "10.66.0.2", []),
                 ("wgpyd <-> wgpyd", pairs["wgpyd"], "10.77.0.2", []),
                 ("wireguard-go <-> wireguard-go", pairs["wireguard-go"], "10.77.0.2", []),
                 ("wgpyd -> wireguard-go", pairs["mixed"], "10.77.0.2", []),
                 ("wireguard-go -> wgpyd", pairs["mixed"], "10.77.0.2", ["-R"])]
    udp_cases = tcp_cases[:3]
    tcp = {c[0]: [] for c in tcp_cases}
    udp = {c[0]: [] for c in udp_cases}

    print(f"TCP: {len(tcp_cases)} cases x {runs} runs ...", flush=True)
    for r in range(runs):
        for label, pair, addr, extra in tcp_cases:
            value = tcp_mbps(iperf(pair.ns[0], addr, ["-O", "1", *extra], secs))
            tcp[label].append(value)
            print(f"  run {r + 1} {label}: "
                  f"{'failed' if value is None else f'{value:.0f} Mbit/s'}", flush=True)
    peak = {k: max(pairs[k].status(0)["VmHWM"], pairs[k].status(1)["VmHWM"]) for k in KINDS}

    print(f"64-byte UDP: {len(udp_cases)} cases x {runs} runs ...", flush=True)
    for r in range(runs):
        for label, pair, addr, extra in udp_cases:
            value = udp_pps(iperf(pair.ns[0], addr, ["-u", "-l", "64", "-b", "0",
                                                     "--get-server-output", *extra], secs + 1))
            udp[label].append(value)
            print(f"  run {r + 1} {label}: "
                  f"{'failed' if value is None else f'{value:.0f} pps'}", flush=True)
    peak_udp = {k: max(pairs[k].status(0)["VmHWM"], pairs[k].status(1)["VmHWM"])
                for k in KINDS}
    for pair in pairs.values():     # free the cores before the handshake runs
        for _, proc in pair.daemons:
            stop_pid(proc.pid, proc)

    print(f"handshakes: {N_PEERS}-peer responders ...", flush=True)
    idle1000, hs = {}, {}
    for kind in KINDS:
        idle1000[kind], hs[kind] = handshake_bench(lab, kind, hs_secs, 1.5)
        r = hs[kind]
        print(f"  {kind}: {r.get('rate') or 0:.0f} handshakes/s (sent {r.get('sent')}, "
              f"cookie replies {r.get('cookie_replies')}, lost {r.get('lost')}, generator "
              f"paced {100 * r.get('paced_fraction', 0):.0f}% of loops, cap "
              f"{r.get('generator_cap', 0):.0f}/s, generator CPU "
              f"{100 * (r.get('generator_cpu') or 0):.0f}% of a core, responder CPU "
              f"{100 * r['responder_cpu']:.0f}%"
              f") {r.get('error', '')}", flush=True)

    # ---- report
    def mib(kib):
        return kib / 1024
    print()
    print("TCP throughput through the tunnel, Mbit/s, median (min-max):")
    print(table(["case", "Mbit/s"], [[k, fmt_runs(v)] for k, v in tcp.items()]))
    print()
    print("64-byte UDP, packets/s received at the far side, median (min-max):")
    print(table(["case", "pps"], [[k, fmt_runs(v)] for k, v in udp.items()]))
    print()
    print("Memory, MiB (VmRSS; peak = VmHWM, max of both daemons of the pair):")
    print(table(["state", "wgpyd", "wireguard-go"], [
        ["idle, 1 peer (RSS)", f"{mib(idle1['wgpyd']['VmRSS']):.1f}",
         f"{mib(idle1['wireguard-go']['VmRSS']):.1f}"],
        [f"idle, {N_PEERS} peers (RSS)", f"{mib(idle1000['wgpyd']['VmRSS']):.1f}",
         f"{mib(idle1000['wireguard-go']['VmRSS']):.1f}"],
        ["peak after TCP runs (HWM)", f"{mib(peak['wgpyd']):.1f}",
         f"{mib(peak['wireguard-go']):.1f}"],
        ["peak after UDP runs (HWM)", f"{mib(peak_udp['wgpyd']):.1f}",
         f"{mib(peak_udp['wireguard-go']):.1f}"],
        [f"peak after handshake flood, {N_PEERS} peers (HWM)",
         f"{mib(hs['wgpyd']['hwm']):.1f}", f"{mib(hs['wireguard-go']['hwm']):.1f}"]]))

    def ratio(a, b):
        return f"{a / b:.2f}x" if a is not None and b else "-"

    def num(v, digits=0):
        return "failed" if v is None else f"{v:.{digits}f}"

    t_w, t_g = med(tcp["wgpyd <-> wgpyd"]), med(tcp["wireguard-go <-> wireguard-go"])
    p_w, p_g = med(udp["wgpyd <-> wgpyd"]), med(udp["wireguard-go <-> wireguard-go"])
    h_w, h_g = hs["wgpyd"].get("rate"), hs["wireguard-go"].get("rate")
    i1_w, i1_g = mib(idle1["wgpyd"]["VmRSS"]), mib(idle1["wireguard-go"]["VmRSS"])
    ik_w, ik_g = mib(idle1000["wgpyd"]["VmRSS"]), mib(idle1000["wireguard-go"]["VmRSS"])
    pk_w, pk_g = mib(peak["wgpyd"]), mib(peak["wireguard-go"])
    veth_t, veth_p = med(tcp["veth (no tunnel)"]), med(udp["veth (no tunnel)"])
    print()
    print("Summary (ratio = wgpyd / wireguard-go; medians):")
    print(table(["metric", "wgpyd", "wireguard-go", "ratio"], [
        ["TCP Mbit/s (same-implementation pair)", num(t_w), num(t_g), ratio(t_w, t_g)],
        ["TCP Mbit/s wgpyd->wg-go / wg-go->wgpyd", num(med(tcp["wgpyd -> wireguard-go"])),
         num(med(tcp["wireguard-go -> wgpyd"])), "-"],
        ["TCP Mbit/s plain veth (ceiling)", num(veth_t), "", "-"],
        ["64-byte UDP pps received", num(p_w), num(p_g), ratio(p_w, p_g)],
        ["64-byte UDP pps plain veth (ceiling)", num(veth_p), "", "-"],
        [f"handshakes/s as responder ({N_PEERS} peers)", num(h_w), num(h_g), ratio(h_w, h_g)],
        ["idle RSS, 1 peer (MiB)", num(i1_w, 1), num(i1_g, 1), ratio(i1_w, i1_g)],
        [f"idle RSS, {N_PEERS} peers (MiB)", num(ik_w, 1), num(ik_g, 1), ratio(ik_w, ik_g)],
        ["peak RSS under load, VmHWM (MiB)", num(pk_w, 1), num(pk_g, 1), ratio(pk_w, pk_g)],
    ]))
    def met(ok):
        return "met" if ok else "NOT met"
    print()
    print("Targets (from the issue):")
    print(table(["target", "measured", "status"], [
        ["TCP >= 2x Debian wireguard-go", ratio(t_w, t_g),
         met(t_w is not None and t_g and t_w >= 2 * t_g)],
        ["64-byte pps >= 1.5x wireguard-go", ratio(p_w, p_g),
         met(p_w is not None and p_g and p_w >= 1.5 * p_g)],
        ["peak RSS under load (HWM after TCP) < wireguard-go's",
         f"{pk_w:.1f} vs {pk_g:.1f} MiB",
         met(pk_w < pk_g)],
        [f"idle RSS with {N_PEERS} peers <= 25 MiB", f"{ik_w:.1f} MiB", met(ik_w <= 25)],
    ]))
    print(f"\n(total {time.monotonic() - started:.0f} s; the numbers are noisy on a shared "
          "machine: compare medians, rerun with --full for more runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
