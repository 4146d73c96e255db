"""The Hurwitz and Riemann zeta functions, differentiable in the exponent (by Euler-Maclaurin
summation) and in q."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    SPELLINGS,
    Example,
    Interval,
)
from ._common import (
    _BINARY_SHAPES,
    _UNARY_SHAPES,
    SPECIAL,
    _float_dtype,
    _jax,
    _plain_in,
    _special,
)

# --------------------------------------------------------------------------- zeta

# Euler-Maclaurin summation of d^k/ds^k zeta(s, q) = sum_n (-log(n + q))**k (n + q)**-s:
# _ZETA_TERMS terms, the integral of the rest, and _BERNOULLI corrections, each
# differentiated k times in s by Leibniz's rule. Its error is far below float64's rounding
# for the s and q > 0 of the tests (checked against mpmath in tests/test_special.py).
_ZETA_TERMS = 16
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
"""B_2, B_4, ..., B_16."""


def _rising(j: int) -> np.ndarray:
    """Coefficients (highest first) of s (s + 1) ... (s + 2j - 2), the rising factorial."""
    return np.poly(-np.arange(2 * j - 1, dtype=float))


def _horner(coefficients: np.ndarray, s: Any) -> Any:
    value = float(coefficients[0])
    for c in coefficients[1:]:
        value = value * s + float(c)
    return value


def _zeta_derivative_impl(s: Any, q: Any, *, k: int) -> Any:
    """d^k/ds^k zeta(s, q) for k >= 1, written with NumPy calls only (so that it also runs on
    the active values of an enclosing transform)."""
    dtype = _float_dtype(s, q)
    q = _plain_in(q, dtype)  # a Python number (riemann_zeta's q = 1) in s's dtype
    t = np.expand_dims(q, -1) + np.arange(_ZETA_TERMS, dtype=dtype)
    log_t = np.log(t)
    total = np.sum((-log_t) ** k * np.exp(np.expand_dims(s, -1) * -log_t), axis=-1)
    a = q + float(_ZETA_TERMS)
    log_a = np.log(a)
    rest = np.exp((1 - s) * log_a)  # the integral: d^k/ds^k a**(1-s) / (s-1)
    for j in range(k + 1):
        total = total + (math.comb(k, j) * (-1) ** (k - j) * math.factorial(k - j)) * (
            (-log_a) ** j * rest / (s - 1) ** (k - j + 1))
    total = total + 0.5 * (-log_a) ** k * np.exp(-s * log_a)
    for j, b2j in enumerate(_BERNOULLI, start=1):
        coefficients = _rising(j)
        power = np.exp((-s - (2 * j - 1)) * log_a)
        for i in range(min(k, 2 * j - 1) + 1):
            factor = b2j / math.factorial(2 * j) * math.comb(k, i)
            total = total + factor * _horner(np.polyder(coefficients, i), s) * (
                (-log_a) ** (k - i) * power)
    return total


def _zeta_d(s: Any, q: Any, k: int) -> Any:
    """d^k/ds^k zeta(s, q): scipy's zeta itself for k = 0."""
    return sp.zeta(s, q) if k == 0 else zeta_derivative(s, q, k=k)


zeta_derivative = SPECIAL.defprimitive(
    "zeta_derivative", impl=_zeta_derivative_impl,
    jvp=(lambda ds, s, q, *, out, k: ds * _zeta_d(s, q, k + 1),
         lambda dq, s, q, *, out, k: dq * -(s * _zeta_d(s + 1, q, k)
                                           + k * _zeta_d(s + 1, q, k - 1))),
    vjp=(lambda ct, s, q, *, out, k: ct * _zeta_d(s, q, k + 1),
         lambda ct, s, q, *, out, k: ct * -(s * _zeta_d(s + 1, q, k)
                                           + k * _zeta_d(s + 1, q, k - 1))),
    elementwise=True, domain=Interval(1.5, 3.5),
    doc="d^k/ds^k zeta(s, q), k static; d/ds raises k, d/dq = -s d^k zeta(s+1, q) "
        "- k d^(k-1) zeta(s+1, q)",
    examples=(Example(lambda np_, s, q: zeta_derivative(s, q, k=1), ((3,), (3,)),
                      finite_differences=True),
              Example(lambda np_, s, q: zeta_derivative(s, q, k=2), ((2, 3), (3,)),
                      finite_differences=True)),
)
SPELLINGS[sp._ufuncs._zeta] = "scipy.special.zeta"
SPELLINGS[sp._ufuncs._riemann_zeta] = "scipy.special.zeta"
# scipy.special.zeta(x, q) calls _zeta(x, q), and zeta(x) calls _riemann_zeta(x)
zeta = _special(
    sp._ufuncs._zeta, (lambda dx, x, q, *, out: dx * zeta_derivative(x, q, k=1),
                       lambda dq, x, q, *, out: dq * (-x * sp.zeta(x + 1, q))),
    "Hurwitz zeta(x, q); d/dx by Euler-Maclaurin, d/dq = -x zeta(x + 1, q)",
    domain=Interval(1.5, 3.5), name="zeta",
    examples=tuple(Example(lambda np_, x, q: sp.zeta(x, q), s, reference=_jax("zeta"))
                   for s in _BINARY_SHAPES),
)


def _riemann_zeta_dx(dx: Any, x: Any, *, out: Any) -> Any:
    """d/dx zeta(x): Euler-Maclaurin for x >= 0; below, the sum's terms grow like n**-x and
    cancel, so the derivative of the functional equation zeta(x) = A(x) zeta(1 - x), with
    A(x) = 2**x pi**(x-1) sin(pi x/2) gamma(1 - x), is taken instead (1 - x > 1 there)."""
    reflect = x < 0
    x_direct = np.where(reflect, 2.0, x)
    x_reflect = np.where(reflect, x, -1.0)
    y = 1 - x_reflect
    scale = np.exp(x_reflect * _LOG_2PI) / math.pi * sp.gamma(y)
    sine, cosine = np.sin(0.5 * math.pi * x_reflect), np.cos(0.5 * math.pi * x_reflect)
    d_scale = scale * ((_LOG_2PI - sp.psi(y)) * sine + 0.5 * math.pi * cosine)
    reflected = d_scale * sp.zeta(y) - scale * sine * zeta_derivative(y, 1.0, k=1)
    return dx * np.where(reflect, reflected, zeta_derivative(x_direct, 1.0, k=1))


_LOG_2PI = math.log(2 * math.pi)

riemann_zeta = _special(
    sp._ufuncs._riemann_zeta, _riemann_zeta_dx,
    "Riemann zeta(x); d/dx by Euler-Maclaurin (by the functional equation for x < 0)",
    domain=Interval(1.5, 4.0), name="riemann_zeta",
    examples=tuple(Example(lambda np_, x: sp.zeta(x), (s,),
                           reference=lambda jnp, x: _jax("zeta")(jnp, x, 1.0))
                   for s in _UNARY_SHAPES) + (
        # below 1: JAX's Hurwitz zeta is nan there, central differences instead
        Example(lambda np_, x: sp.zeta(x), make=lambda rng: (np.array([-7.5, -2.2, 0.3]),),
                finite_differences=True),),
)

# zeta(x) - 1, accurate where zeta(x) is close to 1 (large x)
zetac = _special(
    sp.zetac, _riemann_zeta_dx, "zeta(x) - 1; d/dx as zeta's", domain=Interval(1.5, 6.0),
    examples=tuple(Example(lambda np_, x: sp.zetac(x), (s,),
                           reference=lambda jnp, x: _jax("zeta")(jnp, x, 1.0) - 1)
                   for s in _UNARY_SHAPES),
)
