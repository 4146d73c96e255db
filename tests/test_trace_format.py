"""The formatters of a trace (dualad/traces/formats.py) on traces built by hand.

The traces are the lecture's example (Baydin et al. 2018, Tables 2 and 3), the
forum's tanh network (with the user's own variable names), a small array-valued one
and a few edge cases. Their numbers come from the steps' rules evaluated with NumPy; the tests
compare what the formatters print with independent references: JAX's derivatives, closed
forms and the numbers the lecture and the forum quote.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import stat
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import jsonschema
import numpy as np
import pydot
import pytest

import dualad
from dualad.errors import DualadError, InvalidArgumentError
from dualad.traces.formats import (
    FORMATS,
    JSON_SCHEMA,
    GraphvizError,
    format_for_file,
    format_number,
    format_value,
    latex_math,
    render,
    to_dot,
    to_html,
    to_json,
    to_latex,
    to_markdown,
    to_text,
    write_graph,
)
from dualad.traces.record import AdjointStep, Operand, Output, Step, Trace

jax.config.update("jax_enable_x64", True)
# pydot's parser uses pyparsing names that newer pyparsing deprecates: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:'setParseAction' deprecated")

A = np.asarray


# --------------------------------------------------------------------------- traces


def make_trace(function, inputs, steps, outputs, adjoint_steps, direction):
    """A Trace from plain tuples.

    inputs: (label, name, primal, tangent); steps: (label, name, op, operands, expression,
    tangent_rule, primal, tangent) with operands as labels of earlier steps or constant
    texts; outputs: (name, label or None, value); adjoint_steps: (target label, source
    label, rule, contribution), in the order the reverse pass runs (accumulates and the
    running value are worked out here).
    """
    ids = {label: i - len(inputs) + 1 for i, (label, *_) in enumerate(inputs)}
    records = [Step(ids[lab], lab, name, "input", (), (), name, f"{name}_dot", A(p), A(t))
               for lab, name, p, t in inputs]
    for label, name, op, operands, expr, rule, p, t in steps:
        ids[label] = len(records) - len(inputs) + 1
        ops = tuple(Operand(o, ids.get(o)) for o in operands)
        records.append(Step(ids[label], label, name, op, ops, (), expr, rule, A(p), A(t)))
    outs = tuple(Output(name, ids.get(lab) if lab else None, A(v), A(1.0))
                 for name, lab, v in outputs)
    adjoints: dict = {}
    for o in outs:
        if o.node is not None:  # outputs that share a step add their seeds
            adjoints[o.node] = adjoints.get(o.node, 0.0) + o.seed
    adjoint_records = []
    for target, source, rule, contribution in adjoint_steps:
        t_id = ids[target]
        accumulates = t_id in adjoints
        adjoints[t_id] = adjoints[t_id] + contribution if accumulates else A(contribution)
        adjoint_records.append(AdjointStep(t_id, ids[source], rule, accumulates,
                                           A(contribution), adjoints[t_id]))
    return Trace(function, tuple(records), outs, direction, tuple(adjoint_records), adjoints)


def lecture_trace() -> Trace:
    """f(x1, x2) = ln(x1) + x1 x2 - sin(x2) at (2, 5), seeds x1_dot = 1, x2_dot = 0, y_bar = 1."""
    x1, x2, d1, d2 = 2.0, 5.0, 1.0, 0.0
    v1, v2, v3 = np.log(x1), x1 * x2, np.sin(x2)
    v4 = v1 + v2
    t1, t2, t3 = d1 / x1, d1 * x2 + d2 * x1, d2 * np.cos(x2)
    b5 = 1.0
    b4, b3 = b5 * 1, b5 * (-1)
    b1, b2 = b4 * 1, b4 * 1
    return make_trace(
        "log(x1) + x1*x2 - sin(x2)",
        [("v_-1", "x1", x1, d1), ("v0", "x2", x2, d2)],
        [("v1", None, "log", ["v_-1"], "ln v_-1", "v_-1_dot / v_-1", v1, t1),
         ("v2", None, "multiply", ["v_-1", "v0"], "v_-1 * v0",
          "v_-1_dot * v0 + v0_dot * v_-1", v2, t2),
         ("v3", None, "sin", ["v0"], "sin v0", "v0_dot * cos v0", v3, t3),
         ("v4", None, "add", ["v1", "v2"], "v1 + v2", "v1_dot + v2_dot", v4, t1 + t2),
         ("v5", None, "subtract", ["v4", "v3"], "v4 - v3", "v4_dot - v3_dot", v4 - v3,
          t1 + t2 - t3)],
        [("y", "v5", v4 - v3)],
        [("v4", "v5", "v5_bar * 1", b4), ("v3", "v5", "v5_bar * (-1)", b3),
         ("v1", "v4", "v4_bar * 1", b1), ("v2", "v4", "v4_bar * 1", b2),
         ("v0", "v3", "v3_bar * cos v0", b3 * np.cos(x2)),
         ("v_-1", "v2", "v2_bar * v0", b2 * x2), ("v0", "v2", "v2_bar * v_-1", b2 * x1),
         ("v_-1", "v1", "v1_bar / v_-1", b1 / x1)],
        {"x1": A(d1), "x2": A(d2)})


def tanh_net_trace() -> Trace:
    """The forum's tanh network: y2 = w_y tanh(w_h tanh(w_h h0)), h0 = 0.5, the user's names
    for the steps."""
    w_h, w_y, h0 = 2.0, 40.0, 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    d1 = h0  # tangents along w_h
    dh1 = d1 * (1 - h1**2)
    d2 = h1 + dh1 * w_h
    dh2 = d2 * (1 - h2**2)
    b_h2 = w_y
    b_h2_raw = b_h2 * (1 - h2**2)
    b_h1 = b_h2_raw * w_h
    b_h1_raw = b_h1 * (1 - h1**2)
    return make_trace(
        "tanh_chain.py:f",
        [("w_h", "w_h", w_h, 1.0), ("w_y", "w_y", w_y, 0.0)],
        [("h1_raw", "h1_raw", "multiply", ["w_h", "0.5"], "w_h * 0.5", "w_h_dot * 0.5",
          h1_raw, d1),
         ("h1", "h1", "tanh", ["h1_raw"], "tanh h1_raw", "h1_raw_dot * (1 - h1**2)", h1, dh1),
         ("h2_raw", "h2_raw", "multiply", ["w_h", "h1"], "w_h * h1",
          "w_h_dot * h1 + h1_dot * w_h", h2_raw, d2),
         ("h2", "h2", "tanh", ["h2_raw"], "tanh h2_raw", "h2_raw_dot * (1 - h2**2)", h2, dh2),
         ("y2", "y2", "multiply", ["w_y", "h2"], "w_y * h2", "w_y_dot * h2 + h2_dot * w_y",
          w_y * h2, w_y * dh2)],
        [("y", "y2", w_y * h2)],
        [("h2", "y2", "y2_bar * w_y", b_h2), ("w_y", "y2", "y2_bar * h2", h2),
         ("h2_raw", "h2", "h2_bar * (1 - h2**2)", b_h2_raw),
         ("h1", "h2_raw", "h2_raw_bar * w_h", b_h1), ("w_h", "h2_raw", "h2_raw_bar * h1",
                                                      b_h2_raw * h1),
         ("h1_raw", "h1", "h1_bar * (1 - h1**2)", b_h1_raw),
         ("w_h", "h1_raw", "h1_raw_bar * 0.5", b_h1_raw * h0)],
        {"w_h": A(1.0), "w_y": A(0.0)})


def array_trace(x=(0.5, 1.0, 2.0)) -> Trace:
    """y = sum(h), h = tanh(2 x), x an array, seeded x_dot = e_0."""
    x = A(x, dtype=float)
    dx = np.zeros_like(x)
    dx[0] = 1.0
    h = np.tanh(x * 2.0)
    ones = np.ones_like(x)
    return make_trace(
        "sum(tanh(x * 2))",
        [("x", "x", x, dx)],
        [("v1", None, "multiply", ["x", "2"], "x * 2", "x_dot * 2", x * 2, dx * 2),
         ("h", "h", "tanh", ["v1"], "tanh v1", "v1_dot * (1 - h**2)", h, 2 * dx * (1 - h**2)),
         ("v3", None, "sum", ["h"], "sum(h)", "sum(h_dot)", h.sum(), (2 * dx * (1 - h**2)).sum())],
        [("y", "v3", h.sum())],
        [("h", "v3", "v3_bar * ones(3)", ones), ("v1", "h", "h_bar * (1 - h**2)", 1 - h**2),
         ("x", "v1", "v1_bar * 2", 2 * (1 - h**2))],
        {"x": dx})


def log_trace() -> Trace:
    """y1 = log(x) at x = 0 (non-finite), y2 = y1 too, y3 = 3 (a constant); u is unused."""
    x = 0.0
    with np.errstate(divide="ignore"):
        v1, t1, b = np.log(x), 1.0 / A(x), 2.0 / A(x)
    return make_trace(
        "log(x)", [("v_-1", "x", x, 1.0), ("v0", "u", 1.0, 0.0)],
        [("v1", None, "log", ["v_-1"], "ln v_-1", "v_-1_dot / v_-1", v1, t1)],
        [("y1", "v1", v1), ("y2", "v1", v1), ("y3", None, 3.0)],
        [("v_-1", "v1", "v1_bar / v_-1", b)], {"x": A(1.0), "u": A(0.0)})


def squash(text: str) -> list[str]:
    """Lines with runs of spaces collapsed: what the brief quotes in prose."""
    return [re.sub(r" +", " ", line.strip()) for line in text.splitlines()]


# --------------------------------------------------------------------------- references

LECTURE_Y = np.log(2.0) + 2.0 * 5.0 - np.sin(5.0)


def lecture_jax_gradient():
    f = lambda x1, x2: jnp.log(x1) + x1 * x2 - jnp.sin(x2)
    return [float(g) for g in jax.grad(f, argnums=(0, 1))(2.0, 5.0)]


def test_lecture_trace_matches_closed_forms_and_jax():
    """The hand-built trace is right: its numbers agree with JAX and the closed forms."""
    t = lecture_trace()
    g1, g2 = lecture_jax_gradient()
    assert t.gradient["x1"] == pytest.approx(1 / 2.0 + 5.0, abs=1e-15) == g1
    assert t.gradient["x2"] == pytest.approx(2.0 - np.cos(5.0), abs=1e-15)
    assert float(t.gradient["x2"]) == pytest.approx(g2, abs=1e-15)
    assert float(t.output_tangents["y"]) == pytest.approx(g1, abs=1e-15)
    assert float(t.outputs[0].value) == pytest.approx(LECTURE_Y, abs=1e-15)


def test_tanh_net_trace_matches_seed_001_and_jax():
    t = tanh_net_trace()
    f = lambda w_h, w_y: w_y * jnp.tanh(w_h * jnp.tanh(w_h * 0.5))
    g_h, g_y = jax.grad(f, argnums=(0, 1))(2.0, 40.0)
    assert float(t.gradient["w_h"]) == pytest.approx(float(g_h), rel=1e-14)
    assert float(t.gradient["w_y"]) == pytest.approx(float(g_y), rel=1e-14)
    assert round(float(g_h), 4) == 8.1888 and round(float(g_y), 4) == 0.9093  # the forum's


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(("x", "digits", "expected"), [
    (2.0, 3, "2"), (0.5, 3, "0.5"), (10.0 + np.log(2.0), 3, "10.693"),
    (np.sin(5.0), 3, "-0.959"), (LECTURE_Y, 3, "11.652"), (LECTURE_Y, 5, "11.65207"),
    (1.23456e-5, 3, "1.23e-05"), (1e-5, 3, "1e-05"), (-1e-9, 3, "-1e-09"),
    (1e6, 3, "1e+06"), (1234567.0, 3, "1.23e+06"), (999999.0, 3, "999999"),
    (0.001, 3, "0.001"), (0.0009, 3, "9e-04"), (-0.0001, 3, "-1e-04"),
    (float("nan"), 3, "nan"), (float("inf"), 3, "inf"), (float("-inf"), 3, "-inf"),
    (-0.0, 3, "0"), (0.0, 3, "0"), (2.4, 0, "2"), (1.5, 1, "1.5"), (np.float32(0.5), 3, "0.5"),
    (np.int64(7), 3, "7"), (True, 3, "1"),
])
def test_format_number(x, digits, expected):
    assert format_number(x, digits) == expected


@pytest.mark.parametrize(("x", "expected"), [
    (A(0.5), "0.5"),
    (A([0.5, 1.0, 2.0]), "(3,) [0.5, 1, 2]"),
    (np.arange(1.0, 7.0).reshape(2, 3), "(2, 3) [[1, 2, 3], [4, 5, 6]]"),
    (np.arange(1000.0), "(1000,) [0, 1, 2, ..., 997, 998, 999]"),
    (np.linspace(0.1, 1.0, 10), "(10,) [0.1, 0.2, 0.3, ..., 0.8, 0.9, 1]"),
    (np.zeros(0), "(0,) []"),
    (A([np.nan, -np.inf, 1e-7]), "(3,) [nan, -inf, 1e-07]"),
    (np.arange(8.0).reshape(2, 2, 2), "(2, 2, 2) [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]"),
])
def test_format_value(x, expected):
    assert format_value(x) == expected


def test_format_value_abbreviates_every_axis_on_one_line():
    text = format_value(np.arange(10000.0).reshape(100, 100))
    assert "\n" not in text and text.startswith("(100, 100) [[0, 1, 2, ..., 97, 98, 99], ")
    rows = re.findall(r"\[[^\[\]]*\]", text)
    assert len(rows) == 6 and all(len(r.split(", ")) == 7 for r in rows)  # 6 values + ...
    assert "298, 299], ..., [9700, 9701, 9702, ..., 9797, 9798, 9799], [9800," in text
    assert text.endswith("[9900, 9901, 9902, ..., 9997, 9998, 9999]]")


# --------------------------------------------------------------------------- text

LECTURE_TEXT = """\
f = log(x1) + x1*x2 - sin(x2)   at x1 = 2, x2 = 5

Forward primal trace
  v_-1 = x1          = 2
  v0   = x2          = 5
  v1   = ln v_-1     = 0.693
  v2   = v_-1 * v0   = 10
  v3   = sin v0      = -0.959
  v4   = v1 + v2     = 10.693
  v5   = v4 - v3     = 11.652
  y    = v5          = 11.652

Forward tangent trace   (seed: x1_dot = 1, x2_dot = 0)
  v_-1_dot = x1_dot                          = 1
  v0_dot   = x2_dot                          = 0
  v1_dot   = v_-1_dot / v_-1                 = 0.5
  v2_dot   = v_-1_dot * v0 + v0_dot * v_-1   = 5
  v3_dot   = v0_dot * cos v0                 = 0
  v4_dot   = v1_dot + v2_dot                 = 5.5
  v5_dot   = v4_dot - v3_dot                 = 5.5
  y_dot    = v5_dot                          = 5.5

Reverse adjoint trace   (seed: y_bar = 1)
  v5_bar   = y_bar                           = 1
  v4_bar   = v5_bar * 1                      = 1
  v3_bar   = v5_bar * (-1)                   = -1
  v1_bar   = v4_bar * 1                      = 1
  v2_bar   = v4_bar * 1                      = 1
  v0_bar   = v3_bar * cos v0                 = -0.284
  v_-1_bar = v2_bar * v0                     = 5
  v0_bar   = v0_bar + v2_bar * v_-1          = 1.716
  v_-1_bar = v_-1_bar + v1_bar / v_-1        = 5.5
  x1_bar   = v_-1_bar                        = 5.5
  x2_bar   = v0_bar                          = 1.716

gradient: x1_bar = 5.5, x2_bar = 1.716"""

# The lines the brief shows (verbatim), which the golden text above must contain.
BRIEF_LINES = """\
  v_-1 = x1          = 2
  v3   = sin v0      = -0.959
  y    = v5          = 11.652
  v_-1_dot = x1_dot                          = 1
  v2_dot   = v_-1_dot * v0 + v0_dot * v_-1   = 5
  y_dot    = v5_dot                          = 5.5
  v5_bar   = y_bar                           = 1
  v3_bar   = v5_bar * (-1)                   = -1
  v0_bar   = v3_bar * cos v0                 = -0.284
  v_-1_bar = v_-1_bar + v1_bar / v_-1        = 5.5
  x2_bar   = v0_bar                          = 1.716""".splitlines()


def test_text_golden_lecture():
    assert to_text(lecture_trace()) == LECTURE_TEXT
    assert set(BRIEF_LINES) <= set(LECTURE_TEXT.splitlines())


def test_text_gradient_and_values_agree_with_jax():
    g1, g2 = lecture_jax_gradient()
    for digits in (3, 6, 10):
        lines = squash(to_text(lecture_trace(), digits=digits))
        assert lines[-1] == (f"gradient: x1_bar = {format_number(g1, digits)}, "
                             f"x2_bar = {format_number(g2, digits)}")
        assert f"y = v5 = {format_number(LECTURE_Y, digits)}" in lines


def test_text_digits_changes_values():
    lines = squash(to_text(lecture_trace(), digits=5))
    assert "v5 = v4 - v3 = 11.65207" in lines
    assert "v0_bar = v3_bar * cos v0 = -0.28366" in lines
    assert "gradient: x1_bar = 5.5, x2_bar = 1.71634" in lines
    assert "v1 = ln v_-1 = 0.69315" in lines


def test_text_modes():
    t = lecture_trace()
    forward, reverse = to_text(t, mode="forward"), to_text(t, mode="reverse")
    assert "Forward tangent trace" in forward and "Reverse adjoint trace" not in forward
    assert "_bar" not in forward and "gradient" not in forward
    assert "Reverse adjoint trace" in reverse and "Forward tangent trace" not in reverse
    assert "_dot" not in reverse and reverse.endswith("gradient: x1_bar = 5.5, x2_bar = 1.716")
    # Without the tangent table the adjoint table is aligned on its own widths.
    assert "  v0_bar   = v3_bar * cos v0            = -0.284" in reverse.splitlines()
    assert forward.splitlines()[:12] == LECTURE_TEXT.splitlines()[:12]


def test_text_user_names_seed_001():
    lines = squash(to_text(tanh_net_trace()))
    assert lines[0] == "f = tanh_chain.py:f at w_h = 2, w_y = 40"
    for line in ("w_h = 2", "h1 = tanh h1_raw = 0.762", "h1_raw = w_h * 0.5 = 1",
                 "w_h_dot = 1", "h1_dot = h1_raw_dot * (1 - h1**2) = 0.21",
                 "w_h_bar = h2_raw_bar * h1 = 5.278", "w_y_bar = y2_bar * h2 = 0.909",
                 "w_h_bar = w_h_bar + h1_raw_bar * 0.5 = 8.189", "w_h_bar = 8.189",
                 "gradient: w_h_bar = 8.189, w_y_bar = 0.909"):
        assert line in lines


def test_text_arrays():
    t = array_trace()
    h = np.tanh(2 * A([0.5, 1.0, 2.0]))
    grad = jax.grad(lambda x: jnp.sum(jnp.tanh(x * 2)))(jnp.array([0.5, 1.0, 2.0]))
    lines = squash(to_text(t))
    assert lines[0] == "f = sum(tanh(x * 2)) at x = (3,) [0.5, 1, 2]"
    assert f"h = tanh v1 = {format_value(h)}" in lines
    assert "x_dot = (3,) [1, 0, 0]" in lines
    assert f"v3 = sum(h) = {format_number(h.sum())}" in lines
    assert f"x_bar = v1_bar * 2 = {format_value(np.asarray(grad))}" in lines
    assert lines[-1] == f"gradient: x_bar = {format_value(np.asarray(grad))}"


def test_text_large_array_header_and_rows_stay_short():
    text = to_text(array_trace(np.linspace(0.1, 1.0, 1000)))
    assert text.splitlines()[0] == "f = sum(tanh(x * 2))   at x = (1000,) array"
    assert "  x  = (1000,) [0.1, 0.101, 0.102, ..., 0.998, 0.999, 1]" in text.splitlines()
    assert max(map(len, text.splitlines())) < 120


def test_text_non_finite_note_multiple_and_constant_outputs():
    t = log_trace()
    lines = squash(to_text(t))
    assert "v1 = ln v_-1 = -inf" in lines and "v1_dot = v_-1_dot / v_-1 = inf" in lines
    assert "v1_bar = y1_bar + y2_bar = 2" in lines  # two outputs seed the same step
    assert "y3 = 3" in lines and "y3_dot = 0" in lines  # a constant output
    assert "u_bar = 0" in lines  # an input no output depends on: adjoint 0, no v0_bar
    assert "gradient: x_bar = inf, u_bar = 0" in lines
    assert lines[-1] == "note: non-finite values in v1 (primal, tangent), v_-1 (adjoint)"
    assert squash(to_text(t, mode="forward"))[-1] == \
        "note: non-finite values in v1 (primal, tangent)"
    assert squash(to_text(t, mode="reverse"))[-1] == \
        "note: non-finite values in v1 (primal), v_-1 (adjoint)"


@pytest.mark.parametrize("key", ["x1", "v_-1", "x1_dot"])
def test_tangent_seed_line_accepts_direction_keyed_by_name_label_or_symbol(key):
    t = lecture_trace()
    t = Trace(t.function, t.steps, t.outputs, {key: A(1.0)}, t.adjoint_steps, t.adjoints)
    assert "Forward tangent trace   (seed: x1_dot = 1)" in to_text(t).splitlines()


def test_trace_methods_use_the_formatters():
    t = lecture_trace()
    assert str(t) == LECTURE_TEXT
    assert t.render("latex", mode="reverse", digits=4) == to_latex(t, mode="reverse", digits=4)
    assert t._repr_markdown_() == to_markdown(t)
    assert t._repr_html_() == to_html(t)


# --------------------------------------------------------------------------- arguments


FORMAT_CHOICES = ("'text'", "'markdown'", "'latex'", "'json'", "'dot'", "'html'")
MODE_CHOICES = ("'forward'", "'reverse'", "'both'")


@pytest.mark.parametrize(("kwargs", "bad", "choices"), [
    ({"format": "xml"}, "format 'xml'", FORMAT_CHOICES),
    ({"format": "TEXT"}, "format 'TEXT'", FORMAT_CHOICES),
    ({"mode": "fwd"}, "mode 'fwd'", MODE_CHOICES),
    ({"format": "dot", "mode": "all"}, "mode 'all'", MODE_CHOICES),
    ({"format": "json", "mode": "sideways"}, "mode 'sideways'", MODE_CHOICES),
])
def test_unknown_format_or_mode_lists_the_choices(kwargs, bad, choices):
    with pytest.raises(InvalidArgumentError) as err:
        render(lecture_trace(), **kwargs)
    assert isinstance(err.value, ValueError) and isinstance(err.value, DualadError)
    assert f"unknown {bad}" in str(err.value)
    assert all(c in str(err.value) for c in choices)


@pytest.mark.parametrize("digits", [-1, 18, 2.5, True, "3"])
@pytest.mark.parametrize("name", ["text", "dot", "json", "latex"])
def test_bad_digits(name, digits):
    with pytest.raises(InvalidArgumentError, match="integer from 0 to 17"):
        render(lecture_trace(), name, digits=digits)


def test_render_dispatches():
    t = array_trace()
    assert render(t) == to_text(t)
    assert render(t, "markdown", mode="forward") == to_markdown(t, mode="forward")
    assert render(t, "dot", digits=2) == to_dot(t, digits=2)
    assert render(t, "json") == to_json(t)
    assert render(t, "html") == to_html(t)


def test_one_table_of_formats_renders_and_owns_the_extensions():
    for name, fmt in FORMATS.items():
        # the python format writes code: it needs the constants' values that only records
        # made by dualad.trace hold (tests/test_trace_python.py)
        t = array_trace() if name != "python" else dualad.trace(
            lambda x: np.sum(np.tanh(x * 2.0)), np.array([0.5, 1.0, 2.0]))
        assert render(t, name, digits=2) == fmt.render(t, mode="both", digits=2)
        assert fmt.extensions and all(e.startswith(".") and e == e.lower()
                                      for e in fmt.extensions)
        assert all(format_for_file(f"out/trace{e.upper()}") == name for e in fmt.extensions)
    owned = [e for fmt in FORMATS.values() for e in fmt.extensions]
    assert len(owned) == len(set(owned))  # an extension means one format
    assert format_for_file("trace.log") is None and format_for_file("trace") is None


# --------------------------------------------------------------------------- markdown


def _cells(row: str) -> list[str]:
    """A GitHub table row split on its unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_markdown_lecture():
    md = to_markdown(lecture_trace())
    lines = md.splitlines()
    assert lines[0] == "**f** = `log(x1) + x1*x2 - sin(x2)` at `x1 = 2`, `x2 = 5`"
    headings = [line for line in lines if line.startswith("### ")]
    assert headings == ["### Forward primal trace",
                        "### Forward tangent trace (seed: `x1_dot = 1`, `x2_dot = 0`)",
                        "### Reverse adjoint trace (seed: `y_bar = 1`)"]
    for line in ("| 5 | `v5 = v4 - v3` | 11.652 |", "| y | `y_dot = v5_dot` | 5.5 |",
                 "| 3 | `v0_bar = v3_bar * cos v0` | -0.284 |",
                 "| 2 | `v0_bar = v0_bar + v2_bar * v_-1` | 1.716 |",
                 "| x1 | `x1_bar = v_-1_bar` | 5.5 |"):
        assert line in lines
    assert lines[-1] == "**gradient:** `x1_bar = 5.5`, `x2_bar = 1.716`"


def test_markdown_tables_are_well_formed():
    """Each table: blank line, header, delimiter row, rows with exactly three cells."""
    for trace in (lecture_trace(), array_trace(), log_trace(), tanh_net_trace()):
        lines = to_markdown(trace).splitlines()
        starts = [i for i, line in enumerate(lines) if line == "| step | rule | value |"]
        assert len(starts) == 3
        for i in starts:
            assert lines[i - 1] == "" and lines[i + 1] == "|---:|:---|:---|"
            rows = []
            for line in lines[i + 2:]:
                if not line:
                    break
                rows.append(line)
            assert rows and all(len(_cells(r)) == 3 for r in rows)


def test_markdown_escapes_pipes_and_backticks():
    t = lecture_trace()
    step = t.steps[3]
    odd = Step(step.id, step.label, step.name, step.op, step.operands, step.params,
               "v_-1 | `v0`", step.tangent_rule, step.primal, step.tangent)
    t = Trace(t.function, t.steps[:3] + (odd,) + t.steps[4:], t.outputs, t.direction,
              t.adjoint_steps, t.adjoints)
    row = next(r for r in to_markdown(t).splitlines() if r.startswith("| 2 |"))
    assert _cells(row) == ["2", "`` v2 = v_-1 \\| `v0` ``", "10"]


def test_markdown_modes_and_note():
    md = to_markdown(log_trace(), mode="forward")
    assert md.count("### ") == 2 and "_bar" not in md and "gradient" not in md
    assert md.splitlines()[-1] == \
        "**note:** non-finite values in `v1` (primal, tangent)"
    rev = to_markdown(lecture_trace(), mode="reverse")
    assert rev.count("### ") == 2 and "_dot" not in rev


# --------------------------------------------------------------------------- LaTeX


def _check_latex_balanced(tex: str) -> None:
    """Braces, environments, display math and inline math all close, in order."""
    plain = re.sub(r"\\[{}$]", "", tex)  # escaped braces and dollars are text
    depth = 0
    for c in plain:
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    assert depth == 0
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+\*?)\}", tex):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack.pop() == name
    assert not stack
    marks = re.findall(r"\\[\[\]]", tex)
    assert marks == [r"\[", r"\]"] * (len(marks) // 2)
    for line in plain.splitlines():
        assert line.count("$") % 2 == 0
    assert "%" not in tex.replace(r"\%", "")  # a bare % would comment out the rest


def test_latex_lecture():
    tex = to_latex(lecture_trace())
    _check_latex_balanced(tex)
    assert tex.count(r"\begin{array}{lll}") == 3 == tex.count(r"\end{array}")
    lines = tex.splitlines()
    for line in (r"v_{-1} & = x_{1} & = 2 \\", r"v_{1} & = \ln v_{-1} & = 0.693 \\",
                 r"v_{2} & = v_{-1} \times v_{0} & = 10 \\",
                 r"y & = v_{5} & = 11.652 \\",
                 r"\dot{v}_{1} & = \dot{v}_{-1} / v_{-1} & = 0.5 \\",
                 r"\dot{v}_{3} & = \dot{v}_{0} \times \cos v_{0} & = 0 \\",
                 r"\bar{v}_{0} & = \bar{v}_{3} \times \cos v_{0} & = -0.284 \\",
                 r"\bar{v}_{0} & = \bar{v}_{0} + \bar{v}_{2} \times v_{-1} & = 1.716 \\",
                 r"\bar{v}_{3} & = \bar{v}_{5} \times (-1) & = -1 \\",
                 r"\bar{x}_{1} & = \bar{v}_{-1} & = 5.5 \\",
                 r"\noindent\textbf{gradient:} $\bar{x}_{1} = 5.5,\ \bar{x}_{2} = 1.716$"):
        assert line in lines
    assert lines[0] == (r"\noindent$f = \log (x_{1}) + x_{1} \times x_{2} - \sin (x_{2})$"
                        r"\quad at $x_{1} = 2,\ x_{2} = 5$")
    assert r"(seed: $\dot{x}_{1} = 1,\ \dot{x}_{2} = 0$)" in tex
    assert "11.652" in tex and "5.5" in tex


def test_latex_user_names_arrays_and_non_finite():
    tex = to_latex(tanh_net_trace())
    _check_latex_balanced(tex)
    assert r"\mathit{h1\_raw} & = \mathit{w\_h} \times 0.5 & = 1 \\" in tex
    assert r"\dot{h}_{1} & = \dot{\mathit{h1\_raw}} \times (1 - h_{1}^{2}) & = 0.21" in tex
    assert r"\bar{\mathit{w\_h}} & = \bar{\mathit{w\_h}} + \bar{\mathit{h1\_raw}}" in tex
    arr = to_latex(array_trace(np.linspace(0.1, 1.0, 1000)))
    _check_latex_balanced(arr)
    assert r"(1000,)\; [0.1, 0.101, 0.102, \ldots , 0.998, 0.999, 1]" in arr
    bad = to_latex(log_trace())
    _check_latex_balanced(bad)
    assert r"v_{1} & = \ln v_{-1} & = -\infty \\" in bad
    assert r"non-finite values in $v_{1}$ (primal, tangent)" in bad


@pytest.mark.parametrize(("text", "expected"), [
    ("v_-1_dot * v0", r"\dot{v}_{-1} \times v_{0}"),
    ("v12_bar / v_-3", r"\bar{v}_{12} / v_{-3}"),
    ("y_bar", r"\bar{y}"),
    ("h1_raw_dot", r"\dot{\mathit{h1\_raw}}"),
    ("tanh v1 + exp(v2) - sqrt(v3)", r"\tanh v_{1} + \exp (v_{2}) - \mathrm{sqrt}(v_{3})"),
    ("v0 ** 2", "v_{0} ^ {2}"),
    ("v0 ** -v1 ** 2", "v_{0} ^ {-v_{1} ^ {2}}"),
    ("v0 ** (v1 + 1) * v2", r"v_{0} ^ {(v_{1} + 1)} \times v_{2}"),
    ("exp(v1) ** sin(v2)", r"\exp (v_{1}) ^ {\sin (v_{2})}"),
    ("v1 @ v2", r"v_{1} \cdot v_{2}"),
    ("sum(v1, axis=0)", r"\mathrm{sum}(v_{1}, \mathit{axis}=0)"),
    ("v1 * 2.5e-07", r"v_{1} \times 2.5 \times 10^{-7}"),
    ("pi * v1", r"\pi \times v_{1}"),
    ("einsum('i_j', v1)", r"\mathrm{einsum}(\mathtt{i\_j}, v_{1})"),
])
def test_latex_math(text, expected):
    assert latex_math(text) == expected


@pytest.mark.parametrize("text", ["a_b # $ % & { } ~ ^ \\ é", "v0 **", "x ** ** y",
                                  "((v1 ** (", "f(\"}{\")", "'%'"])
def test_latex_math_escapes_everything(text):
    tex = f"${latex_math(text)}$"
    _check_latex_balanced(tex)
    assert all(" " <= c <= "~" for c in tex)


# --------------------------------------------------------------------------- JSON


def _strict_loads(text: str):
    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("make", [lecture_trace, tanh_net_trace, array_trace, log_trace])
def test_json_validates_against_the_schema(make):
    jsonschema.Draft202012Validator.check_schema(JSON_SCHEMA)
    doc = _strict_loads(to_json(make()))
    jsonschema.validate(doc, JSON_SCHEMA, cls=jsonschema.Draft202012Validator)
    assert json.loads(json.dumps(doc)) == doc


def test_json_lecture_content_exact():
    t = lecture_trace()
    doc = _strict_loads(render(t, "json", mode="forward", digits=1))  # exact values anyway
    assert doc["schema"] == "dualad.trace/1" and doc["function"] == t.function
    assert doc["inputs"] == [-1, 0] and doc["direction"] == {"x1": 1.0, "x2": 0.0}
    assert doc["outputs"] == [{"name": "y", "node": 5, "value": LECTURE_Y, "seed": 1.0}]
    v2 = doc["nodes"][3]
    assert v2 == {"id": 2, "label": "v2", "name": None, "op": "multiply", "inputs": [-1, 0],
                  "operands": ["v_-1", "v0"], "params": {}, "expression": "v_-1 * v0",
                  "tangent_rule": "v_-1_dot * v0 + v0_dot * v_-1", "shape": [],
                  "primal": 10.0, "tangent": 5.0, "adjoint": 1.0}
    g1, g2 = lecture_jax_gradient()
    assert doc["nodes"][0]["adjoint"] == pytest.approx(g1, abs=1e-15)
    assert doc["nodes"][1]["adjoint"] == pytest.approx(g2, abs=1e-15)
    steps = doc["adjoint_steps"]
    assert [(s["target"], s["source"], s["accumulates"]) for s in steps] == [
        (4, 5, False), (3, 5, False), (1, 4, False), (2, 4, False), (0, 3, False),
        (-1, 2, False), (0, 2, True), (-1, 1, True)]
    assert steps[4]["rule"] == "v3_bar * cos v0"
    assert steps[4]["value"] == pytest.approx(-np.cos(5.0), abs=1e-15)


def test_json_arrays_non_finite_and_missing_adjoints():
    doc = _strict_loads(to_json(array_trace()))
    x = doc["nodes"][0]
    assert x["shape"] == [3] and x["primal"] == [0.5, 1.0, 2.0] and x["tangent"] == [1, 0, 0]
    assert doc["nodes"][1]["operands"] == ["x", "2"] and doc["nodes"][1]["inputs"] == [0]
    bad = _strict_loads(to_json(log_trace(), indent=None))
    assert bad["nodes"][2]["primal"] == "-inf" and bad["nodes"][2]["tangent"] == "inf"
    assert bad["nodes"][1]["adjoint"] is None  # the unused input u
    assert bad["outputs"][2] == {"name": "y3", "node": None, "value": 3.0, "seed": 1.0}
    x = array_trace().steps[0]
    x = Step(x.id, x.label, x.name, x.op, (), (), x.expression, x.tangent_rule,
             A([np.nan, 1.0, -np.inf]), x.tangent)
    mixed = Trace("f", (x,), (), {}, ())
    doc = _strict_loads(to_json(mixed))
    assert doc["nodes"][0]["primal"] == ["nan", 1.0, "-inf"]
    jsonschema.validate(doc, JSON_SCHEMA, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("spoil", [
    lambda d: d["nodes"][0].update(primal="NaN"),
    lambda d: d["nodes"][0].pop("adjoint"),
    lambda d: d.update(schema="dualad.trace/2"),
    lambda d: d["adjoint_steps"][0].update(accumulates="no"),
    lambda d: d["outputs"][0].update(value=[1.0, [2.0, "x"]]),
])
def test_json_schema_rejects_malformed_documents(spoil):
    doc = _strict_loads(to_json(lecture_trace()))
    spoil(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, JSON_SCHEMA, cls=jsonschema.Draft202012Validator)


# --------------------------------------------------------------------------- DOT


def _graph(dot: str):
    (graph,) = pydot.graph_from_dot_data(dot)
    nodes = {n.get_name(): n for n in graph.get_nodes()
             if n.get_name() not in ("node", "edge", "graph")}
    edges = [(e.get_source(), e.get_destination()) for e in graph.get_edges()]
    return graph, nodes, edges


def _label(node) -> str:
    return node.get_label().strip('"')


def test_dot_lecture():
    graph, nodes, edges = _graph(to_dot(lecture_trace()))
    assert graph.get_name() == "trace" and graph.get_rankdir() == "LR"
    assert len(nodes) == 8  # 7 steps and the output y
    assert sorted(edges) == sorted([
        ("s_m1", "s1"), ("s_m1", "s2"), ("s0", "s2"), ("s0", "s3"), ("s1", "s4"),
        ("s2", "s4"), ("s4", "s5"), ("s3", "s5"), ("s5", "o0")])
    assert _label(nodes["s2"]).split("\\l") == ["v2 = v_-1 * v0", "primal 10", "tangent 5",
                                                "adjoint 1", ""]
    assert "primal 11.652" in _label(nodes["s5"])
    assert "adjoint 1.716" in _label(nodes["s0"]) and "adjoint 5.5" in _label(nodes["s_m1"])
    assert _label(nodes["o0"]) == "y"


def test_dot_edges_follow_the_operands():
    t = lecture_trace()
    _, _, edges = _graph(to_dot(t))
    name = lambda i: f"s{i}" if i >= 0 else f"s_m{-i}"
    expected = [(name(o.node), name(s.id)) for s in t.steps for o in s.operands]
    assert sorted(edges) == sorted(expected + [("s5", "o0")])


def test_dot_modes_constants_and_constant_outputs():
    _, nodes, _ = _graph(to_dot(lecture_trace(), mode="forward"))
    assert all("adjoint" not in _label(n) for n in nodes.values())
    _, nodes, _ = _graph(to_dot(lecture_trace(), mode="reverse", digits=5))
    assert _label(nodes["s0"]).split("\\l")[1:3] == ["primal 5", "adjoint 1.71634"]
    _, nodes, edges = _graph(to_dot(array_trace()))
    assert nodes["c1_1"].get_shape() == "plaintext" and _label(nodes["c1_1"]) == "2"
    assert ("c1_1", "s1") in edges and ("s0", "s1") in edges
    assert "primal (3,) [0.5, 1, 2]" in _label(nodes["s0"])
    _, nodes, edges = _graph(to_dot(log_trace()))
    assert _label(nodes["o2"]) == "y3 = 3" and not [e for e in edges if e[1] == "o2"]
    assert ("s1", "o0") in edges and ("s1", "o1") in edges


def test_dot_escapes_quotes_and_backslashes():
    t = lecture_trace()
    t = Trace('say "hi" \\n', t.steps, t.outputs, t.direction, t.adjoint_steps, t.adjoints)
    graph, nodes, _ = _graph(to_dot(t))
    assert graph.get_label() == '"f = say \\"hi\\" \\\\n"'
    assert len(nodes) == 8


# --------------------------------------------------------------------------- write_graph


def _fake_dot(directory: Path, script: str) -> Path:
    exe = directory / "dot"
    exe.write_text(f"#!{sys.executable}\n{script}")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


FAKE_DOT = """\
import json, pathlib, sys
here = pathlib.Path(__file__).parent
(here / "argv.json").write_text(json.dumps(sys.argv[1:]))
(here / "stdin.dot").write_bytes(sys.stdin.buffer.read())
pathlib.Path(sys.argv[sys.argv.index("-o") + 1]).write_text("<svg>fake</svg>")
"""


def test_write_graph_dot_and_gv_write_the_text(tmp_path):
    dot = to_dot(lecture_trace())
    for name in ("trace.dot", "trace.GV"):
        write_graph(dot, tmp_path / name)
        assert (tmp_path / name).read_text() == dot + "\n"
    write_graph(dot, str(tmp_path / "as_str.dot"))
    assert (tmp_path / "as_str.dot").exists()


def test_write_graph_runs_dot(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_dot(bin_dir, FAKE_DOT)
    monkeypatch.setenv("PATH", str(bin_dir))
    dot = to_dot(lecture_trace())
    target = tmp_path / "a dir; rm -rf" / "trace.svg"  # no shell: spaces and ; are harmless
    target.parent.mkdir()
    write_graph(dot, target)
    assert json.loads((bin_dir / "argv.json").read_text()) == ["-Tsvg", "-o", str(target)]
    assert (bin_dir / "stdin.dot").read_text() == dot
    assert target.read_text() == "<svg>fake</svg>"
    write_graph(dot, tmp_path / "trace.PDF")
    assert json.loads((bin_dir / "argv.json").read_text())[0] == "-Tpdf"


def test_write_graph_reports_dot_failing(tmp_path, monkeypatch):
    _fake_dot(tmp_path, "import sys\nsys.stderr.write('Error: syntax error in line 1')\n"
                        "sys.exit(3)\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizError, match="syntax error in line 1") as err:
        write_graph("digraph {", tmp_path / "x.png")
    assert isinstance(err.value, DualadError) and isinstance(err.value, RuntimeError)
    assert "exit status 3" in str(err.value)


def test_write_graph_reports_dot_that_cannot_run(tmp_path, monkeypatch):
    exe = _fake_dot(tmp_path, "")
    exe.write_text("#!/nonexistent/interpreter\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizError, match="could not run Graphviz's dot"):
        write_graph("digraph {}", tmp_path / "x.svg")


def test_write_graph_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    with pytest.raises(InvalidArgumentError) as err:
        write_graph(to_dot(lecture_trace()), tmp_path / "trace.svg")
    message = str(err.value)
    assert "Graphviz's `dot` was not found" in message and "install graphviz" in message.lower()
    assert ".dot file" in message and not (tmp_path / "trace.svg").exists()


@pytest.mark.parametrize("name", ["trace.jpg", "trace", "trace.svg.txt"])
def test_write_graph_unknown_suffix(tmp_path, name):
    with pytest.raises(InvalidArgumentError) as err:
        write_graph("digraph {}", tmp_path / name)
    assert all(s in str(err.value) for s in (".dot", ".gv", ".svg", ".png", ".pdf"))
    assert not (tmp_path / name).exists()


# --------------------------------------------------------------------------- HTML


class _TagChecker(html.parser.HTMLParser):
    """Records the text and checks that every tag is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


def _parse_html(page: str) -> _TagChecker:
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    assert not checker.stack
    return checker


def test_html_lecture():
    page = to_html(lecture_trace())
    checker = _parse_html(page)
    assert checker.tags.count("table") == 3 and "script" not in checker.tags
    text = "".join(checker.text)
    for fragment in ("v0_bar = v3_bar * cos v0", "-0.284", "11.652", "x1_bar = 5.5",
                     "x2_bar = 1.716", "Reverse adjoint trace"):
        assert fragment in text
    assert "<td>3</td><td style=\"text-align:left\"><code>v0_bar = v3_bar * cos v0</code>" \
           "</td><td style=\"text-align:left\">-0.284</td>" in page
    forward = "".join(_parse_html(to_html(lecture_trace(), mode="forward")).text)
    assert "Reverse adjoint trace" not in forward and "_bar" not in forward


def test_html_escapes_everything():
    t = log_trace()
    x = t.steps[0]
    evil = Step(x.id, "v_-1", "<b>x&", x.op, x.operands, x.params, '"<script>', x.tangent_rule,
                x.primal, x.tangent)
    t = Trace("<script>alert('x')</script>", (evil,) + t.steps[1:], t.outputs, t.direction,
              t.adjoint_steps, t.adjoints)
    page = to_html(t)
    checker = _parse_html(page)
    assert set(checker.tags) <= {"div", "p", "b", "code", "table", "caption", "thead", "tbody",
                                 "tr", "th", "td"}
    text = "".join(checker.text)
    assert "<script>alert('x')</script>" in text and "v_-1 = \"<script>" in text
    assert "<b>x&_bar = inf" in text and "note:" in text
