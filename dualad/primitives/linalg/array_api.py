"""NumPy 2's array-API names in np.linalg (vector_norm, matrix_norm, matrix_transpose,
diagonal, trace, cross), declared when NumPy has them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import (
    shape_of,
)
from ...registry import Example, defnondiff
from ._common import _NUMPY2, LINALG, _mT, _ndim, _singular
from .norms import _matrix_norm, _vector_norm


def _vector_norm_fn(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                    ord: Any = 2) -> Any:  # noqa: A002 - NumPy's name
    if isinstance(axis, list):
        axis = tuple(axis)
    return _vector_norm(x, ord, axis, bool(keepdims))


def _matrix_norm_fn(x: Any, /, *, keepdims: bool = False,
                    ord: Any = "fro") -> Any:  # noqa: A002 - NumPy's name
    return _matrix_norm(x, ord, (-2, -1), bool(keepdims))


def _matrix_transpose(x: Any, /) -> Any:
    if _ndim(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return _mT(x)


def _linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    return np.diagonal(x, offset, axis1=-2, axis2=-1)


def _linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return np.sum(_linalg_diagonal(x, offset=offset), axis=-1)


def _linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return np.cross(x1, x2, axis=axis)


if _NUMPY2:
    vector_norm = LINALG.defcomposite(
        "vector_norm", _vector_norm_fn, numpy=np.linalg.vector_norm,
        examples=(
            Example(lambda np_, x: np_.linalg.vector_norm(x), ((2, 3),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, axis=(0, 2), ord=1), ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, ord=np_.inf, keepdims=True),
                    ((2, 3),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, axis=-1, ord=4), ((2, 3),)),
        ),
        doc="np.linalg.vector_norm (axis None flattens, tuples allowed)",
    )
    matrix_norm = LINALG.defcomposite(
        "matrix_norm", _matrix_norm_fn, numpy=np.linalg.matrix_norm,
        examples=(
            Example(lambda np_, x: np_.linalg.matrix_norm(x), ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.matrix_norm(x, ord=1, keepdims=True),
                    ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.matrix_norm(x, ord="nuc"), make=lambda rng: (
                _singular(rng, 2, 3, 2),)),
        ),
        doc="np.linalg.matrix_norm: norm over the last two axes",
    )
    matrix_transpose = LINALG.defcomposite(
        "linalg.matrix_transpose", _matrix_transpose, numpy=np.linalg.matrix_transpose,
        examples=(Example(lambda np_, x: np_.linalg.matrix_transpose(x), ((2, 3, 4),)),),
        doc="np.linalg.matrix_transpose: swap the last two axes",
    )
    linalg_diagonal = LINALG.defcomposite(
        "linalg.diagonal", _linalg_diagonal, numpy=np.linalg.diagonal,
        examples=(Example(lambda np_, x: np_.linalg.diagonal(x), ((2, 3, 4),)),
                  Example(lambda np_, x: np_.linalg.diagonal(x, offset=1), ((3, 4),)),
                  Example(lambda np_, x: np_.linalg.diagonal(x, offset=-2), ((2, 4, 3),))),
        doc="np.linalg.diagonal: the diagonal of the last two axes",
    )
    linalg_trace = LINALG.defcomposite(
        "linalg.trace", _linalg_trace, numpy=np.linalg.trace,
        examples=(Example(lambda np_, x: np_.linalg.trace(x), ((2, 3, 3),)),
                  Example(lambda np_, x: np_.linalg.trace(x, offset=1), ((3, 4),))),
        doc="np.linalg.trace: sum of the diagonal of the last two axes",
    )
    linalg_cross = LINALG.defcomposite(
        "linalg.cross", _linalg_cross, numpy=np.linalg.cross,
        examples=(Example(lambda np_, x, y: np_.linalg.cross(x, y), ((2, 3), (3,))),
                  Example(lambda np_, x, y: np_.linalg.cross(x, y, axis=0), ((3, 2), (3, 2)))),
        doc="np.linalg.cross: np.cross of 3-vectors",
    )


defnondiff(np.linalg.matrix_rank, why="an integer: the number of non-negligible singular values")
