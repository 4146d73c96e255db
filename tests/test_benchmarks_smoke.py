"""Keep the benchmarks from rotting: their quick modes run and write their files."""

from __future__ import annotations

import csv
from importlib.util import find_spec

from benchmarks import forward, reverse


def test_forward_benchmark_quick(tmp_path, capsys):
    assert forward.main(["--quick", "--out", str(tmp_path)]) == 0
    md, table = tmp_path / "forward.md", tmp_path / "forward.csv"
    assert md.exists() and table.exists()
    text = md.read_text()
    assert "| benchmark | n | method |" in text and "## Targets" in text
    assert "MISMATCH" not in text  # every peer agreed with dualad's derivatives
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    methods = {row["method"] for row in rows}
    assert {"numpy f", "dualad.jvp", "dualad.jacfwd"} <= methods
    assert all(float(row["median_s"]) > 0 for row in rows)
    assert "dualad forward-mode benchmark" in capsys.readouterr().out


def test_reverse_benchmark_quick(tmp_path, capsys):
    assert reverse.main(["--quick", "--out", str(tmp_path)]) == 0
    md, table = tmp_path / "reverse.md", tmp_path / "reverse.csv"
    assert md.exists() and table.exists()
    text = md.read_text()
    assert "| benchmark | n | method |" in text and "| target |" in text and "## Targets" in text
    # every peer and hand-written derivative agreed with dualad's (a mismatch is not timed)
    assert "MISMATCH" not in text
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    methods = {row["method"] for row in rows}
    ours = {"numpy f", "numpy grad by hand", "dualad.grad", "dualad.jacrev", "dualad.jacfwd",
            "dualad.hessian"}
    jax_rows = {"jax.grad (eager)", "jax.jit(grad)", "jax.jacrev (eager)",
                "jax.hessian (eager)", "jax.jit(hessian)"}  # JAX is a test dependency
    assert ours | jax_rows <= methods
    if find_spec("autograd") is not None:
        assert {"autograd grad", "autograd jacobian"} <= methods
    assert all(float(row["median_s"]) > 0 for row in rows)
    marks = [row["target"] for row in rows if row["target"]]
    assert marks and all(m.split(":")[0] in {"met", "missed", "info"} for m in marks)
    assert "dualad reverse-mode benchmark" in capsys.readouterr().out
