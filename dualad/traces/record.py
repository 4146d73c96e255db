"""The records of a trace: frozen steps of the primal, tangent and adjoint traces.

A :class:`Trace` is what :func:`dualad.trace` returns: the lecture's three tables (Baydin et
al. 2018, Tables 2 and 3) as data. The formatters in :mod:`dualad.traces.formats` turn it into
text, Markdown, LaTeX, JSON, Graphviz DOT or a NumPy program; nothing here computes a
derivative.

Numbering follows the lecture: the n inputs are ``v_{1-n} .. v_0`` (ids ``1-n .. 0``), each
primitive's result ``v_1, v_2, ...`` in the order it ran. A step's ``label`` is what the
tables print: ``v_-1``, ``v3``, or the user's own variable name (``h1_raw``) when the traced
function held the value in a local variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .formats import render, to_html


@dataclass(frozen=True)
class Operand:
    """One argument of a step: a traced step (``node`` is its id) or a constant.

    ``value`` is a constant's value (None for a traced step), for formats that write code
    (:mod:`dualad.traces.python_source`); the tables show ``text``.
    """

    text: str
    node: int | None = None
    value: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Step:
    """One line of the primal trace and the matching line of the tangent trace.

    ``expression`` is the primal rule over operand labels (``"ln v_-1"``, ``"v_-1 * v0"``;
    for an input, its name ``"x1"``); ``tangent_rule`` the tangent rule over operand labels
    (``"v_-1_dot / v_-1"``; for an input, ``"x1_dot"``). ``params`` are shown as text
    (their ``repr``); ``param_values`` holds the values themselves.
    """

    id: int
    label: str
    name: str | None
    op: str
    operands: tuple[Operand, ...]
    params: tuple[tuple[str, str], ...]
    expression: str
    tangent_rule: str
    primal: np.ndarray
    tangent: np.ndarray
    param_values: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def inputs(self) -> tuple[int, ...]:
        """Ids of the traced steps this one reads, in argument order."""
        return tuple(o.node for o in self.operands if o.node is not None)

    @property
    def is_input(self) -> bool:
        return self.op == "input"


@dataclass(frozen=True)
class AdjointStep:
    """One line of the adjoint trace: ``target_bar (+)= source_bar * d source / d target``.

    ``accumulates`` is True where the target already received a contribution (the lecture's
    ``v0_bar = v0_bar + v2_bar * v_-1``); ``value`` is the target's adjoint after the step.
    ``rule`` is the contribution over labels (``"v2_bar * v_-1"``); ``argument`` the
    position of the target among the source step's operands (None where unknown).
    """

    target: int
    source: int
    rule: str
    accumulates: bool
    contribution: np.ndarray
    value: np.ndarray
    argument: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Output:
    """An output of the traced function: its name (``y``, ``y1`` ...) and the step it is.

    ``seed`` is the adjoint it is seeded with (``y_bar``, ones by default). ``node`` is None
    for an output that does not depend on the inputs (a constant; its value is ``value``).
    """

    name: str
    node: int | None
    value: np.ndarray
    seed: np.ndarray


@dataclass(frozen=True)
class Trace:
    """The forward primal, forward tangent and reverse adjoint traces of one evaluation.

    Attributes
    ----------
    function : str
        What was traced, as the user wrote it (an expression or ``file.py:func``).
    steps : tuple of Step
        Inputs first (in argument order), then every primitive's result in evaluation order.
    outputs : tuple of Output
    direction : dict
        The tangent seed of each input, by input label (``x1_dot = 1, x2_dot = 0`` by default).
    adjoint_steps : tuple of AdjointStep
        In the order the reverse pass ran (last step first).
    adjoints : dict
        Final adjoint of every step that has one, by id.
    """

    function: str
    steps: tuple[Step, ...]
    outputs: tuple[Output, ...]
    direction: dict[str, np.ndarray]
    adjoint_steps: tuple[AdjointStep, ...]
    adjoints: dict[int, np.ndarray] = field(default_factory=dict)

    def step(self, number: int) -> Step:
        """The step with lecture number ``number`` (its ``id``)."""
        return self.steps[number - self.steps[0].id]

    @property
    def inputs(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.is_input)

    @property
    def gradient(self) -> dict[str, np.ndarray]:
        """The adjoint of each input by its name (``x1_bar``): the gradient of the outputs
        weighted by their seeds, zeros for an input that no output depends on."""
        return {s.name or s.label: self.adjoints.get(s.id, np.zeros_like(s.primal))
                for s in self.inputs}

    @property
    def output_tangents(self) -> dict[str, np.ndarray]:
        """Each output's tangent along ``direction`` (the lecture's ``y_dot``)."""
        return {o.name: (self.step(o.node).tangent if o.node is not None
                         else np.zeros_like(o.value)) for o in self.outputs}

    def render(self, fmt: str = "text", *, mode: str = "both", digits: int = 3) -> str:
        """The trace as ``text``, ``markdown``, ``latex``, ``json``, ``dot``, ``html`` or
        ``python`` (a NumPy program: :func:`~dualad.traces.python_source.to_python`)."""
        return render(self, fmt, mode=mode, digits=digits)

    def __str__(self) -> str:
        return self.render("text")

    def _repr_markdown_(self) -> str:
        return self.render("markdown")

    def _repr_html_(self) -> str:
        return to_html(self)


def example_trace() -> Trace:
    """A small trace built by hand: y = sin(x) at x = 0.5, seeded x_dot = 1 and y_bar = 1
    (the formats' examples)."""
    x, dx = np.asarray(0.5), np.asarray(1.0)
    y, dy = np.sin(x), np.cos(x) * dx
    steps = (Step(0, "x", "x", "input", (), (), "x", "x_dot", x, dx),
             Step(1, "v1", None, "sin", (Operand("x", 0),), (), "sin x", "x_dot * cos x",
                  y, dy))
    adjoint = AdjointStep(0, 1, "v1_bar * cos x", False, np.cos(x), np.cos(x))
    one = np.asarray(1.0)
    return Trace("sin(x)", steps, (Output("y", 1, y, one),), {"x": dx}, (adjoint,),
                 {1: one, 0: np.cos(x)})
