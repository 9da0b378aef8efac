"""The store: the built-in backend, and the pyuci backend against a stand-in `uci` module
with python3-uci's API as documented (get -> {section: {option: str|tuple}} with anonymous
sections named cfgXXXXXX, get(cfg, sec) -> type, set + commit), since Debian has no pyuci."""

import sys
import types

import pytest

from wgpy.uci import syntax
from wgpy.uci.store import Store, UciError

TEXT = ("\nconfig interface 'wg0'\n\toption proto 'wgpy'\n\toption private_key 'generate'\n"
        "\tlist addresses '10.0.0.1/24'\n\nconfig wireguard_wg0\n\toption description 'x'\n\n")


def fake_uci_module(calls: list):
    """A stand-in for pyuci's `uci` module, reading files through syntax.py."""
    module = types.ModuleType("uci")

    class UciException(Exception):
        pass

    class Uci:
        def __init__(self, savedir=None, confdir="/etc/config"):
            calls.append(("init", savedir is not None))
            self.confdir = confdir

        def _package(self, config):
            with open(f"{self.confdir}/{config}") as f:
                return syntax.parse(f.read(), config)

        def _sections(self, config):
            """libuci's naming: anonymous sections become cfg + 6 hex digits."""
            return {s.name or f"cfg{i:02x}{i * 7:04x}": s
                    for i, s in enumerate(self._package(config).sections)}

        def get(self, config, section=None):
            sections = self._sections(config)
            if section is not None:
                return sections[section].type
            return {name: {o.name: tuple(o.value) if isinstance(o.value, list) else o.value
                           for o in s.options.values()} for name, s in sections.items()}

        def set(self, config, section, option, value):
            calls.append(("set", config, section, option, value))

        def commit(self, config):
            calls.append(("commit", config))

    module.Uci, module.UciException = Uci, UciException
    return module


@pytest.fixture
def confdir(tmp_path):
    (tmp_path / "network").write_text(TEXT)
    return tmp_path


def test_builtin_backend_reads_and_sets_one_option(confdir):
    store = Store(str(confdir), backend="syntax")
    package = store.load("network")
    assert package.as_dict()[0][2]["addresses"] == ["10.0.0.1/24"]
    store.set_option("network", "wg0", "private_key", "KEY")
    assert (confdir / "network").read_text() == TEXT.replace("'generate'", "'KEY'")
    assert [p.name for p in confdir.iterdir()] == ["network"]  # no temp file left behind


def test_builtin_backend_errors_name_the_file(tmp_path):
    with pytest.raises(UciError) as info:
        Store(str(tmp_path), backend="syntax").load("network")
    assert str(tmp_path / "network") in str(info.value)


def test_pyuci_backend(confdir, monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "uci", fake_uci_module(calls))
    store = Store(str(confdir))
    assert store.load("network").as_dict() == syntax.parse(TEXT, "network").as_dict()
    store.set_option("network", "wg0", "private_key", "KEY")
    assert ("set", "network", "wg0", "private_key", "KEY") in calls
    assert calls[-1] == ("commit", "network")
    # Always a private savedir: other processes' uncommitted deltas are not read.
    assert all(call[1] for call in calls if call[0] == "init")


def test_pyuci_required_but_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "uci", None)
    with pytest.raises(UciError):
        Store("/nonexistent", backend="pyuci")
