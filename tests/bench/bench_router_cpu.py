#!/usr/bin/env python3
"""TCP through kernel WireGuard, wgpyd and wireguard-go on one emulated router CPU, in one
boot (issue #18; docs/router-cpu.md).

    make bench-router-cpu-deps          # qemu-system and the guest's Debian packages
    make bench-router-cpu [BENCH_ARGS="--arch armhf --wgpy-tree ../mpyd"]

Not a test: it never asserts. Method, printed again with every run:

* qemu-system (TCG, -smp 1, -nic none: the guest has no network to the outside) boots
  Debian bookworm's own kernel for the board (mipsel: 4kc-malta on -M malta -cpu 24Kf;
  armhf: armmp on -M virt -cpu cortex-a7), which carries wireguard.ko, from an initramfs
  assembled here from Debian's packages for that architecture (busybox-static, iproute2,
  iperf3, wireguard-tools, wireguard-go, their libraries) plus the MicroPython build for
  that CPU, libwgcore.so cross-compiled from the wgpy tree and that tree's wgpy package.
* In the guest (tests/bench/guest/init): two network namespaces joined by veth; three
  tunnels side by side, each with both ends the same implementation: kernel WireGuard,
  wgpyd (MicroPython, the C data path), wireguard-go; three pings through each for the
  handshake; then RUNS rounds of iperf3 TCP (SECONDS, first second omitted) from one
  namespace to the other, each round through each tunnel in turn, so that the host's
  load drifting over the boot falls on all three alike.
* The figure is iperf3's receiver rate; the median of the runs is printed beside the others
  and their ratios. Emulation distorts absolute speeds (and favours no one here: the three
  share the CPU, the kernel and the boot).
* With wgpyd up (and before wireguard-go's tunnel is), the page's status call as rpcd makes
  it per call (issue #17): the package's launcher (package/wgpy/files/rpcd/wgpy.rpcd, as
  /usr/libexec/rpcd/wgpy) on the tree's modules compiled to .mpy (package/wgpy/build-mpy.sh),
  `call status` with `{}` on stdin, against a /etc/config/network naming wgpyd's interface
  (proto 'wgpy', one peer). STATUS_CALLS rounds (tests/bench/guest/calls.py) each time it,
  `micropython -c pass`, the status method's imports alone and a bare /bin/sh, with
  time.ticks_us around os.system; the last answer must show the interface up, no errors.
"""

import argparse
import gzip
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = pathlib.Path("/var/cache/wgpy-guest")
MPY = pathlib.Path("/var/cache/wgpy-micropython")

# The guest's userland, as Debian packages; each binary's libraries are then picked from
# them by its DT_NEEDED entries.
USERLAND = ("busybox-static libc6 libffi8 iproute2 libbpf1 libelf1 libmnl0 libcap2 libbsd0 "
            "libmd0 libatomic1 libgcc-s1 zlib1g libzstd1 libtirpc3 libselinux1 libxtables12 "
            "libpcre2-8-0 libdb5.3 iperf3 libiperf0 libssl3 libsctp1 wireguard-tools wireguard-go "
            "libgssapi-krb5-2 libkrb5-3 libk5crypto3 libcom-err2 libkrb5support0 "
            "libkeyutils1").split()
BINARIES = ("bin/busybox", "bin/ip", "usr/bin/iperf3", "usr/bin/wg", "usr/bin/wireguard-go")
MODULES = ("wireguard", "veth", "tun")
MODES = ("kernel", "wgpyd", "wireguard-go")

ARCHES = {
    "mipsel": dict(qemu="qemu-system-mipsel", machine="malta", cpu="24Kf", flavour="4kc-malta",
                   console="ttyS0", qemu_pkg="qemu-system-mips", triplet="mipsel-linux-gnu"),
    "armhf": dict(qemu="qemu-system-arm", machine="virt", cpu="cortex-a7", flavour="armmp",
                  console="ttyAMA0", qemu_pkg="qemu-system-arm", triplet="arm-linux-gnueabihf"),
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, **kw)


def root_of(arch):
    return CACHE / f"root-{arch}"


def fetch(arch):
    """qemu-system from apt, and the guest's packages downloaded and unpacked into the cache
    (once: remove the cache directory to take newer packages)."""
    spec = ARCHES[arch]
    root = root_of(arch)
    if shutil.which(spec["qemu"]) is None:
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", spec["qemu_pkg"]],
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if (root / "boot").is_dir():
        return
    # The meta-package names the current ABI's image.
    deps = run(["apt-cache", "depends", f"linux-image-{spec['flavour']}:{arch}"],
               capture_output=True).stdout
    image = re.search(r"Depends: (linux-image-\S+?)(:\S+)?$", deps, re.M).group(1)
    debs = CACHE / f"debs-{arch}"
    debs.mkdir(parents=True, exist_ok=True)
    run(["apt-get", "download", "-q"] + [f"{p}:{arch}" for p in USERLAND + [image]], cwd=debs)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    for deb in sorted(debs.glob("*.deb")):
        run(["dpkg-deb", "-x", str(deb), str(root)])


def needed(path):
    out = run(["readelf", "-d", "-l", str(path)], capture_output=True).stdout
    interp = re.search(r"Requesting program interpreter: (\S+)\]", out)
    return re.findall(r"\(NEEDED\).*\[(\S+)\]", out), interp.group(1) if interp else None


def modinfo_depends(ko):
    """The modules a .ko needs: its .modinfo "depends=" string."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", ko.read_bytes())
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def module_order(moddir, names):
    """The .ko files to insmod for NAMES, each after the modules it depends on."""
    index = {ko.stem.replace("-", "_"): ko for ko in moddir.rglob("*.ko")}
    order = []

    def visit(name):
        ko = index[name.replace("-", "_")]
        if ko in order:
            return
        for dep in modinfo_depends(ko):
            visit(dep)
        order.append(ko)

    for name in names:
        visit(name)
    return order


def cpio_newc(entries, out):
    """A newc archive of (path, mode, data-or-None for a directory), as the kernel unpacks."""
    with gzip.open(out, "wb", compresslevel=6) as f:
        for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
            data = data or b""
            nb = name.encode() + b"\0"
            fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
            f.write(b"070701" + b"".join(b"%08X" % v for v in fields) + nb)
            f.write(b"\0" * (-(110 + len(nb)) % 4) + data + b"\0" * (-len(data) % 4))


def build_libwgcore(arch, tree, workdir):
    """libwgcore.so for the guest CPU from TREE's sources, built outside the tree."""
    out = workdir / arch / "libwgcore.so"
    run(["nice", "-n", "19", "make", "-s", "-C", str(tree), f"BUILD={workdir}", str(out)])
    return out


def add_status_plugin(add, tree, workdir):
    """rpcd's exec plugin as the router package installs it: the launcher under the object's
    name and wgpy as .mpy where MicroPython looks by default, beside micropython-lib."""
    mpy = workdir / "mpy"
    run(["sh", str(tree / "package/wgpy/build-mpy.sh"), str(tree / "src"), str(mpy),
         str(MPY / "bin/mpy-cross")])
    for p in sorted((mpy / "wgpy").rglob("*.mpy")):
        add(f"usr/lib/micropython/wgpy/{p.relative_to(mpy / 'wgpy')}", p, 0o100644)
    add("usr/libexec/rpcd/wgpy", tree / "package/wgpy/files/rpcd/wgpy.rpcd")
    add("calls.py", HERE / "guest/calls.py", 0o100644)


def assemble(arch, tree, args, workdir):
    spec = ARCHES[arch]
    root = root_of(arch)
    kver = next((root / "lib/modules").iterdir()).name
    files = {}  # guest path -> (mode, bytes)

    def add(guest, src, mode=0o100755):
        files[guest] = (mode, pathlib.Path(src).read_bytes())

    def add_elf(guest, src):
        add(guest, src)
        libs, interp = needed(src)
        if interp and interp.lstrip("/") not in files:
            add(interp.lstrip("/"), root / interp.lstrip("/"))
        for lib in libs:
            guest_lib = f"lib/{spec['triplet']}/{lib}"
            if guest_lib in files:
                continue
            found = [p for d in ("lib", "usr/lib") for p in [root / d / spec["triplet"] / lib]
                     if p.exists()]
            if not found:
                sys.exit(f"{src}: {lib} not in the unpacked packages")
            add_elf(guest_lib, found[0].resolve())

    # busybox where init's #! names it; Debian's own tools ahead of its applets on PATH.
    for b in BINARIES:
        add_elf("bin/busybox" if b == "bin/busybox" else "usr/bin/" + os.path.basename(b), root / b)
    add("init", HERE / "guest/init")
    add("usr/bin/wgpyd", HERE / "guest/wgpyd")
    if args.status_calls:
        add_status_plugin(add, tree, workdir)
    add_elf("usr/bin/micropython", MPY / f"bin/micropython-{arch}")
    add_elf("usr/lib/libwgcore.so", build_libwgcore(arch, tree, workdir))
    for base, dest in ((MPY / "lib/micropython", "usr/lib/micropython"),
                       (tree / "src/wgpy", "usr/lib/wgpy/wgpy")):
        for p in sorted(base.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                add(f"{dest}/{p.relative_to(base)}", p, 0o100755 if os.access(p, os.X_OK)
                    else 0o100644)
    modules = module_order(root / "lib/modules" / kver, MODULES)
    for ko in modules:
        add(f"modules/{ko.name}", ko, 0o100644)
    conf = (f"MODULES='{' '.join(ko.name for ko in modules)}'\nMODES='{' '.join(args.modes)}'\n"
            f"RUNS={args.runs}\nDURATION={args.seconds}\nSTATUS_CALLS={args.status_calls}\n")
    files["bench.conf"] = (0o100644, conf.encode())
    dirs = {str(d) for g in files for d in pathlib.PurePosixPath(g).parents} - {"."}
    entries = ([(d, 0o40755, None) for d in sorted(dirs)]
               + [(g, m, b) for g, (m, b) in sorted(files.items())])
    initrd = workdir / f"initrd-{arch}.gz"
    cpio_newc(entries, initrd)
    return root / f"boot/vmlinuz-{kver}", initrd, kver


def parse_iperf3(text):
    """Mbit/s received, from one `iperf3 -J` client report."""
    report = json.loads(text)
    if "error" in report:
        raise ValueError(report["error"])
    return report["end"]["sum_received"]["bits_per_second"] / 1e6


def parse_console(text):
    """{mode: [Mbit/s per run]} and the errors, from the guest's console output."""
    results, errors = {}, re.findall(r"@@ERROR (.*?)\r?$", text, re.M)
    for mode, body in re.findall(r"@@BEGIN (\S+) \d+\r?\n(.*?)@@END", text, re.S):
        try:
            mbps = parse_iperf3(body.replace("\r", ""))
        except (ValueError, KeyError) as e:
            errors.append(f"{mode}: iperf3: {e}")
            continue
        results.setdefault(mode, []).append(mbps)
    return results, errors


def parse_calls(text):
    """{kind: [ms per call]}, and the problems with the last status answer, from the
    console lines of tests/bench/guest/calls.py."""
    times = {}
    for kind, us in re.findall(r"^@@CALL (\S+) (\d+)\r?$", text, re.M):
        times.setdefault(kind, []).append(int(us) / 1000)
    problems = []
    answers = re.findall(r"^@@STATUS (\S+) (.*?)\r?$", text, re.M)
    for ifname, body in answers:
        try:
            reply = json.loads(body)
        except ValueError:
            problems.append(f"status: not JSON: {body[:200]}")
            continue
        entry = reply.get("interfaces", {}).get(ifname) if isinstance(reply, dict) else None
        if entry is None or not entry.get("up") or reply.get("errors") or entry.get("errors"):
            problems.append(f"status: {ifname} not up without errors: {body[:300]}")
    if times and not answers:
        problems.append("status: no answer")
    return times, problems


def boot(arch, kernel, initrd, args):
    spec = ARCHES[arch]
    cmd = ["nice", "-n", "19", spec["qemu"], "-M", spec["machine"],
           "-cpu", args.cpu or spec["cpu"], "-smp", "1", "-m", str(args.mem),
           "-nic", "none", "-vga", "none", "-nographic", "-no-reboot",
           "-kernel", str(kernel), "-initrd", str(initrd),
           "-append", f"console={spec['console']} rdinit=/init quiet loglevel=1 panic=-1"]
    print("$", " ".join(cmd[3:]), flush=True)
    log = open(args.log, "w") if args.log else None
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    out = []
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            out.append(line)
            if log:
                log.write(line)
                log.flush()
            if line.startswith("@@") and not line.startswith(("@@BEGIN", "@@END", "@@CALL")):
                print(f"  [{time.monotonic() - start:5.0f} s] {line.strip()}", flush=True)
            elif line.startswith("@@END"):
                print(f"  [{time.monotonic() - start:5.0f} s] {line.strip()[6:]} done", flush=True)
            if line.startswith("@@DONE") or time.monotonic() - start > args.timeout:
                break
    finally:
        proc.kill()
        proc.wait()
    return "".join(out), time.monotonic() - start


def report_calls(times, args):
    print(f"\nrpcd exec plugin, wall ms per call, {args.status_calls} rounds "
          "(time.ticks_us around os.system, each including one /bin/sh):")
    labels = {"sh": "/bin/sh -c :", "pass": "micropython -c pass",
              "import": "status imports only", "status": "wgpy call status"}
    for kind, label in labels.items():
        v = times.get(kind)
        if not v:
            print(f"  {label:20s}     -   (no result)")
            continue
        print(f"  {label:20s} median {statistics.median(v):7.1f}  min {min(v):7.1f}  "
              f"max {max(v):7.1f}")
    if "status" in times:
        print("  status calls:", " ".join(f"{v:.0f}" for v in times["status"]))


def report(results, calls, errors, arch, cpu, kver, elapsed, args):
    print(f"\nTCP through the tunnel, {arch} {cpu} ({ARCHES[arch]['machine']}, -smp 1), "
          f"Debian kernel {kver}; median of {args.runs} x {args.seconds} s iperf3, Mbit/s:")
    med = {m: statistics.median(v) for m, v in results.items()}
    base = med.get("kernel")
    for mode in args.modes:
        if mode not in med:
            print(f"  {mode:13s}        -   (no result)")
            continue
        runs = " ".join(f"{v:.1f}" for v in results[mode])
        ratio = f"  {med[mode] / base:.2f}x kernel" if base else ""
        print(f"  {mode:13s} {med[mode]:8.1f}{ratio}   runs: {runs}")
    if "wgpyd" in med and "wireguard-go" in med:
        print(f"  wgpyd / wireguard-go: {med['wgpyd'] / med['wireguard-go']:.1f}x")
    if args.status_calls:
        report_calls(calls, args)
    for e in errors:
        print("  error:", e)
    print(f"  one boot, {elapsed:.0f} s wall")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", nargs="?", choices=("run", "fetch"), default="run")
    ap.add_argument("--arch", choices=sorted(ARCHES), default="mipsel")
    ap.add_argument("--cpu", help="qemu -cpu (default: 24Kf on mipsel, cortex-a7 on armhf)")
    ap.add_argument("--wgpy-tree", type=pathlib.Path, default=REPO,
                    help="the wgpy source tree copied into the guest (default: this one)")
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--status-calls", type=int, default=20,
                    help="rounds of rpcd's `wgpy call status` with wgpyd up (0: none)")
    ap.add_argument("--mem", type=int, default=256, help="guest MiB")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for the whole boot")
    ap.add_argument("--log", help="copy the guest console here")
    args = ap.parse_args()
    if args.command == "fetch":
        fetch(args.arch)
        return
    if not root_of(args.arch).is_dir():
        sys.exit(f"no {root_of(args.arch)}: "
                 f"make bench-router-cpu-deps BENCH_ARGS='--arch {args.arch}'")
    launcher = args.wgpy_tree / "src/wgpy/daemon/wgpyd-micropython"
    if "wgpyd" in args.modes and not launcher.exists():
        print(f"no {launcher} (wgpyd on MicroPython): wgpyd left out")
        args.modes.remove("wgpyd")
    if "wgpyd" not in args.modes:
        args.status_calls = 0
    print(__doc__[__doc__.index("* qemu"):], end="")
    with tempfile.TemporaryDirectory(prefix="wgpy-guest-") as tmp:
        kernel, initrd, kver = assemble(args.arch, args.wgpy_tree.resolve(), args,
                                        pathlib.Path(tmp))
        text, elapsed = boot(args.arch, kernel, initrd, args)
    results, errors = parse_console(text)
    calls, problems = parse_calls(text)
    errors += problems
    if "@@DONE" not in text:
        errors.append("the guest did not finish; its console ends:\n" + text[-2000:])
    report(results, calls, errors, args.arch, args.cpu or ARCHES[args.arch]["cpu"], kver,
           elapsed, args)


if __name__ == "__main__":
    main()
