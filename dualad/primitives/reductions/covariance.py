"""Covariance and correlation: ``np.cov`` and ``np.corrcoef``, written with primitives
(means, products), differentiable in the data and in the weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import UnsupportedPrimitiveError
from ...registry import Example, strip
from ._common import REDUCTIONS


def _variables(m: Any, rowvar: bool) -> Any:
    """``m`` as a 2-d array with one variable per row."""
    if np.ndim(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    x = np.atleast_2d(m)
    return x if rowvar or np.shape(x)[0] == 1 else np.transpose(x)


def _cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
         fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """NumPy's estimate: sum_k w_k (x_ik - avg_i)(x_jk - avg_j) / fact, with the weights
    w = fweights * aweights and NumPy's normalisation ``fact``."""
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise UnsupportedPrimitiveError(f"np.cov(..., dtype={dtype}) would drop the derivative")
    x = _variables(m, rowvar)
    if y is not None:
        x = np.concatenate([x, _variables(y, rowvar)], axis=0)
    x = x.astype(np.result_type(x.dtype, np.float64) if dtype is None else dtype)  # NumPy's
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = fweights * 1.0
    if aweights is not None:
        w = aweights if w is None else w * aweights
    n = np.shape(x)[1]
    if w is None:
        avg = np.mean(x, axis=1)
        fact = n - ddof
    else:
        w_sum = np.sum(w)
        avg = np.sum(x * w, axis=1) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    centred = x - avg[:, None]
    weighted = centred if w is None else centred * w
    c = np.matmul(centred, np.transpose(weighted)) / fact
    return np.squeeze(c)


cov = REDUCTIONS.defcomposite(
    "cov", _cov, complex_rules=False, numpy=np.cov,
    examples=(
        Example(lambda np_, x: np_.cov(x), ((3, 5),)),
        Example(lambda np_, x, y: np_.cov(x, y, rowvar=False, bias=True), ((4, 2), (4, 1))),
        Example(lambda np_, x: np_.cov(x, ddof=2), ((6,),)),
        Example(lambda np_, x, a: np_.cov(x, aweights=a), (),
                make=lambda rng: (rng.normal(size=(2, 5)), rng.uniform(0.5, 2.0, size=5))),
        Example(lambda np_, x, a: np_.cov(x, fweights=np_.array([1, 2, 1, 3]), aweights=a),
                (), make=lambda rng: (rng.normal(size=(2, 4)), rng.uniform(0.5, 2.0, size=4))),
    ),
    doc="np.cov: (x - mean)(x - mean)^T / (n - ddof), weighted as NumPy weighs",
)


def _corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    c = _cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c
    d = np.sqrt(np.diagonal(c))
    r = c / d[:, None] / d[None, :]
    # NumPy clips rounding beyond [-1, 1]; the clip moves the values, not the derivative
    values = strip(r)
    return r + (np.clip(values, -1.0, 1.0) - values)


corrcoef = REDUCTIONS.defcomposite(
    "corrcoef", _corrcoef, complex_rules=False, numpy=np.corrcoef,
    examples=(
        Example(lambda np_, x: np_.corrcoef(x), ((3, 5),)),
        Example(lambda np_, x, y: np_.corrcoef(x, y), ((5,), (5,))),
        Example(lambda np_, x: np_.corrcoef(x, rowvar=False), ((6, 2),)),
    ),
    doc="np.corrcoef: cov / (std_i std_j)",
)
