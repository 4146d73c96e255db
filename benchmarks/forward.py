"""Forward-mode benchmark: dualad against plain NumPy, JAX and autograd, in one process.

Usage (from the repository root)::

    python -m benchmarks.forward            # full run, about a minute or two
    python -m benchmarks.forward --quick    # tiny sizes, a few seconds (used by the tests)
    python -m benchmarks.forward --out DIR  # also write DIR/forward.md and DIR/forward.csv

Every time is the median of repeated samples after a warm-up call, taken by
:class:`timeit.Timer` (garbage collector off while sampling). A sample runs the callable
``number`` times in a loop (``number`` grows until a sample lasts ``sample_time``) and the
count of samples adapts to a per-measurement time budget. Peers that cannot be imported are
skipped with a note. Each peer's derivative is checked against dualad's before it is timed.

Measurements
------------
1. Dispatch overhead on tiny arrays: a chain of 10 operations on shape (3,), one direction.
2. ``jvp`` of an elementwise chain on 2**20 float64 values, against NumPy's plain ``f``.
3. ``jvp`` of the Rosenbrock function at several sizes, against JAX (eager and jit) and
   autograd's ``make_jvp``.
4. ``jacfwd`` at n = 1024 (all directions in one vectorised pass) against a Python loop of
   n ``dualad.jvp`` calls, one per unit vector.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import gc
import os
import platform
import statistics
import sys
import time
import timeit
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import dualad

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Config:
    """Sizes and timing budgets of one run."""

    quick: bool
    sample_time: float  # seconds one sample should last at least (inner loop length)
    budget: float  # seconds of sampling per measurement, after warm-up and calibration
    min_repeats: int
    max_repeats: int
    tiny_n: int
    elementwise_n: int
    rosenbrock_sizes: tuple[int, ...]
    jac_n: int


FULL = Config(
    quick=False, sample_time=0.02, budget=0.6, min_repeats=5, max_repeats=40,
    tiny_n=3, elementwise_n=2**20, rosenbrock_sizes=(8, 64, 512, 1024, 8192), jac_n=1024,
)
QUICK = Config(
    quick=True, sample_time=5e-4, budget=0.005, min_repeats=3, max_repeats=5,
    tiny_n=3, elementwise_n=2**10, rosenbrock_sizes=(8, 64), jac_n=8,
)

CHAIN_OPS = 10  # operations in `chain10`


# --------------------------------------------------------------------------- functions
# Each is written once for a NumPy-like namespace `np_` (numpy, jax.numpy, autograd.numpy).


def chain10(np_: Any, x: Any) -> Any:
    """Ten operations: sin, *, +, exp, tanh, -, *, cos, /, sum."""
    y = np_.sin(x)
    y = y * x
    y = y + 1.0
    y = np_.exp(y)
    y = np_.tanh(y)
    y = y - x
    y = y * y
    y = np_.cos(y)
    y = y / 2.0
    return np_.sum(y)


def elementwise(np_: Any, x: Any) -> Any:
    """Eight elementwise operations: *, -, exp, sin, *, tanh, **, +."""
    return np_.tanh(np_.exp(-x * x) * np_.sin(x)) + x**2


def chain10_jvp_by_hand(x: np.ndarray, v: np.ndarray) -> tuple[Any, Any]:
    """The JVP of :func:`chain10` written out in NumPy: the arithmetic any tool must do."""
    y1 = np.sin(x)
    d1 = np.cos(x) * v
    y2 = y1 * x
    d2 = d1 * x + y1 * v
    y4 = np.exp(y2 + 1.0)
    d4 = y4 * d2
    y5 = np.tanh(y4)
    d5 = (1 - y5 * y5) * d4
    y6 = y5 - x
    d6 = d5 - v
    y7 = y6 * y6
    d7 = 2 * y6 * d6
    d9 = -np.sin(y7) * d7 / 2.0
    return np.sum(np.cos(y7) / 2.0), np.sum(d9)


def elementwise_jvp_by_hand(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The JVP of :func:`elementwise` written out in NumPy: the floor for any tool."""
    a = x * x
    b = np.exp(-a)
    s = np.sin(x)
    c = b * s
    t = np.tanh(c)
    two_x_v = 2 * x * v
    dc = -b * two_x_v * s + b * np.cos(x) * v
    return t + a, (1 - t * t) * dc + two_x_v


def rosenbrock(np_: Any, x: Any) -> Any:
    """The Rosenbrock function, R^n -> R."""
    return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def dense_layer(np_: Any, W: Any, x: Any) -> Any:
    """R^n -> R^n: a dense layer plus an elementwise chain."""
    return W @ np_.tanh(x) + np_.exp(-x * x) * np_.sin(x)


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Timing:
    """Median seconds per call over ``repeats`` samples of ``number`` calls each."""

    median: float
    number: int
    repeats: int
    best: float | None = None  # the fastest sample (CSV only)

    @property
    def calls(self) -> int:
        return self.number * self.repeats


def measure(fn: Callable[[], Any], cfg: Config) -> Timing:
    """Warm up, calibrate the inner loop like ``timeit.autorange`` (to ``cfg.sample_time``,
    not its fixed 0.2 s), then take the median of :class:`timeit.Timer`'s samples."""
    timer = timeit.Timer(fn)  # a sample runs fn `number` times with the garbage collector off
    fn()  # warm-up: caches, JAX's per-primitive compilation, allocator
    number = 1
    while (elapsed := timer.timeit(number)) < cfg.sample_time:
        number *= 2 if elapsed * 4 >= cfg.sample_time else 10
    least = cfg.min_repeats if elapsed < 1.0 else min(cfg.min_repeats, 3)  # slow: 3 do
    repeats = max(least, min(cfg.max_repeats, int(cfg.budget / elapsed)))
    samples = [sample / number for sample in timer.repeat(repeats, number)]
    return Timing(statistics.median(samples), number, repeats, min(samples))


def once(fn: Callable[[], Any]) -> Timing:
    """A single timed call (compile times: they only happen once), with the garbage
    collector off as :func:`measure`'s samples are (``timeit``'s convention), so that
    one-off and steady-state times compare."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
    finally:
        if collecting:
            gc.enable()
    return Timing(elapsed, 1, 1, elapsed)


# --------------------------------------------------------------------------- peers


@dataclass
class Peers:
    """The optional competitors, or ``None`` with a note when they cannot be imported."""

    jax: Any = None
    jnp: Any = None
    make_jvp: Any = None
    anp: Any = None
    notes: list[str] = field(default_factory=list)


def load_peers(enabled: bool) -> Peers:
    peers = Peers()
    if not enabled:
        peers.notes.append("peers disabled (--no-peers)")
        return peers
    try:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)  # compare float64 with float64
        if jnp.asarray(1.0).dtype != np.float64:
            peers.notes.append("JAX could not enable float64; JAX runs in float32")
        peers.jax, peers.jnp = jax, jnp
    except Exception as exc:  # noqa: BLE001 - any import failure just skips the peer
        peers.notes.append(f"JAX skipped: not importable ({type(exc).__name__}: {exc})")
    try:
        import autograd.numpy as anp
        from autograd import make_jvp

        peers.make_jvp, peers.anp = make_jvp, anp
    except Exception as exc:  # noqa: BLE001
        peers.notes.append(f"autograd skipped: not importable ({type(exc).__name__}: {exc})")
    return peers


def _block(x: Any) -> Any:
    """Wait for JAX's asynchronous dispatch to finish (a no-op for NumPy values)."""
    ready = getattr(x, "block_until_ready", None)
    return ready() if ready is not None else x


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    benchmark: str
    n: int
    method: str
    timing: Timing
    role: str = ""  # "numpy" / "dualad": the group's references for the ratio columns
    per_op: float | None = None
    note: str = ""


@dataclass
class Target:
    name: str
    measured: str
    required: str
    ok: bool


@dataclass
class Report:
    cfg: Config
    rows: list[Row] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, benchmark: str, n: int, method: str, timing: Timing, **kw: Any) -> Row:
        row = Row(benchmark, n, method, timing, **kw)
        self.rows.append(row)
        return row

    def time_of(self, benchmark: str, n: int, method: str) -> float | None:
        for row in self.rows:
            if (row.benchmark, row.n, row.method) == (benchmark, n, method):
                return row.timing.median
        return None

    def reference(self, row: Row, role: str) -> float | None:
        for other in self.rows:
            if (other.benchmark, other.n, other.role) == (row.benchmark, row.n, role):
                return other.timing.median
        return None

    def check(self, what: str, got: Any, want: Any) -> bool:
        """Compare a peer's derivative with dualad's; a mismatch is reported, not timed."""
        ok = np.allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-8)
        if not ok:
            self.notes.append(f"MISMATCH: {what} disagrees with dualad; not timed")
        return ok


# --------------------------------------------------------------------------- benchmarks

JVP_BY_HAND = "numpy JVP by hand"
DUALAD_JVP = "dualad.jvp"
JAX_EAGER = "jax.jvp (eager)"
JAX_JIT = "jax.jit(jvp)"
JAX_COMPILE = "jax.jit(jvp): trace+compile"
AUTOGRAD = "autograd make_jvp"


def bench_jvp_peers(report: Report, peers: Peers, name: str, n: int, fn: Callable,
                    x: np.ndarray, v: np.ndarray, dy: Any, *, per_op: int | None = None,
                    jit: bool = True) -> None:
    """Time JAX (eager, jit) and autograd on ``fn(np_, x)``; ``dy`` is dualad's answer."""
    cfg = report.cfg

    def per(t: Timing) -> float | None:
        return t.median / per_op if per_op else None

    if peers.jax is not None:
        jax, jnp = peers.jax, peers.jnp
        fj = functools.partial(fn, jnp)
        xj, vj = jnp.asarray(x), jnp.asarray(v)
        eager = lambda: _block(jax.jvp(fj, (xj,), (vj,))[1])
        if report.check(f"{name} n={n} {JAX_EAGER}", eager(), dy):
            t = measure(eager, cfg)
            report.add(name, n, JAX_EAGER, t, per_op=per(t))
        if jit:
            jitted = jax.jit(lambda x, v: jax.jvp(fj, (x,), (v,)))
            run = lambda: _block(jitted(xj, vj)[1])
            report.add(name, n, JAX_COMPILE, once(run), note="one-off, not in ratios")
            if report.check(f"{name} n={n} {JAX_JIT}", run(), dy):
                report.add(name, n, JAX_JIT, measure(run, cfg))
    if peers.make_jvp is not None:
        fa = functools.partial(fn, peers.anp)
        run = lambda: peers.make_jvp(fa)(x)(v)[1]
        if report.check(f"{name} n={n} {AUTOGRAD}", run(), dy):
            t = measure(run, cfg)
            report.add(name, n, AUTOGRAD, t, per_op=per(t))


def bench_dispatch(report: Report, peers: Peers) -> None:
    """1. Per-operation overhead on tiny arrays (shape (3,), one direction)."""
    cfg, name, n = report.cfg, "1 dispatch, chain of 10 ops", report.cfg.tiny_n
    rng = np.random.default_rng(1)
    x, v = rng.uniform(-1, 1, n), rng.standard_normal(n)
    f = functools.partial(chain10, np)
    t = measure(lambda: f(x), cfg)
    report.add(name, n, "numpy f", t, role="numpy", per_op=t.median / CHAIN_OPS)
    run = lambda: dualad.jvp(f, (x,), (v,))
    dy = run()[1]
    t = measure(run, cfg)
    report.add(name, n, DUALAD_JVP, t, role="dualad", per_op=t.median / CHAIN_OPS)
    # the same chain on a ready-made Dual: the operations alone, without jvp's set-up
    d = dualad.Dual(x, v[None])
    t = measure(lambda: f(d), cfg)
    report.add(name, n, "dualad ops on a Dual", t, per_op=t.median / CHAIN_OPS,
               note="no jvp set-up/tear-down")
    t = measure(lambda: dualad.jvp(lambda x: x, (x,), (v,)), cfg)
    report.add(name, n, "dualad.jvp(identity)", t, note="fixed cost of a jvp call")
    if report.check(f"{name} hand-written JVP", chain10_jvp_by_hand(x, v)[1], dy):
        t = measure(lambda: chain10_jvp_by_hand(x, v), cfg)
        report.add(name, n, JVP_BY_HAND, t, per_op=t.median / CHAIN_OPS,
                   note="the NumPy arithmetic of the JVP itself")
    bench_jvp_peers(report, peers, name, n, chain10, x, v, dy, per_op=CHAIN_OPS, jit=False)


def bench_elementwise(report: Report, peers: Peers) -> None:
    """2. jvp of an elementwise chain on many values."""
    cfg, name, n = report.cfg, "2 elementwise chain (8 ops)", report.cfg.elementwise_n
    rng = np.random.default_rng(2)
    x, v = rng.uniform(-2, 2, n), rng.standard_normal(n)
    f = functools.partial(elementwise, np)
    report.add(name, n, "numpy f", measure(lambda: f(x), cfg), role="numpy")
    run = lambda: dualad.jvp(f, (x,), (v,))
    dy = run()[1]
    if report.check(f"{name} hand-written JVP", elementwise_jvp_by_hand(x, v)[1], dy):
        report.add(name, n, "numpy JVP by hand", measure(lambda: elementwise_jvp_by_hand(x, v),
                                                         cfg), note="the floor")
    report.add(name, n, DUALAD_JVP, measure(run, cfg), role="dualad")
    bench_jvp_peers(report, peers, name, n, elementwise, x, v, dy)


def bench_rosenbrock(report: Report, peers: Peers) -> None:
    """3. jvp of the Rosenbrock function at several sizes."""
    cfg, name = report.cfg, "3 rosenbrock jvp"
    f = functools.partial(rosenbrock, np)
    for n in cfg.rosenbrock_sizes:
        rng = np.random.default_rng(n)
        x, v = rng.uniform(-2, 2, n), rng.standard_normal(n)
        report.add(name, n, "numpy f", measure(lambda x=x: f(x), cfg), role="numpy")
        run = lambda x=x, v=v: dualad.jvp(f, (x,), (v,))
        dy = run()[1]
        report.add(name, n, DUALAD_JVP, measure(run, cfg), role="dualad")
        bench_jvp_peers(report, peers, name, n, rosenbrock, x, v, dy)


def _loop_of_jvps(f: Callable, x: np.ndarray) -> np.ndarray:
    """The Jacobian column by column: one dualad.jvp per unit vector."""
    eye = np.eye(x.size)
    return np.stack([dualad.jvp(f, (x,), (eye[i],))[1] for i in range(x.size)], axis=-1)


def bench_jacfwd(report: Report, peers: Peers) -> None:
    """4. Vectorised jacfwd against a loop of n jvp calls."""
    cfg, n = report.cfg, report.cfg.jac_n
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, n)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    cases = [
        ("4 jacfwd, dense layer R^n->R^n", lambda np_, x: dense_layer(np_, W, x)),
        ("4 jacfwd, rosenbrock gradient", rosenbrock),
    ]
    for name, fn in cases:
        f = functools.partial(fn, np)
        report.add(name, n, "numpy f", measure(lambda f=f: f(x), cfg), role="numpy")
        jac = lambda f=f: dualad.jacfwd(f)(x)
        J = jac()
        report.add(name, n, "dualad.jacfwd", measure(jac, cfg), role="dualad")
        loop = lambda f=f: _loop_of_jvps(f, x)
        if report.check(f"{name} loop of jvps", loop(), J):
            report.add(name, n, f"loop of {n} dualad.jvp", measure(loop, cfg))
        if peers.jax is not None:
            jax = peers.jax
            fj = functools.partial(fn, peers.jnp)
            xj = peers.jnp.asarray(x)
            eager = lambda fj=fj, xj=xj: _block(peers.jax.jacfwd(fj)(xj))
            if report.check(f"{name} jax.jacfwd", eager(), J):
                report.add(name, n, "jax.jacfwd (eager)", measure(eager, cfg))
            jitted = jax.jit(jax.jacfwd(fj))
            run = lambda jitted=jitted, xj=xj: _block(jitted(xj))
            report.add(name, n, "jax.jit(jacfwd): trace+compile", once(run),
                       note="one-off, not in ratios")
            if report.check(f"{name} jax.jit(jacfwd)", run(), J):
                report.add(name, n, "jax.jit(jacfwd)", measure(run, cfg))


# --------------------------------------------------------------------------- targets


def evaluate_targets(report: Report) -> None:
    cfg, rows, targets = report.cfg, report.rows, report.targets
    name = "1 dispatch, chain of 10 ops"
    t = report.time_of(name, cfg.tiny_n, DUALAD_JVP)
    floor = report.time_of(name, cfg.tiny_n, JVP_BY_HAND)
    if t is not None and floor is not None:
        # dispatch overhead: what dualad adds to the NumPy arithmetic a JVP needs anyway
        overhead = (t - floor) / CHAIN_OPS
        targets.append(Target("dispatch overhead per op, shape (3,): (dualad.jvp - JVP by "
                              f"hand) / 10; total {_fmt_time(t / CHAIN_OPS)} per op",
                              _fmt_time(overhead), "<= 5 µs", overhead <= 5e-6))
    name = "2 elementwise chain (8 ops)"
    t, base = (report.time_of(name, cfg.elementwise_n, m) for m in (DUALAD_JVP, "numpy f"))
    if t is not None and base:
        targets.append(Target(f"dualad.jvp / numpy f, elementwise, n={cfg.elementwise_n}",
                              f"{t / base:.2f}x", "<= 3x", t / base <= 3))
    name = "3 rosenbrock jvp"
    small = [n for n in cfg.rosenbrock_sizes if n <= 1024]
    for peer, factor in ((JAX_EAGER, 30), (AUTOGRAD, 3)):
        ratios = []
        for n in small:
            t, other = (report.time_of(name, n, m) for m in (DUALAD_JVP, peer))
            if t and other:
                ratios.append((other / t, n))
        if ratios:
            worst, at = min(ratios)
            targets.append(Target(f"rosenbrock: {peer} / dualad.jvp, n <= 1024 (worst n={at})",
                                  f"{worst:.1f}x", f">= {factor}x", worst >= factor))
    for row in rows:
        if row.method.startswith("loop of"):
            t = report.time_of(row.benchmark, row.n, "dualad.jacfwd")
            speedup = row.timing.median / t
            targets.append(Target(f"{row.benchmark.split(', ', 1)[1]}: loop of jvp / jacfwd, "
                                  f"n={row.n}", f"{speedup:.1f}x", ">= 5x", speedup >= 5))


# --------------------------------------------------------------------------- output


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_ratio(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.3g}"


def machine_info(peers: Peers) -> list[tuple[str, str]]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    logical = os.cpu_count()
    info = [
        ("platform", platform.platform()),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("cpu", cpu),
        ("cores", f"{logical} logical"),
        ("load average", _load()),
        ("numpy", f"{np.__version__} ({_blas_name()})"),
        ("dualad", dualad.__version__),
    ]
    if peers.jax is not None:
        backend = peers.jax.default_backend()
        info.append(("jax", f"{peers.jax.__version__} (jaxlib {_version('jaxlib')}, "
                            f"backend {backend}, x64)"))
    else:
        info.append(("jax", "not available"))
    info.append(("autograd", _version("autograd") if peers.make_jvp else "not available"))
    return info


def _load() -> str:
    """The 1-minute load average, with a warning when other work competes for the cores."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    load = os.getloadavg()[0]
    busy = load > 0.5 * (os.cpu_count() or 1)
    return f"{load:.2f}" + (" (busy machine: absolute times are inflated)" if busy else "")


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        return "BLAS " + config["Build Dependencies"]["blas"]["name"]
    except Exception:  # noqa: BLE001 - older NumPy: no dict form
        return "BLAS unknown"


COLUMNS = ("benchmark", "n", "method", "median", "per op", "× NumPy", "× dualad", "calls",
           "note")


def table_rows(report: Report) -> list[list[str]]:
    out = []
    for row in report.rows:
        in_ratios = "not in ratios" not in row.note
        numpy_t = report.reference(row, "numpy") if in_ratios else None
        dualad_t = report.reference(row, "dualad") if in_ratios else None
        out.append([
            row.benchmark, str(row.n), row.method, _fmt_time(row.timing.median),
            _fmt_time(row.per_op),
            _fmt_ratio(row.timing.median / numpy_t if numpy_t else None),
            _fmt_ratio(row.timing.median / dualad_t if dualad_t else None),
            f"{row.timing.repeats}×{row.timing.number}", row.note,
        ])
    return out


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    right = {"n", "median", "per op", "× NumPy", "× dualad", "calls", "measured"}
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if h in right else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def render_header(info: list[tuple[str, str]], command: str, quick: bool, *,
                  title: str = "dualad forward-mode benchmark") -> str:
    parts = [f"# {title}", "",
             f"`{command}`" + (" (quick: tiny sizes, indicative only)" if quick else ""), ""]
    parts += [f"- **{key}**: {value}" for key, value in info]
    return "\n".join(parts) + "\n"


def render_body(report: Report) -> str:
    parts = ["Median time per call. *× NumPy* = time / plain NumPy `f` at the same n; "
             "*× dualad* = time / dualad's (dualad.jvp, or dualad.jacfwd in 4): above 1 "
             "means slower than dualad. *calls* = samples × calls per sample.", ""]
    parts.append(_markdown_table(COLUMNS, table_rows(report)))
    if report.targets:
        parts += ["", "## Targets", ""]
        parts.append(_markdown_table(
            ("target", "measured", "required", "status"),
            [(t.name, t.measured, t.required, "PASS" if t.ok else "MISS")
             for t in report.targets]))
    if report.notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(parts) + "\n"


def write_csv(report: Report, path: str) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["benchmark", "n", "method", "median_s", "best_s", "per_op_s",
                         "ratio_numpy",
                         "ratio_dualad", "repeats", "number", "note"])
        for row in report.rows:
            in_ratios = "not in ratios" not in row.note
            numpy_t = report.reference(row, "numpy") if in_ratios else None
            dualad_t = report.reference(row, "dualad") if in_ratios else None
            writer.writerow([
                row.benchmark, row.n, row.method, f"{row.timing.median:.6e}",
                "" if row.timing.best is None else f"{row.timing.best:.6e}",
                "" if row.per_op is None else f"{row.per_op:.6e}",
                "" if not numpy_t else f"{row.timing.median / numpy_t:.4f}",
                "" if not dualad_t else f"{row.timing.median / dualad_t:.4f}",
                row.timing.repeats, row.timing.number, row.note,
            ])


# --------------------------------------------------------------------------- one core


def blas_threads() -> str:
    """The thread counts of the BLAS libraries loaded in this process, as threadpoolctl sees
    them: ``"openblas 2"``, or ``"none found"``.

    >>> blas_threads() == "none found" or blas_threads().split()[-1].isdigit()
    True
    """
    found = [f"{lib['internal_api']} {lib['num_threads']}" for lib in threadpool_info()
             if lib["user_api"] == "blas"]
    return ", ".join(found) or "none found"


def _thread_ids() -> list[int]:
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [0]  # the calling thread


def _pin(cpus: set[int]) -> None:
    for tid in _thread_ids():
        with contextlib.suppress(OSError):  # a thread may end meanwhile
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def one_core() -> Iterator[str]:
    """Run every thread of this process on one CPU while the block runs; yield how.

    Every tool gets the same single core. Thread settings alone do not do it: with
    ``XLA_FLAGS`` asking for one thread, JAX 0.10 still ran a 1024 x 1024 matrix product on
    both cores of this machine (twice its wall time in CPU time), against NumPy's one.
    Threads started inside the block (JAX's, when it is imported there) inherit the CPU.
    NumPy's BLAS (and any OpenMP pool) is limited to one thread with threadpoolctl's
    ``threadpool_limits``: more would only take turns on the core. Afterwards every thread
    may use the CPUs it could before, and the thread pools have their former sizes.

    >>> with one_core() as how:
    ...     "CPU" in how or "not pinned" in how
    True
    """
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    blas_before = blas_threads()
    with threadpool_limits(limits=1):  # BLAS and OpenMP pools loaded now; restored on exit
        blas = f"BLAS threads: {blas_threads()} (was {blas_before}; threadpoolctl)"
        if not hasattr(os, "sched_setaffinity"):
            how = f"not pinned (no os.sched_setaffinity here); {blas}; XLA_FLAGS one thread"
            before = None
        else:
            before = os.sched_getaffinity(0)
            cpu = max(before)
            _pin({cpu})
            how = (f"CPU {cpu} only (of {len(before)} this process may use), for every "
                   f"thread (JAX's too); {blas}")
        try:
            yield how
        finally:
            if before is not None:
                _pin(before)


# --------------------------------------------------------------------------- main


def run_suite(name: str, argv: Sequence[str] | None, *, description: str, full: Any,
              quick: Any, report_class: Any, benches: Sequence[Callable[..., None]],
              evaluate: Callable[..., None], header: Callable[..., str],
              body: Callable[..., str], csv_writer: Callable[..., None]) -> int:
    """The command line shared by the benchmarks: ``python -m benchmarks.<name>``
    [--quick] [--out DIR] [--no-peers]; runs ``benches`` and writes DIR/<name>.md/.csv."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}",
                                     description=description)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and few repeats (seconds; for the test-suite)")
    parser.add_argument("--out", metavar="DIR",
                        help=f"write {name}.md and {name}.csv into DIR")
    parser.add_argument("--no-peers", action="store_true", help="skip JAX and autograd")
    args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    cfg = quick if args.quick else full
    command = f"python -m benchmarks.{name} " + " ".join(
        str(a) for a in (sys.argv[1:] if argv is None else argv))

    with one_core() as threads:
        peers = load_peers(not args.no_peers)
        report = report_class(cfg, notes=list(peers.notes))
        head = header(machine_info(peers) + [("threads", threads)], command.strip(),
                      cfg.quick)
        print(head, flush=True)
        for bench in benches:
            start = time.perf_counter()
            bench(report, peers)
            print(f"<!-- {bench.__name__}: {time.perf_counter() - start:.1f} s -->",
                  flush=True)
    evaluate(report)
    report.notes.append(f"load average at the end of the run: {_load()}")

    text = body(report)
    print()
    print(text, end="")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, f"{name}.md"), "w") as fh:
            fh.write(head + "\n" + text)
        csv_writer(report, os.path.join(args.out, f"{name}.csv"))
        print(f"\nwrote {os.path.join(args.out, name + '.md')} and {name}.csv")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_suite(
        "forward", argv, description=__doc__.split("\n", 1)[0], full=FULL, quick=QUICK,
        report_class=Report,
        benches=(bench_dispatch, bench_elementwise, bench_rosenbrock, bench_jacfwd),
        evaluate=evaluate_targets, header=render_header, body=render_body,
        csv_writer=write_csv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
