"""Each primitive's result and derivative terms written as NumPy source, for the ``python``
trace format (:mod:`dualad.traces.python_source`).

A :class:`PythonRule` says how one primitive reads in NumPy: its result (``np.sin(x)``) and
the term each argument contributes to a tangent or a cotangent (``x_dot * np.cos(x)``,
``v1_bar * np.cos(x)``). For an elementwise primitive the two are one text, with ``{d}`` the
tangent or the cotangent, as in dualad's own rules (a diagonal Jacobian is its own
transpose); the writer sums a cotangent back over broadcast axes. The texts follow the rules
declared in :mod:`dualad.primitives` term for term, with the same conventions at kinks and
ties (``|x|' = 1`` at 0, ties of ``maximum`` split 0.5/0.5), so that the program computes
what dualad computes; ``tests/test_trace_python.py`` checks every rule here against dualad's
``jvp`` and ``vjp`` through the registry's examples. A primitive missing here is refused by
the writer (:class:`~dualad.errors.UnsupportedPrimitiveError`), never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UnsupportedPrimitiveError

__all__ = ["HELPERS", "RULES", "Call", "PythonRule"]


@dataclass
class Call:
    """One step as the rules see it: operand texts and shapes, the parameters, the result.

    ``literal(value)`` writes a parameter as Python source (an array becomes a named
    constant of the program); ``need(name)`` asks for one of :data:`HELPERS` to be defined.
    """

    prim: str
    args: list[str]
    shapes: list[tuple[int, ...]]
    constants: list[Any]  # the value of each constant operand (None for a traced one)
    params: dict[str, Any]
    out: str
    out_shape: tuple[int, ...]
    literal: Callable[[Any], str]
    need: Callable[[str], None]

    def param(self, name: str) -> str:
        """The parameter ``name`` as source."""
        return self.literal(self.params[name])

    def refuse(self, why: str) -> UnsupportedPrimitiveError:
        """The error for a call of this primitive the format cannot write (``why``)."""
        return UnsupportedPrimitiveError(
            f"the python trace format cannot write {self.prim} {why}; the other formats "
            f"(--format text) show its trace")


Term = Callable[[Call, int, str], str | None]
"""``term(call, k, d)``: argument ``k``'s contribution, ``d`` its tangent or cotangent's
name; None where the argument contributes nothing (not differentiable)."""


@dataclass(frozen=True)
class PythonRule:
    """How one primitive reads in NumPy.

    ``primal(call)`` is the result's expression; ``jvp`` and ``vjp`` give each argument's
    term (``vjp`` in the argument's own shape, except for an ``elementwise`` rule, whose
    terms have the result's shape and are summed back by the writer). ``tangent(call, ds)``,
    where given, writes the whole tangent at once (``ds``: each operand's tangent name, None
    for a constant) instead of a sum of terms.

    >>> call = Call("np.sin", ["x"], [()], [None], {}, "v1", (), repr, print)
    >>> rule = RULES["sin"]
    >>> rule.primal(call), rule.jvp(call, 0, "x_dot"), rule.vjp(call, 0, "v1_bar")
    ('np.sin(x)', 'x_dot * np.cos(x)', 'v1_bar * np.cos(x)')
    """

    primal: Callable[[Call], str]
    jvp: Term
    vjp: Term
    elementwise: bool = False
    tangent: Callable[[Call, list[str | None]], str] | None = None


# --------------------------------------------------------------------------- helpers

HELPERS: dict[str, str] = {
    "_sum_to": '''def _sum_to(a, shape):
    """a summed over the axes broadcasting added or stretched, back to shape."""
    a = np.sum(a, axis=tuple(range(np.ndim(a) - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and np.shape(a)[i] != 1)
    return np.reshape(np.sum(a, axis=stretched, keepdims=True), shape)''',
    "_scatter": '''def _scatter(ct, key, shape):
    """The adjoint of x[key]: ct added into zeros of x's shape (repeated indices add up)."""
    x_bar = np.zeros(shape)
    np.add.at(x_bar, key, ct)
    return x_bar''',
    "_diagonal_bar": '''def _diagonal_bar(ct, shape, offset, axis1, axis2):
    """The adjoint of np.diagonal(x, offset, axis1, axis2): ct on that diagonal of zeros."""
    x_bar = np.zeros(shape)
    view = np.moveaxis(x_bar, (axis1, axis2), (-2, -1))  # a view: writes reach x_bar
    i = np.arange(np.shape(ct)[-1])
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    view[..., rows, cols] = ct
    return x_bar''',
    "_others_product": '''def _others_product(x, axis):
    """For each element of x, the product of the others it is reduced with along axis
    (prefix times suffix products: no division, so exact where x holds zeros)."""
    axes = tuple(range(np.ndim(x))) if axis is None else tuple(
        a % np.ndim(x) for a in np.atleast_1d(axis))
    order = [a for a in range(np.ndim(x)) if a not in axes] + list(axes)
    y = np.transpose(x, order)
    merged = np.reshape(y, np.shape(y)[:np.ndim(x) - len(axes)] + (-1,))
    ones = np.ones(np.shape(merged)[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, merged[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, merged[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.transpose(np.reshape(before * after, np.shape(y)), np.argsort(order))''',
    "_share": '''def _share(x, out, axis):
    """Where x attains its max (min) out along axis: ties share equally, as in JAX."""
    attains = x == out
    return attains / np.maximum(np.sum(attains, axis=axis, keepdims=True), 1)''',
}


# --------------------------------------------------------------------------- elementwise


def _elementwise(primal: str, *terms: str | None) -> PythonRule:
    """A rule from texts over ``{x}``, ``{y}`` (the operands), ``{out}`` and ``{d}``."""

    def names(call: Call) -> dict[str, str]:
        return dict(zip("xy", call.args), out=call.out)

    def term(call: Call, k: int, d: str) -> str | None:
        text = terms[k]
        return None if text is None else text.format(d=d, **names(call))

    return PythonRule(lambda call: primal.format(**names(call)), term, term, elementwise=True)


def _python_scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _power(function: str | None) -> PythonRule:
    """x**y: y x**(y-1), 0 where y == 0; log(x) x**y, 0 where x == 0 (JAX's choices)."""

    def primal(call: Call) -> str:
        x, y = call.args
        return f"{x} ** {y}" if function is None else f"{function}({x}, {y})"

    def term(call: Call, k: int, d: str) -> str:
        x, y = call.args
        if k == 1:
            base = call.constants[0]
            if base is not None and np.ndim(base) == 0 and base != 0:
                return f"{d} * (np.log({x}) * {call.out})"
            return f"{d} * (np.log(np.where({x} == 0, 1.0, {x})) * {call.out})"
        exponent = call.constants[1]
        if _python_scalar(exponent):  # a constant exponent, as in x ** 2
            if exponent == 0:
                return f"{d} * 0.0"
            if exponent == 2:
                return f"{d} * (2 * {x})"
            return f"{d} * ({y} * {x} ** ({y} - 1))"
        safe = f"np.where({y} == 0, 1.0, {y})"
        return f"{d} * np.where({y} == 0, 0.0, {safe} * {x} ** ({safe} - 1))"

    return PythonRule(primal, term, term, elementwise=True)


_TIES = ("{d} * np.where({x} == {out}, np.where({y} == {out}, 0.5, 1.0), 0.0)",
         "{d} * np.where({y} == {out}, np.where({x} == {out}, 0.5, 1.0), 0.0)")
_SAFE_OVER_OUT = "{d} * np.where({out} == 0, 0.0, {v} / np.where({out} == 0, 1.0, {out}))"

_ELEMENTWISE: dict[str, PythonRule] = {
    "add": _elementwise("{x} + {y}", "{d}", "{d}"),
    "subtract": _elementwise("{x} - {y}", "{d}", "-{d}"),
    "multiply": _elementwise("{x} * {y}", "{d} * {y}", "{x} * {d}"),
    "divide": _elementwise("{x} / {y}", "{d} / {y}", "{d} * (-{out} / {y})"),
    "negative": _elementwise("-{x}", "-{d}"),
    "positive": _elementwise("+{x}", "{d}"),
    "reciprocal": _elementwise("1 / {x}", "{d} * (-{out} * {out})"),
    "square": _elementwise("np.square({x})", "{d} * (2 * {x})"),
    "sqrt": _elementwise("np.sqrt({x})", "{d} * (0.5 / {out})"),
    "cbrt": _elementwise("np.cbrt({x})", "{d} / (3 * {out} * {out})"),
    "absolute": _elementwise("np.abs({x})", "np.where({x} >= 0, {d}, -{d})"),
    "fabs": _elementwise("np.fabs({x})", "np.where({x} >= 0, {d}, -{d})"),
    "power": _power(None),
    "float_power": _power("np.float_power"),
    "remainder": _elementwise("np.remainder({x}, {y})", "{d}",
                              "{d} * -np.floor_divide({x}, {y})"),
    "fmod": _elementwise("np.fmod({x}, {y})", "{d}", "{d} * -np.trunc({x} / {y})"),
    "exp": _elementwise("np.exp({x})", "{d} * {out}"),
    "exp2": _elementwise("np.exp2({x})", "{d} * ({out} * np.log(2.0))"),
    "expm1": _elementwise("np.expm1({x})", "{d} * ({out} + 1)"),
    "log": _elementwise("np.log({x})", "{d} / {x}"),
    "log2": _elementwise("np.log2({x})", "{d} / ({x} * np.log(2.0))"),
    "log10": _elementwise("np.log10({x})", "{d} / ({x} * np.log(10.0))"),
    "log1p": _elementwise("np.log1p({x})", "{d} / (1 + {x})"),
    "logaddexp": _elementwise("np.logaddexp({x}, {y})", "{d} * np.exp({x} - {out})",
                              "{d} * np.exp({y} - {out})"),
    "logaddexp2": _elementwise("np.logaddexp2({x}, {y})", "{d} * np.exp2({x} - {out})",
                               "{d} * np.exp2({y} - {out})"),
    "sin": _elementwise("np.sin({x})", "{d} * np.cos({x})"),
    "cos": _elementwise("np.cos({x})", "{d} * -np.sin({x})"),
    "tan": _elementwise("np.tan({x})", "{d} * (1 + {out} * {out})"),
    "arcsin": _elementwise("np.arcsin({x})", "{d} / np.sqrt(1 - {x} * {x})"),
    "arccos": _elementwise("np.arccos({x})", "{d} / -np.sqrt(1 - {x} * {x})"),
    "arctan": _elementwise("np.arctan({x})", "{d} / (1 + {x} * {x})"),
    # np.arctan2(y, x): here {x} is the first argument (the lecture's y)
    "arctan2": _elementwise("np.arctan2({x}, {y})", "{d} * ({y} / ({y} * {y} + {x} * {x}))",
                            "{d} * (-{x} / ({y} * {y} + {x} * {x}))"),
    "hypot": _elementwise("np.hypot({x}, {y})", _SAFE_OVER_OUT.replace("{v}", "{x}"),
                          _SAFE_OVER_OUT.replace("{v}", "{y}")),
    "sinh": _elementwise("np.sinh({x})", "{d} * np.cosh({x})"),
    "cosh": _elementwise("np.cosh({x})", "{d} * np.sinh({x})"),
    "tanh": _elementwise("np.tanh({x})", "{d} * (1 - {out} * {out})"),
    "arcsinh": _elementwise("np.arcsinh({x})", "{d} / np.sqrt({x} * {x} + 1)"),
    "arccosh": _elementwise("np.arccosh({x})", "{d} / (np.sqrt({x} - 1) * np.sqrt({x} + 1))"),
    "arctanh": _elementwise("np.arctanh({x})", "{d} / (1 - {x} * {x})"),
    "deg2rad": _elementwise("np.deg2rad({x})", "np.deg2rad({d})"),
    "rad2deg": _elementwise("np.rad2deg({x})", "np.rad2deg({d})"),
    "radians": _elementwise("np.radians({x})", "np.radians({d})"),
    "degrees": _elementwise("np.degrees({x})", "np.degrees({d})"),
    "maximum": _elementwise("np.maximum({x}, {y})", *_TIES),
    "minimum": _elementwise("np.minimum({x}, {y})", *_TIES),
    "fmax": _elementwise("np.fmax({x}, {y})", *_TIES),
    "fmin": _elementwise("np.fmin({x}, {y})", *_TIES),
    "copysign": _elementwise(
        "np.copysign({x}, {y})",
        "{d} * np.where(np.signbit({x}) == np.signbit({y}), 1.0, -1.0)", None),
    "ldexp": _elementwise("np.ldexp({x}, {y})", "np.ldexp({d}, {y})", None),
    "conjugate": _elementwise("np.conjugate({x})", "np.conjugate({d})"),
}


def _where() -> PythonRule:
    """np.where(cond, x, y) with cond a constant of the program (as it was at the point)."""

    def primal(call: Call) -> str:
        return f"np.where({call.param('cond')}, {call.args[0]}, {call.args[1]})"

    def term(call: Call, k: int, d: str) -> str:
        cond = call.param("cond")
        return f"np.where({cond}, {d}, 0.0)" if k == 0 else f"np.where({cond}, 0.0, {d})"

    return PythonRule(primal, term, term, elementwise=True)


# --------------------------------------------------------------------------- reductions


def _keywords(call: Call, *names: str, drop: dict[str, Any] | None = None) -> str:
    """``, axis=0, keepdims=True``: the parameters that differ from NumPy's defaults."""
    defaults = {"axis": None, "keepdims": False, "dtype": None, "initial": None,
                "order": "C"} | (drop or {})
    return "".join(f", {n}={call.param(n)}" for n in names
                   if not _same(call.params.get(n, defaults.get(n)), defaults.get(n)))


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and not isinstance(a, np.ndarray) and a == b)


def _expanded(call: Call, d: str) -> str:
    """``d`` (a reduction's tangent or result) with the reduced axes back, size 1."""
    axis = call.params.get("axis")
    if axis is None or call.params.get("keepdims"):
        return d
    return f"np.expand_dims({d}, {call.literal(axis)})"


def _sum() -> PythonRule:
    def primal(call: Call) -> str:
        return f"np.sum({call.args[0]}{_keywords(call, 'axis', 'dtype', 'keepdims', 'initial')})"

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.sum({d}{_keywords(call, 'axis', 'dtype', 'keepdims')})"

    def vjp(call: Call, k: int, d: str) -> str:
        return f"np.broadcast_to({_expanded(call, d)}, np.shape({call.args[0]}))"

    return PythonRule(primal, jvp, vjp)


def _extremum(name: str) -> PythonRule:
    """max and min: the derivative of the element(s) attaining it, ties sharing equally."""

    def primal(call: Call) -> str:
        return f"np.{name}({call.args[0]}{_keywords(call, 'axis', 'keepdims', 'initial')})"

    def share(call: Call) -> str:
        call.need("_share")
        axis = call.params.get("axis")
        return f"_share({call.args[0]}, {_expanded(call, call.out)}, {call.literal(axis)})"

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.sum({d} * {share(call)}{_keywords(call, 'axis', 'keepdims')})"

    def vjp(call: Call, k: int, d: str) -> str:
        return f"{_expanded(call, d)} * {share(call)}"

    return PythonRule(primal, jvp, vjp)


def _prod() -> PythonRule:
    """np.prod: each element's derivative is the product of the others (exact at zeros)."""

    def primal(call: Call) -> str:
        return f"np.prod({call.args[0]}{_keywords(call, 'axis', 'dtype', 'keepdims', 'initial')})"

    def others(call: Call) -> str:
        call.need("_others_product")
        initial = call.params.get("initial")
        times = "" if initial is None else f" * {call.literal(initial)}"
        return f"_others_product({call.args[0]}, {call.literal(call.params.get('axis'))}){times}"

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.sum({others(call)} * {d}{_keywords(call, 'axis', 'keepdims')})"

    def vjp(call: Call, k: int, d: str) -> str:
        return f"{_expanded(call, d)} * {others(call)}"

    return PythonRule(primal, jvp, vjp)


def _cumsum() -> PythonRule:
    def primal(call: Call) -> str:
        return f"np.cumsum({call.args[0]}{_keywords(call, 'axis', 'dtype')})"

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.cumsum({d}{_keywords(call, 'axis', 'dtype')})"

    def vjp(call: Call, k: int, d: str) -> str:
        axis = call.params.get("axis")
        if axis is None:  # over the flattened array
            return (f"np.reshape(np.flip(np.cumsum(np.flip({d}))), "
                    f"np.shape({call.args[0]}))")
        a = call.literal(axis)
        return f"np.flip(np.cumsum(np.flip({d}, {a}), axis={a}), {a})"

    return PythonRule(primal, jvp, vjp)


# --------------------------------------------------------------------------- products


def _product(function: str) -> PythonRule:
    """matmul, dot and inner of numbers, vectors and matrices; matmul of stacks of matrices
    too (a broadcast stack's cotangent summed back)."""

    def primal(call: Call) -> str:
        x, y = call.args
        return f"{x} @ {y}" if function == "matmul" else f"np.{function}({x}, {y})"

    def ranks(call: Call) -> tuple[int, int]:
        rx, ry = (len(s) for s in call.shapes)
        if function == "matmul" and min(rx, ry) >= 2:
            return min(rx, 3), min(ry, 3)  # 3: a stack of matrices
        if rx > 2 or ry > 2 or (function == "inner" and 2 in (rx, ry)):
            raise call.refuse(f"of arguments of shapes {call.shapes[0]} and {call.shapes[1]} "
                              f"(it writes numbers, vectors and matrices)")
        return rx, ry

    def jvp(call: Call, k: int, d: str) -> str:
        ranks(call)
        x, y = call.args
        if function == "matmul":
            return f"{d} @ {y}" if k == 0 else f"{x} @ {d}"
        return f"np.{function}({d}, {y})" if k == 0 else f"np.{function}({x}, {d})"

    def vjp(call: Call, k: int, d: str) -> str:
        rx, ry = ranks(call)
        x, y = call.args
        if 3 in (rx, ry):
            call.need("_sum_to")
            term = (f"{d} @ np.swapaxes({y}, -1, -2)" if k == 0
                    else f"np.swapaxes({x}, -1, -2) @ {d}")
            return f"_sum_to({term}, np.shape({call.args[k]}))"
        if 0 in (rx, ry):  # a number times an array
            other, mine = (y, x) if k == 0 else (x, y)
            return f"np.sum({d} * {other})" if (rx, ry)[k] == 0 else f"{d} * {other}"
        if k == 0:
            return {(1, 1): f"{d} * {y}", (1, 2): f"{y} @ {d}",
                    (2, 1): f"np.outer({d}, {y})", (2, 2): f"{d} @ {y}.T"}[rx, ry]
        return {(1, 1): f"{d} * {x}", (1, 2): f"np.outer({x}, {d})",
                (2, 1): f"{x}.T @ {d}", (2, 2): f"{x}.T @ {d}"}[rx, ry]

    return PythonRule(primal, jvp, vjp)


def _einsum() -> PythonRule:
    """np.einsum with explicit output subscripts and no repeated letter in an operand: the
    cotangent of operand k is the einsum of the cotangent and the other operands."""

    def parts(call: Call) -> tuple[list[str], str]:
        subscripts = call.params["subscripts"].replace(" ", "")
        if "->" not in subscripts or "." in subscripts:
            raise call.refuse(f"with subscripts {subscripts!r} (write the output subscripts "
                              f"after '->', without '...')")
        inputs, output = subscripts.split("->")
        return inputs.split(","), output

    def primal(call: Call) -> str:
        return f"np.einsum({call.param('subscripts')}, {', '.join(call.args)})"

    def with_d(call: Call, k: int, d: str) -> list[str]:
        return [d if i == k else a for i, a in enumerate(call.args)]

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.einsum({call.param('subscripts')}, {', '.join(with_d(call, k, d))})"

    def vjp(call: Call, k: int, d: str) -> str:
        inputs, output = parts(call)
        mine = inputs[k]
        others = [s for i, s in enumerate(inputs) if i != k]
        if len(set(mine)) != len(mine) or not set(mine) <= set(output + "".join(others)):
            raise call.refuse(f"with subscripts {call.params['subscripts']!r} (an operand "
                              f"with a repeated index or one summed alone)")
        spec = ",".join([output, *others]) + "->" + mine
        operands = [d] + [a for i, a in enumerate(call.args) if i != k]
        return f"np.einsum({spec!r}, {', '.join(operands)})"

    return PythonRule(primal, jvp, vjp)


def _tensordot() -> PythonRule:
    """np.tensordot: the cotangent of each operand is an einsum of the cotangent and the
    other operand, over letters named from the contracted axes."""

    def write(call: Call, x: str, y: str) -> str:
        return f"np.tensordot({x}, {y}, axes={call.param('axes')})"

    def letters(call: Call) -> tuple[str, str, str]:
        nx, ny = (len(s) for s in call.shapes)
        axes = call.params["axes"]
        if isinstance(axes, (int, np.integer)):
            pairs = [(nx - int(axes) + i, i) for i in range(int(axes))]
        else:
            ax, ay = (tuple(np.atleast_1d(a)) for a in axes)
            pairs = [(int(i) % nx, int(j) % ny) for i, j in zip(ax, ay)]
        alphabet = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        xs = [next(alphabet) for _ in range(nx)]
        ys = [next(alphabet) for _ in range(ny)]
        for i, j in pairs:
            ys[j] = xs[i]
        contracted = {xs[i] for i, _ in pairs}
        out = [c for c in xs if c not in contracted] + [c for c in ys if c not in contracted]
        return "".join(xs), "".join(ys), "".join(out)

    def vjp(call: Call, k: int, d: str) -> str:
        xs, ys, out = letters(call)
        x, y = call.args
        spec = f"{out},{ys}->{xs}" if k == 0 else f"{xs},{out}->{ys}"
        operands = f"{d}, {y}" if k == 0 else f"{x}, {d}"
        return f"np.einsum({spec!r}, {operands})"

    return PythonRule(lambda call: write(call, *call.args),
                      lambda call, k, d: write(call, d, call.args[1]) if k == 0
                      else write(call, call.args[0], d), vjp)


# --------------------------------------------------------------------------- shapes and indexing


def _linear(write: Callable[[Call, str], str], vjp: Term) -> PythonRule:
    """A linear primitive: its tangent is itself applied to the tangent."""
    return PythonRule(lambda call: write(call, call.args[0]),
                      lambda call, k, d: write(call, d), vjp)


def _reshape_write(call: Call, x: str) -> str:
    return f"np.reshape({x}, {call.param('shape')}{_keywords(call, 'order')})"


def _transpose_write(call: Call, x: str) -> str:
    axes = call.params.get("axes")
    return f"np.transpose({x})" if axes is None else f"np.transpose({x}, {call.literal(axes)})"


def _transpose_vjp(call: Call, k: int, d: str) -> str:
    axes = call.params.get("axes")
    if axes is None:
        return f"np.transpose({d})"
    inverse = tuple(int(i) for i in np.argsort([a % len(call.shapes[0]) for a in axes]))
    return f"np.transpose({d}, {inverse})"


def _index(call: Call) -> str:
    """x[key]'s key as one writes it between the brackets: ``1:, 0``, ``None, :``."""
    key = call.params["key"]
    items = key if isinstance(key, tuple) else (key,)
    if not items:
        return "()"
    return ", ".join(_index_item(item, call.literal) for item in items)


def _index_item(item: Any, literal: Callable[[Any], str]) -> str:
    if isinstance(item, slice):
        start, stop = ("" if v is None else literal(v) for v in (item.start, item.stop))
        return f"{start}:{stop}" + ("" if item.step is None else f":{literal(item.step)}")
    if item is Ellipsis:
        return "..."
    return literal(item)


def _getitem_vjp(call: Call, k: int, d: str) -> str:
    call.need("_scatter")
    return f"_scatter({d}, np.s_[{_index(call)}], np.shape({call.args[0]}))"


def _joined(function: str) -> PythonRule:
    """concatenate and stack: the cotangent of each operand is its slice of the result's."""

    def write(call: Call, args: list[str]) -> str:
        return f"np.{function}([{', '.join(args)}]{_keywords(call, 'axis', drop={'axis': 0})})"

    def tangent(call: Call, ds: list[str | None]) -> str:
        return write(call, [d or f"np.zeros_like({a})" for d, a in zip(ds, call.args)])

    def jvp(call: Call, k: int, d: str) -> str:
        return tangent(call, [d if i == k else None for i in range(len(call.args))])

    def vjp(call: Call, k: int, d: str) -> str:
        axis = call.params.get("axis", 0)
        if axis is None:  # concatenate flattens its operands first
            start = sum(math.prod(s) for s in call.shapes[:k])
            stop = start + math.prod(call.shapes[k])
            return f"np.reshape({d}[{start}:{stop}], np.shape({call.args[k]}))"
        axis %= len(call.out_shape)
        if function == "stack":
            picked = str(k)
        else:
            start = sum(s[axis] for s in call.shapes[:k])
            picked = f"{start}:{start + call.shapes[k][axis]}"
        return f"{d}[{':, ' * axis}{picked}]"

    return PythonRule(lambda call: write(call, call.args), jvp, vjp, tangent=tangent)


def _norm2() -> PythonRule:
    """np.linalg.norm (Euclidean, Frobenius): x / norm, and 0 where the norm is 0."""

    def primal(call: Call) -> str:
        axis = call.params.get("axis")
        keywords = _keywords(call, "axis", "keepdims")
        if isinstance(axis, tuple) and len(axis) > 2:  # np.linalg.norm takes two axes at most
            return f"np.sqrt(np.sum(np.square({call.args[0]}){keywords}))"
        return f"np.linalg.norm({call.args[0]}{keywords})"

    def direction(call: Call) -> str:
        norm = _expanded(call, call.out)
        return f"{call.args[0]} / ({norm} + ({norm} == 0))"

    def jvp(call: Call, k: int, d: str) -> str:
        return f"np.sum({direction(call)} * {d}{_keywords(call, 'axis', 'keepdims')})"

    def vjp(call: Call, k: int, d: str) -> str:
        return f"{_expanded(call, d)} * ({direction(call)})"

    return PythonRule(primal, jvp, vjp)


def _square_only(call: Call) -> None:
    if len(call.shapes[0]) != 2:
        raise call.refuse(f"of a stack of matrices {call.shapes[0]} (it writes one matrix)")


_INV = PythonRule(
    lambda call: f"np.linalg.inv({call.args[0]})",
    lambda call, k, d: _square_only(call) or f"-{call.out} @ {d} @ {call.out}",
    lambda call, k, d: _square_only(call) or f"-{call.out}.T @ {d} @ {call.out}.T")

def _diagonal_write(call: Call, x: str) -> str:
    offset, axis1, axis2 = (call.params[n] for n in ("offset", "axis1", "axis2"))
    return f"np.diagonal({x}, {offset}, {axis1}, {axis2})"


def _diagonal_vjp(call: Call, k: int, d: str) -> str:
    call.need("_diagonal_bar")
    offset, axis1, axis2 = (call.params[n] for n in ("offset", "axis1", "axis2"))
    return f"_diagonal_bar({d}, np.shape({call.args[0]}), {offset}, {axis1}, {axis2})"


_OTHERS: dict[str, PythonRule] = {
    "diagonal": _linear(_diagonal_write, _diagonal_vjp),
    "norm2": _norm2(),
    "inv": _INV,
    "where": _where(),
    "sum": _sum(),
    "max": _extremum("max"),
    "min": _extremum("min"),
    "prod": _prod(),
    "cumsum": _cumsum(),
    "matmul": _product("matmul"),
    "dot": _product("dot"),
    "inner": _product("inner"),
    "einsum": _einsum(),
    "tensordot": _tensordot(),
    "reshape": _linear(_reshape_write,
                       lambda call, k, d: f"np.reshape({d}, np.shape({call.args[0]})"
                                          f"{_keywords(call, 'order')})"),
    "transpose": _linear(_transpose_write, _transpose_vjp),
    "broadcast_to": _linear(
        lambda call, x: f"np.broadcast_to({x}, {call.param('shape')})",
        lambda call, k, d: (call.need("_sum_to")
                            or f"_sum_to({d}, np.shape({call.args[0]}))")),
    "getitem": _linear(lambda call, x: f"{x}[{_index(call)}]", _getitem_vjp),
    "concatenate": _joined("concatenate"),
    "stack": _joined("stack"),
}

RULES: dict[str, PythonRule] = _ELEMENTWISE | _OTHERS
"""Every primitive the ``python`` format writes, by the registry's name."""
