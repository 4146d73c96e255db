"""Undoing broadcasting: the one place where a cotangent is summed back to its operand.

When ``x (4,)`` meets ``y (3, 4)``, NumPy broadcasts ``x`` to ``(3, 4)``; the transpose of
that copy is a sum over the copies. Every reverse-mode cotangent passes through
:func:`fit_cotangent`, so no VJP rule has to repeat it.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_cotangent(ct: Any, shape: tuple[int, ...], k: int) -> Any:
    """``ct`` as a batch of ``k`` cotangents of an operand of ``shape``: ``(k,) + shape``.

    Axes that broadcasting added in front are summed away, axes it stretched from size 1 are
    summed with ``keepdims``; a result that is smaller than the operand (a rule that returns
    a scalar zero, say) is broadcast up.

    >>> fit_cotangent(np.ones((2, 3, 4)), (4,), 2)
    array([[3., 3., 3., 3.],
           [3., 3., 3., 3.]])
    >>> fit_cotangent(np.ones((1, 3, 4)), (3, 1), 1).shape
    (1, 3, 1)
    """
    ct_shape = getattr(ct, "shape", None)
    if ct_shape is None:  # a Python number from a rule
        ct = np.asarray(ct)
        ct_shape = ct.shape
    target = (k, *shape)
    if ct_shape == target:
        return ct
    extra = len(ct_shape) - len(target)
    if extra > 0:  # broadcasting prepended axes: sum them (they sit behind the batch axis)
        ct = np.sum(ct, axis=tuple(range(1, 1 + extra)))
        ct_shape = ct.shape
    if len(ct_shape) == len(target):
        stretched = tuple(
            axis for axis in range(1, len(target)) if target[axis] == 1 and ct_shape[axis] != 1
        )
        if stretched:
            ct = np.sum(ct, axis=stretched, keepdims=True)
            ct_shape = ct.shape
    if ct_shape != target:
        ct = np.broadcast_to(ct, target)
    return ct
