"""``np.sinc`` (which scipy.special re-exports), exact at 0 to any order.

``sinc(x) = sin(pi x) / (pi x)`` has a removable singularity at 0: a rule written as the
quotient's derivative would be 0/0 there, and one guarded by ``np.where`` would give a wrong
second derivative. The k-th derivative is instead its own primitive, ``sinc_derivative``,
whose rule raises k: its Maclaurin series for |x| < 1 (no cancellation near 0) and Leibniz's
rule on ``sin(pi x) * (pi x)**-1`` elsewhere, both written with NumPy calls.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import Example, Interval, strip
from .elementwise import ELEMENTWISE

_SERIES_TERMS = 30
"""Terms of the Maclaurin series kept for |x| < 1: the next is below 1e-30."""


def _constants(values: list[float], x: Any) -> np.ndarray:
    """Coefficients in x's float dtype, so that float32 stays float32."""
    return np.array(values, dtype=np.result_type(strip(x), np.float32))


def _sinc_derivative_impl(x: Any, *, k: int) -> Any:
    """The k-th derivative of sinc at x (k >= 1)."""
    near = np.abs(x) < 1
    # sum over m with 2m >= k of (-1)**m pi**(2m) / ((2m+1) (2m-k)!) x**(2m-k)
    m = range((k + 1) // 2, (k + 1) // 2 + _SERIES_TERMS)
    coefficients = _constants(
        [(-1) ** j * math.pi ** (2 * j) / ((2 * j + 1) * math.factorial(2 * j - k)) for j in m], x)
    exponents = _constants([2 * j - k for j in m], x)
    x_near = np.expand_dims(np.where(near, x, 0.0), -1)
    series = np.sum(coefficients * x_near ** exponents, axis=-1)
    # sum over j of C(k, j) pi**j sin(pi x + j pi/2) (-1)**(k-j) (k-j)! / (pi x**(k-j+1))
    x_far = np.where(near, 1.0, x)
    closed = 0.0
    for j in range(k + 1):
        factor = math.comb(k, j) * math.pi ** (j - 1) * (-1) ** (k - j) * math.factorial(k - j)
        closed = closed + factor * np.sin(math.pi * x_far + j * math.pi / 2) / x_far ** (k - j + 1)
    return np.where(near, series, closed)


sinc_derivative = ELEMENTWISE.defprimitive(
    "sinc_derivative", impl=_sinc_derivative_impl,
    jvp=lambda dx, x, *, out, k: dx * sinc_derivative(x, k=k + 1),
    vjp=lambda ct, x, *, out, k: ct * sinc_derivative(x, k=k + 1), elementwise=True,
    domain=Interval(-2.5, 2.5), doc="the k-th derivative of sinc, k static; d/dx raises k",
    examples=tuple(Example(lambda np_, x, k=k: sinc_derivative(x, k=k), (shape,),
                           finite_differences=True)
                   for k, shape in ((1, (3,)), (2, (2, 3)), (3, (4,)))),
)

_WITH_ZERO = np.array([0.0, 0.4, -1.0, 1.7])

sinc = ELEMENTWISE.defprimitive(
    "sinc", impl=np.sinc, numpy=np.sinc, split_args=lambda x: ((x,), {}),
    jvp=lambda dx, x, *, out: dx * sinc_derivative(x, k=1),
    vjp=lambda ct, x, *, out: ct * sinc_derivative(x, k=1), elementwise=True,
    domain=Interval(-2.5, 2.5), doc="sin(pi x)/(pi x), 1 at 0; d/dx = (cos(pi x) - sinc(x))/x, "
    "0 at 0",
    examples=(Example(lambda np_, x: np_.sinc(x), ((),)),
              Example(lambda np_, x: np_.sinc(x), ((2, 3),)),
              Example(lambda np_, x: np_.sinc(x), make=lambda rng: (_WITH_ZERO,))),
)
