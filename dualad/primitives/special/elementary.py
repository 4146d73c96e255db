"""scipy.special's versions of elementary functions: expm1, log1p, exp2, exp10, cbrt, cosm1
and the trigonometric functions of degrees sindg, cosdg, tandg, cotdg.

NumPy has ufuncs of the same names (np.expm1 is another ufunc than sp.expm1), so these
primitives are named ``special_expm1``, ... The references are the same functions written
with jax.numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import Example, Interval
from ._common import _UNARY_SHAPES, _special

_DEGREE = math.pi / 180
_LN10 = math.log(10.0)


def _examples(ufunc: Any, reference: Any) -> tuple[Example, ...]:
    return tuple(Example(lambda np_, x: ufunc(x), (s,), reference=reference)
                 for s in _UNARY_SHAPES)


expm1 = _special(sp.expm1, lambda dx, x, *, out: dx * (out + 1), "exp(x) - 1; d/dx = exp(x)",
                 examples=_examples(sp.expm1, lambda jnp, x: jnp.expm1(x)),
                 formula=("e**x - 1", {"x": "e**x"}),
                 name="special_expm1")
log1p = _special(sp.log1p, lambda dx, x, *, out: dx / (1 + x), "log(1 + x); d/dx = 1/(1 + x)",
                 domain=Interval(-0.5, 2.0),
                 examples=_examples(sp.log1p, lambda jnp, x: jnp.log1p(x)),
                 formula=("ln(1+x)", {"x": "1/(1+x)"}),
                 name="special_log1p")
exp2 = _special(sp.exp2, lambda dx, x, *, out: dx * (out * math.log(2.0)),
                "2**x; d/dx = ln2 2**x", examples=_examples(sp.exp2, lambda jnp, x: jnp.exp2(x)),
                formula=("2**x", {"x": "ln2 2**x"}),
                name="special_exp2")
exp10 = _special(sp.exp10, lambda dx, x, *, out: dx * (out * _LN10),
                 "10**x; d/dx = ln10 10**x", domain=Interval(-1.0, 1.0),
                 examples=_examples(sp.exp10, lambda jnp, x: 10.0 ** x),
                 formula=("10**x", {"x": "ln10 10**x"}),
                 name="special_exp10")
cbrt = _special(sp.cbrt, lambda dx, x, *, out: dx / (3 * out * out),
                "cube root; d/dx = 1/(3 cbrt(x)**2)",
                domain=Interval(-2.0, 2.0, avoid=(0.0,), margin=0.2),
                examples=_examples(sp.cbrt, lambda jnp, x: jnp.cbrt(x)),
                formula=("cbrt(x)", {"x": "1/(3 cbrt(x)**2)"}),
                name="special_cbrt")
cosm1 = _special(sp.cosm1, lambda dx, x, *, out: dx * -np.sin(x), "cos(x) - 1; d/dx = -sin(x)",
                 examples=_examples(sp.cosm1, lambda jnp, x: jnp.cos(x) - 1),
                 formula=("cos x - 1", {"x": "-sin x"}),
                 name="special_cosm1")
sindg = _special(sp.sindg, lambda dx, x, *, out: dx * (_DEGREE * sp.cosdg(x)),
                 "sine of x degrees; d/dx = pi/180 cosdg(x)", domain=Interval(-200.0, 200.0),
                 examples=_examples(sp.sindg, lambda jnp, x: jnp.sin(jnp.deg2rad(x))),
                 name="special_sindg")
cosdg = _special(sp.cosdg, lambda dx, x, *, out: dx * (-_DEGREE * sp.sindg(x)),
                 "cosine of x degrees; d/dx = -pi/180 sindg(x)", domain=Interval(-200.0, 200.0),
                 examples=_examples(sp.cosdg, lambda jnp, x: jnp.cos(jnp.deg2rad(x))),
                 name="special_cosdg")
tandg = _special(sp.tandg, lambda dx, x, *, out: dx * (_DEGREE * (1 + out * out)),
                 "tangent of x degrees; d/dx = pi/180 (1 + tandg(x)**2)",
                 domain=Interval(-70.0, 70.0),
                 examples=_examples(sp.tandg, lambda jnp, x: jnp.tan(jnp.deg2rad(x))),
                 name="special_tandg")
cotdg = _special(sp.cotdg, lambda dx, x, *, out: dx * (-_DEGREE * (1 + out * out)),
                 "cotangent of x degrees; d/dx = -pi/180 (1 + cotdg(x)**2)",
                 domain=Interval(20.0, 160.0),
                 examples=_examples(sp.cotdg, lambda jnp, x: 1 / jnp.tan(jnp.deg2rad(x))),
                 name="special_cotdg")
