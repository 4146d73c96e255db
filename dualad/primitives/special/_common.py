"""What the modules of scipy.special's family share: the family, how a ufunc is declared, its
examples and references, and dtype helpers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...registry import (
    REALS,
    Example,
    Family,
    Interval,
    Primitive,
    is_active,
    plain_array,
    strip,
)

SPECIAL = Family("special")

_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_ONE_OVER_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)

# Few, small shapes: each example costs the registry walk several compilations in JAX
_UNARY_SHAPES = ((), (2, 3))
_BINARY_SHAPES = (((), ()), ((2, 3), (3,)))


def _jax(name: str) -> Any:
    """The reference ``jax.scipy.special.<name>`` (JAX is imported by the tests only)."""
    def reference(jnp: Any, *xs: Any) -> Any:
        import jax.scipy.special as jss

        return getattr(jss, name)(*xs)
    return reference


def _examples(ufunc: Any, reference: Any) -> tuple[Example, ...]:
    """One example per shape (pairs of shapes for two arguments) of ``ufunc(*xs)``."""
    def call(np_: Any, *xs: Any) -> Any:
        return ufunc(*xs)

    shapes = _UNARY_SHAPES if ufunc.nin == 1 else _BINARY_SHAPES
    if reference is None:
        return tuple(Example(call, s if ufunc.nin > 1 else (s,), finite_differences=True)
                     for s in shapes)
    return tuple(Example(call, s if ufunc.nin > 1 else (s,), reference=reference)
                 for s in shapes)


def _special(ufunc: Any, jvp: Any, doc: str, domain: Interval = REALS, *,
             jax: str | None = "", examples: tuple[Example, ...] = (),
             name: str | None = None, formula: Any = None) -> Primitive:
    """Declare a scipy.special ufunc: dispatched from the ufunc, elementwise.

    ``jax`` names the ``jax.scipy.special`` reference (the ufunc's own name by default; None
    for central differences). As for NumPy's ufuncs, each rule ``dx -> dx * d out/dx`` is
    also the VJP rule ``ct -> ct * d out/dx`` (a diagonal Jacobian is its own transpose).
    """
    reference = None if jax is None else _jax(jax or ufunc.__name__)
    return SPECIAL.defprimitive(
        name or ufunc.__name__, impl=ufunc, numpy=ufunc, jvp=jvp, vjp=jvp, elementwise=True,
        domain=domain, doc=doc, examples=examples or _examples(ufunc, reference),
        formula=formula,
    )


def _float_dtype(*xs: Any) -> np.dtype:
    """The float dtype NumPy computes ``xs`` in (float32 stays float32)."""
    return np.result_type(*(strip(x) for x in xs), np.float32)


def _plain_in(value: Any, dtype: np.dtype) -> Any:
    """A plain value (of constant arguments only) in ``dtype``, so that a float32 derivative
    stays float32; an active value as it is."""
    return value if is_active(value) else plain_array(value, dtype)


def _sign(x: Any) -> Any:
    """sign(x) as a constant of x's dtype (piecewise constant: no derivative)."""
    return np.sign(strip(x)).astype(np.result_type(strip(x), np.float32))
