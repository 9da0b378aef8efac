"""The one door to the C core, on either runtime (see wgpy/runtime/__init__.py).

CPython: the cffi extension wgpy._wgcore (built by cffi from src/core).
MicroPython: libwgcore.so through `ffi`, in wgpy/runtime/mpy_core.py.

Both give `lib` (wgcore.h's functions and #defines) and the same helpers for
what cffi and `ffi` spell differently: buffer() turns any Python buffer into a
pointer argument (C writes only into bytearrays the caller made), writable()
also refuses read-only buffers (for callers' buffers C writes into), new()
allocates structs, c_string() reads a `const char *` result. wgpy/crypto.py wraps the primitives and
wgpy/daemon/datapath.py the data path; nothing else calls C, so every length
check happens in those two wrappers. `ffi` itself is CPython's, for
daemon/datapath.py, which does not run on MicroPython yet.
"""

from wgpy.runtime import MICROPYTHON

if MICROPYTHON:
    from wgpy.runtime.mpy_core import LIBRARY, NULL, Library, buffer, c_string, new, writable

    lib = Library(LIBRARY)
else:
    from wgpy._wgcore import ffi, lib

    NULL = ffi.NULL
    buffer = ffi.from_buffer

    def writable(buf):
        """A writable buffer as a `uint8_t *` argument or pointer field value."""
        try:
            return ffi.from_buffer(buf, require_writable=True)
        except (BufferError, TypeError):
            raise TypeError("in-place operations need a writable buffer (bytearray, memoryview)") from None

    def new(struct: str, count=None):
        """Zeroed C memory for one struct, or an array of count: (memory for C calls,
        view of its fields), one cdata object here."""
        memory = ffi.new(f"struct {struct} *") if count is None else ffi.new(f"struct {struct}[]", count)
        return memory, memory

    def c_string(value) -> str:
        return ffi.string(value).decode()
