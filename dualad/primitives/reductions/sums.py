"""Sums and products: ``sum``, ``prod`` and ``bincount`` (weighted counts, a sum per bin)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import storage
from ...axes import (
    batch_axis,
    expand_reduced,
    float_dtype,
    reduced_axes,
    shape_of,
    weighted_bincount,
)
from ...registry import (
    Example,
    is_active,
    is_array,
    plain_array,
    takes_ufunc_methods,
)
from ..indexing import take_by
from ._common import _NV, REDUCTIONS, _check_float_dtype, _check_static, _flag, _given, _to_last

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


def _add_reduce(x: Any, **kwargs: Any) -> Any:
    # np.add.reduce is np.sum without its Python wrapper (which dominates on small arrays);
    # on a dual array it dispatches back to np.sum; Dask's arrays take np.sum only.
    if x.__class__ is np.ndarray or takes_ufunc_methods(x):
        return np.add.reduce(x, **kwargs)
    return np.sum(x, **kwargs)


def _sum_impl(x: Any, *, axis: Any, dtype: Any, keepdims: bool, initial: Any) -> Any:
    extra = {} if initial is None else {"initial": initial}
    return _add_reduce(x, axis=axis, dtype=dtype, keepdims=keepdims, **extra)


def _sum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
             initial: Any) -> Any:
    return _add_reduce(dx, axis=batch_axis(axis, x.ndim), dtype=dtype, keepdims=keepdims)


def _sum_vjp(ct: Any, x: Any, *, out: Any, axis: Any, dtype: Any, keepdims: bool,
             initial: Any) -> Any:
    """x_bar = ct broadcast back over the reduced axes."""
    x_shape = shape_of(x)
    plain = type(ct) is np.ndarray or is_array(ct)  # (the same path compiled: a later sum's
    if axis is None and not keepdims and plain:  # order of additions follows the layout)
        ct = ct.reshape(ct.shape[:1] + (1,) * len(x_shape))  # the common np.sum(x)
    else:
        ct = expand_reduced(ct, axis, len(x_shape), keepdims)
    shape = shape_of(ct)[:1] + x_shape
    if plain and math.prod(shape) < 4096:
        x_bar = np.empty_like(ct, shape=shape, order="C")  # small: a copy is cheaper than a view
        x_bar[...] = ct
        return x_bar
    return storage.broadcast_to(ct, shape, x)


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



# --------------------------------------------------------------------------- prod


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



# --------------------------------------------------------------------------- bincount


def _bincount_split_args(x: Any, weights: Any = None, minlength: int = 0) -> tuple:
    if is_active(x):
        raise TypeError("x holds integer bin numbers and cannot be a dual array")
    return (weights,), {"x": plain_array(x), "minlength": int(minlength)}


def _bincount_jvp(dw: Any, w: Any, *, out: Any, x: Any, minlength: int) -> Any:
    # one bincount for all directions: direction j's bins are offset by j * nbins
    k, nbins = shape_of(dw)[0], shape_of(out)[0]
    bins = np.reshape(x + nbins * np.arange(k)[:, None], (-1,))
    flat = weighted_bincount(bins, np.reshape(dw, (-1,)), k * nbins)
    return np.reshape(flat, (k, nbins))


def _bincount_vjp(ct: Any, w: Any, *, out: Any, x: Any, minlength: int) -> Any:
    """w_bar_i = ct[x_i]: a gather (np.take, itself differentiable in reverse)."""
    return take_by(ct, x, axis=1)


bincount = REDUCTIONS.defprimitive(
    "bincount", impl=lambda w, *, x, minlength: np.bincount(  # (Dask's takes its own bins)
        storage.as_library_of(x, w), w, minlength=minlength),
    numpy=np.bincount, split_args=_bincount_split_args, jvp=_bincount_jvp, vjp=_bincount_vjp,
    examples=(
        Example(lambda np_, w: np_.bincount(np_.array([0, 2, 2, 4, 1, 2]), w), ((6,),)),
        Example(lambda np_, w: np_.bincount(np_.array([3, 1, 1]), w * w, minlength=6),
                ((3,),)),
    ),
    doc="weighted bin counts; linear in the weights (the bins carry no derivative)",
)
