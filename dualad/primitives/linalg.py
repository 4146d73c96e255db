"""Linear algebra: np.linalg's solvers, determinants, factorisations and norms.

Every rule works on stacks of matrices (``(..., n, n)``): the tangent's direction axis leads,
``(k, ..., n, n)``, and np.matmul and np.linalg.solve broadcast it as one more batch axis.
Rules are written with np.matmul, np.linalg.solve and einsum on their arguments, so they are
differentiable themselves (second order).

Conventions, as in JAX: cholesky and eigh read one triangle of their input, but their
derivatives are taken with respect to the symmetrised input ``(a + a.T) / 2``; svd and qr are
differentiated in their reduced forms; eigenvectors and singular vectors are defined up to
sign, so test functions of them that do not depend on the sign. ``norm`` at 0 has the finite
subgradient 0 (JAX gives nan there).

``det``'s derivative is the cofactor matrix adj(a)^T (the ``cofactor`` primitive), which
exists at singular matrices too: JAX's value there, and exact to every order, where JAX's
own Hessian is sometimes nan. ``slogdet``'s derivative does not exist at a singular matrix
(log|det| is -inf): it raises :class:`SingularMatrixError`. ``inv`` and ``solve`` of a
singular matrix raise NumPy's ``LinAlgError`` from the primal, as NumPy does.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import numpy as np

from ..axes import (
    batch_axis,
    expand_reduced,
    normalize_axis,
    pad_tangent,
    shape_of,
    sum_to_shape,
)
from ..errors import SingularMatrixError, UnsupportedPrimitiveError
from ..registry import Example, Family, defnondiff, is_active, strip
from .reductions.sums import _others_product

LINALG = Family("linalg")

_NUMPY2 = hasattr(np.linalg, "svdvals")  # and vector_norm, matrix_norm, the array-API names

# --------------------------------------------------------------------------- helpers


def _ndim(x: Any) -> int:
    return x.ndim if hasattr(x, "ndim") else np.ndim(x)



def _mT(x: Any) -> Any:
    """Swap the last two axes (with np.transpose, so that it dispatches on dual arrays)."""
    nd = _ndim(x)
    return np.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _sym(x: Any) -> Any:
    return (x + _mT(x)) * 0.5


def _diag(x: Any) -> Any:
    return np.einsum("...ii->...i", x)


def _trace(x: Any) -> Any:
    return np.einsum("...ii->...", x)


def _diag_embed(d: Any) -> Any:
    """The stack of diagonal matrices with diagonals ``d`` (``(..., n) -> (..., n, n)``)."""
    return d[..., :, None] * np.eye(shape_of(d)[-1], dtype=d.dtype)


def _eye(n: int, like: Any) -> np.ndarray:
    """The identity in ``like``'s dtype: a float64 constant would promote a float32 rule."""
    return np.eye(n, dtype=like.dtype)


def _tril_half(n: int, like: Any) -> np.ndarray:
    """The mask of the lower triangle with the diagonal halved, in ``like``'s dtype."""
    return np.tril(np.ones((n, n), dtype=like.dtype)) - 0.5 * _eye(n, like)


def _strict_tril(n: int, like: Any) -> np.ndarray:
    """The mask of the strictly lower triangle, in ``like``'s dtype."""
    return np.tril(np.ones((n, n), dtype=like.dtype), -1)


# Example inputs: well-conditioned, symmetric positive definite, well-separated spectra.


def _wellcond(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return np.eye(shape[-1]) + 0.3 * rng.normal(size=shape)


def _spd(rng: np.random.Generator, *shape: int) -> np.ndarray:
    b = rng.normal(size=shape)
    return b @ np.swapaxes(b, -1, -2) / shape[-1] + np.eye(shape[-1])


def _orthogonal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=shape))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _spectrum(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """A symmetric matrix (stack) with eigenvalues -1.5, -0.5, 0.5, ... (well separated)."""
    n = shape[-1]
    q = _orthogonal(rng, *shape)
    w = np.arange(n) - n / 2 + 0.5 + 0.1 * rng.uniform(size=shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def _singular(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """A matrix (stack) with singular values 1, 1.6, 2.2, ... (well separated)."""
    m, n = shape[-2:]
    k = min(m, n)
    u = _orthogonal(rng, *shape[:-2], m, k)
    v = _orthogonal(rng, *shape[:-2], n, k)
    s = 1.0 + 0.6 * np.arange(k) + 0.1 * rng.uniform(size=shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


# --------------------------------------------------------------------------- inverse, solve


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


# --------------------------------------------------------------------------- determinants


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
    return u, _pair_products(s), vh, np.asarray(sign)


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
    result = np.empty(np.shape(x), dtype=d.dtype)
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
    sign = np.asarray(strip(out[0]))
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


# --------------------------------------------------------------------------- cholesky


def _cholesky_jvp(dx: Any, x: Any, *, out: Any, upper: bool) -> Any:
    low = _mT(out) if upper else out
    n = shape_of(x)[-1]
    # L^-1 S L^-T for the symmetrised tangent S, then L times its lower part, diagonal halved
    inner = np.linalg.solve(low, _mT(np.linalg.solve(low, _sym(dx))))
    dlow = np.matmul(low, inner * _tril_half(n, out))
    return _mT(dlow) if upper else dlow


def _cholesky_vjp(ct: Any, x: Any, *, out: Any, upper: bool) -> Any:
    """a_bar = sym(L^-T P L^-1), P = tril_half(L^T L_bar) (L_bar = U_bar^T when upper)."""
    low, gl = (_mT(out), _mT(ct)) if upper else (out, ct)
    n = shape_of(x)[-1]
    p = np.matmul(_mT(low), gl) * _tril_half(n, out)
    low_t = _mT(low)
    return _sym(_mT(np.linalg.solve(low_t, _mT(np.linalg.solve(low_t, p)))))


def _cholesky_split_args(a: Any, /, *, upper: bool = False) -> tuple:
    return (a,), {"upper": bool(upper)}


def _cholesky_impl(x: Any, *, upper: bool) -> Any:
    low = np.linalg.cholesky(x)
    return _mT(low) if upper else low


cholesky = LINALG.defprimitive(
    "cholesky", impl=_cholesky_impl,
    numpy=np.linalg.cholesky, split_args=_cholesky_split_args, jvp=_cholesky_jvp, vjp=_cholesky_vjp,
    examples=(
        Example(lambda np_, x: np_.linalg.cholesky(x), make=lambda rng: (_spd(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cholesky(x), make=lambda rng: (_spd(rng, 2, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cholesky(x @ x.T + np_.eye(3)), ((3, 3),)),
    ) + ((Example(lambda np_, x: np_.linalg.cholesky(x, upper=True),
                  make=lambda rng: (_spd(rng, 3, 3),)),) if _NUMPY2 else ()),
    doc="np.linalg.cholesky (w.r.t. the symmetrised input, as JAX); "
        "dL = L tril_half(L^-1 dA L^-T)",
)


# --------------------------------------------------------------------------- eigh


def _eigh_jvp(dx: Any, x: Any, *, out: Any, UPLO: str) -> Any:  # noqa: N803 - NumPy's name
    w, v = out
    n = shape_of(w)[-1]
    vt_dx_v = np.matmul(_mT(v), np.matmul(_sym(dx), v))
    eye = _eye(n, w)
    gaps = (1.0 - eye) / (w[..., None, :] - w[..., :, None] + eye)  # 1/(w_j - w_i), 0 on diag
    return _diag(vt_dx_v), np.matmul(v, gaps * vt_dx_v)


def _eigh_vjp(ct: Any, x: Any, *, out: Any, UPLO: str) -> Any:  # noqa: N803 - NumPy's name
    """a_bar = sym(V (diag(w_bar) + F * V^T V_bar) V^T), F_ij = 1/(w_j - w_i), 0 on diag."""
    w, v = out
    gw, gv = ct
    n = shape_of(w)[-1]
    eye = _eye(n, w)
    gaps = (1.0 - eye) / (w[..., None, :] - w[..., :, None] + eye)
    inner = _diag_embed(gw) + gaps * np.matmul(_mT(v), gv)
    return _sym(np.matmul(v, np.matmul(inner, _mT(v))))


def _eigh_split_args(a: Any, UPLO: str = "L") -> tuple:  # noqa: N803 - NumPy's name
    return (a,), {"UPLO": UPLO}


_EIGH_CALLS = (
    lambda np_, x: np_.linalg.eigh(x).eigenvalues,
    lambda np_, x: np_.linalg.eigh(x)[1] ** 2,
    lambda np_, x: np_.abs(np_.linalg.eigh(x)[1]),
    lambda np_, x: np_.einsum("...ij,...j,...kj->...ik", np_.linalg.eigh(x)[1],
                              np_.exp(np_.linalg.eigh(x)[0]), np_.linalg.eigh(x)[1]),
)

eigh = LINALG.defprimitive(
    "eigh", impl=lambda x, *, UPLO: np.linalg.eigh(x, UPLO=UPLO), numpy=np.linalg.eigh,
    split_args=_eigh_split_args, jvp=_eigh_jvp, vjp=_eigh_vjp, multiple_results=True,
    examples=tuple(
        Example(call, make=lambda rng, s=s: (_spectrum(rng, *s),))
        for call in _EIGH_CALLS for s in ((3, 3), (2, 4, 4))
    ) + (
        Example(lambda np_, x: np_.linalg.eigh(x, UPLO="U")[0],
                make=lambda rng: (_spectrum(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.eigh(x + x.T)[0], ((3, 3),)),
    ),
    doc="np.linalg.eigh (w.r.t. the symmetrised input, as JAX); dw = diag(V^T dA V), "
        "dV = V (F * V^T dA V) with F_ij = 1/(w_j - w_i)",
)


def _eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    return np.linalg.eigh(a, UPLO=UPLO).eigenvalues


eigvalsh = LINALG.defcomposite(
    "eigvalsh", _eigvalsh, numpy=np.linalg.eigvalsh,
    examples=(
        Example(lambda np_, x: np_.linalg.eigvalsh(x), make=lambda rng: (_spectrum(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.eigvalsh(x), make=lambda rng: (
            _spectrum(rng, 2, 4, 4),)),
    ),
    doc="np.linalg.eigvalsh: the eigenvalues of eigh",
)


# --------------------------------------------------------------------------- svd


def _svd_jvp(dx: Any, x: Any, *, out: Any, hermitian: bool) -> Any:
    u, s, vh = out
    m, n = shape_of(x)[-2:]
    v = _mT(vh)
    ds_mat = np.matmul(_mT(u), np.matmul(dx, v))
    eye = _eye(shape_of(s)[-1], s)
    sj, si = s[..., None, :], s[..., :, None]
    gaps = (1.0 - eye) / ((sj + si) * (sj - si) + eye)  # 1/(s_j^2 - s_i^2), 0 on the diagonal
    dss = ds_mat * sj
    sds = si * ds_mat
    du = np.matmul(u, gaps * (dss + _mT(dss)))
    dv = np.matmul(v, gaps * (sds + _mT(sds)))
    if m > n:  # the part of dA's range outside span(U)
        dx_v = np.matmul(dx, v)
        du = du + (dx_v - np.matmul(u, np.matmul(_mT(u), dx_v))) / sj
    if n > m:
        dxt_u = np.matmul(_mT(dx), u)
        dv = dv + (dxt_u - np.matmul(v, np.matmul(vh, dxt_u))) / sj
    return du, _diag(ds_mat), _mT(dv)


def _svd_vjp(ct: Any, x: Any, *, out: Any, hermitian: bool) -> Any:
    """a_bar = U P_bar V^T (+ the parts outside span(U) / span(V)), the transpose of _svd_jvp:
    P_bar = diag(S_bar) + (A_u + A_u^T) s_j + s_i (A_v + A_v^T), A_u = F * U^T U_bar,
    A_v = F * V^T V_bar, F_ij = 1/(s_j^2 - s_i^2)."""
    u, s, vh = out
    gu, gs, gvh = ct
    m, n = shape_of(x)[-2:]
    v, gv = _mT(vh), _mT(gvh)
    eye = _eye(shape_of(s)[-1], s)
    sj, si = s[..., None, :], s[..., :, None]
    gaps = (1.0 - eye) / ((sj + si) * (sj - si) + eye)
    a_u = gaps * np.matmul(_mT(u), gu)
    a_v = gaps * np.matmul(vh, gv)
    p_bar = _diag_embed(gs) + (a_u + _mT(a_u)) * sj + si * (a_v + _mT(a_v))
    abar = np.matmul(u, np.matmul(p_bar, vh))
    if m > n:
        abar = abar + np.matmul((gu - np.matmul(u, np.matmul(_mT(u), gu))) / sj, vh)
    if n > m:
        abar = abar + np.matmul(u, _mT((gv - np.matmul(v, np.matmul(vh, gv))) / sj))
    return abar


_SVD_CALLS = (
    lambda np_, x: np_.linalg.svd(x, full_matrices=False)[1],
    lambda np_, x: np_.linalg.svd(x, full_matrices=False).U ** 2,
    lambda np_, x: np_.abs(np_.linalg.svd(x, full_matrices=False).Vh),
    lambda np_, x: np_.matmul(*np_.linalg.svd(x, full_matrices=False)[::2]),  # U @ Vh
)

svd_factors = LINALG.defprimitive(
    "svd_factors",
    impl=lambda x, *, hermitian: np.linalg.svd(x, full_matrices=False, hermitian=hermitian),
    jvp=_svd_jvp, vjp=_svd_vjp, multiple_results=True,
    examples=tuple(
        Example(call, make=lambda rng, s=s: (_singular(rng, *s),))
        for call in _SVD_CALLS for s in ((3, 3), (4, 2), (2, 4), (2, 3, 2))
    ),
    doc="np.linalg.svd(a, full_matrices=False) -> (U, S, Vh); dS = diag(U^T dA V), dU and "
        "dV as in JAX (distinct singular values)",
)


def _svdvals_jvp(dx: Any, x: Any, *, out: Any, hermitian: bool) -> Any:
    u, _, vh = np.linalg.svd(x, full_matrices=False, hermitian=hermitian)
    return _diag(np.matmul(_mT(u), np.matmul(dx, _mT(vh))))


def _svdvals_vjp(ct: Any, x: Any, *, out: Any, hermitian: bool) -> Any:
    """a_bar = U diag(s_bar) V^T."""
    u, _, vh = np.linalg.svd(x, full_matrices=False, hermitian=hermitian)
    return np.matmul(u * ct[..., None, :], vh)


svdvals = LINALG.defprimitive(
    "svdvals",
    impl=lambda x, *, hermitian: np.linalg.svd(x, compute_uv=False, hermitian=hermitian),
    numpy=getattr(np.linalg, "svdvals", ()), split_args=lambda x, /: ((x,), {"hermitian": False}),
    jvp=_svdvals_jvp, vjp=_svdvals_vjp,
    examples=(
        Example(lambda np_, x: np_.linalg.svd(x, compute_uv=False),
                make=lambda rng: (_singular(rng, 3, 2),)),
        Example(lambda np_, x: np_.linalg.svd(x, compute_uv=False),
                make=lambda rng: (_singular(rng, 2, 2, 4),)),
    ) + ((Example(lambda np_, x: np_.linalg.svdvals(x), make=lambda rng: (
        _singular(rng, 3, 3),)),) if _NUMPY2 else ()),
    doc="singular values; dS = diag(U^T dA V)",
)


def _svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
         hermitian: bool = False) -> Any:
    if not compute_uv:
        return svdvals(a, hermitian=bool(hermitian))
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise UnsupportedPrimitiveError(
            "np.linalg.svd(a, full_matrices=True) of a non-square matrix: the extra columns "
            "of U or V are not unique, so they have no derivative. Pass full_matrices=False."
        )
    return svd_factors(a, hermitian=bool(hermitian))


svd = LINALG.defcomposite(
    "svd", _svd, numpy=np.linalg.svd,
    examples=(
        Example(lambda np_, x: np_.linalg.svd(x)[1], make=lambda rng: (_singular(rng, 3, 3),),
                reference=lambda np_, x: np_.linalg.svd(x, full_matrices=False)[1]),
        Example(lambda np_, x: np_.linalg.svd(x, compute_uv=False),
                make=lambda rng: (_singular(rng, 2, 4, 3),)),
        Example(lambda np_, x: np_.linalg.svd(x, full_matrices=False)[0] ** 2,
                make=lambda rng: (_singular(rng, 4, 3),)),
    ),
    doc="np.linalg.svd: svd_factors, or svdvals when compute_uv=False",
)


# --------------------------------------------------------------------------- pinv, qr

_UNSET = object()


def _pinv_jvp(dx: Any, x: Any, *, out: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    m, n = shape_of(x)[-2:]
    p, dxt = out, _mT(dx)
    dp = -np.matmul(p, np.matmul(dx, p))
    dp = dp + np.matmul(np.matmul(p, _mT(p)), np.matmul(dxt, _eye(m, p) - np.matmul(x, p)))
    return dp + np.matmul(_eye(n, p) - np.matmul(p, x), np.matmul(dxt, np.matmul(_mT(p), p)))


def _pinv_vjp(ct: Any, x: Any, *, out: Any, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    """a_bar = -P^T ct P^T + (I - A P) ct^T P P^T + P^T P ct^T (I - P A), P = pinv(A)."""
    m, n = shape_of(x)[-2:]
    p, pt, gt = out, _mT(out), _mT(ct)
    abar = -np.matmul(pt, np.matmul(ct, pt))
    abar = abar + np.matmul(_eye(m, p) - np.matmul(x, p), np.matmul(gt, np.matmul(p, pt)))
    return abar + np.matmul(np.matmul(pt, p), np.matmul(gt, _eye(n, p) - np.matmul(p, x)))


def _pinv_impl(x: Any, *, rcond: Any, hermitian: bool, rtol: Any) -> Any:
    extra = {} if rtol is _UNSET else {"rtol": rtol}
    return np.linalg.pinv(x, rcond, hermitian, **extra)


def _pinv_split_args(a: Any, rcond: Any = None, hermitian: bool = False, *,
                     rtol: Any = _UNSET) -> tuple:
    rtol = _UNSET if rtol is np._NoValue else rtol
    return (a,), {"rcond": rcond, "hermitian": bool(hermitian), "rtol": rtol}


pinv = LINALG.defprimitive(
    "pinv", impl=_pinv_impl, numpy=np.linalg.pinv, split_args=_pinv_split_args, jvp=_pinv_jvp,
    vjp=_pinv_vjp,
    examples=tuple(
        Example(lambda np_, x: np_.linalg.pinv(x), make=lambda rng, s=s: (_singular(rng, *s),))
        for s in ((3, 3), (4, 2), (2, 3), (2, 3, 2))
    ),
    doc="np.linalg.pinv of a full-rank matrix; dP = -P dA P + P P^T dA^T (I - A P) "
        "+ (I - P A) dA^T P^T P",
)


def _qr_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    q, r = out
    n = shape_of(x)[-1]
    dx_rinv = _mT(np.linalg.solve(_mT(r), _mT(dx)))  # dA R^-1
    qt_dx_rinv = np.matmul(_mT(q), dx_rinv)
    lower = qt_dx_rinv * _strict_tril(n, r)
    skew = lower - _mT(lower)
    dq = np.matmul(q, skew - qt_dx_rinv) + dx_rinv
    dr = np.matmul(qt_dx_rinv - skew, r)
    return dq, dr


def _qr_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    """a_bar = B_bar R^-T, B_bar = Q_bar + Q (tril(M - M^T, -1) - M), M = Q^T Q_bar - R_bar R^T."""
    q, r = out
    gq, gr = ct
    n = shape_of(x)[-1]
    mm = np.matmul(_mT(q), gq) - np.matmul(gr, _mT(r))
    c_bar = (mm - _mT(mm)) * _strict_tril(n, r) - mm
    b_bar = gq + np.matmul(q, c_bar)
    return _mT(np.linalg.solve(r, _mT(b_bar)))


def _qr_split_args(a: Any, mode: str = "reduced") -> tuple:
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "complete") or m < n or (mode == "complete" and m != n):
        raise TypeError(
            f"only mode='reduced' of matrices with at least as many rows as columns is "
            f"differentiable (got mode={mode!r} and shape {shape_of(a)}); for R alone write "
            f"np.linalg.qr(a)[1]"
        )
    return (a,), {}


qr = LINALG.defprimitive(
    "qr", impl=np.linalg.qr, numpy=np.linalg.qr, split_args=_qr_split_args,
    jvp=_qr_jvp, vjp=_qr_vjp, multiple_results=True,
    examples=tuple(  # Q and R apart: the primal check cannot stack arrays of two shapes
        Example(lambda np_, x, i=i: np_.linalg.qr(x)[i], make=lambda rng, s=s: (
            _singular(rng, *s),))
        for s in ((4, 2), (2, 3, 2)) for i in (0, 1)
    ) + (
        Example(lambda np_, x: np_.linalg.qr(x), make=lambda rng: (_singular(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.qr(x, mode="complete")[1],
                make=lambda rng: (_singular(rng, 3, 3),)),
    ),
    doc="np.linalg.qr (reduced, rows >= columns); dR = (Q^T dA R^-1 - X) R, "
        "dQ = Q (X - Q^T dA R^-1) + dA R^-1, X the skew part of tril(Q^T dA R^-1, -1)",
)


# --------------------------------------------------------------------------- norms


def _norm2_jvp(dx: Any, x: Any, *, out: Any, axis: Any, keepdims: bool) -> Any:
    norm = expand_reduced(out, axis, _ndim(x), keepdims, batched=False)
    zero = norm == 0  # x is 0 wherever its norm is: use the subgradient 0, not 0/0
    return np.sum(x / (norm + zero) * dx, axis=batch_axis(axis, _ndim(x)), keepdims=keepdims)


def _norm2_vjp(ct: Any, x: Any, *, out: Any, axis: Any, keepdims: bool) -> Any:
    """x_bar = ct x / norm (0 where the norm is 0)."""
    norm = expand_reduced(out, axis, _ndim(x), keepdims, batched=False)
    zero = norm == 0
    return expand_reduced(ct, axis, _ndim(x), keepdims) * (x / (norm + zero))


def _norm2_impl(x: Any, *, axis: Any, keepdims: bool) -> Any:
    if is_active(x):  # an outer derivative: through norm2 again, for its subgradient at 0
        return norm2(x, axis=axis, keepdims=keepdims)
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


norm2 = LINALG.defprimitive(
    "norm2", impl=_norm2_impl, jvp=_norm2_jvp, vjp=_norm2_vjp,
    examples=(
        Example(lambda np_, x: np_.linalg.norm(x), ((3,),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=-1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=(0, 2)), ((2, 3, 4),)),
        # at 0 JAX gives nan; dualad the subgradient 0, which central differences also give
        Example(lambda np_, x: np_.linalg.norm(x, axis=1),
                make=lambda rng: (np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]),),
                reference=None, finite_differences=True, second_order=False),
    ),
    doc="Euclidean (Frobenius) norm over axis; d = sum(x dx) / norm, 0 where the norm is 0",
)


def _vector_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    if ord is None or (not isinstance(ord, str) and ord == 2):
        return norm2(x, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of non-zeros: piecewise constant
        return np.sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    return np.sum(np.abs(x) ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x: Any, ord: Any, axis: Any, keepdims: bool) -> Any:  # noqa: A002
    nd = _ndim(x)
    row, col = (normalize_axis(operator.index(a), nd) for a in axis)
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord is None or ord in ("fro", "f"):
        return norm2(x, axis=(row, col), keepdims=keepdims)
    if ord in (2, -2, "nuc"):
        rest = tuple(a for a in range(nd) if a not in (row, col))
        s = svdvals(np.transpose(x, rest + (row, col)), hermitian=False)
        ret = s[..., 0] if ord == 2 else (s[..., -1] if ord == -2 else np.sum(s, axis=-1))
    elif ord in (1, -1, np.inf, -np.inf):
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        sums = np.sum(np.abs(x), axis=inner)
        reduce = np.max if ord > 0 else np.min
        ret = reduce(sums, axis=outer - (outer > inner))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(shape_of(x))
        shape[row] = shape[col] = 1
        ret = np.reshape(ret, tuple(shape))
    return ret


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    nd = _ndim(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            return norm2(x, axis=None, keepdims=bool(keepdims))
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (operator.index(axis),)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis, bool(keepdims))
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, bool(keepdims))
    raise ValueError("Improper number of dimensions to norm.")


norm = LINALG.defcomposite(
    "norm", _norm, numpy=np.linalg.norm,
    examples=(
        Example(lambda np_, x: np_.linalg.norm(x), ((2, 3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 2), ((3,),)),
        Example(lambda np_, x: np_.linalg.norm(x, "fro"), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, axis=0), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 1, axis=-1), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, np_.inf), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, -np_.inf, axis=1, keepdims=True), ((2, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 3), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, 0.5, axis=0), ((3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, 0), ((4,),)),
        Example(lambda np_, x: np_.linalg.norm(x, "fro", axis=(2, 0), keepdims=True),
                ((2, 3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, "nuc"), make=lambda rng: (
            _singular(rng, 3, 2),)),
        Example(lambda np_, x: np_.linalg.norm(x, 2, axis=(0, 2)), make=lambda rng: (
            np.moveaxis(_singular(rng, 3, 2, 4), 0, 1),)),
        Example(lambda np_, x: np_.linalg.norm(x, -2), make=lambda rng: (
            _singular(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.norm(x, 1), ((3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, -1, axis=(1, 0)), ((3, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, np_.inf, axis=(-1, 0), keepdims=True),
                ((3, 2, 4),)),
        Example(lambda np_, x: np_.linalg.norm(x, -np_.inf), ((3, 4),)),
    ),
    doc="np.linalg.norm: norm2 for the Euclidean and Frobenius norms (subgradient 0 at 0), "
        "abs/max/min/sum/power for the other vector and induced norms, svdvals for 2/-2/'nuc'",
)


def _cond(x: Any, p: Any = None) -> Any:
    if p is None or p in (2, -2):
        s = svdvals(x, hermitian=False)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    return _matrix_norm(x, p, (-2, -1), False) * _matrix_norm(np.linalg.inv(x), p, (-2, -1),
                                                               False)


cond = LINALG.defcomposite(
    "cond", _cond, numpy=np.linalg.cond,
    examples=(
        Example(lambda np_, x: np_.linalg.cond(x), make=lambda rng: (_singular(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cond(x, -2), make=lambda rng: (
            _singular(rng, 2, 3, 2),)),
        Example(lambda np_, x: np_.linalg.cond(x, "fro"), make=lambda rng: (
            _wellcond(rng, 3, 3),)),
        Example(lambda np_, x: np_.linalg.cond(x, 1), make=lambda rng: (_wellcond(rng, 3, 3),)),
    ),
    doc="np.linalg.cond: ratio of singular values, or norm(a) norm(inv(a))",
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


# --------------------------------------------------------------------------- NumPy 2 only


def _vector_norm_fn(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                    ord: Any = 2) -> Any:  # noqa: A002 - NumPy's name
    if isinstance(axis, list):
        axis = tuple(axis)
    return _vector_norm(x, ord, axis, bool(keepdims))


def _matrix_norm_fn(x: Any, /, *, keepdims: bool = False,
                    ord: Any = "fro") -> Any:  # noqa: A002 - NumPy's name
    return _matrix_norm(x, ord, (-2, -1), bool(keepdims))


def _matrix_transpose(x: Any, /) -> Any:
    if _ndim(x) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return _mT(x)


def _linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    rows, cols = shape_of(x)[-2:]
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = np.arange(length)
    return x[..., i - min(offset, 0), i + max(offset, 0)]


def _linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    if dtype is not None:
        raise TypeError("dtype= is not supported")
    return np.sum(_linalg_diagonal(x, offset=offset), axis=-1)


def _linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    if shape_of(x1)[axis] != 3 or shape_of(x2)[axis] != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors")
    return np.cross(x1, x2, axis=axis)


if _NUMPY2:
    vector_norm = LINALG.defcomposite(
        "vector_norm", _vector_norm_fn, numpy=np.linalg.vector_norm,
        examples=(
            Example(lambda np_, x: np_.linalg.vector_norm(x), ((2, 3),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, axis=(0, 2), ord=1), ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, ord=np_.inf, keepdims=True),
                    ((2, 3),)),
            Example(lambda np_, x: np_.linalg.vector_norm(x, axis=-1, ord=4), ((2, 3),)),
        ),
        doc="np.linalg.vector_norm (axis None flattens, tuples allowed)",
    )
    matrix_norm = LINALG.defcomposite(
        "matrix_norm", _matrix_norm_fn, numpy=np.linalg.matrix_norm,
        examples=(
            Example(lambda np_, x: np_.linalg.matrix_norm(x), ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.matrix_norm(x, ord=1, keepdims=True),
                    ((2, 3, 2),)),
            Example(lambda np_, x: np_.linalg.matrix_norm(x, ord="nuc"), make=lambda rng: (
                _singular(rng, 2, 3, 2),)),
        ),
        doc="np.linalg.matrix_norm: norm over the last two axes",
    )
    matrix_transpose = LINALG.defcomposite(
        "linalg.matrix_transpose", _matrix_transpose, numpy=np.linalg.matrix_transpose,
        examples=(Example(lambda np_, x: np_.linalg.matrix_transpose(x), ((2, 3, 4),)),),
        doc="np.linalg.matrix_transpose: swap the last two axes",
    )
    linalg_diagonal = LINALG.defcomposite(
        "linalg.diagonal", _linalg_diagonal, numpy=np.linalg.diagonal,
        examples=(Example(lambda np_, x: np_.linalg.diagonal(x), ((2, 3, 4),)),
                  Example(lambda np_, x: np_.linalg.diagonal(x, offset=1), ((3, 4),)),
                  Example(lambda np_, x: np_.linalg.diagonal(x, offset=-2), ((2, 4, 3),))),
        doc="np.linalg.diagonal: the diagonal of the last two axes",
    )
    linalg_trace = LINALG.defcomposite(
        "linalg.trace", _linalg_trace, numpy=np.linalg.trace,
        examples=(Example(lambda np_, x: np_.linalg.trace(x), ((2, 3, 3),)),
                  Example(lambda np_, x: np_.linalg.trace(x, offset=1), ((3, 4),))),
        doc="np.linalg.trace: sum of the diagonal of the last two axes",
    )
    linalg_cross = LINALG.defcomposite(
        "linalg.cross", _linalg_cross, numpy=np.linalg.cross,
        examples=(Example(lambda np_, x, y: np_.linalg.cross(x, y), ((2, 3), (3,))),
                  Example(lambda np_, x, y: np_.linalg.cross(x, y, axis=0), ((3, 2), (3, 2)))),
        doc="np.linalg.cross: np.cross of 3-vectors",
    )


defnondiff(np.linalg.matrix_rank, why="an integer: the number of non-negligible singular values")
