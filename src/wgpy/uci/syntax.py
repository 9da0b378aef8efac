"""The UCI file format: a reader that accepts what libuci accepts, and a writer whose output
libuci reads back as the same package.

The reader follows libuci's parser (file.c): commands `package`, `config`, `option`, `list`
(or their one-letter forms), several per line when separated by `;`; arguments are words
built from unquoted runs (backslash escapes the next character, backslash-newline continues
the line), '...' (literal, may span lines) and "..." (backslash escapes, may span lines); `#`
outside quotes ends the line. An empty `option` value is ignored, as `uci_set` does; a repeated
named section merges into the first; `list` after `option` turns it into a list.
The writer emits exactly what `uci commit` writes. No file I/O here: that is store.py's job.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

Value = Union[str, List[str]]

_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
_PACKAGE = re.compile(r"[A-Za-z0-9_-]+\Z")
_COMMANDS = {"package": "package", "p": "package", "config": "config", "c": "config",
             "option": "option", "o": "option", "list": "list", "l": "list"}
# Characters that make a bare section type ambiguous on re-reading; libuci writes types
# unquoted, so only types containing them get quoted (libuci cannot round-trip those).
_TYPE_NEEDS_QUOTES = re.compile(r"[\s'\"\\#;]")


class UciSyntaxError(Exception):
    """A file libuci would refuse to load; carries the line number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class Option:
    name: str
    value: Value
    line: Optional[int] = None


@dataclass
class Section:
    type: str
    name: Optional[str]  # None for an anonymous section
    options: Dict[str, Option] = field(default_factory=dict)
    line: Optional[int] = None

    def get(self, name: str, default: Optional[Value] = None) -> Optional[Value]:
        """The option's value (str, or list for `list` options), or `default`."""
        option = self.options.get(name)
        return default if option is None else option.value


@dataclass
class Package:
    name: str
    sections: List[Section] = field(default_factory=list)

    def label(self, section: Section) -> str:
        """How `uci show` names a section: its name, or `@type[index]` when anonymous."""
        if section.name is not None:
            return section.name
        same_type = [s for s in self.sections if s.type == section.type]
        index = next(i for i, s in enumerate(same_type) if s is section)  # identity, not ==
        return f"@{section.type}[{index}]"

    def find(self, ref: str) -> Optional[Section]:
        """The section called `ref` (a name or `@type[index]`), or None."""
        match = re.fullmatch(r"@(.+)\[(-?\d+)\]", ref)
        if match:
            same_type = [s for s in self.sections if s.type == match.group(1)]
            index = int(match.group(2))
            return same_type[index] if -len(same_type) <= index < len(same_type) else None
        return next((s for s in self.sections if s.name == ref), None)

    def as_dict(self) -> List[Tuple[str, Optional[str], Dict[str, Value]]]:
        """Comparable content: (type, name, {option: value}) per section, lines left out."""
        return [(s.type, s.name, {o.name: o.value for o in s.options.values()})
                for s in self.sections]


# ---- reading ----

class _Scanner:
    """Character cursor over the whole text; `line` counts newlines consumed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def take(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def at_line_end(self) -> bool:
        return self.peek() in ("", "\n")

    def skip_blanks(self) -> None:
        """Skip whitespace but not the newline that ends the command line."""
        while self.peek() not in ("", "\n") and self.peek().isspace():
            self.take()

    def skip_line(self) -> None:
        while not self.at_line_end():
            self.take()

    def continuation(self) -> bool:
        """At a backslash: True (and consumed) if it joins the next line."""
        rest = self.peek(1)
        if rest in ("", "\n") or (rest == "\r" and self.peek(2) in ("", "\n")):
            self.take()
            while self.peek() in ("\r", "\n"):
                if self.take() == "\n":
                    break
            return True
        return False


def _quoted(sc: _Scanner, quote: str, out: List[str]) -> None:
    start = sc.line
    sc.take()
    while True:
        char = sc.peek()
        if char == "":
            raise UciSyntaxError(start, f"EOF with unterminated {quote}")
        if char == quote:
            sc.take()
            return
        if char == "\\" and quote == '"':
            if sc.continuation():
                continue
            sc.take()
            if sc.peek() == "":
                raise UciSyntaxError(start, f"EOF with unterminated {quote}")
        out.append(sc.take())


def _word(sc: _Scanner) -> Tuple[str, bool]:
    """One argument -> (text, ends_command); `#` ends the line, `;` the command."""
    out: List[str] = []
    while True:
        char = sc.peek()
        if char in ("'", '"'):
            _quoted(sc, char, out)
        elif char == "#":
            sc.skip_line()
            return "".join(out), True
        elif char == ";":
            return "".join(out), False
        elif char == "\\":
            if not sc.continuation():
                sc.take()
                if not sc.at_line_end():
                    out.append(sc.take())
        elif char == "" or char.isspace():
            return "".join(out), False
        else:
            out.append(sc.take())


def _args(sc: _Scanner) -> List[str]:
    """All arguments of the current command; stops at `;` (consumed) or end of line."""
    args = []
    while True:
        sc.skip_blanks()
        if sc.at_line_end():
            return args
        if sc.peek() == ";":
            sc.take()
            return args
        if sc.peek() == "#":
            sc.skip_line()
            return args
        text, ended = _word(sc)
        args.append(text)
        if ended:
            return args


class _Builder:
    """Applies parsed commands to a Package the way libuci's uci_set/uci_add_list do."""

    def __init__(self, name: str) -> None:
        self.package = Package(name)
        self.section: Optional[Section] = None

    def command(self, word: str, args: List[str], line: int) -> None:
        kind = _COMMANDS.get(word)
        if kind is None:
            raise UciSyntaxError(line, "invalid command")
        getattr(self, "_" + kind)(args, line)

    def _package(self, args: List[str], line: int) -> None:
        if not args or not args[0]:
            raise UciSyntaxError(line, "package without name")
        if any(args[1:]):
            raise UciSyntaxError(line, "too many arguments")
        if not _PACKAGE.match(args[0]):
            raise UciSyntaxError(line, "invalid character in name field")

    def _config(self, args: List[str], line: int) -> None:
        if not args or not args[0]:
            raise UciSyntaxError(line, "insufficient arguments")
        if any(args[2:]):
            raise UciSyntaxError(line, "too many arguments")
        kind, name = args[0], (args[1] if len(args) > 1 and args[1] else None)
        if not all(33 <= ord(c) <= 126 for c in kind):
            raise UciSyntaxError(line, "invalid character in type field")
        if name is not None and not _NAME.match(name):
            raise UciSyntaxError(line, "invalid character in name field")
        existing = self.package.find(name) if name is not None else None
        if existing is not None:
            if existing.type != kind:
                raise UciSyntaxError(line, "section of different type overwrites prior "
                                           "section with same name")
            self.section = existing
            return
        self.section = Section(kind, name, line=line)
        self.package.sections.append(self.section)

    def _option(self, args: List[str], line: int, is_list: bool = False) -> None:
        if self.section is None:
            raise UciSyntaxError(line, "option/list command found before the first section")
        if not args or not args[0]:
            raise UciSyntaxError(line, "insufficient arguments")
        if any(args[2:]):
            raise UciSyntaxError(line, "too many arguments")
        if not _NAME.match(args[0]):
            raise UciSyntaxError(line, "invalid character in name field")
        name, value = args[0], (args[1] if len(args) > 1 else "")
        options = self.section.options
        if not is_list and not value:
            return  # libuci's uci_set ignores an empty value during parsing
        old = options.get(name)
        if is_list and old is not None and isinstance(old.value, list):
            old.value.append(value)
        elif not (old is not None and old.value == value and not is_list):
            # A replaced option (or a string turned into a list) moves to the end, as in libuci.
            options.pop(name, None)
            items = [] if old is None else [old.value]
            options[name] = Option(name, items + [value] if is_list else value, line)

    def _list(self, args: List[str], line: int) -> None:
        self._option(args, line, is_list=True)


def parse(text: str, name: str) -> Package:
    """Parse the text of config `name`; raises UciSyntaxError where libuci would fail."""
    sc = _Scanner(text)
    builder = _Builder(name)
    while sc.peek() != "":
        sc.skip_blanks()
        _line_commands(sc, builder)
        if sc.peek() == "\n":
            sc.take()
    return builder.package


def _line_commands(sc: _Scanner, builder: _Builder) -> None:
    """All `;`-separated commands of one line."""
    while not sc.at_line_end():
        line = sc.line
        word = []
        while not sc.at_line_end() and sc.peek() not in (" ", "\t"):
            word.append(sc.take())
        command = "".join(word).rstrip("\r")
        if command.startswith("#"):
            sc.skip_line()
            return
        if command:
            builder.command(command, _args(sc), line)
        sc.skip_blanks()


# ---- writing ----

def quote(value: str) -> str:
    """A single-quoted word, with `'` written as libuci does: '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


def render(package: Package) -> str:
    """The file `uci commit` would write for `package`."""
    out = []
    for section in package.sections:
        kind = quote(section.type) if _TYPE_NEEDS_QUOTES.search(section.type) else section.type
        head = f"\nconfig {kind}"
        if section.name is not None:
            head += " " + quote(section.name)
        out.append(head + "\n")
        for option in section.options.values():
            if isinstance(option.value, list):
                out.extend(f"\tlist {option.name} {quote(item)}\n" for item in option.value)
            else:
                out.append(f"\toption {option.name} {quote(option.value)}\n")
    out.append("\n")
    return "".join(out)
