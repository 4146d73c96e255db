"""Forward against reverse mode as the input dimension grows: dualad, NumPy, JAX, autograd.

Usage (from the repository root)::

    python -m benchmarks.forward_vs_reverse                  # full run, 11 minutes
    python -m benchmarks.forward_vs_reverse --quick          # tiny sizes, seconds (the tests)
    python -m benchmarks.forward_vs_reverse --out DIR        # also write DIR/forward_vs_reverse
                                                             # .md, .csv and .png plots
    python -m benchmarks.forward_vs_reverse --no-peers       # dualad and NumPy only

The AD lecture (Baydin et al. 2018) says forward mode costs one pass per input direction and reverse
mode one pass per output. This benchmark measures it: for each workload it sweeps a size
over powers of two and times, in one process, plain NumPy ``f``, dualad's ``jvp``,
``grad``/``vjp``, ``jacrev``, ``jacfwd`` (vectorised, and chunked), the lecture's column
loop (n ``jvp`` calls), central differences (2n evaluations of ``f``) and, when importable,
JAX (eager and ``jax.jit``; compile times on their own rows) and autograd, and the compiled
path: ``dualad.compile`` of ``jvp``, ``grad``/``vjp``, ``jacfwd`` and ``jacrev``, its replay
timed apart from its first call (the recording) and second (code generation), with a
summary of its figures against their targets. Every time is the
median of repeated samples after a warm-up (:func:`benchmarks.forward.measure`); every
derivative is checked against dualad's before it is timed; peak memory comes from a separate
untimed call under :mod:`tracemalloc`. A method stops, with a note in the table, once its
predicted time per call or the size of its largest array passes the run's cap.

Workloads
---------
- Rosenbrock, R^n -> R.
- Seed 000's one-hidden-layer sigmoid network with a squared-error loss, R^n -> R in its
  flattened parameters.
- An elementwise chain R^n -> R^n (up to 2**20: the forward-mode target).
- A dense layer plus an elementwise chain, R^n -> R^n.
- Few outputs: R^n -> R^4, n growing (reverse mode should win).
- Many outputs: R^16 -> R^m, m growing (forward mode should win).

Plus a micro-benchmark of the per-operation overhead on tiny arrays (dual vs ndarray, tape
vs ndarray, JAX eager).
"""

from __future__ import annotations

import functools
import math
import os
import statistics
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from tqdm import tqdm

import dualad
from benchmarks.forward import (
    CHAIN_OPS,
    Config,
    Peers,
    Report,
    Timing,
    _block,
    _fmt_time,
    _markdown_table,
    chain10,
    dense_layer,
    elementwise,
    elementwise_jvp_by_hand,
    measure,
    once,
    rosenbrock,
    run_suite,
)
from benchmarks.reverse import _faults, rosenbrock_grad_by_hand
from dualad.tape import Tape

NAME = "forward_vs_reverse"

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class SweepConfig(Config):
    """:class:`benchmarks.forward.Config` plus the sweeps and the caps that stop a method.

    Of the base fields only the timing ones and ``tiny_n`` (the overhead micro-benchmark)
    are used; the sizes of each workload are below.
    """

    scalar_sizes: tuple[int, ...]  # Rosenbrock (the MLP starts at 8: n = 8 x hidden units)
    elementwise_sizes: tuple[int, ...]
    dense_sizes: tuple[int, ...]
    few_sizes: tuple[int, ...]  # n, with m = few_m outputs
    many_sizes: tuple[int, ...]  # m, with n = many_n inputs
    time_cap: float  # seconds per call a method may be predicted to take at the next size
    memory_cap: int  # bytes its largest array may be predicted to need
    memory_time_cap: float  # slower calls get no tracemalloc pass (it slows Python ~2-5x)
    chunk_size: int  # the chunked jacfwd's directions per pass
    peer_sizes: int = 0  # > 0: JAX and autograd only at that many smallest sizes
    few_m: int = 4
    many_n: int = 256


def _powers(lo: int, hi: int) -> tuple[int, ...]:
    """2**lo ... 2**hi."""
    return tuple(2**k for k in range(lo, hi + 1))


FULL = SweepConfig(
    quick=False, sample_time=0.01, budget=0.1, min_repeats=3, max_repeats=11,
    tiny_n=3, elementwise_n=0, rosenbrock_sizes=(), jac_n=1024,
    scalar_sizes=_powers(2, 14), elementwise_sizes=_powers(2, 14) + (2**16, 2**18, 2**20),
    dense_sizes=_powers(2, 12), few_sizes=_powers(1, 14), many_sizes=_powers(1, 14),
    time_cap=1.0, memory_cap=2**28, memory_time_cap=0.25, chunk_size=64,
)
QUICK = SweepConfig(
    quick=True, sample_time=5e-4, budget=0.003, min_repeats=1, max_repeats=3,
    tiny_n=3, elementwise_n=0, rosenbrock_sizes=(), jac_n=8,
    scalar_sizes=(2, 8), elementwise_sizes=(2, 16), dense_sizes=(2, 8), few_sizes=(2, 8),
    many_sizes=(2, 32), time_cap=0.05, memory_cap=2**22, memory_time_cap=0.05,
    chunk_size=2, peer_sizes=1, many_n=16,
)

# method families: what a method computes, which fixes its theoretical cost
F, JVP, GRAD, JACFWD, JACREV, LOOP, FD = "f", "jvp", "grad", "jacfwd", "jacrev", "loop", "fd"
JACOBIANS = (JACFWD, JACREV, LOOP, FD)
NUMPY, DUALAD, JAX, JIT, AUTOGRAD = "numpy", "dualad", "jax", "jax.jit", "autograd"
COMPILED = "dualad.compile"
ONE_OFF = "one-off, not in ratios"
RECORDINGS = 3  # fresh dualad.compile objects whose first two calls are timed (median)

# --------------------------------------------------------------------------- workloads
# Each function is written once for a NumPy-like namespace `np_` (numpy, jax.numpy,
# autograd.numpy); constants come in as arguments so that jax.jit does not bake them in.

MLP_FEATURES = 7  # d: features per sample, so n = 8 x the hidden units (notebook 03: d = 3)
MLP_BATCH = 32


def mlp_loss(np_: Any, p: Any, X: Any, y: Any) -> Any:
    """Seed 000's network f(W, U) = (1/sqrt m) sum_k w_k sigmoid(u_k . x), squared error.

    ``p`` holds the output weights ``w`` (m) and then the rows of ``U`` (m x d).
    """
    m = p.shape[0] // (X.shape[1] + 1)
    w, U = p[:m], np_.reshape(p[m:], (m, X.shape[1]))
    out = (1.0 / (1.0 + np_.exp(-(X @ U.T)))) @ w / np_.sqrt(m)
    r = out - y
    return np_.mean(r * r)


def few_outputs(np_: Any, x: Any, A: Any) -> Any:
    """R^n -> R^m, m small: a (m, n) matrix after an elementwise chain."""
    return A @ elementwise(np_, x)


def many_outputs(np_: Any, x: Any, B: Any) -> Any:
    """R^n -> R^m, n small: an elementwise chain after a (m, n) matrix."""
    return elementwise(np_, B @ np_.sin(x))


def _dense(np_: Any, x: Any, W: Any) -> Any:
    return dense_layer(np_, W, x)


def _rosenbrock(np_: Any, x: Any) -> Any:
    return rosenbrock(np_, x)


def _elementwise(np_: Any, x: Any) -> Any:
    return elementwise(np_, x)


@dataclass
class Problem:
    """One workload at one size: ``fn(np_, x, *consts)`` and where to differentiate it."""

    fn: Callable[..., Any]
    x: np.ndarray
    consts: tuple[np.ndarray, ...]
    v: np.ndarray  # the jvp direction
    u: np.ndarray  # the vjp cotangent (shape of the output)
    n: int
    m: int
    scalar: bool

    def f(self, x: Any) -> Any:
        """The NumPy function of ``x`` alone."""
        return self.fn(np, x, *self.consts)


def _problem(fn: Callable[..., Any], x: np.ndarray, consts: tuple, m: int, scalar: bool,
             rng: np.random.Generator) -> Problem:
    u = rng.standard_normal(() if scalar else (m,))
    return Problem(fn, x, consts, rng.standard_normal(x.shape), u, x.size, m, scalar)


def build_rosenbrock(n: int) -> Problem:
    rng = np.random.default_rng(n)
    return _problem(_rosenbrock, rng.uniform(-2, 2, n), (), 1, True, rng)


def build_mlp(n: int) -> Problem:
    rng = np.random.default_rng(n)
    X = rng.standard_normal((MLP_BATCH, MLP_FEATURES))
    y = rng.standard_normal(MLP_BATCH)
    p = rng.standard_normal(n)
    return _problem(mlp_loss, p, (X, y), 1, True, rng)


def build_elementwise(n: int) -> Problem:
    rng = np.random.default_rng(n)
    return _problem(_elementwise, rng.uniform(-2, 2, n), (), n, False, rng)


def build_dense(n: int) -> Problem:
    rng = np.random.default_rng(n)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    return _problem(_dense, rng.uniform(-2, 2, n), (W,), n, False, rng)


def build_few(n: int, m: int) -> Problem:
    rng = np.random.default_rng(n)
    A = rng.standard_normal((m, n)) / np.sqrt(n)
    return _problem(few_outputs, rng.uniform(-2, 2, n), (A,), m, False, rng)


def build_many(m: int, n: int) -> Problem:
    rng = np.random.default_rng(m)
    B = rng.standard_normal((m, n)) / np.sqrt(n)
    return _problem(many_outputs, rng.uniform(-2, 2, n), (B,), m, False, rng)


@dataclass(frozen=True)
class Workload:
    """A family of problems indexed by one growing size (``axis``: n or m)."""

    key: str
    title: str
    sizes: tuple[int, ...]
    build: Callable[[int], Problem]
    f_slope: int  # cost of f ~ size ** f_slope
    axis: str  # "n", "m" or "n=m": which dimensions grow with the size
    width: Callable[[int, int], int]  # elements of f's largest intermediate, given (n, m)
    theory: str  # where forward and reverse Jacobians should cross
    cross_at: int | None = None  # the same as a size, when it has one

    def slope(self, family: str) -> int:
        """The theoretical log-log slope of a method: f's cost times its number of passes.

        >>> WORKLOADS_BY_KEY = {w.key: w for w in workloads(QUICK)}
        >>> [WORKLOADS_BY_KEY["dense"].slope(f) for f in ("f", "jvp", "jacfwd", "jacrev")]
        [2, 2, 3, 3]
        >>> [WORKLOADS_BY_KEY["many"].slope(f) for f in ("f", "jacfwd", "jacrev")]
        [1, 1, 2]
        """
        passes = {JACFWD: "n", LOOP: "n", FD: "n", JACREV: "m"}.get(family)
        return self.f_slope + (passes is not None and passes in self.axis)


def workloads(cfg: SweepConfig) -> list[Workload]:
    """The sweeps of a run, in order."""
    scalar = "n passes forward, 1 reverse: reverse wins from n = 2 on"
    square = "n passes either way: no crossover, the ratio is the per-pass cost ratio"
    return [
        Workload("rosenbrock", "Rosenbrock R^n -> R", cfg.scalar_sizes, build_rosenbrock, 1,
                 "n", lambda n, m: n, scalar),
        Workload("mlp", f"MLP loss (sigmoid network, d={MLP_FEATURES}, batch {MLP_BATCH}) R^n -> R",
                 tuple(n for n in cfg.scalar_sizes if n >= MLP_FEATURES + 1), build_mlp, 1,
                 "n", lambda n, m: MLP_BATCH * n // (MLP_FEATURES + 1), scalar),
        Workload("elementwise", "elementwise chain R^n -> R^n", cfg.elementwise_sizes,
                 build_elementwise, 1, "n=m", lambda n, m: n, square),
        Workload("dense", "dense layer + elementwise chain R^n -> R^n", cfg.dense_sizes,
                 build_dense, 2, "n=m", lambda n, m: n, square),
        Workload("few", f"few outputs R^n -> R^{cfg.few_m}", cfg.few_sizes,
                 functools.partial(build_few, m=cfg.few_m), 1, "n", lambda n, m: n,
                 f"forward n passes, reverse {cfg.few_m}: cross at n = {cfg.few_m}", cfg.few_m),
        Workload("many", f"many outputs R^{cfg.many_n} -> R^m", cfg.many_sizes,
                 functools.partial(build_many, n=cfg.many_n), 1, "m", lambda n, m: max(n, m),
                 f"forward {cfg.many_n} passes, reverse m: cross at m = {cfg.many_n}",
                 cfg.many_n),
    ]


# --------------------------------------------------------------------------- methods


def column_loop(f: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """The Jacobian as the lecture builds it: one ``dualad.jvp`` per unit vector.

    >>> column_loop(lambda x: x * x, np.array([1.0, 3.0]))
    array([[2., 0.],
           [0., 6.]])
    """
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = 1.0
        columns.append(dualad.jvp(f, (x,), (e,))[1])
    return np.stack(columns, axis=-1)


def central_differences(f: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """The Jacobian by central differences: 2n evaluations of ``f``.

    The step is eps**(1/3) scaled by |x_i|, which balances truncation and rounding error.

    >>> J = central_differences(lambda x: x ** 3, np.array([1.0, 2.0]))
    >>> np.round(J, 6)
    array([[ 3.,  0.],
           [ 0., 12.]])
    """
    h = np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))
    columns = []
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[i] += h.flat[i]
        down.flat[i] -= h.flat[i]
        columns.append((f(up) - f(down)) / (up.flat[i] - down.flat[i]))  # the exact step
    return np.stack(columns, axis=-1)


@dataclass(frozen=True)
class Method:
    """How to time one way of computing ``family`` with ``tool``."""

    name: str
    family: str
    tool: str
    build: Callable[[Problem], Callable[[], Any]]  # a thunk for the problem


def _dualad_grad(p: Problem) -> Callable[[], Any]:
    if p.scalar:
        return lambda: dualad.grad(p.f)(p.x)
    return lambda: dualad.vjp(p.f, p.x)[1](p.u)[0]


def numpy_and_dualad(scalar: bool, chunk_size: int) -> list[Method]:
    """NumPy's ``f`` and dualad's ways to differentiate it, the references first."""
    return [
        Method("numpy f", F, NUMPY, lambda p: lambda: p.f(p.x)),
        Method("dualad.jvp", JVP, DUALAD, lambda p: lambda: dualad.jvp(p.f, (p.x,), (p.v,))[1]),
        Method("dualad.grad" if scalar else "dualad.vjp", GRAD, DUALAD, _dualad_grad),
        Method("dualad.jacrev", JACREV, DUALAD, lambda p: lambda: dualad.jacrev(p.f)(p.x)),
        Method("dualad.jacfwd", JACFWD, DUALAD, lambda p: lambda: dualad.jacfwd(p.f)(p.x)),
        Method(f"dualad.jacfwd(chunk_size={chunk_size})", JACFWD, DUALAD,
               lambda p: lambda: dualad.jacfwd(p.f, chunk_size=chunk_size)(p.x)),
        Method("loop of n dualad.jvp", LOOP, DUALAD, lambda p: lambda: column_loop(p.f, p.x)),
        Method("central differences", FD, NUMPY,
               lambda p: lambda: central_differences(p.f, p.x)),
    ]


def _jax_transform(jax: Any, family: str, g: Callable, scalar: bool) -> Callable[..., Any]:
    """``jax.<family>`` of ``g(x, *consts)`` as a function of ``(x, v, u, *consts)``."""
    if family == JVP:
        return lambda x, v, u, *c: jax.jvp(lambda x: g(x, *c), (x,), (v,))[1]
    if family == GRAD and scalar:
        return lambda x, v, u, *c: jax.grad(g)(x, *c)
    if family == GRAD:
        return lambda x, v, u, *c: jax.vjp(lambda x: g(x, *c), x)[1](u)[0]
    transform = jax.jacfwd if family == JACFWD else jax.jacrev
    return lambda x, v, u, *c: transform(g)(x, *c)


def _jax_method(peers: Peers, family: str, scalar: bool, jit: bool) -> Method:
    jax, jnp = peers.jax, peers.jnp
    label = "vjp" if family == GRAD and not scalar else family

    def build(p: Problem) -> Callable[[], Any]:
        g = functools.partial(p.fn, jnp)
        run = _jax_transform(jax, family, g, p.scalar)
        run = jax.jit(run) if jit else run
        args = [jnp.asarray(a) for a in (p.x, p.v, p.u, *p.consts)]
        return lambda: _block(run(*args))

    name = f"jax.jit({label})" if jit else f"jax.{label} (eager)"
    return Method(name, family, JIT if jit else JAX, build)


def _autograd_methods(scalar: bool) -> list[Method]:
    import autograd
    import autograd.numpy as anp

    def fa(p: Problem) -> Callable[[Any], Any]:
        return lambda x: p.fn(anp, x, *p.consts)

    grad = (lambda p: lambda: autograd.grad(fa(p))(p.x)) if scalar else (
        lambda p: lambda: autograd.make_vjp(fa(p))(p.x)[0](p.u))
    return [
        Method("autograd make_jvp", JVP, AUTOGRAD,
               lambda p: lambda: autograd.make_jvp(fa(p))(p.x)(p.v)[1]),
        Method("autograd grad" if scalar else "autograd make_vjp", GRAD, AUTOGRAD, grad),
        Method("autograd jacobian", JACREV, AUTOGRAD,
               lambda p: lambda: autograd.jacobian(fa(p))(p.x)),
    ]


BY_HAND = {
    "rosenbrock": Method("numpy grad by hand", GRAD, NUMPY,
                         lambda p: lambda: rosenbrock_grad_by_hand(p.x)),
    "elementwise": Method("numpy jvp by hand", JVP, NUMPY,
                          lambda p: lambda: elementwise_jvp_by_hand(p.x, p.v)[1]),
}
"""Derivatives written out in NumPy (primal and derivative both computed): the floors."""


def _compiled_fun(family: str, p: Problem) -> Callable[..., Any]:
    """The function ``dualad.compile`` gets: of ``(x, *consts)`` as JAX's jitted ones are,
    with the direction ``v`` (jvp) or the cotangent ``u`` (vjp) an argument after ``x``
    (an array read from an enclosing function would be checked for changes at every call).
    """
    fn = p.fn
    g = lambda x, *c: fn(np, x, *c)  # noqa: E731
    if family == JVP:  # the compile(lambda x, v: jvp(f, (x,), (v,))): value too
        return lambda x, v, *c: dualad.jvp(lambda x: fn(np, x, *c), (x,), (v,))
    if family == GRAD and p.scalar:
        return dualad.grad(g)
    if family == GRAD:
        return lambda x, u, *c: dualad.vjp(lambda x: fn(np, x, *c), x)[1](u)[0]
    return (dualad.jacfwd if family == JACFWD else dualad.jacrev)(g)


def _compiled_method(family: str, scalar: bool) -> Method:
    """``dualad.compile`` of a transform; each ``build`` makes a fresh compiled object."""
    label = "vjp" if family == GRAD and not scalar else family

    def build(p: Problem) -> Callable[[], Any]:
        compiled = dualad.compile(_compiled_fun(family, p))
        extra = (p.v,) if family == JVP else (p.u,) if family == GRAD and not scalar else ()
        args = (p.x, *extra, *p.consts)
        thunk = (lambda: compiled(*args)[1]) if family == JVP else (lambda: compiled(*args))
        thunk.compiled = compiled  # type: ignore[attr-defined]
        return thunk

    return Method(f"dualad.compile({label})", family, COMPILED, build)


def compiled_methods(scalar: bool) -> list[Method]:
    """``compile(jvp)``, ``compile(grad)`` (``compile(vjp)``), ``compile(jacfwd)``,
    ``compile(jacrev)``."""
    return [_compiled_method(family, scalar) for family in (JVP, GRAD, JACFWD, JACREV)]


def methods(key: str, scalar: bool, peers: Peers, chunk_size: int) -> list[Method]:
    """Every method of a run: NumPy and dualad first (dualad's answers are the references),
    the derivatives written by hand, the compiled path, then the peers."""
    out = numpy_and_dualad(scalar, chunk_size)
    out += [BY_HAND[key]] if key in BY_HAND else []
    out += compiled_methods(scalar)
    if peers.jax is not None:
        out += [_jax_method(peers, family, scalar, jit)
                for family in (JVP, GRAD, JACFWD, JACREV) for jit in (False, True)]
    if peers.anp is not None:
        out += _autograd_methods(scalar)
    return out


# --------------------------------------------------------------------------- progress


class Progress:
    """A tqdm progress bar on stderr (elapsed time, ETA), one step per (workload, size).

    On a terminal tqdm redraws the bar in place and it names the method being measured;
    otherwise (a log, the test-suite) the bar draws nowhere and each finished step prints
    tqdm's line for it, so that the log has one line per step.
    """

    def __init__(self, total: int) -> None:
        self.stream = sys.stderr  # looked up now, so that pytest's capture sees it
        self.tty = self.stream.isatty()
        self._sink = None if self.tty else open(os.devnull, "w")  # closed in close()
        self.bar = tqdm(total=max(1, total), file=self._sink or self.stream, unit="step",
                        dynamic_ncols=self.tty, ascii=not self.tty, mininterval=0, miniters=1)

    def show(self, label: str) -> None:
        """Name what is being measured now (terminals only: logs get finished steps)."""
        if self.tty:
            self.bar.set_postfix_str(label)

    def step(self, label: str) -> None:
        """One step finished."""
        self.bar.set_postfix_str(f"{label} done", refresh=False)
        self.bar.update()
        if not self.tty:
            print(self.bar, file=self.stream, flush=True)  # tqdm's line, with its ETA

    def clear(self) -> None:
        """Blank the bar's line (terminals), so that a report line printed now stands alone."""
        if self.tty:
            self.bar.clear()

    def close(self) -> None:
        """Leave the finished bar on a terminal."""
        self.bar.close()
        if self._sink is not None:
            self._sink.close()


# --------------------------------------------------------------------------- report


@dataclass
class Point:
    """One measurement or a method's stop (``kind`` "stopped").

    ``kind`` is "time" (steady state), "compile" (``jax.jit``'s first call), "record" (a
    fresh ``dualad.compile`` object's first call: the recording) or "build" (its second
    call: the replay's code is generated, then run)."""

    workload: str
    size: int
    n: int
    m: int
    method: str
    family: str
    tool: str
    timing: Timing | None
    kind: str = "time"
    peak: int | None = None  # bytes allocated at most during one call (tracemalloc)
    note: str = ""
    ops: int | None = None  # dualad.compile: operations in the replayed program


@dataclass
class Goal:
    """A target: ``status`` is met, missed or info (a figure reported without threshold)."""

    name: str
    measured: str
    required: str
    status: str


@dataclass
class SweepReport(Report):
    """forward's :class:`Report` (``check``, ``notes``) plus the sweep's points."""

    points: list[Point] = field(default_factory=list)
    overhead: list[tuple[str, Timing, float, str]] = field(default_factory=list)
    overhead_ops: dict[str, int] = field(default_factory=dict)  # compiled: recorded ops
    goals: list[Goal] = field(default_factory=list)
    compiled_goals: list[Goal] = field(default_factory=list)
    stopped: set[tuple[str, str]] = field(default_factory=set)
    progress: Progress = field(init=False)

    def __post_init__(self) -> None:
        steps = sum(len(w.sizes) for w in workloads(self.cfg)) + 1  # + the overhead
        self.progress = Progress(steps)

    def series(self, workload: str, method: str) -> list[tuple[int, float]]:
        """(size, median) of a method's timed points, in size order."""
        return [(p.size, p.timing.median) for p in self.points
                if (p.workload, p.method, p.kind) == (workload, method, "time")]

    def time_at(self, workload: str, size: int, method: str, kind: str = "time"
                ) -> float | None:
        for p in self.points:
            if (p.workload, p.size, p.method, p.kind) == (workload, size, method, kind):
                return p.timing.median
        return None

    def find(self, workload: str, size: int, family: str, tool: str) -> Point | None:
        """The first timed point of a family and tool (dualad's vectorised jacfwd first)."""
        for p in self.points:
            if (p.workload, p.size, p.family, p.tool, p.kind) == (
                    workload, size, family, tool, "time"):
                return p
        return None


# --------------------------------------------------------------------------- measuring


def _predicted_bytes(wl: Workload, method: Method, p: Problem, chunk: int) -> int:
    """The largest array a method builds: all its tangents or cotangents at once."""
    width = wl.width(p.n, p.m)
    if method.family == JACFWD:
        k = chunk if "chunk" in method.name else p.n
        return 8 * k * width
    if method.family == JACREV:
        return 8 * p.m * width
    if method.family in (LOOP, FD):
        return 8 * (p.n * p.m + width)
    return 8 * width


def stop_reason(report: SweepReport, wl: Workload, method: Method, p: Problem,
                size: int) -> str:
    """Why ``method`` should not run at ``size`` ('' if it should).

    The time per call is extrapolated from the last size with the slope measured over the
    last two sizes, kept between 1 and the theoretical slope: small sizes are dominated by
    fixed costs, so the theoretical slope alone would stop a method far too early.
    """
    cfg = report.cfg
    need = _predicted_bytes(wl, method, p, cfg.chunk_size)
    if need > cfg.memory_cap:
        return f"needs ~{_fmt_bytes(need)} > {_fmt_bytes(cfg.memory_cap)} cap"
    peer = method.tool in (JAX, JIT, AUTOGRAD)
    if peer and cfg.peer_sizes > 0 and size not in wl.sizes[:cfg.peer_sizes]:
        return f"peers run at the first {cfg.peer_sizes} size(s) only in this mode"
    series = report.series(wl.key, method.name)
    if not series:
        return ""
    before, seconds = series[-1]
    observed = fitted_slope(*zip(*series[-2:])) if len(series) > 1 else 1.0
    slope = min(float(wl.slope(method.family)), max(1.0, observed))
    predicted = seconds * (size / before) ** slope
    if predicted <= cfg.time_cap:
        return ""
    return (f"predicted {_fmt_time(predicted)} per call (slope {slope:.2g} from "
            f"{wl.axis[0]}={before}) > {_fmt_time(cfg.time_cap)} cap")


def peak_bytes(fn: Callable[[], Any]) -> int:
    """The most memory ``fn`` holds at once, by :mod:`tracemalloc` (NumPy reports to it).

    >>> peak_bytes(lambda: np.ones(1000)) >= 8000
    True
    """
    # no gc.collect() first: it costs ~60 ms with JAX loaded, and only allocations made
    # after start() count anyway
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _agrees(report: SweepReport, what: str, family: str, got: Any, want: Any) -> bool:
    """Check against dualad's answer; central differences get a tolerance of their own."""
    if family != FD:
        return report.check(what, got, want)
    got, want = np.asarray(got), np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-6 * scale)
    if not ok:
        report.notes.append(f"MISMATCH: {what} disagrees with dualad beyond FD accuracy")
    return ok


def _reference_key(family: str) -> str:
    return "jac" if family in JACOBIANS else family


def _stop(report: SweepReport, wl: Workload, p: Problem, size: int, method: Method,
          answers: dict[str, Any]) -> bool:
    """Record a stop and say so when ``method`` must not run at ``size``."""
    reason = stop_reason(report, wl, method, p, size)
    checkable = method.family == F or _reference_key(method.family) in answers
    if not reason and not checkable and method.tool != DUALAD:
        reason = "no dualad answer to check against at this size"
    if reason:
        report.stopped.add((wl.key, method.name))
        report.points.append(Point(wl.key, size, p.n, p.m, method.name, method.family,
                                   method.tool, None, kind="stopped", note=reason))
    return bool(reason)


def _checked(report: SweepReport, what: str, method: Method, got: Any,
             answers: dict[str, Any]) -> bool:
    """Check ``got`` against dualad's answer; dualad's first answer of a kind becomes it."""
    if method.family == F:
        return True
    ref = _reference_key(method.family)
    if ref not in answers:
        answers[ref] = got
        return True
    return _agrees(report, what, method.family, got, answers[ref])


def run_method(report: SweepReport, wl: Workload, p: Problem, size: int, method: Method,
               answers: dict[str, Any]) -> None:
    """Check, time and weigh one method at one size, or record why it stopped."""
    if (wl.key, method.name) in report.stopped or _stop(report, wl, p, size, method, answers):
        return
    point = Point(wl.key, size, p.n, p.m, method.name, method.family, method.tool, None)
    if method.tool == COMPILED:
        thunk = _record(report, point, method, p)
    else:
        thunk = method.build(p)
    if method.tool == JIT:
        report.points.append(replace(point, timing=once(thunk), kind="compile", note=ONE_OFF))
    if not _checked(report, f"{wl.key} {wl.axis[0]}={size} {method.name}", method, thunk(),
                    answers):
        return
    point.timing = measure(thunk, report.cfg)
    if method.tool == COMPILED:
        compiled = thunk.compiled  # type: ignore[attr-defined]
        point.ops = compiled.program.n_ops
        if compiled.recordings != 1:  # a guard failed: the "replay" recorded again
            point.note = f"recorded {compiled.recordings} times"
    if method.tool in (NUMPY, DUALAD, COMPILED, AUTOGRAD):  # tracemalloc cannot see JAX's buffers
        if point.timing.median <= report.cfg.memory_time_cap:
            point.peak = peak_bytes(thunk)
        # page faults explain outliers at the largest size (see benchmarks/README.md)
        if size == wl.sizes[-1] and point.timing.median < 5e-3:
            point.note = _faults(thunk)
    report.points.append(point)


def _record(report: SweepReport, point: Point, method: Method, p: Problem
            ) -> Callable[[], Any]:
    """Time the first call (the recording) and the second (the replay's code is generated,
    then run) of ``RECORDINGS`` fresh compiled objects, medians as "record" and "build"
    points; the last object, called twice, is returned for the steady-state timing."""
    thunks = [method.build(p) for _ in range(RECORDINGS)]
    for kind in ("record", "build"):
        samples = [once(thunk).median for thunk in thunks]
        timing = Timing(statistics.median(samples), 1, len(samples), min(samples))
        report.points.append(replace(point, timing=timing, kind=kind, note=ONE_OFF))
    return thunks[-1]


def sweep(report: SweepReport, peers: Peers, wl: Workload) -> None:
    """Every method at every size of a workload, small sizes first."""
    for size in wl.sizes:
        p = wl.build(size)
        answers: dict[str, Any] = {}
        for method in methods(wl.key, p.scalar, peers, report.cfg.chunk_size):
            report.progress.show(f"{wl.key} {wl.axis[0]}={size} {method.name}")
            run_method(report, wl, p, size, method, answers)
        report.progress.step(f"{wl.key} {wl.axis[0]}={size}")
    report.progress.clear()


def _bench(key: str) -> Callable[[SweepReport, Peers], None]:
    def bench(report: SweepReport, peers: Peers) -> None:
        wl = next(w for w in workloads(report.cfg) if w.key == key)
        sweep(report, peers, wl)

    bench.__name__ = f"sweep {key}"
    return bench


# --------------------------------------------------------------------------- overhead


COMPILED_JVP = "dualad.compile(jvp) (replay)"
COMPILED_GRAD = "dualad.compile(grad) (replay)"


def _overhead_cases(peers: Peers, x: np.ndarray, v: np.ndarray) -> list[tuple]:
    """(label, thunk, note) of the micro-benchmark; NumPy's ndarray first."""
    f = functools.partial(chain10, np)
    dual = dualad.Dual(x, v[None])
    cases = [
        ("ndarray", lambda: f(x), "plain NumPy"),
        ("dualad Dual (1 direction)", lambda: f(dual), "ready-made Dual, no jvp set-up"),
        ("dualad tape", lambda: f(Tape().variable(x)), "fresh Tape per call, no backward"),
        ("dualad.jvp (whole call)", lambda: dualad.jvp(f, (x,), (v,)), "set-up included"),
        ("dualad.grad (whole call)", lambda: dualad.grad(f)(x), "forward + backward"),
    ]
    jvp_c = dualad.compile(lambda x, v: dualad.jvp(f, (x,), (v,)))
    grad_c = dualad.compile(dualad.grad(f))
    for label, compiled, args in ((COMPILED_JVP, jvp_c, (x, v)), (COMPILED_GRAD, grad_c, (x,))):
        compiled(*args)  # recorded
        compiled(*args)  # the replay's code generated
        cases.append((label, functools.partial(compiled, *args),
                      f"replay of {compiled.program.n_ops} recorded ops"))
    if peers.jax is not None:
        jax, jnp = peers.jax, peers.jnp
        xj, vj = jnp.asarray(x), jnp.asarray(v)
        fj = functools.partial(chain10, jnp)
        cases += [("JAX eager ops", lambda: _block(fj(xj)), "jax.numpy on a jax.Array"),
                  ("jax.jvp (eager)", lambda: _block(jax.jvp(fj, (xj,), (vj,))[1]), ""),
                  ("jax.grad (eager)", lambda: _block(jax.grad(fj)(xj)), "")]
    return cases


def bench_overhead(report: SweepReport, peers: Peers) -> None:
    """Per-operation cost of the 10-op chain on shape (3,): what dominates small problems."""
    rng = np.random.default_rng(3)
    x, v = rng.uniform(-1, 1, report.cfg.tiny_n), rng.standard_normal(report.cfg.tiny_n)
    base = None
    for label, thunk, note in _overhead_cases(peers, x, v):
        report.progress.show(f"overhead {label}")
        t = measure(thunk, report.cfg)
        base = base or t.median
        report.overhead.append((label, t, t.median / base, note))
        if label in (COMPILED_JVP, COMPILED_GRAD):
            report.overhead_ops[label] = thunk.func.program.n_ops
    report.progress.step("per-op overhead")
    report.progress.close()


# --------------------------------------------------------------------------- analysis


def crossings(sizes: Sequence[int], forward: Sequence[float], reverse: Sequence[float]
              ) -> list[float]:
    """Sizes where the two timings cross, interpolated on the log-log plot.

    >>> crossings([4, 8, 16], [1.0, 2.0, 4.0], [2.0, 2.0, 2.0])
    [8.0]
    >>> round(crossings([4, 16], [1.0, 4.0], [2.0, 2.0])[0], 6)
    8.0
    """
    out = []
    logs = [math.log(f / r) for f, r in zip(forward, reverse)]
    for i in range(1, len(sizes)):
        a, b = logs[i - 1], logs[i]
        if a == 0 and (i == 1 or logs[i - 2] != 0):
            out.append(float(sizes[i - 1]))
        elif a * b < 0:
            t = a / (a - b)
            out.append(float(math.exp(math.log(sizes[i - 1]) * (1 - t) + math.log(sizes[i]) * t)))
    if logs and logs[-1] == 0:
        out.append(float(sizes[-1]))
    return out


def fitted_slope(sizes: Sequence[int], times: Sequence[float]) -> float:
    """The least-squares slope of log(time) against log(size).

    >>> round(fitted_slope([10, 100, 1000], [1.0, 100.0, 1e4]), 6)
    2.0
    """
    xs, ys = np.log(np.asarray(sizes, float)), np.log(np.asarray(times, float))
    return float(np.polyfit(xs, ys, 1)[0])


def _common(report: SweepReport, wl: str, a: str, b: str) -> tuple[list, list, list]:
    """Sizes at which both methods were timed, with their times."""
    tb = dict(report.series(wl, b))
    pairs = [(s, t, tb[s]) for s, t in report.series(wl, a) if s in tb]
    return [s for s, _, _ in pairs], [t for _, t, _ in pairs], [t for _, _, t in pairs]


def _crossover_text(wl: Workload, sizes: list, fwd: list, rev: list) -> str:
    ratios = [f / r for f, r in zip(fwd, rev)]
    cross = crossings(sizes, fwd, rev)
    if wl.axis == "n=m":  # equal pass counts: the ratio hovers, sign changes are noise
        return (f"jacfwd / jacrev stays within {min(ratios):.2f}…{max(ratios):.2f} "
                f"({len(cross)} sign changes)")
    if not cross:
        return "none: " + ("reverse" if ratios[-1] > 1 else "forward") + " faster throughout"
    return ", ".join(f"{wl.axis[0]} ≈ {c:.3g}" for c in cross)


def crossover_rows(report: SweepReport) -> list[list[str]]:
    """Per workload: theory, and where dualad's jacfwd and jacrev measure the same."""
    rows = []
    for wl in workloads(report.cfg):
        sizes, fwd, rev = _common(report, wl.key, "dualad.jacfwd", "dualad.jacrev")
        if not sizes:
            continue
        ratio = f"{fwd[0] / rev[0]:.3g} at {sizes[0]} → {fwd[-1] / rev[-1]:.3g} at {sizes[-1]}"
        rows.append([wl.title, wl.theory, _crossover_text(wl, sizes, fwd, rev), ratio])
    return rows


def slope_rows(report: SweepReport, last: int = 3) -> list[list[str]]:
    """Fitted log-log slope over each dualad/NumPy method's largest sizes, against theory."""
    rows = []
    for wl in workloads(report.cfg):
        for method in numpy_and_dualad(wl.key in ("rosenbrock", "mlp"), report.cfg.chunk_size):
            series = report.series(wl.key, method.name)[-last:]
            if len(series) < 2:
                continue
            sizes, times = zip(*series)
            got = fitted_slope(sizes, times)
            span = f"{wl.axis[0]} = {sizes[0]} … {sizes[-1]}"
            rows.append([wl.key, method.name, str(wl.slope(method.family)), f"{got:.2f}", span])
    return rows


# --------------------------------------------------------------------------- targets

PEER_FAMILIES = (JVP, GRAD, JACFWD, JACREV)
SMALL = 1024  # "at every n up to 1024"


def _ratios(report: SweepReport, family: str, tool: str, limit: int | None = SMALL,
            workload: str | None = None) -> list[tuple[float, str, int]]:
    """(peer time / dualad time, workload, size) wherever both ran (sizes <= limit)."""
    out = []
    for p in report.points:
        if p.kind != "time" or p.family != family or p.tool != tool:
            continue
        if (limit is not None and p.size > limit) or workload not in (None, p.workload):
            continue
        ours = report.find(p.workload, p.size, family, DUALAD)
        if ours is not None:
            out.append((p.timing.median / ours.timing.median, p.workload, p.size))
    return out


def _sizes_text(chosen: Sequence[int], measured: Sequence[int]) -> str:
    """Sizes as ranges of consecutive measured sizes.

    >>> _sizes_text([8, 16, 32, 128], [4, 8, 16, 32, 64, 128]), _sizes_text([], [4])
    ('8…32, 128', 'none')
    """
    runs: list[list[int]] = []
    for size in chosen:
        at = measured.index(size)
        if runs and measured.index(runs[-1][-1]) == at - 1:
            runs[-1].append(size)
        else:
            runs.append([size])
    parts = [f"{r[0]}…{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs]
    return ", ".join(parts) or "none"


def _worst(ratios: list[tuple[float, str, int]]) -> str:
    if not ratios:
        return "—"
    worst, _, size = min(ratios)
    return f"{worst:.3g}× (at {size})"


def _jit_cells(report: SweepReport, wl: str, family: str) -> list[str]:
    ratios = sorted(_ratios(report, family, JIT, None, wl), key=lambda r: r[2])
    sizes = [r[2] for r in ratios]
    wins = [r for r in ratios if r[0] < 1]
    best = f"{1 / min(wins)[0]:.3g}× (at {min(wins)[2]})" if wins else "—"
    compiles = [p.timing.median for p in report.points if (p.workload, p.family, p.kind)
                == (wl, family, "compile")]
    return [_sizes_text([r[2] for r in wins], sizes), best,
            _fmt_time(float(np.median(compiles))) if compiles else ""]


def peer_rows(report: SweepReport) -> list[list[str]]:
    """Per workload and transform: eager JAX and autograd against dualad, and jax.jit."""
    rows = []
    for wl in workloads(report.cfg):
        for family in PEER_FAMILIES:
            jit = _jit_cells(report, wl.key, family)
            eager = _ratios(report, family, JAX, SMALL, wl.key)
            autograd = _ratios(report, family, AUTOGRAD, SMALL, wl.key)
            if eager or autograd or jit[0] != "none" or jit[2]:
                rows.append([wl.key, family, _worst(eager), _worst(autograd), *jit])
    return rows


def _goal(report: SweepReport, name: str, measured: str, required: str,
          ok: bool | None) -> None:
    status = "info" if ok is None else ("met" if ok else "missed")
    report.goals.append(Goal(name, measured, required, status))


def _target_ratio_to_f(report: SweepReport, wl: str, sizes: Sequence[int], method: str,
                       limit: float) -> None:
    size = max(sizes)
    t, base = report.time_at(wl, size, method), report.time_at(wl, size, "numpy f")
    if t and base:
        notes = [p.note for p in report.points if (p.workload, p.size, p.method, p.kind) ==
                 (wl, size, method, "time") and p.note]
        _goal(report, f"{wl}: {method} / numpy f, n = {size}" + "".join(
              f" ({note})" for note in notes), f"{t / base:.2f}x", f"<= {limit:g}x",
              t / base <= limit)


def _target_loop(report: SweepReport) -> None:
    """Vectorised jacfwd against the column loop at n = 1024 (or the largest size both ran);
    the chunked jacfwd's figure is given beside it."""
    chunked = f"dualad.jacfwd(chunk_size={report.cfg.chunk_size})"
    for wl in workloads(report.cfg):
        sizes, loop, fwd = _common(report, wl.key, "loop of n dualad.jvp", "dualad.jacfwd")
        if not sizes or wl.axis == "m":
            continue
        i = sizes.index(SMALL) if SMALL in sizes else len(sizes) - 1
        speedup = loop[i] / fwd[i]
        other = report.time_at(wl.key, sizes[i], chunked)
        aside = f" (chunk_size={report.cfg.chunk_size}: {loop[i] / other:.1f}x)" if other else ""
        _goal(report, f"{wl.key}: loop of n jvp / vectorised jacfwd, n = {sizes[i]}",
              f"{speedup:.1f}x{aside}", ">= 5x", speedup >= 5)


def _target_peers(report: SweepReport) -> None:
    """dualad faster than eager JAX and autograd at every n <= 1024, per transform."""
    for tool, label in ((JAX, "eager JAX"), (AUTOGRAD, "autograd")):
        for family in PEER_FAMILIES:
            ratios = _ratios(report, family, tool)
            if not ratios:
                continue
            worst, wl, size = min(ratios)
            _goal(report, f"{label} / dualad, {family}, every workload, n <= {SMALL} "
                  f"({len(ratios)} points; worst: {wl} at {size})", f"{worst:.2f}x",
                  "> 1x", worst > 1)


def _target_jit(report: SweepReport) -> None:
    """Where jax.jit beats dualad and by how much (reported, no threshold)."""
    for family in PEER_FAMILIES:
        ratios = _ratios(report, family, JIT, limit=None)
        if not ratios:
            continue
        wins = sorted(r for r in ratios if r[0] < 1)
        losses = sorted((r for r in ratios if r[0] >= 1), reverse=True)
        compile_times = [p.timing.median for p in report.points
                         if p.kind == "compile" and p.family == family]
        measured = f"jit faster at {len(wins)}/{len(ratios)} points"
        if wins:
            measured += f", by up to {1 / wins[0][0]:.1f}x ({wins[0][1]} at {wins[0][2]})"
        if losses:
            measured += (f"; dualad faster at {len(losses)}, by up to {losses[0][0]:.1f}x "
                         f"({losses[0][1]} at {losses[0][2]})")
        measured += f"; compile median {_fmt_time(float(np.median(compile_times)))}"
        _goal(report, f"jax.jit({family}) vs dualad.{family}", measured, "report", None)


# --------------------------------------------------------------------------- compiled path

HAND_GRAD_FROM = 2**14  # compile(grad) of Rosenbrock against the gradient written by hand
HAND_JVP_AT = 2**20  # compile(jvp) of the elementwise chain against the JVP by hand


def _compiled_goal(report: SweepReport, name: str, ratio: float | None, required: str,
                   limit: float | None, missing: str = "not measured in this run") -> None:
    """One line of the compiled path's summary (``limit`` None: reported, no threshold)."""
    if ratio is None:
        report.compiled_goals.append(Goal(name, missing, required, "n/a"))
        return
    status = "info" if limit is None else ("met" if ratio <= limit else "missed")
    report.compiled_goals.append(Goal(name, f"{ratio:.2f}x", required, status))


def _over(report: SweepReport, wl: str, size: int, ours: str, ref: str) -> float | None:
    """time of ``ours`` / time of ``ref`` at one point (None unless both were timed)."""
    t, base = report.time_at(wl, size, ours), report.time_at(wl, size, ref)
    return t / base if t and base else None


def _against(report: SweepReport, tool: str, kind: str = "time"
             ) -> list[tuple[float, Point]]:
    """(compiled time of ``kind`` / the same transform's time by ``tool``, point)."""
    out = []
    for p in report.points:
        if p.tool == COMPILED and p.kind == kind:
            other = report.find(p.workload, p.size, p.family, tool)
            if other is not None:
                out.append((p.timing.median / other.timing.median, p))
    return out


def small_points(report: SweepReport, kind: str = "time") -> list[Point]:
    """The compiled points on small arrays: each workload's smallest size, except the
    many-outputs workload (its 256 inputs make jacfwd's tangents 256 x 256 at every m)."""
    return [p for wl in workloads(report.cfg) if wl.axis != "m" for p in report.points
            if (p.workload, p.tool, p.kind, p.size) == (wl.key, COMPILED, kind, wl.sizes[0])]


def replay_per_op(report: SweepReport) -> list[tuple[str, float, int]]:
    """(what, replay seconds, recorded ops) on small arrays: the overhead chain on shape
    (3,), and every compiled transform at the small points of the sweep."""
    rows = [(f"chain of {CHAIN_OPS} ops, shape ({report.cfg.tiny_n},): {label}",
             t.median, report.overhead_ops[label])
            for label, t, _, _ in report.overhead if label in report.overhead_ops]
    rows += [(f"{p.workload} n={p.size}: {p.method}", p.timing.median, p.ops)
             for p in small_points(report) if p.ops]
    return rows


def _where(p: Point) -> str:
    return f"{p.method}, {p.workload} at {p.size}"


def _target_compiled(report: SweepReport) -> None:
    """The compiled path's figures: against jax.jit and the derivatives written by hand,
    replay per recorded operation, recording against an eager call, and across the sweep."""
    grad, jvp = "dualad.compile(grad)", "dualad.compile(jvp)"
    _compiled_goal(report, "rosenbrock n = 8: compile(grad) / jax.jit(grad)",
                   _over(report, "rosenbrock", 8, grad, "jax.jit(grad)"), "<= 2x", 2)
    big = [n for n in report.cfg.scalar_sizes if n >= HAND_GRAD_FROM] or [HAND_GRAD_FROM]
    for n in big:
        _compiled_goal(report, f"rosenbrock n = {n}: compile(grad) / numpy grad by hand",
                       _over(report, "rosenbrock", n, grad, "numpy grad by hand"),
                       "<= 1.5x", 1.5)
    _compiled_goal(report, f"elementwise n = {HAND_JVP_AT}: compile(jvp) / numpy jvp by hand",
                   _over(report, "elementwise", HAND_JVP_AT, jvp, "numpy jvp by hand"),
                   "<= 1x", 1)
    per_op = replay_per_op(report)
    if per_op:
        worst = max(per_op, key=lambda r: r[1] / r[2])
        median = statistics.median(t / ops for _, t, ops in per_op)
        report.compiled_goals.append(Goal(
            f"replay time / recorded ops, small arrays ({len(per_op)} programs; worst: "
            f"{worst[0]}, {worst[2]} ops)", f"worst {_fmt_time(worst[1] / worst[2])}, median "
            f"{_fmt_time(median)}", "<= 1 µs", "met" if worst[1] / worst[2] <= 1e-6
            else "missed"))
    small = {(p.workload, p.size, p.method) for p in small_points(report, "record")}
    for kind, what, limit, only_small in (
            ("record", "first call (recording)", 3.0, True),
            ("record", "first call (recording)", 3.0, False),
            ("build", "second call (code generation + replay)", None, False)):
        ratios = [(r, p) for r, p in _against(report, DUALAD, kind)
                  if not only_small or (p.workload, p.size, p.method) in small]
        if ratios:
            worst, at = max(ratios, key=lambda r: r[0])
            median = statistics.median(r for r, _ in ratios)
            where = "small arrays" if only_small else "every point"
            report.compiled_goals.append(Goal(
                f"{what} / one eager call of the transform, {where} ({len(ratios)} points; "
                f"worst: {_where(at)})", f"worst {worst:.2f}x, median {median:.2f}x",
                "<= 3x" if limit else "report",
                "info" if limit is None else ("met" if worst <= limit else "missed")))
    ratios = _against(report, DUALAD)
    if ratios:
        faster = sum(r < 1 for r, _ in ratios)
        worst, at = max(ratios, key=lambda r: r[0])
        report.compiled_goals.append(Goal(
            "replay faster than eager dualad (same transform), every point",
            f"faster at {faster}/{len(ratios)} points; slowest: {worst:.2f}x eager "
            f"({_where(at)})", "every point", "met" if faster == len(ratios) else "missed"))
    ratios = _against(report, JIT)
    if ratios:
        wins = sorted((r, p) for r, p in ratios if r < 1)
        measured = f"faster at {len(wins)}/{len(ratios)} points"
        if wins:
            measured += f", by up to {1 / wins[0][0]:.1f}x ({_where(wins[0][1])})"
        report.compiled_goals.append(Goal("replay against jax.jit (same transform)",
                                          measured, "report", "info"))


def compiled_rows(report: SweepReport) -> list[list[str]]:
    """Per workload and transform: replay against eager dualad and jax.jit, recording
    against an eager call, operations replayed."""
    rows = []
    for wl in workloads(report.cfg):
        for family in PEER_FAMILIES:
            eager = [(r, p) for r, p in _against(report, DUALAD)
                     if (p.workload, p.family) == (wl.key, family)]
            if not eager:
                continue
            jit = [(r, p.size) for r, p in _against(report, JIT)
                   if (p.workload, p.family) == (wl.key, family)]
            record = [r for r, p in _against(report, DUALAD, "record")
                      if (p.workload, p.family) == (wl.key, family)]
            speedups = [1 / r for r, _ in eager]
            measured = [s for _, s in jit]
            rows.append([
                wl.key, eager[0][1].method,
                f"{min(speedups):.3g}…{max(speedups):.3g}× "
                f"({sum(s > 1 for s in speedups)}/{len(speedups)} faster)",
                _sizes_text([s for r, s in jit if r < 1], measured) if jit else "—",
                f"{statistics.median(record):.3g}× (worst {max(record):.3g}×)" if record else "",
                str(eager[-1][1].ops or ""),
            ])
    return rows


def render_compiled(report: SweepReport) -> list[str]:
    """The compiled path's section: the summary, per-workload figures, replay per op."""
    parts = ["## The compiled path: dualad.compile", "",
             f"Replay: steady state after the first two calls. Recording: the first call of "
             f"a fresh `dualad.compile` object, median of {RECORDINGS} objects (the second "
             f"call, which generates the replay's code, is timed apart). *eager*: the same "
             f"transform without `dualad.compile` (`dualad.jacfwd`: vectorised).", "",
             _markdown_table(("figure", "measured", "target", "status"),
                             [(g.name, g.measured, g.required, g.status)
                              for g in report.compiled_goals]), ""]
    rows = compiled_rows(report)
    if rows:
        parts += [_markdown_table(("workload", "compiled", "speedup over eager dualad",
                                   "faster than jax.jit at", "recording / eager call",
                                   "ops replayed (largest size)"), rows), ""]
    per_op = replay_per_op(report)
    if per_op:
        parts += ["Replay per recorded operation on small arrays:", "",
                  _markdown_table(("program", "replay", "ops", "per op"),
                                  [(what, _fmt_time(t), str(ops), _fmt_time(t / ops))
                                   for what, t, ops in per_op]), ""]
    return parts


def evaluate(report: SweepReport) -> None:
    """Fill the targets section."""
    cfg = report.cfg
    _target_ratio_to_f(report, "rosenbrock", cfg.scalar_sizes, "dualad.grad", 5)
    _target_ratio_to_f(report, "elementwise", cfg.elementwise_sizes, "dualad.jvp", 3)
    _target_loop(report)
    _target_peers(report)
    _target_jit(report)
    _target_compiled(report)
    if _matplotlib_missing():
        report.notes.append(f"plots not drawn: {_matplotlib_missing()}")
    stops = [p for p in report.points if p.kind == "stopped"]
    report.notes.append(f"{len(stops)} methods stopped before the end of their sweep "
                        "(caps: time per call predicted from the last size and the "
                        "theoretical slope; size of the largest tangent/cotangent array)")


# --------------------------------------------------------------------------- markdown


def _fmt_bytes(n: float | None) -> str:
    """Bytes in binary units.

    >>> _fmt_bytes(3 * 2**20), _fmt_bytes(512)
    ('3 MiB', '512 B')
    """
    if n is None:
        return ""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def _cell(report: SweepReport, wl: str, size: int, method: str, what: str) -> str:
    for p in report.points:
        if (p.workload, p.size, p.method) != (wl, size, method):
            continue
        if p.kind == "stopped":
            return "stopped" if what == "time" else ""
        if what == "compile" and p.kind == "compile":
            return _fmt_time(p.timing.median)
        if what in ("record", "build") and p.kind == what:
            eager = report.find(wl, size, p.family, DUALAD)
            t = p.timing.median
            return _fmt_time(t) + (f" ({t / eager.timing.median:.3g}×)" if eager else "")
        if what == "peak" and p.kind == "time":
            return _fmt_bytes(p.peak)
        if what == "time" and p.kind == "time":
            base = report.time_at(wl, size, "numpy f")
            t = p.timing.median
            return _fmt_time(t) + (f" ({t / base:.3g}×)" if base and method != "numpy f" else "")
    return ""


def _pivot(report: SweepReport, wl: Workload, names: Sequence[str], what: str) -> str:
    names = [n for n in names if any(p.workload == wl.key and p.method == n
                                     for p in report.points)]
    if not names:
        return ""
    seen = sorted({p.size for p in report.points if p.workload == wl.key})
    rows = [[str(s)] + [_cell(report, wl.key, s, n, what) for n in names] for s in seen]
    return _markdown_table([wl.axis[0] if wl.axis != "n=m" else "n"] + list(names), rows)


def _method_names(report: SweepReport, wl: Workload, tools: Sequence[str]) -> list[str]:
    names: list[str] = []
    for p in report.points:
        if p.workload == wl.key and p.tool in tools and p.method not in names:
            names.append(p.method)
    return names


def render_workload(report: SweepReport, wl: Workload) -> list[str]:
    """A workload's plot, its time tables (× NumPy's f), compile times, memory, stops."""
    ours, compiled, peers = (_method_names(report, wl, tools) for tools in
                             ((NUMPY, DUALAD), (COMPILED,), (JAX, JIT, AUTOGRAD)))
    parts = [f"### {wl.title}", "", f"![{wl.key}]({NAME}.{wl.key}.png)", ""]
    recording = (f"dualad.compile: first call, the recording (median of {RECORDINGS} fresh "
                 f"objects; × one eager call of the transform)")
    for title, names, what in (("Time per call (× NumPy f)", ours, "time"),
                               ("dualad.compile: replay (× NumPy f)", compiled, "time"),
                               (recording, compiled, "record"),
                               ("dualad.compile: second call, code generation + replay "
                                "(× one eager call)", compiled, "build"),
                               ("Peers: time per call (× NumPy f)", peers, "time"),
                               ("jax.jit: trace + compile (one-off)",
                                [n for n in peers if n.startswith("jax.jit")], "compile"),
                               ("Peak memory of one call (tracemalloc; JAX's is not visible "
                                "to it)", [n for n in ours + compiled + peers
                                            if not n.startswith("jax")],
                                "peak")):
        table = _pivot(report, wl, names, what)
        if table:
            parts += [f"{title}:", "", table, ""]
    stops = [p for p in report.points if p.workload == wl.key and p.kind == "stopped"]
    parts += [f"- *{p.method}* stopped at {wl.axis[0]} = {p.size}: {p.note}" for p in stops]
    return parts + ([""] if stops else [])


def render_overhead(report: SweepReport) -> list[str]:
    rows = [[label, _fmt_time(t.median), _fmt_time(t.median / CHAIN_OPS), f"{ratio:.3g}",
             note] for label, t, ratio, note in report.overhead]
    return [f"## Per-operation overhead: chain of {CHAIN_OPS} ops on shape "
            f"({report.cfg.tiny_n},)", "",
            _markdown_table(("what", "median", "per op", "× ndarray", "note"), rows), ""]


def render_header(info: list[tuple[str, str]], command: str, quick: bool) -> str:
    parts = ["# dualad forward vs reverse benchmark", "",
             f"`{command}`" + (" (quick: tiny sizes, indicative only)" if quick else ""), ""]
    parts += [f"- **{key}**: {value}" for key, value in info]
    return "\n".join(parts) + "\n"


LEGEND = (
    "Median time per call after a warm-up; *× NumPy f* = time / plain NumPy `f` at the same "
    "size. *stopped*: the method's predicted time per call or array size passed the run's "
    "cap (the reason follows each table); compile times of `jax.jit` are one-off and out of "
    "the ratios. Every derivative was checked against dualad's before it was timed (central "
    "differences with rtol 1e-4)."
)


def render_body(report: SweepReport) -> str:
    parts = [LEGEND, "", "![overview](forward_vs_reverse.png)", "", "## Targets", ""]
    parts += [_markdown_table(("target", "measured", "required", "status"),
                              [(g.name, g.measured, g.required, g.status)
                               for g in report.goals]), ""]
    parts += render_compiled(report)
    parts += ["## dualad against its peers (ratios: peer time / dualad time, above 1: "
              "dualad faster)", "",
              _markdown_table(("workload", "transform", f"eager JAX, worst at n <= {SMALL}",
                               f"autograd, worst at n <= {SMALL}", "jax.jit faster at",
                               "jax.jit's best speedup", "jit compile (median)"),
                              peer_rows(report)), "",
              "autograd has no forward-mode Jacobian: its `jacobian` is reverse mode and is "
              "compared with `jacrev`; its `make_jvp` is compared with `jvp`.", ""]
    parts += ["## Forward against reverse Jacobians: the crossover", "",
              _markdown_table(("workload", "theory (lecture)", "measured: dualad.jacfwd = "
                               "dualad.jacrev", "jacfwd / jacrev"), crossover_rows(report)), ""]
    parts += ["## Scaling: fitted log-log slope over the largest three sizes", "",
              _markdown_table(("workload", "method", "theory", "measured", "sizes"),
                              slope_rows(report)), ""]
    if report.overhead:
        parts += render_overhead(report)
    parts += ["## Sweeps", ""]
    for wl in workloads(report.cfg):
        parts += render_workload(report, wl)
    if report.notes:
        parts += ["## Notes", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- files


CSV_HEADER = ["workload", "size", "n", "m", "method", "family", "tool", "kind", "median_s",
              "best_s", "ratio_numpy_f", "peak_bytes", "repeats", "number", "note", "ops"]


def _csv_rows(report: SweepReport) -> list[list[Any]]:
    rows = []
    for p in report.points:
        t = p.timing
        base = report.time_at(p.workload, p.size, "numpy f") if p.kind == "time" else None
        rows.append([p.workload, p.size, p.n, p.m, p.method, p.family, p.tool, p.kind,
                     "" if t is None else f"{t.median:.6e}",
                     "" if t is None or t.best is None else f"{t.best:.6e}",
                     "" if not base or t is None else f"{t.median / base:.4f}",
                     "" if p.peak is None else p.peak,
                     "" if t is None else t.repeats, "" if t is None else t.number, p.note,
                     "" if p.ops is None else p.ops])
    for label, t, ratio, note in report.overhead:
        rows.append(["overhead", report.cfg.tiny_n, report.cfg.tiny_n, "", label, "chain10",
                     "", "time", f"{t.median:.6e}", f"{t.best:.6e}", f"{ratio:.4f}", "",
                     t.repeats, t.number, note, report.overhead_ops.get(label, "")])
    return rows


def write_files(report: SweepReport, path: str) -> None:
    """The CSV at ``path`` and, beside it, the plots (when matplotlib is importable)."""
    import csv

    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_HEADER)
        writer.writerows(_csv_rows(report))
    if _matplotlib_missing():
        print(f"plots skipped: {_matplotlib_missing()}")
        return
    written = write_plots(report, os.path.dirname(path) or ".")
    print("wrote " + ", ".join(os.path.basename(w) for w in written))


# --------------------------------------------------------------------------- plots

FAMILY_COLOURS = {F: "black", JVP: "tab:blue", GRAD: "tab:green", JACFWD: "tab:orange",
                  JACREV: "tab:red", LOOP: "tab:purple", FD: "tab:brown"}
TOOL_STYLES = {NUMPY: "-", DUALAD: "-", COMPILED: "-", JAX: "--", JIT: ":", AUTOGRAD: "-."}
LABEL_BOX = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1}


def _matplotlib_missing() -> str:
    """Why plots cannot be drawn ('' when they can)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not importable (pip install -e '.[bench]')"
    return ""


def _plot_series(ax: Any, report: SweepReport, wl: Workload, names: Sequence[str]) -> None:
    for name in names:
        series = report.series(wl.key, name)
        if not series:
            continue
        p = next(q for q in report.points if q.workload == wl.key and q.method == name)
        sizes, times = zip(*series)
        marker = ("s" if "chunk" in name else "^" if p.tool == COMPILED else
                  "x" if "by hand" in name else "o" if p.tool in (NUMPY, DUALAD) else ".")
        colour = "goldenrod" if "chunk" in name else FAMILY_COLOURS[p.family]
        ax.plot(sizes, times, TOOL_STYLES[p.tool], marker=marker, markersize=3,
                color=colour, label=name, linewidth=1.2)


def _plot_slopes(ax: Any, report: SweepReport, wl: Workload) -> None:
    """Grey guides of the theoretical slopes, through the last point of a dualad method."""
    drawn = set()
    for method in numpy_and_dualad(wl.key in ("rosenbrock", "mlp"), report.cfg.chunk_size):
        slope, series = wl.slope(method.family), report.series(wl.key, method.name)
        if slope in drawn or len(series) < 2:
            continue
        drawn.add(slope)
        (s0, _), (s1, t1) = series[max(0, len(series) - 4)], series[-1]
        xs = np.array([s0, s1], float)
        ax.plot(xs, t1 * (xs / s1) ** slope, color="grey", linewidth=4, alpha=0.35)
        ax.annotate(f"∝ {wl.axis[0]}^{slope}", (s1, t1), fontsize=7, color="dimgrey",
                    xytext=(4, -8), textcoords="offset points")


def _plot_crossover(ax: Any, report: SweepReport, wl: Workload) -> None:
    """The measured crossover of jacfwd and jacrev (olive) and the lecture's (grey)."""
    if wl.cross_at is not None:
        ax.axvline(wl.cross_at, color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"theory\n{wl.axis[0]} = {wl.cross_at}", (wl.cross_at, 0.9),
                    xycoords=("data", "axes fraction"), fontsize=7, color="dimgrey",
                    xytext=(-3, 0), textcoords="offset points", ha="right", bbox=LABEL_BOX)
    sizes, fwd, rev = _common(report, wl.key, "dualad.jacfwd", "dualad.jacrev")
    if not sizes or wl.axis == "n=m":  # equal pass counts: crossings there are noise
        return
    for c in crossings(sizes, fwd, rev):
        ax.axvline(c, color="tab:olive", linestyle="--", linewidth=1)
        ax.annotate(f"jacfwd = jacrev\n{wl.axis[0]} ≈ {c:.3g}", (c, 0.02),
                    xycoords=("data", "axes fraction"), fontsize=7, color="tab:olive",
                    xytext=(3, 0), textcoords="offset points", bbox=LABEL_BOX)


def _axes(ax: Any, report: SweepReport, wl: Workload, names: Sequence[str]) -> None:
    _plot_series(ax, report, wl, names)
    _plot_slopes(ax, report, wl)
    _plot_crossover(ax, report, wl)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_title(wl.title, fontsize=9)
    ax.set_xlabel(f"{wl.axis[0]} ({'outputs' if wl.axis == 'm' else 'inputs'})", fontsize=8)
    ax.set_ylabel("seconds per call", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, which="major", alpha=0.3)


def write_plots(report: SweepReport, out: str) -> list[str]:
    """One log-log PNG per workload (every method) and an overview of dualad's methods."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    loads = [w for w in workloads(report.cfg) if report.series(w.key, "numpy f")]
    for wl in loads:
        fig, ax = plt.subplots(figsize=(9, 5.5))
        _axes(ax, report, wl, _method_names(report, wl, (NUMPY, DUALAD, COMPILED, JAX, JIT,
                                                          AUTOGRAD)))
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        written.append(os.path.join(out, f"{NAME}.{wl.key}.png"))
        fig.savefig(written[-1], dpi=90, bbox_inches="tight")
        plt.close(fig)
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), squeeze=False)
    for ax, wl in zip(axes.flat, loads):
        _axes(ax, report, wl, _method_names(report, wl, (NUMPY, DUALAD)))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    labels = [label.replace("dualad.grad", "dualad.grad (vjp for R^m)") for label in labels]
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.suptitle("dualad: time per call against size (log-log); grey: theoretical slopes")
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    written.append(os.path.join(out, f"{NAME}.png"))
    fig.savefig(written[-1], dpi=90)
    plt.close(fig)
    return written


# --------------------------------------------------------------------------- main


BENCHES = tuple(_bench(w.key) for w in workloads(QUICK)) + (bench_overhead,)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.forward_vs_reverse [--quick] [--out DIR] [--no-peers]``."""
    return run_suite(
        NAME, argv, description=__doc__.split("\n", 1)[0], full=FULL, quick=QUICK,
        report_class=SweepReport, benches=BENCHES, evaluate=evaluate,
        header=render_header, body=render_body, csv_writer=write_files,
    )


if __name__ == "__main__":
    raise SystemExit(main())
