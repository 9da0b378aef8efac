"""The router side on MicroPython, against CPython running the same files: the UCI reader
reads every file as CPython's does (which test_libuci_diff.py holds to libuci itself),
a Store write under MicroPython honours libuci's lock, and the `wgpy` commands print
what CPython's print. On x86_64 and, under qemu-user, MIPS32r2 LE and ARMv7."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uci.ucigen import ISSUE_CASES, uci_files

from . import mpyrun

HERE = mpyrun.ROOT / "tests" / "mpy"
PRIVATE = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
NETWORK = f"""
config interface 'wgmpy0'
\toption proto 'wgpy'
\toption private_key '{PRIVATE}'
\tlist addresses '10.9.0.1/24'
\tlist addresses 'fd00:9::1/64'
\toption listen_port '51820'

config wireguard_wgmpy0 'phone'
\toption public_key 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg='
\tlist allowed_ips '10.9.0.2/32'
\toption endpoint_host '192.0.2.7'
\toption endpoint_port '51821'
\toption description 'Phone'

config wireguard_wgmpy0
\toption public_key 'not a key'

config interface 'wgmpy1'
\toption proto 'wgpy'
\toption mtu '20'

config interface 'lan'
\toption proto 'static'
"""


def _env(arch) -> dict:
    """MicroPython's environment as mpyrun.run makes it, for the runs it cannot make."""
    path = f".frozen:{mpyrun.ROOT / 'src'}:{mpyrun.PREFIX / 'lib' / 'micropython'}"
    return dict(os.environ, WGPY_LIBWGCORE=str(mpyrun.libwgcore(arch)), MICROPYPATH=path)


def _cpython(*args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], cwd=mpyrun.ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def _lines(result) -> list:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def _same_reading(arch, directory) -> int:
    """MicroPython's reading of every file in directory is CPython's; -> files compared."""
    cpython = _lines(_cpython(HERE / "uci_read.py", directory,
                              env=dict(os.environ, PYTHONPATH=str(mpyrun.ROOT / "src"))))
    micropython = _lines(mpyrun.run(arch, HERE / "uci_read.py", directory, heap="8M"))
    assert len(micropython) == len(cpython)
    for mine, theirs in zip(micropython, cpython):
        if mine.get("unicode"):  # MicroPython's str cannot hold bytes that are not UTF-8
            data = (directory / mine["file"]).read_bytes()
            with pytest.raises(UnicodeDecodeError):
                data.decode()
        else:
            assert mine == theirs
    return len(cpython)


def _write(directory, files) -> None:
    directory.mkdir(exist_ok=True)
    for n, data in enumerate(files):
        (directory / f"{n:04d}").write_bytes(data)


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_the_reader_reads_the_issue_cases_as_cpython(arch, tmp_path):
    _write(tmp_path / "files", ISSUE_CASES + [NETWORK.encode()])
    assert _same_reading(arch, tmp_path / "files") == len(ISSUE_CASES) + 1


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_the_reader_reads_generated_files_as_cpython(arch, tmp_path_factory):
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(uci_files(), min_size=25, max_size=25))
    def check(files):
        directory = tmp_path_factory.mktemp("generated")
        _write(directory, files)
        assert _same_reading(arch, directory) == 25
    check()


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_a_write_waits_for_libucis_lock_and_keeps_the_file(arch, tmp_path):
    network = tmp_path / "network"
    network.write_text(NETWORK)
    inode = network.stat().st_ino
    with open(network, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as `uci commit` holds it
        writer = subprocess.Popen([*mpyrun.interpreter(arch), str(HERE / "uci_set.py"),
                                   tmp_path, "network", "phone", "description", "Phone 2"],
                                  env=_env(arch), stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        assert writer.poll() is None and network.read_text() == NETWORK  # waiting
    assert writer.communicate(timeout=60)[0] == "done\n" and writer.returncode == 0
    assert network.stat().st_ino == inode  # written in place: a waiting libuci sees it
    assert network.read_text().count("'Phone 2'") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["network"]  # no journal or temp file


def _cli(arch, *args, runtime):
    if runtime == "cpython":
        return _cpython("-m", "wgpy.cli", *args)
    return mpyrun.run(arch, "-m", "wgpy.cli", *args, heap="8M")


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_the_commands_print_what_cpython_prints(arch, tmp_path, monkeypatch):
    (tmp_path / "network").write_text(NETWORK)
    # No interface recorded up; names no other test's daemon has in /var/run/wireguard.
    monkeypatch.setenv("WGPY_RUN_DIR", str(tmp_path / "run"))
    for args in (("status",), ("status", "--json"), ("showconf", "wgmpy0"), ("up", "wgmpy1"),
                 ("reload", "nope"), ("bogus",), ("up",)):
        args = ("-c", tmp_path) + args
        cpython, micropython = (_cli(arch, *args, runtime=r) for r in ("cpython", "micropython"))
        if "--json" in args:  # the same data; key order is MicroPython's dict order
            cpython.stdout, micropython.stdout = (json.loads(r.stdout)
                                                  for r in (cpython, micropython))
        assert (micropython.returncode, micropython.stdout, micropython.stderr) == \
            (cpython.returncode, cpython.stdout, cpython.stderr), args


@pytest.mark.parametrize("arch", mpyrun.arch_params())
def test_keys_are_wgs(arch):
    if not shutil.which("wg"):
        pytest.skip("no wg: run `make apt-deps` (wireguard-tools)")
    new = mpyrun.run(arch, "-m", "wgpy.cli", "genkey")
    assert new.returncode == 0 and len(new.stdout) == 45
    for private in (PRIVATE, new.stdout.strip(), "not a key", PRIVATE[:-2] + "n="):
        mine = subprocess.run([*mpyrun.interpreter(arch), "-m", "wgpy.cli", "pubkey"],
                              input=private, capture_output=True, text=True, env=_env(arch))
        wg = subprocess.run(["wg", "pubkey"], input=private, capture_output=True, text=True)
        assert (mine.returncode == 0, mine.stdout) == (wg.returncode == 0, wg.stdout), private
