"""UCI files for the differential tests (test_libuci_diff.py against libuci, and
tests/mpy/test_uci_router.py: MicroPython's reader against CPython's): the causes of
disagreement issue 14 listed, and a Hypothesis grammar of UCI's tokens, quoting and
separators."""

from hypothesis import strategies as st

from wgpy.uci import syntax

# The causes of disagreement issue 14 listed, each as its minimal case.
ISSUE_CASES = [
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
]


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
