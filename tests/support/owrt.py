"""The real OpenWrt userland for tests: where ../shared/owrt built it and how to use it.

`make owrt-deps` (called from `make deps`, so from `make test`) runs ../shared/owrt/build.sh,
which installs libuci + `uci`, ubusd + `ubus`, netifd, rpcd, uhttpd and the Python bindings
`uci` (pyuci) and `ubus` into PREFIX. Tests ask `skip_reason()` (or call `need()`) and skip
with its text where the checkout has no ../shared/owrt or it is not built:

    from support import owrt
    pytestmark = pytest.mark.skipif(owrt.skip_reason() is not None,
                                    reason=str(owrt.skip_reason()))
    subprocess.run([owrt.binary("uci"), "-c", confdir, "export"], env=owrt.env(), ...)
    uci = owrt.pyuci()               # the `uci` module OpenWrt ships as python3-uci
"""

import importlib
import os
import pathlib
import sys
from typing import Dict, Optional

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "owrt"
PREFIX = pathlib.Path(os.environ.get("OWRT_PREFIX", "/var/cache/wgpy-owrt"))
PYLIB = PREFIX / "pylib"
ROUTER_NS = SHARED / "router-ns.sh"
ENV_SH = SHARED / "env.sh"


def skip_reason() -> Optional[str]:
    """Why the real OpenWrt parts cannot be used here, or None when they can."""
    if not SHARED.is_dir():
        return f"no {SHARED} (the real OpenWrt userland is not in this checkout)"
    if not (PREFIX / "sbin" / "ubusd").exists() or not (PREFIX / "venv" / "bin" / "python").exists():
        return f"{PREFIX} is not built: run `make owrt-deps` (../shared/owrt/build.sh)"
    return None


def need() -> None:
    """Skip the calling test (or module, at import) when the real parts are missing."""
    import pytest
    reason = skip_reason()
    if reason:
        pytest.skip(reason, allow_module_level=True)


def binary(name: str) -> str:
    """The path of one of the built programs (`uci`, `ubus`, `ubusd`, `netifd`, `rpcd`...)."""
    for sub in ("bin", "sbin"):
        path = PREFIX / sub / name
        if path.exists():
            return str(path)
    raise FileNotFoundError(f"{name} is not in {PREFIX}/bin or /sbin")


def env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """An environment as env.sh makes it: the built binaries first on PATH, the bindings on
    PYTHONPATH, OWRT_PREFIX/OWRT_PY/OWRT_PYTHONPATH set (router-ns.sh needs them)."""
    out = dict(os.environ if base is None else base)
    out["OWRT_PREFIX"] = str(PREFIX)
    out["OWRT_PY"] = str(PREFIX / "venv" / "bin" / "python")
    out["OWRT_PYTHONPATH"] = str(PYLIB)
    out["PATH"] = f"{PREFIX}/bin:{PREFIX}/sbin:{out.get('PATH', '/usr/bin:/bin')}"
    out["PYTHONPATH"] = os.pathsep.join(p for p in (str(PYLIB), out.get("PYTHONPATH")) if p)
    return out


def _import_binding(name: str):
    need()
    if str(PYLIB) not in sys.path:
        sys.path.insert(0, str(PYLIB))
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # built for another Python (pylib is cpython-311)
        import pytest
        pytest.skip(f"{PYLIB}/{name} does not load in this Python "
                    f"({sys.version_info.major}.{sys.version_info.minor}): {exc}")


def pyuci():
    """OpenWrt's Python UCI binding (PyPI pyuci, module `uci`), imported in this process."""
    return _import_binding("uci")


def pyubus():
    """OpenWrt's Python ubus binding (PyPI ubus, module `ubus`), imported in this process."""
    return _import_binding("ubus")
