"""The real libuci as an oracle: what `uci export` makes of a file (tests/support/owrt.py
finds the build)."""

import os
import subprocess
import tempfile
from typing import Optional, Tuple

from support import owrt

from wgpy.uci import syntax


def export(data: bytes, name: str = "network") -> Tuple[Optional[bytes], str]:
    """(what `uci export` prints, "") for a file libuci loads, (None, its error) otherwise.
    Deltas and the /var/run/uci override are pointed at empty directories."""
    with tempfile.TemporaryDirectory(prefix="wgpy-libuci-") as tmp:
        conf, empty = os.path.join(tmp, "conf"), os.path.join(tmp, "empty")
        os.mkdir(conf)
        os.mkdir(empty)
        with open(os.path.join(conf, name), "wb") as f:
            f.write(data)
        proc = subprocess.run([owrt.binary("uci"), "-c", conf, "-t", empty, "-C", empty,
                               "export", name], capture_output=True, env=owrt.env())
    if proc.returncode != 0:
        return None, proc.stderr.decode(errors="replace")
    return proc.stdout, ""


def as_export(package: syntax.Package) -> bytes:
    """What `uci export` prints for a package wgpy read: libuci's own writer, types bare."""
    out = [b"package " + package.name.encode() + b"\n"]
    for section in package.sections:
        out.append(b"\nconfig " + _escape(section.type))
        if section.name is not None:
            out.append(b" '" + _escape(section.name) + b"'")
        out.append(b"\n")
        for option in section.options.values():
            items = option.value if isinstance(option.value, list) else [option.value]
            word = b"list " if isinstance(option.value, list) else b"option "
            for item in items:
                out.append(b"\t" + word + option.name.encode() + b" '" + _escape(item) + b"'\n")
    out.append(b"\n")
    return b"".join(out)


def _escape(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape").replace(b"'", b"'\\''")
