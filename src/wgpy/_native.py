"""The only importer of the C extension (wgpy._wgcore, built by cffi from src/core).

wgpy/crypto.py wraps its primitives and wgpy/daemon/datapath.py its data path; nothing
else touches `ffi` or `lib`, so every length check happens in those two wrappers.
"""

from wgpy._wgcore import ffi, lib  # noqa: F401 - re-exported for the two wrappers

__all__ = ["ffi", "lib"]
