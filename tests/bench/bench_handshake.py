#!/usr/bin/env python3
"""Handshake throughput: wgpyd vs Debian wireguard-go, in network namespaces (root).

    PYTHONPATH=tests python tests/bench/bench_handshake.py [--seconds S] [--runs N] [--rate R]

Not a test: it never asserts. Method, printed again at the top of every run:

* Handshakes/s completed as responder: bench_tunnel.py's handshake run (handshake_bench):
  a responder with 1,000 peers, the generator (handshake_flood.py) sends valid initiations
  from the 1,000 peers, each from its own source address, paced below both responders'
  per-peer and per-IP limits, answers cookie replies with mac2, and counts responses/s.
* Cookie replies/s under a spoofed flood: a responder with its key and no peers; the generator
  (handshake_flood.py, mode "spoof") sends bogus initiations with a valid mac1 and no mac2
  from 8,192 random source addresses in 10.200.0.0/16 through a raw socket (sendmmsg), paced
  at --rate, and counts the cookie replies that come back per second (recvmmsg). Each responder is under load
  (far over 128 handshake messages a second), so every valid-mac1 initiation without mac2
  should get a reply; what is not answered was dropped for lack of CPU or queue.
* Runs alternate wgpyd / wireguard-go (run 1 of both, then run 2, ...); median (min-max).
  Responder CPU (share of one core) and the generator's are printed: a generator-bound
  figure shows as sent/s below the offered rate or replies = sent, and is marked CAPPED. On a shared machine the
  rates follow the scheduler (a one-thread responder gets less of a loaded CPU than a
  many-thread one), so CPU per handshake and per reply (responder CPU / rate) are printed too.
"""

import argparse
import os
import statistics
import sys
import time

from bench_tunnel import (KINDS, PORT, handshake_bench, linked_namespaces, machine_info, nsrun,
                          run, run_generator, start_daemon, table)
from support import netns
from support.keys import genkey
from support.procs import LabError


def spoof_bench(lab: netns.Lab, kind: str, duration: float, warmup: float, rate: float) -> dict:
    resp_ns, gen_ns = linked_namespaces(lab)
    run(["ip", "-n", resp_ns, "route", "add", "10.200.0.0/16", "via", "10.66.0.2"])
    run(["ip", "-n", gen_ns, "route", "add", "local", "10.200.0.0/16", "dev", "lo"])
    ifname, proc = start_daemon(lab, resp_ns, kind)
    priv, pub = genkey()
    conf = os.path.join(lab.tmp, f"{ifname}.conf")
    with open(conf, "w") as f:
        f.write(f"[Interface]\nPrivateKey = {priv}\nListenPort = {PORT}\n")
    nsrun(resp_ns, ["wg", "setconf", ifname, conf])
    nsrun(resp_ns, ["ip", "link", "set", ifname, "up"])
    time.sleep(1.0)
    cfg = {"mode": "spoof", "responder_public": pub, "responder": "10.66.0.1", "port": PORT,
           "prefix": "10.200", "rate": rate, "duration": duration, "warmup": warmup}
    return run_generator(lab, gen_ns, proc, cfg, settle=warmup)


def per_item_us(result: dict):
    """Responder CPU seconds per second / items per second, in microseconds."""
    rate, cpu = result.get("rate"), result.get("responder_cpu")
    return cpu / rate * 1e6 if rate and cpu else None


def fmt(values) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "failed"
    med = statistics.median(vals)
    return f"{med:,.0f}" if len(vals) == 1 else \
        f"{med:,.0f} ({min(vals):,.0f}-{max(vals):,.0f})"


def ratio(a, b) -> str:
    a = [v for v in a if v is not None]
    b = [v for v in b if v is not None]
    if not a or not b or not statistics.median(b):
        return "-"
    return f"{statistics.median(a) / statistics.median(b):.2f}x"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rate", type=float, default=150000.0, help="spoofed initiations/s offered")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_handshake: needs root (network namespaces)", file=sys.stderr)
        return 1
    print(__doc__.split("Method, printed again at the top of every run:")[1].strip())
    print()
    for line in machine_info():
        print(line)
    print(f"{args.runs} run(s) x {args.seconds:.0f} s per case; spoofed flood offered at "
          f"{args.rate:,.0f}/s", flush=True)
    hs = {k: [] for k in KINDS}
    cookies = {k: [] for k in KINDS}
    hs_cost = {k: [] for k in KINDS}        # responder CPU microseconds per handshake
    cookie_cost = {k: [] for k in KINDS}
    lab = netns.Lab(f"wgpyh{os.getpid() % 100000}")
    try:
        for i in range(args.runs):
            for kind in KINDS:
                _, r = handshake_bench(lab, kind, args.seconds, 1.5)
                hs[kind].append(r.get("rate"))
                hs_cost[kind].append(per_item_us(r))
                print(f"  run {i + 1} {kind}: {r.get('rate') or 0:,.0f} handshakes/s "
                      f"(generator paced to {r.get('generator_cap') or 0:,.0f}/s, "
                      f"sent {r.get('sent')}, cookie replies {r.get('cookie_replies')}, lost "
                      f"{r.get('lost')}, responder CPU {r.get('responder_cpu', 0):.2f}, "
                      f"generator CPU {r.get('generator_cpu') or 0:.2f})", flush=True)
                s = spoof_bench(lab, kind, args.seconds, 1.0, args.rate)
                cookies[kind].append(s.get("rate"))
                cookie_cost[kind].append(per_item_us(s))
                capped = s.get("rate") and s["rate"] >= 0.97 * s.get("sent_per_s", 0)
                print(f"  run {i + 1} {kind}: {s.get('rate') or 0:,.0f} cookie replies/s "
                      f"{'CAPPED by the generator ' if capped else ''}"
                      f"(offered {args.rate:,.0f}/s, sent {s.get('sent_per_s', 0):,.0f}/s, "
                      f"responder CPU "
                      f"{s.get('responder_cpu', 0):.2f}, generator CPU "
                      f"{s.get('generator_cpu') or 0:.2f}) {s.get('error', '')}", flush=True)
    except LabError as exc:
        print(f"bench_handshake: setup failed: {exc}", file=sys.stderr)
        return 1
    finally:
        lab.close()
    print()
    print(table(["metric", "wgpyd", "wireguard-go (Debian)", "ratio"], [
        ["handshakes/s completed as responder (1,000 peers)", fmt(hs["wgpyd"]),
         fmt(hs["wireguard-go"]), ratio(hs["wgpyd"], hs["wireguard-go"])],
        ["cookie replies/s under a spoofed flood", fmt(cookies["wgpyd"]),
         fmt(cookies["wireguard-go"]), ratio(cookies["wgpyd"], cookies["wireguard-go"])],
        ["responder CPU per handshake (us)", fmt(hs_cost["wgpyd"]),
         fmt(hs_cost["wireguard-go"]), ratio(hs_cost["wireguard-go"], hs_cost["wgpyd"])],
        ["responder CPU per cookie reply (us)", fmt(cookie_cost["wgpyd"]),
         fmt(cookie_cost["wireguard-go"]),
         ratio(cookie_cost["wireguard-go"], cookie_cost["wgpyd"])]]))
    print("(ratio: wgpyd's rate / wireguard-go's; for CPU rows wireguard-go's cost / wgpyd's, "
          "so above 1 means wgpyd is ahead in every row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
