"""Shape primitives: reshaping, transposing, joining and splitting arrays.

All of these are linear: the tangent goes through the same operation, with the leading
direction axis kept in front (axes shifted by one, shapes prefixed with ``k``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._batch import batch_axis, normalize_axis
from ..registry import Example, defprimitive


def _k(dx: Any) -> int:
    return np.shape(dx)[0]


def _reshape_jvp(dx: Any, x: Any, *, out: Any, shape: Any, order: str) -> Any:
    if order == "F":  # the direction axis must stay the most significant: put it last
        moved = np.moveaxis(dx, 0, -1)
        return np.moveaxis(np.reshape(moved, np.shape(out) + (_k(dx),), order="F"), -1, 0)
    return np.reshape(dx, (_k(dx),) + np.shape(out), order=order)


def _reshape_bind(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
                  copy: Any = None) -> tuple:
    shape = newshape if shape is None else shape
    if order not in ("C", "F"):
        raise TypeError(f"order={order!r} is not supported, only 'C' and 'F'")
    return (a,), {"shape": shape, "order": order}


reshape = defprimitive(
    "reshape", impl=lambda x, *, shape, order: np.reshape(x, shape, order=order),
    numpy=np.reshape, bind=_reshape_bind, jvp=_reshape_jvp,
    examples=(
        Example(lambda np_, x: np_.reshape(x, (3, 2)), ((2, 3),)),
        Example(lambda np_, x: np_.reshape(x, -1), ((2, 3),)),
        Example(lambda np_, x: np_.reshape(x, (2, 3), order="F"), ((3, 2),)),
        Example(lambda np_, x: x.reshape(6, 1), ((2, 3),)),
    ),
    doc="np.reshape; linear",
)


def _transpose_bind(a: Any, axes: Any = None) -> tuple:
    return (a,), {"axes": None if axes is None else tuple(axes)}


def _transpose_jvp(dx: Any, x: Any, *, out: Any, axes: Any) -> Any:
    ndim = np.ndim(x)
    axes = tuple(reversed(range(ndim))) if axes is None else axes
    return np.transpose(dx, (0,) + tuple(normalize_axis(a, ndim) + 1 for a in axes))


transpose = defprimitive(
    "transpose", impl=lambda x, *, axes: np.transpose(x, axes), numpy=np.transpose,
    bind=_transpose_bind, jvp=_transpose_jvp,
    examples=(
        Example(lambda np_, x: np_.transpose(x), ((2, 3, 4),)),
        Example(lambda np_, x: np_.transpose(x, (1, -1, 0)), ((2, 3, 4),)),
        Example(lambda np_, x: x.T, ((2, 3),)),
    ),
    doc="np.transpose; linear",
)


def _broadcast_to_bind(array: Any, shape: Any, subok: bool = False) -> tuple:
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return (array,), {"shape": shape}


def _broadcast_to_jvp(dx: Any, x: Any, *, out: Any, shape: Any) -> Any:
    padded = np.reshape(dx, (_k(dx),) + (1,) * (len(shape) - np.ndim(x)) + np.shape(x))
    return np.broadcast_to(padded, (_k(dx),) + tuple(shape))


broadcast_to = defprimitive(
    "broadcast_to", impl=lambda x, *, shape: np.broadcast_to(x, shape), numpy=np.broadcast_to,
    bind=_broadcast_to_bind, jvp=_broadcast_to_jvp,
    examples=(
        Example(lambda np_, x: np_.broadcast_to(x, (2, 3)), ((3,),)),
        Example(lambda np_, x: np_.broadcast_to(x, (4, 2, 3)), ((2, 1),)),
        Example(lambda np_, x: np_.broadcast_to(x, (2, 2)), ((),)),
    ),
    doc="np.broadcast_to; linear",
)


def _concatenate_bind(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                      casting: str = "same_kind") -> tuple:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return tuple(arrays), {"axis": axis}


def _concatenate_impl(*xs: Any, axis: Any) -> Any:
    return np.concatenate(xs, axis=axis)


def _concatenate_jvp(dxs: Any, *xs: Any, out: Any, axis: Any) -> Any:
    if axis is None:
        return np.concatenate([np.reshape(dx, (_k(dx), -1)) for dx in dxs], axis=1)
    return np.concatenate(dxs, axis=batch_axis(axis, np.ndim(out)))


concatenate = defprimitive(
    "concatenate", impl=_concatenate_impl, numpy=np.concatenate, bind=_concatenate_bind,
    jvp_all=_concatenate_jvp,
    examples=(
        Example(lambda np_, x, y: np_.concatenate([x, y]), ((2, 3), (1, 3))),
        Example(lambda np_, x, y: np_.concatenate((x, y, x), axis=-1), ((2, 3), (2, 1))),
        Example(lambda np_, x, y: np_.concatenate([x, y], axis=None), ((2, 3), (4,))),
        Example(lambda np_, x: np_.concatenate([x, np_.ones((1, 3))]), ((2, 3),)),
    ),
    doc="np.concatenate; linear",
)


def _stack_bind(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> tuple:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return tuple(arrays), {"axis": axis}


def _stack_jvp(dxs: Any, *xs: Any, out: Any, axis: int) -> Any:
    return np.stack(dxs, axis=normalize_axis(axis, np.ndim(out)) + 1)


stack = defprimitive(
    "stack", impl=lambda *xs, axis: np.stack(xs, axis=axis), numpy=np.stack, bind=_stack_bind,
    jvp_all=_stack_jvp,
    examples=(
        Example(lambda np_, x, y: np_.stack([x, y]), ((2, 3), (2, 3))),
        Example(lambda np_, x, y: np_.stack([x, y, x], axis=-1), ((2, 3), (2, 3))),
        Example(lambda np_, x: np_.stack([x, 2.0 * np_.ones(3)], axis=1), ((3,),)),
        Example(lambda np_, x, y: np_.stack([x, y]), ((), ())),
    ),
    doc="np.stack; linear",
)
