"""Reshaping: ``reshape``, ``transpose`` and ``broadcast_to``, and the composites that move, add
or drop axes (``ravel``, ``moveaxis``, ``swapaxes``, ``squeeze``, ``expand_dims``,
``atleast_1d/2d/3d``, ``broadcast_arrays``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import normalize_axis, sum_to_shape
from ...registry import Example, is_active, strip
from ._common import SHAPE, _axes, _joined, _k, _reshape


def reshaped(x: Any, shape: Any, order: str = "C") -> Any:
    """``np.reshape(x, shape, order=order)``, the shape as a tuple and the order given only
    where it is not C's (Dask's reshape takes no order, and a tuple only).

    >>> reshaped(np.arange(4.0), (2, 2)).shape
    (2, 2)
    """
    shape = tuple(shape) if np.iterable(shape) else (shape,)
    return np.reshape(x, shape) if order == "C" else np.reshape(x, shape, order=order)


def _reshape_jvp(dx: Any, x: Any, *, out: Any, shape: Any, order: str) -> Any:
    if order == "F":  # the direction axis must stay the most significant: put it last
        moved = np.moveaxis(dx, 0, -1)
        return np.moveaxis(np.reshape(moved, np.shape(out) + (_k(dx),), order="F"), -1, 0)
    return reshaped(dx, (_k(dx),) + np.shape(out), order)


def _reshape_vjp(ct: Any, x: Any, *, out: Any, shape: Any, order: str) -> Any:
    """x_bar = reshape(ct, x.shape) in the same order."""
    return _reshape_jvp(ct, out, out=x, shape=np.shape(x), order=order)


def _reshape_split_args(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
                        copy: Any = None) -> tuple:
    shape = newshape if shape is None else shape
    if order not in ("C", "F"):
        raise TypeError(f"order={order!r} is not supported, only 'C' and 'F'")
    return (a,), {"shape": shape, "order": order}


reshape = SHAPE.defprimitive(
    "reshape", impl=lambda x, *, shape, order: reshaped(x, shape, order),
    numpy=np.reshape, split_args=_reshape_split_args, jvp=_reshape_jvp, vjp=_reshape_vjp,
    examples=(
        Example(lambda np_, x: np_.reshape(x, (3, 2)), ((2, 3),)),
        Example(lambda np_, x: np_.reshape(x, -1), ((2, 3),)),
        Example(lambda np_, x: np_.reshape(x, (2, 3), order="F"), ((3, 2),)),
        Example(lambda np_, x: x.reshape(6, 1), ((2, 3),)),
    ),
    doc="np.reshape; linear",
)


def _transpose_split_args(a: Any, axes: Any = None) -> tuple:
    return (a,), {"axes": None if axes is None else tuple(axes)}


def _transpose_jvp(dx: Any, x: Any, *, out: Any, axes: Any) -> Any:
    ndim = np.ndim(x)
    axes = tuple(reversed(range(ndim))) if axes is None else axes
    return np.transpose(dx, (0,) + tuple(normalize_axis(a, ndim) + 1 for a in axes))


def _transpose_vjp(ct: Any, x: Any, *, out: Any, axes: Any) -> Any:
    """x_bar = transpose(ct, inverse permutation of axes)."""
    ndim = np.ndim(x)
    axes = tuple(reversed(range(ndim))) if axes is None else axes
    inverse = [0] * ndim
    for i, a in enumerate(axes):
        inverse[normalize_axis(a, ndim)] = i
    return np.transpose(ct, [0] + [a + 1 for a in inverse])


transpose = SHAPE.defprimitive(
    "transpose", impl=lambda x, *, axes: np.transpose(x, axes), numpy=np.transpose,
    split_args=_transpose_split_args, jvp=_transpose_jvp, vjp=_transpose_vjp,
    examples=(
        Example(lambda np_, x: np_.transpose(x), ((2, 3, 4),)),
        Example(lambda np_, x: np_.transpose(x, (1, -1, 0)), ((2, 3, 4),)),
        Example(lambda np_, x: x.T, ((2, 3),)),
    ),
    doc="np.transpose; linear",
)


def _broadcast_to_split_args(array: Any, shape: Any, subok: bool = False) -> tuple:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return (array,), {"shape": shape}


def _broadcast_to_jvp(dx: Any, x: Any, *, out: Any, shape: Any) -> Any:
    padded = np.reshape(dx, (_k(dx),) + (1,) * (len(shape) - np.ndim(x)) + np.shape(x))
    return np.broadcast_to(padded, (_k(dx),) + tuple(shape))


def _broadcast_to_vjp(ct: Any, x: Any, *, out: Any, shape: Any) -> Any:
    """x_bar = ct summed over the axes the broadcast added or stretched."""
    return sum_to_shape(ct, np.shape(x))


broadcast_to = SHAPE.defprimitive(
    "broadcast_to", impl=lambda x, *, shape: np.broadcast_to(x, shape), numpy=np.broadcast_to,
    split_args=_broadcast_to_split_args, jvp=_broadcast_to_jvp, vjp=_broadcast_to_vjp,
    examples=(
        Example(lambda np_, x: np_.broadcast_to(x, (2, 3)), ((3,),)),
        Example(lambda np_, x: np_.broadcast_to(x, (4, 2, 3)), ((2, 1),)),
        Example(lambda np_, x: np_.broadcast_to(x, (2, 2)), ((),)),
    ),
    doc="np.broadcast_to; linear",
)


# --------------------------------------------------------------------------- axes and ranks


def _ravel(a: Any, order: str = "C") -> Any:
    if order in ("A", "K"):
        p = strip(a)
        order = "F" if (p.flags.f_contiguous and not p.flags.c_contiguous) else "C"
    if order not in ("C", "F"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return reshaped(a, -1, order)


ravel = SHAPE.defcomposite(
    "ravel", _ravel, numpy=np.ravel,
    examples=(
        Example(lambda np_, x: np_.ravel(x), ((2, 3),)),
        Example(lambda np_, x: np_.ravel(x, order="F"), ((2, 3, 2),)),
        Example(lambda np_, x: x.ravel(), ((),)),
        Example(lambda np_, x: x.flatten(), ((3, 2),)),
        Example(lambda np_, x: x.flatten("F"), ((3, 2),)),
    ),
    doc="np.ravel: reshape to 1-D; linear",
)


def _moveaxis(a: Any, source: Any, destination: Any) -> Any:
    ndim = np.ndim(a)
    source = _axes(source, ndim)
    destination = _axes(destination, ndim)
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return np.transpose(a, order)


moveaxis = SHAPE.defcomposite(
    "moveaxis", _moveaxis, numpy=np.moveaxis,
    examples=(
        Example(lambda np_, x: np_.moveaxis(x, 0, -1), ((2, 3, 4),)),
        Example(lambda np_, x: np_.moveaxis(x, (0, 1), (2, 0)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.moveaxis(x, -1, 0), ((3, 2),)),
    ),
    doc="np.moveaxis: a transpose; linear",
)


def _swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    ndim = np.ndim(a)
    order = list(range(ndim))
    i, j = normalize_axis(axis1, ndim), normalize_axis(axis2, ndim)
    order[i], order[j] = order[j], order[i]
    return np.transpose(a, order)


swapaxes = SHAPE.defcomposite(
    "swapaxes", _swapaxes, numpy=np.swapaxes,
    examples=(
        Example(lambda np_, x: np_.swapaxes(x, 0, 2), ((2, 3, 4),)),
        Example(lambda np_, x: x.swapaxes(-1, 0), ((3, 2),)),
        Example(lambda np_, x: x.mT, ((2, 3, 4),)),
    ),
    doc="np.swapaxes: a transpose; linear",
)


def _squeeze(a: Any, axis: Any = None) -> Any:
    shape = np.shape(a)
    if axis is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        axes = _axes(axis, len(shape))
        if any(shape[i] != 1 for i in axes):
            raise ValueError("cannot select an axis to squeeze out which has size not equal "
                             "to one")
    return _reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


squeeze = SHAPE.defcomposite(
    "squeeze", _squeeze, numpy=np.squeeze,
    examples=(
        Example(lambda np_, x: np_.squeeze(x), ((1, 3, 1),)),
        Example(lambda np_, x: np_.squeeze(x, axis=0), ((1, 3, 1),)),
        Example(lambda np_, x: np_.squeeze(x, axis=(0, -1)), ((1, 3, 1),)),
        Example(lambda np_, x: x.squeeze(-1), ((2, 1),)),
        Example(lambda np_, x: np_.squeeze(x), ((1,),)),
    ),
    doc="np.squeeze: a reshape; linear",
)


def _expand_dims(a: Any, axis: Any) -> Any:
    shape = np.shape(a)
    count = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = _axes(axis, len(shape) + count)
    if len(set(axes)) != len(axes):
        raise ValueError("repeated axis")
    rest = iter(shape)
    return np.reshape(a, tuple(1 if i in axes else next(rest)
                               for i in range(len(shape) + count)))


expand_dims = SHAPE.defcomposite(
    "expand_dims", _expand_dims, numpy=np.expand_dims,
    examples=(
        Example(lambda np_, x: np_.expand_dims(x, 0), ((2, 3),)),
        Example(lambda np_, x: np_.expand_dims(x, -1), ((2, 3),)),
        Example(lambda np_, x: np_.expand_dims(x, (0, -1)), ((2,),)),
        Example(lambda np_, x: np_.expand_dims(x, (1, 3)), ((2, 3),)),
        Example(lambda np_, x: np_.expand_dims(x, 0), ((),)),
    ),
    doc="np.expand_dims: a reshape; linear",
)


def _at_least(x: Any, ndim: int) -> Any:
    """NumPy's atleast_{1,2,3}d of one array: 1-D goes to (1, n) and (1, n, 1)."""
    if not is_active(x):
        return (np.atleast_1d, np.atleast_2d, np.atleast_3d)[ndim - 1](x)
    shape = np.shape(x)
    if len(shape) >= ndim:
        return x
    if ndim == 3 and len(shape) == 2:
        return np.reshape(x, shape + (1,))
    new = {0: (1,) * ndim, 1: ((1,) + shape + (1,))[:ndim]}[len(shape)]
    return np.reshape(x, new)


def _atleast(ndim: int) -> Any:
    def impl(*arys: Any) -> Any:
        res = tuple(_at_least(a, ndim) for a in arys)
        return res[0] if len(res) == 1 else res

    impl.__name__ = f"_atleast_{ndim}d"
    return impl


atleast_1d = SHAPE.defcomposite(
    "atleast_1d", _atleast(1), numpy=np.atleast_1d,
    examples=(
        Example(lambda np_, x: np_.atleast_1d(x), ((),)),
        Example(lambda np_, x: np_.atleast_1d(x), ((2, 3),)),
        Example(lambda np_, x, y: np_.atleast_1d(x, y, 2.0), ((), (1,))),
    ),
    doc="np.atleast_1d: a reshape; linear",
)
atleast_2d = SHAPE.defcomposite(
    "atleast_2d", _atleast(2), numpy=np.atleast_2d,
    examples=(
        Example(lambda np_, x: np_.atleast_2d(x), ((),)),
        Example(lambda np_, x: np_.atleast_2d(x), ((3,),)),
        Example(lambda np_, x, y: np_.atleast_2d(x, y), ((3,), (1, 3))),
    ),
    doc="np.atleast_2d: a reshape; linear",
)
atleast_3d = SHAPE.defcomposite(
    "atleast_3d", _atleast(3), numpy=np.atleast_3d,
    examples=(
        Example(lambda np_, x: np_.atleast_3d(x), ((),)),
        Example(lambda np_, x: np_.atleast_3d(x), ((3,),)),
        Example(lambda np_, x, y: np_.atleast_3d(x, y), ((2, 3), (2, 3, 1))),
        Example(lambda np_, x, y: _joined(np_, np_.atleast_3d(x, y)), ((2, 3), (2, 1, 2, 1))),
    ),
    doc="np.atleast_3d: a reshape; linear",
)


def _broadcast_arrays(*args: Any, subok: bool = False) -> Any:
    shape = np.broadcast_shapes(*(np.shape(a) for a in args))
    return tuple(a if np.shape(a) == shape else np.broadcast_to(a, shape) for a in args)


broadcast_arrays = SHAPE.defcomposite(
    "broadcast_arrays", _broadcast_arrays, numpy=np.broadcast_arrays,
    examples=(
        Example(lambda np_, x, y: np_.broadcast_arrays(x, y), ((2, 1), (3,))),
        Example(lambda np_, x, y: np_.broadcast_arrays(x, y, np_.ones((4, 1, 1))),
                ((), (2, 3))),
    ),
    doc="np.broadcast_arrays: broadcast_to each; linear",
)
