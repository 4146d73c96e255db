"""Real-model benchmark: gradients of model code written in plain NumPy/SciPy.

Usage (from the repository root)::

    python -m benchmarks.models            # full run, about a minute
    python -m benchmarks.models --quick    # tiny sizes, a few seconds (used by the tests)
    python -m benchmarks.models --out DIR  # also write DIR/models.md and DIR/models.csv

The workloads are the code a scientist writes, each once for a NumPy-like namespace and the
matching ``logsumexp`` (``scipy.special``'s for NumPy and dualad, ``autograd.scipy.special``'s,
``jax.scipy.special``'s), and differentiated with ``value_and_grad`` in its flattened
parameters:

1. a softmax classifier (multinomial logistic regression) with a ``logsumexp`` loss;
2. a recurrent network (tanh RNN) unrolled over a Python loop of time steps;
3. a Gaussian mixture's negative log-likelihood (``logsumexp`` over components).

Each row is timed as :mod:`benchmarks.reverse` times (the machinery of
:mod:`benchmarks.forward`): plain NumPy ``f``, dualad's ``value_and_grad``, and, when
importable, autograd's ``value_and_grad`` and JAX's (eager and under ``jax.jit``, compile time
on its own row); the softmax classifier also has its gradient written by hand. Every peer's
gradient is checked against dualad's before it is timed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

import dualad
import dualad.scipy
from benchmarks.forward import (
    COLUMNS,
    Config,
    Peers,
    _block,
    _markdown_table,
    measure,
    once,
    render_header,
    run_suite,
    table_rows,
)
from benchmarks.reverse import COMPILE, ONE_OFF, ReverseReport, write_csv

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ModelConfig(Config):
    """:class:`benchmarks.forward.Config` plus each model's sizes (as (name, value) pairs)."""

    classifier: tuple[tuple[int, int, int], ...] = ()  # (samples, features, classes)
    rnn: tuple[tuple[int, int, int], ...] = ()  # (steps, inputs, hidden)
    mixture: tuple[tuple[int, int], ...] = ()  # (samples, components)


_TIMING = dict(tiny_n=0, elementwise_n=0, rosenbrock_sizes=(), jac_n=0)
FULL = ModelConfig(
    quick=False, sample_time=0.02, budget=0.6, min_repeats=5, max_repeats=40, **_TIMING,
    classifier=((64, 8, 3), (2000, 64, 10)), rnn=((20, 4, 16), (100, 8, 64)),
    mixture=((200, 3), (20000, 8)),
)
QUICK = ModelConfig(
    quick=True, sample_time=5e-4, budget=0.005, min_repeats=3, max_repeats=5, **_TIMING,
    classifier=((16, 4, 3),), rnn=((5, 3, 4),), mixture=((20, 3),),
)

CLASSIFIER = "1 softmax classifier"
RNN = "2 tanh RNN"
MIXTURE = "3 gaussian mixture"

NUMPY_F = "numpy f"
NUMPY_F_SCIPY = "numpy f, scipy's logsumexp"
BY_HAND = "numpy grad by hand"
DUALAD = "dualad.value_and_grad"
DUALAD_READ_ONLY = "dualad.value_and_grad, read-only data"
AUTOGRAD = "autograd value_and_grad"
JAX_EAGER = "jax.value_and_grad (eager)"
JAX_JIT = "jax.jit(value_and_grad)"


# --------------------------------------------------------------------------- the models
# Each takes ``ns`` (a namespace with ``np`` and ``logsumexp``), the flat parameters and the
# data, as a user's code would once the parameters are unpacked.


def softmax_classifier(ns: Any, theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """Mean cross-entropy of a linear softmax classifier, ``theta`` = (W, b) flattened."""
    np_ = ns.np
    d, c = X.shape[1], int(y.max()) + 1
    W = np_.reshape(theta[: d * c], (d, c))
    b = theta[d * c:]
    logits = X @ W + b
    picked = logits[np_.arange(X.shape[0]), y]
    return np_.mean(ns.logsumexp(logits, axis=1) - picked)


def softmax_classifier_grad_by_hand(theta: np.ndarray, X: np.ndarray,
                                    y: np.ndarray) -> np.ndarray:
    """The classifier's gradient in NumPy: ``X^T (softmax - onehot) / N`` and its column sums."""
    n, d = X.shape
    c = int(y.max()) + 1
    logits = X @ theta[: d * c].reshape(d, c) + theta[d * c:]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), y] -= 1.0
    p /= n
    return np.concatenate([(X.T @ p).ravel(), p.sum(axis=0)])


def rnn_loss(ns: Any, theta: Any, xs: np.ndarray, target: np.ndarray) -> Any:
    """Squared error of a tanh RNN's last hidden state read out linearly; a Python loop."""
    np_ = ns.np
    steps, n_in = xs.shape
    h_size = target.shape[0]
    sizes = (h_size * h_size, h_size * n_in, h_size)
    W = np_.reshape(theta[: sizes[0]], (h_size, h_size))
    U = np_.reshape(theta[sizes[0]: sizes[0] + sizes[1]], (h_size, n_in))
    b = theta[sizes[0] + sizes[1]:]
    h = np_.zeros(h_size)
    for t in range(steps):
        h = np_.tanh(W @ h + U @ xs[t] + b)
    return np_.sum((h - target) ** 2)


def mixture_nll(ns: Any, theta: Any, x: np.ndarray) -> Any:
    """Negative log-likelihood of a 1-D Gaussian mixture; theta = (logits, means, log sds)."""
    np_ = ns.np
    k = theta.shape[0] // 3
    logits, means, log_sd = theta[:k], theta[k: 2 * k], theta[2 * k:]
    log_w = logits - ns.logsumexp(logits)
    z = (x[:, None] - means) / np_.exp(log_sd)
    log_pdf = -0.5 * z * z - log_sd - 0.5 * np_.log(2 * np_.pi)
    return -np_.sum(ns.logsumexp(log_w + log_pdf, axis=1))


# --------------------------------------------------------------------------- namespaces


def _numpy_ns() -> Any:
    """NumPy with ``logsumexp`` written in NumPy: the floor ``f`` (SciPy's own is slower)."""
    return SimpleNamespace(np=np, logsumexp=_logsumexp_numpy)


def _scipy_ns() -> Any:
    from scipy.special import logsumexp

    return SimpleNamespace(np=np, logsumexp=logsumexp)


def _logsumexp_numpy(a: Any, axis: int | None = None) -> Any:
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _autograd_ns(peers: Peers) -> Any:
    if peers.anp is None:
        return None
    from autograd.scipy.special import logsumexp

    return SimpleNamespace(np=peers.anp, logsumexp=logsumexp)


def _jax_ns(peers: Peers) -> Any:
    if peers.jax is None:
        return None
    from jax.scipy.special import logsumexp

    return SimpleNamespace(np=peers.jnp, logsumexp=logsumexp)


# --------------------------------------------------------------------------- timing


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``."""
    a = np.array(a)
    a.flags.writeable = False
    return a


def _bench(report: ReverseReport, peers: Peers, name: str, n: int, model: Callable,
           theta: np.ndarray, data: tuple, by_hand: Callable | None = None,
           logsumexp: bool = True) -> None:
    """Time value_and_grad of ``model(ns, theta, *data)`` in every library at hand."""
    cfg = report.cfg
    f = functools.partial(model, _numpy_ns())
    report.add(name, n, NUMPY_F, measure(lambda: f(theta, *data), cfg), role="numpy",
               note="logsumexp in NumPy" if logsumexp else "")
    if logsumexp:
        f_scipy = functools.partial(model, _scipy_ns())
        report.add(name, n, NUMPY_F_SCIPY, measure(lambda: f_scipy(theta, *data), cfg),
                   note="scipy.special.logsumexp")
    # the user's code unmodified: scipy.special.logsumexp, which dualad.scipy.enable() lets
    # differentiate (see docs/scipy.md)
    with dualad.scipy.enable():
        ours = dualad.value_and_grad(functools.partial(model, _scipy_ns()))
        value, g = ours(theta, *data)
        report.add(name, n, DUALAD, measure(lambda: ours(theta, *data), cfg), role="dualad",
                   note="scipy.special.logsumexp, dualad.scipy.enable()" if logsumexp else "")
        # the tape copies each writeable constant it reads (its value at the time of use);
        # data marked read-only are kept as they are (docs/sharp-bits.md)
        fixed = tuple(_read_only(d) for d in data)
        if report.check(f"{name} n={n} {DUALAD_READ_ONLY}", ours(theta, *fixed)[1], g):
            report.add(name, n, DUALAD_READ_ONLY, measure(lambda: ours(theta, *fixed), cfg),
                       note="data.flags.writeable = False: not copied per call")
    if not np.isclose(value, f(theta, *data), rtol=1e-12):
        report.notes.append(f"MISMATCH: {name} n={n}: dualad's value differs from NumPy's")
    if by_hand is not None and report.check(f"{name} n={n} {BY_HAND}", by_hand(theta, *data), g):
        report.add(name, n, BY_HAND, measure(lambda: by_hand(theta, *data), cfg),
                   note="the floor")
    ns = _autograd_ns(peers)
    if ns is not None:
        import autograd

        theirs = autograd.value_and_grad(functools.partial(model, ns))
        if report.check(f"{name} n={n} {AUTOGRAD}", theirs(theta, *data)[1], g):
            report.add(name, n, AUTOGRAD, measure(lambda: theirs(theta, *data), cfg))
    ns = _jax_ns(peers)
    if ns is not None:
        jax = peers.jax
        # the data are constants of the model, as in a user's closure (jit traces arguments)
        derivative = jax.value_and_grad(lambda t: model(ns, t, *data))
        tj = peers.jnp.asarray(theta)
        eager = lambda: _block(derivative(tj)[1])
        if report.check(f"{name} n={n} {JAX_EAGER}", eager(), g):
            report.add(name, n, JAX_EAGER, measure(eager, cfg))
        jitted = jax.jit(derivative)
        run = lambda: _block(jitted(tj)[1])
        report.add(name, n, COMPILE.format(JAX_JIT), once(run), note=ONE_OFF)
        if report.check(f"{name} n={n} {JAX_JIT}", run(), g):
            report.add(name, n, JAX_JIT, measure(run, cfg))


def bench_classifier(report: ReverseReport, peers: Peers) -> None:
    """1. The softmax classifier; n = number of parameters."""
    for samples, features, classes in report.cfg.classifier:
        rng = np.random.default_rng(samples)
        X = rng.standard_normal((samples, features))
        y = rng.integers(0, classes, samples)
        y[:classes] = np.arange(classes)  # every class occurs
        theta = 0.1 * rng.standard_normal(features * classes + classes)
        _bench(report, peers, CLASSIFIER, theta.size, softmax_classifier, theta, (X, y),
               by_hand=softmax_classifier_grad_by_hand)


def bench_rnn(report: ReverseReport, peers: Peers) -> None:
    """2. The tanh RNN; n = number of parameters."""
    for steps, n_in, hidden in report.cfg.rnn:
        rng = np.random.default_rng(steps)
        xs = rng.standard_normal((steps, n_in))
        target = rng.uniform(-0.5, 0.5, hidden)
        theta = rng.standard_normal(hidden * hidden + hidden * n_in + hidden) / np.sqrt(hidden)
        _bench(report, peers, RNN, theta.size, rnn_loss, theta, (xs, target), logsumexp=False)


def bench_mixture(report: ReverseReport, peers: Peers) -> None:
    """3. The Gaussian mixture; n = number of samples."""
    for samples, k in report.cfg.mixture:
        rng = np.random.default_rng(samples)
        x = np.concatenate([rng.normal(mu, 0.5, samples // k) for mu in range(k)])
        theta = np.concatenate([np.zeros(k), np.arange(k) + 0.3, np.full(k, -0.5)])
        _bench(report, peers, MIXTURE, x.size, mixture_nll, theta, (x,))


# --------------------------------------------------------------------------- report


def evaluate_targets(report: ReverseReport) -> None:
    """No thresholds: each model's dualad/NumPy ratio and the peers' against dualad."""
    seen = []
    for row in report.rows:
        key = (row.benchmark, row.n)
        if key in seen:
            continue
        seen.append(key)
        t = report.time_of(*key, DUALAD)
        base = report.time_of(*key, NUMPY_F)
        if not (t and base):
            continue
        parts = [f"{t / base:.1f}x numpy f"]
        for peer in (AUTOGRAD, JAX_EAGER, JAX_JIT):
            other = report.time_of(*key, peer)
            if other:
                parts.append(f"{peer} {other / t:.2f}x dualad's time")
        report.target(f"{key[0]}, n={key[1]}: dualad.value_and_grad", "; ".join(parts),
                      "report", None, [(key[0], key[1], DUALAD)])


def render_body(report: ReverseReport) -> str:
    parts = ["Median time per call. *n* is the number of parameters (1, 2) or of samples (3). "
             "*× NumPy* = time / plain NumPy `f` at the same n; *× dualad* = time / "
             "dualad.value_and_grad's: above 1 means slower than dualad. *calls* = samples × "
             "calls per sample.", ""]
    rows = [cells + [report.mark_of(row.benchmark, row.n, row.method)]
            for cells, row in zip(table_rows(report), report.rows)]
    parts.append(_markdown_table((*COLUMNS, "summary"), rows))
    if report.notes:
        parts += ["", "## Notes", ""] + [f"- {note}" for note in report.notes]
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return run_suite(
        "models", argv, description=__doc__.split("\n", 1)[0], full=FULL, quick=QUICK,
        report_class=ReverseReport, benches=(bench_classifier, bench_rnn, bench_mixture),
        evaluate=evaluate_targets,
        header=functools.partial(render_header, title="dualad real-model benchmark"),
        body=render_body,
        csv_writer=write_csv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
