"""Averages, variances and quantiles: ``mean``, ``average``, ``var``, ``std``, ``median``,
``quantile``, ``percentile``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import float_dtype, normalize_axis, reduced_axes, shape_of
from ...errors import UnsupportedPrimitiveError
from ...registry import POSITIVE, Example, Interval, is_active, plain_array, strip
from ..complex_parts import abs_squared
from ._common import _NV, REDUCTIONS, _count, _ddof, _flag, _refuse, _to_last

# --------------------------------------------------------------------------- mean, average


def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NV,
          *, where: Any = _NV) -> Any:
    _refuse("mean", where=where)
    total = np.sum(a, axis=axis, dtype=dtype, keepdims=_flag(keepdims))
    return total / _count(shape_of(a), axis)


mean = REDUCTIONS.defcomposite(
    "mean", _mean, numpy=np.mean,
    examples=(
        Example(lambda np_, x: np_.mean(x), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.mean(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.mean(x), ((),)),
        Example(lambda np_, x: np_.mean(x * x, axis=1), ((3, 4),)),
        Example(lambda np_, x: x.mean(axis=(-2,)), ((2, 3, 2),)),
        Example(lambda np_, x: x.mean(), ((5,),)),
    ),
    doc="sum / count",
)


def _average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
             keepdims: Any = _NV) -> Any:
    keep = _flag(keepdims)
    if weights is None:
        avg = np.mean(a, axis=axis, keepdims=keep)
        scale = np.full(shape_of(avg), _count(shape_of(a), axis), dtype=float_dtype(avg))
        return (avg, scale) if returned else avg
    shape, wshape = shape_of(a), shape_of(weights)
    if wshape != shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = tuple(normalize_axis(i, len(shape)) for i in axes)
        if wshape != tuple(shape[i] for i in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along "
                             "specified axis.")
        order = tuple(np.argsort(axes))
        if order != tuple(range(len(axes))):  # weights' axes follow the order of axis
            weights = np.transpose(weights, order)
        weights = np.reshape(weights, tuple(shape[i] if i in axes else 1
                                            for i in range(len(shape))))
        scale = np.sum(np.broadcast_to(weights, shape), axis=axis, keepdims=keep)
    else:
        scale = np.sum(weights, axis=axis, keepdims=keep)
    if np.any(strip(scale) == 0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    avg = np.sum(a * weights, axis=axis, keepdims=keep) / scale
    if not returned:
        return avg
    return avg, np.broadcast_to(scale, shape_of(avg))


average = REDUCTIONS.defcomposite(
    "average", _average, numpy=np.average, domain=POSITIVE,
    examples=(
        Example(lambda np_, x: np_.average(x), ((2, 3),)),
        Example(lambda np_, x: np_.average(x, axis=1), ((2, 3),)),
        Example(lambda np_, x, w: np_.average(x, weights=w), ((2, 3), (2, 3))),
        Example(lambda np_, x, w: np_.average(x, axis=1, weights=w), ((2, 3), (3,))),
        Example(lambda np_, x, w: np_.average(x, axis=-2, weights=w, keepdims=True),
                ((2, 3), (2,))),
        Example(lambda np_, x: np_.average(x, axis=0, weights=np_.array([1.0, 2.0, 0.5])),
                ((3, 2),)),
        Example(lambda np_, w: np_.average(np_.array([1.0, -2.0, 3.0]), weights=w), ((3,),)),
        Example(lambda np_, x, w: np_.average(x, axis=0, weights=w, returned=True),
                ((3, 2), (3, 2))),
        Example(lambda np_, x, w: np_.average(x, axis=(0, 2), weights=w), ((2, 3, 4), (2, 4))),
    ),
    doc="sum(a * w) / sum(w); differentiable in a and in the weights",
)



# --------------------------------------------------------------------------- var, std


def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
         correction: Any = _NV) -> Any:
    _refuse("var", where=where, mean=mean)
    ddof = _ddof(ddof, correction)
    centered = a - np.mean(a, axis=axis, dtype=dtype, keepdims=True)
    total = np.sum(abs_squared(centered), axis=axis, dtype=dtype, keepdims=_flag(keepdims))
    dof = _count(shape_of(a), axis) - ddof  # a Python number, so float32 stays float32
    return total / (dof if dof > 0 else 0)


def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
         keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
         correction: Any = _NV) -> Any:
    return np.sqrt(_var(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean,
                        correction=correction))


def _moment_examples(name: str) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_, name)

    return (
        Example(lambda np_, x: fn(np_)(x), ((2, 3),)),
        Example(lambda np_, x: fn(np_)(x, axis=0), ((3, 2),)),
        Example(lambda np_, x: fn(np_)(x, axis=-1, ddof=1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: fn(np_)(x, axis=(0, 2)), ((2, 3, 4),)),
        Example(lambda np_, x: fn(np_)(x, ddof=1), ((4,),)),
        Example(lambda np_, x: getattr(x, name)(axis=1), ((2, 3),)),
        Example(lambda np_, x: getattr(x, name)(), ((5,),)),
    )


var = REDUCTIONS.defcomposite("var", _var, numpy=np.var, examples=_moment_examples("var"),
                              doc="mean of squared deviations / (n - ddof) * n")
std = REDUCTIONS.defcomposite("std", _std, numpy=np.std, examples=_moment_examples("std"),
                              doc="sqrt(var)")



# --------------------------------------------------------------------------- median, quantiles

_METHODS = ("linear", "lower", "higher", "midpoint")


def _quantile_core(a: Any, q: Any, axis: Any, keepdims: bool, method: str, who: str) -> Any:
    """Quantiles along ``axis`` of the sorted values, differentiable in ``a`` and ``q``."""
    if method not in _METHODS:
        raise UnsupportedPrimitiveError(
            f"np.{who}(method={method!r}) is not supported on dual arrays; use one of "
            f"{list(_METHODS)}"
        )
    q_plain = plain_array(q)
    if np.any((q_plain < 0) | (q_plain > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    shape = shape_of(a)
    y, kept = _to_last(a, axis)
    n = shape_of(y)[-1]
    s = np.sort(y, axis=-1)
    pos = q * (n - 1)
    lo = np.floor(pos)  # piecewise constant: a plain array
    if method == "lower":
        result = s[..., lo.astype(np.intp)]
    elif method == "higher":
        result = s[..., np.ceil(pos).astype(np.intp)]
    else:
        frac = pos - lo if method == "linear" else \
            np.where(lo == strip(pos), 0.0, 0.5).astype(float_dtype(pos))
        below = s[..., lo.astype(np.intp)]
        above = s[..., np.minimum(lo + 1, n - 1).astype(np.intp)]
        result = below + (above - below) * frac
    nq = q_plain.ndim
    if np.any(np.isnan(y)):  # NumPy: nan wherever the slice holds a nan
        result = np.where(np.reshape(np.any(np.isnan(y), axis=-1), kept + (1,) * nq),
                          np.nan, result)
    if nq:
        result = np.transpose(result, tuple(range(len(kept), len(kept) + nq))
                              + tuple(range(len(kept))))
    if keepdims:
        red = reduced_axes(axis, len(shape))
        kept = tuple(1 if i in red else shape[i] for i in range(len(shape)))
    return np.reshape(result, q_plain.shape + kept)


def _quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              method: str = "linear", keepdims: bool = False, *, weights: Any = None,
              interpolation: Any = None) -> Any:
    _refuse("quantile", weights=weights, interpolation=interpolation)
    if not is_active(q):
        weak = type(q) in (int, float)
        q = np.asarray(q)
        if weak or (q.dtype.kind in "biu" and method != "midpoint"):
            q = q.astype(float_dtype(a))
        elif q.dtype.kind in "biu":
            q = q.astype(np.float64)
    return _quantile_core(a, q, axis, keepdims, method, "quantile")


def _percentile(a: Any, q: Any, axis: Any = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear", keepdims: bool = False,
                *, weights: Any = None, interpolation: Any = None) -> Any:
    _refuse("percentile", weights=weights, interpolation=interpolation)
    if not is_active(q):
        q = np.asarray(q, dtype=float_dtype(a)) if type(q) in (int, float) else np.asarray(q)
    return _quantile_core(a, q / 100, axis, keepdims, method, "percentile")


def _median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
            keepdims: bool = False) -> Any:
    return _quantile_core(a, np.asarray(0.5, dtype=float_dtype(a)), axis, keepdims, "linear",
                          "median")


median = REDUCTIONS.defcomposite(
    "median", _median, numpy=np.median, complex_rules=False,  # NumPy sorts complex values
    examples=(
        Example(lambda np_, x: np_.median(x), ((5,),)),
        Example(lambda np_, x: np_.median(x), ((2, 3),)),
        Example(lambda np_, x: np_.median(x, axis=0), ((4, 3),)),
        Example(lambda np_, x: np_.median(x, axis=-1, keepdims=True), ((2, 5),)),
        Example(lambda np_, x: np_.median(x, axis=(0, 2)), ((2, 3, 2),)),
    ),
    doc="middle of the sorted values (mean of the two middle ones for even counts)",
)
quantile = REDUCTIONS.defcomposite(
    "quantile", _quantile, numpy=np.quantile,
    examples=(
        Example(lambda np_, x: np_.quantile(x, 0.3), ((5,),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([0.1, 0.5, 1.0]), axis=1),
                ((2, 4),)),
        Example(lambda np_, x: np_.quantile(x, 0.75, axis=(0, 1), keepdims=True),
                ((2, 3, 2),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([[0.2], [0.9]]), axis=0),
                ((5, 2),), reference=lambda np_, x: np_.reshape(
                    np_.quantile(x, np_.array([0.2, 0.9]), axis=0), (2, 1, 2))),
        Example(lambda np_, x, q: np_.quantile(x, q), ((6,), (2,)), domain=Interval(0.05, 0.95)),
        Example(lambda np_, x: np_.quantile(x, 0.3, axis=-1, method="lower"), ((2, 5),)),
        Example(lambda np_, x: np_.quantile(x, 0.3, method="higher"), ((2, 5),)),
        Example(lambda np_, x: np_.quantile(x, np_.array([0.3, 0.5]), method="midpoint"),
                ((5,),)),
    ),
    doc="linear interpolation between sorted values; differentiable in a and q",
)
percentile = REDUCTIONS.defcomposite(
    "percentile", _percentile, numpy=np.percentile,
    examples=(
        Example(lambda np_, x: np_.percentile(x, 30.0), ((5,),)),
        Example(lambda np_, x: np_.percentile(x, np_.array([10.0, 90.0]), axis=-1),
                ((2, 4),)),
        Example(lambda np_, x: np_.percentile(x, 40.0, axis=0, keepdims=True), ((3, 2),)),
    ),
    doc="quantile(a, q / 100)",
)
