"""The one door to the C core, on either runtime (see wgpy/runtime/__init__.py).

CPython: the cffi extension wgpy._wgcore (built by cffi from src/core).
MicroPython: libwgcore.so through `ffi`, in wgpy/runtime/mpy_core.py.

Both give `lib` (wgcore.h's functions and #defines) and the same helpers for
what cffi and `ffi` spell differently: buffer() turns any Python buffer into a
pointer argument (C writes only into bytearrays the caller made), writable()
also refuses read-only buffers (for callers' buffers C writes into), new()
allocates structs and int32_array() int32_t arrays, c_string() reads a `const char *` result, copy_into() and
field_bytes() write and read a struct's byte-array field, pointed_bytes() reads
what a pointer field points at, sizeof() sizes a struct. wgpy/crypto.py wraps
the primitives and wgpy/daemon/datapath.py the data path; nothing else calls
C, so every length check happens in those two wrappers (and
wgpy/handshake_native.py, which still uses CPython's `ffi` itself).
"""

from wgpy.runtime import MICROPYTHON

if MICROPYTHON:
    from wgpy.runtime.mpy_core import (LIBRARY, NULL, Library, buffer, c_string, copy_into,
                                       field_bytes, int32_array, new, pointed_bytes, sizeof, writable)

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

    def int32_array(count: int):
        memory = ffi.new("int32_t[]", count)
        return memory, memory

    def copy_into(field, data) -> None:
        ffi.memmove(field, data, len(data))

    def field_bytes(field, size: int) -> bytes:
        return ffi.buffer(field, size)[:]

    def pointed_bytes(pointer, size: int) -> bytes:
        return ffi.buffer(pointer, size)[:]

    def sizeof(struct: str) -> int:
        return ffi.sizeof(f"struct {struct}")
