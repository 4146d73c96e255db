"""Determinants: det (through the cofactor matrix, defined at singular matrices too) and
slogdet (which raises at a singular matrix)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ...axes import (
    shape_of,
)
from ...errors import SingularMatrixError
from ...registry import Example, is_active, plain_array, strip
from ..reductions.sums import _others_product
from ._common import LINALG, _diag, _diag_embed, _eye, _mT, _singular, _trace, _wellcond


def _pair_products(s: Any) -> Any:
    """``q[..., i, j]``, the product of ``s[..., k]`` over ``k`` not in ``{i, j}``; on the
    diagonal the product over ``k != i``. Products only, no division: exact at zeros."""
    n = shape_of(s)[-1]
    return _others_product(np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]))


def _svd_parts(x: Any) -> tuple:
    """``U``, the pair products of the singular values, ``Vh`` and ``det(U) det(Vh)``.

    The sign is +-1 and locally constant (the factors move continuously and stay
    orthogonal), so it is a plain array: it has derivative 0.
    """
    u, s, vh = np.linalg.svd(x)
    sign = np.sign(np.linalg.det(strip(u)) * np.linalg.det(strip(vh)))
    return u, _pair_products(s), vh, plain_array(sign)


def _cofactor_svd(x: Any) -> Any:
    """adj(A)^T from A = U S Vh: det(U) det(Vh) U diag(p) Vh, p_i = prod_{j != i} s_j
    (det(A) A^-T = det(U) det(S) det(Vh) U S^-1 Vh where A is invertible; by continuity
    also where it is not)."""
    u, q, vh, sign = _svd_parts(x)
    return sign[..., None, None] * np.matmul(u * _diag(q)[..., None, :], vh)


def _ill_conditioned(x: Any) -> np.ndarray:
    """Which matrices of the stack ``x`` are singular or nearly so, s_min <= sqrt(eps) s_max
    (a plain boolean array): there det(A) A^-1 would cancel in the cofactor's derivative."""
    s = np.linalg.svd(strip(x), compute_uv=False)
    return s[..., -1] <= np.sqrt(np.finfo(s.dtype).eps) * s[..., 0]


def _cofactor_impl(x: Any) -> Any:
    if is_active(x):  # an outer derivative: through cofactor's own rules again
        return cofactor(x)
    d = np.linalg.det(x)
    singular = d == 0  # NumPy's LU found a zero pivot: inv would raise
    if not np.any(singular):
        # det(A) A^-T is accurate even for nearly singular A: the LU's errors in det(A)
        # and in A^-1 cancel (G. W. Stewart, "On the adjugate matrix", 1998)
        return d[..., None, None] * _mT(np.linalg.inv(x))
    if d.ndim == 0:
        return _cofactor_svd(x)
    result = np.empty_like(d, shape=np.shape(x))  # (traced like d under dualad.compile)
    regular = ~singular
    result[regular] = d[regular][..., None, None] * _mT(np.linalg.inv(x[regular]))
    result[singular] = _cofactor_svd(x[singular])
    return result


def _cofactor_jvp_inv(dx: Any, x: Any, out: Any) -> Any:
    """dC = <C, dA> A^-T - C dA^T A^-T (C = det(A) A^-T)."""
    inv_t = _mT(np.linalg.inv(x))
    inner = np.sum(out * dx, axis=(-2, -1))
    return inner[..., None, None] * inv_t - np.matmul(out, np.matmul(_mT(dx), inv_t))


def _cofactor_jvp_svd(dx: Any, x: Any) -> Any:
    """dC = det(U) det(Vh) U M Vh in the SVD's coordinates G = U^T dA Vh^T, where
    M = diag(sum_{j != i} q_ij G_jj) - q o G^T off the diagonal, q_ij = prod_{k != i, j} s_k
    (the derivative of the cofactor matrix at the diagonal S; products only)."""
    u, q, vh, sign = _svd_parts(x)
    off = q * (1 - _eye(shape_of(x)[-1], q))
    g = np.matmul(_mT(u), np.matmul(dx, _mT(vh)))
    m = _diag_embed(np.matmul(off, _diag(g)[..., None])[..., 0]) - off * _mT(g)
    return sign[..., None, None] * np.matmul(u, np.matmul(m, vh))


def _minors(x: Any) -> Any:
    """The stack of the n^2 minors of ``x``: ``[..., i, j, :, :]`` is x without row i and
    column j (``x`` may carry a leading direction axis)."""
    n = shape_of(x)[-1]
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)], dtype=np.intp)
    return x[..., keep[:, None, :, None], keep[None, :, None, :]]


def _cofactor_jvp_minors(dx: Any, x: Any) -> Any:
    """dC_ij = (-1)^(i+j) <cofactor(A_ij), dA_ij>, A_ij the minor without row i and column
    j: the derivative of the minor's determinant. Exact at every rank and without the
    SVD, whose own derivative needs distinct singular values; this is the form that is
    differentiated again (third derivatives of det), at O(n^5)."""
    n = shape_of(x)[-1]
    if n == 1:  # the cofactor of a 1 x 1 matrix is the constant 1
        return dx * 0.0
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return np.sum(cofactor(_minors(x)) * _minors(dx), axis=(-2, -1)) * signs.astype(x.dtype)


def _cofactor_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    """The cofactor's derivative: from A^-1 where A is well conditioned; where it is
    singular or nearly so, from the SVD, or from the minors when this rule is itself
    differentiated (``x`` active). A stack mixing both evaluates each form on its own
    matrices (the others replaced by harmless ones, so that neither form's derivative sees
    a singular matrix). Self-adjoint (it is the Hessian of det), so also the VJP rule."""
    bad = _ill_conditioned(x)
    if not np.any(bad):
        return _cofactor_jvp_inv(dx, x, out)
    singular_form = _cofactor_jvp_minors if is_active(x) else _cofactor_jvp_svd
    if np.all(bad):
        return singular_form(dx, x)
    n = shape_of(x)[-1]
    mask = bad[..., None, None]
    eye = _eye(n, x)
    spread = np.diag(np.arange(1, n + 1, dtype=eye.dtype))  # distinct singular values
    by_svd = singular_form(dx, np.where(mask, x, spread))
    by_inv = _cofactor_jvp_inv(dx, np.where(mask, eye, x), np.where(mask, eye, out))
    return np.where(mask, by_svd, by_inv)


def _det_by_permutations(np_: Any, x: Any) -> Any:
    """det(A) = sum over permutations p of sign(p) prod_i A[i, p(i)]: a test reference that
    JAX differentiates exactly everywhere (a polynomial; its own det has nan second
    derivatives at some singular matrices). For small n only."""
    n = np.shape(x)[-1]
    rows = np.arange(n)
    total = 0.0
    for perm in itertools.permutations(range(n)):
        sign = (-1.0) ** sum(a > b for i, a in enumerate(perm) for b in perm[i + 1:])
        total = total + sign * np_.prod(x[..., rows, np.array(perm)], axis=-1)
    return total


def _cofactor_by_minors(np_: Any, x: Any) -> Any:
    """The cofactor matrix from its definition, (-1)^(i+j) det(A without row i, column j),
    the determinants by permutations: the tests' reference."""
    n = np.shape(x)[-1]
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return _det_by_permutations(np_, _minors(x)) * signs


def _rank_deficient(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """A (stack of) n x n matrices of rank n - 1, singular values well separated."""
    a = _singular(rng, *shape)
    u, s, vh = np.linalg.svd(a)
    s[..., -1] = 0.0
    return (u * s[..., None, :]) @ vh


_SINGULAR_3x3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])  # det exactly 0
_SINGULAR_2x2 = np.array([[1.0, 2.0], [2.0, 4.0]])

cofactor = LINALG.defprimitive(
    "cofactor", impl=_cofactor_impl, jvp=_cofactor_jvp, vjp=_cofactor_jvp,
    examples=(
        Example(lambda np_, x: cofactor(x), make=lambda rng: (_wellcond(rng, 3, 3),),
                reference=_cofactor_by_minors),
        Example(lambda np_, x: cofactor(x), make=lambda rng: (_wellcond(rng, 2, 3, 3),),
                reference=_cofactor_by_minors),
        Example(lambda np_, x: cofactor(x), make=lambda rng: (_SINGULAR_3x3,),
                reference=_cofactor_by_minors),
        Example(lambda np_, x: cofactor(x), make=lambda rng: (
            np.stack([_SINGULAR_2x2, _wellcond(rng, 2, 2)]),), reference=_cofactor_by_minors),
    ),
    doc="the cofactor matrix adj(a)^T = d det(a)/da, also at singular matrices: "
        "det(a) inv(a)^T, or from the SVD where det(a) is 0",
)


def _det_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    """d det = <cofactor(a), da> = trace(adj(a) da)."""
    return np.sum(cofactor(x) * dx, axis=(-2, -1))


def _det_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    """a_bar = ct cofactor(a) = ct adj(a)^T (ct det(a) inv(a)^T where a is invertible)."""
    return ct[..., None, None] * cofactor(x)


def _diagonal(*values: float) -> Any:
    return lambda rng: (np.diag(values),)


det = LINALG.defprimitive(
    "det", impl=np.linalg.det, numpy=np.linalg.det, split_args=lambda a: ((a,), {}),
    jvp=_det_jvp, vjp=_det_vjp,
    examples=(
        Example(lambda np_, x: np_.linalg.det(x), make=lambda rng: (_wellcond(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.det(x), make=lambda rng: (_wellcond(rng, 2, 3, 3),)),
        Example(lambda np_, x: np_.linalg.det(x), make=lambda rng: (_wellcond(rng, 1, 1),)),
    ) + tuple(
        # singular matrices: the derivative is the cofactor matrix, as JAX's; the reference
        # is the permutation expansion, since JAX's own Hessian of det is nan at some
        # singular matrices (the second of the rank-deficient stack)
        Example(lambda np_, x: np_.linalg.det(x), make=make, reference=_det_by_permutations)
        for make in (
            lambda rng: (_SINGULAR_2x2,), lambda rng: (_SINGULAR_3x3,),
            lambda rng: (_rank_deficient(rng, 2, 4, 4),),
            _diagonal(2.0, 0.0, 0.0),  # rank n - 2 (more in tests/test_linalg_singular.py)
            lambda rng: (np.stack([_SINGULAR_2x2, _wellcond(rng, 2, 2), np.zeros((2, 2))]),),
        )
    ),
    doc="np.linalg.det; d = trace(adj(a) da), the cofactor matrix, also at singular a",
)


def _nonsingular(x: Any, out: Any) -> None:
    """slogdet's derivative needs det(a) != 0: raise a clear error where the sign is 0."""
    sign = plain_array(out[0])
    if np.any(sign == 0):
        where = "" if sign.ndim == 0 else f" (matrices {np.argwhere(sign == 0).tolist()})"
        raise SingularMatrixError(
            f"np.linalg.slogdet of a singular matrix{where}: sign 0 and logabsdet -inf, and "
            f"log|det(a)| has no derivative there (JAX returns inf and nan). Differentiate "
            f"np.linalg.det instead, whose derivative (the cofactor matrix) exists at "
            f"singular matrices, or keep the matrix away from singular ones."
        )


def _slogdet_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    _nonsingular(x, out)
    return None, _trace(np.linalg.solve(x, dx))


def _slogdet_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    """a_bar = logabsdet_bar inv(a)^T (the sign has no derivative)."""
    _nonsingular(x, out)
    return ct[1][..., None, None] * _mT(np.linalg.inv(x))


def _negative_det(rng: np.random.Generator, *shape: int) -> np.ndarray:
    a = _wellcond(rng, *shape)
    return a[..., ::-1, :]  # reversing 3 rows is an odd permutation


slogdet = LINALG.defprimitive(
    "slogdet", impl=np.linalg.slogdet, numpy=np.linalg.slogdet, split_args=lambda a: ((a,), {}),
    complex_rules=False,  # real-only rules: complex values raise
    jvp=_slogdet_jvp, vjp=_slogdet_vjp, multiple_results=True,
    examples=(
        Example(lambda np_, x: np_.linalg.slogdet(x), make=lambda rng: (_wellcond(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.slogdet(x),
                make=lambda rng: (_negative_det(rng, 2, 3, 3),)),
        Example(lambda np_, x: np_.linalg.slogdet(x)[1] * 2.0,
                make=lambda rng: (_wellcond(rng, 4, 4),)),
    ),
    doc="np.linalg.slogdet -> (sign, logabsdet); d logabsdet = trace(solve(a, da)), the "
        "sign has no derivative",
)


