"""The installed console scripts, run exactly as a user types them (issue #13 item 7: the
sub-parser swallowed `wgpy web --listen ...` while the tests called wgpy.web directly)."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from support.netns import free_port
from wgpy import cli, keys

BIN_DIR = os.path.dirname(sys.executable)
WGPY, WGPYD = os.path.join(BIN_DIR, "wgpy"), os.path.join(BIN_DIR, "wgpyd")
pytestmark = pytest.mark.skipif(not os.path.exists(WGPY) or not os.path.exists(WGPYD),
                                reason=f"no wgpy/wgpyd console scripts next to {sys.executable} "
                                       "(run `make build`)")


def run(*argv: str, stdin: str = "", timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), input=stdin, capture_output=True, text=True,
                          timeout=timeout, **kw)


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_has_help(command):
    result = run(WGPY, command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: wgpy {command}")
    assert cli.COMMANDS[command][0] in " ".join(result.stdout.split())


def test_top_level_help_lists_every_subcommand():
    result = run(WGPY, "--help")
    assert result.returncode == 0
    for command in cli.COMMANDS:
        assert f"\n    {command} " in result.stdout


def test_unknown_option_is_refused():
    result = run(WGPY, "web", "--bogus")
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr


@pytest.mark.parametrize("argv", [["--help"], ["-h"]])
def test_wgpyd_help(argv):
    result = run(WGPYD, *argv)
    assert result.returncode == 0 and result.stdout.startswith("Usage: wgpyd")


def test_genkey_pubkey_genpsk():
    private = run(WGPY, "genkey").stdout.strip()
    assert keys.is_key(private)
    assert run(WGPY, "pubkey", stdin=private + "\n").stdout.strip() == keys.public_key(private)
    assert keys.is_key(run(WGPY, "genpsk").stdout.strip())
    bad = run(WGPY, "pubkey", stdin="not a key\n")
    assert bad.returncode == 1 and "not the correct length" in bad.stderr


def test_passwd_then_web_with_every_documented_option(tmp_path):
    """`wgpy passwd --passwd-file F`, then `wgpy -c DIR web --listen --webroot --passwd-file
    -v`: the page is served from the given root and -v logs the request."""
    passwd = tmp_path / "web.passwd"
    no_shadow = str(tmp_path / "no-shadow")
    result = run(WGPY, "passwd", "--passwd-file", str(passwd), "--shadow", no_shadow,
                 stdin="a long enough password\n")
    assert result.returncode == 0, result.stderr
    assert passwd.read_text().startswith("scrypt$")
    webroot = tmp_path / "root"
    webroot.mkdir()
    (webroot / "index.html").write_text("<!doctype html><title>mine</title>\n")
    port = free_port()
    log = open(tmp_path / "web.log", "w+")
    proc = subprocess.Popen([WGPY, "-c", str(tmp_path), "web", "--listen", f"127.0.0.1:{port}",
                             "--webroot", str(webroot), "--passwd-file", str(passwd),
                             "--shadow", no_shadow, "-v"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        body = _get(f"http://127.0.0.1:{port}/", proc)
        assert body == (webroot / "index.html").read_bytes()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.seek(0)
        text = log.read()
        log.close()
    assert f"serving {webroot} on 127.0.0.1 port {port}" in text
    assert '"GET / HTTP/1.1" 200' in text            # -v


def _get(url: str, proc: subprocess.Popen) -> bytes:
    """GET url once the server listens (no proxy: the server is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 20
    while True:
        try:
            with opener.open(url, timeout=5) as answer:
                return answer.read()
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"wgpy web did not serve {url} (exit {proc.poll()})")
            time.sleep(0.2)


SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = os.path.join(SOURCE, "src", "wgpy", "webui")


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_venv_serves_the_page(tmp_path):
    """Issue #13 item 8: `pip install .` (a real wheel, not editable) must serve the page.
    The wheel is built from a clean copy of the sources (as the OpenWrt package copies them),
    so nothing left in the checkout's build/ can slip into it."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(os.path.join(SOURCE, name), project)
    shutil.copytree(os.path.join(SOURCE, "src"), project / "src", ignore=shutil.ignore_patterns(
        "__pycache__", "*.so", "*.egg-info", "_wgcore.c", "*.o"))
    pip = [sys.executable, "-m", "pip"]
    built = run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                "-w", str(tmp_path / "dist"), str(project), cwd=tmp_path, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel, = (tmp_path / "dist").glob("wgpy-*.whl")
    venv = tmp_path / "fresh"
    assert run(sys.executable, "-m", "venv", "--without-pip", str(venv)).returncode == 0
    python = str(venv / "bin" / "python")
    installed = run(*pip, "--python", python, "install", "--no-deps", "--no-index", "-q",
                    str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    # The one dependency, cffi, comes from the test venv (tests never download).
    import cffi
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    with open(os.path.join(site.stdout.strip(), "deps.pth"), "w") as f:
        f.write(os.path.dirname(os.path.dirname(cffi.__file__)) + "\n")
    where = run(python, "-c", "import wgpy.web.cli as c; print(c.default_webroot())",
                cwd=tmp_path)
    assert where.stdout.strip() == os.path.join(site.stdout.strip(), "wgpy", "webui"), where

    port = free_port()
    proc = subprocess.Popen([str(venv / "bin" / "wgpy"), "-c", str(tmp_path), "web", "--listen",
                             f"127.0.0.1:{port}", "--passwd-file", str(tmp_path / "pw"),
                             "--shadow", str(tmp_path / "no-shadow")],
                            cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for name, path in (("index.html", "/"), ("app.js", "/app.js"), ("wgpy.css", "/wgpy.css")):
            with open(os.path.join(PAGE, name), "rb") as f:
                assert _get(f"http://127.0.0.1:{port}{path}", proc) == f.read(), name
    finally:
        proc.terminate()
        proc.wait(timeout=10)
