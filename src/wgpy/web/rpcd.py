"""The rpcd exec plugin: wgpy's ubus objects without a resident process.

rpcd runs every executable in /usr/libexec/rpcd, named after the ubus object it serves
(package/wgpy/files/rpcd/wgpy.rpcd installed as `wgpy`, `wireguard`, `luci.wireguard`):

- at its start, `<object> list` (stdin and stderr /dev/null): the first JSON object on
  stdout is {method: signature}; it registers the object with those methods.
- per call, `<object> call <method>` with the arguments as one JSON object on stdin (over
  HTTP, uhttpd has added `ubus_rpc_session`, the caller's session, after rpcd's session
  object checked the caller's ACL for this object and method). The first JSON value on
  stdout is the answer: an object is the reply (status 0), any other value INVALID_ARGUMENT
  (2), `null` or nothing NO_DATA (5). stderr and the exit status are read and dropped.
  A call still running after rpcd's exec timeout (`rpcd -t`, 30 s by default) is
  answered TIMEOUT (7).

So a refusal travels as a reply object (methods.py), a compatibility method's bad argument
as `[]` (status 2, as rpcd-mod-wireguard answers), and a bug as a reply with code
"internal" (its traceback on stderr, seen when the plugin is run by hand).

Imports: json, sys and methods.py's table; a method's own modules load when it runs.
"""

import json
import sys

from wgpy.web import methods

NOT_AN_OBJECT = "[]"  # rpcd answers it INVALID_ARGUMENT


def _object(argv0):
    return argv0.rsplit("/", 1)[-1]


def run(argv, stdin, stdout, ctx=None):
    """One plugin invocation; -> exit status (rpcd ignores it; useful by hand)."""
    obj = _object(argv[0])
    if obj not in methods.OBJECTS:
        sys.stderr.write("wgpy rpcd: no ubus object '%s'\n" % obj)
        return 2
    if argv[1:] == ["list"]:
        stdout.write(json.dumps(methods.signatures(obj)))
        return 0
    if len(argv) != 3 or argv[1] != "call" or argv[2] not in methods.OBJECTS[obj]:
        sys.stderr.write("usage: %s list | call METHOD (JSON arguments on stdin)\n" % obj)
        return 2
    try:
        args = json.loads(stdin.read() or "{}")
        if isinstance(args, dict):
            args.pop(methods.SESSION_ARG, None)  # rpcd checked it; handlers ignore it
        reply = methods.dispatch(ctx or methods.Context(), obj, argv[2], args)
    except (ValueError, methods.InvalidArgument) as exc:
        sys.stderr.write("wgpy rpcd: %s\n" % exc)
        stdout.write(NOT_AN_OBJECT)
        return 1
    stdout.write(json.dumps(reply))
    return 0


def main(argv=None):
    return run(sys.argv if argv is None else argv, sys.stdin, sys.stdout)


if __name__ == "__main__":
    # The launcher (package/wgpy/files/rpcd/wgpy.rpcd): `-m wgpy.web.rpcd "$0" ARGS...`, so
    # that argv[0] is the name rpcd ran, whatever the interpreter puts in sys.argv[0].
    sys.exit(main(sys.argv[1:]))
