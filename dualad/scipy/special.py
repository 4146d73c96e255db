"""``logsumexp``, ``softmax``, ``log_softmax``, ``polygamma`` and ``multigammaln`` with
SciPy's signatures, written with NumPy (and scipy.special's ufuncs).

SciPy's own versions convert their inputs with ``np.asarray`` (unless SciPy runs with
``SCIPY_ARRAY_API=1``), which an active array refuses. These are composites of registered
primitives, so they differentiate in both modes and to any order, and on plain arrays they
return SciPy's numbers. The first three need neither SciPy nor any rule of their own;
``polygamma`` and ``multigammaln`` are written with scipy.special's ufuncs (``psi``,
``zeta``, ``gamma``, ``gammaln``), which dualad differentiates as primitives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..active import primal
from ..registry import is_active, is_array, plain_array

__all__ = ["log_softmax", "logsumexp", "multigammaln", "polygamma", "softmax"]


def _as_array(x: Any) -> Any:
    """An active array as it is; anything else as a float array (as SciPy converts it), an
    array of a registered kind (dualad.compile's traced arrays) without np.asarray."""
    if is_active(x):
        return x
    x = x if is_array(x) else np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _shift(a: Any, axis: Any) -> np.ndarray:
    """The largest finite value along ``axis`` (a constant: the result does not depend on it
    mathematically, so it carries no derivative), 0 where there is none."""
    values = plain_array(a)
    finite = np.where(np.isfinite(values), values, -np.inf)
    m = np.max(finite, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0.0)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` along ``axis``, like ``scipy.special.logsumexp``.

    Parameters
    ----------
    a : array_like or active array
        The exponents.
    axis : None, int or tuple of ints
        The axes summed over (all by default).
    b : array_like or active array, optional
        Weights broadcast against ``a``; where ``b`` is 0 the term is left out (even an
        infinite or NaN ``a``), and negative weights need ``return_sign=True``.
    keepdims : bool
        Keep the summed axes with length 1.
    return_sign : bool
        Return ``(log|sum|, sign(sum))``; the sign is a plain array.

    Returns
    -------
    The result, active when ``a`` or ``b`` is (and ``(result, sign)`` with ``return_sign``).

    Examples
    --------
    >>> import numpy as np, dualad
    >>> from dualad.scipy.special import logsumexp
    >>> float(logsumexp(np.log([1.0, 2.0, 3.0])))  # log 6
    1.791759469228055
    >>> dualad.grad(logsumexp)(np.log([1.0, 2.0, 3.0]))  # the softmax
    array([0.16666667, 0.33333333, 0.5       ])
    """
    a = _as_array(a)
    if b is not None:
        b = _as_array(b)
        # the terms with weight 0 are left out; np.where also broadcasts a against b
        a = np.where(plain_array(b) == 0, -np.inf, a)
    a = a if np.ndim(a) else np.reshape(a, (1,))
    axis = tuple(range(np.ndim(a))) if axis is None else axis
    m = _shift(a, axis)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        terms = np.exp(a - m) if b is None else b * np.exp(a - m)
        total = np.sum(terms, axis=axis, keepdims=True)
        sign = np.sign(plain_array(total))
        if return_sign:
            total = np.abs(total)
        out = np.log(total) + m
    if not keepdims:
        out, sign = np.squeeze(out, axis=axis), np.squeeze(sign, axis=axis)
    if not is_active(out) and out.ndim == 0:
        out, sign = out[()], sign[()]
    return (out, sign) if return_sign else out


def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``, like ``scipy.special.softmax``.

    >>> import numpy as np, dualad
    >>> from dualad.scipy.special import softmax
    >>> softmax(np.log([1.0, 3.0]))
    array([0.25, 0.75])
    >>> dualad.jacfwd(lambda x: softmax(x)[0])(np.log([1.0, 3.0]))  # p0 * (e0 - p)
    array([ 0.1875, -0.1875])
    """
    x = _as_array(x)
    m = _shift(x, axis)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x - m)
        return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``x - logsumexp(x)`` along ``axis``, like ``scipy.special.log_softmax``.

    >>> import numpy as np
    >>> from dualad.scipy.special import log_softmax
    >>> np.exp(log_softmax(np.log([1.0, 3.0])))
    array([0.25, 0.75])
    """
    x = _as_array(x)
    m = _shift(x, axis)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shifted = x - m
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def polygamma(n: Any, x: Any) -> Any:
    """The n-th derivative of the digamma function, like ``scipy.special.polygamma``:
    ``psi(x)`` for n = 0, ``(-1)**(n+1) n! zeta(n+1, x)`` above (SciPy's own formula).
    Differentiable in ``x``; ``n`` holds integers.

    >>> import numpy as np, dualad, scipy.special
    >>> from dualad.scipy.special import polygamma
    >>> bool(np.isclose(polygamma(1, 2.0), scipy.special.polygamma(1, 2.0)))
    True
    >>> bool(np.isclose(dualad.grad(lambda x: polygamma(1, x))(2.0), polygamma(2, 2.0)))
    True
    """
    from scipy import special

    n = plain_array(n)
    if is_active(n) or n.dtype.kind not in "iub" and not np.all(n == np.floor(n)):
        raise ValueError("polygamma's order n must hold integers")
    x = _as_array(x)
    if n.ndim == 0:
        order = int(n)
        if order == 0:
            return special.psi(x)
        return (-1.0) ** (order + 1) * special.gamma(order + 1.0) * special.zeta(order + 1.0, x)
    # an array of orders: each branch fed an order it is defined at, so the unused one
    # contributes no NaN to the derivative
    s = np.where(n == 0, 2.0, n + 1.0)
    higher = (-1.0) ** s * special.gamma(s) * special.zeta(s, x)
    return np.where(n == 0, special.psi(x), higher)


def multigammaln(a: Any, d: int) -> Any:
    """The log of the multivariate gamma function of dimension ``d``, like
    ``scipy.special.multigammaln``: ``d(d-1)/4 log(pi) + sum_j gammaln(a - j/2)``.
    Differentiable in ``a``; ``d`` is an integer.

    >>> import numpy as np, scipy.special
    >>> from dualad.scipy.special import multigammaln
    >>> bool(np.isclose(multigammaln(3.5, 3), scipy.special.multigammaln(3.5, 3)))
    True
    """
    from scipy import special

    if not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"multigammaln's d must be a positive integer, not {d!r}")
    a = _as_array(a)
    if np.any(plain_array(a) <= 0.5 * (d - 1)):
        raise ValueError(f"condition a ({plain_array(a)}) > 0.5 * (d-1) "
                         f"({0.5 * (d - 1)}) not met")
    steps = 0.5 * np.arange(d, dtype=np.result_type(primal(a), np.float32))
    terms = special.gammaln(np.expand_dims(a, -1) - steps)
    return d * (d - 1) / 4.0 * np.log(np.pi) + np.sum(terms, axis=-1)
