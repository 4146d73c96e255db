"""Extrema: ``max``, ``min`` (``amax``, ``amin``), ``ptp`` and ``clip``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import batch_axis, expand_reduced, float_dtype
from ...registry import Example
from ._common import _NV, REDUCTIONS, _check_static, _flag, _given, _refuse

# --------------------------------------------------------------------------- max, min, ptp


def _extremum_split_args(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV,
                         initial: Any = _NV, where: Any = _NV) -> tuple:
    if where is not _NV and where is not True:
        raise TypeError("where= is not supported (mask the input with np.where instead)")
    _check_static("max/min", initial=initial)
    return (a,), {"axis": axis, "keepdims": _flag(keepdims),
                  "initial": initial if _given(initial) else None}


def _extremum_share(x: Any, out: Any, axis: Any, keepdims: bool, dtype: Any) -> np.ndarray:
    """Every element attaining the extremum gets an equal share (JAX's convention at ties);
    none does when ``initial`` wins. A plain array of ``x``'s shape."""
    attains = x == expand_reduced(out, axis, np.ndim(x), keepdims, batched=False)
    count = np.sum(attains, axis=axis, keepdims=True)
    return (attains / np.maximum(count, 1)).astype(dtype)


def _extremum_jvp(dx: Any, x: Any, *, out: Any, axis: Any, keepdims: bool, initial: Any) -> Any:
    share = _extremum_share(x, out, axis, keepdims, float_dtype(dx))
    return np.sum(dx * share, axis=batch_axis(axis, np.ndim(x)), keepdims=keepdims)


def _extremum_vjp(ct: Any, x: Any, *, out: Any, axis: Any, keepdims: bool, initial: Any) -> Any:
    """x_bar = ct * share, share = attains / count (ties share equally)."""
    share = _extremum_share(x, out, axis, keepdims, float_dtype(ct))
    return expand_reduced(ct, axis, np.ndim(x), keepdims) * share


def _extremum(name: str, fn: Any, numpy: tuple) -> Any:
    def impl(x: Any, *, axis: Any, keepdims: bool, initial: Any) -> Any:
        extra = {} if initial is None else {"initial": initial}
        return fn(x, axis=axis, keepdims=keepdims, **extra)

    ufunc = "maximum" if name == "max" else "minimum"
    return REDUCTIONS.defprimitive(
        name, impl=impl, numpy=numpy, split_args=_extremum_split_args, jvp=_extremum_jvp,
        vjp=_extremum_vjp,
        examples=(
            Example(lambda np_, x: getattr(np_, name)(x), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=0), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=-1, keepdims=True), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=(0, 2)), ((2, 3, 4),)),
            Example(lambda np_, x: getattr(np_, "a" + name)(x, axis=1), ((3, 4),)),
            Example(lambda np_, x: getattr(np_, "a" + name)(x, axis=None, keepdims=True),
                    ((3, 2),)),
            Example(lambda np_, x: getattr(x, name)(), ((),)),
            Example(lambda np_, x: getattr(x, name)(axis=-2), ((2, 3, 2),)),
            Example(lambda np_, x: getattr(np_, ufunc).reduce(x, axis=1), ((2, 3),)),
            Example(lambda np_, x: getattr(np_, name)(x, axis=0, initial=0.0), ((3, 2),)),
            # ties share the derivative equally
            Example(lambda np_, x: getattr(np_, name)(x, axis=1),
                    make=lambda rng: (np.array([[1.0, 3.0, 3.0, -1.0], [-2.0, 0.5, -2.0, -2.0],
                                                [0.3, 0.3, 0.3, 0.3]]),)),
            Example(lambda np_, x: getattr(np_, name)(x),
                    make=lambda rng: (np.array([2.0, -2.0, 2.0, -2.0]),)),
        ),
        doc=f"np.{name}; the derivative of the element(s) attaining it, shared equally at ties",
    )


max = _extremum("max", np.max, (np.max, np.amax))  # noqa: A001 - NumPy's name
min = _extremum("min", np.min, (np.min, np.amin))  # noqa: A001 - NumPy's name


def _ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NV) -> Any:
    keep = _flag(keepdims)
    return np.max(a, axis=axis, keepdims=keep) - np.min(a, axis=axis, keepdims=keep)


ptp = REDUCTIONS.defcomposite(
    "ptp", _ptp, numpy=np.ptp,
    examples=(
        Example(lambda np_, x: np_.ptp(x), ((2, 3),)),
        Example(lambda np_, x: np_.ptp(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.ptp(x, axis=(0, -1), keepdims=True), ((2, 3, 4),)),
    ),
    doc="max - min",
)



# --------------------------------------------------------------------------- clip


def _clip(a: Any, a_min: Any = _NV, a_max: Any = _NV, out: Any = None, *, min: Any = _NV,  # noqa: A002
          max: Any = _NV, **kwargs: Any) -> Any:  # noqa: A002 - NumPy's names
    _refuse("clip", **kwargs)
    if min is not _NV:
        if a_min is not _NV:
            raise ValueError("Passed more than one argument for a_min/min")
        a_min = min
    if max is not _NV:
        if a_max is not _NV:
            raise ValueError("Passed more than one argument for a_max/max")
        a_max = max
    # maximum/minimum split the derivative 0.5/0.5 at a bound, as JAX's clip does
    if _given(a_min):
        a = np.maximum(a, a_min)
    if _given(a_max):
        a = np.minimum(a, a_max)
    return a


clip = REDUCTIONS.defcomposite(
    "clip", _clip, numpy=np.clip,
    examples=(
        Example(lambda np_, x: np_.clip(x, -0.5, 0.7), ((2, 3),)),
        Example(lambda np_, x: np_.clip(x, None, 0.3), ((4,),)),
        Example(lambda np_, x: np_.clip(x, -0.2, None), ((4,),)),
        Example(lambda np_, x, lo: np_.clip(x, lo, lo + 1.0), ((2, 3), (3,))),
        Example(lambda np_, x, hi: np_.clip(x, -1.5, hi), ((2, 3), ())),
        Example(lambda np_, x: x.clip(-1.0, 1.0), ((3, 2),)),
        Example(lambda np_, x: x.clip(max=0.0), ((3,),)),
        # at a bound the derivative is split 0.5/0.5 with the bound (JAX)
        Example(lambda np_, x, lo: np_.clip(x, lo, 1.0),
                make=lambda rng: (np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), np.array(0.0))),
    ),
    doc="minimum(maximum(a, a_min), a_max); 0.5 at a bound",
)
