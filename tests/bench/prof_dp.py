#!/usr/bin/env python3
"""Where the data path spends its instructions per packet, on router CPUs.

Run with `make profile-dp` (which builds the plugin and the static cross
drivers), or: python3 tests/bench/prof_dp.py [--build build] [-n N]
[--cases MODE:BURST ...] [--targets ...]. Prints tables; asserts nothing about speed,
but fails if the driver does (a packet lost or corrupted).
"""

import argparse
import collections
import os
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]

# name: (qemu command, nm, syscall header, its base macro's value)
TARGETS = {
    "mips32r2-be": (
        ["qemu-mips", "-cpu", "24Kf"],
        "mips-linux-gnu-nm",
        "/usr/mips-linux-gnu/include/asm/unistd_o32.h",
        4000,
    ),
    "mips32r2-le": (
        ["qemu-mipsel", "-cpu", "24Kf"],
        "mipsel-linux-gnu-nm",
        "/usr/mipsel-linux-gnu/include/asm/unistd_o32.h",
        4000,
    ),
    "armv7": (
        ["qemu-arm", "-cpu", "cortex-a7"],
        "arm-linux-gnueabihf-nm",
        "/usr/arm-linux-gnueabihf/include/asm/unistd-eabi.h",
        0,
    ),
}

# qemu-user numbers threads in creation order: main, then wgc_dp_start's TX and RX.
WORKERS = {"send": 1, "receive": 2}

CRYPTO_FILES = {"aead.c", "chacha20.c", "chacha20_simd.c", "poly1305.c", "util.c"}
COPY_FUNCS = re.compile(r"^_*(memcpy|memmove|memset|memcmp|bcmp|bzero|mempcpy)")
LOCK_FUNCS = re.compile(r"^_*(pthread_mutex|lll_|mutex_)")
CATEGORIES = ["crypto", "copies", "syscall wrappers", "locks", "bookkeeping", "other"]

METHOD = """\
Method: tests/bench/prof_dp.c drives the real data path (dp_*.c, datapath.c) in a static
binary under qemu-user: a SOCK_DGRAM socketpair stands in for the TUN, a UDP socket on
127.0.0.1 for the peer. The main thread writes a burst of IPv4 packets of {size} B into the
"TUN" and reads the sealed datagrams; then it seals a burst, sends it with one sendmmsg and
reads the plaintext; burst after burst. Cases: plain:B = B packets per burst, no offloads;
tso:B = a TCP flow through wgpyd's IFF_VNET_HDR TUN: one TSO super-packet of B segments per
TUN read, and B in-order segments of one flow received, coalesced by GRO into fewer TUN
writes. UDP GSO/GRO are off in every case (qemu-user passes their cmsgs untranslated).
tests/cross/prof_plugin.c counts each thread's guest instructions by symbol (nm of the
binary) and its syscalls; the TX worker's are "send", the RX worker's "receive".
Per packet = ((run with N={n}) - (run with N=0)) / N. Categories: crypto =
aead/chacha20/poly1305/util.c; copies = libc mem* (by caller below); syscall wrappers = every
other libc function (the kernel side is invisible under qemu-user: see syscalls per packet);
locks = pthread mutexes; bookkeeping = the datapath's own C files. Batch sizes, and so the
per-batch shares, vary from run to run with thread timing. qemu-user 7.2 has no vDSO
(clock_gettime is a syscall here, not on a router's kernel) and no recvmmsg_time64 (glibc
falls back to recvmmsg on every call: one syscall per receive that a 5.1+ kernel saves)."""


# --one-cpu: every thread on one host CPU, as the workers and the sender share a router's core.
PIN = []


def syscall_names(header, base):
    names = {}
    for line in pathlib.Path(header).read_text().splitlines():
        m = re.match(r"#define __NR_(\w+)\s+\(__NR_\w+\s*\+\s*(\d+)\)", line)
        if m:
            names[base + int(m.group(2))] = m.group(1)
    return names


def symbols(nm, binary, syms_out):
    """Writes the plugin's symbol file; returns {name: source file or None}."""
    out = subprocess.run(
        [nm, "-l", "-S", "-n", "--defined-only", str(binary)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    files = {}
    with open(syms_out, "w") as f:
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 4 or parts[2] not in "tTwWi":
                continue
            start, size, _, name = parts[:4]
            src = parts[4].rsplit(":", 1)[0] if len(parts) > 4 else None
            files[name] = pathlib.Path(src).name if src else None
            leaf = int(src is None and COPY_FUNCS.match(name) is not None)
            f.write(f"{start} {size} {name} {leaf}\n")
    return files


def category(name, src):
    if src in CRYPTO_FILES:
        return "crypto"
    if src is not None and (src.startswith("dp_") or src in ("datapath.c", "replay.c")):
        return "bookkeeping"
    if src is None and name != "?":
        if COPY_FUNCS.match(name):
            return "copies"
        if LOCK_FUNCS.match(name):
            return "locks"
        return "syscall wrappers"
    return "other"


def run(qemu, plugin, binary, syms, n, case, size):
    with tempfile.NamedTemporaryFile("r", suffix=".prof") as out:
        cmd = PIN + qemu + ["-plugin", f"{plugin},syms={syms},out={out.name}", str(binary)]
        r = subprocess.run(
            cmd + [str(n), case[1], str(size), case[0]], capture_output=True, text=True
        )
        if r.returncode != 0:
            sys.exit(f"{binary.name} failed ({r.returncode}): {r.stderr.strip()}")
        counts = {k: collections.defaultdict(collections.Counter) for k in ("insn", "leaf", "sys")}
        for line in out.read().splitlines():
            kind, vcpu, *key, count = line.split()
            counts[kind][int(vcpu)][" from ".join(key)] += int(count)
        return counts


def profile(target, build, plugin, n, case, size):
    qemu, nm, header, base = TARGETS[target]
    binary = build / "prof" / target
    syms = build / "prof" / f"{target}.syms"
    files = symbols(nm, binary, syms)
    names = syscall_names(header, base)
    c0 = run(qemu, plugin, binary, syms, 0, case, size)
    c1 = run(qemu, plugin, binary, syms, n, case, size)

    def per_packet(kind, vcpu):
        return {k: (v - c0[kind][vcpu][k]) / n for k, v in c1[kind][vcpu].items()}

    result = {}
    for direction, vcpu in WORKERS.items():
        per_sym = per_packet("insn", vcpu)
        cats = collections.Counter()
        for s, v in per_sym.items():
            cats[category(s, files.get(s))] += v
        sys_per = {names.get(int(k), k): v for k, v in per_packet("sys", vcpu).items() if v}
        leaves = {k: v for k, v in per_packet("leaf", vcpu).items() if v >= 0.5}
        result[direction] = (per_sym, cats, sys_per, leaves)
    return result, files


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=2000, help="packets each way")
    ap.add_argument("--cases", nargs="+", default=["plain:1", "plain:16", "tso:44"],
                    help="MODE:BURST, MODE plain or tso")
    ap.add_argument("--size", type=int, default=1420)
    ap.add_argument("--targets", nargs="+", default=list(TARGETS))
    ap.add_argument("--top", type=int, default=8, help="non-crypto symbols listed")
    ap.add_argument("--one-cpu", action="store_true",
                    help="pin qemu to one host CPU (batch sizes and wake-ups of a 1-CPU router)")
    args = ap.parse_args()
    if args.one_cpu:
        PIN[:] = ["taskset", "-c", str(min(os.sched_getaffinity(0)))]
    build = ROOT / args.build
    plugin = build / "prof_plugin.so"

    print(METHOD.format(size=args.size, n=args.n))
    if args.one_cpu:
        print("All threads pinned to one host CPU (--one-cpu).")
    head = f"{'target':<12} {'case':<9} {'dir':<8} {'total':>7} " + " ".join(
        f"{c.split()[0]:>11}" for c in CATEGORIES
    )
    tops = []
    print(f"\nGuest instructions per {args.size}-byte packet\n{head}")
    for target in args.targets:
        for case in args.cases:
            res, files = profile(target, build, plugin, args.n, case.split(":"), args.size)
            for direction, (per_sym, cats, sys_per, leaves) in res.items():
                total = sum(cats.values())
                print(
                    f"{target:<12} {case:<9} {direction:<8} {total:>7.0f} "
                    + " ".join(f"{cats[c]:>11.0f}" for c in CATEGORIES)
                )
                tops.append((target, case, direction, per_sym, files, sys_per, leaves))
    print("\nSyscalls per packet (each one a kernel entry the counts above leave out)")
    for target, case, direction, _, _, sys_per, _ in tops:
        total = sum(sys_per.values())
        detail = ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(sys_per.items(), key=lambda kv: -kv[1])
        )
        print(f"{target:<12} {case:<9} {direction:<8} {total:5.2f}  {detail}")
    print(f"\nLargest non-crypto shares (instructions per packet)")
    for target, case, direction, per_sym, files, _, _ in tops:
        rest = [
            (v, s)
            for s, v in per_sym.items()
            if category(s, files.get(s)) != "crypto" and v >= 0.5
        ]
        rest.sort(reverse=True)
        detail = ", ".join(f"{s} {v:.0f}" for v, s in rest[: args.top])
        print(f"{target:<12} {case:<9} {direction:<8} {detail}")
    print("\nCopies by caller (instructions per packet in libc mem*, charged to the caller)")
    for target, case, direction, _, _, _, leaves in tops:
        detail = ", ".join(
            f"{k} {v:.0f}" for k, v in sorted(leaves.items(), key=lambda kv: -kv[1])[: args.top]
        )
        print(f"{target:<12} {case:<9} {direction:<8} {detail}")


if __name__ == "__main__":
    main()
