"""The ``dualad`` command's polish (issue 13): usage and help text, ``--version``, the
options of ``check``, output files named by their format, dict and ufunc targets, and the
names of a trace's outputs.
"""

from __future__ import annotations

import pytest

from dualad.traces.formats import FORMATS

from .test_cli import LECTURE, run

POINT = ("--at", "x1=2", "x2=5")


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_of_the_table_is_a_choice(capsys, name):
    status, out, err = run(capsys, "trace", LECTURE, *POINT, "--format", name)
    assert status == 0 and err == "" and "1.716" in out
