"""Run every fuzz target for a while, one at a time, at nice 19, and report the figures.

`run.py --seconds N [--build build/fuzz] [--report FILE] [--only NAME...] [--regressions-only]`

C targets are the libFuzzer binaries built by mk/fuzz.mk (ASan + UBSan); Python targets go
through atheris (atheris_main.py). Each target keeps a corpus in BUILD/corpus/NAME, seeded
from tests/fuzz/regressions/NAME; a crash is written to BUILD/crashes/NAME-crash-* and makes
the run fail. Before fuzzing, every file in tests/fuzz/regressions/NAME is replayed. Output:
one line per target, `NAME execs=E seconds=S exec/s=R cov=C result=ok|CRASH`.
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
C_TARGETS = ["fuzz_aead", "fuzz_batch", "fuzz_replay", "fuzz_dp_rx", "fuzz_cookie"]
PY_TARGETS = ["datagram", "messages", "uapi", "uci"]
ALL = C_TARGETS + PY_TARGETS


def command(name: str, build: pathlib.Path) -> list:
    if name in C_TARGETS:
        return ["nice", "-n", "19", str(build / name)]
    # targets.py imports wgtestlib, the protocol tests' helpers.
    return ["nice", "-n", "19", "env", f"PYTHONPATH={HERE.parent / 'protocol'}", sys.executable,
            str(HERE / "atheris_main.py"), name]


def regression_files(name: str) -> list:
    folder = HERE / "regressions" / name
    return sorted(str(p) for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def replay(name: str, build: pathlib.Path) -> subprocess.CompletedProcess:
    """Run the target once over each regression file (no fuzzing)."""
    files = regression_files(name)
    if not files:
        return subprocess.CompletedProcess([], 0, "", "")
    return subprocess.run(command(name, build) + ["-runs=1"] + files, capture_output=True,
                          text=True, timeout=300, cwd=build)


def fuzz(name: str, seconds: float, build: pathlib.Path) -> dict:
    corpus = build / "corpus" / name
    crashes = build / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for path in regression_files(name):
        shutil.copy(path, corpus)
    argv = command(name, build) + [f"-max_total_time={int(seconds)}", "-print_final_stats=1",
                                   "-timeout=10", "-rss_limit_mb=1024",
                                   f"-artifact_prefix={crashes}/{name}-", str(corpus)]
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, cwd=build)
    elapsed = time.monotonic() - start
    out = proc.stderr + proc.stdout
    execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
    cov = re.findall(r"cov: (\d+)", out)
    return {"name": name, "execs": int(execs.group(1)) if execs else 0,
            "seconds": round(elapsed, 1), "cov": int(cov[-1]) if cov else 0,
            "ok": proc.returncode == 0, "log": out}


def line(r: dict) -> str:
    rate = r["execs"] / r["seconds"] if r["seconds"] else 0
    return (f"{r['name']:<12} execs={r['execs']:<9} seconds={r['seconds']:<6} "
            f"exec/s={rate:<8.0f} cov={r['cov']:<5} result={'ok' if r['ok'] else 'CRASH'}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--build", default=str(ROOT / "build" / "fuzz"))
    ap.add_argument("--report")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    build = pathlib.Path(args.build).resolve()
    failed = False
    lines = []
    for name in args.only or ALL:
        rep = replay(name, build)
        if rep.returncode != 0:
            print(f"{name}: a regression input fails again:\n{rep.stderr[-3000:]}")
            failed = True
            continue
        result = fuzz(name, args.seconds, build)
        if not result["ok"]:
            print(result["log"][-4000:])
            failed = True
        lines.append(line(result))
        print(lines[-1], flush=True)
    if args.report:
        pathlib.Path(args.report).write_text("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
