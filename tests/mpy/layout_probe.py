"""Print each wgcore struct as MicroPython's uctypes sees it, one line per field:
`struct field offset size`, then `struct - 0 sizeof`. Run by test_layout.py under
micropython on every target, beside the same lines from the C compiler."""

import uctypes

from wgpy.runtime import layout


def probe(struct: str) -> None:
    desc = layout.uctypes_layout(struct)
    size = uctypes.sizeof(desc)
    buf = bytearray(size)
    base = uctypes.addressof(buf)
    s = uctypes.struct(base, desc, uctypes.NATIVE)
    for name, _, ctype, _, count in layout.fields(struct)[2]:
        if ctype in layout.SCALARS or ctype == "ptr":
            # All bits set in one element: its bytes show where uctypes puts it.
            buf[:] = bytes(size)
            if count > 1:
                getattr(s, name)[0] = -1 if ctype == "int32_t" else (1 << 64) - 1
            else:
                setattr(s, name, -1 if ctype == "int32_t" else (1 << 64) - 1)
            hit = [i for i in range(size) if buf[i]]
            offset, width = hit[0], len(hit) * count
        else:
            offset = uctypes.addressof(getattr(s, name)) - base
            width = uctypes.sizeof(getattr(s, name))
        print(struct, name, offset, width)
    print(struct, "-", 0, size)


for name in layout.STRUCTS:
    probe(name)
