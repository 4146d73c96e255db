"""The ``dualad`` command's harder mistakes (issue 12): values, files, outputs, user code
that returns or exits oddly, Ctrl-C, encodings, and untrusted expressions.

Each mistake prints one line ``dualad: error: ...`` (an expression's caret lines aside) on
stderr, without a traceback, and exits with status 2.
"""

from __future__ import annotations

import gc
import io
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from .test_cli import LECTURE, run


def one_error(status, out, err, *fragments, stdout=""):
    """A single ``dualad: error:`` line on stderr, status 2, and the fragments in it."""
    assert status == 2, (status, out, err)
    assert out == stdout
    assert err.startswith("dualad: error: ") and err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def user_file(tmp_path, source, name="user.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


# --------------------------------------------------------------------------- values


def test_an_integer_too_large_for_a_float(capsys):
    huge = "1" + "0" * 399
    for value in (huge, f"-{huge}", f"[1, {huge}]", "1e400"):
        status, out, err = run(capsys, "trace", "x * 2", "--at", f"x={value}")
        one_error(status, out, err, "--at x=", "too large for a float", "x=1e300")
        assert len(err) < 200  # the 400 digits are not echoed back


def _npy_header_only(path: Path, shape: tuple[int, ...]) -> None:
    """A .npy file whose valid header promises ``shape`` float64 values, with no data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    path.write_bytes(header.getvalue() + b"\0" * 16)


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("kind, fragments", [
    ("npz", ["zip archive", "np.save"]),
    ("empty", ["empty"]),
    ("huge", ["(1000000000000000,)", "truncated"]),
    ("pickle", ["pickle", "never loaded"]),
    ("text", ["not a .npy file"]),
])
def test_unreadable_npy_files(capsys, tmp_path, kind, fragments):
    path = tmp_path / "x.npy"
    if kind == "npz":
        with open(path, "wb") as fh:
            np.savez(fh, a=np.ones(3))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "huge":
        _npy_header_only(path, (10**15,))
    elif kind == "pickle":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        path.write_text("1 2 3\n")
    before = _open_files()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, out, err = run(capsys, "trace", "sum(x)", "--at", f"x=@{path}")
        gc.collect()
    one_error(status, out, err, f"x=@{path}", *fragments)
    assert _open_files() == before  # the file is closed again
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_npy_and_text_files_still_load(capsys, tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray([[1.0, 2.0], [3.0, 4.0]]))
    (tmp_path / "f.txt").write_text("1 2\n3 4\n")
    for name in ("f.npy", "f.txt"):
        status, out, _ = run(capsys, "trace", "sum(W * W)", "--at", f"W=@{tmp_path / name}")
        assert status == 0 and "[[2, 4], [6, 8]]" in out, name


def test_a_directory_as_a_value_file(capsys, tmp_path):
    status, out, err = run(capsys, "trace", "x * 2", "--at", f"x=@{tmp_path}")
    one_error(status, out, err, "is a directory")


# --------------------------------------------------------------------------- the user's code


def test_a_function_that_returns_a_string_or_nothing(capsys, tmp_path):
    path = user_file(tmp_path, '''
        def hi(x):
            return "hi"
        def nothing(x):
            y = x * 2
        def grad(x):
            return 2.0
    ''')
    for argv in (["trace", f"{path}:hi"], ["check", f"{path}:hi"],
                 ["check", f"{path}:hi", f"{path}:grad"]):
        status, out, err = run(capsys, *argv, "--at", "x=1")
        one_error(status, out, err, f"{path}:hi returned a str ('hi'), not a number")
    for command in ("trace", "check"):
        status, out, err = run(capsys, command, f"{path}:nothing", "--at", "x=1")
        one_error(status, out, err, "returned None", "return statement missing")


@pytest.mark.parametrize("argv", [["trace", "{path}:stop"], ["check", "{path}:stop"],
                                  ["check", "{path}:f", "{path}:stop"]])
def test_ctrl_c_in_the_users_code(capsys, tmp_path, argv):
    path = user_file(tmp_path, '''
        def stop(x):
            raise KeyboardInterrupt
        def f(x):
            return x * x
    ''')
    status, out, err = run(capsys, *(a.format(path=path) for a in argv), "--at", "x=1")
    assert (status, out, err) == (130, "", "dualad: interrupted\n")


def test_ctrl_c_while_importing_the_users_file(capsys, tmp_path):
    path = user_file(tmp_path, "raise KeyboardInterrupt\n")
    assert run(capsys, "trace", f"{path}:f", "--at", "x=1") == (130, "",
                                                                 "dualad: interrupted\n")


def test_ctrl_c_as_a_program(tmp_path):
    path = user_file(tmp_path, '''
        def stop(x):
            raise KeyboardInterrupt
    ''')
    result = subprocess.run([sys.executable, "-m", "dualad", "trace", f"{path}:stop", "--at",
                             "x=1"], capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (130, "",
                                                                 "dualad: interrupted\n")


@pytest.mark.parametrize("argv", [["trace", "{path}:leave"], ["check", "{path}:leave"],
                                  ["check", "{path}:f", "{path}:leave"]])
def test_sys_exit_in_the_users_code_is_a_mistake(capsys, tmp_path, argv):
    path = user_file(tmp_path, '''
        import sys
        def leave(x):
            sys.exit(0)
        def f(x):
            return x * x
    ''')
    status, out, err = run(capsys, *(a.format(path=path) for a in argv), "--at", "x=1")
    one_error(status, out, err, f"{path}:leave called sys.exit(0)", "line 4 (sys.exit(0))",
              "must not exit")


def test_sys_exit_and_base_exceptions_while_importing(capsys, tmp_path):
    path = user_file(tmp_path, "import sys\nsys.exit(3)\n")
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=1")
    one_error(status, out, err, f"importing {path} called sys.exit(3)", "__main__")
    path = user_file(tmp_path, '''
        class Stop(BaseException):
            pass
        def f(x):
            raise Stop("no")
    ''', name="base.py")
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=1")
    one_error(status, out, err, "raised Stop: no")


def test_a_dataclass_with_postponed_annotations_in_a_file(capsys, tmp_path):
    path = user_file(tmp_path, '''
        from __future__ import annotations
        from dataclasses import dataclass

        @dataclass
        class Scale:
            factor: float

        def f(x):
            return Scale(3.0).factor * x
    ''')
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=2")
    assert status == 0 and err == "" and "x_bar = 3" in out


def test_a_file_that_fails_to_import_is_not_left_in_sys_modules(capsys, tmp_path):
    path = user_file(tmp_path, "raise ValueError('broken')\n")
    before = set(sys.modules)
    status, out, err = run(capsys, "trace", f"{path}:f", "--at", "x=1")
    one_error(status, out, err, "ValueError: broken")
    assert set(sys.modules) == before


# --------------------------------------------------------------------------- --output


@pytest.mark.parametrize("where, fragments", [
    ("directory", ["is a directory", "give a file name such as", "trace.txt"]),
    ("missing", ["does not exist", "mkdir -p"]),
    ("missing/", ["names a directory, which does not exist", "trace.txt"]),
    ("full", ["/dev/full", "No space left on device"]),
])
def test_an_output_that_cannot_be_written(capsys, tmp_path, where, fragments):
    output = {"directory": str(tmp_path), "missing": str(tmp_path / "no" / "trace.txt"),
              "missing/": f"{tmp_path / 'no'}/", "full": "/dev/full"}[where]
    if where == "full" and not Path(output).exists():
        pytest.skip("no /dev/full here")
    status, out, err = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "--output", output)
    one_error(status, out, err, f"--output {output}:", *fragments)
    assert not (tmp_path / "no").exists()


def test_an_output_file_is_utf8_in_an_ascii_locale(tmp_path):
    path = user_file(tmp_path, '''
        def f(x):
            ψ = x * 2
            return ψ
    ''')
    target = tmp_path / "trace.txt"
    ascii_locale = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    result = subprocess.run([sys.executable, "-m", "dualad", "trace", f"{path}:f", "--at", "x=1",
                             "--output", str(target)], capture_output=True, timeout=120,
                            env=ascii_locale)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert "ψ_bar = y_bar" in target.read_text(encoding="utf-8")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_standard_output():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "dualad", "trace", "x * 2", "--at", "x=1"],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("dualad: error: cannot write to standard output (No space left on "
                             "device); write to a file with --output FILE\n")


# --------------------------------------------------------------------------- encodings


def _ascii_run(*argv):
    return subprocess.run([sys.executable, "-m", "dualad", *argv], capture_output=True,
                          timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})


def test_non_ascii_names_on_an_ascii_terminal():
    good = _ascii_run("trace", "ψ * 2", "--at", "ψ=1")
    assert good.returncode == 0 and good.stderr == b""
    assert b"\\u03c8_bar = 2" in good.stdout and b"gradient: \\u03c8_bar = 2" in good.stdout
    bad = _ascii_run("trace", "ψ * 2", "--at", "φ=1")
    assert bad.returncode == 2 and bad.stdout == b""
    assert bad.stderr.startswith(b"dualad: error: \\u03c6 is given a value")
    assert bad.stderr.count(b"\n") == 1


def test_main_leaves_the_streams_as_it_found_them(capsys):
    errors = sys.stdout.errors
    run(capsys, "trace", "x * 2", "--at", "x=1")
    assert sys.stdout.errors == errors


# --------------------------------------------------------------------------- non-finite checks


@pytest.mark.parametrize("argv, fragments", [
    (["check", "log(x)"], ["its value is -inf", "derivative for x is inf"]),
    (["check", "{path}:f", "{path}:grad"], ["its value is inf"]),
    (["check", "{path}:g", "{path}:grad_g"], ["its value is inf", "derivative for x is inf"]),
    (["check", "{path}:h"], ["its value is nan", "derivative for x is nan"]),
])
def test_check_refuses_a_non_finite_point(capsys, tmp_path, argv, fragments):
    path = user_file(tmp_path, '''
        import numpy as np
        def f(x):
            return x * 0 + np.inf
        def grad(x):
            return 0 * x
        def g(x):
            return np.exp(x)
        def grad_g(x):
            return np.exp(x)
        def h(x):
            return x * np.nan
    ''')
    at = "x=0" if argv[1] == "log(x)" else "x=1000"
    status, out, err = run(capsys, *(a.format(path=path) for a in argv), "--at", at)
    one_error(status, out, err, "is not finite at this point", "choose another --at point",
              *fragments)


def test_check_of_arrays_counts_the_non_finite_elements(capsys):
    status, out, err = run(capsys, "check", "sum(log(x))", "--at", "x=[1, 2, 0, 3]")
    one_error(status, out, err, "its value is -inf", "derivative for x is inf in 1 of 4")


# --------------------------------------------------------------------------- untrusted text


@pytest.fixture
def no_imports(monkeypatch):
    """importlib that fails the test when anything is imported or loaded from a file."""
    import importlib
    import importlib.util

    def refuse(*args, **kwargs):
        raise AssertionError(f"imported {args}")

    monkeypatch.setattr(importlib, "import_module", refuse)
    monkeypatch.setattr(importlib.util, "spec_from_file_location", refuse)


@pytest.mark.parametrize("text", ["os:abort", "os:fork", "tests/forum001.py:loss",
                                  "no_such_module_xyz:f"])
def test_expression_option_never_imports(capsys, no_imports, text):
    for argv in (["trace", "--expression", text], ["trace", "-e", text],
                 ["trace", f"--expression={text}"], ["check", "-e", text],
                 ["check", "-e", "x * x", text]):
        status, out, err = run(capsys, *argv, "--at", "x=1")
        assert status == 2 and out == "" and err.startswith("dualad: error: ")
        assert "read as an expression only" in err, err
        assert text in err  # the caret's line


def test_load_target_expression_only(no_imports):
    from dualad.cli.expression import ExpressionError
    from dualad.cli.targets import load_target

    with pytest.raises(ExpressionError, match="expression only"):
        load_target("os:abort", expression_only=True)
    target = load_target("x1 * sin(x2)", expression_only=True)
    assert target.is_expression and target.inputs == ("x1", "x2")


def test_expression_option_runs_expressions(capsys, no_imports):
    status, out, _ = run(capsys, "trace", "-e", LECTURE, "--at", "x1=2", "x2=5")
    assert status == 0 and "x2_bar = 1.716" in out
    status, out, _ = run(capsys, "trace", "--expression=-x * 2", "--at", "x=1")
    assert status == 0 and "x_bar = -2" in out
    status, out, _ = run(capsys, "check", "-e", "x * x", "--at", "x=3")
    assert status == 0
    status, out, _ = run(capsys, "check", "-e", "x * x", "2 * x", "--at", "x=3")
    assert status == 0 and "agrees" in out
    status, out, _ = run(capsys, "check", "-e", "x * x", "3 * x", "--at", "x=3")
    assert status == 1 and "differs" in out


@pytest.mark.parametrize("argv, fragment", [
    (["trace", "-e", "x * 2", "x * 3"], "either TARGET ('x * 3') or --expression"),
    (["check", "-e", "x * x", "2 * x", "3"], "at most one more argument (GRAD)"),
    (["trace"], "no TARGET"),
    (["check"], "no TARGET"),
    (["trace", "-e", "-x"], "--expression=TEXT"),
])
def test_expression_option_mistakes(capsys, argv, fragment):
    status, out, err = run(capsys, *argv, "--at", "x=1")
    one_error(status, out, err, fragment)
