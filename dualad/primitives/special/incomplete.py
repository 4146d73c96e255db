"""The regularized incomplete gamma functions (in a and x) and the incomplete beta function
(in x)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    Example,
    Interval,
    strip,
)
from ._common import (
    _float_dtype,
    _jax,
    _plain_in,
    _special,
)

# --------------------------------------------------------------------------- incomplete gamma, beta


def _gamma_density(a: Any, x: Any) -> Any:
    """x**(a-1) exp(-x) / gamma(a), d/dx of gammainc(a, x)."""
    # xlogy: 0 log 0 = 0, so that the density of a = 1 at x = 0 is 1, not nan
    dtype = _float_dtype(a, x)  # scipy's loops would take float64 for a Python number
    return np.exp(sp.xlogy(_plain_in(a - 1, dtype), x) - x - sp.gammaln(_plain_in(a, dtype)))


def _gammainc_da(a: Any, x: Any) -> Any:
    """d/da gammainc(a, x) from the series gammainc = sum_n x**(a+n) e**-x / gamma(a+n+1),
    term by term: each term times (log x - digamma(a + n + 1)). The series is written with
    primitives, so it differentiates itself (in a and in x) to any order.

    The terms follow a Poisson-like bump around n = x - a of width sqrt(x): each element
    sums the window from 12 widths below it (where the terms are below float64's rounding of
    the sum) to 12 widths above, a few thousand terms for x up to 10**4."""
    a_values, x_values = np.broadcast_arrays(strip(a), strip(x))
    largest = np.maximum(np.max(x_values, initial=0.0), 0.0, dtype=np.float64)
    # the decision is the integer number of terms (under dualad.compile, a guard on it)
    count = int(np.ceil(24 * np.sqrt(largest) + 60))
    first = np.maximum(np.floor(x_values - a_values - 12 * np.sqrt(np.maximum(x_values, 0.0))
                                - 20), 0.0)
    n = np.expand_dims(np.nan_to_num(first), -1) + np.arange(
        count, dtype=_float_dtype(a, x))
    positive = x > 0
    x_safe = np.where(positive, x, 1.0)  # gammainc(a, 0) = 0 for every a
    a_n = np.expand_dims(a, -1) + n
    log_x = np.expand_dims(np.log(x_safe), -1)
    terms = np.exp(a_n * log_x - np.expand_dims(x_safe, -1) - sp.gammaln(a_n + 1))
    return np.where(positive, np.sum(terms * (log_x - sp.psi(a_n + 1)), axis=-1), 0.0)


def _gammainc_examples(ufunc: Any) -> tuple[Example, ...]:
    call = lambda np_, a, x: ufunc(a, x)  # noqa: E731
    fixed_a = np.array([0.6, 1.7, 3.2])
    return (
        Example(lambda np_, x: ufunc(fixed_a, x), ((2, 3),),
                reference=lambda jnp, x: _jax(ufunc.__name__)(jnp, fixed_a, x)),
        # JAX differentiates in a once only (igamma_grad_a has no rule of its own): the
        # second order in a is checked by central differences below, and by mpmath in
        # tests/test_special.py
        Example(call, ((3,), (3,)), reference=_jax(ufunc.__name__), second_order=False),
        Example(call, ((2, 1), (3,)), finite_differences=True),
    )


gammainc = _special(
    sp.gammainc, (lambda da, a, x, *, out: da * _gammainc_da(a, x),
                  lambda dx, a, x, *, out: dx * _gamma_density(a, x)),
    "regularized lower incomplete gamma P(a, x); d/dx = x**(a-1) e**-x / gamma(a), d/da by "
    "its series", domain=Interval(0.4, 3.0), examples=_gammainc_examples(sp.gammainc),
)
gammaincc = _special(
    sp.gammaincc, (lambda da, a, x, *, out: da * -_gammainc_da(a, x),
                   lambda dx, a, x, *, out: dx * -_gamma_density(a, x)),
    "regularized upper incomplete gamma Q(a, x) = 1 - P(a, x); d/dx = -x**(a-1) e**-x / "
    "gamma(a), d/da = -d/da P", domain=Interval(0.4, 3.0),
    examples=_gammainc_examples(sp.gammaincc),
)

_BETA_A = np.array([0.7, 2.0, 3.5])


def _betainc_dx(dx: Any, a: Any, b: Any, x: Any, *, out: Any) -> Any:
    # the beta density x**(a-1) (1-x)**(b-1) / beta(a, b)
    dtype = _float_dtype(a, b, x)  # scipy's loops would take float64 for a Python number
    log_beta = _plain_in(sp.betaln(a, b), dtype)
    # xlogy, xlog1py: 0 log 0 = 0 at the ends for a = 1 or b = 1
    return dx * np.exp(sp.xlogy(_plain_in(a - 1, dtype), x)
                       + sp.xlog1py(_plain_in(b - 1, dtype), -x) - log_beta)


# Not differentiable in a and b, as in JAX (no closed form; JAX raises too)
betainc = _special(
    sp.betainc, (None, None, _betainc_dx),
    "regularized incomplete beta I_x(a, b); d/dx = x**(a-1) (1-x)**(b-1) / beta(a, b); "
    "a and b have no derivative", domain=Interval(0.05, 0.95),
    examples=(Example(lambda np_, x: sp.betainc(_BETA_A, 1.5, x), ((2, 3),),
                      reference=lambda jnp, x: _jax("betainc")(jnp, _BETA_A, 1.5, x)),
              Example(lambda np_, x: sp.betainc(2.5, 0.8, x), ((),),
                      reference=lambda jnp, x: _jax("betainc")(jnp, 2.5, 0.8, x))),
)
