"""Arrays made from others: ``copy``, ``meshgrid``, ``linspace``, ``full_like``, and the shape
and dtype queries that have no derivative.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...axes import pad_tangent
from ...registry import Example, defnondiff, is_active, strip
from ._common import SHAPE, _joined, _plain

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

# --------------------------------------------------------------------------- buffers

# np.zeros_like(x) of an active x is an active buffer: out = np.zeros_like(x); out[i] = ...
# then carries derivatives (preallocate-then-fill). Its values do not depend on x's, so its
# derivative is zero; a dtype other than a float one gives a plain array.


def _like_split_args(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
                     shape: Any = None, *, device: Any = None) -> tuple:
    return (a,), {"dtype": dtype, "shape": shape}


def _zero_tangent(dx: Any, x: Any, *rest: Any, out: Any, **params: Any) -> Any:
    """No derivative: a zero that broadcasts to the result's tangent without a copy."""
    return np.zeros((1,) * (np.ndim(out) + 1), dtype=out.dtype)


def _zero_cotangent(ct: Any, x: Any, *rest: Any, out: Any, **params: Any) -> Any:
    return np.zeros((1,) * (np.ndim(x) + 1), dtype=ct.dtype)


def _like(numpy: Any, fill: str) -> Any:
    name = numpy.__name__
    return SHAPE.defprimitive(
        name, impl=lambda x, *, dtype, shape: numpy(strip(x), dtype=dtype, shape=shape),
        numpy=numpy, split_args=_like_split_args, jvp=_zero_tangent, vjp=_zero_cotangent,
        examples=(Example(lambda np_, x: _filled(np_, x, name), ((2, 3),)),
                  Example(lambda np_, x: _filled(np_, x, name, shape=(4,)), ((3,),))),
        doc=f"np.{name}: a buffer of {fill} (an active one for an active array, so that "
            f"values assigned into it carry their derivatives); derivative 0",
    )


def _filled(np_: Any, x: Any, name: str, shape: Any = None) -> Any:
    """A buffer made from x and filled from x, as preallocate-then-fill code does."""
    fill = 1.0 if name == "ones_like" else 0.0
    tail = np_.sin(x[1:]) if shape is None else 2.0 * x[0]
    if np_ is np:  # dualad (and NumPy): fill the buffer in place
        out = getattr(np_, name)(x, shape=shape)
        if name == "empty_like":
            out[...] = fill
        out[1:] = tail
        out[0] += x[0] * x[-1]
        return out
    out = np_.full(shape or x.shape, fill, dtype=x.dtype)  # JAX: the same, functionally
    return out.at[1:].set(tail).at[0].add(x[0] * x[-1])


zeros_like = _like(np.zeros_like, "zeros")
ones_like = _like(np.ones_like, "ones")
empty_like = _like(np.empty_like, "uninitialised values")


def _full_like_split_args(a: Any, fill_value: Any, dtype: Any = None, order: str = "K",
                          subok: bool = True, shape: Any = None, *, device: Any = None) -> tuple:
    return (a, fill_value), {"dtype": dtype, "shape": shape}


def _full_like_jvp_fill(dv: Any, x: Any, v: Any, *, out: Any, dtype: Any, shape: Any) -> Any:
    return np.broadcast_to(pad_tangent(dv, np.ndim(out)), (dv.shape[0], *np.shape(out)))


full_like = SHAPE.defprimitive(
    "full_like",
    impl=lambda x, v, *, dtype, shape: _full(x, v, dtype=dtype, shape=shape),
    numpy=np.full_like, split_args=_full_like_split_args,
    jvp=(_zero_tangent, _full_like_jvp_fill),
    vjp=(_zero_cotangent, lambda ct, x, v, *, out, dtype, shape: ct),
    examples=(Example(lambda np_, x: np_.full_like(x, 2.5) * x, ((2, 3),)),
              Example(lambda np_, x, v: np_.full_like(x, v) * x, ((2, 3), ())),
              Example(lambda np_, x, v: np_.full_like(x, v, shape=(2, 3)), ((3,), (3,)))),
    doc="np.full_like: a buffer of fill_value; derivative 0 in the array, 1 in fill_value",
)


def _full(x: Any, v: Any, *, dtype: Any, shape: Any) -> Any:
    if is_active(v):  # a fill value of an outer level: broadcast it, at that level
        out = np.zeros_like(x, dtype=dtype, shape=shape)
        out[...] = v
        return out
    return np.full_like(strip(x), v, dtype=dtype, shape=shape)


# --------------------------------------------------------------------------- no derivative

defnondiff(
    np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.min_scalar_type,
    why="depends on the shape or dtype only, not on the values",
)
