"""Joining, splitting and repeating: ``concatenate`` and ``stack``, and the composites built on
them (``hstack``, ``vstack``, ``dstack``, ``column_stack``, ``block``, ``append``; ``split``,
``array_split``, ``hsplit``, ``vsplit``, ``dsplit``; ``tile``, ``repeat``).
"""

from __future__ import annotations

import itertools
import math
from itertools import pairwise
from typing import Any

import numpy as np

from ...axes import batch_axis, fill_zeros, normalize_axis, shape_of
from ...registry import Example, is_active
from ._common import SHAPE, _joined, _k, _no_dtype, _plain, _reshape
from .reshaping import _at_least


def _concatenate_split_args(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                            casting: str = "same_kind") -> tuple:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return tuple(arrays), {"axis": axis}


def _concatenate_impl(*xs: Any, axis: Any) -> Any:
    return np.concatenate(xs, axis=axis)


def _concatenate_jvp(dxs: Any, *xs: Any, out: Any, axis: Any) -> Any:
    dxs = fill_zeros(dxs, xs)
    if axis is None:
        return np.concatenate([np.reshape(dx, (_k(dx), -1)) for dx in dxs], axis=1)
    return np.concatenate(dxs, axis=batch_axis(axis, np.ndim(out)))


def _concatenate_vjp(ct: Any, *xs: Any, out: Any, axis: Any) -> tuple:
    """x_bar_i = the slice of ct along the joined axis where x_i sits."""
    if axis is None:
        sizes = [math.prod(shape_of(x)) for x in xs]
        where = [slice(None)]
    else:
        axis = normalize_axis(axis, np.ndim(out))
        sizes = [np.shape(x)[axis] for x in xs]
        where = [slice(None)] * (axis + 1)
    ends = list(itertools.accumulate(sizes))
    return tuple(_reshape(ct[tuple(where + [slice(end - n, end)])], (_k(ct),) + np.shape(x))
                 for x, n, end in zip(xs, sizes, ends, strict=True))


concatenate = SHAPE.defprimitive(
    "concatenate", impl=_concatenate_impl, numpy=np.concatenate, split_args=_concatenate_split_args,
    jvp_all=_concatenate_jvp, vjp_all=_concatenate_vjp,
    examples=(
        Example(lambda np_, x, y: np_.concatenate([x, y]), ((2, 3), (1, 3))),
        Example(lambda np_, x, y: np_.concatenate((x, y, x), axis=-1), ((2, 3), (2, 1))),
        Example(lambda np_, x, y: np_.concatenate([x, y], axis=None), ((2, 3), (4,))),
        Example(lambda np_, x: np_.concatenate([x, np_.ones((1, 3))]), ((2, 3),)),
    ),
    doc="np.concatenate; linear",
)


def _stack_split_args(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
                      casting: str = "same_kind") -> tuple:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return tuple(arrays), {"axis": axis}


def _stack_jvp(dxs: Any, *xs: Any, out: Any, axis: int) -> Any:
    dxs = fill_zeros(dxs, xs)
    return np.stack(dxs, axis=normalize_axis(axis, np.ndim(out)) + 1)


def _stack_vjp(ct: Any, *xs: Any, out: Any, axis: int) -> tuple:
    """x_bar_i = ct[..., i, ...] along the new axis."""
    where = (slice(None),) * (normalize_axis(axis, np.ndim(out)) + 1)
    return tuple(ct[where + (i,)] for i in range(len(xs)))


stack = SHAPE.defprimitive(
    "stack", impl=lambda *xs, axis: np.stack(xs, axis=axis), numpy=np.stack,
    split_args=_stack_split_args,
    jvp_all=_stack_jvp, vjp_all=_stack_vjp,
    examples=(
        Example(lambda np_, x, y: np_.stack([x, y]), ((2, 3), (2, 3))),
        Example(lambda np_, x, y: np_.stack([x, y, x], axis=-1), ((2, 3), (2, 3))),
        Example(lambda np_, x: np_.stack([x, 2.0 * np_.ones(3)], axis=1), ((3,),)),
        Example(lambda np_, x, y: np_.stack([x, y]), ((), ())),
    ),
    doc="np.stack; linear",
)


# --------------------------------------------------------------------------- joining





def _hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    _no_dtype("hstack", dtype)
    arrs = [_at_least(a, 1) for a in tup]
    axis = 0 if arrs and np.ndim(arrs[0]) == 1 else 1
    return np.concatenate(arrs, axis=axis, dtype=dtype, casting=casting)


def _vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    _no_dtype("vstack", dtype)
    return np.concatenate([_at_least(a, 2) for a in tup], axis=0, dtype=dtype, casting=casting)


def _dstack(tup: Any) -> Any:
    return np.concatenate([_at_least(a, 3) for a in tup], axis=2)


def _column_stack(tup: Any) -> Any:
    def column(a: Any) -> Any:
        if np.ndim(a) >= 2:
            return a
        return np.reshape(a, (-1, 1)) if is_active(a) else np.array(a, ndmin=2).T

    return np.concatenate([column(a) for a in tup], axis=1)


hstack = SHAPE.defcomposite(
    "hstack", _hstack, numpy=np.hstack,
    examples=(
        Example(lambda np_, x, y: np_.hstack([x, y]), ((3,), (2,))),
        Example(lambda np_, x, y: np_.hstack((x, y, x)), ((2, 3), (2, 1))),
        Example(lambda np_, x: np_.hstack([x, 1.0]), ((),)),
    ),
    doc="np.hstack: concatenate; linear",
)
vstack = SHAPE.defcomposite(
    "vstack", _vstack, numpy=np.vstack,
    examples=(
        Example(lambda np_, x, y: np_.vstack([x, y]), ((3,), (3,))),
        Example(lambda np_, x, y: np_.vstack((x, y)), ((2, 3), (3,))),
        Example(lambda np_, x: np_.vstack([x, np_.zeros((1, 2, 2))]), ((2, 2, 2),)),
    ),
    doc="np.vstack: concatenate; linear",
)
dstack = SHAPE.defcomposite(
    "dstack", _dstack, numpy=np.dstack,
    examples=(
        Example(lambda np_, x, y: np_.dstack([x, y]), ((3,), (3,))),
        Example(lambda np_, x, y: np_.dstack((x, y)), ((2, 3), (2, 3, 2))),
    ),
    doc="np.dstack: concatenate; linear",
)
column_stack = SHAPE.defcomposite(
    "column_stack", _column_stack, numpy=np.column_stack,
    examples=(
        Example(lambda np_, x, y: np_.column_stack([x, y]), ((3,), (3,))),
        Example(lambda np_, x, y: np_.column_stack((x, y, np_.ones(3))), ((3, 2), (3,))),
    ),
    doc="np.column_stack: concatenate; linear",
)
# np.row_stack (deprecated in NumPy 2) is a plain function calling np.vstack: nothing to
# register, it differentiates through vstack.


def _block_depth(x: Any) -> int:
    if isinstance(x, tuple):
        raise TypeError("np.block: arrays is a tuple; only lists can be used to arrange "
                        "blocks, and np.block does not allow implicit conversion from tuple "
                        "to ndarray.")
    if isinstance(x, list):
        if not x:
            raise ValueError("np.block: list cannot be empty")
        depths = {_block_depth(item) for item in x}
        if len(depths) != 1:
            raise ValueError("np.block: list depths are mismatched")
        return 1 + depths.pop()
    return 0


def _block_ndim(x: Any) -> int:
    return max(map(_block_ndim, x)) if isinstance(x, list) else np.ndim(x)


def _block(arrays: Any) -> Any:
    depth = _block_depth(arrays)
    ndim = max(depth, _block_ndim(arrays))

    def join(x: Any, level: int) -> Any:
        if level == depth:
            shape = np.shape(x)
            return _reshape(x, (1,) * (ndim - len(shape)) + shape) if is_active(x) else (
                np.array(x, ndmin=ndim))
        return np.concatenate([join(item, level + 1) for item in x], axis=level - depth)

    return join(arrays, 0)


block = SHAPE.defcomposite(
    "block", _block, numpy=np.block,
    examples=(
        Example(lambda np_, x, y: np_.block([x, y]), ((3,), (2,))),
        Example(lambda np_, a, b: np_.block([[a, b], [b, a]]), ((2, 2), (2, 2))),
        Example(lambda np_, a, b: np_.block([[a, np_.zeros((2, 1))], [b, 1.0]]),
                ((2, 3), (1, 3))),
        Example(lambda np_, x: np_.block(x), ((2, 3),)),
    ),
    doc="np.block: nested concatenate; linear",
)


def _append(arr: Any, values: Any, axis: Any = None) -> Any:
    if axis is None:
        if np.ndim(arr) != 1:
            arr = np.ravel(arr)
        values = np.ravel(values)
        axis = 0
    return np.concatenate((arr, values), axis=axis)


append = SHAPE.defcomposite(
    "append", _append, numpy=np.append,
    examples=(
        Example(lambda np_, x, y: np_.append(x, y), ((2, 3), (2,))),
        Example(lambda np_, x, y: np_.append(x, y, axis=0), ((2, 3), (1, 3))),
        Example(lambda np_, x, y: np_.append(x, y, axis=-1), ((2, 3), (2, 2))),
        Example(lambda np_, x: np_.append(x, 5.0), ((3,),)),
        Example(lambda np_, x: np_.append(np_.ones(2), x), ((),)),
    ),
    doc="np.append: concatenate; linear",
)


# --------------------------------------------------------------------------- splitting


def _array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    _plain(indices_or_sections, "array_split", "indices_or_sections")
    ndim = np.ndim(ary)
    axis = normalize_axis(axis, ndim)
    total = np.shape(ary)[axis]
    try:
        points = [0] + list(indices_or_sections) + [total]
    except TypeError:  # a number of sections
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.") from None
        each, extras = divmod(total, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        points = np.cumsum(sizes).tolist()
    before = (slice(None),) * axis
    return [ary[before + (slice(start, stop),)] for start, stop in pairwise(points)]


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    if np.ndim(indices_or_sections) == 0 and not isinstance(indices_or_sections, (list, tuple)):
        total = np.shape(ary)[normalize_axis(axis, np.ndim(ary))]
        if total % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return _array_split(ary, indices_or_sections, axis)


def _axis_split(fn: str, min_ndim: int, axis: Any) -> Any:
    def impl(ary: Any, indices_or_sections: Any) -> list:
        ndim = np.ndim(ary)
        if ndim < min_ndim:
            raise ValueError(f"{fn} only works on arrays of {min_ndim} or more dimensions")
        return _split(ary, indices_or_sections, axis(ndim))

    impl.__name__ = f"_{fn}"
    return impl


split = SHAPE.defcomposite(
    "split", _split, numpy=np.split,
    examples=(
        Example(lambda np_, x: np_.split(x, 3), ((6,),)),
        Example(lambda np_, x: _joined(np_, np_.split(x, [1, 3], axis=1)), ((2, 5),)),
        Example(lambda np_, x: np_.split(x, 2, axis=-1)[1], ((3, 2, 4),)),
        Example(lambda np_, x: _joined(np_, np_.split(x, [-2])), ((5,),),
                reference=lambda np_, x: _joined(np_, np_.split(x, [3]))),
        Example(lambda np_, x: _joined(np_, np_.split(x, [0, 2, 2, 9])), ((3, 2),),
                reference=lambda np_, x: _joined(np_, np_.split(x, [0, 2, 2, 3]))),
    ),
    doc="np.split: slices; linear",
)
array_split = SHAPE.defcomposite(
    "array_split", _array_split, numpy=np.array_split,
    examples=(
        Example(lambda np_, x: _joined(np_, np_.array_split(x, 3)), ((7,),)),
        Example(lambda np_, x: _joined(np_, np_.array_split(x, 4, axis=1)), ((2, 3),)),
        Example(lambda np_, x: np_.array_split(x, [1, 2])[1], ((4, 2),)),
    ),
    doc="np.array_split: slices; linear",
)
hsplit = SHAPE.defcomposite(
    "hsplit", _axis_split("hsplit", 1, lambda n: 1 if n > 1 else 0), numpy=np.hsplit,
    examples=(
        Example(lambda np_, x: np_.hsplit(x, 2), ((4,),)),
        Example(lambda np_, x: _joined(np_, np_.hsplit(x, [1])), ((2, 3),)),
    ),
    doc="np.hsplit: slices; linear",
)
vsplit = SHAPE.defcomposite(
    "vsplit", _axis_split("vsplit", 2, lambda n: 0), numpy=np.vsplit,
    examples=(Example(lambda np_, x: np_.vsplit(x, 2), ((4, 3),)),),
    doc="np.vsplit: slices; linear",
)
dsplit = SHAPE.defcomposite(
    "dsplit", _axis_split("dsplit", 3, lambda n: 2), numpy=np.dsplit,
    examples=(Example(lambda np_, x: _joined(np_, np_.dsplit(x, [1, 3])), ((2, 1, 4),)),),
    doc="np.dsplit: slices; linear",
)


# --------------------------------------------------------------------------- repeating


def _tile(A: Any, reps: Any) -> Any:
    _plain(reps, "tile", "reps")
    reps = tuple(int(r) for r in np.atleast_1d(reps))
    shape = np.shape(A)
    ndim = max(len(reps), len(shape))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - len(shape)) + shape
    # (r0, n0, r1, n1, ...) from (1, n0, 1, n1, ...): whole copies of A, in C order.
    interleaved = tuple(n for pair in zip((1,) * ndim, shape, strict=True) for n in pair)
    target = tuple(n for pair in zip(reps, shape, strict=True) for n in pair)
    tiled = np.broadcast_to(np.reshape(A, interleaved), target)
    return np.reshape(tiled, tuple(r * n for r, n in zip(reps, shape, strict=True)))


tile = SHAPE.defcomposite(
    "tile", _tile, numpy=np.tile,
    examples=(
        Example(lambda np_, x: np_.tile(x, 2), ((3,),)),
        Example(lambda np_, x: np_.tile(x, (2, 1, 3)), ((2, 3),)),
        Example(lambda np_, x: np_.tile(x, (2,)), ((2, 3),)),
        Example(lambda np_, x: np_.tile(x, (2, 2)), ((),)),
    ),
    doc="np.tile: broadcast and reshape; linear",
)


def _repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    _plain(repeats, "repeat", "repeats")
    if axis is None:
        a, axis = np.ravel(a), 0
    axis = normalize_axis(axis, np.ndim(a))
    return np.take(a, np.repeat(np.arange(np.shape(a)[axis]), repeats), axis=axis)


repeat = SHAPE.defcomposite(
    "repeat", _repeat, numpy=np.repeat,
    examples=(
        Example(lambda np_, x: np_.repeat(x, 2), ((2, 3),)),
        Example(lambda np_, x: np_.repeat(x, 3, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.repeat(x, np_.array([1, 0, 2]), axis=-1), ((2, 3),)),
        Example(lambda np_, x: x.repeat(2), ((),)),
        Example(lambda np_, x: x.repeat([2, 1], axis=1), ((3, 2),),
                reference=lambda np_, x: x.repeat(np_.array([2, 1]), axis=1)),
    ),
    doc="np.repeat: a gather; linear",
)
