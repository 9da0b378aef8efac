"""The UCI file format: a reader that reads every file exactly as libuci does, and a writer
whose output libuci reads back as the same package (or that refuses to write).

The reader is a port of libuci's parser (file.c, uci 66127cd) over bytes, buffer and all,
because its behaviour is defined by that C code rather than by a grammar: lines come from
`fgets`, so a NUL cuts a line and the next line is joined on; `strtok` splits the command
word on blanks only; `;` ends a command, but a `;` right after an unquoted word is
overwritten by that word's terminator, so the rest of the line is dropped (`config a b;
option x y` keeps only the section); an argument after the last one is "too many
arguments" unless it is empty, and then what follows it is read as the next command (so
`option x y '' ''` is an invalid command); a `\\` at the end of a line joins the next one,
also after the last argument. Sections and options are then applied as libuci's
uci_set/uci_add_list do: setting an option again replaces it in its first position (also
when a list becomes an option or back), an empty option value is ignored, a repeated named
section merges into the first (an anonymous section's generated name `cfgNNHHHH` counts as
a name). Errors are raised as libuci's strict mode (its default) raises them.

Deliberate differences: error line numbers are those of the line where the command starts
(libuci counts lines read so far); anonymous sections keep no name (libuci's generated one
is only used to find merges).

The writer emits what `uci commit` writes, except that a section type holding characters
that would read back differently is quoted. No file I/O here: that is store.py's job.
"""

from collections import OrderedDict

from wgpy.runtime.compat import Record

# Characters that make a bare section type ambiguous on re-reading; libuci writes types
# unquoted, so only types containing them get quoted (libuci cannot round-trip those).
_TYPE_NEEDS_QUOTES = frozenset(" \t\n\v\f\r'\"\\#;")
_SPACE = frozenset(b" \t\n\v\f\r")  # C isspace() in the C locale
_BLANK = frozenset(b" \t")  # the command word's strtok() delimiters
_ENCODING = ("utf-8", "surrogateescape")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NAME_CHARS = frozenset(LETTERS + "0123456789_")  # bytes that are not UTF-8 survive a round trip


def is_name(text: str) -> bool:
    """A section or option name wgpy writes: letters, digits and '_' (ASCII)."""
    return bool(text) and all(c in NAME_CHARS for c in text)


def is_type(text: str) -> bool:
    """libuci's uci_validate_type: printable ASCII, no space."""
    return bool(text) and all("!" <= c <= "~" for c in text)


def _is_integer(text: str) -> bool:
    """-?[0-9]+"""
    digits = text[1:] if text.startswith("-") else text
    return bool(digits) and all("0" <= c <= "9" for c in digits)


class UciSyntaxError(Exception):
    """A file libuci would refuse to load; carries the line number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class UciValueError(ValueError):
    """Content that no UCI file can hold so that libuci reads it back unchanged."""


class Option(Record):
    """value: a str, or a list of str for `list` options."""
    FIELDS = ("name", "value", "line")
    DEFAULTS = {"line": None}


class Section(Record):
    """name: None for an anonymous section; options: name -> Option, in file order."""
    FIELDS = ("type", "name", "options", "line")
    DEFAULTS = {"line": None}
    FACTORIES = {"options": OrderedDict}

    def get(self, name: str, default: "str | list[str] | None" = None) -> "str | list[str] | None":
        """The option's value (str, or list for `list` options), or `default`."""
        option = self.options.get(name)
        return default if option is None else option.value


class Package(Record):
    FIELDS = ("name", "sections")
    FACTORIES = {"sections": list}

    def label(self, section: Section) -> str:
        """How `uci show` names a section: its name, or `@type[index]` when anonymous."""
        if section.name is not None:
            return section.name
        same_type = [s for s in self.sections if s.type == section.type]
        index = next(i for i, s in enumerate(same_type) if s is section)  # identity, not ==
        return f"@{section.type}[{index}]"

    def find(self, ref: str) -> "Section | None":
        """The section called `ref` (a name or `@type[index]`), or None."""
        kind, _, number = ref[1:-1].rpartition("[")
        if ref.startswith("@") and ref.endswith("]") and kind and _is_integer(number):
            same_type = [s for s in self.sections if s.type == kind]
            index = int(number)
            return same_type[index] if -len(same_type) <= index < len(same_type) else None
        return next((s for s in self.sections if s.name == ref), None)

    def as_dict(self) -> "list[tuple[str, str | None, dict[str, str | list[str]]]]":
        """Comparable content: (type, name, {option: value}) per section, lines left out."""
        return [(s.type, s.name, {o.name: o.value for o in s.options.values()})
                for s in self.sections]


# ---- reading: libuci's parser ----

class _Stream:
    """A FILE over bytes: glibc's fgets and feof."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.eof = data, 0, False

    def fgets(self, size: int) -> "bytes | None":
        """At most size-1 bytes, up to and including a newline; None at end of file."""
        if self.pos >= len(self.data):
            self.eof = True
            return None
        limit = self.pos + size - 1
        newline = self.data.find(b"\n", self.pos, limit)
        stop = newline + 1 if newline >= 0 else min(limit, len(self.data))
        if newline < 0 and stop < limit:
            self.eof = True  # the read ran into the end of the file
        chunk = self.data[self.pos:stop]
        self.pos = stop
        return chunk


def anonymous_name(position: int, kind: str) -> str:
    """The name libuci gives the anonymous section created `position`-th (1-based) in its
    package: uci_fixup_section at creation, so its djbhash covers the type only (C `char`
    is signed)."""
    value = 5381
    for byte in kind.encode(*_ENCODING):
        value = (value * 33 + (byte - 256 if byte > 127 else byte)) & 0xFFFFFFFF
    return "cfg%02x%04x" % (position, (value & 0x7FFFFFFF) % (1 << 16))


def _valid(data: bytes, name: bool, package: bool = False) -> bool:
    """libuci's uci_validate_str."""
    if not data:
        return False
    for byte in data:
        if 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122 or byte == 95:
            continue
        if byte == 45 and package:
            continue
        if name or byte < 33 or byte > 126:
            return False
    return True


def _text(data: bytes) -> str:
    return data.decode(*_ENCODING)


class _Parser:
    """libuci's uci_parse_context and the functions of file.c that use it, one to one
    (`buf` is the C buffer, NUL-terminated strings at offsets into it)."""

    def __init__(self, data: bytes, name: str) -> None:
        self.file = _Stream(data)
        self.bufsz = 32  # LINEBUF
        self.buf = bytearray(self.bufsz)
        self.filled = 0
        self.pos = 0
        self.line = 0
        self.start_line = 0
        self.package = Package(name)
        self.section: "Section | None" = None
        self.by_name: dict[str, Section] = {}  # named and generated anonymous names
        self.n_section = 0

    # -- the buffer --

    def char(self, index: int) -> int:
        return self.buf[index] if index < len(self.buf) else 0

    def cur(self) -> int:
        return self.char(self.pos)

    def string(self, offset: int) -> bytes:
        end = self.buf.find(b"\0", offset)
        return bytes(self.buf[offset:end if end >= 0 else len(self.buf)])

    def grow(self) -> None:
        self.bufsz *= 2
        self.buf.extend(bytes(self.bufsz - len(self.buf)))

    def getln(self, offset: int) -> None:
        """uci_getln: append the next line at `offset`."""
        if offset >= self.bufsz - 1:
            self.grow()
        ofs = offset
        while True:
            self.buf[ofs] = 0
            chunk = self.file.fgets(self.bufsz - ofs)
            if chunk is None:
                return
            self.buf[ofs:ofs + len(chunk)] = chunk
            self.buf[ofs + len(chunk)] = 0
            if not chunk or chunk[0] == 0:
                return
            nul = chunk.find(b"\0")
            ofs += len(chunk) if nul < 0 else nul  # strlen: a NUL cuts the line here
            self.filled = ofs
            if self.buf[ofs - 1] == 0x0A:
                self.line += 1
                return
            self.grow()

    def error(self, reason: str) -> UciSyntaxError:
        return UciSyntaxError(self.start_line, reason)

    # -- arguments --

    def skip_whitespace(self) -> None:
        while self.cur() and self.cur() in _SPACE:
            self.pos += 1

    def backslash(self) -> bool:
        """parse_backslash: False when it joined the next line."""
        self.pos += 1
        c = self.cur()
        if c == 0 or c == 0x0A or (c == 0x0D and self.char(self.pos + 1) == 0x0A
                                   and not self.char(self.pos + 2)):
            self.getln(self.pos)
            return False
        return True

    def addc(self) -> None:
        self.buf[self.target] = self.buf[self.pos]
        self.target += 1
        self.pos += 1

    def quoted(self, quote: int) -> None:
        """parse_double_quote / parse_single_quote."""
        self.pos += 1
        while True:
            c = self.cur()
            if c == quote:
                self.pos += 1
                return
            if c == 0:
                self.getln(self.pos)  # a multi-line value
                if not self.cur():
                    raise self.error(f"EOF with unterminated {chr(quote)}")
            elif c == 0x5C and quote == 0x22:
                if self.backslash():
                    self.addc()
            else:
                self.addc()

    def parse_str(self) -> None:
        go_on = True
        while True:
            c = self.cur()
            if c in (0x27, 0x22):
                self.quoted(c)
            elif c == 0x23:  # '#': the rest of the line is a comment
                self.buf[self.pos] = 0
                break
            elif c == 0:
                break
            elif c == 0x3B:  # ';'
                go_on = False
                break
            elif c == 0x5C:
                if self.backslash():
                    self.addc()
            else:
                self.addc()
            if not self.cur() or self.cur() in _SPACE:
                break
        # The blank (or ';') after the word is overwritten by its terminator.
        if self.cur() and go_on:
            self.pos += 1
        self.buf[self.target] = 0

    def next_arg(self, required: bool, name: bool, package: bool = False) -> int:
        self.skip_whitespace()
        val = self.target = self.pos
        if self.cur() == 0x3B:
            self.buf[self.pos] = 0
            self.pos += 1
        else:
            self.parse_str()
        if not self.char(val):
            if required:
                raise self.error("insufficient arguments")
            return val
        if name and not _valid(self.string(val), True, package):
            raise self.error("invalid character in name field")
        return val

    def assert_eol(self) -> None:
        self.skip_whitespace()
        if self.string(self.next_arg(False, False)):
            raise self.error("too many arguments")

    def increase_pos(self, reason: str) -> None:
        add = len(self.string(self.pos)) + 1
        if self.pos + add > self.filled:
            raise self.error(reason)
        self.pos += add

    # -- commands --

    def strtok(self) -> "bytes | None":
        """The next command word; its end is overwritten by a NUL as strtok does."""
        p = self.pos
        while self.char(p) in _BLANK:
            p += 1
        if not self.char(p):
            return None
        start = p
        while self.char(p) and self.char(p) not in _BLANK:
            p += 1
        if self.char(p):
            self.buf[p] = 0
        return bytes(self.buf[start:p])

    def parse_line(self) -> None:
        self.skip_whitespace()
        while True:
            word = self.strtok()
            if word is None or word.startswith(b"#"):
                return
            if word in (b"p", b"package"):
                self.increase_pos("package without name")
                self.next_arg(True, True, True)
                self.assert_eol()
            elif word in (b"c", b"config"):
                self.config()
            elif word in (b"o", b"option", b"l", b"list"):
                self.option(word in (b"l", b"list"))
            else:
                raise self.error("invalid command")

    def config(self) -> None:
        self.increase_pos("config without name")
        ofs_type = self.next_arg(True, False)
        if not _valid(self.string(ofs_type), False):
            raise self.error("invalid character in type field")
        ofs_name = self.next_arg(False, True)
        self.assert_eol()
        kind, name = _text(self.string(ofs_type)), _text(self.string(ofs_name))
        existing = self.by_name.get(name) if name else None
        if existing is not None:
            if existing.type != kind:
                raise self.error("section of different type overwrites prior section with "
                                 "same name")
            self.section = existing
            return
        self.n_section += 1
        self.section = Section(kind, name or None, line=self.start_line)
        self.package.sections.append(self.section)
        self.by_name[name or anonymous_name(self.n_section, kind)] = self.section

    def option(self, is_list: bool) -> None:
        if self.section is None:
            raise self.error("option/list command found before the first section")
        self.increase_pos("option without name")
        ofs_name = self.next_arg(True, True)
        ofs_value = self.next_arg(False, False)
        self.assert_eol()
        name, value = _text(self.string(ofs_name)), _text(self.string(ofs_value))
        options = self.section.options
        old = options.get(name)
        if is_list:  # uci_add_list: a string becomes a list in its place
            items = [] if old is None else old.value if isinstance(old.value, list) \
                else [old.value]
            options[name] = Option(name, items + [value], self.start_line)
        elif value and not (old is not None and old.value == value):
            # uci_set: an empty value is ignored; a new value replaces in place.
            options[name] = Option(name, value, self.start_line)

    def run(self) -> "Package":
        """uci_import of one config."""
        while not self.file.eof:
            self.pos = 0
            self.start_line = self.line + 1
            self.getln(0)
            if self.buf[0]:
                self.parse_line()
        return self.package


def parse(data: "bytes | str", name: str) -> "Package":
    """Parse config `name` as libuci does; raises UciSyntaxError where libuci fails."""
    if isinstance(data, str):
        data = data.encode(*_ENCODING)
    return _Parser(data, name).run()


# ---- writing ----

def quote(value: str) -> str:
    """A single-quoted word, with `'` written as libuci does: '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


def check_value(value: str) -> None:
    """Refuse a string no UCI file can hold: libuci cuts a line at a NUL (and a later
    line would be read into it), and bytes must survive encoding."""
    if "\x00" in value:
        raise UciValueError("a NUL character cannot be stored in UCI")
    try:
        value.encode(*_ENCODING)
    except UnicodeEncodeError:
        raise UciValueError("not encodable text (a lone surrogate)") from None


def check(package: Package) -> None:
    """Raise UciValueError unless `render(package)` reads back as `package` in libuci."""
    names = set()
    for section in package.sections:
        check_value(section.type)
        if not is_type(section.type):
            raise UciValueError(f"section type {section.type!r}: printable ASCII without "
                                "spaces only")
        if section.name is not None:
            if not is_name(section.name):
                raise UciValueError(f"section name {section.name!r}: letters, digits and '_'"
                                    " only")
            if section.name in names:
                raise UciValueError(f"two sections are called {section.name!r}")
            names.add(section.name)
        for key, option in section.options.items():
            if key != option.name or not is_name(key):
                raise UciValueError(f"option name {option.name!r}: letters, digits and '_' "
                                    "only")
            items = option.value if isinstance(option.value, list) else [option.value]
            if not items or items == [""] and not isinstance(option.value, list):
                raise UciValueError(f"option {key!r}: libuci drops an empty value")
            for item in items:
                check_value(item)


def render(package: Package) -> str:
    """The file `uci commit` would write for `package`; UciValueError if libuci would read
    that file as anything else."""
    check(package)
    out = []
    for section in package.sections:
        kind = quote(section.type) if any(c in _TYPE_NEEDS_QUOTES for c in section.type) \
            else section.type
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
    text = "".join(out)
    # The last word: what libuci would read (a named section colliding with an anonymous
    # one's generated name, say) must be what was meant.
    if parse(text, package.name).as_dict() != package.as_dict():
        raise UciValueError("libuci would read this package differently")
    return text
