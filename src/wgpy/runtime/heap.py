"""MicroPython's heap in a long-running daemon (a no-op on CPython, whose memory is
reference-counted and freed at once).

MicroPython allocates upwards through its whole heap (`-X heapsize`, the launcher's
WGPY_HEAP) and collects only when it is full, so every page of the heap ends up
resident even when little of it is live. Collecting after every COLLECT_AFTER_BYTES of
allocation keeps allocations in the low part of the heap: the resident size follows
what is live, and the heap size is only a ceiling.
"""

from wgpy.runtime import MICROPYTHON

COLLECT_AFTER_BYTES = 128 << 10


def follow_live_size() -> None:
    if MICROPYTHON:
        import gc

        gc.threshold(COLLECT_AFTER_BYTES)
