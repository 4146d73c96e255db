"""Indexing: ``d[key]`` for basic, advanced and boolean keys, with Ellipsis and None.

The trap: NumPy moves the broadcast dimensions of separated advanced indices
(``x[i, :, j]``) to the front, so indexing a tangent with ``(slice(None),) + key`` would put
the direction axis in the middle. Basic keys take that fast path; advanced keys index a view
with the direction axis moved last, where NumPy leaves it in place.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..axes import batch_axis, weighted_bincount
from ..errors import ConversionError
from ..registry import (
    Example,
    Family,
    array_kind,
    defnondiff,
    external_value,
    is_active,
    is_array,
    lift,
    plain_array,
    strip,
)

INDEXING = Family("indexing", complex_rules=True)

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def as_key(key: Any) -> tuple:
    """``key`` as a tuple; active values cannot be indices."""
    key = key if isinstance(key, tuple) else (key,)
    for item in key:
        if is_active(item):
            raise ConversionError(
                "a dual array cannot be used as an index: indices are integers and have no "
                "derivative. Index with dualad.primal(i) (or an integer array) instead."
            )
    return key


def is_basic(key: tuple) -> bool:
    return all(isinstance(item, _BASIC) and not isinstance(item, bool) for item in key)


def _expand_ellipsis(key: tuple, ndim: int) -> tuple:
    """Replace ``...`` by explicit slices, so the key cannot reach a trailing batch axis."""
    if not any(item is Ellipsis for item in key):
        return key
    consumed = 0
    for item in key:
        if item is None or item is Ellipsis:
            continue
        arr = item if is_array(item) else np.asarray(item) \
            if isinstance(item, (list, np.ndarray)) else None
        consumed += arr.ndim if arr is not None and arr.dtype == bool else 1
    at = next(i for i, item in enumerate(key) if item is Ellipsis)
    return key[:at] + (slice(None),) * (ndim - consumed) + key[at + 1:]


def index_tangent(dx: Any, key: tuple, ndim: int) -> Any:
    """Apply the primal's index ``key`` to a tangent with a leading direction axis."""
    if is_basic(key):
        return dx[(slice(None),) + key]
    moved = lift(np.moveaxis(dx, 0, -1), key)
    return np.moveaxis(moved[_expand_ellipsis(key, ndim)], -1, 0)


def _getitem_impl(x: Any, *, key: Any) -> Any:
    return lift(x, key)[key]


def _getitem_jvp(dx: Any, x: Any, *, out: Any, key: Any) -> Any:
    return index_tangent(dx, as_key(key), np.ndim(x))


# --------------------------------------------------------------------------- transposes of gathers


def _scatter_add(ct: Any, positions: Any, size: int) -> Any:
    """``(k, size)`` sums of ``ct`` (shape ``(k,) + positions.shape``) at the flat
    ``positions``, repeats accumulating: one np.bincount for all k rows (row j's bins are
    offset by j * size), so the result is differentiable again (bincount's rules)."""
    k = ct.shape[0]
    bins = np.reshape(np.reshape(positions, (1, -1)) + size * np.arange(k)[:, None], (-1,))
    flat = weighted_bincount(bins, np.reshape(ct, (-1,)), k * size)
    dtype = getattr(ct, "dtype", None)
    if dtype is not None and dtype.kind in "fc" and flat.dtype != dtype:
        flat = flat.astype(dtype)
    return np.reshape(flat, (k, size))


def _closed_over(f: Any) -> list[Any]:
    """What the function ``f`` closes over (the key a gather indexes with)."""
    return [cell.cell_contents for cell in getattr(f, "__closure__", None) or ()]


def _gather_vjp(ct: Any, x: Any, gather: Any) -> Any:
    """x_bar for ``out = gather(x)``: ct scatter-added to the elements of x that gather reads
    (found by gathering from an array of flat positions)."""
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    size = math.prod(shape)
    positions = gather(lift(np.arange(size).reshape(shape), *_closed_over(gather)))
    return np.reshape(_scatter_add(ct, positions, size), ct.shape[:1] + shape)


def _getitem_vjp(ct: Any, x: Any, *, out: Any, key: Any) -> Any:
    """x_bar = zeros with ct added at x[key] (repeated indices accumulate)."""
    kind = type(key)
    basic_key = key if kind is tuple else (key,)
    if (type(ct) is np.ndarray or is_array(ct)) \
            and (kind is slice or kind is int or is_basic(basic_key)):
        # A basic key selects each element at most once: writing ct into zeros is the
        # scatter-add, without the index bookkeeping. (An active ct takes the general path,
        # which is itself differentiable.)
        x_bar = np.zeros_like(ct, shape=ct.shape[:1] + np.shape(x))
        ct, basic_key = _without_new_axes(ct, basic_key, np.ndim(x))
        if math.prod(ct.shape):  # (Dask refuses to write an empty array)
            x_bar[(slice(None),) + basic_key] = ct
        return x_bar
    return _gather_vjp(ct, x, lambda positions: positions[key])


def _without_new_axes(ct: Any, key: tuple, ndim: int) -> tuple[Any, tuple]:
    """The same assignment ``x_bar[:, key] = ct`` for a basic ``key`` without its
    ``np.newaxis`` entries, their axes squeezed out of ``ct`` (Dask's setitem takes no
    None)."""
    if not any(item is None for item in key):
        return ct, key
    key = _expand_ellipsis(key, ndim)
    new_axes, axis = [], 1  # (ct's axis 0 is the direction axis)
    for item in key:
        if item is None:
            new_axes.append(axis)
        if not isinstance(item, (int, np.integer)):  # (a slice or a new axis: an axis of ct)
            axis += 1
    return np.squeeze(ct, axis=tuple(new_axes)), tuple(i for i in key if i is not None)


def _getitem_vjp_add(total: Any, owned: bool, ct: Any, x: Any, *, out: Any,
                     key: Any) -> Any:
    """Add ``ct``, the cotangent of ``x[key]`` for an int or slice ``key``, into ``total``.

    The rule would write ``ct`` into zeros the size of ``x`` and the engine then add that to
    the cotangent so far; here ``ct`` goes straight into the slice of one buffer (``x[1:]``
    and ``x[:-1]`` share one). None where the general path is needed.
    """
    kind = key.__class__
    if (kind is not slice and kind is not int) or not _plain(x) or not _plain(ct):
        return None
    at = (slice(None), key)
    if total is None:
        buffer = np.zeros_like(ct, shape=(ct.shape[0], *x.shape))
        buffer[at] = ct
        return buffer
    if not _plain(total) or (is_array(ct) and not is_array(total)):
        return None  # (a traced ct cannot be added into a plain buffer in place)
    if owned and np.promote_types(total.dtype, ct.dtype) == total.dtype:
        total[at] += ct
        return total
    buffer = total.astype(np.result_type(total, ct))  # a copy the backward pass owns
    buffer[at] += ct
    return buffer


def _plain(x: Any) -> bool:
    """An ndarray, or an array of a registered kind that stands for one (no derivative)."""
    return x.__class__ is np.ndarray or is_array(x)


getitem = INDEXING.defprimitive(
    "getitem", impl=_getitem_impl, jvp=_getitem_jvp, vjp=_getitem_vjp,
    vjp_add=_getitem_vjp_add, split_args=lambda x, key: ((x,), {"key": as_key(key)}),
    examples=(
        Example(lambda np_, x: x[1], ((3, 4),)),
        Example(lambda np_, x: x[::-1, 1:3], ((3, 4),)),
        Example(lambda np_, x: x[..., 0], ((2, 3, 4),)),
        Example(lambda np_, x: x[None, :, None], ((3,),)),
        Example(lambda np_, x: x[np_.array([2, 0, 2])], ((3, 4),)),
        Example(lambda np_, x: x[np_.array([0, 1]), :, np_.array([2, 0])], ((2, 3, 4),)),
        Example(lambda np_, x: x[:, np_.array([0, 2]), np_.array([1, 1])], ((2, 3, 4),)),
        Example(lambda np_, x: x[..., np_.array([1, 0]), 0], ((2, 3, 4),)),
        Example(lambda np_, x: x[np_.array([[0, 1], [1, 0]])], ((2, 3),)),
        Example(lambda np_, x: x[np_.array([True, False, True])], ((3, 2),)),
        Example(lambda np_, x: x[np_.array([[True, False], [False, True]])], ((2, 2),)),
        Example(lambda np_, x: x[x > 0.1], (), make=lambda rng: (rng.normal(size=(3, 4)),)),
        Example(lambda np_, x: x[1, None, ..., ::2], ((3, 4, 5),)),
        Example(lambda np_, x: x[np_.argsort(x)], ((5,),)),
        Example(lambda np_, x: x[np_.array([0, 1]), None, np_.array([1, 2])], ((3, 4, 5),)),
        Example(lambda np_, x: x[np_.array([2, 0]), ::-1, np_.array([[1], [3]])], ((3, 4, 5),)),
        Example(lambda np_, x: x[np_.array([True, False, True]), ..., np_.array([1, 1])],
                ((3, 4, 5),)),
        Example(lambda np_, x: x[None, ..., np_.array([0, 1])], ((3, 4),)),
        Example(lambda np_, x: x[..., 3:0:-1, None, 2], ((2, 4, 3),)),
    ),
    doc="x[key]; the tangent is indexed the same way",
)


# --------------------------------------------------------------------------- assignment


def _setitem_split_args(x: Any, key: Any, value: Any) -> tuple:
    return (x, value), {"key": as_key(key)}


def _setitem_impl(x: Any, v: Any, *, key: tuple) -> Any:
    """A new array: ``x`` with ``x[key] = v``; a value of an outer level goes down to it."""
    if is_active(x) or is_active(v):
        return setitem(x, v, key=key)
    out = lift(np.array(x, copy=True) if not is_array(x) else _copy(x), v, key)
    out[key] = v
    return out


def _behind(key: tuple, ndim: int) -> tuple:
    """``key`` for an array whose direction axis was moved last (Ellipsis made explicit)."""
    return _expand_ellipsis(key, ndim)


def _setitem_jvp(dxs: Any, x: Any, v: Any, *, out: Any, key: tuple) -> Any:
    """d(out) = dx with dv written at key (zeros for a constant): setitem is linear."""
    dx, dv = dxs
    k = (dx if dx is not None else dv).shape[0]
    base = np.zeros((k, *np.shape(x)), dtype=out.dtype) if dx is None else dx
    value = 0.0 if dv is None else np.moveaxis(dv, 0, -1)
    moved = setitem(np.moveaxis(base, 0, -1), value, key=_behind(key, np.ndim(x)))
    return np.moveaxis(moved, -1, 0)


def _setitem_vjp_x(ct: Any, x: Any, v: Any, *, out: Any, key: tuple) -> Any:
    """x_bar = ct with zeros at key (those elements were overwritten)."""
    moved = setitem(np.moveaxis(ct, 0, -1), 0.0, key=_behind(key, np.ndim(x)))
    return np.moveaxis(moved, -1, 0)


def _setitem_vjp_v(ct: Any, x: Any, v: Any, *, out: Any, key: tuple) -> Any:
    """v_bar = ct[key] where v's element was the one written (a repeated index keeps the
    last write, as NumPy does); the engine sums it back over broadcasting."""
    moved = lift(np.moveaxis(ct, 0, -1), key)
    gathered = np.moveaxis(moved[_behind(key, np.ndim(x))], -1, 0)
    if is_basic(key):
        return gathered
    shape = np.shape(x)
    positions = lift(np.arange(math.prod(shape)).reshape(shape), key)[key]
    written = lift(np.full(shape, -1), key)
    written[key] = np.arange(positions.size).reshape(positions.shape)
    kept = written[key] == np.arange(positions.size).reshape(positions.shape)
    return gathered if np.all(kept) else np.where(kept, gathered, 0.0)


setitem = INDEXING.defprimitive(
    "setitem", impl=_setitem_impl, split_args=_setitem_split_args,
    jvp_all=_setitem_jvp, vjp_all=lambda ct, x, v, *, out, key: (
        _setitem_vjp_x(ct, x, v, out=out, key=key), _setitem_vjp_v(ct, x, v, out=out, key=key)),
    nin=2,
    examples=(
        Example(lambda np_, x, v: _assigned(x, 1, v), ((4,), ()),
                reference=lambda np_, x, v: x.at[1].set(v)),
        Example(lambda np_, x, v: _assigned(x, (slice(None), slice(1, 3)), v) * x,
                ((3, 4), (3, 1)),
                reference=lambda np_, x, v: x.at[:, 1:3].set(v) * x),
        Example(lambda np_, x, v: _assigned(x, (Ellipsis, 0), v), ((2, 3, 2), (3,)),
                reference=lambda np_, x, v: x.at[..., 0].set(v)),
        Example(lambda np_, x, v: _assigned(x, np.array([2, 0, 2]), v), ((4, 2), (3, 2)),
                reference=lambda np_, x, v: _last_write_ref(np_, x, v)),
        Example(lambda np_, x, v: _assigned(x, x > 0.2, v), ((2, 3), ()),
                reference=lambda np_, x, v: np_.where(x > 0.2, v, x)),
        Example(lambda np_, x, v: _assigned(x, (np.array([0, 1]), slice(None),
                                                np.array([1, 0])), v), ((2, 3, 2), (3,)),
                reference=lambda np_, x, v: x.at[np_.array([0, 1]), :,
                                                  np_.array([1, 0])].set(v)),
    ),
    doc="x with x[key] = v (a new array); linear in x and v",
)


def _assigned(x: Any, key: Any, v: Any) -> Any:
    """``x.copy()`` with ``[key] = v``, written as users write it (examples and tests)."""
    out = x.copy()
    out[key] = v
    return out


def _last_write_ref(np_: Any, x: Any, v: Any) -> Any:
    """x[[2, 0, 2]] = v keeps v[2] at row 2 (the last write) and v[1] at row 0."""
    return x.at[np_.array([0, 2])].set(np_.stack([v[1], v[2]]))


def _plain_indices(indices: Any, fn: str) -> Any:
    if is_active(indices):
        raise TypeError(f"the indices of np.{fn} cannot be a dual array: indices have no "
                        f"derivative (pass dualad.primal(indices))")
    return indices


# --------------------------------------------------------------------------- gathers


def _take_split_args(a: Any, indices: Any, axis: Any = None, out: Any = None,
                     mode: str = "raise") -> tuple:
    return (a,), {"indices": _plain_indices(indices, "take"), "axis": axis, "mode": mode}


def _copy(x: Any) -> Any:
    """A copy of an array of a registered kind, to write into: ``np.copy`` for dualad's
    traced arrays (recorded), the library's own for another (Dask has no ``np.copy``)."""
    return np.copy(x) if external_value((x,)) is None else array_kind(x).copy(x, "K")


def take_by(a: Any, indices: Any, **kwargs: Any) -> Any:
    """``np.take(a, indices, ...)``, also for a plain ``a`` and traced indices (dualad.compile's),
    which np.take's dispatch does not see: ``a`` becomes a constant of their kind.

    >>> take_by(np.array([10.0, 20.0, 30.0]), np.array([2, 0]))
    array([30., 10.])
    """
    if kwargs.get("mode") == "raise":  # NumPy's default, which Dask's np.take cannot name
        kwargs = {key: value for key, value in kwargs.items() if key != "mode"}
    if kwargs.get("axis") is None and external_value((a,)) is not None:
        a, kwargs = np.ravel(a), {**kwargs, "axis": 0}  # (Dask's takes an axis only)
    return np.take(lift(a, indices), indices, **kwargs)


def _take_jvp(dx: Any, x: Any, *, out: Any, indices: Any, axis: Any, mode: str) -> Any:
    if axis is None:
        return take_by(np.reshape(dx, (np.shape(dx)[0], -1)), indices, axis=1, mode=mode)
    return take_by(dx, indices, axis=batch_axis(axis, np.ndim(x)), mode=mode)


def _take_vjp(ct: Any, x: Any, *, out: Any, indices: Any, axis: Any, mode: str) -> Any:
    """x_bar = zeros with ct added at the taken elements (repeats accumulate)."""
    return _gather_vjp(ct, x, lambda p: np.take(p, indices, axis=axis, mode=mode))


take = INDEXING.defprimitive(
    "take", impl=lambda x, *, indices, axis, mode: take_by(x, indices, axis=axis, mode=mode),
    numpy=np.take, split_args=_take_split_args, jvp=_take_jvp, vjp=_take_vjp,
    examples=(
        Example(lambda np_, x: np_.take(x, np_.array([0, 2, 2])), ((2, 3),)),
        Example(lambda np_, x: np_.take(x, np_.array([[1, 0], [-1, 1]]), axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.take(x, 1, axis=-1), ((2, 3, 4),)),
        Example(lambda np_, x: x.take([3, 0]), ((4,),),
                reference=lambda np_, x: x.take(np_.array([3, 0]))),
        Example(lambda np_, x: np_.take(x, np_.array([0, 5, -4]), axis=0, mode="clip"),
                ((3, 2),)),
        Example(lambda np_, x: np_.take(x, np_.array([4, -1, 7]), mode="wrap"), ((3,),)),
    ),
    doc="np.take; linear (a gather)",
)


def _take_along_axis_split_args(arr: Any, indices: Any, axis: Any = -1) -> tuple:
    return (arr,), {"indices": _plain_indices(indices, "take_along_axis"), "axis": axis}


def _take_along_axis_jvp(dx: Any, x: Any, *, out: Any, indices: Any, axis: Any) -> Any:
    # The indices have no direction axis: a leading size-1 axis broadcasts them over it.
    if axis is None:
        return np.take_along_axis(np.reshape(dx, (np.shape(dx)[0], -1)), indices[None], axis=1)
    return np.take_along_axis(dx, indices[None], axis=batch_axis(axis, np.ndim(x)))


def _take_along_axis_vjp(ct: Any, x: Any, *, out: Any, indices: Any, axis: Any) -> Any:
    """x_bar = zeros with ct added at the taken elements (repeats accumulate)."""
    return _gather_vjp(ct, x, lambda p: np.take_along_axis(p, indices, axis=axis))


take_along_axis = INDEXING.defprimitive(
    "take_along_axis",
    impl=lambda x, *, indices, axis: np.take_along_axis(x, indices, axis=axis),
    numpy=np.take_along_axis, split_args=_take_along_axis_split_args, jvp=_take_along_axis_jvp,
    vjp=_take_along_axis_vjp,
    examples=(
        Example(lambda np_, x: np_.take_along_axis(x, np_.array([[2, 0, 1, 3], [3, 1, 1, 0],
                                                                 [0, 1, 2, 3]]), axis=1),
                ((3, 4),)),
        Example(lambda np_, x: np_.take_along_axis(x, np_.array([[0, 2, 1]]), axis=0),
                ((3, 3),)),
        Example(lambda np_, x: np_.take_along_axis(x, np_.array([[[1], [0]]]), axis=-1),
                ((2, 2, 3),)),
        Example(lambda np_, x: np_.take_along_axis(x, np_.array([5, 0, 1]), axis=None),
                ((2, 3),)),
    ),
    doc="np.take_along_axis; linear (a gather)",
)

# --------------------------------------------------------------------------- selection


def _where_split_args(condition: Any, *xy: Any) -> tuple:
    if len(xy) not in (0, 2):
        raise TypeError("either both or neither of x and y should be given")
    # np.where(cond) has no differentiable arguments: apply() then runs impl on the primal.
    return tuple(xy), {"cond": strip(condition)}


def _where_vjp_x(ct: Any, x: Any, y: Any, *, out: Any, cond: Any) -> Any:
    """x_bar = where(cond, ct, 0) (the engine sums it back to x's shape)."""
    return np.where(cond, ct, 0.0)


def _where_vjp_y(ct: Any, x: Any, y: Any, *, out: Any, cond: Any) -> Any:
    """y_bar = where(cond, 0, ct) (the engine sums it back to y's shape)."""
    return np.where(cond, 0.0, ct)


where = INDEXING.defprimitive(
    "where", impl=lambda *xy, cond: np.where(cond, *xy), numpy=np.where,
    split_args=_where_split_args,
    jvp=(lambda dx, x, y, *, out, cond: np.where(cond, dx, 0.0),
         lambda dy, x, y, *, out, cond: np.where(cond, 0.0, dy)),
    vjp=(_where_vjp_x, _where_vjp_y),
    elementwise=True,
    examples=(
        Example(lambda np_, x, y: np_.where(x > 0, x, y), ((2, 3), (2, 3))),
        Example(lambda np_, x, y: np_.where(np_.array([True, False, True]), x, y),
                ((2, 3), (2, 1))),
        Example(lambda np_, x: np_.where(x < 0.5, 0.0, x), ((4,),)),
        Example(lambda np_, y: np_.where(np_.array([[True], [False]]), 1.0, y), ((3,),)),
        Example(lambda np_, x, y: np_.where(x > y, x, y), ((), ())),
        Example(lambda np_, x: x[np_.where(x > 0)], ((3, 4),)),
    ),
    doc="np.where(cond, x, y): d = where(cond, dx, dy); np.where(cond) gives indices",
)


def _select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    pairs = zip(reversed(condlist), reversed(choicelist), strict=True)
    for cond, choice in pairs:  # the first match is applied last, so it wins
        out = np.where(strip(cond), choice, out)
    return np.broadcast_to(out, np.broadcast_shapes(
        np.shape(default), *map(np.shape, condlist), *map(np.shape, choicelist)))


select = INDEXING.defcomposite(
    "select", _select, numpy=np.select,
    examples=(
        Example(lambda np_, x, y: np_.select([x < 0, x > 1], [x, y]), ((2, 3), (2, 3))),
        Example(lambda np_, x, y: np_.select([x < 0, x < 1], [x * 2, y], default=x),
                ((4,), ())),
        # NumPy's dispatcher ignores `default`: a dual default needs a dual choice too.
        Example(lambda np_, x, y: np_.select([np_.array([True, False]),
                                              np_.array([False, True])], [1.0, y], default=x),
                ((3, 2), (2,))),
    ),
    doc="np.select: nested where; linear in the choices",
)


def _choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    a = plain_array(_plain_indices(a, "choose"))  # (keeps what marks values: traced, tainted)
    if isinstance(choices, (list, tuple)):
        # NumPy makes the choices one array: a Python number takes the others' dtype (1.0
        # beside float32 choices is float32), which np.stack of its own array would not
        dtype = np.result_type(*(c if isinstance(c, (int, float)) else plain_array(c)
                                 for c in choices))
        choices = [np.asarray(c, dtype=dtype) if isinstance(c, (int, float)) else c
                   for c in choices]
        shape = np.broadcast_shapes(np.shape(a), *map(np.shape, choices))
        choices = np.stack([np.broadcast_to(c, shape) for c in choices])
    n = np.shape(choices)[0]
    if mode == "wrap":
        a = a % n
    elif mode == "clip":
        a = np.clip(a, 0, n - 1)
    elif np.any((a < 0) | (a >= n)):
        raise ValueError("invalid entry in choice array")
    shape = np.broadcast_shapes(np.shape(a), np.shape(choices)[1:])
    choices = np.broadcast_to(choices, (n,) + shape)
    return np.take_along_axis(choices, np.broadcast_to(a, shape)[None], axis=0)[0]


choose = INDEXING.defcomposite(
    "choose", _choose, numpy=np.choose,
    examples=(
        Example(lambda np_, x, y: np_.choose(np_.array([0, 1, 1]), [x, y]), ((3,), (2, 3))),
        Example(lambda np_, x: np_.choose(np_.array([[2], [0]]), x), ((3, 2, 2),)),
        Example(lambda np_, x, y: np_.choose(np_.array([0, 3, -1]), [x, y, 1.0], mode="wrap"),
                ((3,), ())),
        Example(lambda np_, x, y: np_.choose(np_.array([0, 4, -1]), (x, y), mode="clip"),
                ((3,), (3,))),
    ),
    doc="np.choose: a gather from the stacked choices; linear in the choices",
)


def _compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    return np.take(a, np.flatnonzero(strip(condition)), axis=axis)


compress = INDEXING.defcomposite(
    "compress", _compress, numpy=np.compress,
    examples=(
        Example(lambda np_, x: np_.compress(np_.array([True, False, True]), x, axis=1),
                ((2, 3),)),
        Example(lambda np_, x: np_.compress([False, True], x, axis=0), ((3, 2),),
                reference=lambda np_, x: np_.compress(np_.array([False, True]), x, axis=0)),
        Example(lambda np_, x: np_.compress(np_.array([True, False, True, True]), x),
                ((2, 3),)),
    ),
    doc="np.compress: a gather; linear",
)


def _extract(condition: Any, arr: Any) -> Any:
    return np.take(np.ravel(arr), np.flatnonzero(strip(condition)))


extract = INDEXING.defcomposite(
    "extract", _extract, numpy=np.extract,
    examples=(
        Example(lambda np_, x: np_.extract(x > 0, x), (),
                make=lambda rng: (rng.normal(size=(3, 4)),)),
        Example(lambda np_, x: np_.extract(np_.array([[1, 0, 1]]), x), ((1, 3),)),
    ),
    doc="np.extract: a gather; linear",
)

# --------------------------------------------------------------------------- replacing values


def _nan_to_num_split_args(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None,
                           neginf: Any = None) -> tuple:
    if any(map(is_active, (nan, posinf, neginf))):
        raise TypeError("nan, posinf and neginf must be plain numbers, not dual arrays (use "
                        "np.where(np.isnan(x), value, x) for a differentiable replacement)")
    return (x,), {"nan": nan, "posinf": posinf, "neginf": neginf}


def _nan_to_num_vjp(ct: Any, x: Any, *, out: Any, nan: Any, posinf: Any, neginf: Any) -> Any:
    """x_bar = ct where x is finite, 0 where it was replaced."""
    return np.where(np.isfinite(x), ct, 0.0)


nan_to_num = INDEXING.defprimitive(
    "nan_to_num",
    complex_rules=False,  # real-only rules: complex values raise
    impl=lambda x, *, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf,
                                                         neginf=neginf),
    numpy=np.nan_to_num, split_args=_nan_to_num_split_args,
    jvp=lambda dx, x, *, out, nan, posinf, neginf: np.where(np.isfinite(x), dx, 0.0),
    vjp=_nan_to_num_vjp,
    examples=(
        Example(lambda np_, x: np_.nan_to_num(x), ((2, 3),)),
        Example(lambda np_, x: np_.nan_to_num(x * 1.0), (),
                make=lambda rng: (np.array([1.5, np.nan, -np.inf, np.inf, -0.3]),)),
        Example(lambda np_, x: np_.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0) * x[0],
                (), make=lambda rng: (np.array([0.7, np.nan, np.inf, -np.inf]),)),
    ),
    doc="np.nan_to_num; d/dx = 1 where x is finite, 0 where it is replaced",
)

# --------------------------------------------------------------------------- no derivative

defnondiff(
    np.nonzero, np.argwhere, np.flatnonzero, np.diag_indices_from, np.tril_indices_from,
    np.triu_indices_from,
    why="integer indices: they depend on the values only through comparisons",
)
