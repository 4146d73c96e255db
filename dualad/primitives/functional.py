"""NumPy functions that call the user's functions: ``np.piecewise``, ``np.apply_along_axis``.

They run the user's function on active values (a piece selected by a mask, one slice at a
time), so its derivative is taken as for any other code: correct, and, for
``apply_along_axis``, one call per slice (as slow as NumPy's own loop). ``np.vectorize``
calls its function on NumPy scalars that NumPy makes itself, which cannot carry a
derivative: it raises, saying how to write the function on whole arrays.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..axes import normalize_axis
from ..registry import REGISTRY, Example, Family, is_array, plain_array, strip

FUNCTIONAL = Family("functional")


def _piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """out = zeros like x; out[cond_i] = f_i(x[cond_i]) (or the constant f_i), in order; an
    extra function fills where no condition holds."""
    values = strip(x)
    array = isinstance(condlist, np.ndarray) or is_array(condlist)
    if array and condlist.ndim == values.ndim or \
            not (array or isinstance(condlist, (list, tuple))):
        condlist = [condlist]
    masks = [plain_array(c, dtype=bool) for c in condlist]
    if len(funclist) == len(masks) + 1:
        masks.append(~functools.reduce(np.logical_or, masks))
    elif len(funclist) != len(masks):
        raise ValueError(f"with {len(masks)} condition(s), either {len(masks)} or "
                         f"{len(masks) + 1} functions are expected")
    setitem = REGISTRY["setitem"]
    out = np.zeros_like(x)
    for mask, f in zip(masks, funclist, strict=True):
        piece = f(x[mask], *args, **kw) if callable(f) else f
        out = setitem(out, piece, key=(mask,))  # the active piece, even into a plain out
    return out


piecewise = FUNCTIONAL.defcomposite(
    "piecewise", _piecewise, numpy=np.piecewise,
    examples=(
        Example(lambda np_, x: np_.piecewise(x, [x < 0, x >= 0], [lambda t: t * t, np_.sin]),
                ((6,),), reference=lambda np_, x: np_.where(x < 0, x * x, np_.sin(x))),
        Example(lambda np_, x: np_.piecewise(x, [x < -0.5, x > 0.5],
                                             [-1.0, lambda t: t ** 3, lambda t: 2.0 * t]),
                ((2, 4),), reference=lambda np_, x: np_.where(
                    x < -0.5, -1.0, np_.where(x > 0.5, x ** 3, 2.0 * x))),
    ),
    doc="np.piecewise: each function on the elements its condition selects",
)


def _apply_along_axis(func1d: Any, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """func1d on every 1-d slice along ``axis``, stacked; its result's axes replace ``axis``
    (as NumPy's). One call per slice, like NumPy's own loop."""
    ndim = np.ndim(arr)
    axis = normalize_axis(int(axis), ndim)
    moved = np.moveaxis(arr, axis, -1)
    outer = np.shape(moved)[:-1]
    results = [func1d(moved[index], *args, **kwargs) for index in np.ndindex(*outer)]
    if not results:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    stacked = np.stack(results)
    inner = np.ndim(results[0])
    stacked = np.reshape(stacked, outer + np.shape(results[0]))
    return np.moveaxis(stacked, tuple(range(len(outer), len(outer) + inner)),
                       tuple(range(axis, axis + inner)))


apply_along_axis = FUNCTIONAL.defcomposite(
    "apply_along_axis", _apply_along_axis, numpy=np.apply_along_axis,
    examples=(
        Example(lambda np_, x: np_.apply_along_axis(lambda v: np_.sum(v * v), 1, x), ((3, 4),)),
        Example(lambda np_, x: np_.apply_along_axis(lambda v: np_.cumsum(v) * v[0], 0, x),
                ((3, 2),)),
        Example(lambda np_, x: np_.apply_along_axis(np_.outer, -1, x, np_.arange(2.0)),
                ((2, 3, 2),),
                reference=lambda np_, x: np_.einsum("ijk,l->ijkl", x, np_.arange(2.0))),
    ),
    doc="np.apply_along_axis: the function on each slice, stacked",
)
