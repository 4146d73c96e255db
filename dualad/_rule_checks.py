"""What the engines check about the values rules return.

dualad's own rules are cross-checked against JAX by the test suite; a user's rules
(:func:`dualad.defprimitive` outside dualad) are checked as they run, because a result of the
wrong shape would otherwise be broadcast silently and a ``None`` turned into an object array.
The errors name the primitive, the rule and what was expected.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeMismatchError, UnsupportedPrimitiveError
from .registry import Primitive, is_active


def describe(value: Any) -> str:
    """A rule's result in words: ``None``, ``a float (a Python number)``, ``shape (3, 2)``."""
    if value is None:
        return "None"
    shape = getattr(value, "shape", None)
    if shape is None:
        return f"a {type(value).__name__}"
    return f"an array of shape {tuple(shape)} and dtype {value.dtype}"


def check_rule_result(prim: Primitive, mode: str, argument: int | None, value: Any,
                      expected: tuple[int, ...], broadcast: str | None = None) -> None:
    """Raise unless ``value`` is a float array of shape ``expected``: ``(k,) + shape``.

    ``mode`` is ``"jvp"`` or ``"vjp"``; ``argument`` the 0-based argument of the rule. With
    ``broadcast="up"`` (an elementwise JVP contribution) a shape of the same rank that
    broadcasts to ``expected`` is accepted too; with ``broadcast="down"`` (a VJP) a shape
    that broadcasting ``expected[1:]`` produces, which dualad sums back.
    """
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    good_dtype = dtype is not None and (dtype.kind in "fc" or is_active(value))
    good_shape = shape is not None and shape[:1] == expected[:1] and (
        tuple(shape) == expected
        or (broadcast == "up" and len(shape) == len(expected)
            and _broadcasts_to(tuple(shape), expected))
        or (broadcast == "down" and len(shape) >= len(expected)
            and _broadcasts_to(expected[1:], tuple(shape[1:]))))
    if good_dtype and good_shape:
        return
    which = f"{mode} rule" + ("" if argument is None else f" for argument {argument + 1}")
    whose = "output" if mode == "jvp" else "argument"
    if not prim.batched:  # the rule saw one direction; its results were stacked
        one = value if shape is None or not len(shape) else _one_of(value)
        seen, source = ("tangent", "argument") if mode == "jvp" else ("cotangent", "output")
        raise ShapeMismatchError(
            f"primitive {prim.name!r}: its {which} returned {describe(one)} for one "
            f"{'direction' if mode == 'jvp' else 'cotangent'}; it must return a float array "
            f"of the {whose}'s shape {expected[1:]}{_LEEWAY[broadcast]}. The rule sees one "
            f"{seen} at a time, of the {source}'s shape (see the guide's Custom primitives, "
            f"docs/custom-primitives.md)."
        )
    raise ShapeMismatchError(
        f"primitive {prim.name!r}: its {which} returned {describe(value)}; it must return "
        f"a float array of shape {expected}{_LEEWAY[broadcast]}: a leading axis of "
        f"{expected[0]} direction(s), then the {whose}'s shape {expected[1:]}. Rules "
        f"declared with batched=True see tangents and cotangents with that leading axis "
        f"(see the guide's Custom primitives, docs/custom-primitives.md)."
    )


_LEEWAY = {
    None: "",
    "down": " (or of the broadcast output's shape, summed back by dualad)",
    "up": " (or one that broadcasts to it)",
}


def _one_of(stacked: Any) -> Any:
    """One direction's result of a stacked array, for describing it."""
    return stacked[0] if stacked.shape[0] else np.zeros(stacked.shape[1:], stacked.dtype)


def check_rule_results(prim: Primitive, mode: str, values: Any, count: int) -> None:
    """Raise unless a rule of a primitive with several results returned ``count`` of them."""
    if isinstance(values, (tuple, list)) and len(values) == count:
        return
    raise ShapeMismatchError(
        f"primitive {prim.name!r} has {count} results, so its {mode} rule must return a "
        f"tuple of {count} arrays (None for a result without a derivative); it returned "
        f"{describe(values) if not isinstance(values, (tuple, list)) else len(values)}"
        f"{'' if not isinstance(values, (tuple, list)) else ' values'}."
    )


def complex_result_error(prim: Primitive) -> UnsupportedPrimitiveError:
    """Complex values met a primitive whose rules are written for real values only."""
    name = prim.name
    if prim.numpy:
        from .registry import numpy_name

        name = numpy_name(prim.numpy[0])
    fix = ("declare it with complex_rules=True once its rules follow JAX's conventions for "
           "complex values (see the guide's Complex numbers page)" if not prim.builtin else
           "write it with real and imaginary parts (np.real, np.imag) as separate real arrays")
    return complex_values_error(name, fix)


def complex_values_error(name: str, instead: str) -> UnsupportedPrimitiveError:
    """The error for complex values reaching ``name`` (``np.linalg.svd``), whose derivative
    rules are real-only; ``instead`` says what to write."""
    return UnsupportedPrimitiveError(
        f"{name} of complex values: its derivative rules are written for real values only, "
        f"and applied to complex ones they would give wrong derivatives. Instead, {instead}."
    )


def is_complex(x: Any) -> bool:
    """True for a complex number or an (active) array of complex values."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        return dtype.kind == "c"
    return isinstance(x, complex)


def check_complex(prim: Primitive, primals: Any, out: Any) -> None:
    """Raise unless ``prim``'s rules take complex values or none of its arguments and
    results (``out``: a tuple of them for several results) is complex."""
    if prim.complex_rules:
        return
    outs = out if prim.multiple_results else (out,)
    for x in (*primals, *outs):
        if is_complex(x):
            raise complex_result_error(prim)


def _broadcasts_to(small: tuple[int, ...], big: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(small, big) == big
    except ValueError:
        return False
