"""Formatters of a :class:`~dualad.traces.record.Trace`: text, Markdown, LaTeX, JSON, DOT, HTML,
and (from :mod:`.python_source`) Python.

Every formatter is pure: it reads the frozen records and returns a string. The tables follow
the AD lecture (Baydin et al. 2018, Tables 2 and 3): the forward primal trace, the forward
tangent trace (``v1_dot = v_-1_dot / v_-1``) and the reverse adjoint trace
(``v0_bar = v0_bar + v2_bar * v_-1``), then the gradient. :func:`render` is the entry point
(``Trace.render`` calls it); :func:`write_graph` saves DOT source, rendered by Graphviz when
the file is an image.

The text, Markdown, LaTeX and HTML formats are built from one layout (:func:`_layout`), so
they show the same rows; DOT and JSON read the records directly because they describe the
graph rather than the tables.

JSON documents (:func:`to_json`) are described by :data:`JSON_SCHEMA` (JSON Schema draft
2020-12)::

    {"schema": "dualad.trace/1", "function": str, "inputs": [node ids],
     "outputs": [{"name", "node" (id or null for a constant), "value", "seed"}],
     "direction": {input name: tangent seed},
     "nodes": [{"id", "label", "name", "op", "inputs": [ids], "operands": [texts],
                "params": {str: str}, "expression", "tangent_rule", "shape": [ints],
                "primal", "tangent", "adjoint" (null where the node has none)}],
     "adjoint_steps": [{"target", "source", "rule", "accumulates", "contribution",
                        "value"}]}

Values are numbers or nested lists of numbers (float64, exact); nan and infinities, which
JSON cannot hold, are the strings ``"nan"``, ``"inf"`` and ``"-inf"``; a complex number is
an object ``{"re": ..., "im": ...}`` of two such numbers.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DualadError, InvalidArgumentError
from .python_source import to_python

if TYPE_CHECKING:  # the records are data; they render themselves through this module
    from .record import AdjointStep, Operand, Output, Step, Trace

__all__ = [
    "FORMATS", "GRAPH_SUFFIXES", "JSON_SCHEMA", "MAX_DIGITS", "MODES", "Format",
    "GraphvizError", "format_for_file", "format_number", "format_value", "latex_math",
    "render", "to_dot", "to_html", "to_json", "to_latex", "to_markdown", "to_text",
    "write_graph",
]

MODES = ("forward", "reverse", "both")
GRAPH_SUFFIXES = (".dot", ".gv", ".svg", ".png", ".pdf")
MAX_DIGITS = 17  # beyond float64's 17 significant digits more decimals show only noise


class GraphvizError(DualadError, RuntimeError):
    """Graphviz's ``dot`` failed to render a graph (its message is included)."""


# --------------------------------------------------------------------------- numbers


def _strip_zeros(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(x: float, digits: int = 3) -> str:
    """One number as the tables show it: ``digits`` decimals, trailing zeros dropped.

    Magnitudes of a million or more, and nonzero ones that would round to 0, switch to
    scientific notation with ``digits`` significant digits; ``-0`` prints as ``0``.

    Parameters
    ----------
    x : float
    digits : int
        Decimal places (significant digits in scientific notation).

    Returns
    -------
    str

    Examples
    --------
    >>> [format_number(v) for v in (2.0, 0.5, np.log(2) + 10, np.sin(5), -0.0)]
    ['2', '0.5', '10.693', '-0.959', '0']
    >>> format_number(1.2345e-5), format_number(2.5e7), format_number(float("-inf"))
    ('1.23e-05', '2.5e+07', '-inf')
    >>> format_number(1.5 - 2j), format_number(0.25j)
    ('1.5-2j', '0.25j')
    """
    if np.iscomplexobj(x):  # a complex value: both parts, as Python writes them
        z = complex(x)
        if z.imag == 0:
            return format_number(z.real, digits)
        imag = format_number(abs(z.imag), digits)
        if z.real == 0:
            return f"{'-' if z.imag < 0 else ''}{imag}j"
        return f"{format_number(z.real, digits)}{'-' if z.imag < 0 else '+'}{imag}j"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 10.0 ** -digits:
        mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
        return f"{_strip_zeros(mantissa)}e{exponent}"
    text = _strip_zeros(f"{x:.{digits}f}")
    return "0" if text == "-0" else text


_LINE_BREAK = re.compile(r"\s*\n\s*")


def format_value(x: Any, digits: int = 3) -> str:
    """A primal, tangent or adjoint on one line: a number, or an array's shape and values.

    Large arrays are abbreviated to their first and last three entries along each axis.

    Parameters
    ----------
    x : float or array_like
    digits : int
        As in :func:`format_number`.

    Returns
    -------
    str

    Examples
    --------
    >>> format_value(np.array([0.5, 1.0, 2.0]))
    '(3,) [0.5, 1, 2]'
    >>> format_value(np.arange(1.0, 7.0).reshape(2, 3))
    '(2, 3) [[1, 2, 3], [4, 5, 6]]'
    >>> format_value(np.linspace(0.1, 1.0, 10), digits=1)
    '(10,) [0.1, 0.2, 0.3, ..., 0.8, 0.9, 1]'
    """
    a = np.asarray(x)
    if a.ndim == 0:
        return format_number(a, digits)
    # threshold/edgeitems: at most six values per axis; the huge line width and the
    # whitespace collapse keep every array on one line of the table
    text = np.array2string(a, formatter={"all": partial(format_number, digits=digits)},
                           threshold=6, edgeitems=3, separator=", ",
                           max_line_width=sys.maxsize)
    return f"{a.shape} {re.sub(_LINE_BREAK, ' ', text)}"


def _short_value(x: Any, digits: int) -> str:
    """A value for the header line: arrays of more than four entries by their shape only."""
    a = np.asarray(x)
    return format_value(a, digits) if a.size <= 4 else f"{a.shape} array"


# --------------------------------------------------------------------------- arguments


def _choose(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise InvalidArgumentError(
            f"unknown {what} {value!r}: write one of {', '.join(map(repr, choices))}")
    return value


def _check_digits(digits: Any) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int | np.integer) \
            or not 0 <= digits <= MAX_DIGITS:
        raise InvalidArgumentError(
            f"digits={digits!r} is not a number of decimals: write an integer from 0 to "
            f"{MAX_DIGITS}, e.g. digits=3")
    return int(digits)


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Row:
    """``lhs = rhs = value`` (``lhs = value`` when there is no rhs); ``key``: the step."""

    key: str
    lhs: str
    rhs: str | None
    value: str


@dataclass(frozen=True)
class _Table:
    title: str
    seed: tuple[tuple[str, str], ...]
    rows: tuple[_Row, ...]


@dataclass(frozen=True)
class _Layout:
    """What every tabular format shows, with values already formatted."""

    function: str
    at: tuple[tuple[str, str], ...]
    tables: tuple[_Table, ...]
    gradient: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]  # (label, "primal, tangent") of non-finite values


def _row(key: str, lhs: str, rhs: str | None, value: str) -> _Row:
    # `w_h = w_h = 2` says nothing twice: inputs named after themselves print `w_h = 2`
    return _Row(key, lhs, None if rhs == lhs else rhs, value)


def _label(trace: Trace, node: int | None, suffix: str = "") -> str | None:
    return None if node is None else trace.step(node).label + suffix


def _input_name(step: Step) -> str:
    return step.name or step.label


def _primal_table(trace: Trace, fmt: Callable[[Any], str]) -> _Table:
    rows = [_row(str(s.id), s.label, s.expression, fmt(s.primal)) for s in trace.steps]
    rows += [_row(o.name, o.name, _label(trace, o.node), fmt(o.value)) for o in trace.outputs]
    return _Table("Forward primal trace", (), tuple(rows))


def _seed_symbol(trace: Trace, key: str) -> str:
    """``x1_dot`` for a direction keyed by the input's name, label or dotted name."""
    if key.endswith("_dot"):
        return key
    for s in trace.inputs:
        if key in (s.label, s.name):
            return _input_name(s) + "_dot"
    return key + "_dot"


def _tangent_table(trace: Trace, fmt: Callable[[Any], str]) -> _Table:
    rows = [_row(str(s.id), s.label + "_dot", s.tangent_rule, fmt(s.tangent))
            for s in trace.steps]
    tangents = trace.output_tangents
    rows += [_row(o.name, o.name + "_dot", _label(trace, o.node, "_dot"), fmt(tangents[o.name]))
             for o in trace.outputs]
    seed = tuple((_seed_symbol(trace, k), fmt(v)) for k, v in trace.direction.items())
    return _Table("Forward tangent trace", seed, tuple(rows))


def _seed_rows(trace: Trace, fmt: Callable[[Any], str]) -> list[_Row]:
    """``v5_bar = y_bar``: the outputs' seeds, summed where outputs share a step."""
    by_node: dict[int, list[Output]] = {}
    for o in trace.outputs:
        if o.node is not None:
            by_node.setdefault(o.node, []).append(o)
    return [_row(outs[0].name, trace.step(node).label + "_bar",
                 " + ".join(o.name + "_bar" for o in outs),
                 fmt(sum(np.asarray(o.seed) for o in outs)))
            for node, outs in by_node.items()]


def _adjoint_row(trace: Trace, a: AdjointStep, fmt: Callable[[Any], str]) -> _Row:
    target = trace.step(a.target).label + "_bar"
    rhs = f"{target} + {a.rule}" if a.accumulates else a.rule
    return _row(str(a.source), target, rhs, fmt(a.value))


def _input_adjoint_rows(trace: Trace, fmt: Callable[[Any], str]) -> list[_Row]:
    """``x1_bar = v_-1_bar``; an input no output depends on has adjoint 0."""
    rows = []
    for s in trace.inputs:
        name = _input_name(s)
        known = s.id in trace.adjoints
        value = trace.adjoints[s.id] if known else np.zeros_like(s.primal)
        rows.append(_row(name, name + "_bar", s.label + "_bar" if known else None, fmt(value)))
    return rows


def _adjoint_table(trace: Trace, fmt: Callable[[Any], str]) -> _Table:
    rows = _seed_rows(trace, fmt)
    rows += [_adjoint_row(trace, a, fmt) for a in trace.adjoint_steps]
    rows += _input_adjoint_rows(trace, fmt)
    seed = tuple((o.name + "_bar", fmt(o.seed)) for o in trace.outputs)
    return _Table("Reverse adjoint trace", seed, tuple(rows))


def _all_finite(x: Any) -> bool:
    values = np.asarray(x)
    if values.dtype.kind not in "fc":
        values = values.astype(float)
    return bool(np.all(np.isfinite(values)))


def _non_finite(trace: Trace, mode: str) -> tuple[tuple[str, str], ...]:
    """Where the shown values hold nan or inf: (label, kinds), primal values found first."""
    found: dict[str, list[str]] = {}
    checks = [(s.label, "primal", s.primal) for s in trace.steps]
    checks += [(o.name, "primal", o.value) for o in trace.outputs if o.node is None]
    if mode != "reverse":
        checks += [(s.label, "tangent", s.tangent) for s in trace.steps]
    if mode != "forward":
        checks += [(trace.step(a.target).label, "adjoint", a.value) for a in trace.adjoint_steps]
        checks += [(trace.step(i).label, "adjoint", v) for i, v in trace.adjoints.items()]
    for label, kind, value in checks:
        if not _all_finite(value) and kind not in found.get(label, []):
            found.setdefault(label, []).append(kind)
    return tuple((label, ", ".join(kinds)) for label, kinds in found.items())


def _layout(trace: Trace, mode: str, digits: int) -> _Layout:
    _choose(mode, MODES, "mode")
    fmt = partial(format_value, digits=_check_digits(digits))
    tables = [_primal_table(trace, fmt)]
    if mode != "reverse":
        tables.append(_tangent_table(trace, fmt))
    gradient: tuple[tuple[str, str], ...] = ()
    if mode != "forward":
        tables.append(_adjoint_table(trace, fmt))
        gradient = tuple((name + "_bar", fmt(v)) for name, v in trace.gradient.items())
    at = tuple((_input_name(s), _short_value(s.primal, digits)) for s in trace.inputs)
    return _Layout(trace.function, at, tuple(tables), gradient, _non_finite(trace, mode))


def _pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in pairs)


# --------------------------------------------------------------------------- text


def _text_rows(tables: list[_Table]) -> list[list[str]]:
    """The lines of tables that share their column widths."""
    rows = [r for t in tables for r in t.rows]
    lhs_width = max((len(r.lhs) for r in rows), default=0)
    rhs_width = max((len(r.rhs) for r in rows if r.rhs is not None), default=0)
    out = []
    for table in tables:
        lines = [table.title + (f"   (seed: {_pairs(table.seed)})" if table.seed else "")]
        for r in table.rows:
            middle = f"{r.rhs:<{rhs_width}}   = " if r.rhs is not None else ""
            lines.append(f"  {r.lhs:<{lhs_width}} = {middle}{r.value}")
        out.append(lines)
    return out


def _header(layout: _Layout) -> str:
    at = f"   at {_pairs(layout.at)}" if layout.at else ""
    return f"f = {layout.function}{at}"


def to_text(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The traces as aligned plain-text tables, as a terminal shows them.

    The primal table has its own column widths; the tangent and adjoint tables share theirs,
    so that the derivative rules line up. A last ``note:`` line names the steps whose shown
    values are not finite.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
        forward: primal and tangent traces; reverse: primal and adjoint traces and the
        gradient; both: everything.
    digits : int
        Decimals of every value (see :func:`format_number`).

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown mode or a bad number of digits.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> print(to_text(example_trace(), mode="reverse"))
    f = sin(x)   at x = 0.5
    <BLANKLINE>
    Forward primal trace
      x  = 0.5
      v1 = sin x   = 0.479
      y  = v1      = 0.479
    <BLANKLINE>
    Reverse adjoint trace   (seed: y_bar = 1)
      v1_bar = y_bar            = 1
      x_bar  = v1_bar * cos x   = 0.878
      x_bar  = 0.878
    <BLANKLINE>
    gradient: x_bar = 0.878
    """
    layout = _layout(trace, mode, digits)
    primal, *derivatives = layout.tables
    lines = [_header(layout)]
    for table_lines in _text_rows([primal]) + _text_rows(derivatives):
        lines += ["", *table_lines]
    if layout.gradient:
        lines += ["", "gradient: " + _pairs(layout.gradient)]
    if layout.notes:
        lines.append("note: non-finite values in "
                     + ", ".join(f"{label} ({kinds})" for label, kinds in layout.notes))
    return "\n".join(lines)


# --------------------------------------------------------------------------- markdown


def _md_code(text: str, in_table: bool = False) -> str:
    """``text`` as a code span: a fence longer than any backtick run inside it."""
    if in_table:  # GitHub splits cells on `|` even inside code spans
        text = text.replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(_md_code(f"{name} = {value}") for name, value in pairs)


def _md_table(table: _Table) -> list[str]:
    seed = f" (seed: {_md_pairs(table.seed)})" if table.seed else ""
    lines = [f"### {table.title}{seed}", "", "| step | rule | value |", "|---:|:---|:---|"]
    for r in table.rows:
        rule = f"{r.lhs} = {r.rhs}" if r.rhs is not None else r.lhs
        cells = (html.escape(r.key), _md_code(rule, in_table=True), html.escape(r.value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def to_markdown(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The traces as GitHub-flavoured Markdown: one ``###`` section and table per trace.

    Each table has the columns ``step`` (the step number, or the output's / input's name),
    ``rule`` (``v1 = ln v_-1`` as code) and ``value``.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
    digits : int

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown mode or a bad number of digits.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> md = to_markdown(example_trace())
    >>> print(md.splitlines()[7])
    | 1 | `v1 = sin x` | 0.479 |
    >>> md.splitlines()[-1]
    '**gradient:** `x_bar = 0.878`'
    """
    layout = _layout(trace, mode, digits)
    lines = [f"**f** = {_md_code(layout.function)}"
             + (f" at {_md_pairs(layout.at)}" if layout.at else "")]
    for table in layout.tables:
        lines += ["", *_md_table(table)]
    if layout.gradient:
        lines += ["", f"**gradient:** {_md_pairs(layout.gradient)}"]
    if layout.notes:
        where = ", ".join(f"{_md_code(label)} ({kinds})" for label, kinds in layout.notes)
        lines += ["", f"**note:** non-finite values in {where}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- LaTeX

_LATEX_TOKEN = re.compile(
    r"(?P<label>v(?:_-\d+|\d+)(?:_dot|_bar)?)(?![A-Za-z0-9_])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<string>'[^']*'|\"[^\"]*\")"
    r"|(?P<pow>\*\*)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)", re.S)
# Functions LaTeX typesets upright by itself (\ln, \sin ...): no package needed.
_LATEX_FUNCTIONS = frozenset({
    "ln", "log", "lg", "exp", "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh",
    "tanh", "coth", "arcsin", "arccos", "arctan", "max", "min", "det"})
_LATEX_CONSTANTS = {"pi": r"\pi ", "inf": r"\infty ", "nan": r"\mathrm{nan}"}
_LATEX_SYMBOLS = {
    "*": r" \times ", "@": r" \cdot ", "%": r" \bmod ", "^": r"\wedge ", "~": r"\sim ",
    "\\": r"\backslash ", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "&": r"\&",
    "_": r"\_", '"': "''"}
_LATEX_TEXT = {c: "\\" + c for c in "{}#$&_%"} | {
    "\\": r"\backslash ", "^": r"\wedge ", "~": r"\sim "}


def _latex_escape(text: str, table: dict[str, str]) -> str:
    # characters outside printable ASCII may not exist in the math fonts of plain LaTeX
    return "".join(table.get(c, c if " " <= c <= "~" else "?") for c in text)


def _split_accent(name: str) -> tuple[str, str | None]:
    for suffix in ("_dot", "_bar"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix[1:]
    return name, None


def _latex_symbol(name: str) -> str:
    """``x1`` -> ``x_{1}``, ``h1_raw_bar`` -> ``\\bar{\\mathit{h1\\_raw}}``, ``v_-1_dot``..."""
    base, accent = _split_accent(name)
    match = re.fullmatch(r"([A-Za-z])_?(-?\d+)", base)  # v_-1, v3, x1
    core, sub = (match[1], match[2]) if match else (base, None)
    if len(core) > 1:
        core = rf"\mathit{{{_latex_escape(core, _LATEX_TEXT)}}}"
    if accent is not None:
        core = rf"\{accent}{{{core}}}"
    return core + (f"_{{{sub}}}" if sub is not None else "")


def _latex_number(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}" if exponent else mantissa


def _next_index(tokens: list[tuple[str, str]], i: int) -> int:
    """Index of the first token at or after ``i`` that is not white space."""
    while i < len(tokens) and tokens[i][0] == "space":
        i += 1
    return i


def _latex_name(tokens: list[tuple[str, str]], i: int) -> str:
    name = tokens[i][1]
    j = _next_index(tokens, i + 1)
    called = j < len(tokens) and tokens[j][1] == "("
    if name in _LATEX_FUNCTIONS:
        return f"\\{name} "
    if name in _LATEX_CONSTANTS:
        return _LATEX_CONSTANTS[name]
    if called:
        return rf"\mathrm{{{_latex_escape(name, _LATEX_TEXT)}}}"
    return _latex_symbol(name)


def _latex_token(tokens: list[tuple[str, str]], i: int) -> str:
    kind, text = tokens[i]
    if kind == "label":
        return _latex_symbol(text)
    if kind == "name":
        return _latex_name(tokens, i)
    if kind == "number":
        return _latex_number(text)
    if kind == "string":
        return rf"\mathtt{{{_latex_escape(text[1:-1], _LATEX_TEXT)}}}"
    if kind == "pow":
        return "^"
    if kind == "space":
        return " "
    return _latex_escape(text, _LATEX_SYMBOLS)


def _closing(tokens: list[tuple[str, str]], i: int) -> int:
    """Index of the parenthesis that closes the one at ``i`` (the last token if none)."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[j][1], 0)
        if depth == 0:
            return j
    return len(tokens) - 1


def _operand_end(tokens: list[tuple[str, str]], start: int) -> int:
    """Last token of the operand of ``**`` that begins at ``start``, powers included."""
    kind, text = tokens[start]
    if text in "+-" and start + 1 < len(tokens):
        return _operand_end(tokens, _next_index(tokens, start + 1))
    end = start
    after = _next_index(tokens, start + 1)
    if text == "(" or (kind == "name" and after < len(tokens) and tokens[after][1] == "("):
        end = _closing(tokens, start if text == "(" else after)
    after = _next_index(tokens, end + 1)
    if after < len(tokens) - 1 and tokens[after][0] == "pow":  # a ** b ** c = a ** (b ** c)
        return _operand_end(tokens, _next_index(tokens, after + 1))
    return end


def latex_math(text: str) -> str:
    """An expression of a trace (``v_-1_dot * v0``) as LaTeX math (``\\dot{v}_{-1} ...``).

    Labels get subscripts (``v_{-1}``), ``_dot``/``_bar`` become accents, other names of
    several letters are set as ``\\mathit{h1\\_raw}``, ``*`` as ``\\times``, ``**`` as a
    superscript and functions LaTeX knows (``ln``, ``sin`` ...) as operators. Every other
    special character is escaped, so the result compiles with no package loaded.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Math-mode LaTeX (without the surrounding ``$``).

    Examples
    --------
    >>> print(latex_math("v_-1_dot * v0 + v0_dot * v_-1"))
    \\dot{v}_{-1} \\times v_{0} + \\dot{v}_{0} \\times v_{-1}
    >>> print(latex_math("h1_raw_bar * (1 - tanh(h1_raw) ** 2)"))
    \\bar{\\mathit{h1\\_raw}} \\times (1 - \\tanh (\\mathit{h1\\_raw}) ^ {2})
    """
    tokens = [(m.lastgroup or "other", m.group()) for m in _LATEX_TOKEN.finditer(text)]
    pieces = [_latex_token(tokens, i) for i in range(len(tokens))]
    for i, (kind, _) in enumerate(tokens):
        if kind != "pow":
            continue
        start = _next_index(tokens, i + 1)
        if start == len(tokens):
            pieces[i] = "^{}"
            continue
        pieces[start] = "{" + pieces[start]
        pieces[_operand_end(tokens, start)] += "}"
    return re.sub(" +", " ", "".join(pieces)).strip()


def _latex_value(text: str) -> str:
    """A formatted value (``(3,) [1e-05, ..., inf]``) in LaTeX math."""
    text = re.sub(r"-?\d+(?:\.\d+)?e[+-]\d+", lambda m: _latex_number(m.group()), text)
    text = re.sub(r"\bnan\b", r"\\mathrm{nan}", text).replace("...", r"\ldots ")
    text = re.sub(r"\binf\b", r"\\infty ", text)
    return re.sub(" +", " ", re.sub(r"^(\([\d, ]*\)) ", r"\1\\; ", text)).strip()


def _latex_pairs(pairs: tuple[tuple[str, str], ...]) -> str:
    return r",\ ".join(f"{latex_math(name)} = {_latex_value(value)}" for name, value in pairs)


def _latex_table(table: _Table) -> list[str]:
    seed = rf"\quad (seed: ${_latex_pairs(table.seed)}$)" if table.seed else ""
    lines = [rf"\noindent\textbf{{{table.title}}}{seed}", r"\[", r"\begin{array}{lll}"]
    for r in table.rows:
        rhs = f"= {latex_math(r.rhs)}" if r.rhs is not None else ""
        lines.append(f"{latex_math(r.lhs)} & {rhs} & = {_latex_value(r.value)} \\\\")
    return lines + [r"\end{array}", r"\]"]


def to_latex(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The traces as LaTeX for slides: an ``array`` per table in display math.

    Needs no package (``array`` is plain LaTeX's); paste it into a document or a frame.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
    digits : int

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown mode or a bad number of digits.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> tex = to_latex(example_trace(), mode="forward")
    >>> print(tex.splitlines()[6])
    v_{1} & = \\sin x & = 0.479 \\\\
    """
    layout = _layout(trace, mode, digits)
    at = rf"\quad at ${_latex_pairs(layout.at)}$" if layout.at else ""
    lines = [rf"\noindent$f = {latex_math(layout.function)}${at}"]
    for table in layout.tables:
        lines += ["", *_latex_table(table)]
    if layout.gradient:
        lines += ["", rf"\noindent\textbf{{gradient:}} ${_latex_pairs(layout.gradient)}$"]
    if layout.notes:
        where = ", ".join(f"${latex_math(label)}$ ({kinds})" for label, kinds in layout.notes)
        lines += ["", rf"\noindent\textbf{{note:}} non-finite values in {where}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML


def _html_table(table: _Table) -> list[str]:
    seed = f" (seed: {html.escape(_pairs(table.seed))})" if table.seed else ""
    lines = ['<table class="dualad-trace-table">',
             f"<caption><b>{html.escape(table.title)}</b>{seed}</caption>",
             "<thead><tr><th>step</th><th>rule</th><th>value</th></tr></thead>", "<tbody>"]
    for r in table.rows:
        rule = f"{r.lhs} = {r.rhs}" if r.rhs is not None else r.lhs
        lines.append(f'<tr><td>{html.escape(r.key)}</td><td style="text-align:left">'
                     f"<code>{html.escape(rule)}</code></td>"
                     f'<td style="text-align:left">{html.escape(r.value)}</td></tr>')
    return lines + ["</tbody>", "</table>"]


def to_html(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The traces as an HTML fragment for Jupyter (``Trace._repr_html_``).

    Every text from the trace is escaped, so names and rules cannot inject markup.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
    digits : int

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown mode or a bad number of digits.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> page = to_html(example_trace())
    >>> "<code>v1 = sin x</code>" in page, page.count("<table"), page.endswith("</div>")
    (True, 3, True)
    """
    layout = _layout(trace, mode, digits)
    at = f" at {html.escape(_pairs(layout.at))}" if layout.at else ""
    lines = ['<div class="dualad-trace">',
             f"<p><b>f</b> = <code>{html.escape(layout.function)}</code>{at}</p>"]
    for table in layout.tables:
        lines += _html_table(table)
    if layout.gradient:
        lines.append(f"<p><b>gradient:</b> {html.escape(_pairs(layout.gradient))}</p>")
    if layout.notes:
        where = ", ".join(f"{label} ({kinds})" for label, kinds in layout.notes)
        lines.append(f"<p><b>note:</b> non-finite values in {html.escape(where)}</p>")
    return "\n".join(lines + ["</div>"])


# --------------------------------------------------------------------------- JSON

_REAL_SCHEMA = {"anyOf": [{"type": "number"}, {"enum": ["nan", "inf", "-inf"]}]}
_SCALAR_SCHEMA = {"anyOf": [_REAL_SCHEMA, {
    "type": "object", "required": ["re", "im"], "additionalProperties": False,
    "properties": {"re": _REAL_SCHEMA, "im": _REAL_SCHEMA}}]}


def _object_schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties,
            "additionalProperties": False}


_VALUE = {"$ref": "#/$defs/value"}
_ID = {"type": "integer"}
_TEXT = {"type": "string"}
#: JSON Schema (draft 2020-12) of :func:`to_json`'s documents; see the module docstring.
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dualad trace",
    "description": "The forward primal, forward tangent and reverse adjoint traces of one "
                   "evaluation (Baydin et al. 2018, Tables 2 and 3).",
    **_object_schema({
        "schema": {"const": "dualad.trace/1"},
        "function": _TEXT,
        "inputs": {"type": "array", "items": _ID},
        "outputs": {"type": "array", "items": {"$ref": "#/$defs/output"}},
        "direction": {"type": "object", "additionalProperties": _VALUE},
        "nodes": {"type": "array", "items": {"$ref": "#/$defs/node"}},
        "adjoint_steps": {"type": "array", "items": {"$ref": "#/$defs/adjoint_step"}},
    }),
    "$defs": {
        "scalar": _SCALAR_SCHEMA,
        "value": {"anyOf": [{"$ref": "#/$defs/scalar"}, {"type": "array", "items": _VALUE}]},
        "output": _object_schema({"name": _TEXT, "node": {"type": ["integer", "null"]},
                                  "value": _VALUE, "seed": _VALUE}),
        "node": _object_schema({
            "id": _ID, "label": _TEXT, "name": {"type": ["string", "null"]}, "op": _TEXT,
            "inputs": {"type": "array", "items": _ID},
            "operands": {"type": "array", "items": _TEXT},
            "params": {"type": "object", "additionalProperties": _TEXT},
            "expression": _TEXT, "tangent_rule": _TEXT,
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "primal": _VALUE, "tangent": _VALUE,
            "adjoint": {"anyOf": [_VALUE, {"type": "null"}]}}),
        "adjoint_step": _object_schema({
            "target": _ID, "source": _ID, "rule": _TEXT, "accumulates": {"type": "boolean"},
            "contribution": _VALUE, "value": _VALUE}),
    },
}


def _json_value(x: Any) -> Any:
    """A number or nested lists; non-finite entries as the strings JSON lacks numbers for;
    a complex number as ``{"re": ..., "im": ...}``."""
    a = np.asarray(x)
    if a.dtype.kind == "c":
        return _paired(_json_value(a.real), _json_value(a.imag))
    a = a.astype(float)
    if np.all(np.isfinite(a)):
        return a.tolist()
    return np.vectorize(lambda v: v if math.isfinite(v) else format_number(v),
                        otypes=[object])(a).tolist()


def _paired(re: Any, im: Any) -> Any:
    if isinstance(re, list):
        return [_paired(r, i) for r, i in zip(re, im)]
    return {"re": re, "im": im}


def _json_node(trace: Trace, s: Step) -> dict[str, Any]:
    adjoint = trace.adjoints.get(s.id)
    return {"id": s.id, "label": s.label, "name": s.name, "op": s.op,
            "inputs": list(s.inputs), "operands": [o.text for o in s.operands],
            "params": dict(s.params), "expression": s.expression,
            "tangent_rule": s.tangent_rule, "shape": list(np.shape(s.primal)),
            "primal": _json_value(s.primal), "tangent": _json_value(s.tangent),
            "adjoint": None if adjoint is None else _json_value(adjoint)}


def _json_document(trace: Trace) -> dict[str, Any]:
    return {
        "schema": "dualad.trace/1",
        "function": trace.function,
        "inputs": [s.id for s in trace.inputs],
        "outputs": [{"name": o.name, "node": o.node, "value": _json_value(o.value),
                     "seed": _json_value(o.seed)} for o in trace.outputs],
        "direction": {k: _json_value(v) for k, v in trace.direction.items()},
        "nodes": [_json_node(trace, s) for s in trace.steps],
        "adjoint_steps": [{"target": a.target, "source": a.source, "rule": a.rule,
                           "accumulates": bool(a.accumulates),
                           "contribution": _json_value(a.contribution),
                           "value": _json_value(a.value)} for a in trace.adjoint_steps],
    }


def to_json(trace: Trace, *, indent: int | None = 2) -> str:
    """The whole trace as JSON, valid against :data:`JSON_SCHEMA` (layout in the module doc).

    JSON is data, not a table: values are exact (float64, not rounded to ``digits``) and
    every trace is included whatever the ``mode``, so that the documents of one version all
    have the same shape.

    Parameters
    ----------
    trace : Trace
    indent : int or None
        As in :func:`json.dumps`.

    Returns
    -------
    str

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> doc = json.loads(to_json(example_trace()))
    >>> doc["schema"], doc["nodes"][1]["expression"], doc["nodes"][1]["adjoint"]
    ('dualad.trace/1', 'sin x', 1.0)
    """
    # allow_nan=False: a non-finite float that slipped through fails here, not in a reader
    return json.dumps(_json_document(trace), indent=indent, allow_nan=False)


# --------------------------------------------------------------------------- DOT


def _dot_escape(text: str) -> str:
    """Text for a double-quoted DOT string, shown literally (``\\l``/``\\n`` too)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _dot_id(node: int) -> str:
    return f"s{node}" if node >= 0 else f"s_m{-node}"


def _dot_lines(trace: Trace, s: Step, mode: str, fmt: Callable[[Any], str]) -> list[str]:
    lines = [f"{s.label} = {s.expression}" if s.expression != s.label else s.label,
             f"primal {fmt(s.primal)}"]
    if mode != "reverse":
        lines.append(f"tangent {fmt(s.tangent)}")
    if mode != "forward" and s.id in trace.adjoints:
        lines.append(f"adjoint {fmt(trace.adjoints[s.id])}")
    return lines


def _dot_operand(s: Step, k: int, operand: Operand, flow: str | None = None) -> list[str]:
    if operand.node is not None:
        label = f' [label="{_dot_escape(flow)}", fontname="Courier"]' if flow else ""
        return [f"  {_dot_id(operand.node)} -> {_dot_id(s.id)}{label};"]
    const = f"c{_dot_id(s.id)[1:]}_{k}"  # a constant belongs to the step that reads it
    return [f'  {const} [shape=plaintext, label="{_dot_escape(operand.text)}"];',
            f"  {const} -> {_dot_id(s.id)};"]


def _dot_step(trace: Trace, s: Step, mode: str, fmt: Callable[[Any], str],
              flows: dict[tuple[int, int], list[AdjointStep]]) -> list[str]:
    # `\l` ends each line left-justified; escaping comes first so it stays a line break
    label = "".join(_dot_escape(line) + "\\l" for line in _dot_lines(trace, s, mode, fmt))
    style = ", style=bold" if s.is_input else ""
    lines = [f'  {_dot_id(s.id)} [label="{label}"{style}];']
    for k, operand in enumerate(s.operands):
        flow = None
        if mode != "forward" and operand.node is not None and flows.get((operand.node, s.id)):
            step = flows[(operand.node, s.id)].pop(0)  # one per argument, in argument order
            flow = f"{trace.step(operand.node).label}_bar += {fmt(step.contribution)}"
        lines += _dot_operand(s, k, operand, flow)
    return lines


def _flows(trace: Trace) -> dict[tuple[int, int], list[AdjointStep]]:
    """The adjoint contributions along each edge (target, source), in the order they ran."""
    flows: dict[tuple[int, int], list[AdjointStep]] = {}
    for step in trace.adjoint_steps:
        flows.setdefault((step.target, step.source), []).append(step)
    return flows


def _dot_output(i: int, o: Output, fmt: Callable[[Any], str]) -> list[str]:
    if o.node is None:  # a constant output depends on no step
        return [f'  o{i} [shape=ellipse, label="{_dot_escape(f"{o.name} = {fmt(o.value)}")}"];']
    return [f'  o{i} [shape=ellipse, label="{_dot_escape(o.name)}"];',
            f"  {_dot_id(o.node)} -> o{i};"]


def to_dot(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """The computational graph as Graphviz DOT: a box per step, an edge per operand.

    Each box shows the step's rule and its primal, tangent and adjoint (as ``mode`` asks);
    in reverse mode each edge carries the adjoint contribution that flows back along it
    (``v0_bar += -0.284``); constants are small plaintext nodes, outputs ellipses. Save
    or render it with :func:`write_graph`.

    Parameters
    ----------
    trace : Trace
    mode : {"both", "forward", "reverse"}
    digits : int

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown mode or a bad number of digits.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> dot = to_dot(example_trace())
    >>> print(dot.splitlines()[6])
      s1 [label="v1 = sin x\\lprimal 0.479\\ltangent 0.878\\ladjoint 1\\l"];
    >>> print(dot.splitlines()[7])
      s0 -> s1 [label="x_bar += 0.878", fontname="Courier"];
    >>> "s1 -> o0;" in dot
    True
    """
    _choose(mode, MODES, "mode")
    fmt = partial(format_value, digits=_check_digits(digits))
    lines = ["digraph trace {", "  rankdir=LR;", "  labelloc=t;",
             f'  label="{_dot_escape(f"f = {trace.function}")}";',
             '  node [shape=box, fontname="Courier"];']
    flows = _flows(trace)
    for s in trace.steps:
        lines += _dot_step(trace, s, mode, fmt, flows)
    for i, o in enumerate(trace.outputs):
        lines += _dot_output(i, o, fmt)
    return "\n".join(lines + ["}"])


def _run_dot(dot_source: str, path: Path) -> None:
    exe = shutil.which("dot")
    if exe is None:
        raise InvalidArgumentError(
            f"cannot write {path}: Graphviz's `dot` was not found on PATH. Install Graphviz "
            "(https://graphviz.org/download/, e.g. `apt install graphviz`) or write a .dot "
            "file instead")
    try:  # no shell: the path is passed as one argument, whatever characters it holds
        done = subprocess.run([exe, f"-T{path.suffix[1:].lower()}", "-o", str(path)],
                              input=dot_source.encode(), capture_output=True, timeout=120,
                              check=False)
    except subprocess.TimeoutExpired as err:
        raise GraphvizError(f"Graphviz's dot took over {err.timeout} s to render {path}; "
                            "write a .dot file instead") from None
    except OSError as err:  # found on PATH but not runnable (permissions, broken install)
        raise GraphvizError(f"could not run Graphviz's dot ({exe}): {err}; reinstall "
                            "Graphviz or write a .dot file instead") from None
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise GraphvizError(f"Graphviz's dot failed (exit status {done.returncode}) to "
                            f"render {path}: {stderr}")


def write_graph(dot_source: str, path: str | Path) -> None:
    """Save DOT source: as text (``.dot``, ``.gv``) or rendered by Graphviz (``.svg``,
    ``.png``, ``.pdf``, with ``dot -T<format> -o path``).

    Parameters
    ----------
    dot_source : str
        From :func:`to_dot` (``trace.render("dot")``).
    path : str or Path
        The file; its suffix picks the format.

    Raises
    ------
    InvalidArgumentError
        For another suffix, or when an image is asked for and Graphviz's ``dot`` is not
        installed.
    GraphvizError
        When ``dot`` fails; the message includes what it printed.

    Examples
    --------
    >>> import tempfile, os
    >>> from dualad.traces.record import example_trace
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_graph(to_dot(example_trace()), os.path.join(tmp, "trace.dot"))
    ...     open(os.path.join(tmp, "trace.dot")).read().startswith("digraph trace {")
    True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise InvalidArgumentError(
            f"cannot write a graph to {path}: its suffix {suffix or '(none)'!s} is none of "
            f"{', '.join(GRAPH_SUFFIXES)}; name the file e.g. trace.svg or trace.dot")
    if suffix in (".dot", ".gv"):
        path.write_text(dot_source + "\n", encoding="utf-8")
    else:
        _run_dot(dot_source, path)


# --------------------------------------------------------------------------- entry point


def _json_format(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """:func:`to_json` with ``mode`` and ``digits`` checked like the other formats' (JSON
    holds every trace, with exact values, whatever they say)."""
    _choose(mode, MODES, "mode")
    _check_digits(digits)
    return to_json(trace)


def _python_format(trace: Trace, *, mode: str = "both", digits: int = 3) -> str:
    """:func:`~dualad.traces.python_source.to_python` with ``mode`` and ``digits`` checked
    like the other formats' (the program holds exact values, whatever ``digits`` says)."""
    _choose(mode, MODES, "mode")
    _check_digits(digits)
    return to_python(trace, mode=mode, digits=digits)


@dataclass(frozen=True)
class Format:
    """An output format: its renderer and the file extensions it owns.

    ``render(trace, mode=..., digits=...)`` returns the text; ``extensions`` (lower case,
    with their dot) are the file names that mean this format, so that ``dualad trace -o
    trace.md`` writes Markdown. The ``dot`` format's images (``.svg``, ``.png``, ``.pdf``)
    are rendered by Graphviz (:func:`write_graph`).
    """

    render: Callable[..., str]
    extensions: tuple[str, ...]


#: Every output format by name: the one table that :func:`render` and ``dualad trace`` read.
FORMATS: dict[str, Format] = {
    "text": Format(to_text, (".txt",)),
    "markdown": Format(to_markdown, (".md", ".markdown")),
    "latex": Format(to_latex, (".tex",)),
    "json": Format(_json_format, (".json",)),
    "dot": Format(to_dot, GRAPH_SUFFIXES),
    "html": Format(to_html, (".html", ".htm")),
    "python": Format(_python_format, (".py",)),
}


def format_for_file(path: str | Path) -> str | None:
    """The name of the format that owns ``path``'s extension (any case), or None.

    >>> format_for_file("out/trace.MD"), format_for_file("graph.svg"), format_for_file("a.b")
    ('markdown', 'dot', None)
    """
    suffix = Path(path).suffix.lower()
    return next((name for name, f in FORMATS.items() if suffix in f.extensions), None)


def render(trace: Trace, format: str = "text", *, mode: str = "both",  # noqa: A002
           digits: int = 3) -> str:
    """The trace in one of :data:`FORMATS` (what ``Trace.render`` and ``dualad trace`` call).

    Parameters
    ----------
    trace : Trace
    format : {"text", "markdown", "latex", "json", "dot", "html", "python"}
    mode : {"both", "forward", "reverse"}
        forward: primal and tangent traces; reverse: primal and adjoint traces; both: the
        three. JSON always holds everything (the mode is still checked).
    digits : int
        Decimals shown, 0 to 17 (JSON holds exact values).

    Returns
    -------
    str

    Raises
    ------
    InvalidArgumentError
        For an unknown format or mode, or a bad number of digits; the message lists the
        choices.

    Examples
    --------
    >>> from dualad.traces.record import example_trace
    >>> print(render(example_trace(), mode="forward", digits=5).splitlines()[-1])
      y_dot  = v1_dot                = 0.87758
    >>> render(example_trace(), "xml")
    Traceback (most recent call last):
    ...
    dualad.errors.InvalidArgumentError: unknown format 'xml': write one of 'text', \
'markdown', 'latex', 'json', 'dot', 'html', 'python'
    """
    _choose(format, tuple(FORMATS), "format")
    return FORMATS[format].render(trace, mode=mode, digits=digits)
