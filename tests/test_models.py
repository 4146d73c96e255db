"""Model code as people write it in plain NumPy and SciPy, differentiated unmodified.

Each model is written once for a namespace ``ns`` holding ``np`` and, where the model calls
SciPy, ``special`` and ``stats``: NumPy's and SciPy's own modules for dualad, ``jax.numpy``
and ``jax.scipy``'s for the reference. The loss's value equals NumPy's; dualad's gradient in
reverse mode (``grad``) and in forward mode (``jacfwd``) equals ``jax.grad``'s; its Hessian
(forward over reverse) equals ``jax.hessian``'s, in float64.
"""

from __future__ import annotations

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import jax.scipy.special
import jax.scipy.stats
import numpy as np
import pytest
import scipy.special
import scipy.stats

import dualad
import dualad.scipy

from .reference import _run

NUMPY = SimpleNamespace(np=np, special=scipy.special, stats=scipy.stats)
JAX = SimpleNamespace(np=jnp, special=jax.scipy.special, stats=jax.scipy.stats)


@pytest.fixture(autouse=True, scope="module")
def scipy_enabled():
    """SciPy's Python functions called on active values reach dualad's versions."""
    with dualad.scipy.enable():
        yield


def check_model(model, theta, *data, hessian=True, rtol=1e-10, atol=1e-12):
    """dualad's value, gradient (both modes) and Hessian of ``model`` against JAX's."""
    f = lambda t: model(NUMPY, t, *data)
    fj = lambda t: model(JAX, t, *data)
    value, g = dualad.value_and_grad(f)(theta)
    np.testing.assert_allclose(value, f(theta), rtol=1e-14)
    np.testing.assert_allclose(value, _run(fj, (theta,)), rtol=1e-12)
    want = np.asarray(_run(jax.grad(fj), (theta,)))
    np.testing.assert_allclose(g, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(dualad.jacfwd(f)(theta), want, rtol=rtol, atol=atol)
    if hessian:
        np.testing.assert_allclose(dualad.hessian(f)(theta),
                                   np.asarray(_run(jax.hessian(fj), (theta,))),
                                   rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- a tanh RNN


def rnn_loss(ns, theta, xs, target):
    """Squared error of a tanh RNN's last state: the parameters unpacked, a Python loop."""
    np_ = ns.np
    steps, n_in = xs.shape
    h_size = target.shape[0]
    W = theta[: h_size * h_size].reshape(h_size, h_size)
    U = theta[h_size * h_size: h_size * (h_size + n_in)].reshape(h_size, n_in)
    b = theta[h_size * (h_size + n_in):]
    h = np_.zeros(h_size)
    for t in range(steps):
        h = np_.tanh(W @ h + U @ xs[t] + b)
    return np_.sum((h - target) ** 2)


def test_rnn():
    rng = np.random.default_rng(0)
    steps, n_in, hidden = 6, 3, 4
    xs = rng.standard_normal((steps, n_in))
    target = rng.uniform(-0.5, 0.5, hidden)
    theta = rng.standard_normal(hidden * (hidden + n_in + 1)) / 2
    check_model(rnn_loss, theta, xs, target)


# --------------------------------------------------------------------------- preallocate, fill


def heat_residual(ns, u, dx):
    """The residual of a 1-D heat equation, written into a buffer made from ``u``."""
    np_ = ns.np
    if np_ is jnp:  # JAX arrays are immutable: the same residual with .at[]
        r = jnp.zeros_like(u)
        r = r.at[1:-1].set((u[2:] - 2 * u[1:-1] + u[:-2]) / dx**2)
        return jnp.sum((r - u**3) ** 2)
    r = np.zeros_like(u)
    r[1:-1] = (u[2:] - 2 * u[1:-1] + u[:-2]) / dx**2
    return np.sum((r - u**3) ** 2)


@pytest.mark.parametrize("n", [5, 9])
def test_preallocated_residual(n):
    u = np.random.default_rng(n).uniform(-1, 1, n)
    check_model(heat_residual, u, 0.5)


# --------------------------------------------------------------------------- a softmax classifier


def softmax_classifier(ns, theta, X, y):
    """Mean cross-entropy of a linear softmax classifier, with SciPy's logsumexp."""
    d, c = X.shape[1], 3
    W = theta[: d * c].reshape(d, c)
    b = theta[d * c:]
    logits = X @ W + b
    return ns.np.mean(ns.special.logsumexp(logits, axis=1) - logits[ns.np.arange(len(y)), y])


def test_softmax_classifier():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((12, 4))
    y = rng.integers(0, 3, 12)
    check_model(softmax_classifier, rng.standard_normal(4 * 3 + 3) / 2, X, y)


# --------------------------------------------------------------------------- a mixture model


def mixture_nll(ns, theta, x):
    """Negative log-likelihood of a 1-D Gaussian mixture: logsumexp of norm.logpdf."""
    np_ = ns.np
    k = theta.shape[0] // 3
    logits, means, log_sd = theta[:k], theta[k: 2 * k], theta[2 * k:]
    log_w = logits - ns.special.logsumexp(logits)
    log_pdf = ns.stats.norm.logpdf(x[:, None], means, np_.exp(log_sd))
    return -np_.sum(ns.special.logsumexp(log_w + log_pdf, axis=1))


def test_mixture_model():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(-1, 0.5, 10), rng.normal(1.5, 0.8, 10)])
    theta = np.array([0.2, -0.1, -0.8, 1.2, -0.5, 0.1])
    check_model(mixture_nll, theta, x)


# --------------------------------------------------------------------------- count data


def negative_binomial_nll(ns, theta, X, counts):
    """A negative-binomial regression: log link for the mean, log dispersion, gammaln."""
    np_, gammaln = ns.np, ns.special.gammaln
    mu = np_.exp(X @ theta[:-1])
    r = np_.exp(theta[-1])
    log_p = (gammaln(counts + r) - gammaln(r) - gammaln(counts + 1.0)
             + r * np_.log(r / (r + mu)) + counts * np_.log(mu / (r + mu)))
    return -np_.sum(log_p)


def test_negative_binomial_regression():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(15), rng.uniform(-1, 1, 15)])
    counts = rng.poisson(np.exp(0.5 + X[:, 1])).astype(float)
    check_model(negative_binomial_nll, np.array([0.4, 0.8, 0.3]), X, counts)
