"""Reductions: sums, means, products, extrema, cumulative and statistical functions.

Rules shift ``axis`` past the leading direction axis with ``batch_axis``; ``keepdims`` keeps
the reduced axes so results broadcast against the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._batch import batch_axis
from ..registry import Example, defprimitive


def _sum_bind(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
              keepdims: bool = False, initial: Any = None, where: Any = None) -> tuple:
    if initial is not None or where is not None:
        raise TypeError("initial= and where= are not supported")
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype={dtype} would drop the derivative")
    return (a,), {"axis": axis, "keepdims": bool(keepdims)}


def _sum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, keepdims: bool) -> Any:
    return np.sum(dx, axis=batch_axis(axis, np.ndim(x)), keepdims=keepdims)


sum = defprimitive(  # noqa: A001 - NumPy's name
    "sum", impl=lambda x, *, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
    numpy=np.sum, bind=_sum_bind, jvp=_sum_jvp,
    examples=(
        Example(lambda np_, x: np_.sum(x), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: x.sum(), ((),)),
    ),
    doc="np.sum; linear",
)
