"""Read every file in a directory with wgpy's UCI reader, under MicroPython (or CPython):
one JSON line per file, in name order, for tests/mpy/test_uci_router.py to compare.

    {"file": NAME, "sections": [[type, name, [[option, value], ...]], ...]}
    {"file": NAME, "error": [line, message]}    refused as libuci refuses it
    {"file": NAME, "unicode": true}             not UTF-8: MicroPython cannot hold it
"""

import json
import os
import sys

from wgpy.uci import syntax


def read(path: str) -> dict:
    with open(path, "rb") as f:
        data = f.read()
    try:
        package = syntax.parse(data, "network")
    except syntax.UciSyntaxError as exc:
        return {"error": [exc.line, exc.message]}
    except UnicodeError:
        return {"unicode": True}
    # Options as pairs: their order is part of what libuci reads.
    return {"sections": [[s.type, s.name, [[o.name, o.value] for o in s.options.values()]]
                         for s in package.sections]}


for name in sorted(os.listdir(sys.argv[1])):
    print(json.dumps(dict(read(sys.argv[1] + "/" + name), file=name)))
