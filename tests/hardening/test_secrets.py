"""Key material in the C core is wiped after use: BLAKE2s state after final (through the
cffi binding), data path keypairs when replaced, removed or freed, and no secret
intermediate of an AEAD, X25519 or KDF call left on the dead stack (tests/hardening/c/
wipe_check.c, built with the shipped -O2 and checked against a deliberately leaky control).
Keys in logs, ubus output and web responses are in test_live.py and test_hostile_input.py."""

import pathlib
import shutil
import subprocess

import pytest

from wgpy._native import ffi, lib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORE = ROOT / "src" / "core"


def test_blake2s_state_is_zero_after_final():
    state = ffi.new("struct wgc_blake2s_state *")
    key = bytes(range(1, 33))
    assert lib.wgc_blake2s_init(state, 32, key, 32) == 0
    lib.wgc_blake2s_update(state, b"secret chaining key material" * 3, 84)
    out = ffi.new("uint8_t[32]")
    lib.wgc_blake2s_final(state, out)
    assert bytes(ffi.buffer(state)) == bytes(ffi.sizeof(state[0]))
    assert bytes(out) != bytes(32)


@pytest.fixture(scope="module")
def wipe_report(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("wipe") / "wipe_check"
    sources = [str(p) for p in sorted(CORE.glob("*.c")) if p.name != "selftest.c"]
    build = subprocess.run([cc, "-std=gnu99", "-O2", f"-I{CORE}", "-pthread",
                            "-Wl,--wrap=free", "-o", str(exe),
                            str(ROOT / "tests/hardening/c/wipe_check.c"), *sources],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60).stdout
    print(out)
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}


def test_stack_scan_sees_an_unwiped_secret(wipe_report):
    assert wipe_report["control_unwiped_copy"] == "LEFT", "the scan is blind: results void"


@pytest.mark.parametrize("name", ["dp_keypairs", "aead_seal_poly1305_key",
                                  "aead_open_poly1305_key", "x25519_clamped_scalar", "kdf_t0"])
def test_key_material_is_wiped(wipe_report, name):
    assert wipe_report[name] == "wiped"
