"""Padding: ``np.pad`` in its linear modes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...registry import Example, is_active
from ._common import SHAPE

_PAD_OPTIONS = {
    "constant": ("constant_values",), "edge": (), "wrap": (), "reflect": ("reflect_type",),
    "symmetric": ("reflect_type",), "linear_ramp": ("end_values",), "mean": ("stat_length",),
}


def _pad_split_args(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> tuple:
    if not isinstance(mode, str) or mode not in _PAD_OPTIONS:
        raise TypeError(f"mode={mode!r} is not supported, only "
                        f"{', '.join(map(repr, _PAD_OPTIONS))}")
    extra = set(kwargs) - set(_PAD_OPTIONS[mode])
    if extra:
        raise TypeError(f"unsupported keyword arguments for mode {mode!r}: {sorted(extra)}")
    if any(is_active(v) for v in kwargs.values()) or is_active(pad_width):
        raise TypeError(f"{sorted(kwargs)} and pad_width must be plain numbers, not dual "
                        f"arrays (for a dual fill value c write np.pad(x - c, ...) + c)")
    width = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (np.ndim(array), 2))
    return (array,), {"pad_width": tuple(map(tuple, width.tolist())), "mode": mode,
                      "options": kwargs}


def _linear_pad_options(options: dict, ndim: int) -> dict:
    """``options`` for padding a tangent or cotangent, stat_length as one pair per axis."""
    # Every supported mode copies or averages input values, or (constant, linear_ramp)
    # mixes them with constants that have no derivative: zero them in the tangent.
    options = {key: 0 if key in ("constant_values", "end_values") else value
               for key, value in options.items()}
    if options.get("stat_length") is not None:  # per axis, as NumPy reads it
        lengths = np.broadcast_to(np.asarray(options["stat_length"]), (ndim, 2))
        options["stat_length"] = tuple(map(tuple, lengths.tolist()))
    return options


def _pad_jvp(dx: Any, x: Any, *, out: Any, pad_width: Any, mode: str, options: dict) -> Any:
    options = _linear_pad_options(options, np.ndim(x))
    if "stat_length" in options and options["stat_length"] is not None:  # + direction axis
        options["stat_length"] = ((1, 1),) + options["stat_length"]
    return np.pad(dx, ((0, 0),) + pad_width, mode=mode, **options)


def _pad_matrix(n: int, before: int, after: int, mode: str, options: dict, axis: int,
                ndim: int) -> np.ndarray:
    """The (before + n + after, n) matrix of padding one line of length n along ``axis``."""
    options = _linear_pad_options(options, ndim)
    if options.get("stat_length") is not None:
        options["stat_length"] = options["stat_length"][axis]
    return np.pad(np.eye(n), ((before, after), (0, 0)), mode=mode, **options)


def _pad_vjp(ct: Any, x: Any, *, out: Any, pad_width: Any, mode: str, options: dict) -> Any:
    """x_bar = P_0^T ... P_{n-1}^T ct: np.pad is one linear map P_a per axis a, applied to
    every line along that axis; P_a is read off by padding the identity (constant: a slice)."""
    shape = np.shape(x)
    if mode == "constant":
        return ct[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(
            pad_width, shape, strict=True))]
    for a, ((before, after), n) in enumerate(zip(pad_width, shape, strict=True)):
        if before or after:
            matrix = _pad_matrix(n, before, after, mode, options, a, len(shape))
            matrix = matrix.astype(ct.dtype, copy=False)  # float32 stays float32
            ct = np.moveaxis(np.matmul(np.moveaxis(ct, a + 1, -1), matrix), -1, a + 1)
    return ct


pad = SHAPE.defprimitive(
    "pad", impl=lambda x, *, pad_width, mode, options: np.pad(x, pad_width, mode, **options),
    numpy=np.pad, split_args=_pad_split_args, jvp=_pad_jvp, vjp=_pad_vjp,
    examples=(
        Example(lambda np_, x: np_.pad(x, 1), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, ((1, 0), (2, 3)), constant_values=1.5), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 1), constant_values=(-1.0, 2.0)), ((3,),)),
        Example(lambda np_, x: np_.pad(x, ((0, 1), (2, 0)), mode="edge"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="reflect"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 3), mode="reflect", reflect_type="odd"), ((4,),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="symmetric"), ((3, 2),)),
        Example(lambda np_, x: np_.pad(x, ((1, 2), (3, 0)), mode="wrap"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, (2, 1), mode="linear_ramp", end_values=1.0), ((3,),)),
        Example(lambda np_, x: np_.pad(x, 2, mode="mean"), ((2, 3),)),
        Example(lambda np_, x: np_.pad(x, 1, mode="mean", stat_length=2), ((4,),)),
        Example(lambda np_, x: np_.pad(x, ((1, 2), (2, 1)), mode="mean",
                                       stat_length=((1, 2), (3, 1))), ((3, 4),)),
    ),
    doc="np.pad (constant, edge, wrap, reflect, symmetric, linear_ramp, mean); linear",
)
