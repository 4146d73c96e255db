"""Reductions: sums, means, products, extrema, cumulative and statistical functions.

Rules shift ``axis`` past the leading direction axis with ``batch_axis``; ``keepdims`` keeps
the reduced axes so results broadcast against the input. Conventions at kinks follow JAX:
``max``/``min`` ties share the derivative equally, ``clip`` at a bound gives 0.5, ``sort``
ties follow the stable order. Products and cumulative products are exact at zeros (no
division by the input).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..axes import (
    batch_axis,
    expand_reduced,
    float_dtype,
    normalize_axis,
    reduced_axes,
    shape_of,
)
from ..errors import UnsupportedPrimitiveError
from ..registry import POSITIVE, Example, Family, Interval, defnondiff, is_traced, strip

REDUCTIONS = Family("reductions")

_NV = np._NoValue  # NumPy's "argument not given"


# --------------------------------------------------------------------------- helpers


def _given(value: Any) -> bool:
    return value is not None and value is not _NV


def _flag(value: Any) -> bool:
    return False if value is _NV else bool(value)




def _count(shape: tuple[int, ...], axis: Any) -> int:
    """How many elements a reduction over ``axis`` combines."""
    n = 1
    for a in reduced_axes(axis, len(shape)):
        n *= shape[a]
    return n


def _refuse(fn: str, **kwargs: Any) -> None:
    """Raise for NumPy arguments dualad does not differentiate (``where=``, ``mean=`` ...)."""
    bad = sorted(k for k, v in kwargs.items() if v is not _NV and v is not None and v is not True)
    if bad:
        raise UnsupportedPrimitiveError(
            f"np.{fn} on dual arrays does not support the argument(s) {bad}; call it "
            f"without them (np.where can mask the input instead of where=)."
        )


def _check_float_dtype(dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype={dtype} would drop the derivative (only float dtypes keep it)")


def _check_static(fn: str, **kwargs: Any) -> None:
    for key, value in kwargs.items():
        if is_traced(value):
            raise TypeError(f"{key}= of np.{fn} cannot be a dual array")


def _along(axis: int, item: Any) -> tuple:
    """An index applying ``item`` along ``axis`` (all axes before it kept whole)."""
    return (slice(None),) * axis + (item,)


def _to_last(a: Any, axis: Any) -> tuple[Any, tuple[int, ...]]:
    """``a`` with the axes a reduction over ``axis`` removes moved last and merged into one."""
    shape = shape_of(a)
    red = reduced_axes(axis, len(shape))
    kept = tuple(i for i in range(len(shape)) if i not in red)
    kept_shape = tuple(shape[i] for i in kept)
    if red != tuple(range(len(shape)))[len(kept):]:
        a = np.transpose(a, kept + red)
    return np.reshape(a, kept_shape + (_count(shape, axis),)), kept_shape


def _take_along(a: Any, idx: np.ndarray, axis: int) -> Any:
    """``np.take_along_axis(a, idx, axis)`` written with indexing (``idx`` plain integers)."""
    key = list(np.indices(idx.shape, sparse=True))
    key[axis] = idx
    return a[tuple(key)]


# --------------------------------------------------------------------------- sum


def _summing_split_args(name: str) -> Any:
    """How np.sum and np.prod (the same signature) split their arguments: axis, float dtype,
    keepdims, a constant ``initial``; ``where=`` and ``out=`` are refused."""
    def split_args(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                   keepdims: Any = _NV, initial: Any = _NV, where: Any = _NV) -> tuple:
        if where is not _NV and where is not True:
            raise TypeError("where= is not supported (mask the input with np.where instead)")
        _check_float_dtype(dtype)
        _check_static(name, initial=initial)
        return (a,), {"axis": axis, "dtype": dtype, "keepdims": _flag(keepdims),
                      "initial": initial if _given(initial) else None}
    return split_args


_sum_split_args = _summing_split_args("sum")


def _sum_impl(x: Any, *, axis: Any, dtype: Any, keepdims: bool, initial: Any) -> Any:
    # np.add.reduce is np.sum without its Python wrapper (3x faster on small arrays); on a
    # dual array it dispatches back to np.sum.
    extra = {} if initial is None else {"initial": initial}
    return np.add.reduce(x, axis=axis, dtype=dtype, keepdims=keepdims, **extra)


def _sum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
             initial: Any) -> Any:
    return np.add.reduce(dx, axis=batch_axis(axis, x.ndim), dtype=dtype, keepdims=keepdims)


def _sum_vjp(ct: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
             initial: Any) -> Any:
    """x_bar = ct broadcast back over the reduced axes."""
    x_shape = shape_of(x)
    if axis is None and not keepdims and type(ct) is np.ndarray:  # the common np.sum(x)
        ct = ct.reshape(ct.shape[:1] + (1,) * len(x_shape))
    else:
        ct = expand_reduced(ct, axis, len(x_shape), keepdims)
    shape = shape_of(ct)[:1] + x_shape
    if type(ct) is np.ndarray and math.prod(shape) < 4096:
        x_bar = np.empty(shape, dtype=ct.dtype)  # small: a copy is cheaper than a view
        x_bar[...] = ct
        return x_bar
    return np.broadcast_to(ct, shape)


sum = REDUCTIONS.defprimitive(  # noqa: A001 - NumPy's name
    "sum", impl=_sum_impl, numpy=np.sum, split_args=_sum_split_args, jvp=_sum_jvp, vjp=_sum_vjp,
    examples=(
        Example(lambda np_, x: np_.sum(x), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.sum(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: x.sum(), ((),)),
        Example(lambda np_, x: np_.sum(x, axis=(-1, 0), keepdims=True), ((2, 3, 4),)),
        Example(lambda np_, x: np_.sum(x, axis=None, keepdims=True), ((3, 2),)),
        Example(lambda np_, x: np_.sum(x, axis=0, initial=1.5), ((4,),)),
        Example(lambda np_, x: x.sum(axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.add.reduce(x, axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.add.reduce(x), ((4, 3),)),
        Example(lambda np_, x: np_.sum(x * x), ((5,),)),
    ),
    doc="np.sum; linear",
)


# --------------------------------------------------------------------------- mean, average


def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NV,
          *, where: Any = _NV) -> Any:
    _refuse("mean", where=where)
    total = np.sum(a, axis=axis, dtype=dtype, keepdims=_flag(keepdims))
    return total / _count(shape_of(a), axis)


mean = REDUCTIONS.defcomposite(
    "mean", _mean, numpy=np.mean,
    examples=(
        Example(lambda np_, x: np_.mean(x), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.mean(x), ((),)),
        Example(lambda np_, x: np_.mean(x * x, axis=1), ((3, 4),)),
        Example(lambda np_, x: x.mean(axis=(-2,)), ((2, 3, 2),)),
        Example(lambda np_, x: x.mean(), ((5,),)),
    ),
    doc="sum / count",
)


def _average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
             keepdims: Any = _NV) -> Any:
    keep = _flag(keepdims)
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keep)
        scale = np.full(shape_of(avg), _count(shape_of(a), axis), dtype=float_dtype(avg))
        return (avg, scale) if returned else avg
    shape, wshape = shape_of(a), shape_of(weights)
    if wshape != shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(normalize_axis(i, len(shape)) for i in axes)
        if wshape != tuple(shape[i] for i in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along "
                             "specified axis.")
        order = tuple(np.argsort(axes))
        if order != tuple(range(len(axes))):  # weights' axes follow the order of axis
            weights = np.transpose(weights, order)
        weights = np.reshape(weights, tuple(shape[i] if i in axes else 1
                                            for i in range(len(shape))))
        scale = np.sum(np.broadcast_to(weights, shape), axis=axis, keepdims=keep)
    else:
        scale = np.sum(weights, axis=axis, keepdims=keep)
    if np.any(strip(scale) == 0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    avg = np.sum(a * weights, axis=axis, keepdims=keep) / scale
    if not returned:
        return avg
    return avg, np.broadcast_to(scale, shape_of(avg))


average = REDUCTIONS.defcomposite(
    "average", _average, numpy=np.average, domain=POSITIVE,
    examples=(
        Example(lambda np_, x: np_.average(x), ((2, 3),)),
        Example(lambda np_, x: np_.average(x, axis=1), ((2, 3),)),
        Example(lambda np_, x, w: np_.average(x, weights=w), ((2, 3), (2, 3))),
        Example(lambda np_, x, w: np_.average(x, axis=1, weights=w), ((2, 3), (3,))),
        Example(lambda np_, x, w: np_.average(x, axis=-2, weights=w, keepdims=True),
                ((2, 3), (2,))),
        Example(lambda np_, x: np_.average(x, axis=0, weights=np_.array([1.0, 2.0, 0.5])),
                ((3, 2),)),
        Example(lambda np_, w: np_.average(np_.array([1.0, -2.0, 3.0]), weights=w), ((3,),)),
        Example(lambda np_, x, w: np_.average(x, axis=0, weights=w, returned=True),
                ((3, 2), (3, 2))),
        Example(lambda np_, x, w: np_.average(x, axis=(0, 2), weights=w), ((2, 3, 4), (2, 4))),
    ),
    doc="sum(a * w) / sum(w); differentiable in a and in the weights",
)


# --------------------------------------------------------------------------- prod, cumsum, cumprod


def _others_product(y: Any) -> Any:
    """For each i along the last axis, the product of all the other elements (no division)."""
    one = np.ones(shape_of(y)[:-1] + (1,), dtype=float_dtype(y))
    left = np.cumprod(np.concatenate([one, y[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([one, y[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


_prod_split_args = _summing_split_args("prod")


def _prod_impl(x: Any, *, axis: Any, dtype: Any, keepdims: bool, initial: Any) -> Any:
    extra = {} if initial is None else {"initial": initial}
    return np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims, **extra)


def _prod_jvp(dx: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
              initial: Any) -> Any:
    # d prod = sum_i dx_i * prod_{j != i} x_j, exact where some x_j are zero.
    k = shape_of(dx)[0]
    y = _to_last(x, axis)[0]
    if shape_of(y)[-1] == 0:
        return np.zeros((k,) + shape_of(out), dtype=float_dtype(out))
    d = np.sum(_to_last_batched(dx, axis) * _others_product(y), axis=-1, dtype=dtype)
    if initial is not None:
        d = d * initial
    return np.reshape(d, (k,) + shape_of(out))


def _to_last_batched(dx: Any, axis: Any) -> Any:
    """:func:`_to_last` for a tangent, keeping its leading direction axis in front."""
    shape = shape_of(dx)
    red = reduced_axes(axis, len(shape) - 1)
    kept = tuple(i for i in range(len(shape) - 1) if i not in red)
    perm = (0,) + tuple(i + 1 for i in kept + red)
    if perm != tuple(range(len(shape))):
        dx = np.transpose(dx, perm)
    return np.reshape(dx, shape[:1] + tuple(shape[i + 1] for i in kept) + (-1,))


def _from_last(y: Any, axis: Any, shape: tuple[int, ...]) -> Any:
    """The inverse of :func:`_to_last`: ``y`` (kept axes, then one merged axis) in the
    layout of an input of ``shape``."""
    red = reduced_axes(axis, len(shape))
    kept = tuple(i for i in range(len(shape)) if i not in red)
    y = np.reshape(y, tuple(shape[i] for i in kept + red))
    perm = kept + red
    if perm != tuple(range(len(shape))):
        y = np.transpose(y, tuple(int(i) for i in np.argsort(perm)))
    return y


def _prod_vjp(ct: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
              initial: Any) -> Any:
    """x_bar_i = ct * prod_{j != i} x_j (exclusive products, exact at zeros)."""
    k, shape = shape_of(ct)[0], shape_of(x)
    y = _to_last(x, axis)[0]
    if shape_of(y)[-1] == 0:
        return np.zeros((k,) + shape, dtype=float_dtype(out))
    others = _from_last(_others_product(y), axis, shape)
    if initial is not None:
        others = others * initial
    return expand_reduced(ct, axis, len(shape), keepdims) * others


prod = REDUCTIONS.defprimitive(
    "prod", impl=_prod_impl, numpy=np.prod, split_args=_prod_split_args,
    jvp=_prod_jvp, vjp=_prod_vjp,
    examples=(
        Example(lambda np_, x: np_.prod(x), ((2, 3),)),
        Example(lambda np_, x: np_.prod(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.prod(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.prod(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.prod(x, axis=(2, 0), keepdims=True), ((2, 3, 2),)),
        Example(lambda np_, x: x.prod(), ((),)),
        Example(lambda np_, x: x.prod(axis=1), ((3, 4),)),
        Example(lambda np_, x: np_.prod(x, initial=2.0), ((3,),)),
        Example(lambda np_, x: np_.multiply.reduce(x, axis=1), ((2, 3),)),
        # one zero and two zeros in a row: the derivative needs no division
        Example(lambda np_, x: np_.prod(x, axis=1),
                make=lambda rng: (np.array([[0.0, 1.5, -2.0, 0.7], [0.0, 0.0, 1.2, 3.0],
                                            [1.1, -0.4, 2.0, 0.5]]),)),
        Example(lambda np_, x: np_.prod(x),
                make=lambda rng: (np.array([1.3, 0.0, -0.8]),)),
    ),
    doc="np.prod; d = sum_i dx_i prod_{j != i} x_j (exclusive products, exact at zeros)",
)


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


# --------------------------------------------------------------------------- max, min, ptp


def _extremum_split_args(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV,
                         initial: Any = _NV, where: Any = _NV) -> tuple:
    if where is not _NV and where is not True:
        raise TypeError("where= is not supported (mask the input with np.where instead)")
    _check_static("max/min", initial=initial)
    return (a,), {"axis": axis, "keepdims": _flag(keepdims),
                  "initial": initial if _given(initial) else None}


def _extremum_share(x: Any, out: Any, axis: Any, keepdims: bool, dtype: Any) -> np.ndarray:
    """Every element attaining the extremum gets an equal share (JAX's convention at ties);
    none does when ``initial`` wins. A plain array of ``x``'s shape."""
    attains = x == expand_reduced(out, axis, np.ndim(x), keepdims, batched=False)
    count = np.sum(attains, axis=axis, keepdims=True)
    return (attains / np.maximum(count, 1)).astype(dtype)


def _extremum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, keepdims: bool, initial: Any) -> Any:
    share = _extremum_share(x, out, axis, keepdims, float_dtype(dx))
    return np.sum(dx * share, axis=batch_axis(axis, np.ndim(x)), keepdims=keepdims)


def _extremum_vjp(ct: Any, x: Any, *, out: Any, axis: Any, keepdims: bool, initial: Any) -> Any:
    """x_bar = ct * share, share = attains / count (ties share equally)."""
    share = _extremum_share(x, out, axis, keepdims, float_dtype(ct))
    return expand_reduced(ct, axis, np.ndim(x), keepdims) * share


def _extremum(name: str, fn: Any, numpy: tuple) -> Any:
    def impl(x: Any, *, axis: Any, keepdims: bool, initial: Any) -> Any:
        extra = {} if initial is None else {"initial": initial}
        return fn(x, axis=axis, keepdims=keepdims, **extra)

    ufunc = "maximum" if name == "max" else "minimum"
    return REDUCTIONS.defprimitive(
        name, impl=impl, numpy=numpy, split_args=_extremum_split_args, jvp=_extremum_jvp,
        vjp=_extremum_vjp,
        examples=(
            Example(lambda np_, x: getattr(np_, name)(x), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=0), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=-1, keepdims=True), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=(0, 2)), ((2, 3, 4),)),
            Example(lambda np_, x: getattr(np_, "a" + name)(x, axis=1), ((3, 4),)),
            Example(lambda np_, x: getattr(np_, "a" + name)(x, axis=None, keepdims=True),
                    ((3, 2),)),
            Example(lambda np_, x: getattr(x, name)(), ((),)),
            Example(lambda np_, x: getattr(x, name)(axis=-2), ((2, 3, 2),)),
            Example(lambda np_, x: getattr(np_, ufunc).reduce(x, axis=1), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=0, initial=0.0), ((3, 2),)),
            # ties share the derivative equally
            Example(lambda np_, x: getattr(np_, name)(x, axis=1),
                    make=lambda rng: (np.array([[1.0, 3.0, 3.0, -1.0], [-2.0, 0.5, -2.0, -2.0],
                                                [0.3, 0.3, 0.3, 0.3]]),)),
            Example(lambda np_, x: getattr(np_, name)(x),
                    make=lambda rng: (np.array([2.0, -2.0, 2.0, -2.0]),)),
        ),
        doc=f"np.{name}; the derivative of the element(s) attaining it, shared equally at ties",
    )


max = _extremum("max", np.max, (np.max, np.amax))  # noqa: A001 - NumPy's name
min = _extremum("min", np.min, (np.min, np.amin))  # noqa: A001 - NumPy's name


def _ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV) -> Any:
    keep = _flag(keepdims)
    return np.max(a, axis=axis, keepdims=keep) - np.min(a, axis=axis, keepdims=keep)


ptp = REDUCTIONS.defcomposite(
    "ptp", _ptp, numpy=np.ptp,
    examples=(
        Example(lambda np_, x: np_.ptp(x), ((2, 3),)),
        Example(lambda np_, x: np_.ptp(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.ptp(x, axis=(0, -1), keepdims=True), ((2, 3, 4),)),
    ),
    doc="max - min",
)


# --------------------------------------------------------------------------- var, std


def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
         correction: Any = _NV) -> Any:
    _refuse("var", where=where, mean=mean)
    if correction is not _NV:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    centered = a - np.mean(a, axis=axis, dtype=dtype, keepdims=True)
    total = np.sum(centered * centered, axis=axis, dtype=dtype, keepdims=_flag(keepdims))
    dof = _count(shape_of(a), axis) - ddof  # a Python number, so float32 stays float32
    return total / (dof if dof > 0 else 0)


def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
         correction: Any = _NV) -> Any:
    return np.sqrt(_var(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean,
                        correction=correction))


def _moment_examples(name: str) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_, name)

    return (
        Example(lambda np_, x: fn(np_)(x), ((2, 3),)),
        Example(lambda np_, x: fn(np_)(x, axis=0), ((3, 2),)),
        Example(lambda np_, x: fn(np_)(x, axis=-1, ddof=1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: fn(np_)(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: fn(np_)(x, ddof=1), ((4,),)),
        Example(lambda np_, x: getattr(x, name)(axis=1), ((2, 3),)),
        Example(lambda np_, x: getattr(x, name)(), ((5,),)),
    )


var = REDUCTIONS.defcomposite("var", _var, numpy=np.var, examples=_moment_examples("var"),
                              doc="mean of squared deviations / (n - ddof) * n")
std = REDUCTIONS.defcomposite("std", _std, numpy=np.std, examples=_moment_examples("std"),
                              doc="sqrt(var)")


# --------------------------------------------------------------------------- nan-functions


def _zero_nans(a: Any, value: float) -> tuple[Any, Any]:
    """``a`` with its nans replaced by ``value`` (derivative 0 there), and the nan mask."""
    nan = np.isnan(a)
    return np.where(nan, value, a), nan


def _nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: Any = _NV, initial: Any = _NV, where: Any = _NV) -> Any:
    return np.sum(_zero_nans(a, 0.0)[0], axis=axis, dtype=dtype, keepdims=keepdims,
                  initial=initial, where=where)


def _nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = _NV, initial: Any = _NV, where: Any = _NV) -> Any:
    return np.prod(_zero_nans(a, 1.0)[0], axis=axis, dtype=dtype, keepdims=keepdims,
                   initial=initial, where=where)


def _nan_extremum(fn: Any, fill: float) -> Any:
    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV,
             initial: Any = _NV, where: Any = _NV) -> Any:
        filled, nan = _zero_nans(a, fill)
        result = fn(filled, axis=axis, keepdims=keepdims, initial=initial, where=where)
        all_nan = np.all(nan, axis=axis, keepdims=_flag(keepdims))
        if np.any(all_nan):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
            result = np.where(all_nan, np.nan, result)
        return result

    return impl


def _nancount(nan: Any, axis: Any, keepdims: bool, dtype: Any) -> Any:
    return np.sum(~nan, axis=axis, keepdims=keepdims, dtype=dtype)


def _nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = _NV, *, where: Any = _NV) -> Any:
    _refuse("nanmean", where=where)
    filled, nan = _zero_nans(a, 0.0)
    keep = _flag(keepdims)
    total = np.sum(filled, axis=axis, dtype=dtype, keepdims=keep)
    return total / _nancount(nan, axis, keep, float_dtype(a) if dtype is None else dtype)


def _nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
            correction: Any = _NV) -> Any:
    _refuse("nanvar", where=where, mean=mean)
    if correction is not _NV:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    filled, nan = _zero_nans(a, 0.0)
    dtype = float_dtype(a) if dtype is None else dtype
    centered = filled - (np.sum(filled, axis=axis, dtype=dtype, keepdims=True)
                         / _nancount(nan, axis, True, dtype))
    centered = np.where(nan, 0.0, centered)
    keep = _flag(keepdims)
    total = np.sum(centered * centered, axis=axis, dtype=dtype, keepdims=keep)
    return total / np.maximum(_nancount(nan, axis, keep, dtype) - ddof, 0)


def _nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
            correction: Any = _NV) -> Any:
    return np.sqrt(_nanvar(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean,
                           correction=correction))


def _nancum(fn: Any, fill: float) -> Any:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return fn(_zero_nans(a, fill)[0], axis=axis, dtype=dtype)

    return impl


def _with_nans(shape: tuple[int, ...], where: tuple) -> Any:
    def make(rng: np.random.Generator) -> tuple:
        x = rng.uniform(-2.0, 2.0, size=shape)
        x[where] = np.nan
        return (x,)

    return make


_NAN_3x4 = _with_nans((3, 4), (np.array([0, 1, 2]), np.array([1, 0, 3])))
_NAN_ROW = _with_nans((3, 3), (np.array([1, 1, 1, 0]), np.array([0, 1, 2, 2])))


def _nan_examples(name: str, ddof: bool = False, row: bool = True) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_, name)

    examples = [
        Example(lambda np_, x: fn(np_)(x), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=1), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=0, keepdims=True), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=-1), ((2, 3),)),
    ]
    if ddof:
        examples.append(Example(lambda np_, x: fn(np_)(x, axis=1, ddof=1), make=_NAN_3x4))
    if row:
        examples.append(Example(lambda np_, x: fn(np_)(x, axis=0), make=_NAN_ROW))
    return tuple(examples)


nansum = REDUCTIONS.defcomposite("nansum", _nansum, numpy=np.nansum,
                                 examples=_nan_examples("nansum"), doc="sum with nans counted as 0")
nanprod = REDUCTIONS.defcomposite("nanprod", _nanprod, numpy=np.nanprod,
                                  examples=_nan_examples("nanprod"),
                                  doc="prod with nans counted as 1")
nanmax = REDUCTIONS.defcomposite("nanmax", _nan_extremum(np.max, -np.inf), numpy=np.nanmax,
                                 examples=_nan_examples("nanmax", row=False),
                                 doc="max ignoring nans (nan where all are nan)")
nanmin = REDUCTIONS.defcomposite("nanmin", _nan_extremum(np.min, np.inf), numpy=np.nanmin,
                                 examples=_nan_examples("nanmin", row=False),
                                 doc="min ignoring nans (nan where all are nan)")
nanmean = REDUCTIONS.defcomposite("nanmean", _nanmean, numpy=np.nanmean,
                                  examples=_nan_examples("nanmean", row=False),
                                  doc="mean of the non-nan elements")
nanvar = REDUCTIONS.defcomposite("nanvar", _nanvar, numpy=np.nanvar,
                                 examples=_nan_examples("nanvar", ddof=True, row=False),
                                 doc="var of the non-nan elements")
nanstd = REDUCTIONS.defcomposite("nanstd", _nanstd, numpy=np.nanstd,
                                 examples=_nan_examples("nanstd", ddof=True, row=False),
                                 doc="std of the non-nan elements")
nancumsum = REDUCTIONS.defcomposite(
    "nancumsum", _nancum(np.cumsum, 0.0), numpy=np.nancumsum,
    examples=(Example(lambda np_, x: np_.nancumsum(x), make=_NAN_3x4),
              Example(lambda np_, x: np_.nancumsum(x, axis=1), make=_NAN_3x4)),
    doc="cumsum with nans counted as 0",
)
nancumprod = REDUCTIONS.defcomposite(
    "nancumprod", _nancum(np.cumprod, 1.0), numpy=np.nancumprod,
    examples=(Example(lambda np_, x: np_.nancumprod(x), make=_NAN_3x4),
              Example(lambda np_, x: np_.nancumprod(x, axis=0), make=_NAN_3x4)),
    doc="cumprod with nans counted as 1",
)


# --------------------------------------------------------------------------- sort, quantiles


def _sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *,
          stable: Any = None) -> Any:
    if order is not None:
        raise UnsupportedPrimitiveError("np.sort(order=...) (structured arrays) is not "
                                        "supported on dual arrays")
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    axis = normalize_axis(axis, len(shape_of(a)))
    # a stable order gives tied values the tangents in their original order, as JAX does
    return _take_along(a, np.argsort(a, axis=axis, kind="stable"), axis)


sort = REDUCTIONS.defcomposite(
    "sort", _sort, numpy=np.sort,
    examples=(
        Example(lambda np_, x: np_.sort(x), ((5,),)),
        Example(lambda np_, x: np_.sort(x), ((3, 4),)),
        Example(lambda np_, x: np_.sort(x, axis=0), ((3, 4),)),
        Example(lambda np_, x: np_.sort(x, axis=-2), ((2, 3, 2),)),
        Example(lambda np_, x: np_.sort(x, axis=None), ((2, 3),)),
        Example(lambda np_, x: np_.sort(x * x)[..., 1:] * np_.arange(2.0, 4.0), ((2, 3),)),
        Example(lambda np_, x: np_.sort(x) * np_.arange(1.0, 6.0),
                make=lambda rng: (np.array([0.5, -1.0, 0.5, 2.0, -1.0]),)),
    ),
    doc="a taken along argsort(a) (stable): the tangent is permuted the same way",
)


def _partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect",
               order: Any = None) -> Any:
    if order is not None:
        raise UnsupportedPrimitiveError("np.partition(order=...) is not supported on dual "
                                        "arrays")
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    axis = normalize_axis(axis, len(shape_of(a)))
    return _take_along(a, np.argpartition(a, kth, axis=axis, kind=kind), axis)


partition = REDUCTIONS.defcomposite(
    "partition", _partition, numpy=np.partition,
    examples=(
        Example(lambda np_, x: np_.partition(x, 2)[2], ((5,),)),
        Example(lambda np_, x: np_.partition(x, 1)[..., :1], ((3, 4),)),
        Example(lambda np_, x: np_.partition(x, 2, axis=0)[2], ((4, 3),)),
        Example(lambda np_, x: np_.sum(np_.partition(x, 2, axis=-1)[..., :2], axis=-1),
                ((2, 5),)),
        Example(lambda np_, x: np_.sort(np_.partition(x, 3, axis=None)), ((2, 3),),
                reference=lambda np_, x: np_.sort(np_.ravel(x))),
        Example(lambda np_, x: np_.partition(x, -1)[..., -1], ((2, 4),)),
    ),
    doc="a taken along argpartition(a, kth); the tangent follows the same permutation",
)


_METHODS = ("linear", "lower", "higher", "midpoint")


def _quantile_core(a: Any, q: Any, axis: Any, keepdims: bool, method: str, who: str) -> Any:
    """Quantiles along ``axis`` of the sorted values, differentiable in ``a`` and ``q``."""
    if method not in _METHODS:
        raise UnsupportedPrimitiveError(
            f"np.{who}(method={method!r}) is not supported on dual arrays; use one of "
            f"{list(_METHODS)}"
        )
    q_plain = np.asarray(strip(q))
    if np.any((q_plain < 0) | (q_plain > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    shape = shape_of(a)
    y, kept = _to_last(a, axis)
    n = shape_of(y)[-1]
    s = np.sort(y, axis=-1)
    pos = q * (n - 1)
    lo = np.floor(pos)  # piecewise constant: a plain array
    if method == "lower":
        result = s[..., lo.astype(np.intp)]
    elif method == "higher":
        result = s[..., np.ceil(pos).astype(np.intp)]
    else:
        frac = pos - lo if method == "linear" else \
            np.where(lo == strip(pos), 0.0, 0.5).astype(float_dtype(pos))
        below = s[..., lo.astype(np.intp)]
        above = s[..., np.minimum(lo + 1, n - 1).astype(np.intp)]
        result = below + (above - below) * frac
    nq = q_plain.ndim
    if np.any(np.isnan(y)):  # NumPy: nan wherever the slice holds a nan
        result = np.where(np.reshape(np.any(np.isnan(y), axis=-1), kept + (1,) * nq),
                          np.nan, result)
    if nq:
        result = np.transpose(result, tuple(range(len(kept), len(kept) + nq))
                              + tuple(range(len(kept))))
    if keepdims:
        red = reduced_axes(axis, len(shape))
        kept = tuple(1 if i in red else shape[i] for i in range(len(shape)))
    return np.reshape(result, q_plain.shape + kept)


def _quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              method: str = "linear", keepdims: bool = False, *, weights: Any = None,
              interpolation: Any = None) -> Any:
    _refuse("quantile", weights=weights, interpolation=interpolation)
    if not is_traced(q):
        weak = type(q) in (int, float)
        q = np.asarray(q)
        if weak or (q.dtype.kind in "biu" and method != "midpoint"):
            q = q.astype(float_dtype(a))
        elif q.dtype.kind in "biu":
            q = q.astype(np.float64)
    return _quantile_core(a, q, axis, keepdims, method, "quantile")


def _percentile(a: Any, q: Any, axis: Any = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear", keepdims: bool = False,
                *, weights: Any = None, interpolation: Any = None) -> Any:
    _refuse("percentile", weights=weights, interpolation=interpolation)
    if not is_traced(q):
        q = np.asarray(q, dtype=float_dtype(a)) if type(q) in (int, float) else np.asarray(q)
    return _quantile_core(a, q / 100, axis, keepdims, method, "percentile")


def _median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
            keepdims: bool = False) -> Any:
    return _quantile_core(a, np.asarray(0.5, dtype=float_dtype(a)), axis, keepdims, "linear",
                          "median")


median = REDUCTIONS.defcomposite(
    "median", _median, numpy=np.median,
    examples=(
        Example(lambda np_, x: np_.median(x), ((5,),)),
        Example(lambda np_, x: np_.median(x), ((2, 3),)),
        Example(lambda np_, x: np_.median(x, axis=0), ((4, 3),)),
        Example(lambda np_, x: np_.median(x, axis=-1, keepdims=True), ((2, 5),)),
        Example(lambda np_, x: np_.median(x, axis=(0, 2)), ((2, 3, 2),)),
    ),
    doc="middle of the sorted values (mean of the two middle ones for even counts)",
)
quantile = REDUCTIONS.defcomposite(
    "quantile", _quantile, numpy=np.quantile,
    examples=(
        Example(lambda np_, x: np_.quantile(x, 0.3), ((5,),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([0.1, 0.5, 1.0]), axis=1),
                ((2, 4),)),
        Example(lambda np_, x: np_.quantile(x, 0.75, axis=(0, 1), keepdims=True),
                ((2, 3, 2),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([[0.2], [0.9]]), axis=0),
                ((5, 2),), reference=lambda np_, x: np_.reshape(
                    np_.quantile(x, np_.array([0.2, 0.9]), axis=0), (2, 1, 2))),
        Example(lambda np_, x, q: np_.quantile(x, q), ((6,), (2,)), domain=Interval(0.05, 0.95)),
        Example(lambda np_, x: np_.quantile(x, 0.3, axis=-1, method="lower"), ((2, 5),)),
        Example(lambda np_, x: np_.quantile(x, 0.3, method="higher"), ((2, 5),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([0.3, 0.5]), method="midpoint"),
                ((5,),)),
    ),
    doc="linear interpolation between sorted values; differentiable in a and q",
)
percentile = REDUCTIONS.defcomposite(
    "percentile", _percentile, numpy=np.percentile,
    examples=(
        Example(lambda np_, x: np_.percentile(x, 30.0), ((5,),)),
        Example(lambda np_, x: np_.percentile(x, np_.array([10.0, 90.0]), axis=-1),
                ((2, 4),)),
        Example(lambda np_, x: np_.percentile(x, 40.0, axis=0, keepdims=True), ((3, 2),)),
    ),
    doc="quantile(a, q / 100)",
)


# --------------------------------------------------------------------------- clip


def _clip(a: Any, a_min: Any = _NV, a_max: Any = _NV, out: Any = None, *, min: Any = _NV,  # noqa: A002
          max: Any = _NV, **kwargs: Any) -> Any:  # noqa: A002 - NumPy's names
    _refuse("clip", **kwargs)
    if min is not _NV:
        if a_min is not _NV:
            raise ValueError("Passed more than one argument for a_min/min")
        a_min = min
    if max is not _NV:
        if a_max is not _NV:
            raise ValueError("Passed more than one argument for a_max/max")
        a_max = max
    # maximum/minimum split the derivative 0.5/0.5 at a bound, as JAX's clip does
    if _given(a_min):
        a = np.maximum(a, a_min)
    if _given(a_max):
        a = np.minimum(a, a_max)
    return a


clip = REDUCTIONS.defcomposite(
    "clip", _clip, numpy=np.clip,
    examples=(
        Example(lambda np_, x: np_.clip(x, -0.5, 0.7), ((2, 3),)),
        Example(lambda np_, x: np_.clip(x, None, 0.3), ((4,),)),
        Example(lambda np_, x: np_.clip(x, -0.2, None), ((4,),)),
        Example(lambda np_, x, lo: np_.clip(x, lo, lo + 1.0), ((2, 3), (3,))),
        Example(lambda np_, x, hi: np_.clip(x, -1.5, hi), ((2, 3), ())),
        Example(lambda np_, x: x.clip(-1.0, 1.0), ((3, 2),)),
        Example(lambda np_, x: x.clip(max=0.0), ((3,),)),
        # at a bound the derivative is split 0.5/0.5 with the bound (JAX)
        Example(lambda np_, x, lo: np_.clip(x, lo, 1.0),
                make=lambda rng: (np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), np.array(0.0))),
    ),
    doc="minimum(maximum(a, a_min), a_max); 0.5 at a bound",
)


# --------------------------------------------------------------------------- bincount


def _bincount_split_args(x: Any, weights: Any = None, minlength: int = 0) -> tuple:
    if is_traced(x):
        raise TypeError("x holds integer bin numbers and cannot be a dual array")
    return (weights,), {"x": np.asarray(x), "minlength": int(minlength)}


def _bincount_jvp(dw: Any, w: Any, *, out: Any, x: Any, minlength: int) -> Any:
    # one bincount for all directions: direction j's bins are offset by j * nbins
    k, nbins = shape_of(dw)[0], shape_of(out)[0]
    bins = np.reshape(x + nbins * np.arange(k)[:, None], (-1,))
    flat = np.bincount(bins, np.reshape(dw, (-1,)), minlength=k * nbins)
    return np.reshape(flat, (k, nbins))


def _bincount_vjp(ct: Any, w: Any, *, out: Any, x: Any, minlength: int) -> Any:
    """w_bar_i = ct[x_i]: a gather (np.take, itself differentiable in reverse)."""
    return np.take(ct, x, axis=1)


bincount = REDUCTIONS.defprimitive(
    "bincount", impl=lambda w, *, x, minlength: np.bincount(x, w, minlength=minlength),
    numpy=np.bincount, split_args=_bincount_split_args, jvp=_bincount_jvp, vjp=_bincount_vjp,
    examples=(
        Example(lambda np_, w: np_.bincount(np_.array([0, 2, 2, 4, 1, 2]), w), ((6,),)),
        Example(lambda np_, w: np_.bincount(np_.array([3, 1, 1]), w * w, minlength=6),
                ((3,),)),
    ),
    doc="weighted bin counts; linear in the weights (the bins carry no derivative)",
)


# --------------------------------------------------------------------------- not differentiable

defnondiff(
    np.argmax, np.argmin, np.nanargmax, np.nanargmin, np.argsort, np.argpartition, np.lexsort,
    np.searchsorted, np.digitize, np.count_nonzero, np.all, np.any,
    why="integer or boolean results: piecewise constant in the values",
)
