#!/usr/bin/env python3
"""wgpy's C core against OpenSSL (pyca/cryptography) and hashlib, side by side.

Run with `make bench-crypto` (which also builds the qemu plugin and the cross bench
drivers), or directly: python tests/bench/bench_crypto.py [--build build]
[--insn-only] [--quick]. Prints tables; asserts nothing about speed.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]

METHOD = """\
Method
  host: each case is timed with time.perf_counter for ~{secs:.2f} s after one warm-up call,
        in runs of about 1 ms; the fastest run counts. Both sides are called from Python the same way
        (wgpy.crypto.* vs cryptography's ChaCha20Poly1305/X25519, hashlib.blake2s), so both
        include the Python call and allocation of a new bytes object per call.
        cycles/byte = {mhz} MHz ("cpu MHz" of /proc/cpuinfo, {mhz_note}) / (bytes per second).
        cffi overhead: crypto.seal_in_place on one 64-byte bytearray per call, vs
        crypto.Batch.seal over 64 such buffers per call (per-packet time = call time / 64).
  guest: instructions counted by tests/cross/insn_plugin.c (inline per-block counter in qemu
        TCG) running build/bench/<target> under qemu-user; count(N ops) - count(0 ops)
        removes startup, divided by N (and by the packet size for the AEAD).
        Instructions, not cycles: on the single-issue 24Kc/Cortex-A7 they bound cycles from below.
"""


def cpu_mhz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("cpu mhz"):
                    return float(
                        line.split(":")[1]
                    ), "current clock of cpu0, may vary with scaling"
    except OSError:
        pass
    return 1000.0, "not found; 1000 MHz assumed"


def rate(fn, secs):
    """Calls per second: the fastest of many runs of about 1 ms within ~secs.

    On a machine shared with other jobs a long run measures how often the
    core was taken away; a short run that went undisturbed measures the code.
    """
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > 0.001:
            break
        n *= 2
    best = 0.0
    end = time.perf_counter() + secs
    while time.perf_counter() < end:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = max(best, n / (time.perf_counter() - t))
    return best


def host_tables(secs, mhz):
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    from wgpy import crypto

    print(f"wgpy core implementation: {crypto.implementation()}")
    key = bytes(range(32))
    nonce = bytes(4) + (7).to_bytes(8, "little")
    ossl = ChaCha20Poly1305(key)

    def cpb(bps):
        return mhz * 1e6 / bps

    print(
        "\nChaCha20-Poly1305 (no AD)      wgpy MB/s  cyc/B | OpenSSL MB/s  cyc/B | wgpy/OpenSSL"
    )
    for size in (64, 512, 1420, 8192):
        pt = os.urandom(size)
        ct = crypto.aead_seal(key, 7, pt)
        for op, mine, theirs in (
            (
                "seal",
                lambda pt=pt: crypto.aead_seal(key, 7, pt),
                lambda pt=pt: ossl.encrypt(nonce, pt, None),
            ),
            (
                "open",
                lambda ct=ct: crypto.aead_open(key, 7, ct),
                lambda ct=ct: ossl.decrypt(nonce, ct, None),
            ),
        ):
            a, b = rate(mine, secs) * size, rate(theirs, secs) * size
            print(
                f"  {op} {size:5d} B               {a / 1e6:9.1f} {cpb(a):6.2f} | {b / 1e6:12.1f} {cpb(b):6.2f}"
                f" | {a / b:5.2f}x"
            )

    priv = crypto.generate_private_key()
    peer = crypto.public_key(crypto.generate_private_key())
    opriv, opub = (
        X25519PrivateKey.from_private_bytes(priv),
        X25519PublicKey.from_public_bytes(peer),
    )
    a, b = (
        rate(lambda: crypto.x25519(priv, peer), secs),
        rate(lambda: opriv.exchange(opub), secs),
    )
    print(
        f"\nX25519 shared secret   wgpy {a:9.0f} ops/s ({mhz * 1e6 / a / 1e3:7.0f} k cycles) | "
        f"OpenSSL {b:9.0f} ops/s ({mhz * 1e6 / b / 1e3:7.0f} k cycles) | {a / b:5.2f}x"
    )

    print("\nBLAKE2s-256                     wgpy MB/s  cyc/B | hashlib MB/s  cyc/B")
    for size in (64, 1024, 8192):
        data = os.urandom(size)
        a = rate(lambda data=data: crypto.blake2s(data), secs) * size
        b = rate(lambda data=data: hashlib.blake2s(data).digest(), secs) * size
        print(
            f"  {size:5d} B                     {a / 1e6:9.1f} {cpb(a):6.2f} | {b / 1e6:12.1f} {cpb(b):6.2f}"
        )

    bufs = [bytearray(64 + 16) for _ in range(64)]
    one = bufs[0]
    single = rate(lambda: crypto.seal_in_place(key, 1, one, 64), secs)
    batch = crypto.Batch(64)

    def seal_batch():
        batch.clear()
        for i, b_ in enumerate(bufs):
            batch.add(b_, 64, i, True)
        batch.seal(key)

    built = crypto.Batch(64)
    for i, b_ in enumerate(bufs):
        built.add(b_, 64, i, True)
    batched = rate(seal_batch, secs) * 64
    prebuilt = rate(lambda: built.seal(key), secs) * 64
    print("\ncffi call overhead, 64-byte packets (seal in place)")
    print(f"  single call per packet        {1e6 / single:7.2f} us/packet")
    print(f"  Batch of 64, rebuilt per call {1e6 / batched:7.2f} us/packet")
    print(f"  Batch of 64, built once       {1e6 / prebuilt:7.2f} us/packet")


TARGETS = [
    (
        "MIPS32r2 BE (24Kf)",
        "mips32r2-be",
        ["qemu-mips", "-cpu", "24Kf", "-L", "/usr/mips-linux-gnu"],
    ),
    (
        "MIPS32r2 LE (24Kf)",
        "mips32r2-le",
        ["qemu-mipsel", "-cpu", "24Kf", "-L", "/usr/mipsel-linux-gnu"],
    ),
    ("ARMv7 + NEON", "armv7-neon", ["qemu-arm", "-L", "/usr/arm-linux-gnueabihf"]),
    (
        "ARMv7 portable",
        "armv7-portable",
        ["qemu-arm", "-L", "/usr/arm-linux-gnueabihf"],
    ),
]


def count(runner, plugin, exe, args):
    with tempfile.NamedTemporaryFile("r", suffix=".cnt") as out:
        subprocess.run(
            runner + ["-plugin", f"{plugin},out={out.name}", str(exe)] + args,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        text = pathlib.Path(out.name).read_text().split()
    return int(text[1])


def guest_tables(build):
    plugin = build / "insn_plugin.so"
    if not plugin.exists():
        print(
            f"\n(guest instruction counts skipped: {plugin} not built; run `make bench-crypto`)"
        )
        return
    n_pkt, n_x = 50, 3
    print(
        f"\nGuest instructions per byte (qemu TCG plugin; {n_pkt} x 1420 B, no AD; BLAKE2s 20 x 1 KiB;"
        f" X25519 {n_x} ops; each minus a 0-op baseline run)"
    )
    print(
        "  target               AEAD seal  AEAD open  ChaCha20  Poly1305  BLAKE2s   X25519 insns/op"
    )

    def per_op(runner, exe, what, size, n):
        args = [what] + ([] if size is None else [str(size)])
        total = count(runner, plugin, exe, args + [str(n)]) - count(
            runner, plugin, exe, args + ["0"]
        )
        return total / (n * (size or 1))

    for label, name, runner in TARGETS:
        exe = build / "bench" / name
        if not exe.exists():
            print(f"  {label:20s}  (not built)")
            continue
        try:
            row = [
                per_op(runner, exe, w, 1420, n_pkt)
                for w in ("seal", "open", "chacha20", "poly1305")
            ]
            row.append(per_op(runner, exe, "blake2s", 1024, 20))
            x = per_op(runner, exe, "x25519", None, n_x)
        except (OSError, subprocess.CalledProcessError, ValueError, IndexError) as e:
            print(f"  {label:20s}  failed: {e}")
            continue
        print(f"  {label:20s} " + " ".join(f"{v:9.2f} " for v in row) + f"{x:15,.0f}")
    print(
        "  (AEAD open includes a 1436-byte memcpy per packet to restore the ciphertext: ~0.3-1 insn/B)"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument(
        "--insn-only", action="store_true", help="only the guest instruction counts"
    )
    ap.add_argument("--quick", action="store_true", help="shorter timing runs")
    args = ap.parse_args()
    secs = 0.1 if args.quick else 0.3
    mhz, note = cpu_mhz()
    print(METHOD.format(secs=secs, mhz=mhz, mhz_note=note))
    if not args.insn_only:
        try:
            host_tables(secs, mhz)
        except ImportError as e:
            print(f"(host tables skipped: {e}; run inside the venv after `make build`)")
    guest_tables(pathlib.Path(args.build))
    return 0


if __name__ == "__main__":
    sys.exit(main())
