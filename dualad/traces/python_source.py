"""The ``python`` trace format: the derivative program a student would write by hand.

From the same records as the tables, :func:`to_python` writes Python source that needs NumPy
alone: ``f_and_jvp(x1, x2, x1_dot, x2_dot)`` with the primal and tangent lines interleaved
(the forward trace), ``f_and_gradient(x1, x2)`` with the primal lines then the adjoint
lines (the reverse trace), one line per line of the tables, named as the tables name them
(the user's local variables, ``v_-1`` written ``v_m1``). Each line's NumPy text comes from
:data:`dualad.traces.python_rules.RULES`; a primitive without one is refused, not guessed.

The program is the trace's straight-line program: it computes the function and its
derivative at any point of the traced shapes where the function takes the same path. What
the traced function decided from values (an ``if``, ``np.where``'s condition, an index
computed by ``argsort``) is a constant of the program, as it was at the traced point.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgumentError, UnsupportedPrimitiveError
from ..registry import REGISTRY, Primitive, numpy_name
from .python_rules import HELPERS, RULES, Call, PythonRule

if TYPE_CHECKING:
    from .record import AdjointStep, Output, Step, Trace

__all__ = ["to_python"]

_MODES = ("forward", "reverse", "both")
# names the program itself uses: a user's variable called so is renamed (sum -> sum_2)
_RESERVED = {"np", "f_and_jvp", "f_and_gradient", "f_and_vjp", *HELPERS, "print", "tuple",
             "range", "len", "slice", "complex"}


def to_python(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The trace as a Python program of NumPy lines: the derivative code written by hand.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
        forward: ``f_and_jvp(inputs..., tangents...)`` returning ``(y, y_dot)``; reverse:
        ``f_and_gradient(inputs...)`` returning ``(y, (x1_bar, ...))`` (``f_and_vjp`` with
        the outputs' seeds as keywords, default 1, when the output is not one number); both:
        the two functions.
    digits : int
        Decimals of the values the header comment shows at the traced point (the program
        holds the point itself exactly).

    Returns
    -------
    str
        Source that runs with NumPy alone; run as a script it prints the results at the
        traced point.

    Raises
    ------
    UnsupportedPrimitiveError
        For a primitive the format cannot write in NumPy (it names the primitive).
    InvalidArgumentError
        For records without the values of their constants and parameters (a Trace built
        by hand rather than by :func:`dualad.trace`), or an unknown mode.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> t = dualad.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
    >>> source = to_python(t, mode="reverse")
    >>> print(source[source.index("def"):source.index("return")].strip())
    def f_and_gradient(x1, x2):
        \"\"\"y and its gradient (x1_bar, x2_bar), by the reverse trace.\"\"\"
        v1 = np.log(x1)
        v2 = x1 * x2
        v3 = v1 + v2
        v4 = np.sin(x2)
        v5 = v3 - v4
        y = v5
        y_bar = 1.0
        v5_bar = y_bar
        v3_bar = v5_bar
        v4_bar = -v5_bar
        x2_bar = v4_bar * np.cos(x2)
        v1_bar = v3_bar
        v2_bar = v3_bar
        x1_bar = v2_bar * x2
        x2_bar = x2_bar + x1 * v2_bar
        x1_bar = x1_bar + v1_bar / x1
    >>> namespace = {}
    >>> exec(source, namespace)
    >>> y, (x1_bar, x2_bar) = namespace["f_and_gradient"](2.0, 5.0)
    >>> float(x1_bar), round(float(x2_bar), 6)
    (5.5, 1.716338)
    """
    if mode not in _MODES:
        raise InvalidArgumentError(
            f"unknown mode {mode!r}: write one of {', '.join(map(repr, _MODES))}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 17:
        raise InvalidArgumentError(f"digits={digits!r}: write an integer from 0 to 17")
    return _Program(trace).source(mode, digits)


# --------------------------------------------------------------------------- names


def _identifier(text: str) -> str:
    """A Python name for a label: ``v_-1`` -> ``v_m1``, other characters -> ``_``."""
    name = re.sub(r"\W", "_", text.replace("-", "m"))
    if not name or name[0].isdigit():
        name = "v" + name
    return name + "_" if keyword.iskeyword(name) else name


@dataclass
class _Names:
    """Unique Python names: a name, its ``_dot`` and its ``_bar`` never meet another's."""

    taken: set[str] = field(default_factory=lambda: set(_RESERVED))

    def claim(self, wanted: str) -> str:
        base = _identifier(wanted)
        name, n = base, 1
        while {name, name + "_dot", name + "_bar"} & self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken |= {name, name + "_dot", name + "_bar"}
        return name


# --------------------------------------------------------------------------- values


def _float(x: float) -> str:
    if math.isnan(x):
        return "np.nan"
    if math.isinf(x):
        return "np.inf" if x > 0 else "-np.inf"
    return repr(float(x))


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    if isinstance(values, bool):
        return repr(values)
    if isinstance(values, float):
        return _float(values)
    if isinstance(values, complex):
        return f"complex({_float(values.real)}, {_float(values.imag)})"
    return repr(values)


def _array(a: np.ndarray) -> str:
    """An array as exact source: ``np.array([1.0, 2.5])`` (with its dtype unless float64,
    int64 or bool, the dtypes NumPy infers)."""
    dtype = "" if a.dtype in (np.float64, np.int64, np.bool_) else f", dtype=np.{a.dtype}"
    return f"np.array({_nested(a.tolist())}{dtype})"


def _point(value: Any) -> str:
    a = np.asarray(value)
    return _nested(a.item()) if a.ndim == 0 else _array(a)


# --------------------------------------------------------------------------- the program


@dataclass
class _Line:
    """One step written in NumPy: its primal line, its tangent, its rule for the adjoints."""

    step: Step
    rule: PythonRule
    call: Call


class _Program:
    """Names every value of a trace and writes its functions."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.names = _Names()
        self.constants: list[tuple[str, str]] = []  # (name, source) at the module's top
        self._constant_ids: dict[int, str] = {}
        self.helpers: list[str] = []
        self.inputs = {s.id: self.names.claim(s.name or s.label) for s in trace.inputs}
        self.outputs = {o.name: self.names.claim(o.name) for o in trace.outputs}
        self.labels = dict(self.inputs)
        for s in trace.steps:
            if not s.is_input:
                self.labels[s.id] = self.names.claim(s.label)
        for s in trace.inputs:  # an input the tables number (v_-1) keeps its table name too
            if _identifier(s.label) != self.inputs[s.id]:
                self.labels[s.id] = self.names.claim(s.label)
        self.lines = {s.id: self._line(s) for s in trace.steps if not s.is_input}

    # ------------------------------------------------------------------ constants

    def constant(self, value: Any, wanted: str | None = None) -> str:
        """A constant as source: a number inline, an array by a name of the program's."""
        scalar = isinstance(value, (bool, int, float, complex, np.generic))
        if not scalar and not isinstance(value, np.ndarray):
            raise TypeError(f"not a constant of an array program: {type(value).__name__}")
        if wanted is None and np.ndim(value) == 0:
            text = _nested(np.asarray(value).item())
            return f"({text})" if text.startswith("-") else text
        known = self._constant_ids.get(id(value))
        if known is not None:
            return known
        name = self.names.claim(wanted or f"c{len(self.constants) + 1}")
        self.constants.append((name, _point(value)))
        self._constant_ids[id(value)] = name
        return name

    def literal(self, value: Any) -> str:
        """A parameter as source (``(0, 2)``, ``slice(1, None, None)``, an array's name)."""
        if value is None or isinstance(value, (bool, str)) or value is Ellipsis:
            return repr(value) if value is not Ellipsis else "..."
        if isinstance(value, np.ndarray):
            return self.constant(value)
        if isinstance(value, (int, float, complex, np.generic)):
            return _nested(np.asarray(value).item())  # a parameter needs no parentheses
        if isinstance(value, tuple):
            items = [self.literal(v) for v in value]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return "[" + ", ".join(self.literal(v) for v in value) + "]"
        if isinstance(value, slice):
            parts = (self.literal(v) for v in (value.start, value.stop, value.step))
            return f"slice({', '.join(parts)})"
        if isinstance(value, np.dtype):
            return f"np.dtype({value.name!r})"
        if isinstance(value, type) and issubclass(value, np.generic):
            return f"np.{value.__name__}"
        raise TypeError(f"a parameter of type {type(value).__name__}")

    def need(self, helper: str) -> None:
        if helper not in self.helpers:
            self.helpers.append(helper)

    # ------------------------------------------------------------------ lines

    def _line(self, step: Step) -> _Line:
        rule = RULES.get(step.op)
        if rule is None:
            raise _unsupported(step.op)
        if (step.params and not step.param_values) or any(
                o.node is None and o.value is None for o in step.operands):
            raise InvalidArgumentError(
                f"the python format needs the values of each step's constants and "
                f"parameters, which a Trace made by dualad.trace holds; step {step.label} "
                f"({step.expression}) has only their text")
        args, constants = [], []
        for operand in step.operands:
            if operand.node is not None:
                args.append(self.labels[operand.node])
                constants.append(None)
            else:
                wanted = operand.text if _named(operand.text) else None
                args.append(self.constant(operand.value, wanted))
                constants.append(operand.value)
        shapes = [np.shape(self.trace.step(o.node).primal) if o.node is not None
                  else np.shape(o.value) for o in step.operands]
        call = Call(_display(step.op), args, shapes, constants, dict(step.param_values),
                    self.labels[step.id], np.shape(step.primal), self._literal_for(step),
                    self.need)
        try:
            rule.primal(call)  # every text a parameter needs is known before writing
        except TypeError as error:
            raise call.refuse(f"with {error}") from None
        return _Line(step, rule, call)

    def _literal_for(self, step: Step) -> Any:
        def literal(value: Any) -> str:
            try:
                return self.literal(value)
            except TypeError as error:
                raise _unsupported(step.op, f"with {error}") from None
        return literal

    def _primal_lines(self) -> list[str]:
        lines = []
        for s in self.trace.steps:
            if s.is_input:
                if self.labels[s.id] != self.inputs[s.id]:
                    lines.append(f"{self.labels[s.id]} = {self.inputs[s.id]}")
            else:
                line = self.lines[s.id]
                lines.append(f"{line.call.out} = {line.rule.primal(line.call)}")
        return lines

    def _tangent(self, line: _Line) -> str:
        call, rule = line.call, line.rule
        ds = [None if o.node is None else self.labels[o.node] + "_dot"
              for o in line.step.operands]
        if rule.tangent is not None:
            return rule.tangent(call, ds)
        terms = []
        for k, d in enumerate(ds):
            term = None if d is None else rule.jvp(call, k, d)
            if term is None:
                continue
            if rule.elementwise and call.shapes[k] != call.out_shape:
                term = f"np.broadcast_to({term}, np.shape({call.out}))"
            terms.append(term)
        if not terms:
            return f"np.zeros_like({call.out})"
        text = terms[0]
        for term in terms[1:]:
            text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
        return text

    def _output_value(self, o: Output, suffix: str = "") -> str:
        if o.node is None:
            value = self.constant(o.value)
            return f"np.zeros_like({value})" if suffix else value
        return self.labels[o.node] + suffix

    def _adjoint_line(self, a: AdjointStep) -> str:
        line = self.lines[a.source]
        k = a.argument if a.argument is not None else _argument(line.step, a.target)
        target = self.labels[a.target]
        term = line.rule.vjp(line.call, k, line.call.out + "_bar")
        if term is None:  # pragma: no cover - dualad reports only the adjoints it adds
            raise UnsupportedPrimitiveError(
                f"the python trace format: no adjoint rule for argument {k} of "
                f"{line.call.prim}")
        if line.rule.elementwise and line.call.shapes[k] != line.call.out_shape:
            self.need("_sum_to")
            term = f"_sum_to({term}, np.shape({target}))"
        if a.accumulates:
            if term.startswith("-") and not term.startswith("-np"):
                return f"{target}_bar = {target}_bar - {term[1:]}"
            return f"{target}_bar = {target}_bar + {term}"
        return f"{target}_bar = {term}"

    # ------------------------------------------------------------------ functions

    def _signature(self, extra: list[str]) -> str:
        return ", ".join([self.inputs[s.id] for s in self.trace.inputs] + extra)

    def _forward_body(self) -> list[str]:
        """The primal and tangent lines interleaved, then the outputs and their tangents."""
        body = []
        for s in self.trace.steps:
            label = self.labels[s.id]
            if s.is_input:
                if label != self.inputs[s.id]:
                    body += [f"{label} = {self.inputs[s.id]}",
                             f"{label}_dot = {self.inputs[s.id]}_dot"]
                continue
            line = self.lines[s.id]
            body += [f"{label} = {line.rule.primal(line.call)}",
                     f"{label}_dot = {self._tangent(line)}"]
        for o in self.trace.outputs:
            name = self.outputs[o.name]
            body += [f"{name} = {self._output_value(o)}",
                     f"{name}_dot = {self._output_value(o, '_dot')}"]
        return body

    def forward(self) -> list[str]:
        dots = [self.inputs[s.id] + "_dot" for s in self.trace.inputs]
        outs = ", ".join(self.outputs[o.name] for o in self.trace.outputs)
        outs_dot = ", ".join(self.outputs[o.name] + "_dot" for o in self.trace.outputs)
        several = len(self.trace.outputs) > 1
        doc = (f"{outs} and {'their' if several else 'its'} tangent along "
               f"({', '.join(dots)}), by the forward trace.")
        returned = f"({outs}), ({outs_dot})" if several else f"{outs}, {outs_dot}"
        return [f"def f_and_jvp({self._signature(dots)}):", f'    """{doc}"""',
                *(f"    {line}" for line in self._forward_body()), f"    return {returned}"]

    def _is_gradient(self) -> bool:
        outputs = self.trace.outputs
        return len(outputs) == 1 and np.ndim(outputs[0].value) == 0

    def _reverse_body(self, gradient: bool) -> list[str]:
        """The primal lines, the seeds, the adjoint lines, then each input's adjoint."""
        body = self._primal_lines()
        body += [f"{self.outputs[o.name]} = {self._output_value(o)}" for o in self.trace.outputs]
        if gradient:
            body.append(f"{self.outputs[self.trace.outputs[0].name]}_bar = 1.0")
        body += self._seed_lines(gradient)
        body += [self._adjoint_line(a) for a in self.trace.adjoint_steps]
        for s in self.trace.inputs:
            name, label = self.inputs[s.id], self.labels[s.id]
            if s.id not in self.trace.adjoints:
                body.append(f"{name}_bar = np.zeros_like({name})")
            elif label != name:
                body.append(f"{name}_bar = {label}_bar")
        return body

    def reverse(self) -> list[str]:
        outs = [self.outputs[o.name] for o in self.trace.outputs]
        bars = [f"{self.inputs[s.id]}_bar" for s in self.trace.inputs]
        bar_tuple = f"({bars[0]},)" if len(bars) == 1 else f"({', '.join(bars)})"
        returned = outs[0] if len(outs) == 1 else f"({', '.join(outs)})"
        gradient = self._is_gradient()
        if gradient:
            head = f"def f_and_gradient({self._signature([])}):"
            doc = f"{outs[0]} and its gradient {bar_tuple}, by the reverse trace."
        else:
            head = f"def f_and_vjp({self._signature([f'{n}_bar=1.0' for n in outs])}):"
            weighted = " + ".join(f"sum({n}_bar * {n})" for n in outs)
            doc = (f"{returned} and the gradient {bar_tuple} of {weighted}, by the reverse "
                   f"trace (the seeds of 1 give the tables' adjoints).")
        return [head, f'    """{doc}"""',
                *(f"    {line}" for line in self._reverse_body(gradient)),
                f"    return {returned}, {bar_tuple}"]

    def _seed_lines(self, gradient: bool) -> list[str]:
        """``v5_bar = y_bar``: each output step's seed, summed where outputs share a step."""
        by_node: dict[int, list[str]] = {}
        for o in self.trace.outputs:
            if o.node is not None:
                by_node.setdefault(o.node, []).append(self.outputs[o.name] + "_bar")
        lines = []
        for node, seeds in by_node.items():
            label = self.labels[node]
            total = " + ".join(seeds)
            if gradient:
                lines.append(f"{label}_bar = {total}")
            else:
                total = f"({total})" if len(seeds) > 1 else total
                lines.append(f"{label}_bar = {total} * np.ones_like({label})")
        return lines

    # ------------------------------------------------------------------ the whole

    def header(self, mode: str, digits: int) -> list[str]:
        def shown(pairs: list[tuple[str, Any]]) -> str:
            return ", ".join(f"{name} = {_rounded(v, digits)}" for name, v in pairs)

        t = self.trace
        at = ", ".join(f"{self.inputs[s.id]} = {_short(s.primal, digits)}" for s in t.inputs)
        lines = [
            f"# The derivative program of {t.function}",
            f"# as `dualad trace --format python` traced it at {at}.",
            "# Each line is a line of the trace's tables, in NumPy; it needs NumPy alone.",
            "# What the function decided from values there (an if, np.where's condition) is",
            "# fixed in this program. There:",
            f"#   {shown([(self.outputs[o.name], o.value) for o in t.outputs])}",
        ]
        if mode != "reverse":
            tangents = t.output_tangents
            seeds = [(self.inputs[s.id] + "_dot", v)
                     for s, v in zip(t.inputs, t.direction.values())]
            dots = [(self.outputs[o] + "_dot", v) for o, v in tangents.items()]
            lines.append(f"#   {shown(dots)} along {shown(seeds)}")
        if mode != "forward":
            bars = [(self.inputs[s.id] + "_bar", v)
                    for s, v in zip(t.inputs, t.gradient.values())]
            lines.append(f"#   {shown(bars)}")
        return lines

    def main(self, mode: str) -> list[str]:
        inputs = [self.inputs[s.id] for s in self.trace.inputs]
        lines = ['if __name__ == "__main__":']
        lines += [f"    {name} = {_point(s.primal)}"
                  for name, s in zip(inputs, self.trace.inputs)]
        if mode != "reverse":
            direction = list(self.trace.direction.values())
            dots = [f"{name}_dot" for name in inputs]
            lines += [f"    {d} = {_point(v)}" for d, v in zip(dots, direction)]
            lines.append(f"    print(f_and_jvp({', '.join(inputs + dots)}))")
        if mode != "forward":
            function = "f_and_gradient" if self._is_gradient() else "f_and_vjp"
            lines.append(f"    print({function}({', '.join(inputs)}))")
        return lines

    def source(self, mode: str, digits: int) -> str:
        functions = []
        if mode != "reverse":
            functions.append(self.forward())
        if mode != "forward":
            functions.append(self.reverse())
        parts = ["\n".join([*self.header(mode, digits), "", "import numpy as np"])]
        if self.constants:
            parts.append("\n".join(f"{name} = {text}" for name, text in self.constants))
        parts += [HELPERS[h] for h in self.helpers]
        parts += ["\n".join(f) for f in functions]
        parts.append("\n".join(self.main(mode)))
        return "\n\n\n".join(parts)  # no final newline: the writers add one, as for the tables


def _rounded(value: Any, digits: int) -> str:
    """A value for the header comment, ``digits`` decimals: ``5.5``, ``[0.5, 1, 2]``."""
    def number(v: Any) -> str:
        return np.format_float_positional(v, precision=digits, trim="-")

    text = np.array2string(np.asarray(value), separator=", ", threshold=6, edgeitems=3,
                           formatter={"float_kind": number}, max_line_width=10**6)
    return re.sub(r"\s*\n\s*", " ", text)  # a comment holds one line


def _short(value: Any, digits: int) -> str:
    """The point for the header: an array of more than six numbers by its shape."""
    a = np.asarray(value)
    return _rounded(a, digits) if a.size <= 6 else f"an array of shape {a.shape}"


def _named(text: str) -> bool:
    """Whether a constant's text is the name of the user's variable that held it (not a
    number the tables print, such as ``inf`` or ``True``)."""
    return text.isidentifier() and not keyword.iskeyword(text) and text not in ("inf", "nan")


def _argument(step: Step, target: int) -> int:
    """The first operand of ``step`` that is ``target`` (records without ``argument``)."""
    return next(k for k, o in enumerate(step.operands) if o.node == target)


def _display(op: str) -> str:
    """How the user writes a step's primitive: ``np.prod``; ``modf[0]`` is ``np.modf``."""
    name = op.split("[")[0]
    prim = REGISTRY.get(name)
    if isinstance(prim, Primitive) and prim.numpy:
        return numpy_name(prim.numpy[0])
    return name


def _unsupported(op: str, detail: str = "") -> UnsupportedPrimitiveError:
    prim = REGISTRY.get(op.split("[")[0])
    if detail:
        why = f" {detail}"
    elif prim is None or not prim.builtin:  # custom_jvp, custom_vjp, defprimitive
        why = (", a function with derivative rules of your own: its rules are Python code "
               "the format cannot write as lines of NumPy")
    else:
        why = " yet (its rules have no NumPy text here)"
    return UnsupportedPrimitiveError(
        f"the python trace format cannot write {_display(op)}{why}; the other formats "
        f"(--format text) show its trace")
