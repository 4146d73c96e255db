"""Counting values: ``np.unique`` and ``np.histogram``.

Which values are distinct, and how many fall in each bin, are piecewise constant in the
values: indices, inverses and counts are plain arrays. The values these functions pass
through do carry derivatives: the unique values are a gather of the input (from each
value's first occurrence), the bin edges come from the data's minimum and maximum when no
``range`` is given, and weighted counts are linear in the weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...registry import Example, is_active, strip
from ._common import REDUCTIONS


def _unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
            return_counts: bool = False, axis: Any = None, **kwargs: Any) -> Any:
    found = np.unique(strip(ar), return_index=True, return_inverse=return_inverse,
                      return_counts=return_counts, axis=axis, **kwargs)
    first = found[1]
    values = np.take(np.ravel(ar), first) if axis is None else np.take(ar, first, axis=axis)
    extra = (first,) if return_index else ()
    extra += found[2:]
    return (values, *extra) if extra else values


unique = REDUCTIONS.defcomposite(
    "unique", _unique, complex_rules=False, numpy=np.unique,
    examples=(
        # JAX's unique has derivative 0; the unique values of distinct ones are sorted x
        Example(lambda np_, x: np_.unique(np_.concatenate([x, x[::2]])), ((5,),),
                reference=lambda np_, x: np_.sort(x)),
        Example(lambda np_, x: np_.unique(np_.concatenate([x, x[:1]]), axis=0), ((3, 2),),
                reference=lambda np_, x: x[np_.argsort(x[:, 0])]),
        Example(lambda np_, x: np_.unique(x, return_counts=True)[0] * 2.0, ((4,),),
                reference=lambda np_, x: np_.sort(x) * 2.0),
    ),
    doc="np.unique: the values gathered from their first occurrences; indices, inverse "
        "and counts are plain",
)


def _edges(a: Any, bins: Any, range: Any, weights: Any) -> tuple[Any, np.ndarray]:  # noqa: A002
    """The bin edges (active where they depend on active data) and their values."""
    values = np.histogram_bin_edges(strip(a), strip(bins), range, strip(weights))
    if is_active(bins):
        return bins, values
    if range is None and not np.ndim(bins) and is_active(a):
        # NumPy spaces the edges evenly from the data's minimum to its maximum (widened by
        # 0.5 on each side when they are equal): the same, from the active extremes
        lo, hi = np.min(a), np.max(a)
        if values[0] != strip(lo):
            lo, hi = lo - 0.5, hi + 0.5
        return np.linspace(lo, hi, values.shape[0]), values
    return values, values


def _histogram(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002 - NumPy's name
               density: Any = None, weights: Any = None) -> tuple:
    edges, edge_values = _edges(a, bins, range, weights)
    data = np.ravel(strip(a))
    if is_active(weights):
        n = edge_values.shape[0] - 1
        at = np.searchsorted(edge_values, data, side="right") - 1
        at[data == edge_values[-1]] = n - 1  # the last bin is closed
        inside = (data >= edge_values[0]) & (data <= edge_values[-1])
        counts = np.bincount(at[inside], weights=np.ravel(weights)[inside], minlength=n)
        counts = counts.astype(weights.dtype)  # NumPy's counts take the weights' dtype
    else:
        counts = np.histogram(data, edge_values, weights=strip(weights))[0]
    if density:
        return counts / np.diff(edges) / np.sum(counts), edges
    return counts, edges


histogram = REDUCTIONS.defcomposite(
    "histogram", _histogram, complex_rules=False, numpy=np.histogram,
    examples=(
        Example(lambda np_, x: np_.histogram(x, bins=4)[1], ((7,),)),
        Example(lambda np_, x, w: np_.histogram(x, bins=3, range=(-2.0, 2.0), weights=w)[0],
                ((8,), (8,))),
        Example(lambda np_, x, w: np_.histogram(x, bins=np_.array([-2.0, -0.5, 0.5, 2.0]),
                                                weights=w, density=True)[0], ((8,), (8,))),
        Example(lambda np_, x: np_.histogram(x, bins=5, density=True)[0], ((9,),)),
    ),
    doc="np.histogram: counts piecewise constant in the data, linear in the weights; edges "
        "from the data's extremes when no range is given",
)


def _histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                         weights: Any = None) -> Any:
    return _edges(a, bins, range, weights)[0]


histogram_bin_edges = REDUCTIONS.defcomposite(
    "histogram_bin_edges", _histogram_bin_edges, complex_rules=False, numpy=np.histogram_bin_edges,
    examples=(Example(lambda np_, x: np_.histogram_bin_edges(x, bins=3), ((2, 3),)),),
    doc="np.histogram_bin_edges: evenly spaced from the data's minimum to its maximum",
)
