"""What the shape family's modules share: the family, the number of directions of a tangent,
and helpers for the composites."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import normalize_axis
from ...errors import UnsupportedPrimitiveError
from ...registry import Family, is_active

SHAPE = Family("shape", complex_rules=True)


def _k(dx: Any) -> int:
    return np.shape(dx)[0]


# --------------------------------------------------------------------------- helpers for composites
# The composites run only when an argument is a dual array; they are written with the
# primitives (reshape, transpose, broadcast_to, concatenate), getitem and take, so their
# derivatives come from those rules.


def _refuse(fn: str, detail: str) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(f"np.{fn} on dual arrays: {detail}")


def _plain(x: Any, fn: str, what: str) -> Any:
    """``x`` must not carry a derivative (an index, a count, a flag)."""
    if is_active(x):
        raise _refuse(fn, f"{what} cannot be a dual array: it has no derivative. Pass "
                          f"dualad.primal({what}) instead.")
    return x


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or sequence) as a tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(normalize_axis(int(a), ndim) for a in axis)
    return (normalize_axis(int(axis), ndim),)


def _joined(np_: Any, parts: Any) -> Any:
    """Several results of an example as one array (parts weighted, so order matters)."""
    return np_.concatenate([np_.ravel(p) * (i + 1) for i, p in enumerate(parts)])


def _reshape(x: Any, shape: tuple) -> Any:
    return x if np.shape(x) == tuple(shape) else np.reshape(x, shape)



def _no_dtype(fn: str, dtype: Any) -> None:
    if dtype is not None and np.dtype(dtype).kind != "f":
        raise _refuse(fn, f"dtype={dtype} would drop the derivative")
