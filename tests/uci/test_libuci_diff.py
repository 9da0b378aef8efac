"""Differential tests against the real libuci (`uci export`, built by ../shared/owrt): wgpy's
reader reads every file exactly as libuci does, refuses what libuci refuses, and wgpy's
writer never writes a file libuci reads differently."""

import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import libuci
from support import owrt
from ucigen import ISSUE_CASES, uci_files

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


@pytest.mark.parametrize("data", ISSUE_CASES)
def test_issue_cases(data):
    agree(data)


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
