"""Bessel functions: iv, ive, kv, kve, jv, yv in the argument x (not the order v); i0, i0e,
i1, i1e."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    Example,
    Interval,
    Primitive,
)
from ._common import (
    _sign,
    _special,
)

# --------------------------------------------------------------------------- Bessel functions

_ORDERS = np.array([0.0, 1.5, -0.7])
"""Orders v of the examples: integer, half-integer and negative."""


def _bessel(ufunc: Any, dx_rule: Any, doc: str) -> Primitive:
    """A Bessel function of order v and argument x: differentiable in x, not in v."""
    return _special(
        ufunc, (None, dx_rule), doc + "; v (the order) has no derivative",
        domain=Interval(0.3, 4.0), jax=None,
        examples=tuple(Example(lambda np_, x: ufunc(_ORDERS, x), (s,), finite_differences=True)
                       for s in ((3,), (2, 3))),
    )


iv = _bessel(sp.iv, lambda dx, v, x, *, out: dx * (0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x))),
             "modified Bessel I_v(x); d/dx = (I_(v-1)(x) + I_(v+1)(x))/2")
ive = _bessel(sp.ive, lambda dx, v, x, *, out: dx * (
    0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - _sign(x) * out),
    "I_v(x) e**-|x|; d/dx = (ive(v-1, x) + ive(v+1, x))/2 - sign(x) ive(v, x)")
kv = _bessel(sp.kv, lambda dx, v, x, *, out: dx * (-0.5 * (sp.kv(v - 1, x) + sp.kv(v + 1, x))),
             "modified Bessel K_v(x); d/dx = -(K_(v-1)(x) + K_(v+1)(x))/2")
kve = _bessel(sp.kve, lambda dx, v, x, *, out: dx * (
    out - 0.5 * (sp.kve(v - 1, x) + sp.kve(v + 1, x))),
    "K_v(x) e**x; d/dx = kve(v, x) - (kve(v-1, x) + kve(v+1, x))/2")
jv = _bessel(sp.jv, lambda dx, v, x, *, out: dx * (0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x))),
             "Bessel J_v(x); d/dx = (J_(v-1)(x) - J_(v+1)(x))/2")
yv = _bessel(sp.yv, lambda dx, v, x, *, out: dx * (0.5 * (sp.yv(v - 1, x) - sp.yv(v + 1, x))),
             "Bessel Y_v(x); d/dx = (Y_(v-1)(x) - Y_(v+1)(x))/2")
i0 = _special(sp.i0, lambda dx, x, *, out: dx * sp.i1(x), "modified Bessel I_0; d/dx = I_1(x)",
              domain=Interval(-3, 3), name="special_i0",  # "i0" is np.i0's
              formula=("i0(x)", {"x": "i1(x)"}))
# I_1' = I_0 - I_1/x = (I_0 + I_2)/2, which has no division by x
i1 = _special(sp.i1, lambda dx, x, *, out: dx * (0.5 * (sp.i0(x) + sp.iv(2.0, x))),
              "modified Bessel I_1; d/dx = (I_0(x) + I_2(x))/2", domain=Interval(-3, 3))
i0e = _special(sp.i0e, lambda dx, x, *, out: dx * (sp.i1e(x) - _sign(x) * out),
               "I_0(x) e**-|x|; d/dx = i1e(x) - sign(x) i0e(x)",
               domain=Interval(-3, 3, avoid=(0.0,)))
i1e = _special(sp.i1e, lambda dx, x, *, out: dx * (
    0.5 * (sp.i0e(x) + sp.ive(2.0, x)) - _sign(x) * out),
    "I_1(x) e**-|x|; d/dx = (i0e(x) + ive(2, x))/2 - sign(x) i1e(x)",
    domain=Interval(-3, 3, avoid=(0.0,)))

# integer orders 0 and 1 (JAX has none of them: central differences, mpmath in the tests)
_POSITIVE_X = Interval(0.3, 4.0)
j0 = _special(sp.j0, lambda dx, x, *, out: dx * -sp.j1(x), "Bessel J_0; d/dx = -J_1(x)",
              domain=Interval(-4.0, 4.0), jax=None, formula=("j0(x)", {"x": "-j1(x)"}))
j1 = _special(sp.j1, lambda dx, x, *, out: dx * (0.5 * (sp.j0(x) - sp.jv(2.0, x))),
              "Bessel J_1; d/dx = (J_0(x) - J_2(x))/2", domain=Interval(-4.0, 4.0), jax=None)
y0 = _special(sp.y0, lambda dx, x, *, out: dx * -sp.y1(x), "Bessel Y_0; d/dx = -Y_1(x)",
              domain=_POSITIVE_X, jax=None, formula=("y0(x)", {"x": "-y1(x)"}))
y1 = _special(sp.y1, lambda dx, x, *, out: dx * (0.5 * (sp.y0(x) - sp.yv(2.0, x))),
              "Bessel Y_1; d/dx = (Y_0(x) - Y_2(x))/2", domain=_POSITIVE_X, jax=None)
k0 = _special(sp.k0, lambda dx, x, *, out: dx * -sp.k1(x), "modified Bessel K_0; d/dx = -K_1(x)",
              domain=_POSITIVE_X, jax=None, formula=("k0(x)", {"x": "-k1(x)"}))
k1 = _special(sp.k1, lambda dx, x, *, out: dx * (-0.5 * (sp.k0(x) + sp.kv(2.0, x))),
              "modified Bessel K_1; d/dx = -(K_0(x) + K_2(x))/2", domain=_POSITIVE_X, jax=None)
k0e = _special(sp.k0e, lambda dx, x, *, out: dx * (out - sp.k1e(x)),
               "K_0(x) e**x; d/dx = k0e(x) - k1e(x)", domain=_POSITIVE_X, jax=None,
               formula=("k0e(x)", {"x": "out - k1e(x)"}))
k1e = _special(sp.k1e, lambda dx, x, *, out: dx * (out - 0.5 * (sp.k0e(x) + sp.kve(2.0, x))),
               "K_1(x) e**x; d/dx = k1e(x) - (k0e(x) + kve(2, x))/2", domain=_POSITIVE_X,
               jax=None)
