"""Cumulative sums and products: ``cumsum``, ``cumprod``, ``cumulative_sum``,
``cumulative_prod``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import batch_axis, float_dtype, normalize_axis, shape_of
from ...registry import Example
from ._common import REDUCTIONS, _along, _check_float_dtype


def _cum_split_args(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> tuple:
    _check_float_dtype(dtype)
    return (a,), {"axis": None if axis is None else int(axis), "dtype": dtype}


def _cumsum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, dtype: Any) -> Any:
    if axis is None:
        return np.cumsum(np.reshape(dx, (shape_of(dx)[0], -1)), axis=1, dtype=dtype)
    return np.cumsum(dx, axis=batch_axis(axis, np.ndim(x)), dtype=dtype)


def _cumsum_vjp(ct: Any, x: Any, *, out: Any, axis: Any, dtype: Any) -> Any:
    """x_bar_i = sum_{j >= i} g_j: a cumulative sum of ct in reverse."""
    k = shape_of(ct)[0]
    if axis is None:
        ct, ax = np.reshape(ct, (k, -1)), 1
    else:
        ax = batch_axis(axis, np.ndim(x))
    rev = _along(ax, slice(None, None, -1))
    return np.reshape(np.cumsum(ct[rev], axis=ax)[rev], (k,) + shape_of(x))


cumsum = REDUCTIONS.defprimitive(
    "cumsum", impl=lambda x, *, axis, dtype: np.cumsum(x, axis=axis, dtype=dtype),
    numpy=np.cumsum, split_args=_cum_split_args, jvp=_cumsum_jvp, vjp=_cumsum_vjp,
    examples=(
        Example(lambda np_, x: np_.cumsum(x), ((2, 3),)),
        Example(lambda np_, x: np_.cumsum(x), ((4,),)),
        Example(lambda np_, x: np_.cumsum(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.cumsum(x, axis=-1), ((2, 3, 2),)),
        Example(lambda np_, x: x.cumsum(axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.add.accumulate(x), ((3, 2),)),
        Example(lambda np_, x: np_.cumsum(x * x), ((),)),
    ),
    doc="np.cumsum; linear",
)


def _cumprod_jvp(dx: Any, x: Any, *, out: Any, axis: Any, dtype: Any) -> Any:
    # The tangent obeys d_i = x_i d_{i-1} + out_{i-1} dx_i: an affine recurrence, solved by
    # a Hillis-Steele scan in log2(n) steps of whole-array operations, exact at zeros.
    if axis is None:
        x = np.reshape(x, (-1,))
        dx = np.reshape(dx, (shape_of(dx)[0], -1))
        axis = 0
    ax = normalize_axis(axis, np.ndim(x))
    n = shape_of(x)[ax]
    if n == 0:
        return dx
    return _affine_scan(x, dx * _shifted_in(out, ax), ax)


def _shifted_in(y: Any, ax: int) -> Any:
    """``y`` shifted by one along ``ax`` with a 1 in front: ``out_{i-1}`` (``out_{-1}`` = 1)."""
    one = np.ones(shape_of(y)[:ax] + (1,) + shape_of(y)[ax + 1:], dtype=float_dtype(y))
    return np.concatenate([one, y[_along(ax, slice(None, -1))]], axis=ax)


def _affine_scan(a: Any, b: Any, ax: int) -> Any:
    """Solve ``b_i <- b_i + a_i b_{i-1}`` along ``ax`` of ``a`` (``ax + 1`` of the batched
    ``b``): a Hillis-Steele scan in log2(n) steps of whole-array operations."""
    n = shape_of(a)[ax]
    step = 1
    while step < n:
        head, tail = _along(ax + 1, slice(None, step)), _along(ax + 1, slice(step, None))
        shifted = _along(ax + 1, slice(None, -step))
        b = np.concatenate([b[head], b[tail] + a[tail[1:]] * b[shifted]], axis=ax + 1)
        if 2 * step < n:
            a = np.concatenate([a[head[1:]], a[tail[1:]] * a[shifted[1:]]], axis=ax)
        step *= 2
    return b


def _cumprod_vjp(ct: Any, x: Any, *, out: Any, axis: Any, dtype: Any) -> Any:
    """x_bar_i = out_{i-1} r_i with r_i = g_i + x_{i+1} r_{i+1}: the jvp's scan, run
    backwards; exact at zeros (no division by x)."""
    k, shape = shape_of(ct)[0], shape_of(x)
    if axis is None:
        x, ct, ax = np.reshape(x, (-1,)), np.reshape(ct, (k, -1)), 0
    else:
        ax = normalize_axis(axis, np.ndim(x))
    if shape_of(x)[ax] == 0:
        return np.reshape(ct, (k,) + shape)
    rev = _along(ax, slice(None, None, -1))
    r = _affine_scan(_shifted_in(x[rev], ax), ct[(slice(None),) + rev], ax)
    return np.reshape(_shifted_in(out, ax) * r[(slice(None),) + rev], (k,) + shape)


cumprod = REDUCTIONS.defprimitive(
    "cumprod", impl=lambda x, *, axis, dtype: np.cumprod(x, axis=axis, dtype=dtype),
    numpy=np.cumprod, split_args=_cum_split_args, jvp=_cumprod_jvp, vjp=_cumprod_vjp,
    examples=(
        Example(lambda np_, x: np_.cumprod(x), ((2, 3),)),
        Example(lambda np_, x: np_.cumprod(x), ((7,),)),
        Example(lambda np_, x: np_.cumprod(x, axis=0), ((5, 2),)),
        Example(lambda np_, x: np_.cumprod(x, axis=-2), ((2, 4, 3),)),
        Example(lambda np_, x: x.cumprod(axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.multiply.accumulate(x), ((3, 2),)),
        Example(lambda np_, x: np_.cumprod(x), ((),)),
        Example(lambda np_, x: np_.cumprod(x, axis=1),
                make=lambda rng: (np.array([[0.0, 1.5, -2.0, 0.7, 1.1],
                                            [1.3, 0.0, 0.0, 3.0, -0.5]]),)),
    ),
    doc="np.cumprod; tangent by an affine scan, exact at zeros",
)


def _cumulative(name: str, fn: Any, identity: float) -> Any:
    def impl(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
             include_initial: bool = False) -> Any:
        shape = shape_of(x)
        if axis is None:
            if len(shape) > 1:
                raise ValueError("axis must be specified for multi-dimensional arrays.")
            x, axis = np.reshape(x, (-1,)), 0
        result = fn(x, axis=axis, dtype=dtype)
        if include_initial:
            rshape = shape_of(result)
            ax = normalize_axis(axis, len(rshape))
            start = np.full(rshape[:ax] + (1,) + rshape[ax + 1:], identity,
                            dtype=float_dtype(result))
            result = np.concatenate([start, result], axis=ax)
        return result

    impl.__name__ = name
    return impl


if hasattr(np, "cumulative_sum"):
    cumulative_sum = REDUCTIONS.defcomposite(
        "cumulative_sum", _cumulative("cumulative_sum", np.cumsum, 0.0),
        numpy=np.cumulative_sum,
        examples=(
            Example(lambda np_, x: np_.cumulative_sum(x), ((4,),)),
            Example(lambda np_, x: np_.cumulative_sum(x, axis=-1, include_initial=True),
                    ((2, 3),)),
        ),
        doc="np.cumsum with an optional leading 0",
    )
    cumulative_prod = REDUCTIONS.defcomposite(
        "cumulative_prod", _cumulative("cumulative_prod", np.cumprod, 1.0),
        numpy=np.cumulative_prod,
        examples=(
            Example(lambda np_, x: np_.cumulative_prod(x), ((4,),)),
            Example(lambda np_, x: np_.cumulative_prod(x, axis=0, include_initial=True),
                    ((2, 3),)),
        ),
        doc="np.cumprod with an optional leading 1",
    )
