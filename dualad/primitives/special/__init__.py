"""scipy.special's ufuncs, one declaration each, differentiable to any order.

This package imports SciPy, so it is not imported with dualad: ``dualad.primitives`` declares
it the first time one of scipy.special's ufuncs reaches dualad's dispatch (see its
docstring), and :func:`dualad.registry.load_optional_families` declares it for walks of the
whole registry.

Every rule is written with NumPy and scipy.special calls that are themselves primitives
(``gammaln' = digamma``, ``digamma' = polygamma(1, .)``, ``polygamma(n, .)' =
polygamma(n + 1, .)``, ``iv(v, .)' = (iv(v - 1, .) + iv(v + 1, .)) / 2``, ...), so the rules
differentiate themselves and every order works. Arguments that are orders (the ``v`` of the
Bessel functions) have no rule: a derivative in them raises, naming the function and the
argument (polygamma's ``n`` is a static parameter). Where JAX differentiates a parameter
(``gammainc`` and ``gammaincc`` in ``a``, ``zeta`` in its exponent ``x``) dualad does too,
through a series written with primitives; where it does not (``betainc`` in ``a`` and ``b``)
neither does dualad.

One module per kind of function, grouped as SciPy's documentation groups them:
elementary (expm1, log1p, functions of degrees, ...), error_functions (with the logistic
and normal ones), gamma (and beta), incomplete (gamma
and beta), zeta, bessel, entropy (and losses), integrals. The examples of the registry
walk are cross-checked with ``jax.scipy.special`` where JAX has the function (and a correct
derivative of it), else with central differences; tests/test_special.py adds mpmath
references and third derivatives.
"""

from . import (  # noqa: F401  - importing them registers their primitives
    bessel,
    elementary,
    entropy,
    error_functions,
    gamma,
    incomplete,
    integrals,
    zeta,
)
from ._common import SPECIAL

__all__ = ["SPECIAL"]
