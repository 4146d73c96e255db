"""Indexing: ``d[key]`` for basic, advanced and boolean keys, with Ellipsis and None.

The trap: NumPy moves the broadcast dimensions of separated advanced indices
(``x[i, :, j]``) to the front, so indexing a tangent with ``(slice(None),) + key`` would put
the direction axis in the middle. Basic keys take that fast path; advanced keys index a view
with the direction axis moved last, where NumPy leaves it in place.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedPrimitiveError
from ..registry import Example, defprimitive, is_traced

_BASIC = (int, np.integer, slice, type(None), type(Ellipsis))


def as_key(key: Any) -> tuple:
    """``key`` as a tuple; traced values cannot be indices."""
    key = key if isinstance(key, tuple) else (key,)
    for item in key:
        if is_traced(item):
            raise UnsupportedPrimitiveError(
                "a dual array cannot be used as an index: indices are integers and have no "
                "derivative. Index with dualad.primal(i) (or an integer array) instead."
            )
    return key


def _is_basic(key: tuple) -> bool:
    return all(isinstance(item, _BASIC) and not isinstance(item, bool) for item in key)


def _expand_ellipsis(key: tuple, ndim: int) -> tuple:
    """Replace ``...`` by explicit slices, so the key cannot reach a trailing batch axis."""
    if not any(item is Ellipsis for item in key):
        return key
    consumed = 0
    for item in key:
        if item is None or item is Ellipsis:
            continue
        arr = np.asarray(item) if isinstance(item, (list, np.ndarray)) else None
        consumed += arr.ndim if arr is not None and arr.dtype == bool else 1
    at = next(i for i, item in enumerate(key) if item is Ellipsis)
    return key[:at] + (slice(None),) * (ndim - consumed) + key[at + 1:]


def index_tangent(dx: Any, key: tuple, ndim: int) -> Any:
    """Apply the primal's index ``key`` to a tangent with a leading direction axis."""
    if _is_basic(key):
        return dx[(slice(None),) + key]
    moved = np.moveaxis(dx, 0, -1)
    return np.moveaxis(moved[_expand_ellipsis(key, ndim)], -1, 0)


def _getitem_impl(x: Any, *, key: Any) -> Any:
    return x[key]


def _getitem_jvp(dx: Any, x: Any, *, out: Any, key: Any) -> Any:
    return index_tangent(dx, as_key(key), np.ndim(x))


getitem = defprimitive(
    "getitem", impl=_getitem_impl, jvp=_getitem_jvp,
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
    ),
    doc="x[key]; the tangent is indexed the same way",
)
