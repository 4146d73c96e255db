"""Sorting, searching and counting: ``sort`` and ``partition``, and the functions that return
indices, counts or booleans (no derivative).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import normalize_axis, shape_of
from ...errors import UnsupportedPrimitiveError
from ...registry import Example, defnondiff
from ._common import REDUCTIONS, _take_along

# --------------------------------------------------------------------------- sort, partition


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



# --------------------------------------------------------------------------- not differentiable

defnondiff(
    np.argmax, np.argmin, np.nanargmax, np.nanargmin, np.argsort, np.argpartition, np.lexsort,
    np.searchsorted, np.digitize, np.count_nonzero, np.all, np.any,
    why="integer or boolean results: piecewise constant in the values",
)
