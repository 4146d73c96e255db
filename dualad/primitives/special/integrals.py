"""Integrals: spence (the dilogarithm), exp1, expi."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    POSITIVE,
    Example,
    Interval,
)
from ._common import (
    _UNARY_SHAPES,
    _jax,
    _special,
)

# --------------------------------------------------------------------------- integrals

# JAX's spence has a nan derivative above 1 and 0 at 1 (jax 0.10, where the limit is -1):
# central differences instead (and mpmath in tests/test_special.py)
_LOG1P_TERMS = 24
"""Terms of log1p(u)/u = sum_k (-u)**k / (k + 1) kept for |u| < 0.1: the next is below 1e-24."""


def _spence_dx(dx: Any, x: Any, *, out: Any) -> Any:
    """log(x)/(1 - x) = -log1p(u)/u with u = x - 1, whose limit at x = 1 is -1: near 1 its
    Taylor polynomial (so that every order of derivative is right there too)."""
    u = x - 1
    near = np.abs(u) < 0.1
    u_near = np.where(near, u, 0.0)
    series = 0.0
    for k in reversed(range(_LOG1P_TERMS)):
        series = series * -u_near + 1.0 / (k + 1)
    u_far = np.where(near, 1.0, u)
    return dx * -np.where(near, series, np.log1p(u_far) / u_far)


spence = _special(sp.spence, _spence_dx,
                  "integral of log(t)/(1-t) from 1 to x; d/dx = log(x)/(1 - x)",
                  domain=Interval(0.2, 3.0), jax=None,
                  formula=("spence(x)", {"x": "log(x)/(1 - x)"}))
# jax.scipy.special.exp1 has no second derivative (jax 0.10): E1(x) = -Ei(-x) for x > 0
exp1 = _special(sp.exp1, lambda dx, x, *, out: dx * (-np.exp(-x) / x),
                "exponential integral E1; d/dx = -exp(-x)/x", domain=POSITIVE,
                examples=tuple(Example(lambda np_, x: sp.exp1(x), (s,),
                                       reference=lambda jnp, x: -_jax("expi")(jnp, -x))
                               for s in _UNARY_SHAPES),
                formula=("exp1(x)", {"x": "-exp(-x)/x"}))
expi = _special(sp.expi, lambda dx, x, *, out: dx * (np.exp(x) / x),
                "exponential integral Ei; d/dx = exp(x)/x",
                domain=Interval(-2.0, 2.0, avoid=(0.0,), margin=0.2),
                formula=("expi(x)", {"x": "exp(x)/x"}))
