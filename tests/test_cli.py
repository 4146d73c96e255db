"""The ``dualad`` command: golden traces of the lecture, user files, and every mistake.

A user's mistake prints one message on stderr (no traceback) and exits with status 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import numpy as np
import pydot
import pytest

from dualad.cli import main
from dualad.traces.formats import JSON_SCHEMA

from .test_trace_format import LECTURE_TEXT

LECTURE = "log(x1) + x1*x2 - sin(x2)"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


TANH_CHAIN = str(Path(__file__).with_name("forum001.py"))  # the forum's tanh network, as a file


@pytest.fixture
def tanh_chain_file():
    return TANH_CHAIN


# --------------------------------------------------------------------------- trace: the lecture


def test_lecture_trace_in_the_lectures_order_and_numbers(capsys):
    status, out, err = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5")
    assert status == 0 and err == ""
    for line in ["v_-1 = x1", "v0   = x2", "v1   = ln v_-1", "v2   = v_-1 * v0",
                 "v3   = sin v0", "v4   = v1 + v2", "v5   = v4 - v3", "y    = v5"]:
        assert line in out, line
    for fragment in ["= 0.693", "= -0.959", "= 10.693", "= 11.652",
                     "v1_dot   = v_-1_dot / v_-1", "= 0.5", "y_dot", "= 5.5",
                     "v0_bar   = v3_bar * cos v0", "= -0.284",
                     "v0_bar   = v0_bar + v2_bar * v_-1", "= 1.716",
                     "v_-1_bar = v_-1_bar + v1_bar / v_-1", "x1_bar = 5.5", "x2_bar = 1.716"]:
        assert fragment in out, fragment




def test_lecture_trace_golden_text(capsys):
    """The whole text output: Tables 2 and 3 of the lecture, in its order and numbers."""
    status, out, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5")
    assert status == 0 and out == LECTURE_TEXT + "\n"


def test_wrt_x2_in_markdown(capsys):
    status, out, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--wrt", "x2",
                         "--format", "markdown")
    assert status == 0
    assert "|" in out and "1.716" in out and "11.652" in out
    assert "x2_dot = 1" in out or "x2_dot` = 1" in out or "x2_dot | 1" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json", "dot"])
def test_every_format_carries_the_lectures_numbers(capsys, fmt):
    status, out, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--format", fmt)
    assert status == 0
    if fmt == "json":
        data = json.loads(out)
        values = {n["label"]: n for n in data["nodes"]}
        assert round(values["v5"]["primal"], 3) == 11.652
        assert round(values["v0"]["adjoint"], 3) == 1.716
        assert values["v_-1"]["adjoint"] == 5.5
        return
    for number in ["11.652", "5.5", "1.716", "-0.284"]:
        assert number in out, (fmt, number)


def test_json_validates_against_its_schema_and_dot_parses(capsys, tanh_chain_file):
    for argv in (["trace", LECTURE, "--at", "x1=2", "x2=5"],
                 ["trace", f"{tanh_chain_file}:loss", "--at", "w_h=2", "w_y=40"],
                 ["trace", "sum(tanh(x) * x)", "--at", "x=[0.5, 1, 2]"]):
        _, out, _ = run(capsys, *argv, "--format", "json")
        jsonschema.validate(json.loads(out), JSON_SCHEMA)
        _, out, _ = run(capsys, *argv, "--format", "dot")
        (graph,) = pydot.graph_from_dot_data(out)
        assert len(graph.get_edges()) >= 3


def test_modes_digits_and_direction(capsys):
    _, forward, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--mode", "forward")
    assert "_dot" in forward and "_bar" not in forward
    _, reverse, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--mode", "reverse")
    assert "_bar" in reverse and "_dot =" not in reverse
    _, digits, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--digits", "5")
    assert "11.65207" in digits and "1.71634" in digits
    _, seeded, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--direction",
                       "x1=1", "x2=2", "--mode", "forward")
    assert f"= {5.5 + 2 * (2 - np.cos(5.0)):.3f}" in seeded


def test_arrays_on_the_command_line_and_from_npy(capsys, tmp_path):
    np.save(tmp_path / "w.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    status, out, _ = run(capsys, "trace", "sum(tanh(x) * x)", "--at", "x=[0.5, 1, 2]")
    assert status == 0 and "(3,)" in out
    status, out, _ = run(capsys, "trace", "sum(W * W)", "--at", f"W=@{tmp_path / 'w.npy'}")
    assert status == 0 and "(2, 2)" in out
    assert "[[2, 4], [6, 8]]" in out  # d/dW sum(W*W) = 2 W


# --------------------------------------------------------------------------- trace: Python code


def test_tanh_chain_from_a_file_names_the_users_intermediates(capsys, tanh_chain_file):
    status, out, _ = run(capsys, "trace", f"{tanh_chain_file}:loss", "--at", "w_h=2", "w_y=40")
    assert status == 0
    for name in ["h1_raw", "h1 ", "h2_raw", "h2 ", "y2"]:
        assert name in out
    assert "h2_raw_bar = h2_bar * (1 - tanh**2 h2_raw)" in out
    assert "w_h_bar = 8.189" in out and "w_y_bar = 0.909" in out
    _, out, _ = run(capsys, "trace", f"{tanh_chain_file}:loss", "--at", "w_h=2", "w_y=40",
                    "--digits", "4")
    assert "w_h_bar = 8.1888" in out and "w_y_bar = 0.9093" in out  # the forum's autograd


def test_module_target_on_the_path(capsys, tmp_path, monkeypatch):
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(textwrap.dedent('''
        import numpy as np
        def forward(x, W):
            hidden = np.tanh(W @ x)
            return np.sum(hidden)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    status, out, _ = run(capsys, "trace", "mypkg.layers:forward", "--at", "x=[1,2]",
                         "W=[[1,0],[0,1]]")
    assert status == 0 and "hidden" in out
    expected = 1 - np.tanh([1.0, 2.0]) ** 2  # d/dx sum(tanh(x)) with W = I
    assert f"x_bar = (2,) [{expected[0]:.3g}, {expected[1]:.2g}]" in out


def test_graphviz_output_file(capsys, tmp_path):
    target = tmp_path / "graph.dot"
    status, out, _ = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--format", "dot",
                         "--output", str(target))
    assert status == 0 and out == "" and target.read_text().startswith("digraph")


def test_the_command_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "dualad", "trace", LECTURE, "--at", "x1=2",
                             "x2=5"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "x2_bar = 1.716" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "dualad", "trace", "log(x1", "--at", "x1=2"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "^" in bad.stderr


# --------------------------------------------------------------------------- mistakes: status 2


@pytest.mark.parametrize("argv, fragments", [
    (["trace", "log(x1 + ", "--at", "x1=2"], ["^"]),
    (["trace", "ln(x1)", "--at", "x1=2"], ["ln", "log"]),
    (["trace", "__import__('os').system('echo hi')", "--at", "x=1"], ["__import__"]),
    (["trace", "x.real", "--at", "x=1"], ["attribute"]),
    (["trace", "(lambda: x)()", "--at", "x=1"], ["lambda"]),
    (["trace", "[v for v in x]", "--at", "x=1"], ["comprehension"]),
    (["trace", LECTURE, "--at", "x1=2"], ["no value for x2"]),
    (["trace", LECTURE, "--at", "x1=2", "x2=5", "x3=1"], ["x3", "x1, x2"]),
    (["trace", LECTURE, "--at", "x1=2", "x2=[1,"], ["x2=[1,", "number"]),
    (["trace", LECTURE, "--at", "x1=2", "x2"], ["NAME=VALUE"]),
    (["trace", LECTURE, "--at", "x1=2", "x2=@missing.npy"], ["missing.npy", "no such file"]),
    (["trace", LECTURE, "--at", "x1=2", "x2=5", "--wrt", "x9"], ["x9"]),
    (["trace", LECTURE, "--at", "x1=2", "x2=5", "--format", "pdf"], ["pdf"]),
    (["trace", "missing_dir/nothing.py:f", "--at", "x=1"], ["no such file"]),
    (["trace", "no_such_module_xyz:f", "--at", "x=1"], ["no_such_module_xyz"]),
    (["trace", "sin(1)", "--at", "x=1"], ["no variables"]),
])
def test_mistakes_exit_2_with_a_message(capsys, argv, fragments):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.startswith("dualad: error:")
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def test_file_mistakes(capsys, tanh_chain_file, tmp_path):
    status, _, err = run(capsys, "trace", f"{tanh_chain_file}:los", "--at", "w_h=2", "w_y=40")
    assert status == 2 and "'los'" in err and "'loss'" in err
    status, _, err = run(capsys, "trace", f"{tanh_chain_file}:raises", "--at", "w_h=2", "w_y=40")
    assert status == 2 and "NameError" in err and "undefined_name" in err and "line" in err
    broken = tmp_path / "broken.py"
    broken.write_text("def f(x):\n    return x +\n")
    status, _, err = run(capsys, "trace", f"{broken}:f", "--at", "x=1")
    assert status == 2 and "syntax error" in err and "line 2" in err


def test_non_finite_results_are_printed_and_reported(capsys, tanh_chain_file):
    status, out, err = run(capsys, "trace", f"{tanh_chain_file}:log_of", "--at", "x=0")
    assert status == 2 and "-inf" in out and "non-finite" in err


# --------------------------------------------------------------------------- check


def test_check_finds_the_forums_wrong_formula(capsys, tanh_chain_file):
    status, out, _ = run(capsys, "check", f"{tanh_chain_file}:loss", f"{tanh_chain_file}:backward",
                         "--at", "w_h=2", "w_y=40")
    assert status == 1
    assert "w_h" in out and "differs" in out and "8.18" in out and "-40.2" in out
    assert "w_y" in out and "agrees" in out
    assert "the first intermediate that differs is dh2_raw" in out


def test_check_agrees_with_a_correct_formula(capsys, tanh_chain_file):
    status, out, _ = run(capsys, "check", f"{tanh_chain_file}:loss", f"{tanh_chain_file}:fixed",
                         "--at", "w_h=2", "w_y=40")
    assert status == 0 and "differs" not in out


def test_check_without_a_manual_gradient_checks_dualad_against_differences(capsys, tanh_chain_file):
    status, out, _ = run(capsys, "check", f"{tanh_chain_file}:loss", "--at", "w_h=2", "w_y=40")
    assert status == 0 and out.strip()
