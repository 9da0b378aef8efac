"""wgpy.runtime: what differs between CPython and MicroPython, and nothing else.

wgpy runs the same source files on both interpreters. The C binding (cffi on
CPython, `ffi` + `uctypes` on MicroPython) sits behind wgpy._native, with the
MicroPython half in runtime/mpy_core.py and the struct layouts in
runtime/layout.py; the few standard-library gaps the shared code meets are
filled in runtime/compat.py.
"""

import sys

MICROPYTHON = sys.implementation.name == "micropython"
