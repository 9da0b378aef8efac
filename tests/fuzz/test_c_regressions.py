"""C findings of the fuzzers, each as a regression test that stands alone (no libFuzzer).

1. dp_lpm.c build_groups computes &t->groups[t->n_groups - 1] before checking n_groups == 0:
   index 0xffffffff, out of bounds (UBSan: "index 4294967295 out of bounds for type
   'struct dp_group[162]'"). Not dereferenced, but undefined behaviour on every non-empty
   allowed-IPs table. Found by fuzz_dp_rx at its first input; suppressed for the fuzzers in
   tests/fuzz/c/known-ub.txt until fixed.
"""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "src" / "core"

LPM_PROGRAM = r"""
#include <string.h>
#include "wgcore.h"
int main(void) {
    struct wgc_dp *dp = wgc_dp_new(4, 2048, 1420);
    struct wgc_dp_prefix p[2];
    memset(p, 0, sizeof(p));
    p[0].family = 4; p[0].len = 8; p[0].addr[0] = 10;
    p[1].family = 6; p[1].len = 8; p[1].addr[0] = 0xfd;
    int rc = wgc_dp_set_allowed_ips(dp, p, 2);
    wgc_dp_free(dp);
    return rc;
}
"""


def test_lpm_build_groups_has_no_out_of_bounds_index(tmp_path):
    cc = shutil.which("clang") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "lpm.c"
    src.write_text(LPM_PROGRAM)
    sources = [str(p) for p in sorted(CORE.glob("*.c")) if p.name != "selftest.c"]
    exe = tmp_path / "lpm"
    build = subprocess.run([cc, "-std=gnu99", "-g", "-O1", f"-I{CORE}", "-pthread",
                            "-fsanitize=undefined", "-fno-sanitize-recover=all",
                            "-o", str(exe), str(src), *sources], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30)
    assert "runtime error" not in run.stderr, run.stderr
    assert run.returncode == 0
