"""The ``dualad`` command's polish (issue 13): usage and help text, ``--version``, the
options of ``check``, output files named by their format, dict and ufunc targets, and the
names of a trace's outputs.
"""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import pytest

import dualad
from dualad.checking import check_grads
from dualad.cli import check_command, trace_command
from dualad.cli.main import COMMANDS, _parser
from dualad.traces.formats import FORMATS

from .test_cli import LECTURE, TANH_CHAIN, run
from .test_cli_mistakes import one_error, user_file
from .test_trace_format import LECTURE_TEXT

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


@pytest.mark.parametrize("name, extension",
                         [(n, e) for n, f in FORMATS.items() for e in f.extensions
                          if e not in (".svg", ".png", ".pdf")])
def test_output_extension_picks_the_format(capsys, tmp_path, name, extension):
    target = tmp_path / f"trace{extension.upper() if extension == '.md' else extension}"
    status, out, err = run(capsys, "trace", LECTURE, *POINT, "-o", str(target))
    assert (status, out, err) == (0, "", "")
    _, expected, _ = run(capsys, "trace", LECTURE, *POINT, "--format", name)
    assert target.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("extension", [".svg", ".png", ".pdf"])
def test_an_image_extension_renders_the_graph(capsys, tmp_path, monkeypatch, extension):
    written = []
    monkeypatch.setattr(trace_command, "write_graph", lambda text, path: written.append(
        (text, path)))
    target = str(tmp_path / f"g{extension}")
    status, out, err = run(capsys, "trace", LECTURE, *POINT, "-o", target)
    assert (status, out, err) == (0, "", "")
    ((text, path),) = written
    assert path == target and text.startswith("digraph trace {")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_an_svg_output_is_an_svg(capsys, tmp_path):
    target = tmp_path / "g.svg"
    assert run(capsys, "trace", LECTURE, *POINT, "-o", str(target))[0] == 0
    assert "<svg" in target.read_text()


def test_format_says_otherwise(capsys, tmp_path):
    target = tmp_path / "g.svg"
    status, _, _ = run(capsys, "trace", LECTURE, *POINT, "-o", str(target), "--format", "text")
    assert status == 0 and target.read_text() == LECTURE_TEXT + "\n"
    target = tmp_path / "notes.log"
    status, _, _ = run(capsys, "trace", LECTURE, *POINT, "-o", str(target), "--format", "json")
    assert status == 0 and json.loads(target.read_text())["schema"] == "dualad.trace/1"


def test_a_file_without_an_extension_gets_text(capsys, tmp_path):
    target = tmp_path / "trace"
    assert run(capsys, "trace", LECTURE, *POINT, "-o", str(target)) == (0, "", "")
    assert target.read_text() == LECTURE_TEXT + "\n"


def test_an_unknown_extension_is_a_mistake(capsys, tmp_path):
    target = tmp_path / "g.xyz"
    status, out, err = run(capsys, "trace", LECTURE, *POINT, "-o", str(target))
    one_error(status, out, err, f"--output {target}:", "extension .xyz names no format",
              ".md", ".svg", "--format")
    assert not target.exists()


# --------------------------------------------------------------------------- names


def test_an_input_named_y_is_not_the_output(capsys):
    status, out, _ = run(capsys, "trace", "x*y", "--at", "x=2", "y=3")
    assert status == 0
    words = " ".join(out.split())
    assert "y_bar = v0_bar" in words and "gradient: x_bar = 3, y_bar = 2" in words
    assert "seed: f_bar = 1" in words and "f = v1" in words and "y = v1" not in words
    _, out, _ = run(capsys, "trace", "x*y + y1", "--at", "x=2", "y=3", "y1=1", "--format",
                    "json")
    (output,) = json.loads(out)["outputs"]
    assert output["name"] == "f"


def test_the_lecture_still_calls_its_output_y(capsys):
    _, out, _ = run(capsys, "trace", LECTURE, *POINT, "--mode", "reverse")
    assert "(seed: y_bar = 1)" in out


@pytest.mark.parametrize("at, message", [
    (["x1=2"], "no value for x2: add x2=... to --at"),
    ([], "no values for x1, x2: add x1=... x2=... to --at"),
])
def test_a_missing_value_is_named_once(capsys, at, message):
    status, out, err = run(capsys, "trace", LECTURE, *(["--at", *at] if at else []))
    one_error(status, out, err)
    assert err == f"dualad: error: {message}\n"


# --------------------------------------------------------------------------- ufunc targets


def test_a_unary_ufunc_takes_x(capsys):
    status, out, err = run(capsys, "trace", "numpy:tanh", "--at", "x=1", "--mode", "reverse")
    assert status == 0 and err == ""
    assert f"gradient: x_bar = {1 - np.tanh(1.0) ** 2:.2f}" in out


def test_a_binary_ufunc_takes_x1_and_x2(capsys):
    status, out, _ = run(capsys, "trace", "numpy:arctan2", "--at", "x1=1", "x2=2")
    assert status == 0 and "gradient: x1_bar = 0.4, x2_bar = -0.2" in out
    assert run(capsys, "check", "numpy:arctan2", "--at", "x1=1", "x2=2")[0] == 0


def test_a_ufuncs_parameters_are_named_in_mistakes(capsys):
    status, out, err = run(capsys, "trace", "numpy:tanh", "--at", "y=1")
    one_error(status, out, err, "y is given a value but is not one of the parameters of "
                                "numpy:tanh (x)")
    status, out, err = run(capsys, "trace", "numpy:arctan2", "--at", "x1=1")
    one_error(status, out, err, "no value for x2")


# --------------------------------------------------------------------------- dict arguments


DICT_SOURCE = '''
    import numpy as np

    def f(x, p):
        z = p["w"] * x + p["b"]
        return np.sum(np.tanh(z))

    def grad_f(x, p):
        d = 1 - np.tanh(p["w"] * x + p["b"]) ** 2
        return np.sum(d * p["w"]), {"w": d * x, "b": np.sum(d)}

    def wrong(x, p):
        d = 1 - np.tanh(p["w"] * x + p["b"]) ** 2
        return np.sum(d * p["w"]), {"w": d, "b": np.sum(d)}
'''
P = 'p={"w": [1, 2], "b": 0.5}'


def _dict_gradient():
    d = 1 - np.tanh(np.array([1.0, 2.0]) * 2 + 0.5) ** 2
    return np.sum(d * [1.0, 2.0]), d * 2, np.sum(d)


def test_a_json_object_is_a_dict_argument(capsys, tmp_path):
    path = user_file(tmp_path, DICT_SOURCE)
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=2", P, "--mode", "reverse")
    assert status == 0 and err == ""
    dx, dw, db = _dict_gradient()
    assert f"x_bar = {dx:.3f}" in out and f"p_b_bar = {db:.3f}" in out
    assert f"p_w_bar = (2,) [{dw[0]:.3f}" in out
    status, out, _ = run(capsys, "trace", f"{path}:f", "--at", "x=2", P, "--wrt", "p_b",
                         "--mode", "forward")
    assert status == 0 and "y_dot" in out and f"= {db:.3f}" in out


def test_check_with_a_dict_argument(capsys, tmp_path):
    path = user_file(tmp_path, DICT_SOURCE)
    status, out, _ = run(capsys, "check", f"{path}:f", f"{path}:grad_f", "--at", "x=2", P)
    assert status == 0 and "agrees" in out and "differs" not in out
    status, out, _ = run(capsys, "check", f"{path}:f", f"{path}:wrong", "--at", "x=2", P)
    assert status == 1 and "differs from dualad's for p_w" in out
    status, out, _ = run(capsys, "check", f"{path}:f", "--at", "x=2", P, "--order", "1")
    assert status == 0 and "p_w" in out and "p_b" in out


@pytest.mark.parametrize("value, fragment", [
    ('p={"w b": 1}', "the key 'w b' is not a name"),
    ('p={1: 2}', "the key 1 is not a name"),
    ("p={}", "an empty object holds nothing to differentiate"),
    ('p={"w": "a"}', "not a number or a list of numbers"),
    ('p={"w": [1, {"a": 2}]}', "not a number or a (nested) list of numbers"),
])
def test_malformed_objects(capsys, tmp_path, value, fragment):
    path = user_file(tmp_path, DICT_SOURCE)
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=2", value)
    one_error(status, out, err, "--at p=", fragment)


def test_an_expression_takes_no_object(capsys):
    status, out, err = run(capsys, "trace", "x * 2", "--at", 'x={"a": 1}')
    one_error(status, out, err, "--at x: the variables of an expression are numbers or arrays")


# --------------------------------------------------------------------------- check's options


@pytest.fixture
def check_settings(monkeypatch):
    """The keyword arguments dualad check passes to check_grads, on each call."""
    calls = []

    def recording(f, args, **settings):
        calls.append(settings)
        return check_grads(f, args, **settings)

    monkeypatch.setattr(check_command, "check_grads", recording)
    return calls


def test_check_passes_its_options_to_check_grads(capsys, check_settings):
    status, out, _ = run(capsys, "check", LECTURE, *POINT, "--order", "1", "--mode",
                         "reverse", "--atol", "1e-7", "--rtol", "0", "--eps", "1e-4",
                         "--seed", "7")
    assert status == 0 and "up to order 1 (modes: rev)" in out and "0.0001" in out
    assert check_settings == [{"order": 1, "modes": ("rev",), "atol": 1e-7, "rtol": 0.0,
                               "eps": 1e-4, "seed": 7}]


def test_check_defaults_are_check_grads(capsys, check_settings):
    assert run(capsys, "check", LECTURE, *POINT)[0] == 0
    assert check_settings == [{"order": 2, "modes": ("fwd", "rev"), "atol": None,
                               "rtol": None, "eps": None, "seed": 0}]


def test_check_tolerances_decide(capsys):
    """A huge step makes central differences inexact: a tight tolerance fails, a loose one
    passes."""
    status, out, _ = run(capsys, "check", LECTURE, *POINT, "--eps", "0.5", "--order", "1")
    assert status == 1 and "wrong" in out
    status, _, _ = run(capsys, "check", LECTURE, *POINT, "--eps", "0.5", "--order", "1",
                       "--atol", "1", "--rtol", "1")
    assert status == 0


def test_check_wrt_picks_the_inputs(capsys, check_settings, tmp_path):
    status, out, _ = run(capsys, "check", LECTURE, *POINT, "--wrt", "x2", "--order", "1")
    assert status == 0 and " x2 " in out and " x1 " not in out
    path = user_file(tmp_path, '''
        import numpy as np
        def f(x, y):
            return x * np.sin(y)
        def df_dy(x, y):
            return x * np.cos(y)
    ''')
    status, out, _ = run(capsys, "check", f"{path}:f", f"{path}:df_dy", "--at", "x=2", "y=1",
                         "--wrt", "y")
    assert status == 0 and "y: agrees" in out and "x:" not in out
    status, out, _ = run(capsys, "check", f"{path}:f", f"{path}:df_dy", "--at", "x=2", "y=1")
    assert status == 2


@pytest.mark.parametrize("argv, fragments", [
    (["--order", "0"], ["argument --order: must be 1", "(see dualad check --help)"]),
    (["--order", "two"], ["argument --order:", "'two'"]),
    (["--atol", "-1"], ["argument --atol: must be a number >= 0, not '-1'"]),
    (["--rtol", "nan"], ["argument --rtol: must be a finite number"]),
    (["--eps", "0"], ["argument --eps: must be a number > 0"]),
    (["--mode", "sideways"], ["argument --mode: invalid choice"]),
    (["--wrt", "x3"], ["--wrt x3: not an input (x1, x2)"]),
    (["--wrt", "x1", "x1"], ["an input is named twice"]),
])
def test_check_option_mistakes(capsys, argv, fragments):
    status, out, err = run(capsys, "check", LECTURE, *POINT, *argv)
    one_error(status, out, err, *fragments)


@pytest.mark.parametrize("option", ["--order=1", "--mode=forward", "--atol=1", "--rtol=1",
                                    "--eps=1e-3", "--seed=1"])
def test_difference_options_are_refused_with_grad(capsys, option):
    tanh_chain_file = TANH_CHAIN
    status, out, err = run(capsys, "check", f"{tanh_chain_file}:loss", f"{tanh_chain_file}:fixed",
                           "--at", "w_h=2", "w_y=40", option)
    one_error(status, out, err, f"{option.split('=')[0]} is a setting of the check against "
                                f"finite differences, which runs without GRAD")


# --------------------------------------------------------------------------- layout


def test_every_command_is_a_row_of_the_table_in_its_own_module():
    assert list(COMMANDS) == ["trace", "check"]
    for name, command in COMMANDS.items():
        assert command.run.__module__ == f"dualad.cli.{name}_command"
        assert command.add_arguments.__module__ == f"dualad.cli.{name}_command"
    assert list(_parsers()) == ["dualad", *(f"dualad {n}" for n in COMMANDS)]
