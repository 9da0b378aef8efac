"""Short coverage-guided runs of every fuzz target (part of `make test`; `make fuzz` runs
them longer). Invariants: a datagram gives a drop or a valid event; UAPI text, fed whole or
one byte at a time, gives errno=N with state unchanged; a UCI file gives a located error and
is not rewritten; the C open/decrypt, batch, replay and data-path receive entry points never
trip ASan/UBSan and never accept a forgery.

Each target first replays its files in tests/fuzz/regressions/NAME, then fuzzes for
WGPY_FUZZ_SMOKE_SECONDS (default 6) at nice 19; the figures go to build/fuzz/smoke-report.txt.
"""

import os
import pathlib
import shutil
import subprocess

import pytest

import run

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = ROOT / "build" / "fuzz"
SECONDS = float(os.environ.get("WGPY_FUZZ_SMOKE_SECONDS", "6"))


@pytest.fixture(scope="module")
def c_build():
    if not shutil.which("clang"):
        pytest.skip("clang missing: run `make fuzz-deps`")
    result = subprocess.run(["make", "-s", "-f", "mk/fuzz.mk", "fuzz-build",
                             f"BUILD={ROOT / 'build'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return BUILD


@pytest.fixture(scope="module")
def report():
    lines = []
    yield lines
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "smoke-report.txt").write_text("\n".join(lines) + "\n")


def _run(name: str, build: pathlib.Path, report: list) -> None:
    replayed = run.replay(name, build)
    assert replayed.returncode == 0, f"regression input fails again:\n{replayed.stderr[-3000:]}"
    result = run.fuzz(name, SECONDS, build)
    report.append(run.line(result))
    print(report[-1])
    assert result["ok"], result["log"][-4000:]
    assert result["execs"] > 0, result["log"][-2000:]


@pytest.mark.parametrize("name", run.C_TARGETS)
def test_c_target(name, c_build, report):
    _run(name, c_build, report)


@pytest.mark.parametrize("name", run.PY_TARGETS)
def test_python_target(name, report):
    pytest.importorskip("atheris", reason="atheris missing: run `make fuzz-deps`")
    BUILD.mkdir(parents=True, exist_ok=True)
    _run(name, BUILD, report)
