"""Which line of a hand derivation goes wrong: its intermediates against a trace's.

A gradient derived by hand usually names its intermediates after the forward pass's: the
adjoint of ``h2_raw`` is ``dh2_raw`` (or ``d_h2_raw``, ``h2_raw_bar``, ``grad_h2_raw``), the
tangent of ``h1`` along ``w_h`` is ``dh1_dwh``. :func:`first_mismatches` runs the hand-written
function, reads its local variables, and compares each one that names a step of
:func:`dualad.trace` with that step's adjoint or tangent, in the order the reverse (or
forward) pass computes them. The first that differs is where the derivation goes wrong:
every later one inherits the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..introspect import run_watching
from ..traces.build import trace
from ..traces.record import Trace

_ADJOINT = (r"d_?(?P<x>\w+?)", r"(?P<x>\w+?)_bar", r"grad_(?P<x>\w+?)", r"(?P<x>\w+?)_grad")
_TANGENT = r"d_?(?P<x>\w+?)_d_?(?P<w>\w+?)"


@dataclass(frozen=True)
class Mismatch:
    """A hand-computed intermediate that differs from dualad's.

    ``kind`` is ``"adjoint"`` or ``"tangent"``; ``manual_name`` the hand derivation's
    variable, ``step`` the trace's label of the value it stands for, ``rule`` how dualad
    computes it (``"h2_bar * (1 - tanh**2 h2_raw)"``).
    """

    kind: str
    manual_name: str
    step: str
    manual: np.ndarray
    dualad: np.ndarray
    rule: str

    def __str__(self) -> str:
        what = f"{self.step}_bar" if self.kind == "adjoint" else f"{self.step}_dot"
        return (f"the first intermediate that differs is {self.manual_name} = "
                f"{_short(self.manual)}: dualad's {what} = {self.rule} = {_short(self.dualad)}")


def first_mismatches(f: Callable[..., Any], manual_grad: Callable[..., Any],
                     args: Sequence[Any], rtol: float = 1e-5) -> list[Mismatch]:
    """The first adjoint and the first tangent of ``manual_grad`` that disagree with dualad.

    Only local variables whose names match a step of ``f`` (``d<name>``, ``<name>_bar``,
    ``d<name>_d<input>``; underscores are ignored when matching) are compared; an empty list
    means none differs or none could be matched.

    >>> import numpy as np
    >>> def f(w):
    ...     h_raw = 2.0 * w
    ...     h = np.tanh(h_raw)
    ...     return h
    >>> def hand(w):
    ...     h_raw = 2.0 * w
    ...     dh = 1.0
    ...     dh_raw = (1 - h_raw ** 2) * dh   # should be 1 - tanh(h_raw)**2
    ...     return 2.0 * dh_raw
    >>> m = first_mismatches(f, hand, (0.3,))[0]
    >>> m.manual_name, m.rule, round(float(m.manual), 3), round(float(m.dualad), 3)
    ('dh_raw', 'h_bar * (1 - tanh**2 h_raw)', 0.64, 0.712)
    """
    local = _locals_of(manual_grad, args)
    if not local:
        return []
    base = trace(f, *args)
    steps = {_key(s.label): s for s in base.steps}
    found = [m for m in (_first_adjoint(base, steps, local, rtol),
                         _first_tangent(f, args, base, steps, local, rtol)) if m]
    return found


def _locals_of(manual_grad: Callable[..., Any], args: Sequence[Any]) -> dict[str, Any]:
    """The local variables of ``manual_grad(*args)`` when it returns."""
    seen: dict[str, Any] = {}

    def on_event(frame: Any, event: str) -> None:
        if event == "return":
            seen.update(frame.f_locals)

    with np.errstate(all="ignore"):
        run_watching(manual_grad, args, on_event)
    return {k: v for k, v in seen.items() if _is_number(v)}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.ndarray, np.floating)) and not isinstance(value, bool)


def _key(name: str) -> str:
    return name.replace("_", "").lower()


def _first_adjoint(base: Trace, steps: dict, local: dict[str, Any],
                   rtol: float) -> Mismatch | None:
    matches = []
    for name, value in local.items():
        step = _match(name, _ADJOINT, steps)
        if step is not None and step.id in base.adjoints:
            matches.append((step, name, value))
    for step, name, value in sorted(matches, key=lambda m: -m[0].id):  # reverse-pass order
        expected = base.adjoints[step.id]
        if not _close(value, expected, rtol):
            return Mismatch("adjoint", name, step.label, np.asarray(value), expected,
                            _adjoint_rule(base, step.id))
    return None


def _first_tangent(f: Callable[..., Any], args: Sequence[Any], base: Trace, steps: dict,
                   local: dict[str, Any], rtol: float) -> Mismatch | None:
    inputs = {_key(s.name or s.label): s for s in base.inputs}
    matches = []
    for name, value in local.items():
        m = re.fullmatch(_TANGENT, name)
        if m and _key(m.group("x")) in steps and _key(m.group("w")) in inputs:
            matches.append((steps[_key(m.group("x"))], inputs[_key(m.group("w"))], name, value))
    traces: dict[str, Trace] = {}
    for step, wrt, name, value in sorted(matches, key=lambda m: m[0].id):  # forward order
        seeded = traces.setdefault(wrt.label, trace(f, *args, wrt=wrt.id - base.steps[0].id))
        expected = seeded.step(step.id).tangent
        if not _close(value, expected, rtol):
            return Mismatch("tangent", name, step.label, np.asarray(value), expected,
                            seeded.step(step.id).tangent_rule)
    return None


def _match(name: str, patterns: Sequence[str], steps: dict) -> Any:
    for pattern in patterns:
        m = re.fullmatch(pattern, name)
        if m and _key(m.group("x")) in steps:
            return steps[_key(m.group("x"))]
    return None


def _close(value: Any, expected: np.ndarray, rtol: float) -> bool:
    value = np.asarray(value, dtype=float)
    if value.shape != expected.shape and value.size != expected.size:
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(value.reshape(expected.shape) - expected) <= rtol * scale + 1e-12))


def _adjoint_rule(base: Trace, step_id: int) -> str:
    label = base.step(step_id).label
    rules = [a.rule for a in base.adjoint_steps if a.target == step_id]
    if not rules:
        return f"{label}_bar"
    return " + ".join(rules)


def _short(value: Any) -> str:
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.3g}"
    return np.array2string(array, precision=3, threshold=6, separator=", ")
