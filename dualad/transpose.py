"""Transposing a linear map by running it on a tape: reverse mode for a JVP rule alone.

A JVP rule is linear in the tangent: ``dx -> rule(dx, x)`` is the Jacobian ``J`` at ``x``.
Its transpose ``ct -> J^T ct`` is the VJP, and reverse mode computes exactly that for any
function it can differentiate: record the rule on a fresh tape at a zero tangent (any
point will do, the map being linear) and pull the ``k`` cotangent rows back in one backward
pass. The rule's NumPy calls are dualad's primitives, so this needs no rule of its own;
when the primals are active values of an outer level the result is differentiable in turn,
to any order.

The same transposition turns a VJP into a JVP (``ct -> J^T ct`` transposed is ``J``); the
custom derivative rules (:mod:`dualad.transforms.custom`) use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import registry
from .axes import fit_cotangent, float_dtype, shape_of, zeros
from .errors import ConversionError, UnsupportedPrimitiveError
from .tape import Tape, TapeArray, backward


def transpose(linear: Callable[..., Any], inputs: Sequence[Any], cts: Any, k: int,
              what: str) -> list[Any]:
    """``k`` rows of ``J^T ct`` for the linear map ``J = linear``.

    ``linear(*dxs)`` takes one array shaped like each of ``inputs`` (values whose shape and
    float dtype it takes; ``None`` for an input it does not take, which gets None) and
    returns one array, or a tuple of them (None for a zero). ``cts`` holds the rows,
    ``(k,) + output.shape``, in the same structure (None for a zero). ``what`` names the
    map in errors (``"the JVP rule of 'f'"``).

    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> transpose(lambda dx: A @ dx, [np.zeros(2)], np.eye(2), 2, "A @ dx")[0]
    array([[1., 2.],
           [3., 4.]])
    """
    tag = registry.enter_transform(f"the transposition of {what}")
    tape = Tape(tag)
    try:
        variables = [None if x is None else tape.variable(_zero(x)) for x in inputs]
        outs = linear(*variables)
    finally:
        tape.close()
        registry.leave_transform(tag)
    several = isinstance(cts, (tuple, list))
    seeds = []
    for out, ct in zip(outs if several else (outs,), cts if several else (cts,)):
        if ct is not None and type(out) is TapeArray and out.tag == tag:
            seeds.append((out.index, fit_cotangent(ct, out.shape, k)))
    wanted = [v.index for v in variables if v is not None]
    pulled = iter(backward(tape, seeds, wanted, k) if seeds else [None] * len(wanted))
    result = []
    for x, v in zip(inputs, variables):
        ct = None if v is None else next(pulled)
        result.append(None if x is None else zeros(x, k) if ct is None else ct)
    return result


def _zero(x: Any) -> np.ndarray:
    """A read-only zero tangent of ``x`` (read-only: the tape need not copy it)."""
    value = np.zeros(shape_of(x), dtype=float_dtype(x))
    value.setflags(write=False)
    return value


def transpose_jvp(name: str, rule: Callable[..., Any], argument: int | None, batched: bool,
                  ct: Any, xs: Sequence[Any], params: dict[str, Any]) -> Any:
    """The VJP rule of the primitive ``name``, declared with a JVP rule alone: the cotangent
    of argument ``argument`` (of every argument, for a ``jvp_all`` rule) for the ``k`` rows
    ``ct`` (a tuple of them for several results), by transposing ``rule``.

    ``batched`` says the rule takes tangents with a leading axis of directions: it gets
    one direction, and its result's leading axis is dropped.

    Raises
    ------
    UnsupportedPrimitiveError
        When the rule cannot run on tape arrays (it converts the tangent with
        ``np.asarray`` or hands it to SciPy): it names the primitive and the ways out.
    """
    several = isinstance(ct, tuple)
    k = next(c.shape[0] for c in (ct if several else (ct,)) if c is not None)

    def one(dx: Any) -> Any:
        return dx if dx is None or not batched else dx[None]

    def result(out: Any) -> Any:
        if not batched:
            return out
        if several:
            return tuple(None if o is None else o[0] for o in out)
        return out[0]

    what = f"the JVP rule of {name!r}"
    try:
        if argument is not None:
            return transpose(lambda dx: result(rule(one(dx), *xs, **params)),
                             [xs[argument]], ct, k, what)[0]
        inputs = [x if _differentiable(x) else None for x in xs]
        return tuple(transpose(lambda *dxs: result(rule(tuple(map(one, dxs)), *xs, **params)),
                               inputs, ct, k, what))
    except (ConversionError, UnsupportedPrimitiveError) as err:
        raise UnsupportedPrimitiveError(
            f"reverse mode of {name}: it has no VJP rule, so dualad transposes its JVP rule "
            f"by running the rule on a tape, and the rule cannot run there ({err}). Write the "
            f"JVP rule with NumPy calls on the tangent (no np.asarray, SciPy or math.*), or "
            f"give {name} a VJP rule of its own (vjp= in defprimitive, or dualad.custom_vjp)."
        ) from err


def _differentiable(x: Any) -> bool:
    """``x`` can carry a tangent: a float array or number, or an active value."""
    if registry.is_active(x):
        return True
    return np.result_type(x).kind == "f" if not isinstance(x, (list, tuple, dict)) \
        else False


registry.register_transposer(transpose_jvp)

__all__ = ["transpose", "transpose_jvp"]
