"""``dualad.checkpoint``: the derivatives of a checkpointed function are those of the
function (against JAX, and against dualad without it for every registry example and random
programs), at every order and nesting, under every policy; and the tape keeps its inputs,
not its intermediates."""

from __future__ import annotations

import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualad

from .test_programs import programs
from .test_registry import CASES, _inputs
from .test_sparsity import _joined

POLICIES = [None, dualad.checkpoint_policies.dots_saveable,
            dualad.checkpoint_policies.everything_saveable,
            dualad.checkpoint_policies.save_only_these("tanh", "exp")]


def _mlp(np_, remat):
    def layer(h, w, b):
        z = h @ w + b
        return z * np_.tanh(np_.exp(-z * z) + z)

    layer = remat(layer)

    def loss(ws, bs, x):
        h = x
        for w, b in zip(ws, bs):
            h = layer(h, w, b)
        return np_.sum(h ** 2) / h.shape[0]

    return loss


def _params(rng, depth=4, width=5):
    ws = [rng.standard_normal((width, width)) * 0.5 for _ in range(depth)]
    bs = [rng.standard_normal(width) * 0.1 for _ in range(depth)]
    return ws, bs, rng.standard_normal((3, width))


@pytest.mark.parametrize("policy", POLICIES)
def test_gradients_and_jacobians_match_jax(policy):
    ws, bs, x = _params(np.random.default_rng(0))
    ours = _mlp(np, lambda f: dualad.checkpoint(f, policy=policy))
    theirs = _mlp(jnp, jax.checkpoint)
    expected = jax.grad(theirs, argnums=(0, 1, 2))(ws, bs, x)
    got = dualad.grad(ours, argnums=(0, 1, 2))(ws, bs, x)
    for g, e in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    value, _ = dualad.value_and_grad(ours)(ws, bs, x)
    np.testing.assert_allclose(value, theirs(ws, bs, x), rtol=1e-13)
    features = lambda x: ours(ws, bs, x.reshape(3, 5)) * np.tanh(x)  # noqa: E731
    jax_features = lambda x: theirs(ws, bs, x.reshape(3, 5)) * jnp.tanh(x)  # noqa: E731
    flat = x.ravel()
    for transform, reference in ((dualad.jacrev, jax.jacrev), (dualad.jacfwd, jax.jacfwd)):
        np.testing.assert_allclose(transform(features)(flat), reference(jax_features)(flat),
                                   rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("policy", POLICIES[:2])
def test_second_order_in_every_nesting(policy):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 4)) * 0.5

    def block(h):
        return np.sin(h @ w) * h

    ours = dualad.checkpoint(block, policy=policy)
    f = lambda x: np.sum(ours(ours(x)) ** 2)  # noqa: E731
    g = lambda x: jnp.sum(jax.checkpoint(lambda h: jnp.sin(h @ w) * h)(  # noqa: E731
        jax.checkpoint(lambda h: jnp.sin(h @ w) * h)(x)) ** 2)
    x = rng.standard_normal(4)
    expected = jax.hessian(g)(x)
    nestings = (dualad.hessian, lambda f: dualad.jacrev(dualad.jacrev(f)),
                lambda f: dualad.jacfwd(dualad.jacfwd(f)),
                lambda f: dualad.jacrev(dualad.jacfwd(f)))
    outer = dualad.checkpoint(lambda h: ours(ours(h)), policy=policy)  # one inside another
    nested = lambda x: np.sum(outer(x) ** 2)  # noqa: E731
    for hessian in nestings:
        np.testing.assert_allclose(hessian(f)(x), expected, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(hessian(nested)(x), expected, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(dualad.hvp(f, (x,), (np.eye(4)[0],)), expected[0],
                               rtol=1e-11, atol=1e-12)


def test_pytrees_integers_and_static_arguments():
    @dualad.checkpoint
    def step(state, index, scale):
        u, v = state["u"], state["v"]
        return {"u": u * v[index], "v": np.cos(v) * scale}, np.sum(u ** 2)

    jax_step = jax.checkpoint(lambda state, index, scale: (
        {"u": state["u"] * state["v"][index], "v": jnp.cos(state["v"]) * scale},
        jnp.sum(state["u"] ** 2)), static_argnums=(2,))
    index = np.array([2, 0, 1])

    def loss(u, v, np_=np, fn=step):
        state, energy = fn({"u": u, "v": v}, index, 1.5)
        return np_.sum(state["u"] * state["v"]) + energy

    u, v = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    expected = jax.grad(lambda u, v: loss(u, v, jnp, jax_step), argnums=(0, 1))(u, v)
    got = dualad.grad(loss, argnums=(0, 1))(u, v)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-13)
    static = dualad.checkpoint(lambda x, power: x ** power, static_argnums=1)
    assert dualad.grad(lambda x: static(x, 3))(2.0) == 12.0
    assert static(2.0, 3) == 8.0  # no derivative asked for: the function itself


def test_the_tape_keeps_the_inputs_not_the_intermediates():
    rng = np.random.default_rng(2)
    ws, bs = [rng.standard_normal((64, 64)) * 0.2 for _ in range(20)], [0.0] * 20
    x = rng.standard_normal((256, 64))
    kept = {}
    for name, remat in (("plain", lambda f: f), ("checkpoint", dualad.checkpoint),
                        ("dots", lambda f: dualad.checkpoint(
                            f, policy=dualad.checkpoint_policies.dots_saveable))):
        loss = _mlp(np, remat)
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        value, pullback = dualad.vjp(lambda x, loss=loss: loss(ws, bs, x), x)
        kept[name] = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        np.testing.assert_allclose(pullback(1.0)[0], dualad.grad(
            lambda x: _mlp(np, lambda f: f)(ws, bs, x))(x), rtol=1e-12)
        del pullback
    activation = x.nbytes  # one (256, 64) array per kept value
    assert kept["checkpoint"] < 1.5 * 20 * activation  # each layer's input (and output)
    assert kept["plain"] > 8 * 20 * activation  # z, exp, tanh, ... of every layer
    assert kept["checkpoint"] < kept["dots"] < kept["plain"]


@pytest.mark.parametrize("entry, i", CASES)
def test_every_registry_example_checkpointed(entry, i):
    """Each example as one checkpointed function: jacrev (the replayed backward pass) and
    jacfwd equal those of the function itself, bit for bit."""
    example, arrays = _inputs(entry, i)
    g, point = _joined(example, arrays)
    z = point(arrays)
    if z is None:
        return
    policy = POLICIES[i % len(POLICIES)]
    remat = dualad.checkpoint(g, policy=policy)
    for transform in (dualad.jacrev, dualad.jacfwd):
        try:
            expected = transform(g)(z)
        except dualad.DualadError as error:
            with pytest.raises(type(error)):
                transform(remat)(z)
            continue
        np.testing.assert_array_equal(transform(remat)(z), expected)


@given(program=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_checkpointed(program, seed):
    rng = np.random.default_rng(seed)
    inputs = tuple(rng.uniform(-2, 2, size=s) for s in program.input_shapes)

    def loss(*xs, remat=lambda f: f):
        outs = remat(lambda *xs: tuple(program.run(np, xs)))(*xs)
        return sum(np.sum(np.sin(o)) for o in outs)

    argnums = tuple(range(len(inputs)))
    expected = dualad.grad(loss, argnums=argnums)(*inputs)
    for policy in POLICIES[:2]:
        remat = lambda f, policy=policy: dualad.checkpoint(f, policy=policy)  # noqa: E731
        got = dualad.grad(lambda *xs, remat=remat: loss(*xs, remat=remat),
                          argnums=argnums)(*inputs)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def test_errors_name_the_mistake():
    with pytest.raises(dualad.InvalidArgumentError, match="policy"):
        dualad.checkpoint(np.sin, policy="dots")
    f = dualad.checkpoint(lambda x, n: x * n, static_argnums=(1,))
    with pytest.raises(dualad.InvalidInputError, match="nondiff_argnums"):
        dualad.grad(lambda x: np.sum(f(x, x)))(np.ones(2))


def test_outside_reverse_mode_the_function_runs_as_it_is():
    def f(x):
        return np.concatenate([x[1:] * x[:-1], [np.sum(np.sin(x))]])

    remat = dualad.checkpoint(f)
    x = np.linspace(0.1, 1.0, 5)
    np.testing.assert_array_equal(dualad.jacobian_sparsity(remat, x).toarray(),
                                  dualad.jacobian_sparsity(f, x).toarray())
    np.testing.assert_array_equal(dualad.jacfwd(remat)(x), dualad.jacfwd(f)(x))
    gradient = dualad.compile(dualad.grad(lambda x: np.sum(remat(x) ** 2)))
    expected = dualad.grad(lambda x: np.sum(f(x) ** 2))(x)
    for _ in range(2):
        np.testing.assert_array_equal(gradient(x), expected)
