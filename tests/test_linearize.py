"""dualad.linearize against jax.linearize (float64): primal outputs, the JVP function on
several tangents, pytrees, has_aux, complex values; one evaluation of the function whatever
the number of tangents (one forward sweep each); nesting to second and third order; errors
for tangents that do not fit and for a JVP function used after its transform returned."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad import REGISTRY, ShapeMismatchError

from .reference import assert_pytree_close, central_differences

jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(15)
X = RNG.uniform(-1.5, 1.5, 4)
Y = RNG.uniform(-1.5, 1.5, (3, 4))
W = RNG.uniform(-1.0, 1.0, (4, 4))
TANGENTS = [(RNG.standard_normal(4), {"w": RNG.standard_normal((3, 4)), "b": RNG.standard_normal()})
            for _ in range(3)]


def model(xp, x, params):
    """R^4 x {w: 3x4, b: scalar} -> {"h": (3,), "pair": (scalar, (4,))}, and an aux."""
    h = xp.tanh(params["w"] @ xp.sin(x) + params["b"])
    total = xp.sum(xp.exp(-x * x) * x)
    return {"h": h, "pair": (total, x * params["b"])}, {"norm": xp.sum(h * h)}


PARAMS = {"w": Y, "b": 0.7}
JAX_OUT, JAX_JVP, JAX_AUX = jax.linearize(lambda x, p: model(jnp, x, p), X, PARAMS, has_aux=True)
JAX_TANGENTS = [JAX_JVP(*t) for t in TANGENTS]


def test_primal_jvp_function_and_aux_match_jax():
    out, f_jvp, aux = dualad.linearize(lambda x, p: model(np, x, p), X, PARAMS, has_aux=True)
    assert_pytree_close(out, JAX_OUT)
    assert_pytree_close(aux, JAX_AUX)
    for tangent, expected in zip(TANGENTS, JAX_TANGENTS):
        assert_pytree_close(f_jvp(*tangent), expected)
        assert_pytree_close(f_jvp(*tangent), dualad.jvp(lambda x, p: model(np, x, p)[0],
                                                         (X, PARAMS), tangent)[1])


def test_without_aux_returns_a_pair_and_jvp_of_one_array():
    f = lambda x: np.sin(x) * x  # noqa: E731
    out, f_jvp = dualad.linearize(f, X)
    jax_out, jax_jvp = jax.linearize(lambda x: jnp.sin(x) * x, X)
    np.testing.assert_allclose(out, jax_out, rtol=1e-13)
    for v in (np.ones(4), X, RNG.standard_normal(4)):
        np.testing.assert_allclose(f_jvp(v), jax_jvp(v), rtol=1e-12, atol=1e-14)
    scalar, f_scalar = dualad.linearize(lambda a: a ** 3, 2.0)
    assert float(scalar) == 8.0 and float(f_scalar(0.5)) == 6.0


def test_complex_values_match_jax():
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j, -0.3 + 0.1j])
    out, f_jvp = dualad.linearize(lambda z: np.exp(z) * np.conj(z) + np.abs(z), z)
    jax_out, jax_jvp = jax.linearize(lambda z: jnp.exp(z) * jnp.conj(z) + jnp.abs(z), z)
    np.testing.assert_allclose(out, jax_out, rtol=1e-13)
    for v in (np.ones(3, complex), np.array([1j, 2.0, -1 + 1j])):
        np.testing.assert_allclose(f_jvp(v), jax_jvp(v), rtol=1e-12)


def test_the_function_and_its_primitives_run_once_whatever_the_number_of_tangents():
    calls = {"fun": 0}
    names = ("sin", "exp", "multiply", "matmul", "tanh", "negative", "add")
    originals = {name: REGISTRY[name].impl for name in names}

    def counting(name, impl):
        def run(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return impl(*args, **kwargs)
        return run

    def f(x):
        calls["fun"] += 1
        return W @ np.tanh(x) + np.exp(-x * x) * np.sin(x)

    try:
        for name, impl in originals.items():  # Primitive is frozen: count behind its back
            object.__setattr__(REGISTRY[name], "impl", counting(name, impl))
        _, f_jvp = dualad.linearize(f, X)
        after_linearize = dict(calls)
        tangents = [f_jvp(v) for v in np.eye(4)]
    finally:
        for name, impl in originals.items():
            object.__setattr__(REGISTRY[name], "impl", impl)
    assert after_linearize["fun"] == 1 and after_linearize["sin"] == 1  # the counting works
    assert calls == after_linearize  # four directions pushed: nothing ran again
    J = np.stack(tangents, axis=-1)
    np.testing.assert_allclose(J, jax.jacfwd(lambda x: W @ jnp.tanh(x)
                                             + jnp.exp(-x * x) * jnp.sin(x))(X), rtol=1e-12)


def test_each_tangent_is_one_forward_sweep_of_one_direction(monkeypatch):
    """The mechanism jacfwd's chunks use (tests/test_transforms.py counts theirs)."""
    sweeps = []
    sweep = dualad.transforms._recording.forward_sweep
    monkeypatch.setattr(dualad.transforms._recording, "forward_sweep",
                        lambda *args: sweeps.append(args[3]) or sweep(*args))
    _, f_jvp = dualad.linearize(lambda x, p: model(np, x, p)[0], X, PARAMS)
    assert sweeps == []
    for tangent in TANGENTS:
        f_jvp(*tangent)
    assert sweeps == [1, 1, 1]


def test_changing_the_arguments_or_results_does_not_change_later_tangents():
    out, f_jvp = dualad.linearize(np.exp, X)
    before = f_jvp(np.ones(4))
    out += 1.0  # the rule of exp reads the recorded output, not this copy
    before += 1.0
    np.testing.assert_allclose(f_jvp(np.ones(4)), np.exp(X), rtol=1e-15)
    x = X.copy()
    _, f_sin = dualad.linearize(np.sin, x)
    x += 1.0  # nor does changing the argument: the tape keeps a copy
    np.testing.assert_allclose(f_sin(np.ones(4)), np.cos(X), rtol=1e-15)
    v = np.ones(4)
    _, identity = dualad.linearize(lambda x: x, X)
    w = identity(v)
    w += 1.0
    assert v[0] == 1.0


def _jvp_at(x, v):
    """The JVP of x -> sum(sin(x) * x**2) along v, by linearize (a function of x and v)."""
    return dualad.linearize(lambda z: np.sum(np.sin(z) * z ** 2), x)[1](v)


def _jax_jvp_at(x, v):
    return jax.linearize(lambda z: jnp.sum(jnp.sin(z) * z ** 2), x)[1](v)


V = RNG.standard_normal(4)
JAX_HVP = jax.jacfwd(_jax_jvp_at)(X, V)
JAX_HESSIAN_OF_JVP = jax.hessian(_jax_jvp_at)(X, V)


def test_derivatives_of_a_function_that_calls_linearize_in_both_modes():
    for transform in (dualad.jacfwd, dualad.jacrev, dualad.grad):
        np.testing.assert_allclose(transform(_jvp_at)(X, V), JAX_HVP, rtol=1e-12)
    np.testing.assert_allclose(dualad.hessian(_jvp_at)(X, V), JAX_HESSIAN_OF_JVP, rtol=1e-11)
    np.testing.assert_allclose(dualad.jacfwd(dualad.jacfwd(_jvp_at))(X, V), JAX_HESSIAN_OF_JVP,
                               rtol=1e-11)
    # third order: the derivative of that Hessian, against central differences of it
    third = dualad.jacfwd(dualad.hessian(_jvp_at))(X, V)
    differences = central_differences(lambda x: dualad.hessian(_jvp_at)(x, V), (X,))[0]
    np.testing.assert_allclose(third, differences, rtol=1e-6, atol=1e-7)


def test_linearize_of_a_derivative_and_derivatives_of_its_jvp_function():
    f = lambda x: np.sum(np.sin(x) * x ** 2)  # noqa: E731
    g, hvp = dualad.linearize(dualad.grad(f), X)
    np.testing.assert_allclose(g, jax.grad(lambda z: jnp.sum(jnp.sin(z) * z ** 2))(X),
                               rtol=1e-13)
    np.testing.assert_allclose(hvp(V), JAX_HVP, rtol=1e-12)
    _, g_rev = dualad.linearize(dualad.jacrev(f), X)
    np.testing.assert_allclose(g_rev(V), JAX_HVP, rtol=1e-12)
    # f_jvp is linear in its tangent: its Jacobian in either mode is f's Jacobian
    _, f_jvp = dualad.linearize(lambda x: np.sin(x) * x ** 2, X)
    expected = np.diag(np.cos(X) * X ** 2 + 2 * X * np.sin(X))
    np.testing.assert_allclose(dualad.jacfwd(f_jvp)(V), expected, rtol=1e-13)
    np.testing.assert_allclose(dualad.jacrev(f_jvp)(V), expected, rtol=1e-13)


def test_linearize_inside_jvp_and_vjp():
    def inner(x):
        return dualad.linearize(lambda z: np.exp(z) * z, x)[1](np.ones_like(x))  # (1+x) e^x

    expected = (2.0 + X) * np.exp(X) * V
    np.testing.assert_allclose(dualad.jvp(inner, (X,), (V,))[1], expected, rtol=1e-13)
    _, pullback = dualad.vjp(inner, X)
    np.testing.assert_allclose(pullback(V)[0], expected, rtol=1e-13)


@pytest.mark.parametrize("tangents, message", [
    ((), r"one tangent per primal: 2 expected, got 0"),
    ((np.ones(4), np.ones(3), np.ones(1)), r"2 expected, got 3"),
    ((np.ones(4), [np.ones(3)]), r"structure of the primals"),
    ((np.ones(3), (np.ones(3), 1.0)), r"argument 1 has shape \(3,\).*\(4,\)"),
    ((np.ones(4), (np.ones(2), 1.0)), r"argument 2\[0\] has shape \(2,\),.*shape \(3,\)"),
    ((np.ones(4, dtype=int), (np.ones(3), 1.0)), r"argument 1 has dtype int64"),
    ((np.ones(4), (np.ones(3), 1j)), r"argument 2\[1\] has dtype complex128.*complex only for"),
])
def test_tangents_that_do_not_fit_are_refused_naming_the_argument(tangents, message):
    _, f_jvp = dualad.linearize(lambda x, pair: np.sum(x) * pair[0] * pair[1],
                                X, (np.ones(3), 2.0))
    with pytest.raises(ShapeMismatchError, match=message):
        f_jvp(*tangents)


def test_a_jvp_function_kept_beyond_the_transform_it_was_made_in_is_refused():
    kept = []

    def inner(x):
        kept.append(dualad.linearize(np.sin, x)[1])
        return kept[-1](np.ones(4))  # inside: fine, d/dx cos(x) = -sin(x)

    np.testing.assert_allclose(dualad.jvp(inner, (X,), (V,))[1], -np.sin(X) * V, rtol=1e-14)
    with pytest.raises(dualad.PerturbationConfusionError,
                       match="called after the dualad.jvp call in which linearize ran"):
        kept[0](np.ones(4))


def test_a_function_that_is_not_callable_is_refused():
    with pytest.raises(dualad.InvalidInputError, match="must be callable"):
        dualad.linearize(X, X)


def test_a_pullback_kept_beyond_its_outer_jvp_raises():
    """As for f_jvp: a vjp's pullback made inside jvp and called after it returned would
    hand back values carrying the finished jvp's derivative."""
    kept = []

    def f(x):
        y, pullback = dualad.vjp(lambda z: np.sin(z * x), np.array([1.0, 2.0]))
        kept.append(pullback)
        return np.sum(y)

    dualad.jvp(f, (np.array(0.5),), (np.array(1.0),))
    with pytest.raises(dualad.PerturbationConfusionError, match="pullback returned by "
                       "dualad.vjp was called after the dualad.jvp call"):
        kept[0](np.ones(2))
