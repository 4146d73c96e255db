"""What the reduction family's modules share: the family, and how they read NumPy's
arguments (axis, dtype, keepdims, flags given or not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import reduced_axes, shape_of
from ...errors import UnsupportedPrimitiveError
from ...registry import Family, is_active

REDUCTIONS = Family("reductions", complex_rules=True)


_NV = np._NoValue  # NumPy's "argument not given"

# --------------------------------------------------------------------------- helpers


def _given(value: Any) -> bool:
    return value is not None and value is not _NV


def _flag(value: Any) -> bool:
    return False if value is _NV else bool(value)


def _ddof(ddof: Any, correction: Any) -> Any:
    """The degrees of freedom of var/std (and their nan forms): NumPy 2's ``correction``
    is another name for ``ddof``, and giving both is NumPy's ValueError."""
    if correction is _NV:
        return ddof
    if ddof != 0:
        raise ValueError("ddof and correction can't be provided simultaneously.")
    return correction


def _count(shape: tuple[int, ...], axis: Any) -> int:
    """How many elements a reduction over ``axis`` combines."""
    n = 1
    for a in reduced_axes(axis, len(shape)):
        n *= shape[a]
    return n


def _refuse(fn: str, **kwargs: Any) -> None:
    """Raise for NumPy arguments dualad does not differentiate (``where=``, ``mean=`` ...)."""
    bad = sorted(k for k, v in kwargs.items() if v is not _NV and v is not None and v is not True)
    if bad:
        raise UnsupportedPrimitiveError(
            f"np.{fn} on dual arrays does not support the argument(s) {bad}; call it "
            f"without them (np.where can mask the input instead of where=)."
        )


def _check_float_dtype(dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(f"dtype={dtype} would drop the derivative (only float and complex "
                        f"dtypes keep it)")


def _check_static(fn: str, **kwargs: Any) -> None:
    for key, value in kwargs.items():
        if is_active(value):
            raise TypeError(f"{key}= of np.{fn} cannot be a dual array")


def _along(axis: int, item: Any) -> tuple:
    """An index applying ``item`` along ``axis`` (all axes before it kept whole)."""
    return (slice(None),) * axis + (item,)


def _to_last(a: Any, axis: Any) -> tuple[Any, tuple[int, ...]]:
    """``a`` with the axes a reduction over ``axis`` removes moved last and merged into one."""
    shape = shape_of(a)
    red = reduced_axes(axis, len(shape))
    kept = tuple(i for i in range(len(shape)) if i not in red)
    kept_shape = tuple(shape[i] for i in kept)
    if red != tuple(range(len(shape)))[len(kept):]:
        a = np.transpose(a, kept + red)
    return np.reshape(a, kept_shape + (_count(shape, axis),)), kept_shape


def _take_along(a: Any, idx: np.ndarray, axis: int) -> Any:
    """``np.take_along_axis(a, idx, axis)`` written with indexing (``idx`` plain integers)."""
    key = list(np.indices(idx.shape, sparse=True))
    key[axis] = idx
    return a[tuple(key)]
