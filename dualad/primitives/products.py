"""Products: matmul (with 1-D operands on either side and stacked operands), and NumPy 2's
vecdot, matvec and vecmat written with it.

The trap: a 1-D operand is a row on the left and a column on the right, and the tangent's
direction axis must be a batch axis of the product, never a matrix axis. The rules promote
1-D operands to matrices, pad the batch dimensions so that the direction axis leads, and
remove the promoted axes afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import Example, defcomposite, defprimitive


def _batch_rank(x: Any, y: Any) -> int:
    return max(max(np.ndim(x) - 2, 0), max(np.ndim(y) - 2, 0))


def _as_batched_matrix(dx: Any, ndim: int, is_left: bool, rank: int) -> Any:
    """Tangent ``(k,) + shape`` of an operand as ``(k, 1.., batch.., rows, cols)``."""
    shape = np.shape(dx)
    if ndim == 1:
        shape = shape[:1] + ((1,) + shape[1:] if is_left else shape[1:] + (1,))
    batch = len(shape) - 3
    return np.reshape(dx, shape[:1] + (1,) * (rank - batch) + shape[1:])


def _unpromote(r: Any, x: Any, y: Any) -> Any:
    if np.ndim(x) == 1 and np.ndim(y) == 1:
        return r[..., 0, 0]
    if np.ndim(x) == 1:
        return r[..., 0, :]
    if np.ndim(y) == 1:
        return r[..., 0]
    return r


def _matmul_dx(dx: Any, x: Any, y: Any, *, out: Any) -> Any:
    rank = _batch_rank(x, y)
    ym = y[:, None] if np.ndim(y) == 1 else y
    return _unpromote(np.matmul(_as_batched_matrix(dx, np.ndim(x), True, rank), ym), x, y)


def _matmul_dy(dy: Any, x: Any, y: Any, *, out: Any) -> Any:
    rank = _batch_rank(x, y)
    xm = x[None, :] if np.ndim(x) == 1 else x
    return _unpromote(np.matmul(xm, _as_batched_matrix(dy, np.ndim(y), False, rank)), x, y)


matmul = defprimitive(
    "matmul", impl=np.matmul, numpy=np.matmul, jvp=(_matmul_dx, _matmul_dy),
    examples=tuple(
        Example(lambda np_, x, y: np_.matmul(x, y), shapes)
        for shapes in (
            ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
            ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
            ((2, 1, 2, 3), (5, 3, 4)),
        )
    ) + (Example(lambda np_, x, y: x @ y, ((2, 3), (3, 2))),),
    doc="x @ y; d = dx @ y + x @ dy",
)


def _vecdot(x1: Any, x2: Any, /, *, axis: int = -1, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.vecdot on dual arrays does not support {sorted(kwargs)}")
    return np.sum(x1 * x2, axis=axis)


def _matvec(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.matvec on dual arrays does not support {sorted(kwargs)}")
    return np.matmul(x1, np.expand_dims(x2, -1))[..., 0]


def _vecmat(x1: Any, x2: Any, /, **kwargs: Any) -> Any:
    if kwargs:
        raise TypeError(f"np.vecmat on dual arrays does not support {sorted(kwargs)}")
    return np.matmul(np.expand_dims(x1, -2), x2)[..., 0, :]


if hasattr(np, "vecdot"):
    vecdot = defcomposite(
        "vecdot", _vecdot, numpy=np.vecdot,
        examples=(Example(lambda np_, x, y: np_.vecdot(x, y), ((2, 3), (3,))),
                  Example(lambda np_, x, y: np_.vecdot(x, y), ((4, 1, 3), (2, 3)))),
        doc="sum(x * y, axis=-1)",
    )
if hasattr(np, "matvec"):
    matvec = defcomposite(
        "matvec", _matvec, numpy=np.matvec,
        examples=(Example(lambda np_, a, v: np_.matvec(a, v), ((2, 3), (3,))),
                  Example(lambda np_, a, v: np_.matvec(a, v), ((4, 2, 3), (1, 3)))),
        doc="stacked matrix-vector product",
    )
    vecmat = defcomposite(
        "vecmat", _vecmat, numpy=np.vecmat,
        examples=(Example(lambda np_, v, a: np_.vecmat(v, a), ((2,), (2, 3))),
                  Example(lambda np_, v, a: np_.vecmat(v, a), ((4, 2), (4, 2, 3)))),
        doc="stacked vector-matrix product",
    )
