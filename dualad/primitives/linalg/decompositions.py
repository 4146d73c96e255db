"""Factorisations: cholesky, eigh and eigvalsh, svd and svdvals, pinv, qr."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._rule_checks import complex_values_error, is_complex
from ...axes import (
    shape_of,
)
from ...errors import UnsupportedPrimitiveError
from ...registry import Example
from ._common import (
    _NUMPY2,
    LINALG,
    _diag,
    _diag_embed,
    _eye,
    _mT,
    _singular,
    _spd,
    _spectrum,
    _strict_tril,
    _sym,
    _tril_half,
)

_REAL_EMBEDDING = ("differentiate the real matrix [[re, -im], [im, re]] (np.block of "
                   "np.real(a) and np.imag(a)), whose singular values are those of a, twice")


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
    complex_rules=False,  # real-only rules: complex values raise
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
    complex_rules=False,  # real-only rules: complex values raise
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
    complex_rules=False,  # real-only rules: complex values raise
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
    complex_rules=False,  # real-only rules: complex values raise
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
    if is_complex(a):  # named here: the primitives behind it are not NumPy's names
        raise complex_values_error("np.linalg.svd", _REAL_EMBEDDING)
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
    complex_rules=False,  # real-only rules: complex values raise
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
    complex_rules=False,  # real-only rules: complex values raise
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


