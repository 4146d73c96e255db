"""What the linear-algebra modules share: the family, matrix helpers and the generators of
test matrices (well-conditioned, symmetric positive definite, orthogonal, singular)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...axes import (
    shape_of,
)
from ...registry import Family

LINALG = Family("linalg", complex_rules=True)

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


