"""Eigenvalues of general matrices: ``np.linalg.eig``, ``eigvals`` and ``np.roots``.

Their results are complex in general (a real matrix may have complex eigenvalues; NumPy
returns real arrays when every eigenvalue is real). The rules are JAX's, for distinct
eigenvalues (the derivative does not exist where two coincide: it is infinite there):

* ``dw = diag(V^-1 dA V)``;
* ``dV = U + V diag(c)`` with ``U = V (F * V^-1 dA V)``, ``F_ij = 1/(w_j - w_i)`` (0 on the
  diagonal), and ``c`` the change of scale that keeps LAPACK's (and NumPy's) normalisation
  of each eigenvector: unit 2-norm and a real largest-magnitude component. So the
  derivative is that of the eigenvectors NumPy returns (JAX's, with
  ``enable_eigvec_derivs=True``), away from ties in that largest component;
* the VJPs are their transposes under ``Re(sum(u * v))``.

``np.roots`` is the eigenvalues of the companion matrix, as NumPy computes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._rule_checks import is_complex
from ...axes import shape_of
from ...errors import UnsupportedPrimitiveError
from ...registry import Example, plain_array, strip
from ..complex_parts import via_parts
from ._common import LINALG, _diag, _diag_embed, _eye, _mT


def _gaps(w: Any) -> Any:
    """F_ij = 1/(w_j - w_i), 0 on the diagonal."""
    eye = _eye(shape_of(w)[-1], w)
    return (1.0 - eye) / (w[..., None, :] - w[..., :, None] + eye)


def _largest(v: Any) -> np.ndarray:
    """The mask of each eigenvector's largest-magnitude component (the one LAPACK makes
    real): a constant, like the argmax it comes from."""
    values = np.abs(strip(v))
    k = np.argmax(values, axis=-2)
    return np.arange(values.shape[-2])[:, None] == k[..., None, :]


def _eig_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    w, v = out
    p = np.matmul(np.linalg.solve(v, dx), v)  # V^-1 dA V
    u = np.matmul(v, _gaps(w) * p)
    scale = np.sum(np.conjugate(v) * u, axis=-2)
    if not is_complex(v):  # real eigenvectors: only the norm to keep
        return _diag(p), u - v * scale[..., None, :]
    mask = _largest(v)
    c = -np.real(scale) - 1j * (np.imag(np.sum(mask * u, axis=-2))
                                / np.real(np.sum(mask * v, axis=-2)))
    return _diag(p), u + v * c[..., None, :]


def _eig_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    """A_bar = V^-T (diag(w_bar) + F * (V^T U_bar)) V^T, with U_bar the cotangent of U once
    the normalisation's share is taken out of V_bar."""
    w, v = out
    gw, gv = ct
    s = np.sum(gv * v, axis=-2)  # pairs V_bar with the column scales c
    if not is_complex(v):
        gu = gv - v * s[..., None, :]
    else:
        rho = np.real(np.sum(_largest(v) * v, axis=-2))
        gu = (gv - np.conjugate(v) * np.real(s)[..., None, :]
              - (np.imag(s) / rho)[..., None, :] * _largest(v) * 1j)  # v's precision
    inner = _diag_embed(gw) + _gaps(w) * np.matmul(_mT(v), gu)
    return np.linalg.solve(_mT(v), np.matmul(inner, _mT(v)))


def _eig_impl(x: Any) -> Any:
    return np.linalg.eig(x)


def _matrices(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Real matrices with well-separated eigenvalues (complex pairs among them)."""
    n = shape[-1]
    q = np.eye(n) + 0.3 * rng.normal(size=shape)
    d = np.arange(1.0, n + 1.0) * 1.5 * rng.choice([-1.0, 1.0], size=n)
    rotation = np.zeros((n, n))
    if n >= 2:  # one pair of complex eigenvalues
        rotation[0, 1], rotation[1, 0] = 2.0, -2.0
    return q @ (np.diag(d) + rotation) @ np.linalg.inv(q)


def _complex_parts(rng: np.random.Generator, *shape: int) -> tuple:
    a = _matrices(rng, *shape)
    return a, 0.3 * rng.normal(size=shape)


def _eigvec_moduli(np_: Any, a: Any) -> Any:
    v = np_.linalg.eig(a)[1]
    return np_.real(v * np_.conj(v))


def _stacked(fn: Any, complex_inputs: bool = True) -> Any:
    """``via_parts(fn)`` with the real and imaginary parts stacked into one array: central
    differences take functions of one output."""
    call = via_parts(fn, complex_inputs)
    return lambda np_, *xs: np_.stack(call(np_, *xs))


# JAX's eigvals has no second derivative (its rule reads the eigenvectors, whose derivatives
# jnp.linalg.eig refuses), so the examples checked against it stop at first order; those
# checked against central differences of NumPy's eig (eigenvalues and the eigenvectors NumPy
# normalises) go to second order.
_FIRST_ORDER = {"second_order": False}
_DIFFERENCES = {"reference": None, "finite_differences": True, "rtol": 1e-6, "atol": 1e-7}

eig = LINALG.defprimitive(
    "eig", impl=_eig_impl, numpy=np.linalg.eig, split_args=lambda a: ((a,), {}),
    jvp=_eig_jvp, vjp=_eig_vjp, multiple_results=True,
    examples=(
        Example(via_parts(lambda np_, a: np_.linalg.eig(a)[0], complex_inputs=False),
                make=lambda rng: (_matrices(rng, 3, 3),),
                reference=via_parts(lambda np_, a: np_.linalg.eigvals(a),
                                    complex_inputs=False), **_FIRST_ORDER),
        Example(via_parts(lambda np_, a: np_.linalg.eig(a).eigenvalues),
                make=lambda rng: _complex_parts(rng, 3, 3),
                reference=via_parts(lambda np_, a: np_.linalg.eigvals(a)), **_FIRST_ORDER),
        Example(via_parts(lambda np_, a: np_.linalg.eig(a)[0] ** 2, complex_inputs=False),
                make=lambda rng: (_matrices(rng, 2, 3, 3),),
                reference=via_parts(lambda np_, a: np_.linalg.eigvals(a) ** 2,
                                    complex_inputs=False), **_FIRST_ORDER),
        Example(_stacked(lambda np_, a: np_.linalg.eig(a)[0], complex_inputs=False),
                make=lambda rng: (_matrices(rng, 3, 3),), **_DIFFERENCES),
        Example(_stacked(lambda np_, a: np_.linalg.eig(a)[1], complex_inputs=False),
                make=lambda rng: (_matrices(rng, 3, 3),), **_DIFFERENCES),
        Example(_stacked(lambda np_, a: np_.linalg.eig(a)[1]),
                make=lambda rng: _complex_parts(rng, 3, 3), **_DIFFERENCES),
        Example(_eigvec_moduli, make=lambda rng: (_matrices(rng, 4, 4),), **_DIFFERENCES),
    ),
    doc="np.linalg.eig (distinct eigenvalues); dw = diag(V^-1 dA V), dV = V (F * V^-1 dA V) "
        "+ V diag(c), c keeping NumPy's normalisation of V",
)


def _eigvals_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    v = np.linalg.eig(x).eigenvectors  # the same LAPACK call: the same order as out
    return np.sum(np.linalg.solve(v, dx) * _mT(v), axis=-1)


def _eigvals_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    v = np.linalg.eig(x).eigenvectors
    return np.linalg.solve(_mT(v), np.matmul(_diag_embed(ct), _mT(v)))


eigvals = LINALG.defprimitive(
    "eigvals", impl=np.linalg.eigvals, numpy=np.linalg.eigvals,
    split_args=lambda a: ((a,), {}), jvp=_eigvals_jvp, vjp=_eigvals_vjp,
    examples=(
        Example(via_parts(lambda np_, a: np_.linalg.eigvals(a), complex_inputs=False),
                make=lambda rng: (_matrices(rng, 4, 4),), **_FIRST_ORDER),
        Example(via_parts(lambda np_, a: np_.linalg.eigvals(a)),
                make=lambda rng: _complex_parts(rng, 2, 3, 3), **_FIRST_ORDER),
        Example(_stacked(lambda np_, a: np_.linalg.eigvals(a)),
                make=lambda rng: _complex_parts(rng, 3, 3), **_DIFFERENCES),
    ),
    doc="np.linalg.eigvals (distinct eigenvalues); dw = diag(V^-1 dA V)",
)


def _roots(p: Any) -> Any:
    if len(shape_of(p)) != 1:
        raise ValueError("Input must be a rank-1 array.")
    values = plain_array(p)
    if values.size and (values[0] == 0 or values[-1] == 0):
        # NumPy drops zeros at either end: a root at infinity appears or disappears there
        # (leading), or exact roots at 0 are appended without the coefficients they depend
        # on (trailing); neither has the derivative the coefficients' values would suggest
        raise UnsupportedPrimitiveError(
            "np.roots of active coefficients with a zero first or last coefficient: NumPy "
            "drops those zeros, and the roots' derivatives with respect to them do not exist "
            "(leading zeros) or would be lost (trailing zeros, whose roots at 0 NumPy "
            "appends as constants). Slice the zeros off as constants yourself, "
            "np.roots(p[i:j]) with p[i] and p[j - 1] non-zero (and np.zeros for the roots "
            "at 0), or keep the coefficient non-zero."
        )
    n = shape_of(p)[0]
    if n < 2:
        return np.zeros(0, dtype=p.dtype)
    # in p's dtype, as NumPy builds it (float32 coefficients, complex64 roots)
    companion = np.concatenate([np.reshape(-p[1:] / p[0], (1, n - 1)),
                                np.eye(n - 2, n - 1, dtype=p.dtype)])
    return np.linalg.eigvals(companion)


roots = LINALG.defcomposite(
    "roots", _roots, numpy=np.roots,
    examples=(
        Example(via_parts(lambda np_, p: np_.roots(p), complex_inputs=False),
                make=lambda rng: (np.poly([1.0, -2.0, 0.5 + 1j, 0.5 - 1j]).real
                                  + 0.05 * rng.normal(size=5),), **_FIRST_ORDER),
        Example(via_parts(lambda np_, p: np_.roots(p)),
                make=lambda rng: (rng.normal(size=4), rng.normal(size=4)), **_FIRST_ORDER),
        Example(_stacked(lambda np_, p: np_.roots(p), complex_inputs=False),
                make=lambda rng: (np.poly([1.0, -2.0, 0.5 + 1j, 0.5 - 1j]).real,),
                **_DIFFERENCES),
    ),
    doc="np.roots: the eigenvalues of the companion matrix (distinct roots)",
)

__all__ = ["eig", "eigvals", "roots"]
