"""Reordering elements: ``flip``, ``flipud``, ``fliplr``, ``rot90``, ``roll``, ``rollaxis``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import normalize_axis
from ...registry import Example
from ._common import SHAPE, _axes, _plain


def _flip(m: Any, axis: Any = None) -> Any:
    axes = _axes(axis, np.ndim(m))
    return m[tuple(slice(None, None, -1) if i in axes else slice(None)
                   for i in range(np.ndim(m)))]


def _flipud(m: Any) -> Any:
    if np.ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return _flip(m, 0)


def _fliplr(m: Any) -> Any:
    if np.ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return _flip(m, 1)


flip = SHAPE.defcomposite(
    "flip", _flip, numpy=np.flip,
    examples=(
        Example(lambda np_, x: np_.flip(x), ((2, 3),)),
        Example(lambda np_, x: np_.flip(x, 0), ((2, 3),)),
        Example(lambda np_, x: np_.flip(x, axis=(0, -1)), ((2, 3, 2),)),
        Example(lambda np_, x: np_.flip(x), ((),)),
    ),
    doc="np.flip: a reversed slice; linear",
)
flipud = SHAPE.defcomposite(
    "flipud", _flipud, numpy=np.flipud,
    examples=(Example(lambda np_, x: np_.flipud(x), ((3, 2),)),
              Example(lambda np_, x: np_.flipud(x), ((3,),))),
    doc="np.flipud: a reversed slice; linear",
)
fliplr = SHAPE.defcomposite(
    "fliplr", _fliplr, numpy=np.fliplr,
    examples=(Example(lambda np_, x: np_.fliplr(x), ((3, 2),)),),
    doc="np.fliplr: a reversed slice; linear",
)


def _rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    axes = tuple(axes)
    ndim = np.ndim(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise ValueError("Axes must be different.")
    a0, a1 = normalize_axis(axes[0], ndim), normalize_axis(axes[1], ndim)
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return _flip(_flip(m, a0), a1)
    order = list(range(ndim))
    order[a0], order[a1] = order[a1], order[a0]
    if k == 1:
        return np.transpose(_flip(m, a1), order)
    return _flip(np.transpose(m, order), a1)


rot90 = SHAPE.defcomposite(
    "rot90", _rot90, numpy=np.rot90,
    examples=(
        Example(lambda np_, x: np_.rot90(x), ((2, 3),)),
        Example(lambda np_, x: np_.rot90(x, 2), ((2, 3),)),
        Example(lambda np_, x: np_.rot90(x, -1, axes=(2, 0)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rot90(x, k=3, axes=(1, 2)), ((2, 3, 4),)),
    ),
    doc="np.rot90: flips and a transpose; linear",
)


def _roll(a: Any, shift: Any, axis: Any = None) -> Any:
    _plain(shift, "roll", "shift")
    if axis is None:
        return np.reshape(_roll(np.ravel(a), shift, 0), np.shape(a))
    ndim = np.ndim(a)
    shifts = dict.fromkeys(range(ndim), 0)
    for sh, ax in np.broadcast(shift, axis):
        shifts[normalize_axis(int(ax), ndim)] += int(sh)
    for ax, sh in shifts.items():
        n = np.shape(a)[ax]
        if n and sh % n:
            a = np.take(a, (np.arange(n) - sh) % n, axis=ax)
    return a


roll = SHAPE.defcomposite(
    "roll", _roll, numpy=np.roll,
    examples=(
        Example(lambda np_, x: np_.roll(x, 2), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, -1, axis=1), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, (1, 2), axis=(0, -1)), ((2, 3, 4),)),
        Example(lambda np_, x: np_.roll(x, (1, 1), axis=(1, 1)), ((2, 3),)),
        Example(lambda np_, x: np_.roll(x, 3), ((),)),
    ),
    doc="np.roll: a gather; linear",
)


def _rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    n = np.ndim(a)
    axis = normalize_axis(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but "
                                      f"{start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = list(range(n))
    order.remove(axis)
    order.insert(start, axis)
    return np.transpose(a, order)


rollaxis = SHAPE.defcomposite(
    "rollaxis", _rollaxis, numpy=np.rollaxis,
    examples=(
        Example(lambda np_, x: np_.rollaxis(x, 2), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rollaxis(x, 0, 3), ((2, 3, 4),)),
        Example(lambda np_, x: np_.rollaxis(x, -1, 1), ((2, 3, 4),)),
    ),
    doc="np.rollaxis: a transpose; linear",
)
