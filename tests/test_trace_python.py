"""``dualad trace --format python``: the trace as a NumPy program, run and checked.

Each program is executed in a fresh namespace (it may import NumPy alone) and its
``f_and_jvp`` / ``f_and_gradient`` compared, at the traced point and at a second point (it is
a program, not a table of numbers), with dualad's ``jvp`` and ``value_and_grad`` and with
JAX in float64 (or a closed form). The registry walk runs every primitive the format writes
through the registry's examples against dualad's ``jvp`` and ``vjp``, which
``tests/test_registry.py`` cross-checks with JAX; a primitive it does not write must be
refused by name. The lecture's program is differentiated again by dualad (its Hessian
against JAX's), which holds only if every line is ordinary NumPy code.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad.errors import InvalidArgumentError, UnsupportedPrimitiveError
from dualad.registry import REGISTRY, Primitive
from dualad.traces.formats import format_for_file, render
from dualad.traces.python_rules import RULES
from dualad.traces.python_source import _display
from dualad.traces.record import example_trace

from . import reference  # noqa: F401 - float64 JAX
from .forum001 import loss as tanh_chain
from .test_cli import LECTURE, TANH_CHAIN, run

TOL = {"rtol": 1e-12, "atol": 1e-12}


def program(source: str) -> dict:
    """Execute ``source`` in a fresh namespace, checking that it imports NumPy alone."""
    imports = [node for node in ast.walk(ast.parse(source))
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(node) for node in imports] == ["import numpy as np"]
    namespace: dict = {"__name__": "generated"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, dtype=float),
                               np.asarray(expected, dtype=float), **TOL)


def check_program(f, jf, point, second, *, direction=None, names=None):
    """The program of ``f`` traced at ``point`` against dualad and JAX (``jf``, the same
    function on jax.numpy) at ``point`` and at ``second``, in both modes."""
    t = dualad.trace(f, *point, names=names)
    ns = program(render(t, "python"))
    rng = np.random.default_rng(0)
    for at in (point, second):
        at = tuple(np.asarray(a, dtype=float) for a in at)
        tangents = direction or tuple(rng.normal(size=np.shape(a)) for a in at)
        y, y_dot = ns["f_and_jvp"](*at, *tangents)
        value, grad = ns["f_and_gradient"](*at)
        argnums = tuple(range(len(at)))
        # dualad
        d_out, d_dot = dualad.jvp(f, at, tangents)
        d_value, d_grad = dualad.value_and_grad(f, argnums=argnums)(*at)
        close(y, d_out), close(y_dot, d_dot), close(value, d_value)
        for mine, theirs in zip(grad, d_grad):
            close(mine, theirs)
        # JAX
        j_out, j_dot = jax.jvp(jf, tuple(map(jnp.asarray, at)), tuple(map(jnp.asarray, tangents)))
        j_grad = jax.grad(jf, argnums=argnums)(*map(jnp.asarray, at))
        close(y, j_out), close(y_dot, j_dot)
        for mine, theirs in zip(grad, j_grad):
            close(mine, theirs)
    return t, ns


# --------------------------------------------------------------------------- the lecture


def test_lecture_program_reads_as_the_tables_and_computes_them_everywhere(capsys):
    status, source, err = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5",
                              "--format", "python")
    assert (status, err) == (0, "")
    for line in ("def f_and_jvp(x1, x2, x1_dot, x2_dot):", "def f_and_gradient(x1, x2):",
                 "v_m1 = x1", "v1 = np.log(v_m1)", "v1_dot = v_m1_dot / v_m1",
                 "v2_dot = v_m1_dot * v0 + v_m1 * v0_dot", "v3 = np.sin(v0)",
                 "v0_bar = v0_bar + v_m1 * v2_bar", "v_m1_bar = v_m1_bar + v1_bar / v_m1",
                 "return y, (x1_bar, x2_bar)", "#   x1_bar = 5.5, x2_bar = 1.716"):
        assert line in source.splitlines() or f"    {line}" in source.splitlines(), line
    ns = program(source)
    for x1, x2 in ((2.0, 5.0), (0.7, -1.3)):
        y, (x1_bar, x2_bar) = ns["f_and_gradient"](x1, x2)
        # closed form: y = ln x1 + x1 x2 - sin x2, dy/dx1 = 1/x1 + x2, dy/dx2 = x1 - cos x2
        close(y, np.log(x1) + x1 * x2 - np.sin(x2))
        close([x1_bar, x2_bar], [1 / x1 + x2, x1 - np.cos(x2)])
        _, y_dot = ns["f_and_jvp"](x1, x2, 0.25, -2.0)
        close(y_dot, 0.25 * (1 / x1 + x2) - 2.0 * (x1 - np.cos(x2)))
    assert float(ns["f_and_jvp"](2.0, 5.0, 1.0, 0.0)[1]) == 5.5  # Table 2's y_dot


def test_lecture_program_is_numpy_code_dualad_differentiates_again():
    t = dualad.trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), 2.0, 5.0)
    ns = program(render(t, "python", mode="reverse"))
    hessian = dualad.jacfwd(lambda x: np.stack(ns["f_and_gradient"](x[0], x[1])[1]))
    expected = jax.hessian(lambda x: jnp.log(x[0]) + x[0] * x[1] - jnp.sin(x[1]))
    for at in (np.array([2.0, 5.0]), np.array([0.6, -0.4])):
        close(hessian(at), expected(jnp.asarray(at)))


# --------------------------------------------------------------------------- other targets


def test_exp_tanh_division_and_powers():
    def f(x1, x2):
        return np.exp(x1) / (1 + x2 ** 2) + np.tanh(x1 * x2) ** 3 - x2 ** 0.5 + 2.0 ** x1

    def jf(x1, x2):
        return jnp.exp(x1) / (1 + x2 ** 2) + jnp.tanh(x1 * x2) ** 3 - x2 ** 0.5 + 2.0 ** x1

    check_program(f, jf, (0.3, 1.2), (0.8, 2.5))


def test_vector_input_with_sum_dot_matmul_and_broadcasting():
    w = np.array([0.5, -1.0, 2.0])
    a = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])

    def f(x, b):
        return np.dot(x, x) + np.sum(np.sin(x) * w) + np.sum(np.cos(a @ x)) \
            + np.sum(np.max(x + b, axis=1) ** 2) + np.sum(np.cumsum(x) * x[::-1])

    def jf(x, b):
        return jnp.dot(x, x) + jnp.sum(jnp.sin(x) * w) + jnp.sum(jnp.cos(a @ x)) \
            + jnp.sum(jnp.max(x + b, axis=1) ** 2) + jnp.sum(jnp.cumsum(x) * x[::-1])

    b = np.array([[0.1, 0.2, -0.3], [1.0, -2.0, 0.4]])
    t, ns = check_program(f, jf, (np.array([1.0, 2.0, 3.0]), b),
                          (np.array([-0.3, 0.9, 1.7]), b + 0.25))
    source = render(t, "python")
    assert "w = np.array([0.5, -1.0, 2.0])" in source  # constants by the user's names
    assert "_sum_to(" in source  # x (3,) broadcast against b (2, 3): its adjoint summed back


def test_file_target_keeps_the_users_local_names(capsys):
    status, source, err = run(capsys, "trace", f"{TANH_CHAIN}:loss", "--at", "w_h=2",
                              "w_y=40", "--format", "python")
    assert (status, err) == (0, "")
    lines = [line.strip() for line in source.splitlines()]
    for line in ("h0 = 0.5", "h1_raw = w_h * h0", "h2 = np.tanh(h2_raw)",
                 "h2_raw_bar = h2_bar * (1 - h2 * h2)", "return y, (w_h_bar, w_y_bar)"):
        assert line in lines, line
    ns = program(source)
    _, (w_h_bar, w_y_bar) = ns["f_and_gradient"](2.0, 40.0)
    assert (round(float(w_h_bar), 4), round(float(w_y_bar), 4)) == (8.1888, 0.9093)  # forum
    for at in ((2.0, 40.0), (0.5, -3.0)):
        value, grad = dualad.value_and_grad(tanh_chain, argnums=(0, 1))(*at)
        mine_value, mine_grad = ns["f_and_gradient"](*at)
        close(mine_value, value), close(mine_grad, grad)


def test_a_small_network_reads_as_backpropagation_written_by_hand(capsys, tmp_path):
    target = tmp_path / "mlp.py"
    target.write_text(textwrap.dedent("""
        import numpy as np

        def loss(W1, b1, w2, x):
            hidden = np.tanh(W1 @ x + b1)
            score = w2 @ hidden
            prob = 1 / (1 + np.exp(-score))
            return -np.log(prob)
        """), encoding="utf-8")
    status, source, err = run(capsys, "trace", f"{target}:loss", "--at",
                              "W1=[[0.1,0.2],[0.3,-0.4],[0.5,0.6]]", "b1=[0,0.1,-0.1]",
                              "w2=[1,-1,0.5]", "x=[1,2]", "--format", "python")
    assert (status, err) == (0, "")
    lines = [line.strip() for line in source.splitlines()]
    for line in ("hidden = np.tanh(v2)", "score = w2 @ hidden", "prob = 1 / v7",
                 "v2_bar = hidden_bar * (1 - hidden * hidden)", "W1_bar = np.outer(v1_bar, x)",
                 "x_bar = W1.T @ v1_bar"):
        assert line in lines, line
    ns = program(source)

    def jf(W1, b1, w2, x):
        return -jnp.log(1 / (1 + jnp.exp(-(w2 @ jnp.tanh(W1 @ x + b1)))))

    rng = np.random.default_rng(3)
    for at in ((np.array([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]), np.array([0.0, 0.1, -0.1]),
                np.array([1.0, -1.0, 0.5]), np.array([1.0, 2.0])),
               (rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=3),
                rng.normal(size=2))):
        value, grads = ns["f_and_gradient"](*at)
        close(value, jf(*at))
        for mine, theirs in zip(grads, jax.grad(jf, argnums=(0, 1, 2, 3))(*at)):
            close(mine, theirs)
        tangents = tuple(rng.normal(size=np.shape(a)) for a in at)
        _, y_dot = ns["f_and_jvp"](*at, *tangents)
        close(y_dot, jax.jvp(jf, at, tangents)[1])


def test_dict_parameter_target(capsys, tmp_path):
    target = tmp_path / "model.py"
    target.write_text(textwrap.dedent("""
        import numpy as np

        def predict(p, x):
            h = np.tanh(p["w"] * x + p["b"])
            return np.sum(h * h) / 2
        """), encoding="utf-8")
    status, source, err = run(capsys, "trace", f"{target}:predict", "--at",
                              'p={"w": [0.5, -1.0], "b": 0.25}', "x=[1.5, 2.0]", "--format",
                              "python")
    assert (status, err) == (0, "")
    assert "def f_and_gradient(p_w, p_b, x):" in source
    ns = program(source)

    def jf(w, b, x):
        return jnp.sum(jnp.tanh(w * x + b) ** 2) / 2

    for w, b, x in ((np.array([0.5, -1.0]), 0.25, np.array([1.5, 2.0])),
                    (np.array([-0.2, 0.3]), -0.5, np.array([0.4, -1.0]))):
        value, grads = ns["f_and_gradient"](w, b, x)
        d_value, d_grad = dualad.value_and_grad(
            lambda p, x: np.sum(np.tanh(p["w"] * x + p["b"]) ** 2) / 2, argnums=(0, 1))(
                {"w": w, "b": b}, x)
        close(value, d_value)
        close(grads[0], d_grad[0]["w"]), close(grads[1], d_grad[0]["b"])
        close(grads[2], d_grad[1])
        for mine, theirs in zip(grads, jax.grad(jf, argnums=(0, 1, 2))(w, b, x)):
            close(mine, theirs)


def test_several_outputs_forward_and_weighted_reverse():
    def f(x, y):
        return np.sin(x) * y, np.exp(x - y)

    t = dualad.trace(f, 0.5, 1.5)
    source = render(t, "python")
    ns = program(source)
    assert "def f_and_vjp(x, y, y1_bar=1.0, y2_bar=1.0):" in source
    for at in ((0.5, 1.5), (-1.0, 0.3)):
        (y1, y2), (y1_dot, y2_dot) = ns["f_and_jvp"](*at, 0.3, -0.7)
        (out, tangent) = dualad.jvp(f, at, (0.3, -0.7))
        close([y1, y2], out), close([y1_dot, y2_dot], tangent)
        _, pullback = dualad.vjp(f, *at)
        (_, bars) = ns["f_and_vjp"](*at, y1_bar=2.0, y2_bar=-0.5)
        close(bars, pullback((2.0, -0.5)))
        (_, ones) = ns["f_and_vjp"](*at)  # the tables' seeds: 1 each
        close(ones, pullback((1.0, 1.0)))
    close(ns["f_and_vjp"](0.5, 1.5)[1], list(t.gradient.values()))


def test_an_array_output_gets_a_vjp_with_its_seed():
    def f(x):
        return np.tanh(x)[::-1] * 2.0

    t = dualad.trace(f, np.array([0.1, 0.5, -1.0]))
    ns = program(render(t, "python", mode="reverse"))
    seed = np.array([1.0, -2.0, 0.5])
    for x in (np.array([0.1, 0.5, -1.0]), np.array([2.0, -0.3, 0.0])):
        _, pullback = dualad.vjp(f, x)
        y, (x_bar,) = ns["f_and_vjp"](x, y_bar=seed)
        close(y, f(x)), close(x_bar, pullback(seed)[0])
        jax_bar = jax.vjp(lambda x: jnp.tanh(x)[::-1] * 2.0, jnp.asarray(x))[1](seed)[0]
        close(x_bar, jax_bar)


def test_names_the_program_uses_itself_are_not_taken_by_the_users():
    def f(np_, x):  # an input and steps called after names the program uses
        len = np_ * 2.0  # noqa: A001
        range = np.sum(np.sin(x) * len)  # noqa: A001
        return range

    w = np.array([0.5, 1.5])
    t = dualad.trace(f, w, np.array([0.3, -0.2]))
    ns = program(render(t, "python"))
    assert ns["np"] is np and ns["f_and_gradient"].__name__ == "f_and_gradient"
    _, (w_bar, x_bar) = ns["f_and_gradient"](w, np.array([1.0, 2.0]))
    _, expected = dualad.value_and_grad(f, argnums=(0, 1))(w, np.array([1.0, 2.0]))
    close(w_bar, expected[0]), close(x_bar, expected[1])


def test_an_input_no_output_depends_on_has_a_zero_adjoint():
    t = dualad.trace(lambda x, u: np.sin(x) * 3.0, 0.5, 2.0)
    ns = program(render(t, "python"))
    _, (x_bar, u_bar) = ns["f_and_gradient"](0.25, 2.0)
    close([x_bar, u_bar], [3.0 * np.cos(0.25), 0.0])


# --------------------------------------------------------------------------- every primitive


def _examples():
    for name, prim in sorted(REGISTRY.items()):
        if isinstance(prim, Primitive) and prim.builtin:
            for i, example in enumerate(prim.examples):
                yield pytest.param(prim, example, id=f"{name}-{i}")


def _paths(t):
    """What a trace decided from values: each step's primitive and parameters."""
    return [(s.op, s.params) for s in t.steps]


def _second_point(f, arrays, t, rng):
    """A point near ``arrays`` where ``f`` takes the same path (the program's domain)."""
    for scale in (1e-3, 1e-5, 1e-7):
        moved = tuple(a + scale * rng.standard_normal(np.shape(a)) for a in arrays)
        if _paths(dualad.trace(f, *moved)) == _paths(t):
            return moved
    raise AssertionError("no nearby point takes the traced path")


@pytest.mark.parametrize("prim, example", list(_examples()))
def test_registry_walk_every_rule_computes_what_dualad_computes(prim, example):
    rng = np.random.default_rng(7)
    arrays = example.arrays(rng, prim.domain)
    if not arrays or any(np.asarray(a).dtype.kind != "f" for a in arrays):
        pytest.skip("dualad.trace takes real float arguments only")  # not a reference skipped

    def f(*xs):
        return example.call(np, *xs)

    try:
        t = dualad.trace(f, *arrays)
    except Exception as error:  # noqa: BLE001 - what trace refuses is test_trace's business
        pytest.skip(f"dualad.trace refuses this example: {type(error).__name__}")
    try:
        source = render(t, "python")
    except UnsupportedPrimitiveError as error:  # refused by name, never written wrong
        named = {_display(s.op) for s in t.steps if not s.is_input}
        assert any(f"cannot write {name} " in str(error) or f"cannot write {name}:" in
                   str(error) for name in named), str(error)
        return
    ns = program(source)
    for at in (arrays, _second_point(f, arrays, t, rng)):
        tangents = tuple(rng.standard_normal(np.shape(a)) for a in at)
        out, out_dot = dualad.jvp(f, at, tangents)
        y, y_dot = ns["f_and_jvp"](*at, *tangents)
        close(y, out), close(y_dot, out_dot)
        _, pullback = dualad.vjp(f, *at)
        seeds = dualad.tree.unflatten(
            dualad.tree.flatten(out)[1],
            [rng.standard_normal(np.shape(leaf)) for leaf in dualad.tree.flatten(out)[0]])
        expected = pullback(seeds)
        function = ns.get("f_and_gradient") or ns["f_and_vjp"]
        if "f_and_gradient" in ns:
            _, bars = function(*at)
            expected = pullback(np.ones_like(out))
        else:
            leaves = dualad.tree.flatten(seeds)[0]
            names = [o.name for o in t.outputs]
            _, bars = function(*at, **{f"{n}_bar": s for n, s in zip(names, leaves)})
        for mine, theirs in zip(bars, expected):
            close(mine, theirs)


def test_every_rule_is_a_registered_primitive():
    assert set(RULES) <= set(REGISTRY)


def test_a_primitive_without_a_rule_is_refused_by_name():
    t = dualad.trace(lambda a: np.linalg.det(a), np.array([[1.0, 2.0], [3.0, 5.0]]))
    with pytest.raises(UnsupportedPrimitiveError,
                       match=r"cannot write np\.linalg\.det.*--format text"):
        render(t, "python")


def test_a_function_with_rules_of_its_own_is_refused_by_name():
    @dualad.custom_jvp
    def softplus(x):
        return np.log1p(np.exp(x))

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (dx,) = primals, tangents
        return softplus(x), dx / (1 + np.exp(-x))

    t = dualad.trace(lambda x: softplus(x) * 2.0, 0.5)
    with pytest.raises(UnsupportedPrimitiveError,
                       match=r"cannot write \S*softplus, a function with derivative rules of "
                             r"your own.*--format text"):
        render(t, "python")


def test_records_made_by_hand_lack_the_values_to_write_code():
    from .test_trace_format import array_trace
    with pytest.raises(InvalidArgumentError, match="made by dualad.trace"):
        render(array_trace(), "python")
    ns = program(render(example_trace(), "python"))  # no constants: it can be written
    close(ns["f_and_gradient"](0.5)[1][0], np.cos(0.5))


def test_unknown_mode_is_refused():
    with pytest.raises(InvalidArgumentError, match="unknown mode"):
        render(example_trace(), "python", mode="sideways")


# --------------------------------------------------------------------------- the command


def test_printed_program_runs_as_a_script():
    command = [sys.executable, "-m", "dualad", "trace", "-e", "exp(x1) * sin(x2) / x1",
               "--at", "x1=0.5", "x2=2", "--format", "python"]
    source = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    ran = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    printed = ran.stdout.splitlines()
    assert len(printed) == 2 and printed[0].startswith("(np.float64(")


def test_output_file_with_py_extension_picks_the_format(capsys, tmp_path):
    assert format_for_file("grad.py") == "python"
    target = tmp_path / "grad.py"
    status, out, err = run(capsys, "trace", LECTURE, "--at", "x1=2", "x2=5", "-o", str(target))
    assert (status, out, err) == (0, "", "")
    ns = program(target.read_text(encoding="utf-8"))
    close(ns["f_and_gradient"](2.0, 5.0)[1], [5.5, 2.0 - np.cos(5.0)])
