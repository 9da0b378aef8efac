"""Differential tests against the real libuci (`uci export`, built by ../shared/owrt): wgpy's
reader reads every file exactly as libuci does, refuses what libuci refuses, and wgpy's
writer never writes a file libuci reads differently."""

import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import libuci
from support import owrt

from wgpy.uci import syntax

owrt.need()


def agree(data: bytes) -> None:
    """wgpy and libuci agree on `data`: the same package, or both refuse it."""
    expected, error = libuci.export(data)
    try:
        mine = libuci.as_export(syntax.parse(data, "network"))
    except syntax.UciSyntaxError as exc:
        assert expected is None, f"wgpy refuses ({exc}) what libuci reads as {expected!r}"
        return
    assert expected is not None, f"wgpy reads {mine!r} where libuci says {error.strip()}"
    assert mine == expected


def _libuci_test_files():
    [tarball] = sorted((owrt.SHARED / "src").glob("uci-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        return [(member.name, tar.extractfile(member).read()) for member in tar.getmembers()
                if member.isfile() and "/tests/" in member.name]


def test_libuci_own_test_files():
    files = _libuci_test_files()
    assert len(files) > 50
    accepted = 0
    for name, data in files:
        try:
            agree(data)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
        accepted += libuci.export(data)[0] is not None
    assert accepted >= 20  # the configs among them, not only refusals


# The causes of disagreement issue 14 listed, each as its minimal case.
@pytest.mark.parametrize("data", [
    b"config a b\n\toption x 'y\rz'\n",               # CR inside a value stays a CR
    b"config a b\r\toption x y\n",                    # a CR does not end a line
    b"config a b\r\n\toption x 'y\r\nz'\n",            # CRLF inside a value stays
    b"config a b; option x y\n",                       # `;` after a bare word: rest dropped
    b"config a 'b'; option x y\n",                     # ... after a quoted one: a command
    b"config a b\n\toption x 'y';\n",                  # `;` then a newline: invalid command
    b"config a b\n\toption x 1\n\toption y 2\n\toption x 3\n",   # first position kept
    b"config a b\n\toption x 1\n\toption y 2\n\tlist x 3\n",     # option -> list in place
    b"config a b\n\tlist x 1\n\toption y 2\n\toption x 3\n",     # list -> option in place
    b"config a b\n\toption x y \\\n\toption z w\n",     # `\` after the last argument
    b"config a b\n\toption x y \\\nconfig c d\n",       # ... joining a non-blank line
    b"config a b\n\toption x y '' ''\n",               # extra empty arguments
    b"config a b\n\toption x y ''\n",                  # one empty extra argument is fine
    b"config a b\n\toption x y\x00junk\n\toption z w\n",  # NUL cuts, next line joins
    b"config a b\n\toption x 'y\x00z'\n",              # NUL inside quotes: unterminated
    b"config a b\n\toption x " + b"v" * 100 + b"\x00" + b"w" * 50 + b"\n\toption y 2\n",
    b"config foo\nconfig foo " + syntax.anonymous_name(1, "foo").encode() + b"\n",
    b"config\n", b"config", b"config a b\n\toption x\n", b"config a\xff b\n",
    b"config a b\n\toption x '\xff\xfe'\n",
])
def test_issue_cases(data):
    agree(data)


# ---- files from a grammar of UCI's tokens, quoting and separators ----

_bare = st.sampled_from(["a", "b", "wg0", "x_1", "cfg01", "10.0.0.1/24", "a-b", "a.b", "é",
                         "\\n", "a\\ b", "x#y", "x;y", "@a[0]", "", "'"])
_chars = st.sampled_from(list("abcdefgh '\"\\#;\t\r\n\x01é-_=") + ["\\\n", "\r\n", "\x00"])


@st.composite
def _word(draw):
    kind = draw(st.sampled_from(["bare", "single", "double", "mixed"]))
    body = "".join(draw(st.lists(_chars, max_size=6)))
    if kind == "bare":
        return draw(_bare)
    if kind == "single":
        return "'" + body.replace("'", "") + "'"
    if kind == "double":
        return '"' + body.replace('"', '\\"') + '"'
    return draw(_bare) + "'" + body.replace("'", "") + "'" + draw(_bare)


_name = st.sampled_from(["a", "wg0", "x_1", "proto", "cfg01", "B9"])
_quoted_name = _name.map(lambda n: f"'{n}'") | _name.map(lambda n: f'"{n}"')
_separator = st.sampled_from([" "] * 30 + ["\t", "  ", ";", " ;", "; ", "\\\n", "\\\n\t"])
_line_end = st.sampled_from(["\n"] * 30 + ["\r\n", "\r", "", " #c\n", ";\n", "; ", "\\\n",
                                         "\x00\n", " ''\n", " '' ''\n"])


@st.composite
def _line(draw):
    """Mostly well-formed commands, some not: UCI's tokens, quoting and separators."""
    kind = draw(st.sampled_from(["config", "c", "\toption", "\tlist"] * 10 + [
        "option", "o", "list", "l", "package", "#", "bogus", "", " config"]))
    if kind in ("config", "c"):
        args = [draw(_name | _quoted_name)] + draw(st.lists(_name | _quoted_name, max_size=1))
    elif kind == "package":
        args = [draw(_name)]
    else:
        args = [draw(_name | _quoted_name), draw(_word())]
    args = draw(st.sampled_from([args] * 12 + [args[:-1], args + [draw(_word())]]))
    parts = [kind]
    for arg in args:
        parts += [draw(_separator), arg]
    return "".join(parts) + draw(_line_end)


@st.composite
def uci_files(draw):
    head = draw(st.sampled_from(["config a b\n"] * 4 + ["", "config interface 'wg0'\n"]))
    return (head + "".join(draw(st.lists(_line(), max_size=8)))).encode()


@settings(max_examples=300)
@given(uci_files())
def test_generated_files(data):
    agree(data)


# ---- the writer ----

_any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30) | \
    st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")) | \
    st.sampled_from(["x\x00\nconfig interface 'evil'\n\toption proto 'static", "\udc80",
                     "\ud800", "", "'", "\\", "a\r\nb"])


@given(_any_text, st.booleans())
def test_every_value_round_trips_or_is_refused(value, is_list):
    """Any value: written so that libuci reads exactly it back, or refused before writing."""
    section = syntax.Section("interface", "wg0")
    section.options["x"] = syntax.Option("x", [value] if is_list else value)
    package = syntax.Package("network", [section])
    try:
        text = syntax.render(package)
    except syntax.UciValueError:
        return
    data = text.encode("utf-8", "surrogateescape")
    assert libuci.export(data)[0] == libuci.as_export(package)


def test_nul_injection_is_refused():
    """Issue 14: a NUL in a value, then a later write, let libuci see a section wgpy did
    not see. Now the write is refused."""
    section = syntax.Section("wireguard_wg0", "peer")
    section.options["description"] = syntax.Option(
        "description", "x\x00\nconfig interface 'evil'\n\toption proto 'static")
    with pytest.raises(syntax.UciValueError, match="NUL"):
        syntax.render(syntax.Package("network", [section]))


@pytest.mark.parametrize("name", ["a-b", "a.b", "", "é", "a b", "x\x00"])
def test_bad_option_and_section_names_are_refused(name):
    bad_option = syntax.Section("interface", "wg0")
    bad_option.options[name] = syntax.Option(name, "1")
    for package in (syntax.Package("network", [bad_option]),
                    syntax.Package("network", [syntax.Section("interface", name)])):
        if name or package.sections[0].options:
            with pytest.raises(syntax.UciValueError):
                syntax.render(package)


def test_a_name_colliding_with_an_anonymous_section_is_refused():
    name = syntax.anonymous_name(1, "foo")
    package = syntax.Package("network", [syntax.Section("foo", None),
                                         syntax.Section("foo", name)])
    with pytest.raises(syntax.UciValueError):
        syntax.render(package)
