"""Reading and writing UCI configs: the only module that touches files under the config
directory (`/etc/config`, or another one as `uci -c DIR` allows).

Where it reads: as libuci, `/var/run/uci/NAME` when that file exists (libuci's override,
`uci -C`), else `CONFDIR/NAME`; writes go to the same file, as `uci commit` does.

Backends: with OpenWrt's python3-uci installed (the `uci` module of pyuci), a router reads
through libuci itself; without it (or `backend="syntax"`) syntax.py's port of libuci's
parser reads the bytes. Both give a `syntax.Package`; the differential tests hold them to
the same result. Uncommitted `uci set` changes (deltas) are not read, as netifd does not.

Writes always go through wgpy's own writer, with libuci's lock: an exclusive flock on the
config file (libuci's file.c: uci_open_stream, uci_file_commit), held from reading the file
to writing it. libuci locks whichever file it opened and never checks that it is still the
one at the path, so wgpy writes into the locked file itself (a libuci commit waiting on it
then reads wgpy's edit) rather than renaming a new file over it, which would leave such a
waiter working on a stale copy beside the next writer; a journal makes that write crash
safe (see _replace). libuci's own commit renames after releasing its lock, so while its
temp file (`.NAME.uci-*`) exists, or when the locked file is no longer the one at the path,
wgpy waits and retries.
"""

import contextlib
import errno
import time

from wgpy.runtime.system import fcntl, monotonic, os
from wgpy.uci import syntax

DEFAULT_CONFDIR = "/etc/config"
OVERRIDE_DIR = "/var/run/uci"  # libuci's UCI_CONF2DIR
# A libuci temp file older than this is a crashed commit's, not one about to be renamed.
_STALE_COMMIT_S = 2.0
_RETRY_S = 0.005


class UciError(Exception):
    """A config that cannot be read or written; the message names the file."""

    def __init__(self, path: str, message: str, line: "int | None" = None) -> None:
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
    """One config directory; `backend` forces "pyuci" or "syntax" (default: pyuci if present).
    `overridedir` is libuci's override directory; pyuci can only use libuci's own."""

    def __init__(self, confdir: str = DEFAULT_CONFDIR, backend: "str | None" = None,
                 overridedir: str = OVERRIDE_DIR) -> None:
        self.confdir, self.overridedir = confdir, overridedir
        self._uci = _load_pyuci() if backend in (None, "pyuci") else None
        if backend == "pyuci" and self._uci is None:
            raise UciError(confdir, "the uci Python module (python3-uci) is not installed")
        if self._uci is not None and overridedir != OVERRIDE_DIR:
            if backend == "pyuci":
                raise UciError(overridedir, "pyuci reads only libuci's own override directory")
            self._uci = None

    def path(self, config: str) -> str:
        """The file that holds `config`: the override if there is one, as libuci chooses."""
        override = os.path.join(self.overridedir, config)
        return override if os.path.exists(override) else os.path.join(self.confdir, config)

    # ---- reading ----

    def load(self, config: str) -> syntax.Package:
        """The committed contents of `config`; raises UciError if missing or unparsable."""
        path = self.path(config)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise UciError(path, os.strerror(exc.errno)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # as libuci reads: no half-written file
            data = _read_all(fd)
        finally:
            os.close(fd)
        if self._uci is None:
            return self._parse(path, config, data)
        parsed: "syntax.Package | None" = None
        error: "UciError | None" = None
        try:
            parsed = self._parse(path, config, data)
        except UciError as exc:
            error = exc
        try:
            package = self._load_pyuci(config, path, error)
        except UnicodeDecodeError as exc:
            # libuci reads bytes; only the binding cannot hand non-UTF-8 ones to Python.
            if parsed is None:
                raise UciError(path, f"not UTF-8 text: {exc.reason}") from None
            return parsed
        # The syntax reader's result carries line numbers; it is used where the two agree,
        # as the differential tests say they always do.
        return parsed if parsed is not None and parsed.as_dict() == package.as_dict() \
            else package

    @staticmethod
    def _parse(path: str, config: str, data: bytes) -> syntax.Package:
        try:
            return syntax.parse(data, config)
        except syntax.UciSyntaxError as exc:
            raise UciError(path, f"parse error: {exc.message}", exc.line) from None

    # ---- writing ----

    @contextlib.contextmanager
    def edit(self, config: str):  # yields the syntax.Package
        """`with store.edit("network") as package:` edit it in place; on leaving the block
        the package is committed, under libuci's lock taken before reading. Nothing is
        written if the block raises, if nothing changed, or if the result is not a file
        libuci reads back the same (UciError)."""
        path, fd = self._lock(config)
        try:
            package = self._parse(path, config, _read_all(fd))
            before = repr(package.as_dict())
            yield package
            if repr(package.as_dict()) == before:
                return  # nothing changed: the file (and its comments) stay as they are
            try:
                text = syntax.render(package).encode("utf-8", "surrogateescape")
            except syntax.UciValueError as exc:
                raise UciError(path, f"not written: {exc}") from None
            self._replace(path, fd, text)
        finally:
            os.close(fd)  # releases the lock

    def update(self, config: str, change):
        """Run `change(package)` (a function of the syntax.Package) inside `edit` and
        return its result."""
        with self.edit(config) as package:
            return change(package)

    def set_option(self, config: str, section: str, option: str, value: str) -> None:
        """Set one option of a section and commit the config, as `uci set; uci commit`."""
        with self.edit(config) as package:
            target = package.find(section)
            if target is None:
                raise UciError(self.path(config), f"no section '{section}'")
            target.options[option] = syntax.Option(option, value)  # in place: a minimal diff

    def save(self, package: syntax.Package) -> None:
        """Commit a whole package as it is (sections added, changed or removed), under the
        lock. A load-edit-save that must not lose a concurrent edit uses `edit` instead."""
        with self.edit(package.name) as current:
            current.sections[:] = package.sections

    def _lock(self, config: str):
        """Open and exclusively flock the config file that is at the path (not one a
        concurrent rename has replaced), with no libuci commit between unlock and rename."""
        start = monotonic()
        while True:
            path = os.path.realpath(self.path(config))  # libuci renames onto the real path
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError as exc:
                raise UciError(path, os.strerror(exc.errno)) from None
            fcntl.flock(fd, fcntl.LOCK_EX)
            # In this order: a libuci temp file that is gone was renamed, which the inode
            # then shows; none can appear while we hold the lock.
            pending = [n for n in os.listdir(os.path.dirname(path))
                       if n.startswith(f".{config}.uci-")]
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
                current = False  # renamed away
            if current and (not pending or monotonic() - start > _STALE_COMMIT_S):
                _recover(path, fd)
                return path, fd
            os.close(fd)
            time.sleep(_RETRY_S)

    @staticmethod
    def _replace(path: str, fd: int, text: bytes) -> None:
        """Write `text` into the locked file itself, never a new file renamed over it: a
        libuci process waiting for the lock holds this file open and will read it, so
        whatever it commits next includes this edit. Crash safety comes from a journal:
        the full new content is first made durable beside the file (a unique temp name
        renamed to .NAME.wgpy-journal) and removed once the file holds it; a journal left
        by a crash is copied in by the next writer, under the lock (`_recover`)."""
        write_atomic(_journal(path), text)
        _write_in_place(fd, text)
        os.unlink(_journal(path))

    # ---- libuci through pyuci ----

    def _load_pyuci(self, config: str, path: str, error: "UciError | None") -> syntax.Package:
        """The package as libuci loads it; a refusal is reported as `error` (the syntax
        reader's, with its line) when there is one."""
        # An empty private savedir hides other processes' uncommitted deltas.
        import tempfile  # CPython only, as pyuci

        with tempfile.TemporaryDirectory(prefix="wgpy-uci-") as savedir:
            cursor = self._uci.Uci(savedir=savedir, confdir=self.confdir)
            try:
                data = cursor.get(config)
                types = {name: cursor.get(config, name) for name in data}
            except self._uci.UciException as exc:
                raise error or UciError(path, str(exc) or "cannot load") from None
        package = syntax.Package(config)
        for position, (name, options) in enumerate(data.items(), 1):
            kind = types[name]
            anonymous = name == syntax.anonymous_name(position, kind)
            section = syntax.Section(kind, None if anonymous else name)
            for key, value in options.items():
                section.options[key] = syntax.Option(
                    key, list(value) if isinstance(value, tuple) else value)
            package.sections.append(section)
        return package


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Make `path` hold `data`, durably, or leave it as it was: a new file with a unique
    name beside it, synced, then renamed over it."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _journal(path: str) -> str:
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}.wgpy-journal")


def _write_in_place(fd: int, text: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    view = memoryview(text)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)
    os.lseek(fd, 0, os.SEEK_SET)


def _recover(path: str, fd: int) -> None:
    """Finish a write a crash interrupted: the journal holds its whole content."""
    try:
        with open(_journal(path), "rb") as f:
            text = f.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return  # nothing to finish
        raise
    _write_in_place(fd, text)
    os.unlink(_journal(path))


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
