"""Arrays made from others: ``copy``, ``meshgrid``, ``linspace``, ``full_like``, and the shape
and dtype queries that have no derivative.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ...errors import UnsupportedPrimitiveError
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

# --------------------------------------------------------------------------- no derivative


def _full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, *, device: Any = None) -> Any:
    if is_active(fill_value):
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
