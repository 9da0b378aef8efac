"""The store: both backends (the syntax reader, and the real pyuci from ../shared/owrt) give
the same packages; libuci's override directory; writes are atomic, locked, and refused when
libuci would read them differently."""

import fcntl
import os
import sys

import pytest

from support import owrt

from wgpy.uci import syntax
from wgpy.uci.store import Store, UciError

TEXT = ("\nconfig interface 'wg0'\n\toption proto 'wgpy'\n\toption private_key 'generate'\n"
        "\tlist addresses '10.0.0.1/24'\n\nconfig wireguard_wg0\n\toption description 'x'\n\n")


@pytest.fixture
def confdir(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "network").write_text(TEXT)
    return conf


def syntax_store(confdir, **kw):
    return Store(str(confdir), backend="syntax", overridedir=str(confdir.parent / "run"), **kw)


def test_builtin_backend_reads_and_sets_one_option(confdir):
    store = syntax_store(confdir)
    package = store.load("network")
    assert package.as_dict()[0][2]["addresses"] == ["10.0.0.1/24"]
    store.set_option("network", "wg0", "private_key", "KEY")
    assert (confdir / "network").read_text() == TEXT.replace("'generate'", "'KEY'")
    assert [p.name for p in confdir.iterdir()] == ["network"]  # no temp file left behind


def test_builtin_backend_errors_name_the_file(tmp_path):
    with pytest.raises(UciError) as info:
        Store(str(tmp_path), backend="syntax").load("network")
    assert str(tmp_path / "network") in str(info.value)


def test_crlf_inside_values_survives_load_and_save(confdir):
    """Issue 14: text-mode reading turned CR LF inside a value into LF."""
    (confdir / "network").write_bytes(b"config interface 'wg0'\n\toption x 'a\r\nb'\n")
    store = syntax_store(confdir)
    package = store.load("network")
    package.sections[0].options["y"] = syntax.Option("y", "1")
    store.save(package)
    assert (confdir / "network").read_bytes() == \
        b"\nconfig interface 'wg0'\n\toption x 'a\r\nb'\n\toption y '1'\n\n"


def test_a_refused_write_leaves_the_file_alone(confdir):
    store = syntax_store(confdir)
    with pytest.raises(UciError, match="NUL"):
        store.set_option("network", "wg0", "description", "x\x00\nconfig interface 'evil'")
    with pytest.raises(UciError):
        store.set_option("network", "wg0", "bad-name", "1")
    assert (confdir / "network").read_text() == TEXT


def test_an_edit_that_raises_writes_nothing(confdir):
    store = syntax_store(confdir)
    with pytest.raises(KeyError):
        with store.edit("network") as package:
            package.sections.clear()
            raise KeyError("no")
    assert (confdir / "network").read_text() == TEXT


def test_the_write_keeps_the_file_mode(confdir):
    os.chmod(confdir / "network", 0o600)
    syntax_store(confdir).set_option("network", "wg0", "private_key", "KEY")
    assert (confdir / "network").stat().st_mode & 0o777 == 0o600


def test_libuci_override_directory_is_followed(confdir):
    """libuci reads /var/run/uci/NAME instead of CONFDIR/NAME when it exists, and
    `uci commit` writes there: so does the store."""
    run = confdir.parent / "run"
    run.mkdir()
    (run / "network").write_text("config interface 'lan'\n\toption proto 'static'\n")
    store = syntax_store(confdir)
    assert [s.name for s in store.load("network").sections] == ["lan"]
    store.set_option("network", "lan", "proto", "dhcp")
    assert "'dhcp'" in (run / "network").read_text()
    assert (confdir / "network").read_text() == TEXT


def test_a_writer_waits_for_the_lock(confdir):
    """While another process (here: this test) holds libuci's lock on the file, the
    store does not write; it writes after the lock is released."""
    import threading
    store = syntax_store(confdir)
    fd = os.open(confdir / "network", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    writer = threading.Thread(target=store.set_option,
                              args=("network", "wg0", "private_key", "KEY"))
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and (confdir / "network").read_text() == TEXT
    os.close(fd)
    writer.join(5)
    assert "'KEY'" in (confdir / "network").read_text()


def test_pyuci_required_but_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "uci", None)
    with pytest.raises(UciError):
        Store("/nonexistent", backend="pyuci")


# ---- the real pyuci ----

@pytest.fixture
def pyuci_store(confdir, monkeypatch):
    # owrt.pyuci() skips without ../shared/owrt and keeps the binding out of sys.modules;
    # Store imports `uci` itself, as on a router.
    monkeypatch.setitem(sys.modules, "uci", owrt.pyuci())
    return Store(str(confdir), backend="pyuci")


def test_pyuci_and_syntax_backends_agree(confdir, pyuci_store):
    package = pyuci_store.load("network")
    assert package.as_dict() == syntax.parse(TEXT, "network").as_dict()
    assert package.sections[0].options["proto"].line == 3  # lines from the syntax reader


def test_pyuci_keeps_named_sections_that_look_anonymous(confdir, pyuci_store):
    """Issue 14: a section named like libuci's generated names stayed anonymous."""
    generated = syntax.anonymous_name(2, "wireguard_wg0")
    (confdir / "network").write_text(
        "config interface 'cfg0100aa'\nconfig wireguard_wg0\nconfig wireguard_wg0 'cfg030000'\n")
    libuci_view = pyuci_store._load_pyuci("network", str(confdir / "network"), None)
    assert [s.name for s in libuci_view.sections] == ["cfg0100aa", None, "cfg030000"]
    assert generated in owrt.pyuci().Uci(confdir=str(confdir),
                                          savedir=str(confdir.parent)).get("network")


def test_pyuci_undecodable_bytes(confdir, pyuci_store):
    """Issue 14: pyuci raised UnicodeDecodeError. libuci reads the bytes, so the store
    answers with the syntax reader's package, whose bytes survive a write."""
    (confdir / "network").write_bytes(b"config interface 'wg0'\n\toption x '\xff'\n")
    with pytest.raises(UnicodeDecodeError):
        pyuci_store._load_pyuci("network", str(confdir / "network"), None)
    assert pyuci_store.load("network").sections[0].options["x"].value == "\udcff"
    pyuci_store.set_option("network", "wg0", "y", "1")
    assert b"'\xff'" in (confdir / "network").read_bytes()


def test_pyuci_parse_errors_carry_the_line(confdir, pyuci_store):
    (confdir / "network").write_text("config interface 'wg0'\n\toption proto 'wgpy\n")
    with pytest.raises(UciError) as info:
        pyuci_store.load("network")
    assert info.value.line == 2


def test_a_write_interrupted_by_a_crash_is_finished_by_the_next_writer(confdir):
    """The journal holds the whole new content before the file is rewritten in place."""
    store = syntax_store(confdir)
    (confdir / "network").write_text(TEXT[:20])  # torn by the crash
    (confdir / ".network.wgpy-journal").write_text(TEXT)
    store.set_option("network", "wg0", "private_key", "KEY")
    assert (confdir / "network").read_text() == TEXT.replace("'generate'", "'KEY'")
    assert not (confdir / ".network.wgpy-journal").exists()


def test_override_directory_as_the_real_uci_reads_it(confdir):
    """Store and `uci -c CONF -C OVERRIDE` pick the same file and commit to the same one."""
    import subprocess
    owrt.need()
    run = confdir.parent / "run"
    run.mkdir()
    (run / "network").write_text("config interface 'lan'\n\toption proto 'static'\n")
    uci = [owrt.binary("uci"), "-c", str(confdir), "-C", str(run), "-t", str(confdir.parent)]
    subprocess.run(uci + ["set", "network.lan.mtu=1400"], check=True, env=owrt.env())
    subprocess.run(uci + ["commit", "network"], check=True, env=owrt.env())
    store = syntax_store(confdir)
    assert store.load("network").find("lan").get("mtu") == "1400"
    assert (confdir / "network").read_text() == TEXT


def test_a_stale_libuci_temp_file_delays_a_write_but_does_not_block_it(confdir):
    """A `.NAME.uci-*` file means a `uci commit` between its unlock and its rename; one a
    crash left behind is ignored after a bound."""
    import time
    (confdir / ".network.uci-AbC123").write_text("")
    start = time.monotonic()
    syntax_store(confdir).set_option("network", "wg0", "private_key", "KEY")
    assert 1.5 < time.monotonic() - start < 10
    assert "'KEY'" in (confdir / "network").read_text()
