"""``dualad.trace``: the lecture's tables as data, user's names, and every primitive.

References: the lecture's printed numbers and the closed forms behind them, the
forum's autograd numbers for its tanh network (dy2/dw_h = 8.1888, dy2/dw_y = 0.9093) and JAX; the
registry walk compares each traced primitive's tangent and adjoint totals with dualad's
``jvp`` and ``vjp``, which ``test_registry`` cross-checks with JAX.
"""

from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad.errors import InvalidArgumentError, InvalidInputError
from dualad.tree import flatten, unflatten

from .forum001 import loss as tanh_chain
from .reference import assert_pytree_close


def lecture(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def _lines(t):
    """(label, rule, value) of the adjoint steps, as the tables print them."""
    return [(t.step(a.target).label, a.rule, float(a.value), a.accumulates)
            for a in t.adjoint_steps]


def test_lecture_primal_and_tangent_traces_in_the_lectures_words():
    # Python evaluates (ln + mul) before sin, so here v3 = v1 + v2 and v4 = sin v0; the
    # expression command keeps the lecture's order (tests/test_cli.py)
    t = dualad.trace(lecture, 2.0, 5.0, local_names=False)
    assert [s.label for s in t.steps] == ["v_-1", "v0", "v1", "v2", "v3", "v4", "v5"]
    assert [s.name for s in t.steps[:2]] == ["x1", "x2"]
    by_op = {s.op: s for s in t.steps}
    assert by_op["log"].expression == "ln v_-1"
    assert by_op["log"].tangent_rule == "v_-1_dot / v_-1"
    assert by_op["multiply"].expression == "v_-1 * v0"
    assert by_op["multiply"].tangent_rule == "v_-1_dot * v0 + v0_dot * v_-1"
    assert by_op["sin"].tangent_rule == "v0_dot * cos v0"
    assert by_op["subtract"].tangent_rule == "v3_dot - v4_dot"
    # the numbers of Table 2: primals and tangents along x1_dot = 1, x2_dot = 0
    assert float(by_op["log"].primal) == pytest.approx(np.log(2.0), rel=1e-15)
    assert float(by_op["sin"].primal) == pytest.approx(np.sin(5.0), rel=1e-15)
    assert float(by_op["log"].tangent) == 0.5 and float(by_op["multiply"].tangent) == 5.0
    assert float(t.outputs[0].value) == pytest.approx(11.652071455, abs=1e-9)
    assert float(t.output_tangents["y"]) == 5.5


def test_lecture_adjoint_trace_with_its_accumulation_steps():
    t = dualad.trace(lecture, 2.0, 5.0, local_names=False)
    lines = _lines(t)
    cos5 = np.cos(5.0)
    assert ("v0", "v4_bar * cos v0", pytest.approx(-cos5), False) in lines
    assert ("v_-1", "v2_bar * v0", 5.0, False) in lines
    assert ("v0", "v2_bar * v_-1", pytest.approx(2.0 - cos5), True) in lines
    assert ("v_-1", "v1_bar / v_-1", 5.5, True) in lines
    assert ("v4", "v5_bar * (-1)", -1.0, False) in lines
    assert round(-cos5, 3) == -0.284 and round(2.0 - cos5, 3) == 1.716
    assert float(t.gradient["x1"]) == 5.5
    assert float(t.gradient["x2"]) == pytest.approx(2.0 - cos5, rel=1e-15)


def test_tanh_chain_steps_are_named_after_the_users_variables():
    t = dualad.trace(tanh_chain, 2.0, 40.0)
    assert [s.label for s in t.steps] == ["w_h", "w_y", "h1_raw", "h1", "h2_raw", "h2", "y2"]
    assert t.step(1).expression == "w_h * h0"  # the constant h0 by its name too
    assert t.step(2).expression == "tanh h1_raw"
    adjoint = {t.step(a.target).label: a for a in t.adjoint_steps}
    assert adjoint["h2_raw"].rule == "h2_bar * (1 - tanh**2 h2_raw)"
    # the forum's autograd numbers, and JAX
    assert round(float(t.gradient["w_h"]), 4) == 8.1888
    assert round(float(t.gradient["w_y"]), 4) == 0.9093
    jax_seed = lambda w_h, w_y: w_y * jnp.tanh(w_h * jnp.tanh(w_h * 0.5))
    g = jax.grad(jax_seed, argnums=(0, 1))(2.0, 40.0)
    assert_pytree_close((float(t.gradient["w_h"]), float(t.gradient["w_y"])), g, rtol=1e-14)
    assert float(t.output_tangents["y"]) == pytest.approx(float(g[0]), rel=1e-14)


def test_wrt_and_direction_seed_the_tangent_trace():
    t = dualad.trace(lecture, 2.0, 5.0, wrt="x2")
    assert float(t.output_tangents["y"]) == pytest.approx(2.0 - np.cos(5.0), rel=1e-15)
    t = dualad.trace(lecture, 2.0, 5.0, direction={"x1": 1.0, "x2": 2.0})
    expected = 1.0 * 5.5 + 2.0 * (2.0 - np.cos(5.0))
    assert float(t.output_tangents["y"]) == pytest.approx(expected, rel=1e-15)
    assert t.direction == {"x1": 1.0, "x2": 2.0}


def test_arrays_broadcasting_and_slices_match_jax():
    def rosenbrock(np_, x):
        return np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    x = np.array([0.5, -1.0, 2.0, 1.5])
    t = dualad.trace(lambda x: rosenbrock(np, x), x)
    np.testing.assert_allclose(t.gradient["x"], jax.grad(lambda x: rosenbrock(jnp, x))(x),
                               rtol=1e-14)
    assert any(s.expression == "x[1:]" for s in t.steps)
    scale = lambda a, b: np.sum(a * b)  # a scalar times a vector: its adjoint is summed
    t = dualad.trace(scale, 2.0, np.array([1.0, 2.0, 3.0]))
    rule = next(a.rule for a in t.adjoint_steps if t.step(a.target).label == "a")
    assert rule.startswith("sum(") and float(t.gradient["a"]) == 6.0


def test_several_outputs_each_seeded_with_ones():
    t = dualad.trace(lambda x, y: (x * y, np.sin(x)), 2.0, 3.0)
    assert [o.name for o in t.outputs] == ["y1", "y2"]
    assert float(t.gradient["x"]) == pytest.approx(3.0 + np.cos(2.0), rel=1e-15)
    assert float(t.gradient["y"]) == 2.0


def test_output_and_inputs_that_do_not_depend_on_each_other():
    t = dualad.trace(lambda x, y: x * 2.0, 1.0, 4.0)
    assert float(t.gradient["y"]) == 0.0 and float(t.gradient["x"]) == 2.0
    t = dualad.trace(lambda x: 3.0, 1.0)
    assert t.outputs[0].node is None and float(t.gradient["x"]) == 0.0


def test_bad_arguments_are_refused_with_a_message():
    with pytest.raises(InvalidArgumentError, match="wrt='z' is not an input"):
        dualad.trace(lecture, 2.0, 5.0, wrt="z")
    with pytest.raises(InvalidArgumentError, match="direction for x1 has shape"):
        dualad.trace(lecture, 2.0, 5.0, direction=[np.ones(3), 0.0])
    with pytest.raises(InvalidInputError, match="argument 0 must be a real number"):
        dualad.trace(lecture, "2", 5.0)


# --------------------------------------------------------------------------- every primitive


CASES = [
    pytest.param(entry, i, id=f"{name}-{i}")
    for name, entry in sorted(dualad.REGISTRY.items())
    if entry.builtin
    for i in range(len(entry.examples))
]


@pytest.mark.parametrize("entry, i", CASES)
def test_every_registered_primitive_can_be_traced(entry, i):
    """The trace's tangent and adjoint totals are the engines' jvp and vjp."""
    example = entry.examples[i]
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}-{i}".encode()))
    arrays = example.arrays(rng, entry.domain)
    floats = [j for j, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    if not floats:
        pytest.fail(f"example {entry.name}-{i} has no float input")

    def f(*xs):
        full = list(arrays)
        for j, x in zip(floats, xs):
            full[j] = x
        return example.call(np, *full)

    point = [np.asarray(arrays[j], dtype=float) for j in floats]
    direction = [rng.normal(size=np.shape(p)) for p in point]
    t = dualad.trace(f, *point, direction=direction, names=[f"a{j}" for j in floats])
    out, tangent = dualad.jvp(f, tuple(point), tuple(direction))
    leaves, tree = flatten(out)
    traced = [o for o in t.outputs]
    assert len(traced) == len(leaves)
    for o, leaf, tan in zip(traced, leaves, flatten(tangent)[0]):
        np.testing.assert_allclose(o.value, leaf, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(t.output_tangents[o.name], tan, rtol=1e-10, atol=1e-10)
    _, pullback = dualad.vjp(f, *point)
    cotangent = [np.ones_like(np.asarray(leaf, dtype=float)) for leaf in leaves]
    expected = pullback(unflatten(tree, cotangent))
    for name, g in zip(t.gradient, expected):
        np.testing.assert_allclose(t.gradient[name], g, rtol=1e-10, atol=1e-10)
    assert all(s.expression and s.tangent_rule for s in t.steps)
