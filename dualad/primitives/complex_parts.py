"""The parts of complex numbers: ``real``, ``imag`` and ``angle``.

They are not holomorphic, so their rules are R-linear maps written out, with JAX's
conventions: a tangent has its primal's dtype, and a VJP rule is the transpose under the
pairing ``Re(sum(u * v))`` (no conjugate), so ``real``'s cotangent is ``ct`` itself and
``imag``'s is ``-1j * ct``. ``np.conj`` and ``np.abs`` are ufuncs, declared with the
elementwise family. On real values ``real`` is the identity, and ``imag`` and ``angle``
have derivative 0.

The registry walk cross-checks complex functions through their real and imaginary parts:
:func:`via_parts` turns ``f(z)`` into a function of real arrays with real results, which
every transform of both modes (and JAX's) takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._rule_checks import is_complex
from ..registry import Example, Family, Interval

COMPLEX_PARTS = Family("complex_parts", complex_rules=True)


def via_parts(fn: Callable[..., Any], complex_inputs: bool = True) -> Callable[..., Any]:
    """``fn(np_, *zs)`` as a function of real arrays with real results: each pair ``(a, b)``
    of arguments is ``z = a + 1j * b`` (unless ``complex_inputs=False``: the arguments as
    they are), and the result is ``(real(out), imag(out))``.

    >>> call = via_parts(lambda np_, z: z * z)
    >>> call(np, np.array([1.0]), np.array([2.0]))
    (array([-3.]), array([4.]))
    """

    def call(np_: Any, *parts: Any) -> Any:
        zs = parts if not complex_inputs else [
            parts[i] + 1j * parts[i + 1] for i in range(0, len(parts), 2)]
        out = fn(np_, *zs)
        return np_.real(out), np_.imag(out)

    return call


def conj_if_complex(x: Any) -> Any:
    """``np.conj(x)`` for complex ``x``, else ``x`` itself (no copy, no node on a tape): for
    NumPy's functions that conjugate an argument (``vdot``, ``vecdot``, ``correlate``).

    >>> conj_if_complex(np.array([1j])), conj_if_complex(2.0)
    (array([-0.-1.j]), 2.0)
    """
    return np.conjugate(x) if is_complex(x) else x


def abs_squared(x: Any) -> Any:
    """``|x|**2`` elementwise, real: ``x * x``, or ``Re(x * conj(x))`` for complex ``x`` (the
    terms of ``np.var`` of complex values).

    >>> abs_squared(np.array([3 + 4j]))
    array([25.])
    """
    if is_complex(x):
        return np.real(x * np.conjugate(x))
    return x * x


def in_dtype_of(t: Any, x: Any) -> Any:
    """A cotangent ``t`` in the dtype of the argument ``x`` (complex64 stays complex64).

    >>> in_dtype_of(np.ones(2), np.zeros(2, np.complex64)).dtype
    dtype('complex64')
    """
    return t if t.dtype == x.dtype else t.astype(x.dtype)


def _parts_examples(fn: Callable[..., Any], domain: Interval | None = None) -> tuple:
    return (
        Example(via_parts(fn), ((), ()), domain=domain),
        Example(via_parts(fn), ((2, 3), (2, 3)), domain=domain),
        Example(lambda np_, x: fn(np_, x), ((3,),), domain=domain),  # real inputs
    )


real = COMPLEX_PARTS.defprimitive(
    "real", impl=np.real, numpy=np.real, split_args=lambda val: ((val,), {}),
    jvp=lambda dx, x, *, out: np.real(dx),
    vjp=lambda ct, x, *, out: in_dtype_of(ct, x),
    examples=_parts_examples(lambda np_, z: np_.real(z)),
    doc="the real part; d re(z) = re(dz), cotangent ct (R-linear)",
)


def _imag_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    # the transpose of dz -> Im(dz) = Re(-1j dz) under Re(sum(u * v)) is ct -> -1j ct (JAX)
    if x.dtype.kind != "c":
        return ct * 0.0
    return in_dtype_of(ct * -1j, x)


imag = COMPLEX_PARTS.defprimitive(
    "imag", impl=np.imag, numpy=np.imag, split_args=lambda val: ((val,), {}),
    jvp=lambda dx, x, *, out: np.imag(dx), vjp=_imag_vjp,
    examples=_parts_examples(lambda np_, z: np_.imag(z)),
    doc="the imaginary part; d im(z) = im(dz), cotangent -1j ct (R-linear)",
)


def _angle_factor(x: Any, deg: bool) -> Any:
    """``-1j conj(z) / |z|**2`` (times 180/pi in degrees), 0 at z == 0: d angle(z) is
    Re(factor * dz) = Im(conj(z) dz) / |z|**2."""
    squared = np.real(x * np.conjugate(x))
    zero = squared == 0
    factor = np.conjugate(x) * -1j / np.where(zero, 1.0, squared)
    factor = np.where(zero, 0.0, factor)
    return factor * (180 / np.pi) if deg else factor


def _angle_jvp(dx: Any, x: Any, *, out: Any, deg: bool) -> Any:
    if x.dtype.kind != "c":
        return dx * 0.0  # 0 or pi: piecewise constant on the reals
    return np.real(dx * _angle_factor(x, deg))


def _angle_vjp(ct: Any, x: Any, *, out: Any, deg: bool) -> Any:
    if x.dtype.kind != "c":
        return ct * 0.0
    return in_dtype_of(ct * _angle_factor(x, deg), x)


# away from the branch cut on the negative reals, and from 0
_ANGLE_DOMAIN = Interval(0.3, 2.0)
angle = COMPLEX_PARTS.defprimitive(
    "angle", impl=lambda x, *, deg: np.angle(x, deg=deg), numpy=np.angle,
    split_args=lambda z, deg=False: ((z,), {"deg": bool(deg)}),
    jvp=_angle_jvp, vjp=_angle_vjp,
    examples=(
        *_parts_examples(lambda np_, z: np_.angle(z), _ANGLE_DOMAIN),
        Example(via_parts(lambda np_, z: np_.angle(z * np_.array([1.0, -1.0, 1j]),
                                                   deg=True)), ((2, 3), (2, 3)),
                domain=_ANGLE_DOMAIN),
    ),
    doc="the argument of z; d angle(z) = Im(conj(z) dz) / |z|**2 (0 for reals)",
)

__all__ = ["abs_squared", "angle", "conj_if_complex", "imag", "in_dtype_of", "real",
           "via_parts"]
