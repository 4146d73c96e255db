"""The ``dualad`` command's harder mistakes (issue 12): values, files, outputs, user code
that returns or exits oddly, Ctrl-C, encodings, and untrusted expressions.

Each mistake prints one line ``dualad: error: ...`` (an expression's caret lines aside) on
stderr, without a traceback, and exits with status 2.
"""

from __future__ import annotations

import gc
import io
import os
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from .test_cli import run


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
