"""The one way anything writes sections of UCI: whole sections added, changed (several
options, lists included) or deleted, in one transaction of a config.

A transaction holds libuci's lock from reading the config to committing it (store.edit),
so `uci commit`, LuCI and other wgpy writers never lose each other's changes. Before the
commit, `check` runs the schema over the edited package: the rules the router applies are
the rules every editor meets, and a refused edit is a FieldError naming the option, with
nothing written. Each section has a `revision` (a digest of its content) so an editor can
refuse an edit made against a version that someone else has since changed (`Conflict`).
"""

import contextlib
import copy
import hashlib
import os

from wgpy.uci import schema, syntax
from wgpy.uci.store import Store, UciError
from wgpy.uci.validate import FieldError

# Option values to set, for annotations; None removes the option.
Options = "dict[str, str | list[str] | None]"



class Conflict(Exception):
    """The section changed since the editor read it; `revision` is its current one."""

    def __init__(self, label: str, revision: str) -> None:
        super().__init__(f"'{label}' was changed meanwhile; reload it and edit again")
        self.revision = revision


def load(store: Store, config: str = schema.NETWORK) -> syntax.Package:
    """The committed config, for reading; raises wgpy.uci.store.UciError."""
    return store.load(config)


@contextlib.contextmanager
def transaction(store: Store, config: str = schema.NETWORK):  # yields the syntax.Package
    """`with transaction(store) as package:` edit; committed on leaving the block, nothing
    written if it raises."""
    with store.edit(config) as package:
        yield package


def set_options(section: syntax.Section, options: Options) -> None:
    """Set each option (a list for `list` options); None, "" or [] removes it."""
    for name, value in options.items():
        if value is None or value == "" or value == []:
            section.options.pop(name, None)
        else:
            section.options[name] = syntax.Option(name, list(value) if isinstance(value, list)
                                                  else value)


def interface_section(package: syntax.Package, ifname: str) -> "syntax.Section | None":
    """The `config interface IFNAME` section, or None."""
    return next((s for s in package.sections
                 if s.type == "interface" and s.name == ifname), None)


def peer_sections(package: syntax.Package, ifname: str) -> list[tuple[str, syntax.Section]]:
    """(label, section) of every peer section of IFNAME, disabled ones included."""
    kind = schema.peer_section_type(ifname)
    return [(package.label(s), s) for s in package.sections if s.type == kind]


def find_peer(package: syntax.Package, ifname: str, label: str) -> "syntax.Section | None":
    """The peer section called `label` (name or @wireguard_IFNAME[i]) of IFNAME, or None."""
    section = package.find(label)
    return section if section is not None and \
        section.type == schema.peer_section_type(ifname) else None


def add_section(package: syntax.Package, kind: str, name: "str | None" = None
                ) -> syntax.Section:
    """Append a section; new peers get a random name so their URL stays valid after other
    peers are deleted (anonymous @type[i] labels shift)."""
    if name is None:
        name = f"wgpeer_{os.urandom(4).hex()}"
    section = syntax.Section(kind, name)
    package.sections.append(section)
    return section


def delete_section(package: syntax.Package, section: syntax.Section) -> None:
    package.sections.remove(section)


def option_text(section: syntax.Section, name: str, default: str = "") -> str:
    """An option as one string (a list is joined with spaces)."""
    value = section.get(name)
    if value is None:
        return default
    return " ".join(value) if isinstance(value, list) else value


def option_list(section: syntax.Section, name: str) -> list[str]:
    """A list option; a plain option is split on whitespace, as netifd does."""
    value = section.get(name)
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [word for item in items for word in item.split()]


def sections_of(store: Store, config: str, kind: str) -> list[dict[str, str]]:
    """Options of every `kind` section of another config (system, ddns); [] if unreadable."""
    try:
        package = store.load(config)
    except UciError:
        return []
    return [{name: option_text(s, name) for name in s.options}
            for s in package.sections if s.type == kind]


# ---- rules and revisions ----

def revision(section: syntax.Section) -> str:
    """A digest of the section's type, name and options (order included)."""
    content = repr((section.type, section.name,
                    [(o.name, o.value) for o in section.options.values()]))
    # digest().hex(): MicroPython's sha256 has no hexdigest()
    return hashlib.sha256(content.encode("utf-8", "surrogateescape")).digest().hex()[:16]


def check_revision(package: syntax.Package, section: syntax.Section,
                   expected: "str | None") -> None:
    """Raise Conflict if the editor's `expected` revision is stale (None: not checked)."""
    if expected is not None and expected != revision(section):
        raise Conflict(package.label(section), revision(section))


def check(package: syntax.Package, ifname: str, section: "syntax.Section | None" = None
          ) -> None:
    """Run the schema over the edited package: FieldError(option, message) for the first
    problem of `section` (a peer of IFNAME; a disabled one is checked as if enabled), or
    of the interface itself when `section` is None."""
    if section is not None and schema.is_true(option_text(section, "disabled")):
        package = copy.copy(package)
        enabled = copy.copy(section)
        enabled.options = {k: v for k, v in section.options.items() if k != "disabled"}
        package.sections = [enabled if s is section else s for s in package.sections]
        section = enabled
    conf = schema.interfaces(package, package.name).get(ifname)
    if conf is None:
        raise FieldError("interface", f"no wgpy interface '{ifname}'")
    if section is None:
        errors = conf.errors
    else:
        label = package.label(section)
        errors = [e for e in conf.peer_errors if e.section == label]
    if errors:
        raise FieldError(errors[0].option or "config", errors[0].message)
