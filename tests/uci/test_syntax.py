"""The UCI reader/writer: every odd form libuci reads, errors where libuci fails, and
round trips (hypothesis): render -> parse gives the same package, render is a fixed point."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wgpy.uci.syntax import Option, Package, Section, UciSyntaxError, parse, render


def content(text: str):
    return parse(text, "network").as_dict()


def test_what_uci_commit_writes():
    text = ("\nconfig interface 'wg0'\n\toption proto 'wgpy'\n\tlist addresses '10.0.0.1/24'\n"
            "\tlist addresses 'fd00::1/64'\n\nconfig wireguard_wg0\n"
            "\toption description 'it'\\''s mine'\n\n")
    assert content(text) == [
        ("interface", "wg0", {"proto": "wgpy", "addresses": ["10.0.0.1/24", "fd00::1/64"]}),
        ("wireguard_wg0", None, {"description": "it's mine"}),
    ]
    assert render(parse(text, "network")) == text


@pytest.mark.parametrize("text, expected", [
    # quoting styles, concatenation, escapes
    ('config a b\n\toption x "dq \\"q\\" \\\\ \\n"\n', {"x": 'dq "q" \\ n'}),
    ("config a b\n\toption x 'a'\"b\"c\n", {"x": "abc"}),
    ("config a b\n\toption x un\\ quoted\n", {"x": "un quoted"}),
    # comments: whole line, after arguments, glued to a word
    ("# head\nconfig a b # tail\n  # indented\n\toption x y#z\n", {"x": "y"}),
    # one-letter commands and `;` separating commands (after a quoted word: libuci
    # overwrites a `;` right after a bare word and drops the rest of the line)
    ("c a 'b'; o x '1'; l y '2'\n\tl y 3\n", {"x": "1", "y": ["2", "3"]}),
    ("c a b; o x 1\n", {}),
    # multi-line values and backslash-newline continuation
    ("config a b\n\toption x 'l1\nl2'\n\toption y \"m1\nm2\"\n\toption z ab\\\ncd\n",
     {"x": "l1\nl2", "y": "m1\nm2", "z": "abcd"}),
    # an empty option value is ignored; an empty list item is kept
    ("config a b\n\toption x 1\n\toption x ''\n\tlist y ''\n", {"x": "1", "y": [""]}),
    # a later option replaces in its first position; list after option extends it
    ("config a b\n\toption x 1\n\toption y 1\n\toption x 2\n\tlist y 2\n",
     {"x": "2", "y": ["1", "2"]}),
    # CRLF line ends, blank lines with spaces, a package line
    ("package network\r\n\r\n   \nconfig a b\r\n\toption x 1\r\n", {"x": "1"}),
    # missing value reads as no option at all
    ("config a b\n\toption x\n", {}),
])
def test_odd_forms(text, expected):
    [(kind, name, options)] = content(text)
    assert (kind, name, options) == ("a", "b", expected)


def test_repeated_named_section_merges_and_anonymous_ones_do_not():
    text = "config a n\n\toption x 1\nconfig a\nconfig a n\n\toption y 2\nconfig a\n"
    package = parse(text, "network")
    assert package.as_dict() == [("a", "n", {"x": "1", "y": "2"}), ("a", None, {}),
                                 ("a", None, {})]
    # As in `uci show`: the index counts every section of the type, named ones too.
    assert [package.label(s) for s in package.sections] == ["n", "@a[1]", "@a[2]"]
    assert package.find("@a[2]") is package.sections[2]
    assert package.find("@a[-1]") is package.sections[2]


def test_line_numbers_are_kept():
    package = parse("\n# c\nconfig a b\n\toption x 'two\nlines'\n\toption y 1\n", "n")
    section = package.sections[0]
    assert (section.line, section.options["x"].line, section.options["y"].line) == (3, 4, 6)


@pytest.mark.parametrize("text, line, message", [
    ("option x 1\n", 1, "before the first section"),
    ("config a b\nfoo bar\n", 2, "invalid command"),
    ("config a b c\n", 1, "too many arguments"),
    ("config a b-c\n", 1, "invalid character in name field"),
    ("config a b\n\toption x-y 1\n", 2, "invalid character in name field"),
    ("config a b\n\toption x 'open\n", 2, "unterminated"),
    ("config a b\nconfig c b\n", 2, "different type"),
    ("config\n", 1, "invalid command"),  # strtok keeps the newline in the word
    ("config a b\n\toption x y '' ''\n", 2, "invalid command"),
    ("config a b\n\toption x 'y\x00z'\n", 2, "unterminated"),
])
def test_what_libuci_refuses(text, line, message):
    with pytest.raises(UciSyntaxError) as info:
        parse(text, "network")
    assert info.value.line == line and message in info.value.message


# ---- round trips ----

names = st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)
types = st.from_regex(r"[!-~]{1,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                 max_size=20)


@st.composite
def sections(draw):
    section = Section(draw(types), draw(st.none() | names))
    for name in draw(st.lists(names, max_size=5, unique=True)):
        if draw(st.booleans()):
            section.options[name] = Option(name, draw(values.filter(bool)))
        else:
            section.options[name] = Option(name, draw(st.lists(values, min_size=1, max_size=4)))
    return section


@st.composite
def packages(draw):
    package = Package("network")
    for section in draw(st.lists(sections(), max_size=6)):
        if section.name is not None and package.find(section.name) is not None:
            continue  # a repeated name would merge: not a distinct package
        package.sections.append(section)
    return package


@given(packages())
def test_round_trip(package):
    text = render(package)
    again = parse(text, "network")
    assert again.as_dict() == package.as_dict()
    assert render(again) == text
