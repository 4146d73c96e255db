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


def test_forward_vs_reverse_benchmark_quick(tmp_path, capsys):
    """The sweep runs, checks every peer against dualad, and writes its table, CSV, plots."""
    from benchmarks import forward_vs_reverse as fvr

    assert fvr.main(["--quick", "--out", str(tmp_path)]) == 0
    md, table = tmp_path / "forward_vs_reverse.md", tmp_path / "forward_vs_reverse.csv"
    assert md.exists() and table.exists()
    text = md.read_text()
    assert "MISMATCH" not in text  # every peer, loop and difference agreed with dualad
    assert "## Targets" in text and "## Per-operation overhead" in text
    with table.open() as fh:
        rows = list(csv.DictReader(fh))
    timed = {(row["workload"], row["method"]) for row in rows if row["kind"] == "time"}
    for workload in ("rosenbrock", "mlp", "elementwise", "dense", "few", "many"):
        grad = "dualad.grad" if workload in ("rosenbrock", "mlp") else "dualad.vjp"
        for method in ("numpy f", "dualad.jvp", grad, "dualad.jacfwd", "dualad.jacrev",
                       "dualad.jacfwd(chunk_size=2)", "loop of n dualad.jvp",
                       "central differences", "jax.jit(jacfwd)", "jax.jacrev (eager)",
                       "dualad.compile(jvp)", grad.replace("dualad.", "dualad.compile("
                                                           ) + ")",
                       "dualad.compile(jacfwd)", "dualad.compile(jacrev)"):
            assert (workload, method) in timed
    assert {("rosenbrock", "numpy grad by hand"), ("elementwise", "numpy jvp by hand")} <= timed
    # the compiled path: its first call (recording) and second call timed apart from replay
    compiled = [row for row in rows if row["tool"] == "dualad.compile"]
    assert {row["kind"] for row in compiled} == {"time", "record", "build"}
    assert all(int(row["ops"]) > 0 for row in compiled if row["kind"] == "time")
    assert "## The compiled path: dualad.compile" in text
    for figure in ("compile(grad) / jax.jit(grad)", "compile(grad) / numpy grad by hand",
                   "compile(jvp) / numpy jvp by hand", "replay time / recorded ops",
                   "first call (recording) / one eager call", "replay faster than eager",
                   "replay against jax.jit"):
        assert figure in text
    assert all(float(row["median_s"]) > 0 for row in rows if row["kind"] != "stopped")
    assert any(row["kind"] == "compile" for row in rows)
    pngs = {p.name for p in tmp_path.glob("*.png")}
    if find_spec("matplotlib") is not None:  # the bench extra; CI installs only the tests'
        assert {"forward_vs_reverse.png", "forward_vs_reverse.dense.png"} <= pngs
    else:
        assert not pngs and "plots not drawn" in text
    out, err = capsys.readouterr()
    assert "dualad forward vs reverse benchmark" in out
    assert "12/12" in err  # the progress bar (tqdm's, one line per step in a log) ended
    assert "rosenbrock n=8 done" in err and "per-op overhead done" in err  # what each step was


def test_models_benchmark_quick(tmp_path, capsys):
    """The real-model benchmark runs, every peer agrees with dualad, the files are written."""
    from benchmarks import models

    assert models.main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "models.md").read_text()
    assert "MISMATCH" not in text
    with (tmp_path / "models.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    timed = {(row["benchmark"], row["method"]) for row in rows}
    for model in (models.CLASSIFIER, models.RNN, models.MIXTURE):
        for method in ("numpy f", "dualad.value_and_grad", "jax.jit(value_and_grad)",
                       "jax.value_and_grad (eager)"):
            assert (model, method) in timed
    assert (models.CLASSIFIER, "numpy grad by hand") in timed
    if find_spec("autograd") is not None:
        assert (models.MIXTURE, "autograd value_and_grad") in timed
    assert "dualad real-model benchmark" in capsys.readouterr().out


def test_forward_vs_reverse_helpers():
    """The crossover, slope and reference-Jacobian helpers, on closed forms."""
    import doctest

    import numpy as np

    import dualad
    from benchmarks import forward_vs_reverse as fvr

    assert doctest.testmod(fvr).failed == 0
    # two lines crossing at size 8 on the log-log plot: t = s and t = 64 / s
    sizes = [2, 4, 16, 32]
    assert np.isclose(fvr.crossings(sizes, sizes, [64 / s for s in sizes])[0], 8.0)
    assert fvr.crossings(sizes, [1.0] * 4, [2.0] * 4) == []
    x = np.random.default_rng(0).uniform(-1, 1, 6)
    f = lambda x: np.sin(x) * x[::-1]
    exact = np.diag(np.cos(x) * x[::-1]) + np.diag(np.sin(x))[:, ::-1]  # d/dx of x[::-1]
    assert np.allclose(fvr.column_loop(f, x), exact, rtol=1e-12)
    assert np.allclose(fvr.central_differences(f, x), exact, rtol=1e-8, atol=1e-9)
    assert np.allclose(dualad.jacfwd(f)(x), exact, rtol=1e-12)


def test_one_core_pins_every_thread_then_restores():
    """The benchmarks run each tool on one CPU: threads started before and inside the block;
    BLAS runs one thread inside (threadpoolctl's view), and everything is restored after."""
    import os
    import threading

    import pytest
    from threadpoolctl import threadpool_info, threadpool_limits

    from benchmarks.forward import one_core

    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("CPU affinity is Linux-only")  # one_core then only sets thread counts

    def blas() -> dict[str, int]:
        return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"}

    assert blas(), "threadpoolctl sees no BLAS in NumPy: one_core's limit is unchecked"
    with threadpool_limits(limits=2, user_api="blas"):  # a count one_core must change back
        blas_before = blas()
        before = os.sched_getaffinity(0)
        seen: dict[str, set[int]] = {}
        release = threading.Event()
        older = threading.Thread(target=lambda: (release.wait(), seen.update(
            older=os.sched_getaffinity(0))))
        older.start()
        with one_core() as how:
            inner = threading.Thread(target=lambda: seen.update(inner=os.sched_getaffinity(0)))
            inner.start()
            inner.join()
            release.set()
            older.join()
            assert len(os.sched_getaffinity(0)) == 1 and f"CPU {max(before)}" in how
            assert set(blas().values()) == {1} and "BLAS threads:" in how
        assert seen == {"older": {max(before)}, "inner": {max(before)}}
        assert os.sched_getaffinity(0) == before
        assert blas() == blas_before


def test_recording_benchmark_quick(capsys):
    from benchmarks import recording

    assert recording.main(["--quick"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert lines[0].startswith("| problem | compiled | eager call | recording, cold |")
    assert len(lines) == 1 + 2 * len(recording.FAMILIES)  # the header, a row per transform


def test_sparse_benchmark_quick(tmp_path, capsys):
    """The sparse sweep runs, checks every peer against dualad's sparse Jacobian, and writes
    its table."""
    from benchmarks import sparse

    assert sparse.main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "sparse.md").read_text()
    assert "disagrees" not in text  # dense Jacobians, SciPy and sparsejac agreed
    for title in ("1-D diffusion residual", "2-D Brusselator", "dense constraint row"):
        assert title in text
    assert "| 100 | 3 (forward) |" in text  # tridiagonal: three colours
    assert (tmp_path / "sparse.png").exists()
    assert "dualad sparse" in capsys.readouterr().out


def test_checkpoint_benchmark_quick(tmp_path, capsys):
    """The checkpointing sweep runs (checking each checkpointed gradient against the plain
    one, bit for bit) and writes its table and plot."""
    from benchmarks import checkpoint

    assert checkpoint.main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "checkpoint.md").read_text()
    for row in ("| gelu | 4 | plain |", "| gelu | 4 | checkpoint |",
                "| tanh | 2 | checkpoint, dots saved |"):
        assert row in text
    assert (tmp_path / "checkpoint.png").exists()
    assert "dualad checkpointing benchmark" in capsys.readouterr().out


def test_dask_scale_benchmark_quick(tmp_path, capsys):
    """The Dask scale benchmark runs its three measurements in fresh processes, and the
    value, tangent and gradient agree with Dask's own evaluation."""
    from benchmarks import dask_scale

    assert dask_scale.main(["--quick", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "dask_scale.md").read_text()
    assert "| jvp |" in text and "| grad |" in text and "agree: yes" in text
    assert "dualad on Dask arrays" in capsys.readouterr().out
