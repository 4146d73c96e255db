"""Reductions, accumulations and ``at`` of differentiable ufuncs: ``np.logaddexp.reduce``,
``np.maximum.accumulate``, ``np.add.at``, ...

NumPy hands ``ufunc.method(...)`` to ``__array_ufunc__``; dualad looks the method up in the
registry under ``"ufunc.method"`` (``"logaddexp.reduce"``). The methods that equal a NumPy
function (``np.add.reduce`` is ``np.sum``) go to that function directly; those here are
written with primitives, so both modes and every order follow. A ufunc method listed
nowhere raises, naming a NumPy function that does its job where there is one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...active import leave_views
from ...axes import normalize_axis
from ...errors import UnsupportedPrimitiveError
from ...registry import Example, is_active, strip
from ._common import REDUCTIONS

_LN2 = math.log(2.0)  # a Python number: float32 stays float32


def _method_kwargs(name: str, dtype: Any = None, initial: Any = np._NoValue,
                   where: Any = True) -> None:
    """Refuse what dualad does not differentiate: ``initial=``, ``where=``, integer dtypes."""
    if initial is not np._NoValue or where is not True:
        raise UnsupportedPrimitiveError(
            f"np.{name} on active arrays: initial= and where= are not supported. Select the "
            f"elements first (x[mask], or np.where(mask, x, identity)) and reduce those."
        )
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise UnsupportedPrimitiveError(
            f"np.{name}(..., dtype={dtype}) would drop the derivative: use a float dtype.")


def _constant_shift(m: Any) -> Any:
    """A shift that keeps exp() in range; a constant (its derivative cancels anyway)."""
    m = strip(m)
    return np.where(np.isfinite(m), m, 0.0)


# --------------------------------------------------------------------------- log-sum-exp


def _logaddexp_reduce(a: Any, axis: Any = 0, dtype: Any = None, keepdims: bool = False,
                      **kwargs: Any) -> Any:
    """log(sum(exp(a))) along ``axis``, shifted by the maximum so that exp cannot overflow."""
    _method_kwargs("logaddexp.reduce", dtype, **kwargs)
    m = _constant_shift(np.max(a, axis=axis, keepdims=True))
    total = np.sum(np.exp(a - m), axis=axis, keepdims=True)
    out = np.log(total) + m
    return out if keepdims else np.squeeze(out, axis=_squeezed(axis, np.ndim(a)))


def _squeezed(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(normalize_axis(int(ax), ndim) for ax in axes)


logaddexp_reduce = REDUCTIONS.defcomposite(
    "logaddexp.reduce", _logaddexp_reduce, complex_rules=False, numpy=(),
    examples=(
        Example(lambda np_, x: np_.logaddexp.reduce(x), ((4, 3),)),
        Example(lambda np_, x: np_.logaddexp.reduce(x * 300.0, axis=-1, keepdims=True),
                ((2, 3),)),
        Example(lambda np_, x: np_.logaddexp.reduce(x, axis=None), ((2, 3),)),
    ),
    doc="np.logaddexp.reduce: log-sum-exp along the axis; d/dx = softmax(x)",
)


def _logaddexp2_reduce(a: Any, axis: Any = 0, dtype: Any = None, keepdims: bool = False,
                       **kwargs: Any) -> Any:
    _method_kwargs("logaddexp2.reduce", dtype, **kwargs)
    return _logaddexp_reduce(a * _LN2, axis=axis, keepdims=keepdims) / _LN2


logaddexp2_reduce = REDUCTIONS.defcomposite(
    "logaddexp2.reduce", _logaddexp2_reduce, complex_rules=False, numpy=(),
    examples=(Example(lambda np_, x: np_.logaddexp2.reduce(x, axis=1), ((2, 4),)),),
    doc="np.logaddexp2.reduce: log2(sum(2**x)) along the axis",
)


def _logaddexp_accumulate(a: Any, axis: int = 0, dtype: Any = None, **kwargs: Any) -> Any:
    """out_i = m_i + log(sum_{j <= i} exp(a_j - m_i)), m the running maximum (a constant):
    every term is at most 1 and the largest is 1, so nothing overflows or underflows to
    log(0). Written for all i at once with an (n, n) triangle along the axis."""
    _method_kwargs("logaddexp.accumulate", dtype, **kwargs)
    if np.ndim(a) == 0:
        raise ValueError("cannot accumulate on a scalar")
    axis = normalize_axis(int(axis), np.ndim(a))
    x = np.moveaxis(a, axis, -1)
    n = np.shape(x)[-1]
    m = _constant_shift(np.maximum.accumulate(strip(x), axis=-1))
    earlier = np.tril(np.ones((n, n), dtype=bool))  # [i, j]: j <= i
    diff = np.where(earlier, x[..., None, :] - m[..., :, None], -np.inf)
    out = np.log(np.sum(np.exp(diff), axis=-1)) + m
    return np.moveaxis(out, -1, axis)


logaddexp_accumulate = REDUCTIONS.defcomposite(
    "logaddexp.accumulate", _logaddexp_accumulate, complex_rules=False, numpy=(),
    examples=(
        Example(lambda np_, x: np_.logaddexp.accumulate(x), ((4,),)),
        Example(lambda np_, x: np_.logaddexp.accumulate(x * 400.0, axis=1), ((2, 3),)),
    ),
    doc="np.logaddexp.accumulate: running log-sum-exp; d out_i/dx_j = exp(x_j - out_i), j<=i",
)


def _logaddexp2_accumulate(a: Any, axis: int = 0, dtype: Any = None, **kwargs: Any) -> Any:
    _method_kwargs("logaddexp2.accumulate", dtype, **kwargs)
    return _logaddexp_accumulate(a * _LN2, axis=axis) / _LN2


logaddexp2_accumulate = REDUCTIONS.defcomposite(
    "logaddexp2.accumulate", _logaddexp2_accumulate, complex_rules=False, numpy=(),
    examples=(Example(lambda np_, x: np_.logaddexp2.accumulate(x, axis=0), ((3, 2),)),),
    doc="np.logaddexp2.accumulate: running log2(sum(2**x))",
)

# --------------------------------------------------------------------------- running extrema


def _running(a: Any, axis: int, ufunc: Any, name: str, dtype: Any, kwargs: dict) -> Any:
    """The running maximum (minimum) as a gather: each output takes the element where the
    running extremum was last attained (ties: the later element)."""
    _method_kwargs(name, dtype, **kwargs)
    if np.ndim(a) == 0:
        raise ValueError("cannot accumulate on a scalar")
    axis = normalize_axis(int(axis), np.ndim(a))
    values = strip(a)
    running = ufunc.accumulate(values, axis=axis)
    shape = [1] * values.ndim
    shape[axis] = values.shape[axis]
    positions = np.reshape(np.arange(values.shape[axis]), shape)
    at = np.maximum.accumulate(np.where(values == running, positions, 0), axis=axis)
    return np.take_along_axis(a, at, axis=axis)


maximum_accumulate = REDUCTIONS.defcomposite(
    "maximum.accumulate",
    lambda a, axis=0, dtype=None, **kw: _running(a, axis, np.maximum, "maximum.accumulate",
                                                 dtype, kw),
    numpy=(), complex_rules=False,
    examples=(
        Example(lambda np_, x: np_.maximum.accumulate(x), ((5,),)),
        Example(lambda np_, x: np_.maximum.accumulate(x, axis=1) * x, ((2, 4),)),
    ),
    doc="np.maximum.accumulate: running maximum, a gather of the element attaining it",
)

minimum_accumulate = REDUCTIONS.defcomposite(
    "minimum.accumulate",
    lambda a, axis=0, dtype=None, **kw: _running(a, axis, np.minimum, "minimum.accumulate",
                                                 dtype, kw),
    numpy=(), complex_rules=False,
    examples=(Example(lambda np_, x: np_.minimum.accumulate(x, axis=0), ((4, 2),)),),
    doc="np.minimum.accumulate: running minimum, a gather of the element attaining it",
)

# --------------------------------------------------------------------------- other reductions


def _hypot_reduce(a: Any, axis: Any = 0, dtype: Any = None, keepdims: bool = False,
                  **kwargs: Any) -> Any:
    _method_kwargs("hypot.reduce", dtype, **kwargs)
    return np.linalg.vector_norm(a, axis=axis, keepdims=keepdims)


hypot_reduce = REDUCTIONS.defcomposite(
    "hypot.reduce", _hypot_reduce, complex_rules=False, numpy=(),
    examples=(Example(lambda np_, x: np_.hypot.reduce(x, axis=1), ((3, 4),),
                      reference=lambda np_, x: np_.linalg.norm(x, axis=1)),),
    doc="np.hypot.reduce: the Euclidean norm along the axis (np.linalg.vector_norm)",
)


def _nan_extremum(fn: Any, name: str) -> Any:
    def reduce(a: Any, axis: Any = 0, dtype: Any = None, keepdims: bool = False,
               **kwargs: Any) -> Any:
        _method_kwargs(name, dtype, **kwargs)
        return fn(a, axis=axis, keepdims=keepdims)
    return reduce


fmax_reduce = REDUCTIONS.defcomposite(
    "fmax.reduce", _nan_extremum(np.nanmax, "fmax.reduce"), numpy=(), complex_rules=False,
    examples=(Example(lambda np_, x: np_.fmax.reduce(x, axis=1), ((3, 4),),
                      reference=lambda np_, x: np_.max(x, axis=1)),),
    doc="np.fmax.reduce: np.nanmax along the axis",
)
fmin_reduce = REDUCTIONS.defcomposite(
    "fmin.reduce", _nan_extremum(np.nanmin, "fmin.reduce"), numpy=(), complex_rules=False,
    examples=(Example(lambda np_, x: np_.fmin.reduce(x), ((3, 4),),
                      reference=lambda np_, x: np_.min(x, axis=0)),),
    doc="np.fmin.reduce: np.nanmin along the axis",
)

# --------------------------------------------------------------------------- at


def _scatter_at(a: Any, indices: Any, b: Any, sign: float, name: str) -> None:
    """``np.add.at(a, indices, b)``: a += the sum of b at each index (repeats accumulate),
    an update of the active buffer ``a`` as ``a[indices] += b`` is (with bincount, which
    sums repeats)."""
    if is_active(indices):
        raise UnsupportedPrimitiveError(f"np.{name}: the indices cannot be active values")
    if not is_active(a):
        raise UnsupportedPrimitiveError(
            f"np.{name}(a, indices, b) with an active b writes into the plain array a, which "
            f"cannot hold the derivative: create a from the traced value (a = "
            f"np.zeros_like(b, shape=...)), or write np.bincount(indices, weights=b, "
            f"minlength=n) for a sum of b by index."
        )
    shape = np.shape(a)
    positions = np.reshape(np.arange(int(np.prod(shape))), shape)[indices]
    weights = np.broadcast_to(b, positions.shape).astype(np.float64)  # bincount's dtype
    total = np.bincount(np.ravel(positions), weights=np.ravel(weights),
                        minlength=int(np.prod(shape)))
    result = a + sign * np.reshape(total, shape).astype(a.dtype)  # a keeps its dtype
    if type(result) is not type(a):
        raise UnsupportedPrimitiveError(
            f"np.{name}(a, ...): b is active in another transform than a, so a cannot hold "
            f"it. Create a inside that transform (np.zeros_like)."
        )
    leave_views(a, f"np.{name}")
    a._assign(result)


add_at = REDUCTIONS.defcomposite(
    "add.at", lambda a, indices, b=None: _scatter_at(a, indices, b, 1.0, "add.at"), numpy=(),
    complex_rules=False,
    examples=(
        Example(lambda np_, x, b: _at(np_, "add", x, np.array([0, 2, 0]), b), ((4,), (3,)),
                reference=lambda np_, x, b: x.at[np_.array([0, 2, 0])].add(b)),
        Example(lambda np_, x, b: _at(np_, "add", x, (np.array([1, 1]), slice(None)), b),
                ((2, 3), (3,)),
                reference=lambda np_, x, b: x.at[np_.array([1, 1]), :].add(b)),
    ),
    doc="np.add.at(a, indices, b): a[indices] += b with repeats accumulating; linear",
)
subtract_at = REDUCTIONS.defcomposite(
    "subtract.at",
    lambda a, indices, b=None: _scatter_at(a, indices, b, -1.0, "subtract.at"), numpy=(),
    complex_rules=False,
    examples=(Example(lambda np_, x, b: _at(np_, "subtract", x, np.array([3, 3]), b) * x,
                      ((4,), ()),
                      reference=lambda np_, x, b: x.at[np_.array([3, 3])].add(-b) * x),),
    doc="np.subtract.at(a, indices, b): a[indices] -= b with repeats accumulating; linear",
)


def _at(np_: Any, ufunc: str, x: Any, indices: Any, b: Any) -> Any:
    """``np.<ufunc>.at`` on a copy of x, as user code writes it."""
    out = x.copy()
    getattr(np_, ufunc).at(out, indices, b)
    return out
