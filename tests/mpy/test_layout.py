"""The uctypes descriptions MicroPython uses for wgcore.h's structs (wgpy/runtime/layout.py)
against the C compiler's offsetof/sizeof, on each architecture the package targets:
x86_64 natively, MIPS32r2 LE and ARMv7 under qemu-user."""

import subprocess

import pytest

from wgpy.runtime import layout

from . import mpyrun

HERE = mpyrun.ROOT / "tests" / "mpy"


def c_program() -> str:
    """A C program printing the same lines as layout_probe.py, from the compiler."""
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "wgcore.h"', "int main(void) {"]
    for struct, specs in layout.STRUCTS.items():
        for spec in specs:
            lines.append(f'  printf("{struct} {spec[0]} %u %u\\n", (unsigned)offsetof(struct {struct}, '
                         f'{spec[0]}), (unsigned)sizeof(((struct {struct} *)0)->{spec[0]}));')
        lines.append(f'  printf("{struct} - 0 %u\\n", (unsigned)sizeof(struct {struct}));')
    return "\n".join(lines + ["  return 0;", "}", ""])


def c_layout(arch: str, tmp_path) -> set:
    compiler, runner = mpyrun.ARCHES[arch]
    source, exe = tmp_path / "layout.c", tmp_path / f"layout-{arch}"
    source.write_text(c_program())
    try:
        subprocess.run(compiler + ["-std=c99", "-Wall", "-Werror", "-I", str(mpyrun.ROOT / "src/core"),
                                   "-o", str(exe), str(source)], check=True)
    except FileNotFoundError:
        pytest.skip(f"no {compiler[0]}: run `make cross-deps`")
    out = subprocess.run(([runner] if runner else []) + [str(exe)], check=True,
                         capture_output=True, text=True).stdout
    return set(out.splitlines())


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_uctypes_layouts_match_the_c_compiler(arch, tmp_path):
    mpy = mpyrun.run(arch, HERE / "layout_probe.py")
    assert mpy.returncode == 0, mpy.stderr + mpy.stdout
    seen = set(mpy.stdout.splitlines())
    expected = c_layout(arch, tmp_path)
    assert len(expected) == sum(len(f) + 1 for f in layout.STRUCTS.values())
    assert seen == expected, sorted(seen ^ expected)


@pytest.mark.parametrize("pointer_size,upcall_size", [(8, 56), (4, 52)])
def test_pointer_size_and_uint64_alignment(pointer_size, upcall_size):
    """The rules themselves, without a compiler: a pointer's size shifts what follows it,
    and uint64_t keeps its 8-byte alignment (x86_64, ARM EABI, MIPS o32), which pads
    wgc_batch_item on 32-bit targets."""
    assert layout.fields("wgc_dp_upcall", pointer_size)[0] == upcall_size
    size, align, items = layout.fields("wgc_batch_item", pointer_size)
    assert [(name, offset) for name, offset, *_ in items] == [
        ("data", 0), ("len", pointer_size), ("status", pointer_size + 4), ("counter", 16)]
    assert (size, align) == (24, 8)
