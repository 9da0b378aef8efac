"""Adapter over wgpy.uci for the edits the web UI makes: whole sections added, changed
(several options, lists included) or deleted in one commit of the `network` config.

The page edits more than one plain option at a time, so this module edits the loaded
`syntax.Package` and commits it whole with the store's atomic `save`. Callers must hold the
API's write lock around load-edit-save, so two browser tabs cannot interleave their edits.
"""

import secrets
from typing import Dict, List, Optional, Tuple

from wgpy.uci import syntax
from wgpy.uci.store import Store, UciError
from wgpy.web.validate import Options

CONFIG = "network"


def load(store: Store, config: str = CONFIG) -> syntax.Package:
    """The committed config; raises wgpy.uci.store.UciError."""
    return store.load(config)


def save(store: Store, package: syntax.Package) -> None:
    """Write the whole package back atomically (the store's writer keeps the file mode)."""
    store.save(package)


def set_options(section: syntax.Section, options: Options) -> None:
    """Set each option (a list for `list` options); None removes it."""
    for name, value in options.items():
        if value is None or value == []:
            section.options.pop(name, None)
        else:
            section.options[name] = syntax.Option(name, list(value) if isinstance(value, list)
                                                  else value)


def interface_section(package: syntax.Package, ifname: str) -> Optional[syntax.Section]:
    """The `config interface IFNAME` section, or None."""
    return next((s for s in package.sections
                 if s.type == "interface" and s.name == ifname), None)


def peer_sections(package: syntax.Package, ifname: str) -> List[Tuple[str, syntax.Section]]:
    """(label, section) of every `wireguard_IFNAME` section, disabled ones included."""
    kind = f"wireguard_{ifname}"
    return [(package.label(s), s) for s in package.sections if s.type == kind]


def find_peer(package: syntax.Package, ifname: str, label: str) -> Optional[syntax.Section]:
    """The peer section called `label` (name or @wireguard_IFNAME[i]) of IFNAME, or None."""
    section = package.find(label)
    return section if section is not None and section.type == f"wireguard_{ifname}" else None


def add_section(package: syntax.Package, kind: str, name: Optional[str] = None
                ) -> syntax.Section:
    """Append a section; new peers get a random name so their URL stays valid after other
    peers are deleted (anonymous @type[i] labels shift)."""
    if name is None:
        name = f"wgpeer_{secrets.token_hex(4)}"
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


def option_list(section: syntax.Section, name: str) -> List[str]:
    """A list option; a plain option is split on whitespace, as netifd does."""
    value = section.get(name)
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [word for item in items for word in item.split()]


def sections_of(store: Store, config: str, kind: str) -> List[Dict[str, str]]:
    """Options of every `kind` section of another config (system, ddns); [] if unreadable."""
    try:
        package = store.load(config)
    except UciError:
        return []
    return [{name: option_text(s, name) for name in s.options}
            for s in package.sections if s.type == kind]
