"""Inverses and solvers: inv, solve, tensorinv, tensorsolve, lstsq."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import (
    normalize_axis,
    pad_tangent,
    shape_of,
    sum_to_shape,
)
from ...errors import UnsupportedPrimitiveError
from ...registry import Example, strip
from ._common import LINALG, _mT, _ndim, _wellcond


def _inv_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    """a_bar = -inv(a)^T ct inv(a)^T."""
    out_t = _mT(out)
    return -np.matmul(out_t, np.matmul(ct, out_t))


inv = LINALG.defprimitive(
    "inv", impl=np.linalg.inv, numpy=np.linalg.inv, split_args=lambda a: ((a,), {}),
    jvp=lambda dx, x, *, out: -np.matmul(out, np.matmul(dx, out)), vjp=_inv_vjp,
    examples=(
        Example(lambda np_, x: np_.linalg.inv(x), make=lambda rng: (_wellcond(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.inv(x), make=lambda rng: (_wellcond(rng, 2, 3, 3),)),
        Example(lambda np_, x: np_.linalg.inv(x), make=lambda rng: (_wellcond(rng, 1, 1),)),
    ),
    doc="np.linalg.inv; d = -inv(a) @ da @ inv(a)",
)


def _as_matrix(x: Any, b: Any) -> Any:
    """``x`` as a stack of matrices: a vector right-hand side (``b`` exactly 1-D) gets a column."""
    return x if _ndim(b) >= 2 else x[..., None]


def _as_given(x: Any, b: Any) -> Any:
    return x if _ndim(b) >= 2 else x[..., 0]


def _solve_da(da: Any, a: Any, b: Any, *, out: Any) -> Any:
    x = _as_matrix(out, b)
    return _as_given(-np.linalg.solve(a, np.matmul(pad_tangent(da, _ndim(x)), x)), b)


def _solve_db(db: Any, a: Any, b: Any, *, out: Any) -> Any:
    rhs = pad_tangent(_as_matrix(db, b), _ndim(_as_matrix(out, b)))
    return _as_given(np.linalg.solve(a, rhs), b)


def _solve_vjp_db(ct: Any, a: Any, b: Any, *, out: Any) -> Any:
    """b_bar = solve(a^T, ct), summed over the batch axes b was broadcast along."""
    bbar = _as_given(np.linalg.solve(_mT(a), _as_matrix(ct, b)), b)
    return sum_to_shape(bbar, shape_of(b))


def _solve_vjp_da(ct: Any, a: Any, b: Any, *, out: Any) -> Any:
    """a_bar = -solve(a^T, ct) @ x^T, summed over the batch axes a was broadcast along."""
    bbar = np.linalg.solve(_mT(a), _as_matrix(ct, b))
    return sum_to_shape(-np.matmul(bbar, _mT(_as_matrix(out, b))), shape_of(a))


solve = LINALG.defprimitive(
    "solve", impl=np.linalg.solve, numpy=np.linalg.solve, split_args=lambda a, b: ((a, b), {}),
    jvp=(_solve_da, _solve_db), vjp=(_solve_vjp_da, _solve_vjp_db),
    examples=tuple(
        Example(lambda np_, a, b: np_.linalg.solve(a, b),
                make=lambda rng, sa=sa, sb=sb: (_wellcond(rng, *sa), rng.normal(size=sb)))
        for sa, sb in (
            ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 2)),
            ((3, 3), (2, 3, 4)), ((2, 1, 3, 3), (4, 3, 1)), ((2, 3, 3), (3, 1)),
        )
    ),
    doc="np.linalg.solve (b is a vector only when exactly 1-D); dx = solve(a, db - da @ x)",
)


# --------------------------------------------------------------------------- tensor solvers


def _tensorinv(a: Any, ind: int = 2) -> Any:
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    rows = int(np.prod(shape[:ind]))
    inverse = np.linalg.inv(np.reshape(a, (rows, -1)))
    return np.reshape(inverse, shape[ind:] + shape[:ind])


tensorinv = LINALG.defcomposite(
    "tensorinv", _tensorinv, numpy=np.linalg.tensorinv,
    examples=(
        Example(lambda np_, x: np_.linalg.tensorinv(x), make=lambda rng: (
            _wellcond(rng, 6, 6).reshape(2, 3, 6),)),
        Example(lambda np_, x: np_.linalg.tensorinv(x, ind=1), make=lambda rng: (
            _wellcond(rng, 4, 4).reshape(4, 2, 2),)),
    ),
    doc="np.linalg.tensorinv: inv of the reshaped matrix",
)


def _tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    nd = _ndim(a)
    if axes is not None:
        axes = [normalize_axis(ax, nd) for ax in axes]
        a = np.transpose(a, [ax for ax in range(nd) if ax not in axes] + axes)
    shape = shape_of(a)[_ndim(b):]
    rows = int(np.prod(shape_of(b)))
    x = np.linalg.solve(np.reshape(a, (rows, -1)), np.reshape(b, (rows,)))
    return np.reshape(x, shape)


tensorsolve = LINALG.defcomposite(
    "tensorsolve", _tensorsolve, numpy=np.linalg.tensorsolve,
    examples=(
        Example(lambda np_, a, b: np_.linalg.tensorsolve(a, b), make=lambda rng: (
            _wellcond(rng, 6, 6).reshape(2, 3, 6), rng.normal(size=(2, 3)))),
        Example(lambda np_, a, b: np_.linalg.tensorsolve(a, b, axes=(0,)), make=lambda rng: (
            np.transpose(_wellcond(rng, 4, 4).reshape(4, 2, 2), (2, 0, 1)),
            rng.normal(size=(4,)))),
    ),
    doc="np.linalg.tensorsolve: solve with the reshaped matrix",
)




def _lstsq(a: Any, b: Any, rcond: Any = None) -> tuple:
    """NumPy's least-squares solution and its by-products, for a matrix of full rank: by QR
    of a (more rows: the least-squares solution) or of a.T (more columns: the solution of
    least norm). At lower rank the solution jumps as the rank changes: refused."""
    if _ndim(a) != 2 or _ndim(b) not in (1, 2):
        raise ValueError("np.linalg.lstsq takes a matrix a and a vector or matrix b")
    m, n = shape_of(a)
    singular = np.linalg.svd(strip(a), compute_uv=False)
    cutoff = (np.finfo(float).eps * max(m, n) if rcond is None else rcond) * singular[0]
    rank = int(np.sum(singular > cutoff))
    if rank < min(m, n):
        raise UnsupportedPrimitiveError(
            f"np.linalg.lstsq of a matrix of rank {rank} < {min(m, n)}: the least-squares "
            f"solution of least norm is not differentiable where the rank drops. Regularise "
            f"it, x = np.linalg.solve(a.T @ a + lam * np.eye(n), a.T @ b), or remove the "
            f"dependent columns."
        )
    if m >= n:
        q, r = np.linalg.qr(a)
        x = np.linalg.solve(r, _mT(q) @ b)
    else:
        q, r = np.linalg.qr(_mT(a))
        x = q @ np.linalg.solve(_mT(r), b)
    if m > n:
        residuals = np.sum((b - a @ x) ** 2, axis=0)
        residuals = np.reshape(residuals, (1,)) if _ndim(b) == 1 else residuals
    else:
        residuals = np.empty((0,))
    a = a.astype(np.result_type(a, b, np.float32))  # NumPy's: the inputs' common dtype
    return x, residuals, np.int32(rank), np.linalg.svd(a, compute_uv=False)


lstsq = LINALG.defcomposite(
    "lstsq", _lstsq, numpy=np.linalg.lstsq, complex_rules=False,
    examples=(
        Example(lambda np_, a, b: np_.linalg.lstsq(a, b)[0], ((5, 3), (5,))),
        Example(lambda np_, a, b: np_.linalg.lstsq(a, b)[0], ((4, 3), (4, 2))),
        Example(lambda np_, a, b: np_.linalg.lstsq(a, b)[1], ((5, 2), (5, 2))),
        Example(lambda np_, a, b: np_.linalg.lstsq(a, b, rcond=None)[1], ((4, 2), (4,))),
        Example(lambda np_, a, b: np_.linalg.lstsq(a, b)[0], ((2, 4), (2,))),
        Example(lambda np_, a: np_.linalg.lstsq(a, np_.arange(4.0))[3], ((4, 3),)),
    ),
    doc="np.linalg.lstsq: by QR of a (or of a.T, fewer rows than columns), full rank only",
)
