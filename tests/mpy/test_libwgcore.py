"""libwgcore.so (mk/mpy.mk) is the cffi extension's C core as a plain shared library:
the same sources and compiler flags as src/wgpy/_core_build.py, all of wgcore.h's
functions exported for dlsym."""

import os
import shlex
import subprocess

from wgpy import _core_build
from wgpy.runtime import mpy_core

from . import mpyrun


def test_same_sources_and_flags_as_the_cffi_extension():
    dry = subprocess.run(["make", "-n", "-B", "build/libwgcore.so"], cwd=mpyrun.ROOT, check=True,
                         capture_output=True, text=True).stdout
    words = [w for line in dry.splitlines() if "-shared" in line for w in shlex.split(line)]
    assert words, dry
    sources = sorted(w for w in words if w.endswith(".c"))
    assert sources == sorted(os.path.normpath(s) for s in _core_build.SOURCES)
    # -fvisibility=hidden is the one difference: dlsym must see the symbols.
    expected = [f for f in _core_build._cflags() if f != "-fvisibility=hidden"]
    assert [f for f in words if f in expected] == expected


def test_every_function_of_the_header_is_exported():
    library = mpyrun.libwgcore("x86_64")
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(library)], check=True,
                             capture_output=True, text=True).stdout.split()
    assert set(mpy_core.FUNCTIONS) <= set(symbols)
