"""cffi builder for the C core (out-of-line API mode: a real compiled extension).

The cdef is read from core/wgcore.h itself, so the header stays the one
description of the ABI. Crypto files are always built with -O2 (see README).
"""

import os
import re
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
CORE = os.path.normpath(os.path.join(HERE, "..", "core"))
# setuptools refuses absolute source paths; it runs us from the project root.
SOURCES = sorted(
    os.path.relpath(os.path.join(CORE, name))
    for name in os.listdir(CORE)
    if name.endswith(".c") and name != "selftest.c"
)


def _cdef_text() -> str:
    """The header minus preprocessor lines that cffi's parser does not take."""
    with open(os.path.join(CORE, "wgcore.h")) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#define"):
            continue
        if re.match(r"#define\s+WGCORE_H\b", stripped):
            continue
        lines.append(line)
    return "\n".join(lines)


def _cflags() -> list:
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden", "-pthread"]
    extra = os.environ.get("WGC_CFLAGS")
    if extra:
        flags += extra.split()
    return flags


ffibuilder = FFI()
ffibuilder.cdef(_cdef_text())
ffibuilder.set_source(
    "wgpy._wgcore",
    '#include "wgcore.h"',
    sources=SOURCES,
    include_dirs=[os.path.relpath(CORE)],
    extra_compile_args=_cflags(),
    # The datapath's worker threads (core/datapath.c).
    libraries=["pthread"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True, tmpdir=sys.argv[1] if len(sys.argv) > 1 else ".")
