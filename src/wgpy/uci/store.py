"""Reading and writing UCI configs: the only module that touches files under the config
directory (`/etc/config`, or another one as `uci -c DIR` allows).

libuci, through OpenWrt's python3-uci (`uci` module of pyuci), is used when importable, so
wgpy sees exactly what `uci` sees; otherwise syntax.py reads and writes the files. Either
way callers get a `syntax.Package`. Uncommitted `uci set` changes are not read, matching
netifd, and a write is one option set plus a commit of that config.
"""

import os
import re
import tempfile
from typing import Optional

from wgpy.uci import syntax

DEFAULT_CONFDIR = "/etc/config"
# libuci names anonymous sections "cfg" + 6 hex digits; pyuci exposes only that name.
_ANONYMOUS = re.compile(r"cfg[0-9a-f]{6}\Z")


class UciError(Exception):
    """A config that cannot be read or written; the message names the file."""

    def __init__(self, path: str, message: str, line: Optional[int] = None) -> None:
        where = path if line is None else f"{path} line {line}"
        super().__init__(f"{where}: {message}")
        self.path, self.line = path, line


def _load_pyuci():
    try:
        import uci  # type: ignore[import-not-found]
    except ImportError:
        return None
    # A directory named `uci` on sys.path (a namespace package) is not the bindings.
    return uci if hasattr(uci, "Uci") else None


class Store:
    """One config directory; `backend` forces "pyuci" or "syntax" (default: pyuci if present)."""

    def __init__(self, confdir: str = DEFAULT_CONFDIR, backend: Optional[str] = None) -> None:
        self.confdir = confdir
        self._uci = _load_pyuci() if backend in (None, "pyuci") else None
        if backend == "pyuci" and self._uci is None:
            raise UciError(confdir, "the uci Python module (python3-uci) is not installed")

    def path(self, config: str) -> str:
        """The file that holds `config`."""
        return os.path.join(self.confdir, config)

    def load(self, config: str) -> syntax.Package:
        """The committed contents of `config`; raises UciError if missing or unparsable."""
        if self._uci is not None:
            return self._load_pyuci(config)
        try:
            with open(self.path(config), encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError as exc:
            raise UciError(self.path(config), exc.strerror or str(exc)) from None
        try:
            return syntax.parse(text, config)
        except syntax.UciSyntaxError as exc:
            raise UciError(self.path(config), f"parse error: {exc.message}", exc.line) from None

    def set_option(self, config: str, section: str, option: str, value: str) -> None:
        """Set one option of a named section and commit the config, as `uci set; uci commit`."""
        if self._uci is not None:
            self._set_pyuci(config, section, option, value)
            return
        package = self.load(config)
        target = package.find(section)
        if target is None:
            raise UciError(self.path(config), f"no section '{section}'")
        target.options[option] = syntax.Option(option, value)  # in place: a minimal diff
        self._write(config, syntax.render(package))

    def save(self, package: syntax.Package) -> None:
        """Commit a whole edited package (sections added, changed or removed) atomically.

        The file is written directly, also when libuci is present: it reads the result
        as the `uci` tool wrote it."""
        self._write(package.name, syntax.render(package))

    def _write(self, config: str, text: str) -> None:
        """Replace the file atomically, so a crash never leaves half a config."""
        path = self.path(config)
        fd, tmp = tempfile.mkstemp(prefix=f".{config}-", dir=self.confdir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            if os.path.exists(path):
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # ---- libuci through pyuci ----

    def _cursor(self, savedir: str):
        return self._uci.Uci(savedir=savedir, confdir=self.confdir)

    def _load_pyuci(self, config: str) -> syntax.Package:
        # An empty private savedir hides other processes' uncommitted deltas.
        with tempfile.TemporaryDirectory(prefix="wgpy-uci-") as savedir:
            cursor = self._cursor(savedir)
            try:
                data = cursor.get(config)
                types = {name: cursor.get(config, name) for name in data}
            except self._uci.UciException as exc:
                raise UciError(self.path(config), str(exc) or "cannot load") from None
        package = syntax.Package(config)
        for name, options in data.items():
            section = syntax.Section(types[name], None if _ANONYMOUS.match(name) else name)
            for key, value in options.items():
                section.options[key] = syntax.Option(
                    key, list(value) if isinstance(value, tuple) else value)
            package.sections.append(section)
        return package

    def _set_pyuci(self, config: str, section: str, option: str, value: str) -> None:
        with tempfile.TemporaryDirectory(prefix="wgpy-uci-") as savedir:
            cursor = self._cursor(savedir)
            try:
                cursor.set(config, section, option, value)
                cursor.commit(config)
            except self._uci.UciException as exc:
                raise UciError(self.path(config), str(exc) or "cannot write") from None
