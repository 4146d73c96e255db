"""Shape primitives: reshaping, transposing, joining and splitting arrays.

All of these are linear: the tangent goes through the same operation, with the leading
direction axis kept in front (axes shifted by one, shapes prefixed with ``k``).
"""

from __future__ import annotations

import itertools
import operator
from itertools import pairwise
from typing import Any

import numpy as np

from ..axes import batch_axis, fill_zeros, normalize_axis, sum_to_shape
from ..errors import UnsupportedPrimitiveError
from ..registry import Example, Family, defnondiff, is_traced, strip

SHAPE = Family("shape")


def _k(dx: Any) -> int:
    return np.shape(dx)[0]


def _reshape_jvp(dx: Any, x: Any, *, out: Any, shape: Any, order: str) -> Any:
    if order == "F":  # the direction axis must stay the most significant: put it last
        moved = np.moveaxis(dx, 0, -1)
        return np.moveaxis(np.reshape(moved, np.shape(out) + (_k(dx),), order="F"), -1, 0)
    return np.reshape(dx, (_k(dx),) + np.shape(out), order=order)


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
    "reshape", impl=lambda x, *, shape, order: np.reshape(x, shape, order=order),
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
        sizes = [int(np.size(x)) for x in xs]
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


# --------------------------------------------------------------------------- helpers for composites
# The composites below run only when an argument is a dual array; they are written with the
# primitives above (reshape, transpose, broadcast_to, concatenate), getitem and take, so
# their derivatives come from those rules.


def _refuse(fn: str, detail: str) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(f"np.{fn} on dual arrays: {detail}")


def _plain(x: Any, fn: str, what: str) -> Any:
    """``x`` must not carry a derivative (an index, a count, a flag)."""
    if is_traced(x):
        raise _refuse(fn, f"{what} cannot be a dual array: it has no derivative. Pass "
                          f"dualad.primal({what}) instead.")
    return x


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or sequence) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(normalize_axis(int(a), ndim) for a in axis)
    return (normalize_axis(int(axis), ndim),)


def _joined(np_: Any, parts: Any) -> Any:
    """Several results of an example as one array (parts weighted, so order matters)."""
    return np_.concatenate([np_.ravel(p) * (i + 1) for i, p in enumerate(parts)])


def _reshape(x: Any, shape: tuple) -> Any:
    return x if np.shape(x) == tuple(shape) else np.reshape(x, shape)


# --------------------------------------------------------------------------- axes and ranks


def _ravel(a: Any, order: str = "C") -> Any:
    if order in ("A", "K"):
        p = strip(a)
        order = "F" if (p.flags.f_contiguous and not p.flags.c_contiguous) else "C"
    if order not in ("C", "F"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    return np.reshape(a, -1, order=order)


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
    if not is_traced(x):
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

# --------------------------------------------------------------------------- joining


def _no_dtype(fn: str, dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise _refuse(fn, f"dtype={dtype} would drop the derivative")


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
        return np.reshape(a, (-1, 1)) if is_traced(a) else np.array(a, ndmin=2).T

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
            return _reshape(x, (1,) * (ndim - len(shape)) + shape) if is_traced(x) else (
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

# --------------------------------------------------------------------------- reordering


def _flip(m: Any, axis: Any = None) -> Any:
    axes = _axes(axis, np.ndim(m))
    return m[tuple(slice(None, None, -1) if i in axes else slice(None)
                   for i in range(np.ndim(m)))]


def _flipud(m: Any) -> Any:
    if np.ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return _flip(m, 0)


def _fliplr(m: Any) -> Any:
    if np.ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return _flip(m, 1)


flip = SHAPE.defcomposite(
    "flip", _flip, numpy=np.flip,
    examples=(
        Example(lambda np_, x: np_.flip(x), ((2, 3),)),
        Example(lambda np_, x: np_.flip(x, 0), ((2, 3),)),
        Example(lambda np_, x: np_.flip(x, axis=(0, -1)), ((2, 3, 2),)),
        Example(lambda np_, x: np_.flip(x), ((),)),
    ),
    doc="np.flip: a reversed slice; linear",
)
flipud = SHAPE.defcomposite(
    "flipud", _flipud, numpy=np.flipud,
    examples=(Example(lambda np_, x: np_.flipud(x), ((3, 2),)),
              Example(lambda np_, x: np_.flipud(x), ((3,),))),
    doc="np.flipud: a reversed slice; linear",
)
fliplr = SHAPE.defcomposite(
    "fliplr", _fliplr, numpy=np.fliplr,
    examples=(Example(lambda np_, x: np_.fliplr(x), ((3, 2),)),),
    doc="np.fliplr: a reversed slice; linear",
)


def _rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    axes = tuple(axes)
    ndim = np.ndim(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise ValueError("Axes must be different.")
    a0, a1 = normalize_axis(axes[0], ndim), normalize_axis(axes[1], ndim)
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return _flip(_flip(m, a0), a1)
    order = list(range(ndim))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return np.transpose(_flip(m, a1), order)
    return _flip(np.transpose(m, order), a1)


rot90 = SHAPE.defcomposite(
    "rot90", _rot90, numpy=np.rot90,
    examples=(
        Example(lambda np_, x: np_.rot90(x), ((2, 3),)),
        Example(lambda np_, x: np_.rot90(x, 2), ((2, 3),)),
        Example(lambda np_, x: np_.rot90(x, -1, axes=(2, 0)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rot90(x, k=3, axes=(1, 2)), ((2, 3, 4),)),
    ),
    doc="np.rot90: flips and a transpose; linear",
)


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    _plain(shift, "roll", "shift")
    if axis is None:
        return np.reshape(_roll(np.ravel(a), shift, 0), np.shape(a))
    ndim = np.ndim(a)
    shifts = dict.fromkeys(range(ndim), 0)
    for sh, ax in np.broadcast(shift, axis):
        shifts[normalize_axis(int(ax), ndim)] += int(sh)
    for ax, sh in shifts.items():
        n = np.shape(a)[ax]
        if n and sh % n:
            a = np.take(a, (np.arange(n) - sh) % n, axis=ax)
    return a


roll = SHAPE.defcomposite(
    "roll", _roll, numpy=np.roll,
    examples=(
        Example(lambda np_, x: np_.roll(x, 2), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, -1, axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, (1, 2), axis=(0, -1)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.roll(x, (1, 1), axis=(1, 1)), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, 3), ((),)),
    ),
    doc="np.roll: a gather; linear",
)


def _rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    n = np.ndim(a)
    axis = normalize_axis(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but "
                                      f"{start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = list(range(n))
    order.remove(axis)
    order.insert(start, axis)
    return np.transpose(a, order)


rollaxis = SHAPE.defcomposite(
    "rollaxis", _rollaxis, numpy=np.rollaxis,
    examples=(
        Example(lambda np_, x: np_.rollaxis(x, 2), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rollaxis(x, 0, 3), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rollaxis(x, -1, 1), ((2, 3, 4),)),
    ),
    doc="np.rollaxis: a transpose; linear",
)

# --------------------------------------------------------------------------- padding

_PAD_OPTIONS = {
    "constant": ("constant_values",), "edge": (), "wrap": (), "reflect": ("reflect_type",),
    "symmetric": ("reflect_type",), "linear_ramp": ("end_values",), "mean": ("stat_length",),
}


def _pad_split_args(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> tuple:
    if not isinstance(mode, str) or mode not in _PAD_OPTIONS:
        raise TypeError(f"mode={mode!r} is not supported, only "
                        f"{', '.join(map(repr, _PAD_OPTIONS))}")
    extra = set(kwargs) - set(_PAD_OPTIONS[mode])
    if extra:
        raise TypeError(f"unsupported keyword arguments for mode {mode!r}: {sorted(extra)}")
    if any(is_traced(v) for v in kwargs.values()) or is_traced(pad_width):
        raise TypeError(f"{sorted(kwargs)} and pad_width must be plain numbers, not dual "
                        f"arrays (for a dual fill value c write np.pad(x - c, ...) + c)")
    width = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (np.ndim(array), 2))
    return (array,), {"pad_width": tuple(map(tuple, width.tolist())), "mode": mode,
                      "options": kwargs}


def _linear_pad_options(options: dict, ndim: int) -> dict:
    """``options`` for padding a tangent or cotangent, stat_length as one pair per axis."""
    # Every supported mode copies or averages input values, or (constant, linear_ramp)
    # mixes them with constants that have no derivative: zero them in the tangent.
    options = {key: 0 if key in ("constant_values", "end_values") else value
               for key, value in options.items()}
    if options.get("stat_length") is not None:  # per axis, as NumPy reads it
        lengths = np.broadcast_to(np.asarray(options["stat_length"]), (ndim, 2))
        options["stat_length"] = tuple(map(tuple, lengths.tolist()))
    return options


def _pad_jvp(dx: Any, x: Any, *, out: Any, pad_width: Any, mode: str, options: dict) -> Any:
    options = _linear_pad_options(options, np.ndim(x))
    if "stat_length" in options and options["stat_length"] is not None:  # + direction axis
        options["stat_length"] = ((1, 1),) + options["stat_length"]
    return np.pad(dx, ((0, 0),) + pad_width, mode=mode, **options)


def _pad_matrix(n: int, before: int, after: int, mode: str, options: dict, axis: int,
                ndim: int) -> np.ndarray:
    """The (before + n + after, n) matrix of padding one line of length n along ``axis``."""
    options = _linear_pad_options(options, ndim)
    if options.get("stat_length") is not None:
        options["stat_length"] = options["stat_length"][axis]
    return np.pad(np.eye(n), ((before, after), (0, 0)), mode=mode, **options)


def _pad_vjp(ct: Any, x: Any, *, out: Any, pad_width: Any, mode: str, options: dict) -> Any:
    """x_bar = P_0^T ... P_{n-1}^T ct: np.pad is one linear map P_a per axis a, applied to
    every line along that axis; P_a is read off by padding the identity (constant: a slice)."""
    shape = np.shape(x)
    if mode == "constant":
        return ct[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(
            pad_width, shape, strict=True))]
    for a, ((before, after), n) in enumerate(zip(pad_width, shape, strict=True)):
        if before or after:
            matrix = _pad_matrix(n, before, after, mode, options, a, len(shape))
            matrix = matrix.astype(ct.dtype, copy=False)  # float32 stays float32
            ct = np.moveaxis(np.matmul(np.moveaxis(ct, a + 1, -1), matrix), -1, a + 1)
    return ct


pad = SHAPE.defprimitive(
    "pad", impl=lambda x, *, pad_width, mode, options: np.pad(x, pad_width, mode, **options),
    numpy=np.pad, split_args=_pad_split_args, jvp=_pad_jvp, vjp=_pad_vjp,
    examples=(
        Example(lambda np_, x: np_.pad(x, 1), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, ((1, 0), (2, 3)), constant_values=1.5), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 1), constant_values=(-1.0, 2.0)), ((3,),)),
        Example(lambda np_, x: np_.pad(x, ((0, 1), (2, 0)), mode="edge"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="reflect"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 3), mode="reflect", reflect_type="odd"), ((4,),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="symmetric"), ((3, 2),)),
        Example(lambda np_, x: np_.pad(x, ((1, 2), (3, 0)), mode="wrap"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 1), mode="linear_ramp", end_values=1.0), ((3,),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="mean"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, 1, mode="mean", stat_length=2), ((4,),)),
        Example(lambda np_, x: np_.pad(x, ((1, 2), (2, 1)), mode="mean",
                                       stat_length=((1, 2), (3, 1))), ((3, 4),)),
    ),
    doc="np.pad (constant, edge, wrap, reflect, symmetric, linear_ramp, mean); linear",
)

# --------------------------------------------------------------------------- diagonals


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

# --------------------------------------------------------------------------- grids and copies

copy = SHAPE.defcomposite(
    "copy", lambda a, order="K", subok=False: a.copy(), numpy=np.copy,
    examples=(Example(lambda np_, x: np_.copy(x) * 2.0, ((2, 3),)),
              Example(lambda np_, x: x.copy(), ((),))),
    doc="np.copy: a new array with the same values and derivative; identity",
)


def _meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> Any:
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    shapes = [[1] * ndim for _ in xi]
    for i, shape in enumerate(shapes):
        shape[i] = -1
    if indexing == "xy" and ndim > 1:
        shapes[0][:2], shapes[1][:2] = [1, -1], [-1, 1]
    out = tuple(np.reshape(x, tuple(s)) for x, s in zip(xi, shapes, strict=True))
    return out if sparse else tuple(np.broadcast_arrays(*out))


meshgrid = SHAPE.defcomposite(
    "meshgrid", _meshgrid, numpy=np.meshgrid,
    examples=(
        Example(lambda np_, x, y: np_.meshgrid(x, y), ((3,), (2,))),
        Example(lambda np_, x, y: np_.meshgrid(x, y, indexing="ij"), ((3,), (2,))),
        Example(lambda np_, x, y, z: np_.meshgrid(x, y, z), ((3,), (2,), (2,))),
        Example(lambda np_, x, y: _joined(np_, np_.meshgrid(x, y, sparse=True)), ((3,), (2,))),
        Example(lambda np_, x: np_.meshgrid(x, np_.arange(2.0), indexing="ij"), ((2, 2),),
                reference=lambda np_, x: np_.meshgrid(np_.ravel(x), np_.arange(2.0),
                                                      indexing="ij")),
    ),
    doc="np.meshgrid: reshapes and broadcasts; linear",
)


def _linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
              retstep: bool = False, dtype: Any = None, axis: int = 0, *,
              device: Any = None) -> Any:
    num = operator.index(_plain(num, "linspace", "num"))
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    if dtype is not None and np.dtype(dtype).kind != "f":  # piecewise constant
        return np.linspace(strip(start), strip(stop), num, endpoint, retstep, dtype, axis)
    div = num - 1 if endpoint else num
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    t = np.reshape(np.arange(num, dtype=np.result_type(start, stop, float(num))),
                   (-1,) + (1,) * len(shape))
    delta = stop - start
    step = delta / div if div > 0 else np.nan
    y = (t * step if div > 0 else t * delta) + start
    if endpoint and num > 1:  # the last sample is stop itself, as in NumPy and JAX
        y = np.concatenate([y[:-1], np.broadcast_to(stop, (1,) + shape)])
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    if dtype is not None:
        y = y.astype(dtype)
    return (y, step) if retstep else y


linspace = SHAPE.defcomposite(
    "linspace", _linspace, numpy=np.linspace,
    examples=(
        Example(lambda np_, a, b: np_.linspace(a, b, 5), ((), ())),
        Example(lambda np_, a, b: np_.linspace(a, b, 4, endpoint=False), ((), ())),
        Example(lambda np_, a, b: np_.linspace(a, b, 3, axis=-1), ((2,), (3, 1))),
        Example(lambda np_, a: np_.linspace(a, 2.0, 1), ((),)),
        Example(lambda np_, b: _joined(np_, np_.linspace(0.0, b, 4, retstep=True)), ((2,),)),
    ),
    doc="np.linspace: start + (stop - start) * t for fixed t; linear in start and stop",
)

# --------------------------------------------------------------------------- no derivative


def _full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, *, device: Any = None) -> Any:
    if is_traced(fill_value):
        raise UnsupportedPrimitiveError(
            "np.full_like(a, fill_value) with a dual fill_value would drop its derivative. "
            "Write np.full_like(a, 0) + fill_value, or np.broadcast_to(fill_value, a.shape)."
        )
    return np.full_like(strip(a), fill_value, dtype=dtype, order=order, subok=subok,
                        shape=shape)


full_like = SHAPE.defcomposite(
    "full_like", _full_like, numpy=np.full_like,
    examples=(Example(lambda np_, x: np_.full_like(x, 2.5) * x, ((2, 3),)),),
    doc="np.full_like: a plain array of fill_value (fill_value must not be dual)",
)

defnondiff(
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like, np.result_type,
    np.can_cast, np.min_scalar_type,
    why="depends on the shape or dtype only, not on the values",
)
