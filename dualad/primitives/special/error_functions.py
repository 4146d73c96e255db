"""The error function and its relatives, the logistic function and the normal distribution's
functions: erf, erfc, erfcx, erfinv, erfcinv, dawsn, expit, logit, log_expit, ndtr,
ndtri, log_ndtr."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    UNIT,
    Example,
    Interval,
)
from ._common import (
    _ONE_OVER_SQRT_2PI,
    _SQRT_2PI,
    _SQRT_PI,
    _TWO_OVER_SQRT_PI,
    _UNARY_SHAPES,
    _jax,
    _special,
)

# --------------------------------------------------------------------------- error functions

erf = _special(sp.erf, lambda dx, x, *, out: dx * (_TWO_OVER_SQRT_PI * np.exp(-x * x)),
               "error function; d/dx = 2/sqrt(pi) exp(-x**2)",
               formula=("erf(x)", {"x": "2/sqrt(pi) exp(-x**2)"}))
erfc = _special(sp.erfc, lambda dx, x, *, out: dx * (-_TWO_OVER_SQRT_PI * np.exp(-x * x)),
                "1 - erf(x); d/dx = -2/sqrt(pi) exp(-x**2)",
                formula=("erfc(x)", {"x": "-2/sqrt(pi) exp(-x**2)"}))
erfcx = _special(sp.erfcx,
                 lambda dx, x, *, out: dx * (2 * x * out - _TWO_OVER_SQRT_PI),
                 "exp(x**2) erfc(x); d/dx = 2 x erfcx(x) - 2/sqrt(pi)",
                 domain=Interval(-1.5, 3.0),
                 formula=("erfcx(x)", {"x": "2 x out - 2/sqrt(pi)"}))
erfinv = _special(sp.erfinv, lambda dx, x, *, out: dx * (0.5 * _SQRT_PI * np.exp(out * out)),
                  "inverse of erf; d/dx = sqrt(pi)/2 exp(erfinv(x)**2)", domain=UNIT,
                  formula=("erfinv(x)", {"x": "sqrt(pi)/2 exp(out**2)"}))
# JAX has no erfcinv: erfcinv(y) = erfinv(1 - y) is the reference
erfcinv = _special(sp.erfcinv,
                   lambda dx, x, *, out: dx * (-0.5 * _SQRT_PI * np.exp(out * out)),
                   "inverse of erfc; d/dx = -sqrt(pi)/2 exp(erfcinv(x)**2)",
                   domain=Interval(0.1, 1.9), examples=tuple(
                       Example(lambda np_, x: sp.erfcinv(x), (s,),
                               reference=lambda jnp, x: _jax("erfinv")(jnp, 1 - x))
                       for s in _UNARY_SHAPES),
                   formula=("erfcinv(x)", {"x": "-sqrt(pi)/2 exp(out**2)"}))
# JAX has no erfi: central differences (and mpmath in tests/test_special.py)
erfi = _special(sp.erfi, lambda dx, x, *, out: dx * (_TWO_OVER_SQRT_PI * np.exp(x * x)),
                "imaginary error function -i erf(ix); d/dx = 2/sqrt(pi) exp(x**2)", jax=None,
                formula=("erfi(x)", {"x": "2/sqrt(pi) exp(x**2)"}))
dawsn = _special(sp.dawsn, lambda dx, x, *, out: dx * (1 - 2 * x * out),
                 "Dawson's integral; d/dx = 1 - 2 x dawsn(x)",
                 formula=("dawsn(x)", {"x": "1 - 2 x out"}))

# --------------------------------------------------------------------------- logistic, normal

expit = _special(sp.expit, lambda dx, x, *, out: dx * (out * (1 - out)),
                 "1/(1 + exp(-x)); d/dx = expit(x) (1 - expit(x))", domain=Interval(-4, 4),
                 formula=("expit(x)", {"x": "out (1 - out)"}))
logit = _special(sp.logit, lambda dx, x, *, out: dx / (x * (1 - x)),
                 "log(x/(1 - x)); d/dx = 1/(x (1 - x))", domain=Interval(0.05, 0.95),
                 formula=("logit(x)", {"x": "1/(x (1 - x))"}))
# JAX has no log_expit: jax.nn.log_sigmoid is the same function
log_expit = _special(sp.log_expit, lambda dx, x, *, out: dx * sp.expit(-x),
                     "log(expit(x)); d/dx = expit(-x)", domain=Interval(-6, 6),
                     examples=tuple(Example(lambda np_, x: sp.log_expit(x), (s,),
                                            reference=lambda jnp, x: _log_sigmoid(x))
                                    for s in _UNARY_SHAPES),
                     formula=("log_expit(x)", {"x": "expit(-x)"}))


def _log_sigmoid(x: Any) -> Any:
    import jax

    return jax.nn.log_sigmoid(x)


ndtr = _special(sp.ndtr, lambda dx, x, *, out: dx * (_ONE_OVER_SQRT_2PI * np.exp(-0.5 * x * x)),
                "standard normal CDF; d/dx = exp(-x**2/2)/sqrt(2 pi)", domain=Interval(-3, 3),
                formula=("ndtr(x)", {"x": "exp(-x**2/2)/sqrt(2 pi)"}))
ndtri = _special(sp.ndtri, lambda dx, x, *, out: dx * (_SQRT_2PI * np.exp(0.5 * out * out)),
                 "inverse of ndtr; d/dx = sqrt(2 pi) exp(ndtri(x)**2/2)",
                 domain=Interval(0.05, 0.95),
                 formula=("ndtri(x)", {"x": "sqrt(2 pi) exp(out**2/2)"}))
# exp(-x**2/2 - log_ndtr(x)), not pdf/ndtr: no underflow far in the left tail
log_ndtr = _special(
    sp.log_ndtr, lambda dx, x, *, out: dx * (_ONE_OVER_SQRT_2PI * np.exp(-0.5 * x * x - out)),
    "log(ndtr(x)); d/dx = exp(-x**2/2 - log_ndtr(x))/sqrt(2 pi)", domain=Interval(-6, 3),
    formula=("log_ndtr(x)", {"x": "exp(-x**2/2 - out)/sqrt(2 pi)"}))
# ndtri(exp(y)), for probabilities given by their logarithm
ndtri_exp = _special(
    sp.ndtri_exp, lambda dy, y, *, out: dy * (_SQRT_2PI * np.exp(y + 0.5 * out * out)),
    "ndtri(exp(y)); d/dy = sqrt(2 pi) exp(y + ndtri_exp(y)**2/2)", domain=Interval(-6.0, -0.1),
    examples=tuple(Example(lambda np_, y: sp.ndtri_exp(y), (s,),
                           reference=lambda jnp, y: _jax("ndtri")(jnp, jnp.exp(y)))
                   for s in _UNARY_SHAPES),
    formula=("ndtri_exp(y)", {"y": "sqrt(2 pi) exp(y + out**2/2)"}))
