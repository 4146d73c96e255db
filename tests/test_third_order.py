"""Third derivatives of the code real models are made of, against JAX in float64.

Each function is written once for a namespace (NumPy and SciPy's modules for dualad, which
differentiates them unmodified; ``jax.numpy`` and ``jax.scipy`` for the reference) and its
third derivative is taken in three nestings: forward over forward over reverse, reverse over
reverse over reverse and forward over forward over forward.
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


def _fill(ns, x):
    """A residual written into a buffer made from x (JAX: the same with .at[])."""
    if ns.np is jnp:
        r = jnp.zeros_like(x).at[1:].set(x[1:] * x[:-1]).at[0].add(jnp.sin(x[0]))
    else:
        r = np.zeros_like(x)
        r[1:] = x[1:] * x[:-1]
        r[0] += np.sin(x[0])
    return ns.np.sum(r * r)


FUNCTIONS = {
    "logsumexp": lambda ns, x: ns.special.logsumexp(x * x),
    "logaddexp.reduce": lambda ns, x: (ns.np.logaddexp.reduce(x * x) if ns.np is np
                                       else jax.nn.logsumexp(x * x)),
    "norm.logpdf": lambda ns, x: ns.np.sum(ns.stats.norm.logpdf(x, x[0], ns.np.exp(x[1]))),
    "gammaln": lambda ns, x: ns.np.sum(ns.special.gammaln(x * x + 1.0)),
    "fft": lambda ns, x: ns.np.sum(ns.np.sin(ns.np.real(ns.np.fft.fft(x)))),
    "rfft power": lambda ns, x: ns.np.sum(ns.np.abs(ns.np.fft.rfft(ns.np.tanh(x))) ** 3),
    "complex intermediate": lambda ns, x: ns.np.real(ns.np.sum(ns.np.exp(1j * x) * x ** 2)),
    "preallocate and fill": _fill,
    "softmax": lambda ns, x: (ns.special.softmax(x) if ns.np is np
                              else jax.nn.softmax(x))[0],
}


@pytest.fixture(autouse=True, scope="module")
def scipy_enabled():
    with dualad.scipy.enable():
        yield


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_third_derivative_matches_jax(name):
    fn = FUNCTIONS[name]
    x = np.array([0.3, -0.7, 1.1, 0.5])
    f = lambda x: fn(NUMPY, x)  # noqa: E731
    want = np.asarray(_run(jax.jacfwd(jax.jacfwd(jax.jacrev(lambda x: fn(JAX, x)))), (x,)))
    nestings = {
        "fwd-fwd-rev": dualad.jacfwd(dualad.jacfwd(dualad.jacrev(f))),
        "rev-rev-rev": dualad.jacrev(dualad.jacrev(dualad.grad(f))),
        "fwd-fwd-fwd": dualad.jacfwd(dualad.jacfwd(dualad.jacfwd(f))),
    }
    for nesting, third in nestings.items():
        np.testing.assert_allclose(third(x), want, rtol=1e-9, atol=1e-10,
                                   err_msg=f"{name}: {nesting}")
