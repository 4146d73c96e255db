"""Reverse-mode benchmark: dualad against plain NumPy, JAX and autograd, in one process.

Usage (from the repository root)::

    python -m benchmarks.reverse            # full run, about 35 seconds
    python -m benchmarks.reverse --quick    # tiny sizes, a few seconds (used by the tests)
    python -m benchmarks.reverse --out DIR  # also write DIR/reverse.md and DIR/reverse.csv

The timing machinery (``Config``, ``measure``, ``once``), the peers, the report and its
formatting come from :mod:`benchmarks.forward`, so both benchmarks measure alike: every time
is the median of repeated samples after a warm-up call, with the garbage collector off while
sampling. Peers that cannot be imported are skipped with a note; each peer's derivative is
checked against dualad's before it is timed, and so is each hand-written NumPy derivative.

Measurements
------------
1. ``grad`` of the Rosenbrock function at several sizes, against NumPy's plain ``f``, a
   gradient written by hand in NumPy, autograd's ``grad`` and JAX's (eager and jit).
2. ``jacrev`` against ``jacfwd`` of a dense layer R^n -> R^n at n = 1024, with autograd's
   ``jacobian`` and JAX's ``jacrev`` for reference.
3. ``hessian`` of the Rosenbrock function at n = 200 against ``jax.hessian`` (eager and jit).
4. The tape's overhead on tiny arrays: ``grad`` of a chain of 10 operations on shape (3,),
   against the same forward and backward pass written by hand in NumPy.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dualad
from benchmarks.forward import (
    CHAIN_OPS,
    COLUMNS,
    Config,
    Peers,
    Report,
    Target,
    Timing,
    _block,
    _fmt_time,
    _markdown_table,
    chain10,
    dense_layer,
    measure,
    once,
    render_header,
    rosenbrock,
    run_suite,
    table_rows,
)
from dualad.tape import Tape

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ReverseConfig(Config):
    """:class:`benchmarks.forward.Config` plus the Hessian's size.

    ``rosenbrock_sizes`` are the sizes of ``grad`` (1), ``jac_n`` that of the Jacobians (2),
    ``tiny_n`` that of the overhead chain (4); ``elementwise_n`` is not used here.
    """

    hessian_n: int = 200


FULL = ReverseConfig(
    quick=False, sample_time=0.02, budget=0.6, min_repeats=5, max_repeats=40,
    tiny_n=3, elementwise_n=0, rosenbrock_sizes=(8, 64, 1024, 2**14), jac_n=1024,
    hessian_n=200,
)
QUICK = ReverseConfig(
    quick=True, sample_time=5e-4, budget=0.005, min_repeats=3, max_repeats=5,
    tiny_n=3, elementwise_n=0, rosenbrock_sizes=(8, 64), jac_n=8, hessian_n=8,
)

GRAD = "1 rosenbrock grad"
JAC = "2 jacobian, dense layer R^n->R^n"
HESS = "3 rosenbrock hessian"
TINY = "4 tape overhead, chain of 10 ops"

NUMPY_F = "numpy f"
BY_HAND = "numpy grad by hand"
DUALAD_GRAD = "dualad.grad"
AUTOGRAD_GRAD = "autograd grad"
JAX_GRAD = "jax.grad (eager)"
JAX_GRAD_JIT = "jax.jit(grad)"
JACREV = "dualad.jacrev"
JACFWD = "dualad.jacfwd"
AUTOGRAD_JAC = "autograd jacobian"
JAX_JACREV = "jax.jacrev (eager)"
JAX_JACREV_JIT = "jax.jit(jacrev)"
HESSIAN = "dualad.hessian"
JAX_HESSIAN = "jax.hessian (eager)"
JAX_HESSIAN_JIT = "jax.jit(hessian)"
COMPILE = "{}: trace+compile"
ONE_OFF = "one-off, not in ratios"


# --------------------------------------------------------------------------- hand-written


def rosenbrock_grad_by_hand(x: np.ndarray) -> np.ndarray:
    """The gradient of :func:`~benchmarks.forward.rosenbrock` in NumPy: the floor for grad."""
    a, b = x[:-1], x[1:]
    r = b - a * a
    g = np.zeros_like(x)
    g[1:] += 200.0 * r
    g[:-1] += -400.0 * r * a - 2.0 * (1.0 - a)
    return g


def chain10_grad_by_hand(x: np.ndarray) -> np.ndarray:
    """:func:`~benchmarks.forward.chain10`'s forward pass and its backward pass, op by op,
    in NumPy: the arithmetic any reverse mode must do."""
    y1 = np.sin(x)
    y2 = y1 * x
    y3 = y2 + 1.0
    y4 = np.exp(y3)
    y5 = np.tanh(y4)
    y6 = y5 - x
    y7 = y6 * y6
    y8 = np.cos(y7)
    y9 = y8 / 2.0
    np.sum(y9)  # the value, computed as grad computes it
    g8 = np.full_like(x, 0.5)  # sum, then / 2
    g7 = -np.sin(y7) * g8
    g6 = 2.0 * y6 * g7
    g4 = (1.0 - y5 * y5) * g6
    g2 = y4 * g4
    return np.cos(x) * (g2 * x) + g2 * y1 - g6


# --------------------------------------------------------------------------- report


@dataclass
class Goal(Target):
    """forward's :class:`Target` with a status: met, missed, or info (no threshold)."""

    status: str = "info"


@dataclass
class ReverseReport(Report):
    """forward's :class:`Report` plus a met/missed mark per row, for the target column."""

    marks: dict[tuple[str, int, str], list[str]] = field(default_factory=dict)

    def target(self, name: str, measured: str, required: str, ok: bool | None,
               rows: Sequence[tuple[str, int, str]] = ()) -> None:
        """Record a target (``ok=None``: reported, no threshold) and mark ``rows``."""
        status = "info" if ok is None else ("met" if ok else "missed")
        self.targets.append(Goal(name, measured, required, ok is not False, status))
        for key in rows:
            mark = f"{status}: {measured}" + (f" ({required})" if ok is not None else "")
            self.marks.setdefault(key, []).append(mark)

    def mark_of(self, benchmark: str, n: int, method: str) -> str:
        return "; ".join(self.marks.get((benchmark, n, method), []))


# --------------------------------------------------------------------------- benchmarks


def _autograd(peers: Peers) -> Any:
    """autograd's top-level module (for ``grad`` and ``jacobian``), or None."""
    if peers.anp is None:
        return None
    import autograd

    return autograd


def _faults(fn: Callable[[], Any], calls: int = 20) -> str:
    """A note when ``fn`` takes fresh pages from the OS on every call (minor page faults).

    glibc serves allocations of 128 KiB and more with ``mmap`` until a free of such a block
    raises its threshold, so whether a (1, 2**14) float64 buffer faults depends on the
    process's history; the count says which case a time belongs to.
    """
    try:
        import resource
    except ImportError:  # not on this platform
        return ""
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls
    return f"{faults:.0f} minor page faults per call" if faults >= 1 else ""


def bench_jax(report: ReverseReport, peers: Peers, name: str, n: int, transform: str,
              fn: Callable, x: np.ndarray, want: Any, *, jit: bool = True) -> None:
    """Time ``jax.<transform>`` of ``fn(jnp, x)`` eagerly and jitted; ``want`` is dualad's."""
    if peers.jax is None:
        return
    jax, cfg = peers.jax, report.cfg
    derivative = getattr(jax, transform)(functools.partial(fn, peers.jnp))
    xj = peers.jnp.asarray(x)
    eager_name = f"jax.{transform} (eager)"
    eager = lambda: _block(derivative(xj))
    if report.check(f"{name} n={n} {eager_name}", eager(), want):
        report.add(name, n, eager_name, measure(eager, cfg))
    if jit:
        jitted = jax.jit(derivative)
        run = lambda: _block(jitted(xj))
        jit_name = f"jax.jit({transform})"
        report.add(name, n, COMPILE.format(jit_name), once(run), note=ONE_OFF)
        if report.check(f"{name} n={n} {jit_name}", run(), want):
            report.add(name, n, jit_name, measure(run, cfg))


def bench_grad(report: ReverseReport, peers: Peers) -> None:
    """1. grad of the Rosenbrock function at several sizes."""
    cfg = report.cfg
    f = functools.partial(rosenbrock, np)
    ag = _autograd(peers)
    for n in cfg.rosenbrock_sizes:
        x = np.random.default_rng(n).uniform(-2, 2, n)
        plain = lambda x=x: f(x)
        report.add(GRAD, n, NUMPY_F, measure(plain, cfg), role="numpy", note=_faults(plain))
        run = lambda x=x: dualad.grad(f)(x)
        g = run()
        report.add(GRAD, n, DUALAD_GRAD, measure(run, cfg), role="dualad", note=_faults(run))
        if report.check(f"{GRAD} n={n} {BY_HAND}", rosenbrock_grad_by_hand(x), g):
            by_hand = lambda x=x: rosenbrock_grad_by_hand(x)
            report.add(GRAD, n, BY_HAND, measure(by_hand, cfg),
                       note="; ".join(filter(None, ("the floor", _faults(by_hand)))))
        if ag is not None:
            fa = functools.partial(rosenbrock, peers.anp)
            run = lambda x=x, fa=fa: ag.grad(fa)(x)
            if report.check(f"{GRAD} n={n} {AUTOGRAD_GRAD}", run(), g):
                report.add(GRAD, n, AUTOGRAD_GRAD, measure(run, cfg))
        bench_jax(report, peers, GRAD, n, "grad", rosenbrock, x, g)


def bench_jacobian(report: ReverseReport, peers: Peers) -> None:
    """2. jacrev against jacfwd of a dense layer R^n -> R^n."""
    cfg, n = report.cfg, report.cfg.jac_n
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, n)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    fn = lambda np_, x: dense_layer(np_, W, x)
    f = functools.partial(fn, np)
    report.add(JAC, n, NUMPY_F, measure(lambda: f(x), cfg), role="numpy")
    rev = lambda: dualad.jacrev(f)(x)
    J = rev()
    report.add(JAC, n, JACREV, measure(rev, cfg), role="dualad")
    fwd = lambda: dualad.jacfwd(f)(x)
    if report.check(f"{JAC} n={n} {JACFWD}", fwd(), J):
        report.add(JAC, n, JACFWD, measure(fwd, cfg))
    ag = _autograd(peers)
    if ag is not None:
        fa = functools.partial(fn, peers.anp)
        run = lambda: ag.jacobian(fa)(x)
        if report.check(f"{JAC} n={n} {AUTOGRAD_JAC}", run(), J):
            report.add(JAC, n, AUTOGRAD_JAC, measure(run, cfg), note="one backward pass per row")
    bench_jax(report, peers, JAC, n, "jacrev", fn, x, J)


def bench_hessian(report: ReverseReport, peers: Peers) -> None:
    """3. hessian of the Rosenbrock function."""
    cfg, n = report.cfg, report.cfg.hessian_n
    x = np.random.default_rng(n).uniform(-2, 2, n)
    f = functools.partial(rosenbrock, np)
    report.add(HESS, n, NUMPY_F, measure(lambda: f(x), cfg), role="numpy")
    run = lambda: dualad.hessian(f)(x)
    H = run()
    report.add(HESS, n, HESSIAN, measure(run, cfg), role="dualad", note="jacfwd(jacrev(f))")
    fwd_fwd = lambda: dualad.jacfwd(dualad.jacfwd(f))(x)
    if report.check(f"{HESS} n={n} jacfwd(jacfwd)", fwd_fwd(), H):
        report.add(HESS, n, "dualad.jacfwd(jacfwd)", measure(fwd_fwd, cfg),
                   note="forward over forward, for reference")
    bench_jax(report, peers, HESS, n, "hessian", rosenbrock, x, H)


def bench_tiny(report: ReverseReport, peers: Peers) -> None:
    """4. The tape's overhead per operation on tiny arrays."""
    cfg, n = report.cfg, report.cfg.tiny_n
    x = np.random.default_rng(1).uniform(-1, 1, n)
    f = functools.partial(chain10, np)

    def add(method: str, fn: Callable[[], Any], **kw: Any) -> Timing:
        t = measure(fn, cfg)
        report.add(TINY, n, method, t, per_op=t.median / CHAIN_OPS, **kw)
        return t

    add(NUMPY_F, lambda: f(x), role="numpy")
    run = lambda: dualad.grad(f)(x)
    g = run()
    add(DUALAD_GRAD, run, role="dualad")
    # the chain recorded on a tape without a backward pass, and the fixed cost of a call
    add("dualad ops on a tape", lambda: f(Tape().variable(x)),
        note="recording only: no grad set-up, no backward pass")
    t = measure(lambda: dualad.grad(np.sum)(x), cfg)
    report.add(TINY, n, "dualad.grad(np.sum)", t, note="fixed cost of a grad call, one op")
    if report.check(f"{TINY} {BY_HAND}", chain10_grad_by_hand(x), g):
        add(BY_HAND, lambda: chain10_grad_by_hand(x),
            note="forward + backward NumPy arithmetic")
    ag = _autograd(peers)
    if ag is not None:
        fa = functools.partial(chain10, peers.anp)
        run = lambda: ag.grad(fa)(x)
        if report.check(f"{TINY} {AUTOGRAD_GRAD}", run(), g):
            add(AUTOGRAD_GRAD, run)
    if peers.jax is not None:
        derivative = peers.jax.grad(functools.partial(chain10, peers.jnp))
        xj = peers.jnp.asarray(x)
        run = lambda: _block(derivative(xj))
        if report.check(f"{TINY} {JAX_GRAD}", run(), g):
            add(JAX_GRAD, run)


# --------------------------------------------------------------------------- targets


def _speedups(report: ReverseReport, name: str, sizes: Sequence[int], peer: str,
              ours: str) -> list[tuple[float, int]]:
    """``peer time / our time`` at each size where both were measured."""
    out = []
    for n in sizes:
        t, other = report.time_of(name, n, ours), report.time_of(name, n, peer)
        if t and other:
            out.append((other / t, n))
    return out


def _target_grad(report: ReverseReport) -> None:
    sizes = report.cfg.rosenbrock_sizes
    big = max(sizes)
    t, base = report.time_of(GRAD, big, DUALAD_GRAD), report.time_of(GRAD, big, NUMPY_F)
    if t and base:
        report.target(f"rosenbrock: dualad.grad / numpy f, n={big}", f"{t / base:.2f}x",
                      "<= 5x", t / base <= 5, [(GRAD, big, DUALAD_GRAD)])
    small = [n for n in sizes if n <= 1024]
    for peer, factor in ((AUTOGRAD_GRAD, 3), (JAX_GRAD, 30)):
        ratios = _speedups(report, GRAD, small, peer, DUALAD_GRAD)
        for ratio, n in ratios:  # one mark per size, one summary line for the worst
            report.marks.setdefault((GRAD, n, peer), []).append(
                f"{'met' if ratio >= factor else 'missed'}: dualad {ratio:.2f}x faster "
                f"(>= {factor}x)")
        if ratios:
            worst, at = min(ratios)
            report.target(f"rosenbrock: {peer} / dualad.grad, n <= 1024 (worst n={at})",
                          f"{worst:.2f}x", f">= {factor}x", worst >= factor)
    _target_jit(report, GRAD, sizes, JAX_GRAD_JIT, DUALAD_GRAD)


def _target_jit(report: ReverseReport, name: str, sizes: Sequence[int], jit: str,
                ours: str) -> None:
    """Where jax.jit beats dualad, and by how much (no threshold: reported)."""
    for ratio, n in _speedups(report, name, sizes, jit, ours):
        compile_time = report.time_of(name, n, COMPILE.format(jit))
        who = f"jit {1 / ratio:.1f}x faster" if ratio < 1 else f"dualad {ratio:.1f}x faster"
        report.target(f"{name.split(' ', 1)[1]}: {jit} vs {ours}, n={n}",
                      f"{who}; compile {_fmt_time(compile_time)}", "report", None,
                      [(name, n, jit)])


def evaluate_targets(report: ReverseReport) -> None:
    cfg = report.cfg
    _target_grad(report)
    t, fwd = report.time_of(JAC, cfg.jac_n, JACREV), report.time_of(JAC, cfg.jac_n, JACFWD)
    if t and fwd:
        report.target(f"dense layer: dualad.jacrev / dualad.jacfwd, n={cfg.jac_n}",
                      f"{t / fwd:.2f}x", "<= 2x", t / fwd <= 2, [(JAC, cfg.jac_n, JACREV)])
    _target_jit(report, JAC, [cfg.jac_n], JAX_JACREV_JIT, JACREV)
    n = cfg.hessian_n
    t, eager = report.time_of(HESS, n, HESSIAN), report.time_of(HESS, n, JAX_HESSIAN)
    if t and eager:
        report.target(f"rosenbrock: jax.hessian (eager) / dualad.hessian, n={n}",
                      f"{eager / t:.2f}x", "> 1x", eager > t, [(HESS, n, JAX_HESSIAN)])
    _target_jit(report, HESS, [n], JAX_HESSIAN_JIT, HESSIAN)
    n = cfg.tiny_n
    t, floor = report.time_of(TINY, n, DUALAD_GRAD), report.time_of(TINY, n, BY_HAND)
    if t and floor:
        overhead = (t - floor) / CHAIN_OPS
        report.target(f"tape overhead per op, shape ({n},): (dualad.grad - grad by hand) / "
                      f"{CHAIN_OPS}; total {_fmt_time(t / CHAIN_OPS)} per op",
                      _fmt_time(overhead), "report", None, [(TINY, n, DUALAD_GRAD)])


# --------------------------------------------------------------------------- output


def render_body(report: ReverseReport) -> str:
    parts = ["Median time per call. *× NumPy* = time / plain NumPy `f` at the same n; "
             "*× dualad* = time / dualad's (dualad.grad in 1 and 4, dualad.jacrev in 2, "
             "dualad.hessian in 3): above 1 means slower than dualad. *calls* = samples × "
             "calls per sample. *target*: met / missed for the rows a target is about; "
             "info where a figure is reported without a threshold.", ""]
    rows = [cells + [report.mark_of(row.benchmark, row.n, row.method)]
            for cells, row in zip(table_rows(report), report.rows)]
    parts.append(_markdown_table((*COLUMNS, "target"), rows))
    if report.targets:
        parts += ["", "## Targets", ""]
        parts.append(_markdown_table(
            ("target", "measured", "required", "status"),
            [(t.name, t.measured, t.required, t.status) for t in report.targets]))
    if report.notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(parts) + "\n"


def write_csv(report: ReverseReport, path: str) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["benchmark", "n", "method", "median_s", "best_s", "per_op_s",
                         "ratio_numpy", "ratio_dualad", "repeats", "number", "note", "target"])
        for row in report.rows:
            in_ratios = ONE_OFF not in row.note
            numpy_t = report.reference(row, "numpy") if in_ratios else None
            dualad_t = report.reference(row, "dualad") if in_ratios else None
            writer.writerow([
                row.benchmark, row.n, row.method, f"{row.timing.median:.6e}",
                "" if row.timing.best is None else f"{row.timing.best:.6e}",
                "" if row.per_op is None else f"{row.per_op:.6e}",
                "" if not numpy_t else f"{row.timing.median / numpy_t:.4f}",
                "" if not dualad_t else f"{row.timing.median / dualad_t:.4f}",
                row.timing.repeats, row.timing.number, row.note,
                report.mark_of(row.benchmark, row.n, row.method),
            ])


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    return run_suite(
        "reverse", argv, description=__doc__.split("\n", 1)[0], full=FULL, quick=QUICK,
        report_class=ReverseReport,
        benches=(bench_grad, bench_jacobian, bench_hessian, bench_tiny),
        evaluate=evaluate_targets,
        header=functools.partial(render_header, title="dualad reverse-mode benchmark"),
        body=render_body,
        csv_writer=write_csv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
