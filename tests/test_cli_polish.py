"""The ``dualad`` command's polish (issue 13): usage and help text, ``--version``, the
options of ``check``, output files named by their format, dict and ufunc targets, and the
names of a trace's outputs.
"""

from __future__ import annotations

import argparse

import pytest

import dualad
from dualad.cli.main import _parser
from dualad.traces.formats import FORMATS

from .test_cli import LECTURE, run
from .test_cli_mistakes import one_error

POINT = ("--at", "x1=2", "x2=5")


# --------------------------------------------------------------------------- usage, help, version


def test_dualad_alone_prints_its_usage(capsys):
    status, out, err = run(capsys)
    assert status == 2 and out == ""
    assert err.startswith("usage: dualad [-h] [--version] COMMAND ...")
    assert "trace" in err and "check" in err and "dualad dualad" not in err


@pytest.mark.parametrize("argv, hint", [
    (["--bogus"], "see dualad --help"),
    (["frobnicate"], "see dualad --help"),
    (["trace", LECTURE, *POINT, "--bogus"], "see dualad trace --help"),
    (["check", LECTURE, *POINT, "--bogus"], "see dualad check --help"),
    (["trace", LECTURE, "--at"], "see dualad trace --help"),
    (["check", LECTURE, "--at"], "see dualad check --help"),
    (["trace", LECTURE, *POINT, "--digits", "many"], "see dualad trace --help"),
    (["trace"], "see dualad trace --help"),
    (["check"], "see dualad check --help"),
])
def test_usage_mistakes_point_at_the_right_help(capsys, argv, hint):
    status, out, err = run(capsys, *argv)
    one_error(status, out, err, f"({hint})")
    assert "dualad dualad" not in err


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"dualad": parser, **{f"dualad {n}": p for n, p in commands.choices.items()}}


@pytest.mark.parametrize("prog", ["dualad", "dualad trace", "dualad check"])
def test_help_is_plain_text_and_explains_every_option(capsys, prog):
    status, out, err = run(capsys, *prog.split()[1:], "--help")
    assert status == 0 and err == "" and out.startswith(f"usage: {prog} ")
    for markup in ("``", ":func:", ":mod:", ":data:", ":class:"):
        assert markup not in out, markup
    for action in _parsers()[prog]._actions:
        assert action.help, (prog, action.dest)


def test_version_is_the_packages(capsys, monkeypatch):
    status, out, err = run(capsys, "--version")
    assert (status, out, err) == (0, f"dualad {dualad.__version__}\n", "")
    monkeypatch.setattr(dualad, "__version__", "9.8.7")  # read from there, nowhere else
    assert run(capsys, "--version") == (0, "dualad 9.8.7\n", "")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_of_the_table_is_a_choice(capsys, name):
    status, out, err = run(capsys, "trace", LECTURE, *POINT, "--format", name)
    assert status == 0 and err == "" and "1.716" in out
