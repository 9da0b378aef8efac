"""Which parts of wgpy may import which, read from the source with ast (imports inside
functions included): the layers the architecture review asked for stay as built."""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "wgpy"


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: pathlib.Path) -> set:
    """Every module `path` imports; `from a import b` counts as both a and a.b."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def importers(prefix: str) -> set:
    return {m for m, deps in MODULES.items() if any(within(d, prefix) for d in deps)}


def test_the_reader_sees_imports_of_every_form():
    """The checks below can fail: the reader finds imports at the top, inside functions,
    and relative ones."""
    assert within("wgpy.web.cli", "wgpy.web") and not within("wgpy.webui", "wgpy.web")
    assert "wgpy.router.control" in MODULES["wgpy.cli"]
    assert "wgpy.web.cli" in MODULES["wgpy.cli"]              # imported inside a function
    assert "wgpy.protocol.noise" in MODULES["wgpy.protocol.device"]   # `from . import noise`


def test_router_never_imports_web():
    assert not {m for m in importers("wgpy.web") if within(m, "wgpy.router")}


def test_the_command_line_is_the_only_way_into_web():
    """wgpy/cli.py is the one module outside web/ that imports it (and it imports router/)."""
    assert {m for m in importers("wgpy.web") if not within(m, "wgpy.web")} == {"wgpy.cli"}
    assert "wgpy.cli" in importers("wgpy.router")


def test_nothing_imports_the_command_lines():
    assert not importers("wgpy.cli") and not importers("wgpy.daemon.main")


def test_only_native_imports_the_c_extension():
    assert importers("wgpy._wgcore") == {"wgpy._native"}
    assert importers("wgpy.runtime.mpy_core") == {"wgpy._native"}


def test_only_the_runtime_layer_asks_which_runtime_this_is():
    asking = {module_name(p) for p in PACKAGE.rglob("*.py") if "sys.implementation" in p.read_text()}
    assert asking == {"wgpy.runtime"}


@pytest.mark.parametrize("layer,allowed", [
    # The sans-I/O core: crypto primitives (and the Noise messages in C) and itself,
    # nothing that does I/O or policy.
    ("wgpy.protocol", ("wgpy.protocol", "wgpy.crypto", "wgpy.handshake_native",
                       "wgpy.runtime")),
    ("wgpy.uci", ("wgpy.uci", "wgpy.keys", "wgpy.crypto", "wgpy.runtime")),
    # What differs between CPython and MicroPython: the bottom layer.
    ("wgpy.runtime", ("wgpy.runtime",)),
])
def test_lower_layers_stay_below(layer, allowed):
    for module, deps in MODULES.items():
        if within(module, layer):
            stray = {d for d in deps if within(d, "wgpy") and d != "wgpy"
                     and not any(within(d, a) for a in allowed)}
            assert not stray, f"{module} imports {sorted(stray)}"
