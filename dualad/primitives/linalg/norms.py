"""Norms and condition numbers: norm, cond (and, in NumPy 2, vector_norm, matrix_norm)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..._rule_checks import complex_values_error, is_complex
from ...axes import (
    batch_axis,
    expand_reduced,
    normalize_axis,
    shape_of,
)
from ...registry import Example, is_active
from ._common import LINALG, _ndim, _singular, _wellcond
from .decompositions import svdvals


def _norm2_jvp(dx: Any, x: Any, *, out: Any, axis: Any, keepdims: bool) -> Any:
    norm = expand_reduced(out, axis, _ndim(x), keepdims, batched=False)
    zero = norm == 0  # x is 0 wherever its norm is: use the subgradient 0, not 0/0
    return np.sum(x / (norm + zero) * dx, axis=batch_axis(axis, _ndim(x)), keepdims=keepdims)


def _norm2_vjp(ct: Any, x: Any, *, out: Any, axis: Any, keepdims: bool) -> Any:
    """x_bar = ct x / norm (0 where the norm is 0)."""
    norm = expand_reduced(out, axis, _ndim(x), keepdims, batched=False)
    zero = norm == 0
    return expand_reduced(ct, axis, _ndim(x), keepdims) * (x / (norm + zero))


def _norm2_impl(x: Any, *, axis: Any, keepdims: bool) -> Any:
    if is_active(x):  # an outer derivative: through norm2 again, for its subgradient at 0
        return norm2(x, axis=axis, keepdims=keepdims)
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


norm2 = LINALG.defprimitive(
    "norm2", impl=_norm2_impl, jvp=_norm2_jvp, vjp=_norm2_vjp,
    complex_rules=False,  # real-only rules: complex values raise
    examples=(
        Example(lambda np_, x: np_.linalg.norm(x), ((3,),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=(0, 2)), ((2, 3, 4),)),
        # at 0 JAX gives nan; dualad the subgradient 0, which central differences also give
        Example(lambda np_, x: np_.linalg.norm(x, axis=1),
                make=lambda rng: (np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]),),
                reference=None, finite_differences=True, second_order=False),
    ),
    doc="Euclidean (Frobenius) norm over axis; d = sum(x dx) / norm, 0 where the norm is 0",
)


def _moduli(x: Any) -> Any:
    """|x| for complex x (the 2-norm of z is that of |z|; norm2's rules are real), else x."""
    return np.abs(x) if is_complex(x) else x


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return norm2(_moduli(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of non-zeros: piecewise constant
        return np.sum(x != 0, axis=axis, keepdims=keepdims).astype(np.finfo(x.dtype).dtype)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    nd = _ndim(x)
    row, col = (normalize_axis(operator.index(a), nd) for a in axis)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord in ("fro", "f"):
        return norm2(_moduli(x), axis=(row, col), keepdims=keepdims)
    if ord in (2, -2, "nuc"):
        if is_complex(x):
            raise complex_values_error(
                f"np.linalg.norm (or matrix_norm) with ord={ord!r}",
                "use ord='fro', 1 or np.inf, or differentiate the real matrix "
                "[[re, -im], [im, re]], whose singular values are those of x, twice")
        rest = tuple(a for a in range(nd) if a not in (row, col))
        s = svdvals(np.transpose(x, rest + (row, col)), hermitian=False)
        ret = s[..., 0] if ord == 2 else (s[..., -1] if ord == -2 else np.sum(s, axis=-1))
    elif ord in (1, -1, np.inf, -np.inf):
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        sums = np.sum(np.abs(x), axis=inner)
        reduce = np.max if ord > 0 else np.min
        ret = reduce(sums, axis=outer - (outer > inner))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(shape_of(x))
        shape[row] = shape[col] = 1
        ret = np.reshape(ret, tuple(shape))
    return ret


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    nd = _ndim(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            return norm2(_moduli(x), axis=None, keepdims=bool(keepdims))
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (operator.index(axis),)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, bool(keepdims))
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, bool(keepdims))
    raise ValueError("Improper number of dimensions to norm.")


norm = LINALG.defcomposite(
    "norm", _norm, numpy=np.linalg.norm,
    examples=(
        Example(lambda np_, x: np_.linalg.norm(x), ((2, 3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 2), ((3,),)),
        Example(lambda np_, x: np_.linalg.norm(x, "fro"), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 1, axis=-1), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, np_.inf), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, -np_.inf, axis=1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 3), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, 0.5, axis=0), ((3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, 0), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, "fro", axis=(2, 0), keepdims=True),
                ((2, 3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, "nuc"), make=lambda rng: (
            _singular(rng, 3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, 2, axis=(0, 2)), make=lambda rng: (
            np.moveaxis(_singular(rng, 3, 2, 4), 0, 1),)),
        Example(lambda np_, x: np_.linalg.norm(x, -2), make=lambda rng: (
            _singular(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 1), ((3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, -1, axis=(1, 0)), ((3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, np_.inf, axis=(-1, 0), keepdims=True),
                ((3, 2, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, -np_.inf), ((3, 4),)),
    ),
    doc="np.linalg.norm: norm2 for the Euclidean and Frobenius norms (subgradient 0 at 0), "
        "abs/max/min/sum/power for the other vector and induced norms, svdvals for 2/-2/'nuc'",
)


def _cond(x: Any, p: Any = None) -> Any:
    if is_complex(x) and (p is None or p in (2, -2)):
        raise complex_values_error("np.linalg.cond", "pass p='fro', 1 or np.inf, or "
                                   "differentiate the real matrix [[re, -im], [im, re]]")
    if p is None or p in (2, -2):
        s = svdvals(x, hermitian=False)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    return _matrix_norm(x, p, (-2, -1), False) * _matrix_norm(np.linalg.inv(x), p, (-2, -1),
                                                               False)


cond = LINALG.defcomposite(
    "cond", _cond, numpy=np.linalg.cond,
    examples=(
        Example(lambda np_, x: np_.linalg.cond(x), make=lambda rng: (_singular(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cond(x, -2), make=lambda rng: (
            _singular(rng, 2, 3, 2),)),
        Example(lambda np_, x: np_.linalg.cond(x, "fro"), make=lambda rng: (
            _wellcond(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cond(x, 1), make=lambda rng: (_wellcond(rng, 3, 3),)),
    ),
    doc="np.linalg.cond: ratio of singular values, or norm(a) norm(inv(a))",
)


