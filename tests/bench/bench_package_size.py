"""Installed size of the MicroPython router package (issue #16: at most 400 KB beyond
`micropython` itself), itemised by part, raw and compressed with xz as squashfs would.

    python tests/bench/bench_package_size.py [--arch mipsel|armhf]

Stages the file set with `make router-stage` (exactly what package/wgpy/Makefile
installs), then adds the micropython-lib modules wgpy's command line loads (measured by
importing it under MicroPython): OpenWrt ships micropython-lib as one package, so those are
the part of it wgpy needs. Figures are printed, not asserted.

"Compressed as squashfs would": OpenWrt's squashfs packs file data, small files
concatenated into shared fragments, in 256 KiB blocks, each compressed with xz at
`-Xpreset 9 -Xe -Xlc 0 -Xlp 2 -Xpb 2`. Each part is compressed that way on its own; the
total compresses all parts together. Inodes and directories (some bytes a file) are left out.
"""

import argparse
import lzma
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PREFIX = pathlib.Path(os.environ.get("MPY_PREFIX", "/var/cache/wgpy-micropython"))
BLOCK = 256 * 1024
FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "lc": 0, "lp": 2,
            "pb": 2, "dict_size": BLOCK}]
TARGET = 400 * 1000

# part -> which staged paths (relative to the package root) belong to it, first match wins
PARTS = [
    ("libwgcore.so (C core, stripped)", lambda p: p.endswith("libwgcore.so")),
    ("wgpy protocol + crypto (.mpy)", lambda p: "/wgpy/protocol/" in p or p.endswith(
        ("/wgpy/crypto.mpy", "/wgpy/_native.mpy", "/wgpy/handshake_native.mpy",
         "/wgpy/keys.mpy", "/wgpy/__init__.mpy"))),
    ("wgpy runtime/ (.mpy)", lambda p: "/wgpy/runtime/" in p),
    ("wgpy uapi/ (.mpy)", lambda p: "/wgpy/uapi/" in p),
    ("wgpy uci/ (.mpy)", lambda p: "/wgpy/uci/" in p),
    ("wgpy router/ + cli (.mpy)", lambda p: "/wgpy/router/" in p or p.endswith("/cli.mpy")),
    ("wgpy daemon/ (.mpy)", lambda p: "/wgpy/daemon/" in p),
    ("wgpy web/ (.mpy, the rpcd plugin's handlers)", lambda p: "/wgpy/web/" in p),
    ("the page (/www/wgpy, LuCI's view and menu)", lambda p: p.startswith(
        ("www/", "/www/", "usr/share/luci/", "/usr/share/luci/"))),
    ("scripts, hotplug, defaults, plugin launchers, ACL", lambda p: True),
]

# What wgpy's command line imports, run under MicroPython to find the library modules.
IMPORTS = ("import sys, wgpy.cli, wgpy.router.control, wgpy.uci.edit, wgpy.router.killswitch, "
           "wgpy.router.firewall, wgpy.web.rpcd, wgpy.web.methods, wgpy.web.views, "
           "wgpy.web.actions\n"
           "for m in sys.modules.values():\n"
           "    f = getattr(m, '__file__', '')\n"
           "    f.startswith(sys.argv[1]) and print(f)\n")


def squashed(chunks) -> int:
    """xz size of the data as squashfs stores it: concatenated, in BLOCK-sized blocks."""
    data = b"".join(chunks)
    return sum(len(lzma.compress(data[i:i + BLOCK], format=lzma.FORMAT_XZ,
                                 check=lzma.CHECK_NONE, filters=FILTERS))
               for i in range(0, len(data), BLOCK))


def library_modules() -> list:
    """The micropython-lib .mpy files the command line loads."""
    lib = PREFIX / "lib" / "micropython"
    env = dict(os.environ, MICROPYPATH=f".frozen:{ROOT / 'src'}:{lib}",
               WGPY_LIBWGCORE=str(ROOT / "build" / "libwgcore.so"))
    subprocess.run(["make", "-s", "build/libwgcore.so"], cwd=ROOT, check=True)
    out = subprocess.run([str(PREFIX / "bin" / "micropython"), "-c", IMPORTS, str(lib)],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    return sorted(pathlib.Path(line) for line in out.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mipsel", choices=("mipsel", "armhf"))
    args = parser.parse_args()
    subprocess.run(["make", "-s", "router-stage", f"ROUTER_ARCH={args.arch}"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    stage = ROOT / "build" / "stage" / args.arch
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    groups = {name: [] for name, _ in PARTS}
    for path in files:
        rel = "/" + path.relative_to(stage).as_posix()
        groups[next(name for name, match in PARTS if match(rel))].append(path)
    library = library_modules()
    groups["micropython-lib modules wgpy loads (.mpy)"] = library

    print(f"wgpy router package for {args.arch}, staged in {stage.relative_to(ROOT)} "
          f"({len(files)} files)\n")
    print(f"{'part':48} {'files':>5} {'raw B':>9} {'xz B':>8}")
    rows, everything = [], []
    for name, paths in groups.items():
        chunks = [p.read_bytes() for p in paths]
        everything += chunks
        rows.append((name, len(paths), sum(map(len, chunks)), squashed(chunks)))
        print(f"{name:48} {rows[-1][1]:5d} {rows[-1][2]:9,d} {rows[-1][3]:8,d}")
    package = [p.read_bytes() for p in files]
    own_raw, own_xz = sum(map(len, package)), squashed(package)
    all_raw, all_xz = sum(map(len, everything)), squashed(everything)
    print(f"\n{'the package (wgpy, as installed)':48} {len(files):5d} {own_raw:9,d} {own_xz:8,d}")
    print(f"{'with the micropython-lib modules it loads':48} {len(files) + len(library):5d} "
          f"{all_raw:9,d} {all_xz:8,d}")
    print(f"\ntarget: <= {TARGET:,d} B beyond micropython itself "
          f"({'met' if all_xz <= TARGET else 'NOT met'} compressed, "
          f"{'met' if all_raw <= TARGET else 'not met'} raw)")
    full_lib = [p.read_bytes() for p in (PREFIX / "lib" / "micropython").rglob("*.mpy")
                if "unix" not in p.relative_to(PREFIX / "lib" / "micropython").parts]
    print(f"(for scale: all of micropython-lib, as OpenWrt's one package: "
          f"{sum(map(len, full_lib)):,d} B raw, {squashed(full_lib):,d} B xz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
