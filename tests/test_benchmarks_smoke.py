"""Keep the forward-mode benchmark from rotting: its quick mode runs and writes its files."""

from __future__ import annotations

import csv

from benchmarks import forward


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
