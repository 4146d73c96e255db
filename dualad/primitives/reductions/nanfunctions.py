"""The nan-functions: ``nansum``, ``nanprod``, ``nanmax``, ``nanmin``, ``nanmean``,
``nanvar``, ``nanstd``, ``nancumsum``, ``nancumprod``: nans replaced by the operation's
identity, or left out of the count.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...axes import float_dtype
from ...registry import Example
from ..complex_parts import abs_squared
from ._common import _NV, REDUCTIONS, _ddof, _flag, _refuse


def _zero_nans(a: Any, value: float) -> tuple[Any, Any]:
    """``a`` with its nans replaced by ``value`` (derivative 0 there), and the nan mask."""
    nan = np.isnan(a)
    return np.where(nan, value, a), nan


def _nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: Any = _NV, initial: Any = _NV, where: Any = _NV) -> Any:
    return np.sum(_zero_nans(a, 0.0)[0], axis=axis, dtype=dtype, keepdims=keepdims,
                  initial=initial, where=where)


def _nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = _NV, initial: Any = _NV, where: Any = _NV) -> Any:
    return np.prod(_zero_nans(a, 1.0)[0], axis=axis, dtype=dtype, keepdims=keepdims,
                   initial=initial, where=where)


def _nan_extremum(fn: Any, fill: float) -> Any:
    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV,
             initial: Any = _NV, where: Any = _NV) -> Any:
        filled, nan = _zero_nans(a, fill)
        result = fn(filled, axis=axis, keepdims=keepdims, initial=initial, where=where)
        all_nan = np.all(nan, axis=axis, keepdims=_flag(keepdims))
        if np.any(all_nan):
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
            result = np.where(all_nan, np.nan, result)
        return result

    return impl


def _nancount(nan: Any, axis: Any, keepdims: bool, dtype: Any) -> Any:
    return np.sum(~nan, axis=axis, keepdims=keepdims, dtype=dtype)


def _nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = _NV, *, where: Any = _NV) -> Any:
    _refuse("nanmean", where=where)
    filled, nan = _zero_nans(a, 0.0)
    keep = _flag(keepdims)
    total = np.sum(filled, axis=axis, dtype=dtype, keepdims=keep)
    return total / _nancount(nan, axis, keep, float_dtype(a) if dtype is None else dtype)


def _nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
            correction: Any = _NV) -> Any:
    _refuse("nanvar", where=where, mean=mean)
    ddof = _ddof(ddof, correction)
    filled, nan = _zero_nans(a, 0.0)
    dtype = float_dtype(a) if dtype is None else dtype
    centered = filled - (np.sum(filled, axis=axis, dtype=dtype, keepdims=True)
                         / _nancount(nan, axis, True, dtype))
    centered = np.where(nan, 0.0, centered)
    keep = _flag(keepdims)
    real = np.finfo(dtype).dtype  # the variance of complex values is real
    total = np.sum(abs_squared(centered), axis=axis, dtype=real, keepdims=keep)
    return total / np.maximum(_nancount(nan, axis, keep, real) - ddof, 0)


def _nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
            keepdims: Any = _NV, *, where: Any = _NV, mean: Any = _NV,
            correction: Any = _NV) -> Any:
    return np.sqrt(_nanvar(a, axis, dtype, None, ddof, keepdims, where=where, mean=mean,
                           correction=correction))


def _nancum(fn: Any, fill: float) -> Any:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        return fn(_zero_nans(a, fill)[0], axis=axis, dtype=dtype)

    return impl


def _with_nans(shape: tuple[int, ...], where: tuple) -> Any:
    def make(rng: np.random.Generator) -> tuple:
        x = rng.uniform(-2.0, 2.0, size=shape)
        x[where] = np.nan
        return (x,)

    return make


_NAN_3x4 = _with_nans((3, 4), (np.array([0, 1, 2]), np.array([1, 0, 3])))
_NAN_ROW = _with_nans((3, 3), (np.array([1, 1, 1, 0]), np.array([0, 1, 2, 2])))


def _nan_examples(name: str, ddof: bool = False, row: bool = True) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_, name)

    examples = [
        Example(lambda np_, x: fn(np_)(x), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=1), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=0, keepdims=True), make=_NAN_3x4),
        Example(lambda np_, x: fn(np_)(x, axis=-1), ((2, 3),)),
    ]
    if ddof:
        examples.append(Example(lambda np_, x: fn(np_)(x, axis=1, ddof=1), make=_NAN_3x4))
    if row:
        examples.append(Example(lambda np_, x: fn(np_)(x, axis=0), make=_NAN_ROW))
    return tuple(examples)


nansum = REDUCTIONS.defcomposite("nansum", _nansum, numpy=np.nansum,
                                 examples=_nan_examples("nansum"), doc="sum with nans counted as 0")
nanprod = REDUCTIONS.defcomposite("nanprod", _nanprod, numpy=np.nanprod,
                                  examples=_nan_examples("nanprod"),
                                  doc="prod with nans counted as 1")
nanmax = REDUCTIONS.defcomposite("nanmax", _nan_extremum(np.max, -np.inf), numpy=np.nanmax,
                                 examples=_nan_examples("nanmax", row=False),
                                 doc="max ignoring nans (nan where all are nan)")
nanmin = REDUCTIONS.defcomposite("nanmin", _nan_extremum(np.min, np.inf), numpy=np.nanmin,
                                 examples=_nan_examples("nanmin", row=False),
                                 doc="min ignoring nans (nan where all are nan)")
nanmean = REDUCTIONS.defcomposite("nanmean", _nanmean, numpy=np.nanmean,
                                  examples=_nan_examples("nanmean", row=False),
                                  doc="mean of the non-nan elements")
nanvar = REDUCTIONS.defcomposite("nanvar", _nanvar, numpy=np.nanvar,
                                 examples=_nan_examples("nanvar", ddof=True, row=False),
                                 doc="var of the non-nan elements")
nanstd = REDUCTIONS.defcomposite("nanstd", _nanstd, numpy=np.nanstd,
                                 examples=_nan_examples("nanstd", ddof=True, row=False),
                                 doc="std of the non-nan elements")
nancumsum = REDUCTIONS.defcomposite(
    "nancumsum", _nancum(np.cumsum, 0.0), numpy=np.nancumsum,
    examples=(Example(lambda np_, x: np_.nancumsum(x), make=_NAN_3x4),
              Example(lambda np_, x: np_.nancumsum(x, axis=1), make=_NAN_3x4)),
    doc="cumsum with nans counted as 0",
)
nancumprod = REDUCTIONS.defcomposite(
    "nancumprod", _nancum(np.cumprod, 1.0), numpy=np.nancumprod,
    examples=(Example(lambda np_, x: np_.nancumprod(x), make=_NAN_3x4),
              Example(lambda np_, x: np_.nancumprod(x, axis=0), make=_NAN_3x4)),
    doc="cumprod with nans counted as 1",
)
