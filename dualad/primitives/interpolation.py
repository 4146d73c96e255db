"""Piecewise-linear interpolation: ``np.interp``, differentiable in ``x``, ``xp`` and ``fp``.

Which segment each point falls in is found on the values (``searchsorted``, piecewise
constant); the interpolation within it is arithmetic on gathered knots, so the derivative
in ``x`` is the segment's slope, and ``fp`` (and ``xp``) enter through gathers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedPrimitiveError
from ..registry import Example, Interval, strip
from .indexing import INDEXING, take_by


def _interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
            period: Any = None) -> Any:
    if period is not None:
        raise UnsupportedPrimitiveError(
            "np.interp(..., period=) on active arrays is not supported: reduce x and xp "
            "modulo the period yourself (x % period, and xp sorted with one period's knots "
            "repeated on each side), then call np.interp without period=."
        )
    # lists and tuples (of numbers, or holding active values) as the arrays NumPy makes
    x, xp, fp = (_array(v) for v in (x, xp, fp))
    if np.ndim(xp) != 1 or np.ndim(fp) != 1 or np.shape(xp) != np.shape(fp):
        raise ValueError("fp and xp are not of the same length.")
    knots, where = strip(xp), strip(x)
    n = knots.shape[0]
    if n == 0:
        raise ValueError("array of sample points is empty")
    first = fp[0] if left is None else left
    last = fp[-1] if right is None else right
    if n == 1:
        inside = np.broadcast_to(fp[0], np.shape(x))
    else:
        # segment [i - 1, i]; a point on a knot takes the segment to its right, as NumPy's
        # and JAX's do (the last knot the segment to its left)
        i = np.clip(np.searchsorted(knots, where, side="right"), 1, n - 1)
        x0, x1 = take_by(xp, i - 1), take_by(xp, i)
        f0, f1 = take_by(fp, i - 1), take_by(fp, i)
        inside = f0 + (x - x0) / (x1 - x0) * (f1 - f0)
    out = np.where(where < knots[0], first, np.where(where > knots[-1], last, inside))
    return out.astype(np.float64)  # NumPy's interp computes in float64


def _array(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return np.stack(v) if len(v) else np.asarray(v, dtype=float)
    return v


interp = INDEXING.defcomposite(
    "interp", _interp, complex_rules=False, numpy=np.interp,
    examples=(
        Example(lambda np_, x, fp: np_.interp(x, np_.linspace(-2.0, 2.0, 5), fp), ((6,), (5,))),
        Example(lambda np_, x, xp, fp: np_.interp(x, np_.cumsum(xp), fp), (),
                make=lambda rng: (rng.uniform(0.0, 4.0, size=(2, 3)),
                                  rng.uniform(0.5, 1.0, size=4), rng.normal(size=4))),
        Example(lambda np_, x, fp: np_.interp(x * 3.0, np_.arange(4.0), fp, left=-1.0,
                                              right=fp[0] * 2.0), ((5,), (4,))),
        Example(lambda np_, x: np_.interp(x, np_.array([0.0, 1.0, 3.0]),
                                          np_.array([1.0, -1.0, 2.0])), ((4,),),
                domain=Interval(-0.5, 3.5, avoid=(0.0, 1.0, 3.0))),
        Example(lambda np_, x: np_.interp(x, [0.0, 1.0, 3.0], [1.0, -1.0, x[0]]), ((4,),),
                domain=Interval(-0.5, 3.5, avoid=(0.0, 1.0, 3.0)),  # lists, as NumPy takes
                reference=lambda np_, x: np_.interp(
                    x, np_.array([0.0, 1.0, 3.0]), np_.stack([1.0, -1.0, x[0]]))),
    ),
    doc="np.interp: f0 + (x - x0) / (x1 - x0) * (f1 - f0) on the segment holding x",
)
