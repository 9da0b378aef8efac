"""wgpyd's command line: usage and version answer at once and create nothing."""

import pytest

from wgpy import __version__
from wgpy.daemon.main import _parse_args, main as wgpyd_main


@pytest.mark.parametrize("argv,expected", [
    (["wg0"], (False, "wg0")),
    (["-f", "wg0"], (True, "wg0")),
    (["--foreground", "wg0"], (True, "wg0")),
    ([], None), (["-f"], None), (["--help"], None), (["-x"], None),
    (["-f", "--help"], None), (["wg0", "wg1"], None), (["-f", "wg0", "x"], None),
])
def test_arguments(argv, expected):
    assert _parse_args(argv) == expected


def test_help_and_version_print_and_exit(capsys):
    assert wgpyd_main(["--help"]) == 0
    assert "Usage: wgpyd" in capsys.readouterr().out
    assert wgpyd_main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out
    assert wgpyd_main(["--bogus"]) == 2
    assert "Usage: wgpyd" in capsys.readouterr().err
