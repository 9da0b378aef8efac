"""Every ubus method wgpy answers, in one table that knows no transport.

The page calls these, and so do LuCI and local tools: on a router through rpcd, which runs
the exec plugin (rpcd.py) once per call, and on a development box through `wgpy web`'s own
`/ubus` endpoint (server.py). Both look a method up here and call `dispatch`, so a handler
has one code path whatever carried the call.

Objects: `wgpy` (status and reload, as the resident service had them, and everything the
page does), `wireguard` (rpcd-mod-wireguard's methods) and `luci.wireguard`
(luci-proto-wireguard's), whose handlers are router/handlers.py's.

How a handler says no. A refused value, a missing interface or peer, a stale edit and a
broken config are answered with status 0 and an object {"error": message, "code": kind}
(plus "field" for a refused value, "revision" for a conflict): an rpcd exec plugin can
send no other status with a message (rpcd answers a plugin's non-object output with
INVALID_ARGUMENT and drops its stderr and exit status), and the page wants the field.
Nothing is written when a value is refused (actions.py validates before it edits). The
compatibility objects keep their own convention: a bad argument is InvalidArgument, which
the transports turn into ubus status 2, as rpcd-mod-wireguard answers.

Handler modules are imported when a method runs, not when the table is read: rpcd's `list`
at start and a call of `keypair` load no UCI, UAPI or router code.

Portable (docs/micropython.md): no dataclasses, enum or typing at run time.
"""

from wgpy.runtime.compat import Record

WGPY = "wgpy"
SESSION_ARG = "ubus_rpc_session"  # uhttpd adds the caller's session to every call's arguments
WIREGUARD = "wireguard"
LUCI = "luci.wireguard"

# What a handler's "no" is, for the page (rpc.js) and for scripts.
INVALID = "invalid"      # a refused value: "field" names it; nothing was written
CONFLICT = "conflict"    # a stale edit: "revision" is the current one; reload and edit again
NOT_FOUND = "not_found"  # no such interface or peer
CONFIG = "config"        # the config on the router cannot be read or written
INTERNAL = "internal"    # a bug: the traceback went to stderr

# rpcd's signature types, written as rpcd reads them from `list`: a string, an int32 (the
# number says its width), a boolean, an array, a table.
S, N, B, A, T = "string", 32, True, [], {}

PEER_FIELDS = {"description": S, "public_key": S, "preshared_key": S, "allowed_ips": A,
               "endpoint_host": S, "endpoint_port": N, "persistent_keepalive": N,
               "route_allowed_ips": B, "disabled": B}


class InvalidArgument(Exception):
    """A compatibility method's bad argument: ubus status 2 (UBUS_STATUS_INVALID_ARGUMENT)."""


class Method(Record):
    """One ubus method: its rpcd signature and handler(ctx, args) -> dict."""
    FIELDS = ("name", "signature", "handler")


class Context:
    """What handlers share: the UCI store, and the writer's Context (actions.py), made on
    first use so that methods that need neither never import them."""

    def __init__(self, confdir=None, store=None):
        self.confdir, self._store, self._actions = confdir, store, None

    @property
    def store(self):
        if self._store is None:
            from wgpy.uci.store import Store
            self._store = Store(self.confdir) if self.confdir else Store()
        return self._store

    @property
    def actions(self):
        if self._actions is None:
            from wgpy.web import actions
            self._actions = actions.Context(self.store)
        return self._actions


# ---- object `wgpy` ----

def _ifname(args):
    from wgpy.web import validate
    return validate.text(args, "interface", required=True)


def _peer(args):
    from wgpy.web import validate
    return validate.text(args, "peer", required=True)


def _status(ctx, args):
    from wgpy.web import views
    return views.status(ctx.store)


def _reload(ctx, args):
    from wgpy.router import control
    act, stop = control.all_targets(ctx.store, "reload")
    results = [control.reload(ctx.store, n) for n in act] + [control.down(n) for n in stop]
    return {"interfaces": {r.ifname: r.as_dict() for r in results}}


def _interfaces(ctx, args):
    from wgpy.uci import edit
    from wgpy.web import views
    return {"interfaces": views.interface_names(edit.load(ctx.store)),
            "hostname": views.hostname(ctx.store)}


def _interface(ctx, args):
    from wgpy.uci import edit
    from wgpy.web import actions, views
    package = edit.load(ctx.store)
    return views.interface_detail(package, actions.interface_section(package, _ifname(args)))


def _suggest(ctx, args):
    from wgpy.uci import edit
    from wgpy.web import actions, views
    package = edit.load(ctx.store)
    return views.suggest(ctx.store, package, actions.interface_section(package, _ifname(args)))


def _interface_set(ctx, args):
    from wgpy.web import actions
    return actions.update_interface(ctx.actions, _ifname(args), args)


def _private_key_regenerate(ctx, args):
    from wgpy.web import actions
    return actions.regenerate_key(ctx.actions, _ifname(args))


def _peer_add(ctx, args):
    from wgpy.web import actions
    return actions.add_peer(ctx.actions, _ifname(args), args)


def _peer_set(ctx, args):
    from wgpy.web import actions
    return actions.update_peer(ctx.actions, _ifname(args), _peer(args), args)


def _peer_delete(ctx, args):
    from wgpy.web import actions
    return actions.delete_peer(ctx.actions, _ifname(args), _peer(args))


def _device_add(ctx, args):
    from wgpy.web import actions
    return actions.add_device(ctx.actions, _ifname(args), args)


def _import(ctx, args):
    from wgpy.web import actions
    return actions.import_config(ctx.actions, args)


def _keypair(ctx, args):
    from wgpy import keys
    private = keys.generate()
    return {"private_key": private, "public_key": keys.public_key(private)}


def _psk(ctx, args):
    from wgpy import keys
    return {"preshared_key": keys.generate()}


# ---- objects `wireguard` and `luci.wireguard` (router/handlers.py) ----

def _snapshot(ctx):
    from wgpy.router import control
    return control.gather(ctx.store)


def _compat(name, snapshot=False, with_args=False):
    """A handlers.py function as a method: given the live snapshot or the arguments;
    its HandlerError becomes InvalidArgument."""
    def handler(ctx, args):
        from wgpy.router import handlers
        function = getattr(handlers, name)
        try:
            if snapshot:
                return function(_snapshot(ctx))
            return function(args) if with_args else function()
        except handlers.HandlerError as exc:
            raise InvalidArgument(str(exc))
    return handler


def _table(methods):
    return {m.name: m for m in methods}


OBJECTS = {
    WGPY: _table([
        Method("status", {}, _status),
        Method("reload", {}, _reload),
        Method("interfaces", {}, _interfaces),
        Method("interface", {"interface": S}, _interface),
        Method("suggest", {"interface": S}, _suggest),
        Method("interface_set", {"interface": S, "listen_port": N, "addresses": A, "mtu": N},
               _interface_set),
        Method("private_key_regenerate", {"interface": S}, _private_key_regenerate),
        Method("peer_add", dict(PEER_FIELDS, interface=S), _peer_add),
        Method("peer_set", dict(PEER_FIELDS, interface=S, peer=S, revision=S), _peer_set),
        Method("peer_delete", {"interface": S, "peer": S}, _peer_delete),
        Method("device_add", {"interface": S, "description": S, "addresses": A, "tunnel": S,
                              "split_allowed_ips": A, "endpoint_host": S, "endpoint_port": N,
                              "dns": A, "persistent_keepalive": N, "preshared_key": B},
               _device_add),
        Method("import", {"config": S, "mode": S, "name": S, "interface": S,
                          "description": S, "route_all": B, "start": B}, _import),
        Method("keypair", {}, _keypair),
        Method("psk", {}, _psk),
    ]),
    WIREGUARD: _table([
        Method("status", {}, _compat("wireguard_status", snapshot=True)),
        Method("genkey", {}, _compat("wireguard_genkey")),
        Method("genpsk", {}, _compat("wireguard_genpsk")),
        Method("pubkey", {"private": S}, _compat("wireguard_pubkey", with_args=True)),
    ]),
    LUCI: _table([
        Method("getWgInstances", {}, _compat("luci_get_wg_instances", snapshot=True)),
        Method("generateKeyPair", {}, _compat("luci_generate_key_pair")),
        Method("generatePsk", {}, _compat("luci_generate_psk")),
        Method("getPublicAndPrivateKeyFromPrivate", {"privkey": S},
               _compat("luci_public_from_private", with_args=True)),
    ]),
}


def signatures(obj):
    """{method: signature} of one object, as rpcd wants `list` to print it."""
    return {name: m.signature for name, m in OBJECTS[obj].items()}


def refusal(code, message, **extra):
    out = {"error": message, "code": code}
    out.update(extra)
    return out


def dispatch(ctx, obj, name, args):
    """Run one method; -> its answer, or a refusal (module doc), also for a bug (code
    INTERNAL, its traceback on stderr). Raises KeyError for an unknown object or method and
    InvalidArgument as said above."""
    method = OBJECTS[obj][name]
    if not isinstance(args, dict):
        raise InvalidArgument("the arguments must be an object")
    try:
        return method.handler(ctx, args)
    except InvalidArgument:
        raise
    except Exception as exc:  # noqa: BLE001 - every caller gets an answer
        answer = _refusal_for(exc)
        if answer is None:
            _print_traceback(exc)
            answer = refusal(INTERNAL, "internal error: %s: %s" % (type(exc).__name__, exc))
        return answer


def _print_traceback(exc):
    import sys
    if hasattr(sys, "print_exception"):  # MicroPython's name for it
        sys.print_exception(exc)
    else:
        import traceback
        traceback.print_exception(type(exc), exc, exc.__traceback__)


def _refusal_for(exc):
    """The refusal for a handler's "no", or None for anything else. Only classes whose
    module is loaded are checked: a handler that raised one has loaded it, and importing
    the others now could fail in turn (an unported module on MicroPython)."""
    import sys

    def raised(module, name):
        loaded = sys.modules.get(module)
        return loaded is not None and isinstance(exc, getattr(loaded, name))
    if raised("wgpy.uci.validate", "FieldError"):
        return refusal(INVALID, exc.message, field=exc.field)
    if raised("wgpy.uci.edit", "Conflict"):
        return refusal(CONFLICT, str(exc), revision=exc.revision)
    if raised("wgpy.uci.store", "UciError"):
        return refusal(CONFIG, "configuration: " + str(exc))
    if raised("wgpy.web.actions", "NotFound"):
        return refusal(NOT_FOUND, str(exc))
    return None
