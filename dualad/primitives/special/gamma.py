"""The gamma and beta functions: gamma, gammaln, loggamma, digamma (psi), beta, betaln, and
polygamma (a primitive of its own, behind digamma's rule)."""

from __future__ import annotations

import math
from typing import Any

import scipy.special as sp

from ...registry import (
    POSITIVE,
    Example,
    Interval,
    defnondiff,
)
from ._common import _UNARY_SHAPES, SPECIAL, _jax, _special

# --------------------------------------------------------------------------- gamma and beta


def _polygamma_rule(dx: Any, x: Any, *, out: Any, n: int) -> Any:
    return dx * polygamma(x, n=n + 1)


def _polygamma_example(n: int, shape: tuple[int, ...]) -> Example:
    return Example(lambda np_, x: polygamma(x, n=n), (shape,),
                   reference=lambda jnp, x: _jax("polygamma")(jnp, n, x))


def _polygamma_impl(x: Any, *, n: int) -> Any:
    # scipy.special.polygamma's own formula, with ufuncs only: the primal of a nested
    # derivative is itself an active value, which np.asarray (in sp.polygamma) would refuse
    if n == 0:
        return sp.psi(x)
    return (-1.0) ** (n + 1) * math.factorial(n) * sp.zeta(n + 1.0, x)


# scipy.special.polygamma is a Python function that calls np.asarray on its argument, so a
# dual array never reaches dualad through it; this primitive serves the rules of digamma
# and of itself (docs/supported.md says what a user writes instead).
polygamma = SPECIAL.defprimitive(
    "polygamma", impl=_polygamma_impl, jvp=_polygamma_rule,
    vjp=_polygamma_rule, elementwise=True, domain=POSITIVE,
    doc="polygamma(n, x), n static; d/dx = polygamma(n + 1, x)",
    examples=tuple(_polygamma_example(n, s) for n, s in ((1, ()), (2, (3,)), (3, (2, 3)))),
)
digamma = _special(sp.psi, lambda dx, x, *, out: dx * polygamma(x, n=1),
                   "digamma (psi) = d/dx log gamma(x); d/dx = polygamma(1, x)",
                   domain=POSITIVE, jax="digamma", name="digamma",
                   formula=("digamma(x)", {"x": "trigamma(x)"}))
gamma = _special(sp.gamma, lambda dx, x, *, out: dx * (out * sp.psi(x)),
                 "gamma function; d/dx = gamma(x) digamma(x)", domain=Interval(0.3, 3.5),
                 formula=("gamma(x)", {"x": "out digamma(x)"}))
gammaln = _special(sp.gammaln, lambda dx, x, *, out: dx * sp.psi(x),
                   "log |gamma(x)|; d/dx = digamma(x)", domain=Interval(0.3, 5.0),
                   formula=("gammaln(x)", {"x": "digamma(x)"}))
loggamma = _special(sp.loggamma, lambda dx, x, *, out: dx * sp.psi(x),
                    "log gamma(x) for real x > 0; d/dx = digamma(x)", domain=Interval(0.3, 5.0),
                    formula=("loggamma(x)", {"x": "digamma(x)"}))
beta = _special(sp.beta, (lambda dx, a, b, *, out: dx * (out * (sp.psi(a) - sp.psi(a + b))),
                          lambda db, a, b, *, out: db * (out * (sp.psi(b) - sp.psi(a + b)))),
                "beta function; d/da = beta(a, b) (digamma(a) - digamma(a + b))",
                domain=Interval(0.5, 3.0),
                formula=("beta(a, b)", {"a": "out (digamma(a) - digamma(a + b))",
                                        "b": "out (digamma(b) - digamma(a + b))"}))
betaln = _special(sp.betaln, (lambda dx, a, b, *, out: dx * (sp.psi(a) - sp.psi(a + b)),
                              lambda db, a, b, *, out: db * (sp.psi(b) - sp.psi(a + b))),
                  "log |beta(a, b)|; d/da = digamma(a) - digamma(a + b)",
                  domain=Interval(0.5, 3.0),
                  formula=("betaln(a, b)", {"a": "digamma(a) - digamma(a + b)",
                                            "b": "digamma(b) - digamma(a + b)"}))

# 1/gamma(x), entire: at its zeros (x = 0, -1, ...) digamma is infinite, and the derivative nan
rgamma = _special(sp.rgamma, lambda dx, x, *, out: dx * (-out * sp.psi(x)),
                  "1/gamma(x); d/dx = -rgamma(x) digamma(x)", domain=Interval(0.3, 3.5),
                  examples=tuple(Example(lambda np_, x: sp.rgamma(x), (s,),
                                         reference=lambda jnp, x: 1 / _jax("gamma")(jnp, x))
                                 for s in _UNARY_SHAPES),
                  formula=("rgamma(x)", {"x": "-out digamma(x)"}))
poch = _special(sp.poch, (lambda dz, z, m, *, out: dz * (out * (sp.psi(z + m) - sp.psi(z))),
                          lambda dm, z, m, *, out: dm * (out * sp.psi(z + m))),
                "Pochhammer gamma(z + m)/gamma(z); d/dz = poch (digamma(z + m) - digamma(z)), "
                "d/dm = poch digamma(z + m)", domain=Interval(0.5, 3.0),
                formula=("poch(z, m)", {"z": "out (digamma(z + m) - digamma(z))",
                                        "m": "out digamma(z + m)"}))
defnondiff(sp.gammasgn, why="the sign of gamma(x): piecewise constant")
