"""Integrals: spence (the dilogarithm), exp1, expi."""

from __future__ import annotations

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
spence = _special(sp.spence, lambda dx, x, *, out: dx * (np.log(x) / (1 - x)),
                  "integral of log(t)/(1-t) from 1 to x; d/dx = log(x)/(1 - x)",
                  domain=Interval(0.2, 3.0, avoid=(1.0,), margin=0.1), jax=None,
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
