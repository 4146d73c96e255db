"""Sparse Jacobians: dualad's coloured evaluation against dense Jacobians and peers, by size.

Usage (from the repository root)::

    python -m benchmarks.sparse --out benchmarks/results   # the full sweep, a few minutes
    python -m benchmarks.sparse --quick                    # tiny sizes (the tests run it)

Three residuals R^n -> R^n whose Jacobians are mostly structural zeros, each written once
for NumPy and ``jax.numpy``:

- *diffusion*: 1-D diffusion with a cubic reaction and Dirichlet ends (tridiagonal);
- *brusselator*: the 2-D Brusselator on an N x N periodic grid, two species (n = 2 N^2;
  five-point stencils coupled at each grid point);
- *arrow*: a diagonal system with one constraint that sums every unknown (a dense last
  row; reverse mode takes two colours, forward mode n).

At each size it times NumPy's ``f``; dualad's pattern detection (``jacobian_sparsity``) and
colouring apart from the evaluation (``SparseJacobian.__call__``: one recording of ``f`` and
one pass of as many directions as colours); dense ``dualad.jacfwd``/``jacrev`` while the
dense Jacobian stays small; ``sparsejac`` (JAX, the pattern given, compiled with ``jax.jit``,
compile time apart) and SciPy's finite differences ``approx_derivative(..., sparsity=...)``
(the pattern given). Every Jacobian is checked against dualad's sparse one before it is
timed. Every tool runs on one CPU.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dualad
from benchmarks.forward import (
    Config,
    Timing,
    _fmt_time,
    _load,
    _markdown_table,
    load_peers,
    machine_info,
    measure,
    once,
    one_core,
)

FULL = Config(quick=False, sample_time=0.02, budget=0.4, min_repeats=3, max_repeats=20,
              tiny_n=0, elementwise_n=0, rosenbrock_sizes=(), jac_n=0)
QUICK = Config(quick=True, sample_time=5e-4, budget=0.005, min_repeats=3, max_repeats=3,
               tiny_n=0, elementwise_n=0, rosenbrock_sizes=(), jac_n=0)
DENSE_MAX_N = 8192
"""Dense Jacobians are timed up to this n (n^2 float64: 512 MiB)."""


# --------------------------------------------------------------------------- residuals


def diffusion(np_: Any, u: Any) -> Any:
    """1-D diffusion with a cubic reaction, Dirichlet ends: a tridiagonal Jacobian."""
    inner = u[:-2] - 2.0 * u[1:-1] + u[2:] - 0.1 * u[1:-1] ** 3
    return np_.concatenate([u[:1] - 1.0, inner, u[-1:]])


def brusselator(np_: Any, y: Any) -> Any:
    """The 2-D Brusselator on a periodic N x N grid (y holds u then v)."""
    size = int(round((y.shape[0] // 2) ** 0.5))
    u = y[: size * size].reshape(size, size)
    v = y[size * size:].reshape(size, size)

    def laplacian(w: Any) -> Any:
        return (np_.roll(w, 1, 0) + np_.roll(w, -1, 0) + np_.roll(w, 1, 1)
                + np_.roll(w, -1, 1) - 4.0 * w)

    uuv = u * u * v
    du = 1.0 + uuv - 4.4 * u + 0.1 * laplacian(u)
    dv = 3.4 * u - uuv + 0.1 * laplacian(v)
    return np_.concatenate([du.ravel(), dv.ravel()])


def arrow(np_: Any, x: Any) -> Any:
    """A diagonal system and one constraint on the sum: a dense last row."""
    return np_.concatenate([x[:-1] ** 3 - x[:-1], np_.sum(x, keepdims=True) - 1.0])


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    fn: Callable[[Any, Any], Any]
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]


WORKLOADS = (
    Workload("diffusion", "1-D diffusion residual (tridiagonal)", diffusion,
             (10**2, 10**3, 10**4, 10**5, 10**6), (10, 100)),
    Workload("brusselator", "2-D Brusselator, n = 2 N^2", brusselator,
             tuple(2 * s * s for s in (8, 16, 32, 64, 128, 256)), (2 * 4 * 4, 2 * 8 * 8)),
    Workload("arrow", "diagonal + one dense constraint row", arrow,
             (10**2, 10**3, 10**4, 10**5), (10, 100)),
)


# --------------------------------------------------------------------------- measuring


@dataclass
class Point:
    workload: str
    n: int
    method: str
    seconds: float | None
    note: str = ""


@dataclass
class Report:
    points: list[Point] = field(default_factory=list)
    colours: dict[tuple[str, int], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def time(self, workload: str, n: int, method: str) -> float | None:
        for p in self.points:
            if (p.workload, p.n, p.method) == (workload, n, method):
                return p.seconds
        return None


def _timed(report: Report, wl: Workload, n: int, method: str, fn: Callable[[], Any],
           cfg: Config, single: bool = False) -> Any:
    timing: Timing = once(fn) if single else measure(fn, cfg)
    report.points.append(Point(wl.key, n, method, timing.median))
    return timing


def _check(report: Report, wl: Workload, n: int, method: str, got: Any, expected: Any) -> bool:
    got = got.toarray() if hasattr(got, "toarray") else np.asarray(got)
    if np.allclose(got, expected, rtol=1e-6, atol=1e-8):
        return True
    report.notes.append(f"{method} at {wl.key} n = {n} disagrees with dualad: not timed")
    return False


def bench(report: Report, wl: Workload, n: int, cfg: Config, peers: Any) -> None:
    rng = np.random.default_rng(n)
    x = rng.uniform(0.5, 1.5, n)
    f = lambda x: wl.fn(np, x)  # noqa: E731
    _timed(report, wl, n, "numpy f", lambda: f(x), cfg)
    _timed(report, wl, n, "dualad detection", lambda: dualad.jacobian_sparsity(f, x), cfg,
           single=n > 10**4)
    pattern = dualad.jacobian_sparsity(f, x)
    start = time.perf_counter()
    jacobian = dualad.SparseJacobian(f, x, sparsity=pattern)
    report.points.append(Point(wl.key, n, "dualad colouring", time.perf_counter() - start))
    report.colours[(wl.key, n)] = f"{jacobian.colours} ({jacobian.mode})"
    expected = jacobian(x).toarray() if n <= DENSE_MAX_N else None
    _timed(report, wl, n, "dualad sparse", lambda: jacobian(x), cfg)
    _compiled(report, wl, n, jacobian, x, cfg)
    if n <= DENSE_MAX_N:
        for name, transform in (("dualad jacfwd", dualad.jacfwd), ("dualad jacrev",
                                                                     dualad.jacrev)):
            if _check(report, wl, n, name, transform(f)(x), expected):
                _timed(report, wl, n, name, lambda t=transform: t(f)(x), cfg)
    reference = jacobian(x)
    _scipy(report, wl, n, f, x, pattern, reference, cfg)
    if peers.jax is not None:
        _sparsejac(report, wl, n, x, pattern, reference, cfg, peers)


def _compiled(report: Report, wl: Workload, n: int, jacobian: Any, x: np.ndarray,
              cfg: Config) -> None:
    """The prepared Jacobian's values under ``dualad.compile``, made a ``csr_array``."""
    import scipy.sparse

    values = dualad.compile(jacobian.values)
    start = time.perf_counter()
    values(x)
    values(x)  # the first call records, the second writes the replay's code
    report.points.append(Point(wl.key, n, "dualad compile", time.perf_counter() - start,
                               "one-off"))
    if not np.array_equal(values(x), jacobian.values(x)):
        report.notes.append(f"compiled dualad at {wl.key} n = {n} differs from the eager "
                            f"call: not timed")
        return
    p = jacobian.pattern
    _timed(report, wl, n, "dualad sparse, compiled",
           lambda: scipy.sparse.csr_array((values(x), p.indices, p.indptr), shape=p.shape),
           cfg)


def _agrees(got: Any, reference: Any, rtol: float, atol: float) -> bool:
    """Two sparse Jacobians agree entry by entry (without making either dense)."""
    import scipy.sparse

    got, reference = scipy.sparse.csr_array(got), scipy.sparse.csr_array(reference)
    if got.shape != reference.shape:
        return False
    error = abs(got - reference).max() if (got - reference).nnz else 0.0
    scale = abs(reference).max() if reference.nnz else 0.0
    return bool(error <= atol + rtol * scale)


def _scipy(report: Report, wl: Workload, n: int, f: Callable, x: np.ndarray, pattern: Any,
           reference: Any, cfg: Config) -> None:
    from scipy.optimize._numdiff import approx_derivative, group_columns

    groups = group_columns(pattern)
    method = "scipy finite differences"
    run = lambda: approx_derivative(f, x, method="2-point", sparsity=(pattern, groups))  # noqa: E731
    if _agrees(run(), reference, rtol=1e-4, atol=1e-5):
        _timed(report, wl, n, method, run, cfg)
    else:
        report.notes.append(f"{method} at {wl.key} n = {n} disagrees with dualad: not timed")


def _sparsejac(report: Report, wl: Workload, n: int, x: np.ndarray, pattern: Any,
               reference: Any, cfg: Config, peers: Any) -> None:
    try:
        import sparsejac
        from jax.experimental import sparse as jsparse
    except ImportError as exc:
        if not any("sparsejac" in note for note in report.notes):
            report.notes.append(f"sparsejac skipped: not importable ({exc})")
        return
    jax, jnp = peers.jax, peers.jnp
    coo = pattern.tocoo()
    bcoo = jsparse.BCOO((jnp.ones(coo.nnz, dtype=bool),
                         jnp.stack([coo.row, coo.col], axis=1)), shape=pattern.shape)
    transform = sparsejac.jacfwd if report.colours[(wl.key, n)].endswith("(forward)") \
        else sparsejac.jacrev
    compiled = jax.jit(transform(lambda x: wl.fn(jnp, x), sparsity=bcoo))
    xj = jnp.asarray(x)
    start = time.perf_counter()
    got = compiled(xj)
    got.data.block_until_ready()
    report.points.append(Point(wl.key, n, "sparsejac compile", time.perf_counter() - start,
                               "one-off"))
    import scipy.sparse

    indices = np.asarray(got.indices)
    theirs = scipy.sparse.coo_array((np.asarray(got.data), (indices[:, 0], indices[:, 1])),
                                    shape=pattern.shape)
    if not _agrees(theirs, reference, rtol=1e-10, atol=1e-12):
        report.notes.append(f"sparsejac at {wl.key} n = {n} disagrees with dualad: not timed")
        return
    _timed(report, wl, n, "sparsejac (jax.jit)",
           lambda: compiled(xj).data.block_until_ready(), cfg)


# --------------------------------------------------------------------------- report

METHODS = ("numpy f", "dualad sparse", "dualad sparse, compiled", "dualad detection",
           "dualad colouring", "dualad jacfwd", "dualad jacrev", "sparsejac (jax.jit)",
           "scipy finite differences")


def render(report: Report, cfg: Config) -> str:
    lines = []
    for wl in WORKLOADS:
        sizes = wl.quick_sizes if cfg.quick else wl.sizes
        lines.append(f"\n### {wl.title}\n")
        header = ["n", "colours", *METHODS]
        rows = []
        for n in sizes:
            base = report.time(wl.key, n, "numpy f")
            row = [str(n), report.colours.get((wl.key, n), "")]
            for method in METHODS:
                t = report.time(wl.key, n, method)
                if t is None:
                    row.append("")
                elif method == "numpy f":
                    row.append(_fmt_time(t))
                else:
                    row.append(f"{_fmt_time(t)} ({t / base:.3g}x)")
            rows.append(row)
        lines.append(_markdown_table(header, rows))
    lines.append("\nEach cell: the median time per call (its ratio to NumPy's `f` at that n). "
                 "*dualad sparse* is one call of a prepared `SparseJacobian` (one recording "
                 "of `f`, passes of a few directions each, as many directions as colours); "
                 "*compiled* is its `values` under `dualad.compile`, made a `csr_array`; "
                 "detection and colouring are one-off. *sparsejac* and SciPy are given "
                 "dualad's pattern; compile times (the first two calls, for dualad) are "
                 "under Notes.")
    compile_rows = [p for p in report.points
                    if p.method in ("sparsejac compile", "dualad compile")]
    notes = report.notes + [f"{p.method} at {p.workload} n = {p.n}: "
                            f"{_fmt_time(p.seconds)}" for p in compile_rows]
    lines.append("\n## Notes\n")
    lines.extend(f"- {note}" for note in notes)
    return "\n".join(lines) + "\n"


PLOTTED = ("dualad sparse", "dualad sparse, compiled", "dualad jacfwd", "dualad jacrev",
           "sparsejac (jax.jit)", "scipy finite differences")


def plot(report: Report, cfg: Config, path: str) -> str:
    """Time / NumPy's ``f`` against n, log-log, one panel per workload: a flat line is a
    Jacobian that costs a fixed number of evaluations of ``f``. Returns what was done."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot not drawn: matplotlib is not importable (pip install -e '.[bench]')"
    fig, axes = plt.subplots(1, len(WORKLOADS), figsize=(5 * len(WORKLOADS), 4.2))
    for ax, wl in zip(axes, WORKLOADS):
        sizes = wl.quick_sizes if cfg.quick else wl.sizes
        for method in PLOTTED:
            points = [(n, report.time(wl.key, n, method) / report.time(wl.key, n, "numpy f"))
                      for n in sizes if report.time(wl.key, n, method) is not None]
            if points:
                ns, ratios = zip(*points)
                ax.plot(ns, ratios, marker="o", label=method,
                        linewidth=2.5 if method == "dualad sparse" else 1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(wl.title, fontsize=10)
        ax.set_xlabel("n")
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("time / NumPy f")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"wrote {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sparse",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--out", metavar="DIR", help="write sparse.md into DIR")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    report = Report()
    with one_core() as threads:
        peers = load_peers(True)
        report.notes.extend(peers.notes)
        info = machine_info(peers) + [("threads", threads)]
        head = ("# dualad sparse Jacobians benchmark\n\n`python -m benchmarks.sparse"
                + (" --quick" if args.quick else "")
                + (f" --out {args.out}" if args.out else "") + "`\n\n"
                + "\n".join(f"- **{k}**: {v}" for k, v in info) + "\n")
        print(head, flush=True)
        for wl in WORKLOADS:
            for n in (wl.quick_sizes if cfg.quick else wl.sizes):
                bench(report, wl, n, cfg, peers)
                print(f"<!-- {wl.key} n = {n} done -->", flush=True)
    report.notes.append(f"load average at the end of the run: {_load()}")
    text = render(report, cfg)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "sparse.md"), "w") as fh:
            fh.write(head + text + "\n![time / NumPy f against n](sparse.png)\n")
        print(f"wrote {os.path.join(args.out, 'sparse.md')}")
        print(plot(report, cfg, os.path.join(args.out, "sparse.png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
