"""Polynomials: ``np.polyval`` (Horner's rule) and ``np.polyfit`` (least squares).

Both are written with primitives, so they are differentiable in the coefficients, the
points, the data and the weights, to every order. The loops run over the coefficients,
not over the elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedPrimitiveError
from ..registry import Example, is_active
from .products import PRODUCTS


def _polyval(p: Any, x: Any) -> Any:
    """Horner's rule: y = (...(p[0] x + p[1]) x + ...) x + p[-1]."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    y = np.zeros_like(x)
    for i in range(np.shape(p)[0]):
        y = y * x + p[i]
    return y


polyval = PRODUCTS.defcomposite(
    "polyval", _polyval, numpy=np.polyval,
    examples=(
        Example(lambda np_, p, x: np_.polyval(p, x), ((4,), (2, 3))),
        Example(lambda np_, p, x: np_.polyval(p, x), ((1,), (3,))),
        Example(lambda np_, p: np_.polyval(p, 0.7), ((3, 2),)),
    ),
    doc="np.polyval: Horner's rule",
)


def _polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None,
             cov: Any = False) -> Any:
    """The least-squares fit NumPy computes: the Vandermonde matrix with its columns scaled
    to unit norm, solved by np.linalg.lstsq, the scaling undone."""
    if cov:
        raise UnsupportedPrimitiveError(
            "np.polyfit(..., cov=True) on active arrays is not supported: compute the "
            "covariance from the fit, np.linalg.inv(v.T @ v) * resid / (len(x) - deg - 1) "
            "with v = np.vander(x, deg + 1)."
        )
    deg = int(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if np.ndim(x) != 1 or np.ndim(y) not in (1, 2) or np.shape(x)[0] != np.shape(y)[0]:
        raise TypeError("expected 1D vector x and a y of the same length")
    n = np.shape(x)[0]
    rcond = n * np.finfo(float).eps if rcond is None else rcond
    x = x if is_active(x) else np.asarray(x, dtype=float)
    lhs = x[:, None] ** np.arange(deg, -1, -1.0)
    rhs = y
    if w is not None:
        if np.ndim(w) != 1 or np.shape(w)[0] != n:
            raise TypeError("expected a 1-d w of the same length as x")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if np.ndim(y) == 1 else w[:, None])
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    try:
        c, residuals, rank, s = np.linalg.lstsq(lhs / scale, rhs, rcond=rcond)
    except UnsupportedPrimitiveError as exc:  # name the function the user called
        raise UnsupportedPrimitiveError(f"np.polyfit(x, y, {deg}) solves a least-squares "
                                        f"problem, and {exc}") from None
    c = c / (scale if np.ndim(y) == 1 else scale[:, None])
    return (c, residuals, rank, s, rcond) if full else c


polyfit = PRODUCTS.defcomposite(
    "polyfit", _polyfit, complex_rules=False, numpy=np.polyfit,
    examples=(
        Example(lambda np_, x, y: np_.polyfit(x, y, 2), ((6,), (6,))),
        Example(lambda np_, y: np_.polyfit(np_.linspace(-1.0, 1.0, 5), y, 3), ((5, 2),)),
        Example(lambda np_, x, y, w: np_.polyfit(x, y, 1, w=w), ((5,), (5,), (5,))),
        Example(lambda np_, x, y: np_.polyfit(x, y, 2, full=True)[1], ((6,), (6,)),
                reference=lambda np_, x, y: np_.sum(
                    (np_.polyval(np_.polyfit(x, y, 2), x) - y) ** 2, keepdims=True)),
    ),
    doc="np.polyfit: np.linalg.lstsq of the scaled Vandermonde matrix",
)
