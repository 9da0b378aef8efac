"""What the page's write methods do (methods.py): validate, edit UCI, apply live.

Every change follows one path, in this order, so that a refused value leaves nothing
written and nothing applied: validate the request's fields (FieldError, refused naming
the field), take the write lock, open a UCI transaction (wgpy.uci.edit: libuci's lock,
held to the commit), check the editor's revision of the section (stale -> Conflict), edit,
run the schema over the edited package (its errors are refused naming the field), commit; only
then hand the interface to wgpy.router.control.reload, which pushes only the differences
over UAPI, so the other peers keep their sessions. An interface that is not running is only
written; it picks the change up when it comes up. Read-only views live in views.py.
"""

import re
from _thread import allocate_lock  # threading.Lock itself; MicroPython has no threading
from collections import OrderedDict  # options in the file's order on MicroPython too

from wgpy import keys
from wgpy.router import control, firewall, resolve
from wgpy.uapi import client
from wgpy.uapi.text import format_endpoint
from wgpy.uci import edit, schema, syntax
from wgpy.uci.store import Store
from wgpy.web import validate, views, wgquick
from wgpy.web.validate import FieldError

DEFAULT_KEEPALIVE = 25
FULL_TUNNEL = ["0.0.0.0/0", "::/0"]


class NotFound(Exception):
    """No such interface or peer (methods.py's code "not_found")."""


class Context:
    """The store, the resolver for endpoint names, and the write lock that serialises
    load-edit-save between the threads of one process (libuci's lock guards the file
    between processes: two rpcd plugin calls, or the plugin and `uci`)."""

    def __init__(self, store: Store, resolver=resolve.system_resolver) -> None:
        self.store, self.resolver = store, resolver
        self.lock = allocate_lock()


def reload_running(ctx: Context, ifname: str) -> dict:
    """Reload a running interface from UCI; -> {ok, errors, warnings}."""
    if not client.is_live(ifname):
        return {"ok": True, "errors": [],
                "warnings": [f"{ifname} is not running: the change applies when it starts"]}
    return control.reload(ctx.store, ifname, resolver=ctx.resolver).as_dict()


def interface_section(package: syntax.Package, ifname: str) -> syntax.Section:
    section = edit.interface_section(package, ifname)
    if section is None or section.get("proto") != schema.PROTO:
        raise NotFound(f"no wgpy interface '{ifname}'")
    return section


def _peer_section(package: syntax.Package, ifname: str, label: str) -> syntax.Section:
    section = edit.find_peer(package, ifname, label)
    if section is None:
        raise NotFound(f"no peer '{label}' on {ifname}")
    return section


def _check_peer(package: syntax.Package, ifname: str, section: syntax.Section) -> None:
    """The schema's rules for the edited peer (keys, duplicates, own key, addresses,
    ranges), then the web's own: allowed IPs must not overlap another enabled peer's (the
    overlap that silently blanks the earlier peer, OW#16210)."""
    edit.check(package, ifname, section)
    if views.is_on(section, "disabled"):
        return
    taken = {views.peer_name(label, other): views.peer_networks(other)
             for label, other in edit.peer_sections(package, ifname)
             if other is not section and not views.is_on(other, "disabled")}
    clash = validate.overlapping(views.peer_networks(section), taken)
    if clash:
        raise FieldError("allowed_ips", clash)


def _new_peer(package: syntax.Package, ifname: str, opts: edit.Options) -> syntax.Section:
    section = edit.add_section(package, schema.peer_section_type(ifname))
    edit.set_options(section, opts)
    _check_peer(package, ifname, section)
    return section


def add_peer(ctx: Context, ifname: str, body: dict) -> dict:
    """Create a peer section from the peer form."""
    opts = validate.peer_options(body)
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            interface_section(package, ifname)
            section = _new_peer(package, ifname, opts)
        return {"section": section.name, "revision": edit.revision(section),
                "apply": reload_running(ctx, ifname)}


def update_peer(ctx: Context, ifname: str, label: str, body: dict) -> dict:
    """Replace a peer's options with the form's (options the form does not know, such as
    LuCI's stored private_key, are kept). A stale `revision` is a Conflict."""
    opts = validate.peer_options(body)
    expected = validate.revision(body)
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            section = _peer_section(package, ifname, label)
            edit.check_revision(package, section, expected)
            edit.set_options(section, opts)
            _check_peer(package, ifname, section)
        return {"section": label, "revision": edit.revision(section),
                "apply": reload_running(ctx, ifname)}


def delete_peer(ctx: Context, ifname: str, label: str) -> dict:
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            edit.delete_section(package, _peer_section(package, ifname, label))
        return {"section": label, "apply": reload_running(ctx, ifname)}


def update_interface(ctx: Context, ifname: str, body: dict) -> dict:
    """Listen port, addresses and MTU."""
    opts = validate.interface_options(body)
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            edit.set_options(interface_section(package, ifname), opts)
            edit.check(package, ifname)
        return {"apply": reload_running(ctx, ifname)}


def regenerate_key(ctx: Context, ifname: str) -> dict:
    """A new private key: every peer must be given the new public key before it reconnects."""
    private = keys.generate()
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            edit.set_options(interface_section(package, ifname), {"private_key": private})
        return {"public_key": keys.public_key(private), "apply": reload_running(ctx, ifname)}


def _server_key(package: syntax.Package, ifname: str, section: syntax.Section) -> str:
    """The interface's private key. Only a missing one (or 'generate', as the schema reads
    it) is generated and saved, so a device can be added before the first start; a
    mistyped key is reported, never replaced."""
    edit.check(package, ifname)
    private = edit.option_text(section, "private_key")
    if not keys.is_key(private):
        private = keys.generate()
        edit.set_options(section, {"private_key": private})
    return private


def _filename(description: str) -> str:
    """A wg-quick interface name (15 characters of [A-Za-z0-9_=+.-]) for the download."""
    stem = re.sub(r"[^A-Za-z0-9_=+.-]+", "-", description).strip("-.")[:15]
    return f"{stem or 'wgpy-client'}.conf"


def _device_request(body: dict) -> dict:
    """The wizard's fields, validated, with defaults."""
    tunnel = validate.text(body, "tunnel") or "full"
    if tunnel not in ("full", "split"):
        raise FieldError("tunnel", "must be 'full' or 'split'")
    allowed = FULL_TUNNEL if tunnel == "full" else \
        [str(n) for n in validate.networks(body, "split_allowed_ips")]
    if not allowed:
        raise FieldError("split_allowed_ips", "at least one network is required")
    keepalive = validate.integer(body, "persistent_keepalive")
    description = validate.description(body)
    if not description:
        raise FieldError("description", "is required: it names the device in the peer list")
    return {
        "description": description,
        "addresses": [str(n) for n in validate.networks(body, "addresses")],
        "dns": validate.ip_addresses(body, "dns"),
        "allowed_ips": allowed,
        "endpoint_host": validate.host(body, "endpoint_host", required=True),
        "endpoint_port": validate.integer(body, "endpoint_port"),
        "keepalive": DEFAULT_KEEPALIVE if keepalive is None else keepalive,
        "psk": body.get("preshared_key", True) is not False,
    }


def add_device(ctx: Context, ifname: str, body: dict) -> dict:
    """The wizard: a new peer with a generated keypair, applied live; -> the client config.
    The client's private key is only in the answer, never written anywhere."""
    req = _device_request(body)
    client_private, psk = keys.generate(), (keys.generate() if req["psk"] else None)
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            section = interface_section(package, ifname)
            addresses = req["addresses"] or views.suggest_addresses(package, ifname)
            if not addresses:
                raise FieldError("addresses", "no free address left in the interface's subnets")
            port = req["endpoint_port"] or edit.option_text(section, "listen_port")
            if not port:
                raise FieldError("endpoint_port", "the interface has no fixed listen port; "
                                                  "set one under Interface first")
            server_public = keys.public_key(_server_key(package, ifname, section))
            opts = OrderedDict([("description", req["description"]),
                                ("public_key", keys.public_key(client_private)),
                                ("preshared_key", psk), ("allowed_ips", addresses)])
            peer = _new_peer(package, ifname, opts)
        applied = reload_running(ctx, ifname)
    text = wgquick.render_client(
        client_private, addresses, req["dns"], server_public, psk, req["allowed_ips"],
        format_endpoint(req["endpoint_host"], int(port)), req["keepalive"])
    return {"section": peer.name, "public_key": opts["public_key"], "config": text,
            "filename": _filename(req["description"]), "apply": applied}


def _imported_peer(peer: wgquick.Peer, route_all: bool, description: str) -> edit.Options:
    """UCI options for an imported [Peer]. "Whole LAN through the tunnel" routes 0.0.0.0/0
    and ::/0 (the router layer keeps a host route to the endpoint); otherwise a split
    config's networks are routed and a full-tunnel config's /0 is only cryptokey routing."""
    allowed = FULL_TUNNEL if route_all else peer.allowed_ips
    routed = route_all or not any(n.endswith("/0") for n in allowed)
    return OrderedDict([
        ("description", description),
        ("public_key", peer.public_key),
        ("preshared_key", peer.preshared_key),
        ("allowed_ips", list(allowed) or None),
        ("route_allowed_ips", "1" if routed and allowed else None),
        ("endpoint_host", peer.endpoint_host),
        ("endpoint_port", str(peer.endpoint_port) if peer.endpoint_host else None),
        ("persistent_keepalive", str(peer.persistent_keepalive)
         if peer.persistent_keepalive else None),
    ])


def _import_request(body: dict):
    conf = wgquick.parse(validate.multiline(body, "config"))
    mode = validate.text(body, "mode") or "interface"
    if mode not in ("interface", "peer"):
        raise FieldError("mode", "must be 'interface' or 'peer'")
    route_all = validate.boolean(body, "route_all")
    if (route_all or mode == "peer") and len(conf.peers) != 1:
        raise FieldError("config", "this needs exactly one [Peer] section")
    description = validate.description(body) or "Imported peer"
    return conf, mode, route_all, description


def import_config(ctx: Context, body: dict) -> dict:
    """Import a wg-quick config as a new interface with its peers, or as one more peer of
    an existing interface."""
    conf, mode, route_all, description = _import_request(body)
    peers = [_imported_peer(p, route_all, description) for p in conf.peers]
    if mode == "peer":
        ifname = validate.text(body, "interface", required=True)
        with ctx.lock:
            with edit.transaction(ctx.store) as package:
                interface_section(package, ifname)
                _new_peer(package, ifname, peers[0])
            return {"interface": ifname, "warnings": conf.warnings,
                    "apply": reload_running(ctx, ifname)}
    ifname = validate.ifname(body, "name")
    if not conf.private_key or not conf.addresses:
        raise FieldError("config", "[Interface] needs PrivateKey and Address to create an "
                                   "interface")
    with ctx.lock:
        with edit.transaction(ctx.store) as package:
            if package.find(ifname) is not None:
                raise FieldError("name", f"a section called '{ifname}' already exists")
            section = edit.add_section(package, "interface", ifname)
            edit.set_options(section, OrderedDict([
                ("proto", schema.PROTO), ("private_key", conf.private_key),
                ("listen_port", str(conf.listen_port) if conf.listen_port else None),
                ("addresses", conf.addresses), ("mtu", str(conf.mtu) if conf.mtu else None),
                ("dns", conf.dns or None), ("dns_search", conf.dns_search or None),
                # whole LAN: nothing from the LAN leaves by the WAN while the tunnel is down
                ("killswitch", "1" if route_all else None)]))
            edit.check(package, ifname)
            for opts in peers:
                _new_peer(package, ifname, opts)
        warnings = list(conf.warnings)
        if route_all and not firewall.join_wan_zone(ctx.store, ifname):
            warnings.append(f"no 'wan' firewall zone to masquerade LAN traffic into {ifname}: "
                            "add the interface to one")
        if body.get("start", True) is False:
            applied = {"ok": True, "errors": [], "warnings": [f"{ifname} was not started"]}
        else:
            applied = control.up(ctx.store, ifname, resolver=ctx.resolver).as_dict()
    return {"interface": ifname, "warnings": warnings, "apply": applied}

