"""What ``dualad.trace`` keeps while it watches ``f``, and what it reads after ``f`` ran.

The local-name watcher must cost memory (and time) in proportion to what ``f`` itself keeps:
values ``f`` drops are not kept alive for their names, so a loop making fresh values is
traced in linear time and bounded memory. Measured with tracemalloc (allocation sizes, not
timings). A name must not pass to a later object that reuses a dropped one's ``id``.
"""

from __future__ import annotations

import json
import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np

import dualad
from dualad.traces import build as tracing


def _peak(f, *args, **kwargs):
    """Peak bytes allocated while tracing ``f`` (after one warm-up run)."""
    dualad.trace(f, *args, **kwargs)
    tracemalloc.start()
    try:
        dualad.trace(f, *args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


MB = 2 ** 20


def drops_big_arrays(x):
    for _ in range(40):
        big = np.ones(MB // 8)  # 1 MB, dropped at the next iteration
        x = x * 1.0001
    return x + big[0]


def test_the_watcher_does_not_keep_arrays_that_f_dropped():
    # the old watcher held every array a local ever held: 40 MB here
    peak = _peak(drops_big_arrays, np.ones(3))
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB while f never holds more than 2 MB"
    assert _peak(drops_big_arrays, np.ones(3), local_names=False) < 8 * MB


def drops_floats(x):
    for i in range(3000):
        c = i * 0.5  # a fresh float, dropped at the next iteration
    return x * 2.0 + c


def test_the_watcher_keeps_nothing_per_float_that_f_dropped():
    # the old watcher kept every float a local held (~90 bytes each, 270 kB here) and
    # compared each line's locals with all of them: quadratic time in the loop's length
    extra = _peak(drops_floats, 1.0) - _peak(drops_floats, 1.0, local_names=False)
    assert extra < 64 * 1024, f"the watcher kept {extra} bytes for 3000 dropped floats"


def adds_fresh_floats(x):
    for i in range(3):
        c = i * 0.5 + 0.25  # a fresh float each time, used by a node, then dropped
        x = x + c
    return x


def test_dropped_values_used_by_the_tape_keep_their_names():
    t = dualad.trace(adds_fresh_floats, 1.0)
    assert [s.expression for s in t.steps[1:]] == ["x + c", "v1 + c", "v2 + c"]
    t = dualad.trace(drops_big_arrays, np.ones(2))
    assert t.steps[-1].expression.endswith("+ 1")  # big[0]: a fresh scalar, no local


def _fresh_array():
    return np.full(3, 7.0)  # not held by a local of the traced function


def _fresh_float():
    return float(np.float64(7.0) * 1.0)


def reuses_ids(x):
    for i in range(3):
        tmp = np.full(3, float(i))  # named tmp, never used, dropped
        t = i * 0.5 + 0.1  # likewise a float
    del tmp, t
    y = x * _fresh_array()  # a new array: it may get a dropped one's id
    return y + _fresh_float()


def test_a_name_does_not_pass_to_an_object_reusing_a_dropped_ones_id(monkeypatch):
    t = dualad.trace(reuses_ids, np.ones(3))
    assert [s.expression for s in t.steps[1:]] == ["x * (const(3,))", "y + 7"]
    # CPython often reuses a freed object's memory, and so its id, at once; make sure of it:
    # every array of shape (3,) gets one id, every float another
    def same_id(value):
        if isinstance(value, np.ndarray) and value.shape == (3,):
            return -1
        return -2 if isinstance(value, float) else id(value)

    monkeypatch.setattr(tracing, "id", same_id, raising=False)
    t = dualad.trace(reuses_ids, np.ones(3))
    assert [s.expression for s in t.steps[1:]] == ["x * (const(3,))", "y + 7"]


def rebinds_in_one_line(x):
    c = 0.25
    x, c = x * c, 3.0  # c's old value is used, then c is rebound, in one line
    return x * c


def test_a_value_used_in_the_line_that_rebinds_its_local_keeps_the_name():
    t = dualad.trace(rebinds_in_one_line, 2.0)
    assert [s.expression for s in t.steps[1:]] == ["x * c", "v1 * c"]
    assert [float(s.primal) for s in t.steps[1:]] == [0.5, 1.5]


def many_lines(x):
    for _ in range(200):
        w = np.array([1.0, 2.0])
        x = x * w + 1.0
    return np.sum(x)


def test_long_loops_keep_their_names_and_numbers():
    t = dualad.trace(many_lines, np.ones(2))
    assert t.steps[1].expression == "x * w"
    assert {s.expression.split(" * ")[1] for s in t.steps if s.op == "multiply"} == {"w"}
    assert len(t.steps) == 1 + 2 * 200 + 1


# --------------------------------------------------------------------------- in-place inputs
# x += 1 inside f rebinds the handle x (its value and variable become the result's): the
# trace must show, and differentiate with respect to, the inputs as f received them.


def doubles_in_place(x):
    x *= 2
    return np.sin(x)


def doubles_in_place_jax(x):
    x *= 2  # a new array: JAX arrays are immutable
    return jnp.sin(x)


def test_an_input_doubled_in_place_is_shown_and_differentiated_at_its_given_value():
    x0 = np.array([1.0, 2.0])
    t = dualad.trace(doubles_in_place, x0)
    np.testing.assert_array_equal(t.steps[0].primal, [1.0, 2.0])
    assert t.steps[0].label == "x" and t.steps[0].is_input
    assert str(t).splitlines()[0] == "f = doubles_in_place   at x = (2,) [1, 2]"
    assert json.loads(t.render("json"))["nodes"][0]["primal"] == [1.0, 2.0]
    np.testing.assert_allclose(t.outputs[0].value, np.sin(2 * x0), rtol=1e-15)
    expected = jax.grad(lambda x: jnp.sum(doubles_in_place_jax(x)))(x0)  # 2 cos 2x
    np.testing.assert_allclose(t.gradient["x"], expected, rtol=1e-14)
    np.testing.assert_allclose(t.output_tangents["y"], 2 * np.cos(2 * x0), rtol=1e-14)
    np.testing.assert_array_equal(t.direction["x"], [1.0, 1.0])
    np.testing.assert_array_equal(x0, [1.0, 2.0])


def adds_and_multiplies_in_place(x, y):
    x = x * 1.0
    x += y
    x *= y
    return np.sum(x)


def adds_and_multiplies_in_place_jax(x, y):
    x = x * 1.0
    x += y
    x *= y
    return jnp.sum(x)


def test_in_place_operations_on_a_copy_against_dualad_grad_and_jax():
    x0, y0 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    t = dualad.trace(adds_and_multiplies_in_place, x0, y0)
    np.testing.assert_array_equal(t.steps[0].primal, x0)
    np.testing.assert_array_equal(t.steps[1].primal, y0)
    expected = jax.grad(adds_and_multiplies_in_place_jax, argnums=(0, 1))(x0, y0)
    np.testing.assert_allclose(t.gradient["x"], expected[0], rtol=1e-15)  # y
    np.testing.assert_allclose(t.gradient["y"], expected[1], rtol=1e-15)  # x + 2y
    ours = dualad.grad(adds_and_multiplies_in_place, argnums=(0, 1))(x0, y0)
    np.testing.assert_allclose(t.gradient["x"], ours[0], rtol=1e-15)
    np.testing.assert_allclose(t.gradient["y"], ours[1], rtol=1e-15)


def updates_both_in_place(a, b):
    a *= b
    b += a
    b -= 0.5
    return a * b


def updates_both_in_place_jax(a, b):
    a *= b
    b += a
    b -= 0.5
    return a * b


def test_two_inputs_updated_in_place_along_a_direction():
    a0, b0 = np.array([0.5, -1.0, 2.0]), np.array([3.0, 0.25, -2.0])
    da, db = np.array([1.0, 0.0, -1.0]), np.array([2.0, 1.0, 0.5])
    t = dualad.trace(updates_both_in_place, a0, b0, direction={"a": da, "b": db})
    assert [s.label for s in t.inputs] == ["a", "b"]
    np.testing.assert_array_equal(t.inputs[0].primal, a0)
    np.testing.assert_array_equal(t.inputs[1].primal, b0)
    assert set(t.direction) == {"a", "b"}
    np.testing.assert_array_equal(t.direction["b"], db)
    value, tangent = jax.jvp(updates_both_in_place_jax, (a0, b0), (da, db))
    np.testing.assert_allclose(t.outputs[0].value, value, rtol=1e-15)
    np.testing.assert_allclose(t.output_tangents["y"], tangent, rtol=1e-14)
    ga, gb = jax.grad(lambda a, b: jnp.sum(updates_both_in_place_jax(a, b)),
                      argnums=(0, 1))(a0, b0)
    np.testing.assert_allclose(t.gradient["a"], ga, rtol=1e-14)
    np.testing.assert_allclose(t.gradient["b"], gb, rtol=1e-14)


def test_the_trace_keeps_the_point_as_it_was():
    x0 = np.array([1.0, 2.0])
    t = dualad.trace(lambda x: np.sum(x * x), x0)
    x0[:] = 7.0  # the caller reuses its array
    np.testing.assert_array_equal(t.steps[0].primal, [1.0, 2.0])
    assert str(t).splitlines()[0].endswith("at x = (2,) [1, 2]")
