"""Diagonals and triangles: ``diagonal``, ``trace``, ``triu``, ``tril``, ``diag``, ``diagflat``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import normalize_axis
from ...registry import Example
from ._common import SHAPE, _no_dtype


def _diagonal_split_args(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> tuple:
    ndim = np.ndim(a)
    return (a,), {"offset": int(offset), "axis1": normalize_axis(axis1, ndim),
                  "axis2": normalize_axis(axis2, ndim)}


def _diagonal_vjp(ct: Any, x: Any, *, out: Any, offset: int, axis1: int, axis2: int) -> Any:
    """x_bar = ct placed on the diagonal (ct along rows, or columns when offset < 0, times
    eye(n1, n2, offset)), zeros elsewhere."""
    shape = np.shape(x)
    n1, n2 = shape[axis1], shape[axis2]
    length = n1 if offset >= 0 else n2  # ct indexed by row (offset >= 0) or column
    m = np.shape(ct)[-1]
    if m < length:  # rows (columns) past the diagonal's end: their mask row is all zero
        filler = np.zeros(np.shape(ct)[:-1] + (length - m,), dtype=ct.dtype)
        ct = np.concatenate([ct, filler], axis=-1)
    spread = ct[..., :, None] if offset >= 0 else ct[..., None, :]
    full = spread * np.eye(n1, n2, k=offset, dtype=ct.dtype)
    return np.moveaxis(full, (-2, -1), (axis1 + 1, axis2 + 1))


diagonal = SHAPE.defprimitive(
    "diagonal", impl=lambda x, *, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
    numpy=np.diagonal, split_args=_diagonal_split_args, vjp=_diagonal_vjp,
    jvp=lambda dx, x, *, out, offset, axis1, axis2: np.diagonal(dx, offset, axis1 + 1,
                                                                axis2 + 1),
    examples=(
        Example(lambda np_, x: np_.diagonal(x), ((3, 3),)),
        Example(lambda np_, x: np_.diagonal(x, 1), ((3, 4),)),
        Example(lambda np_, x: np_.diagonal(x, -1, axis1=-1, axis2=0), ((3, 2, 4),)),
        Example(lambda np_, x: x.diagonal(0, 1, 2), ((2, 3, 3),)),
    ),
    doc="np.diagonal; linear",
)


def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
           out: Any = None) -> Any:
    _no_dtype("trace", dtype)
    return np.sum(np.diagonal(a, offset, axis1, axis2), axis=-1)


trace = SHAPE.defcomposite(
    "trace", _trace, numpy=np.trace,
    examples=(
        Example(lambda np_, x: np_.trace(x), ((3, 3),)),
        Example(lambda np_, x: np_.trace(x, 1), ((3, 4),)),
        Example(lambda np_, x: np_.trace(x, -1, 2, 0), ((3, 2, 4),)),
        Example(lambda np_, x: x.trace(), ((2, 2),)),
    ),
    doc="np.trace: sum of a diagonal; linear",
)


def _tri_mask(m: Any, k: int, upper: bool) -> np.ndarray:
    rows, cols = (np.shape(m) * 2)[-2:] if np.ndim(m) == 1 else np.shape(m)[-2:]
    lower = np.tri(rows, cols, k=k - 1 if upper else k, dtype=bool)
    return ~lower if upper else lower


triu = SHAPE.defcomposite(
    "triu", lambda m, k=0: np.where(_tri_mask(m, int(k), True), m, 0.0), numpy=np.triu,
    examples=(
        Example(lambda np_, x: np_.triu(x), ((3, 3),)),
        Example(lambda np_, x: np_.triu(x, 1), ((3, 4),)),
        Example(lambda np_, x: np_.triu(x, k=-1), ((2, 4, 3),)),
        Example(lambda np_, x: np_.triu(x), ((3,),),  # JAX wants 2-D; NumPy broadcasts 1-D
                reference=lambda np_, x: np_.triu(np_.broadcast_to(x, (3, 3)))),
    ),
    doc="np.triu: a mask; linear",
)
tril = SHAPE.defcomposite(
    "tril", lambda m, k=0: np.where(_tri_mask(m, int(k), False), m, 0.0), numpy=np.tril,
    examples=(
        Example(lambda np_, x: np_.tril(x), ((3, 3),)),
        Example(lambda np_, x: np_.tril(x, -1), ((4, 3),)),
        Example(lambda np_, x: np_.tril(x, k=2), ((2, 3, 4),)),
    ),
    doc="np.tril: a mask; linear",
)


def _diag(v: Any, k: int = 0) -> Any:
    ndim = np.ndim(v)
    if ndim == 2:
        return np.diagonal(v, k)
    if ndim != 1:
        raise ValueError("Input must be 1- or 2-d.")
    k = int(k)
    n = np.shape(v)[0] + abs(k)
    padded = np.pad(v, (0, abs(k)))
    # out[i, i + k] = v[i] (k >= 0) or out[j - k, j] = v[j] (k < 0)
    spread = padded[:, None] if k >= 0 else padded[None, :]
    return np.where(np.eye(n, k=k, dtype=bool), spread, 0.0)


diag = SHAPE.defcomposite(
    "diag", _diag, numpy=np.diag,
    examples=(
        Example(lambda np_, x: np_.diag(x), ((3,),)),
        Example(lambda np_, x: np_.diag(x, 2), ((3,),)),
        Example(lambda np_, x: np_.diag(x, k=-1), ((2,),)),
        Example(lambda np_, x: np_.diag(x), ((3, 3),)),
        Example(lambda np_, x: np_.diag(x, -1), ((3, 4),)),
    ),
    doc="np.diag: a diagonal, or a matrix with v on a diagonal; linear",
)
diagflat = SHAPE.defcomposite(
    "diagflat", lambda v, k=0: _diag(np.ravel(v), k), numpy=np.diagflat,
    examples=(
        Example(lambda np_, x: np_.diagflat(x), ((2, 2),)),
        Example(lambda np_, x: np_.diagflat(x, -2), ((3,),)),
    ),
    doc="np.diagflat: a matrix with v on a diagonal; linear",
)
