"""``dualad.trace``: run a function once and keep every intermediate, tangent and adjoint.

The trace is a view of what the engines record, not a second evaluator: the function runs on
tape arrays (reverse mode) whose values are dual arrays (forward mode, seeded with the
direction), so each recorded node holds its primal and its tangent, and the reverse pass
(:func:`dualad.tape.backward`) reports each adjoint contribution as it adds it. Any
primitive in the registry can therefore appear in a trace. Where the traced function keeps a
value in a local variable, the step is named after it (``h1_raw``), so that a trace can be
set beside a chain rule written by hand.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..dual import Dual
from ..errors import InvalidArgumentError, InvalidInputError
from ..introspect import positional_names, run_watching
from ..registry import enter_transform, leave_transform, strip
from ..tape import Node, Tape, TapeArray, backward
from ..transforms._boundary import call
from ..tree import flatten
from .record import AdjointStep, Operand, Output, Step, Trace
from .rules import Formula, formula, join_terms, substitute, tangent_term, times


def trace(f: Callable[..., Any], *args: Any, wrt: str | int | None = None,
          direction: Sequence[Any] | dict[str, Any] | None = None,
          names: Sequence[str] | None = None, function: str | None = None,
          local_names: bool = True) -> Trace:
    """Evaluate ``f(*args)`` and return its primal, tangent and adjoint traces.

    Parameters
    ----------
    f : callable
        Ordinary NumPy code of array (or float) arguments.
    *args : array_like
        The point. Each argument is one input of the traces (``v_-1``, ``v0`` ... as in the
        lecture, or its parameter name in ``f``).
    wrt : str or int, optional
        The input whose tangent is seeded with ones (the lecture's x1_dot = 1); default the
        first. Ignored when ``direction`` is given.
    direction : sequence or dict, optional
        An arbitrary tangent seed: one array per input (by position or by name).
    names : sequence of str, optional
        Input names; default ``f``'s parameter names, else ``x1, x2, ...``.
    function : str, optional
        How to show ``f`` in the header (default its name).
    local_names : bool
        Name steps after ``f``'s local variables that hold them (default True).

    Returns
    -------
    Trace
        ``str(trace)`` prints the three tables; ``trace.render("markdown" | "latex" |
        "json" | "dot")`` the others. Outputs are seeded with adjoint ones.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> t = dualad.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
    >>> [s.expression for s in t.steps[2:]]
    ['ln x1', 'x1 * x2', 'v1 + v2', 'sin x2', 'v3 - v4']
    >>> round(float(t.output_tangents["y"]), 3), round(float(t.gradient["x2"]), 3)
    (5.5, 1.716)
    """
    values = [_as_point(a, i) for i, a in enumerate(args)]
    input_names = _input_names(f, len(values), names)
    seeds = _direction(values, input_names, wrt, direction)
    tag = enter_transform("dualad.trace")
    tape = Tape(enter_transform("dualad.trace"))  # a newer tag: the tape is the inner level
    try:
        duals = [Dual(v, s[None], tag) for v, s in zip(values, seeds)]
        inputs = [tape.variable(d) for d in duals]
        # f may rebind these handles (x += 1 gives x the result's variable): the builder
        # reads the inputs' values and variables as they were when f was called
        variables = [x.index for x in inputs]
        watcher = _LocalNames(f, tape) if local_names else None
        out = call(watcher.run, (inputs,)) if watcher else call(f, inputs)
        del inputs, duals
        return _Builder(tape, values, variables, input_names, watcher,
                        function or _describe(f)).build(out, dict(zip(input_names, seeds)))
    finally:
        tape.close()
        leave_transform(tape.tag)
        leave_transform(tag)


def _as_point(value: Any, i: int) -> np.ndarray:
    array = np.array(value)  # a copy: the trace shows the point as it was when f was called
    if array.dtype.kind in "iub":
        array = array.astype(float)
    if array.dtype.kind != "f":
        raise InvalidInputError(
            f"trace: argument {i} must be a real number or array, got {type(value).__name__}"
        )
    return array


def _describe(f: Callable[..., Any]) -> str:
    return getattr(f, "source", None) or getattr(f, "__qualname__", None) or repr(f)


def _input_names(f: Callable[..., Any], n: int, names: Sequence[str] | None) -> list[str]:
    if names is not None:
        if len(names) != n:
            raise InvalidArgumentError(f"trace: {len(names)} names for {n} arguments")
        return list(names)
    params = list(positional_names(f))
    return params[:n] if len(params) >= n else [f"x{i + 1}" for i in range(n)]


def _direction(values: list[np.ndarray], names: list[str], wrt: str | int | None,
               direction: Sequence[Any] | dict[str, Any] | None) -> list[np.ndarray]:
    if direction is not None:
        if isinstance(direction, dict):
            unknown = set(direction) - set(names)
            if unknown:
                raise InvalidArgumentError(
                    f"trace: direction names {sorted(unknown)} are not inputs ({names})")
            direction = [direction.get(name, 0.0) for name in names]
        if len(direction) != len(values):
            raise InvalidArgumentError(
                f"trace: direction has {len(direction)} entries for {len(values)} inputs")
        return [_seed(d, v, name) for d, v, name in zip(direction, values, names)]
    index = 0 if wrt is None else _input_index(wrt, names)
    return [np.full_like(v, float(i == index)) for i, v in enumerate(values)]


def _seed(d: Any, value: np.ndarray, name: str) -> np.ndarray:
    seed = np.asarray(d, dtype=value.dtype)
    try:
        return np.broadcast_to(seed, value.shape).copy()
    except ValueError:
        raise InvalidArgumentError(
            f"trace: the direction for {name} has shape {seed.shape}; {name} has shape "
            f"{value.shape}") from None


def _input_index(wrt: str | int, names: list[str]) -> int:
    if isinstance(wrt, int) and 0 <= wrt < len(names):
        return wrt
    if wrt in names:
        return names.index(wrt)
    raise InvalidArgumentError(f"trace: wrt={wrt!r} is not an input; the inputs are "
                               f"{', '.join(names)}")


# --------------------------------------------------------------------------- local names


class _LocalNames:
    """Runs ``f`` watching its frame: which local variable holds which active value.

    Each line event reads the frame's locals once and does constant work per local, so
    watching costs time in proportion to the lines run (times the number of locals), however
    many values the loop makes. A tape variable is remembered by its number: the first local
    name that held it. A plain constant (a float or an array) is remembered by identity,
    with the first local name that held it, without keeping it alive: an array through a
    weak reference, a float (which cannot be weakly referenced) only while a local holds it
    or a node of the tape uses it (the tape then keeps it alive). So memory follows what
    ``f`` keeps, and a name never passes to a later object that reuses a freed one's id.
    """

    def __init__(self, f: Callable[..., Any], tape: Tape) -> None:
        self.f = f
        self.tape = tape
        self.variables: dict[int, str] = {}  # tape variable -> first local name holding it
        # id of an untraced local -> (first name, a weak reference to it, or the value itself)
        self._constants: dict[int, tuple[str, Any]] = {}
        self._held: dict[int, Any] = {}  # floats held strongly: in a local at the last line
        self._used: set[int] = set()  # ids of the floats the tape's nodes hold
        self._scanned = 0  # nodes of the tape already looked at for _used
        self._sweep_at = 64  # when _constants grows past this, forget dead arrays
        # the tape records copies of the arrays it reads: id of a copy -> the original's name
        # (the tape holds the copies, so their ids stay theirs while the trace is built)
        self._copies: dict[int, str] = {}
        tape.on_keep = self._copied

    def run(self, inputs: list[TapeArray]) -> Any:
        return run_watching(self.f, inputs, self._line)

    def _line(self, frame: Any, event: str) -> None:
        constants = self._constants
        held: dict[int, Any] = {}
        for name, value in frame.f_locals.items():
            kind = value.__class__
            if kind is TapeArray:
                if value.tape is self.tape:
                    self.variables.setdefault(value.index, name)
                continue
            if kind is not float and kind is not np.ndarray and not isinstance(
                    value, (float, np.ndarray)):
                continue
            key = id(value)
            entry = constants.get(key)
            if entry is None or _referent(entry[1]) is not value:  # new, or a dead one's id
                entry = constants[key] = (name, _reference(value))
            if entry[1] is value:
                held[key] = value
        if any(key not in held for key in self._held):
            self._release(held)
        self._held = held
        if len(constants) > self._sweep_at:
            self._sweep()

    def _release(self, held: dict[int, Any]) -> None:
        """Forget the floats no local holds any more, unless a node of the tape uses them."""
        nodes = self.tape.nodes
        for node in nodes[self._scanned:]:
            for value in node.primals:
                if isinstance(value, float):
                    self._used.add(id(value))
        self._scanned = len(nodes)
        for key in self._held:
            if key not in held and key not in self._used:
                del self._constants[key]

    def _sweep(self) -> None:
        """Drop the entries of arrays that no longer exist (amortised: the limit doubles)."""
        dead = [key for key, (_, ref) in self._constants.items() if _referent(ref) is None]
        for key in dead:
            del self._constants[key]
        self._sweep_at = max(64, 2 * len(self._constants))

    def _copied(self, copy: Any, original: Any) -> None:
        name = self.constant_name(original)
        if name is not None:
            self._copies[id(copy)] = name

    def constant_name(self, value: Any) -> str | None:
        """The first local name that held ``value`` (this very object, or the array the tape
        copied into it), if one did."""
        name = self._copies.get(id(value))
        if name is not None:
            return name
        entry = self._constants.get(id(value))
        return entry[0] if entry is not None and _referent(entry[1]) is value else None


def _reference(value: Any) -> Any:
    """A weak reference to ``value`` where it supports one, else ``value`` itself."""
    try:
        return weakref.ref(value)
    except TypeError:
        return value


def _referent(ref: Any) -> Any:
    return ref() if ref.__class__ is weakref.ReferenceType else ref


# --------------------------------------------------------------------------- building


class _Builder:
    """Turns a recorded tape (with dual primals) into the frozen records of a Trace."""

    def __init__(self, tape: Tape, values: list[np.ndarray], variables: list[int],
                 names: list[str], watcher: _LocalNames | None, function: str) -> None:
        self.tape = tape
        self.values = values  # the inputs' values and tape variables when f was called
        self.variables = variables
        self.n = len(values)
        self.names = names
        self.watcher = watcher
        self.function = function
        self.labels: dict[int, str] = {}  # tape variable -> label
        self.operands: dict[Node, tuple[Operand, ...]] = {}
        self.local: dict[int, str | None] = {}
        self._used: set[str] = set()

    def id(self, variable: int) -> int:
        """The lecture's number of a tape variable: inputs 1-n .. 0, results 1, 2, ..."""
        return variable - self.n + 1

    def build(self, out: Any, direction: dict[str, np.ndarray]) -> Trace:
        steps = [self._input_step(i, name, direction[name]) for i, name in enumerate(self.names)]
        for node in self.tape.nodes:
            steps.extend(self._node_steps(node))
        outputs = self._outputs(out)
        adjoint_steps, adjoints = self._reverse(outputs)
        return Trace(self.function, tuple(steps), tuple(outputs),
                     {self.labels[v]: d for v, d in zip(self.variables, direction.values())},
                     tuple(adjoint_steps), adjoints)

    def _label(self, variable: int) -> str:
        name = self.watcher.variables.get(variable) if self.watcher else None
        label = name if name and name not in self._used else f"v{self.id(variable)}"
        label = label.replace("v-", "v_-") if label.startswith("v-") else label
        self._used.add(label)
        self.labels[variable] = label
        self.local[variable] = name
        return label

    def _input_step(self, i: int, name: str, seed: np.ndarray) -> Step:
        variable = self.variables[i]
        label = self._label(variable)
        return Step(self.id(variable), label, name, "input", (), (), name, f"{name}_dot",
                    self.values[i], np.asarray(seed))

    def _node_steps(self, node: Node) -> list[Step]:
        outs = node.outputs if isinstance(node.outputs, tuple) else (node.outputs,)
        values = node.out if isinstance(node.outputs, tuple) else (node.out,)
        operands = self.operands[node] = self._operands(node)
        steps = []
        for k, (variable, value) in enumerate(zip(outs, values)):
            if variable < 0:
                continue
            label = self._label(variable)
            suffix = f"[{k}]" if isinstance(node.outputs, tuple) else ""
            expression, rule = self._rules(node, operands, label, suffix)
            steps.append(Step(self.id(variable), label, self.local[variable],
                              node.prim.name + suffix, operands, _params(node.params),
                              expression, rule, _primal(value), _tangent(value),
                              tuple(node.params.items())))
        return steps

    def _operands(self, node: Node) -> tuple[Operand, ...]:
        traced = dict(node.parents)
        return tuple(
            Operand(self.labels[traced[i]], self.id(traced[i])) if i in traced
            else Operand(self._constant_text(x), value=strip(x))
            for i, x in enumerate(node.primals))

    def _constant_text(self, x: Any) -> str:
        name = self.watcher.constant_name(x) if self.watcher else None
        if name:
            return name
        value = strip(x)
        if np.ndim(value) == 0:
            kind = np.asarray(value).dtype.kind
            if kind == "c":
                return f"{complex(value):g}"
            return f"{float(value):g}" if kind == "f" else str(value)
        return f"const{np.shape(value)}"

    def _rules(self, node: Node, operands: tuple[Operand, ...], label: str,
               suffix: str) -> tuple[str, str]:
        rule = _formula(node, operands)
        texts = [o.text for o in operands]
        if rule is None:
            return _generic_expression(node, texts) + suffix, join_terms(
                [f"d{label}/d{o.text} * {o.text}_dot" for o in operands if o.node is not None])
        names = dict(zip(rule.letters, texts), out=label)
        terms = [tangent_term(f"{o.text}_dot", substitute(p, names))
                 for o, p in zip(operands, rule.partials) if o.node is not None]
        return substitute(rule.primal, names), join_terms(terms)

    def adjoint_rule(self, node: Node, argument: int, source: str, target_shape: Any) -> str:
        operands = self.operands[node]
        rule = _formula(node, operands)
        if rule is None:
            text = f"{source}_bar * d{source}/d{operands[argument].text}"
        else:
            names = dict(zip(rule.letters, (o.text for o in operands)), out=source)
            partial = substitute(rule.partials[argument], names)
            text = times(f"{source}_bar", partial)
        if np.shape(_primal(node.out if not isinstance(node.outputs, tuple) else node.out[0])) \
                != tuple(target_shape):
            text = f"sum({text})" if node.prim.elementwise else text
        return text

    def _outputs(self, out: Any) -> list[Output]:
        leaves, _ = flatten(out)
        outputs = []
        for k, name in enumerate(self._output_names(len(leaves))):
            leaf = leaves[k]
            node = None
            if leaf.__class__ is TapeArray and leaf.tape is self.tape:
                node = self.id(leaf.index)
            value = _primal(leaf.primal if leaf.__class__ is TapeArray else leaf)
            outputs.append(Output(name, node, value, np.ones_like(value, dtype=float)))
        return outputs

    def _output_names(self, n: int) -> list[str]:
        """``y`` (``y1, y2, ...`` for several outputs) as in the lecture, unless an input or
        a step is called so: then ``f``, ``out``, ``result``, ... so that ``y_bar`` means
        one thing."""
        taken = set(self.names) | set(self.labels.values())
        bases = itertools.chain(("y", "f", "out"), (f"result{'_' * i}" for i in itertools.count()))
        for base in bases:
            names = [base] if n == 1 else [f"{base}{k + 1}" for k in range(n)]
            if taken.isdisjoint(names):
                return names
        raise AssertionError("unreachable: the bases never end")  # pragma: no cover

    def _reverse(self, outputs: list[Output]) -> tuple[list[AdjointStep], dict[int, Any]]:
        seeds = [(o.node + self.n - 1, o.seed[None]) for o in outputs if o.node is not None]
        steps: list[AdjointStep] = []
        totals: dict[int, np.ndarray] = {o.node: o.seed for o in outputs if o.node is not None}

        def observe(node: Node, argument: int, variable: int, ct: Any) -> None:
            source = node.outputs[0] if isinstance(node.outputs, tuple) else node.outputs
            target = self.id(variable)
            contribution = _primal(ct)[0]
            accumulates = target in totals
            value = totals[target] + contribution if accumulates else contribution
            totals[target] = value
            rule = self.adjoint_rule(node, argument, self.labels[source], contribution.shape)
            steps.append(AdjointStep(target, self.id(source), rule, accumulates,
                                     contribution, value, argument))

        if seeds:
            backward(self.tape, seeds, [], 1, observe=observe)
        return steps, totals


def _formula(node: Node, operands: tuple[Operand, ...]) -> Formula | None:
    """The docstring formula of a single-result node whose letters fit its operands."""
    rule = formula(node.prim)
    if isinstance(node.outputs, tuple) or rule is None or len(rule.letters) != len(operands):
        return None
    return rule


def _params(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((key, repr(value)) for key, value in params.items())


def _generic_expression(node: Node, texts: list[str]) -> str:
    if node.prim.name == "getitem":
        return f"{texts[0]}[{_key_text(node.params['key'])}]"
    params = [f"{k}={v!r}" for k, v in node.params.items() if v is not None and v is not False]
    return f"{node.prim.name}({', '.join(texts + params)})"


def _key_text(key: Any) -> str:
    items = key if isinstance(key, tuple) else (key,)
    return ", ".join(_index_text(item) for item in items)


def _index_text(item: Any) -> str:
    if isinstance(item, slice):
        parts = ["" if v is None else str(v) for v in (item.start, item.stop)]
        step = "" if item.step is None else f":{item.step}"
        return ":".join(parts) + step
    if item is None:
        return "None"
    if item is Ellipsis:
        return "..."
    if isinstance(item, np.ndarray):
        return f"<index array {item.shape}>"
    return str(item)


def _primal(value: Any) -> np.ndarray:
    """The plain value of a recorded (dual) value."""
    return np.asarray(strip(value))


def _tangent(value: Any) -> np.ndarray:
    """The tangent along the direction of a recorded value (zeros if it has none)."""
    if value.__class__ is Dual:
        return np.asarray(strip(value.tangent))[0]
    return np.zeros_like(_primal(value), dtype=float)
