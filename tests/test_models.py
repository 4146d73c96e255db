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
import numpy as np
import pytest

import dualad

NUMPY = SimpleNamespace(np=np)
JAX = SimpleNamespace(np=jnp)


def check_model(model, theta, *data, hessian=True, rtol=1e-10, atol=1e-12):
    """dualad's value, gradient (both modes) and Hessian of ``model`` against JAX's."""
    f = lambda t: model(NUMPY, t, *data)
    fj = lambda t: model(JAX, t, *data)
    tj = jnp.asarray(theta)
    value, g = dualad.value_and_grad(f)(theta)
    np.testing.assert_allclose(value, f(theta), rtol=1e-14)
    np.testing.assert_allclose(value, fj(tj), rtol=1e-12)
    want = np.asarray(jax.grad(fj)(tj))
    np.testing.assert_allclose(g, want, rtol=rtol, atol=atol)
    np.testing.assert_allclose(dualad.jacfwd(f)(theta), want, rtol=rtol, atol=atol)
    if hessian:
        np.testing.assert_allclose(dualad.hessian(f)(theta), np.asarray(jax.hessian(fj)(tj)),
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
