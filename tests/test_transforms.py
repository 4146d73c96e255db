"""``jvp`` and ``jacfwd`` behave like JAX's: pytrees, argnums, has_aux, shapes, chunking,
nesting and user primitives, each compared with JAX (float64) on the same function.

Test functions are written once as ``f(np_, ...)`` and called with ``numpy`` (on dual
arrays) and with ``jax.numpy`` for the reference.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
import dualad.transforms
from dualad.errors import ShapeMismatchError
from tests.reference import FAST_COMPILE
from tests.reference import assert_pytree_close as assert_tree_close

RNG = np.random.default_rng(20240601)
X3 = RNG.normal(size=3)
M23 = RNG.normal(size=(2, 3))
V4 = RNG.normal(size=4)




def jit(fn):
    """``jax.jit`` compiled without XLA's backend optimisations (they cost more than they
    save for a reference computed once); arguments are pytrees of arrays."""
    def call(*args):
        return jax.jit(fn).lower(*args).compile(FAST_COMPILE)(*args)
    return call


def jax_jacfwd(f, *args, **kwargs):
    """``jax.jacfwd`` of ``f(jnp, ...)`` as NumPy arrays (jit: one compilation, not one per
    operation and shape, which is what makes eager JAX slow here)."""
    jac = jit(jax.jacfwd(lambda *xs: f(jnp, *xs), **kwargs))(*args)
    return jax.tree_util.tree_map(np.asarray, jac)


_FULL = {}


def jax_jacfwd_argnums(f, args, argnums):
    """JAX's Jacobian for ``argnums``, cut from one cached Jacobian w.r.t. all arguments
    (what ``jax.jacfwd(f, argnums)`` returns: each output leaf holds a tuple of input trees
    for tuple argnums, one input tree for an int)."""
    key = (f.__name__, len(args))
    if key not in _FULL:
        _FULL[key] = jax_jacfwd(f, *args, argnums=tuple(range(len(args))))
    out_def = jax.tree_util.tree_structure(f(jnp, *args))
    per_leaf = out_def.flatten_up_to(_FULL[key])
    if isinstance(argnums, int):
        picked = [jac[argnums % len(args)] for jac in per_leaf]
    else:
        picked = [tuple(jac[a % len(args)] for a in argnums) for jac in per_leaf]
    return jax.tree_util.tree_unflatten(out_def, picked)


def ours_jacfwd(f, *args, **kwargs):
    return dualad.jacfwd(lambda *xs: f(np, *xs), **kwargs)(*args)


# --------------------------------------------------------------------------- pytrees


def tree_in_tree_out(np_, params, x):
    """dict and nested list/tuple in the argument, dict/list/tuple in the result."""
    W, (b, scale) = params["W"], params["rest"]
    h = np_.tanh(W @ x + b) * scale[0]
    return {"h": h, "stats": [np_.sum(h * h), (np_.sin(x), scale[1] * np_.mean(h))]}


PARAMS = {"W": M23, "rest": [RNG.normal(size=2), (np.float64(0.7), np.array(1.3))]}


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1,), -1, (-2, 1)])
def test_pytree_arguments_and_results_match_jax(argnums):
    """Jacobians are arranged like JAX's: the output tree, each leaf an input tree."""
    expected = jax_jacfwd_argnums(tree_in_tree_out, (PARAMS, X3), argnums)
    actual = ours_jacfwd(tree_in_tree_out, PARAMS, X3, argnums=argnums)
    assert_tree_close(actual, expected)


def test_pytree_jvp_matches_jax():
    tangents = (jax.tree_util.tree_map(np.ones_like, PARAMS), np.arange(3.0))
    y, dy = dualad.jvp(lambda p, x: tree_in_tree_out(np, p, x), (PARAMS, X3), tangents)
    y_ref, dy_ref = jit(lambda p, t: jax.jvp(lambda p, x: tree_in_tree_out(jnp, p, x), p, t))(
        (PARAMS, X3), tangents)
    assert_tree_close(y, jax.tree_util.tree_map(np.asarray, y_ref))
    assert_tree_close(dy, jax.tree_util.tree_map(np.asarray, dy_ref))


def test_list_and_tuple_inputs_keep_their_type():
    def f(np_, xs):
        return np_.sin(xs[0]) * xs[1][0] + xs[1][1]

    for args in ([X3, (X3 * 2, 1.5)], (X3, [X3 * 2, 1.5])):
        expected = jax_jacfwd(f, jax.tree_util.tree_map(np.asarray, args))
        actual = ours_jacfwd(f, args)
        assert_tree_close(actual, expected)


def test_python_scalars_in_and_out():
    """Python floats and ints are arguments like 0-d arrays; 0-d results are NumPy floats."""
    y, dy = dualad.jvp(lambda a, b: a * b + np.sin(a), (2.0, 3), (1.0, 0.0))
    assert isinstance(y, float) and isinstance(dy, float)
    assert dy == pytest.approx(3.0 + np.cos(2.0), rel=1e-15)
    d = dualad.jacfwd(lambda a, b: a**2 * b, argnums=(0, 1))(3, 2.0)  # an int argument
    assert all(isinstance(v, float) for v in d)
    assert d == pytest.approx((12.0, 9.0), rel=1e-15)


def test_scalar_results_are_numpy_floats():
    g = dualad.jacfwd(lambda x: np.sum(x**2))(X3)
    assert isinstance(g, np.ndarray) and g.shape == (3,)
    d = dualad.jacfwd(lambda x: np.exp(x))(0.5)
    assert isinstance(d, float) and d == pytest.approx(np.exp(0.5), rel=1e-15)
    y, dy = dualad.jvp(lambda x: np.sum(np.sin(x)), (X3,), (np.ones(3),))
    assert isinstance(y, float) and isinstance(dy, float)
    assert dy == pytest.approx(np.sum(np.cos(X3)), rel=1e-14)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("in_shape", [(), (3,), (2, 3), (2, 1, 2)])
@pytest.mark.parametrize("out", ["scalar", "same", "outer"])
def test_jacobian_shape_is_out_shape_plus_in_shape(in_shape, out):
    def f(np_, x):
        if out == "scalar":
            return np_.sum(np_.sin(x))
        if out == "same":
            return np_.sin(x) * x
        return np_.reshape(x, (-1,))[:, None] * np_.cos(np_.reshape(x, (1, -1)))

    x = RNG.normal(size=in_shape)
    expected = jax_jacfwd(f, x)
    actual = ours_jacfwd(f, x)
    assert np.shape(actual) == expected.shape
    assert_tree_close(actual, expected)


def test_zero_sized_input():
    J = dualad.jacfwd(lambda x: np.sum(x) + 1.0)(np.zeros((0, 3)))
    assert np.shape(J) == (0, 3)


# --------------------------------------------------------------------------- argnums, has_aux


def three_args(np_, a, b, c):
    return np_.tanh(a * b[0]) + c * np_.exp(b[1]) - a * c


@pytest.mark.parametrize("argnums", [0, 2, -1, -3, (0, 2), (2, 0), (-1,), (0, 1, 2)])
def test_argnums_like_jax(argnums):
    args = (X3, (X3[::-1].copy(), 0.3), V4[:3].copy())
    expected = jax_jacfwd_argnums(three_args, args, argnums)
    actual = ours_jacfwd(three_args, *args, argnums=argnums)
    assert_tree_close(actual, expected)


@pytest.mark.parametrize("argnums", [3, -4, (0, 5)])
def test_argnums_out_of_range(argnums):
    with pytest.raises(ValueError, match="argnums"):
        ours_jacfwd(three_args, X3, (X3, 0.3), X3, argnums=argnums)


def with_aux(np_, x, y):
    z = np_.sin(x) * y
    return np_.sum(z) * x, {"z": z, "count": 3, "pair": (x, y)}


def test_jacfwd_has_aux_like_jax():
    jac, aux = ours_jacfwd(with_aux, X3, 2.0, argnums=(0, 1), has_aux=True)
    jac_ref, aux_ref = jit(jax.jacfwd(lambda x, y: with_aux(jnp, x, y), argnums=(0, 1),
                                          has_aux=True))(X3, 2.0)
    assert_tree_close(jac, jax.tree_util.tree_map(np.asarray, jac_ref))
    assert_tree_close(aux, jax.tree_util.tree_map(np.asarray, aux_ref))
    assert not any(isinstance(leaf, dualad.Dual) for leaf in (aux["z"], *aux["pair"]))


def test_jvp_has_aux_like_jax():
    tangents = (np.ones(3), 1.0)
    y, dy, aux = dualad.jvp(lambda x, y: with_aux(np, x, y), (X3, 2.0), tangents, has_aux=True)
    y_ref, dy_ref, aux_ref = jit(lambda p, t: jax.jvp(lambda x, y: with_aux(jnp, x, y), p, t,
                                                          has_aux=True))((X3, 2.0), tangents)
    assert_tree_close((y, dy), (np.asarray(y_ref), np.asarray(dy_ref)))
    assert_tree_close(aux, jax.tree_util.tree_map(np.asarray, aux_ref))
    assert not isinstance(aux["z"], dualad.Dual)


def test_jvp_structure_mismatch_raises():
    with pytest.raises(ShapeMismatchError):
        dualad.jvp(lambda x, y: x * y, (X3, X3), (np.ones(3),))
    with pytest.raises(ShapeMismatchError):
        dualad.jvp(lambda x: x, (X3,), (np.ones(4),))


# --------------------------------------------------------------------------- chunking


def chunked_f(np_, x, y):
    return {"a": np_.tanh(x @ y), "b": np_.sum(np_.exp(-x * x), axis=0)[:, None] * y}


CHUNK_ARGS = (RNG.normal(size=(3, 2)), RNG.normal(size=(2, 4)))  # n = 6 + 8 = 14 inputs


def test_chunk_sizes_give_identical_jacobians():
    """Chunking splits the work, never the answer: bitwise equal results."""
    n = sum(a.size for a in CHUNK_ARGS)
    reference = ours_jacfwd(chunked_f, *CHUNK_ARGS, argnums=(0, 1), chunk_size=None)
    assert_tree_close(reference, jax_jacfwd(chunked_f, *CHUNK_ARGS, argnums=(0, 1)))
    for chunk_size in (1, 2, 7, n - 1, n, n + 5):
        actual = ours_jacfwd(chunked_f, *CHUNK_ARGS, argnums=(0, 1), chunk_size=chunk_size)
        for key in ("a", "b"):
            for a, r in zip(actual[key], reference[key], strict=True):
                np.testing.assert_array_equal(a, r, err_msg=f"chunk_size={chunk_size} {key}")


@pytest.mark.parametrize("chunk_size, passes", [(None, 1), (1, 14), (2, 7), (5, 3), (14, 1)])
def test_chunk_size_sets_the_number_of_passes(chunk_size, passes, monkeypatch):
    """One chunk: one pass of dual arrays. Several: the function runs once on a tape and
    each chunk of directions is pushed through the recorded values."""
    calls, sweeps = [], []
    sweep = dualad.transforms._recording.forward_sweep

    def counting_sweep(tape, seeds, wanted, k):
        sweeps.append(k)
        return sweep(tape, seeds, wanted, k)

    monkeypatch.setattr(dualad.transforms._recording, "forward_sweep", counting_sweep)

    def f(x, y):
        calls.append(None)
        return chunked_f(np, x, y)

    dualad.jacfwd(f, argnums=(0, 1), chunk_size=chunk_size)(*CHUNK_ARGS)
    assert len(calls) == 1
    assert max(1, len(sweeps)) == passes
    assert sum(sweeps) in (0, 14)


def test_default_chunking_follows_DEFAULT_CHUNK_BYTES(monkeypatch):
    """A small memory budget splits the default pass; the Jacobian stays bitwise equal."""
    reference = ours_jacfwd(chunked_f, *CHUNK_ARGS, argnums=(0, 1))
    n = sum(a.size for a in CHUNK_ARGS)
    monkeypatch.setattr(dualad.transforms._boundary, "DEFAULT_CHUNK_BYTES", 8 * n * 3)  # k = 3
    sweeps = []
    sweep = dualad.transforms._recording.forward_sweep
    monkeypatch.setattr(dualad.transforms._recording, "forward_sweep",
                        lambda *args: sweeps.append(args[3]) or sweep(*args))

    actual = dualad.jacfwd(lambda x, y: chunked_f(np, x, y), argnums=(0, 1))(*CHUNK_ARGS)
    assert sweeps == [3, 3, 3, 3, 2]  # ceil(14 / 3) passes
    for key in ("a", "b"):
        for a, r in zip(actual[key], reference[key], strict=True):
            np.testing.assert_array_equal(a, r)


@pytest.mark.parametrize("chunk_size", [0, -1, 2.5, "2"])
def test_bad_chunk_size_raises(chunk_size):
    with pytest.raises(ValueError, match="chunk_size"):
        dualad.jacfwd(np.sin, chunk_size=chunk_size)(X3)


# --------------------------------------------------------------------------- constant outputs


@pytest.mark.parametrize("kind", ["array", "python", "primal-only", "int"])
def test_output_independent_of_input_has_zero_jacobian(kind):
    def f(np_, x):
        if kind == "array":
            return np_.ones((2, 2))
        if kind == "python":
            return 2.5
        if kind == "primal-only":
            return np_.zeros_like(x) + 1.0
        return np_.arange(3)

    expected_shape = {"array": (2, 2), "python": (), "primal-only": (3,), "int": (3,)}[kind]
    J = ours_jacfwd(f, X3)
    assert np.shape(J) == expected_shape + (3,)
    np.testing.assert_array_equal(J, np.zeros(expected_shape + (3,)))
    if kind != "int":  # JAX refuses integer outputs; dualad gives zeros
        assert_tree_close(J, jax_jacfwd(f, X3))
    y, dy = dualad.jvp(lambda x: f(np, x), (X3,), (np.ones(3),))
    np.testing.assert_array_equal(dy, np.zeros(expected_shape))


def test_partly_constant_outputs():
    def f(np_, x, y):
        return np_.sin(x), np_.ones(2), y * 0.0 + 1.0

    J = ours_jacfwd(f, X3, 1.5, argnums=(0, 1))
    assert_tree_close(J, jax_jacfwd(f, X3, 1.5, argnums=(0, 1)))


# --------------------------------------------------------------------------- nesting


def scalar_fn(np_, x):
    return np_.sum(np_.sin(x) * np_.exp(x[::-1] / 2)) + np_.prod(np_.tanh(x)) ** 2


def vector_fn(np_, x):
    return np_.stack([np_.sum(x**3), np_.sin(x[0]) * x[1], np_.tanh(x @ x)])


def test_hessian_by_jacfwd_of_jacfwd_matches_jax_hessian():
    H = dualad.jacfwd(dualad.jacfwd(lambda x: scalar_fn(np, x)))(X3)
    H_ref = np.asarray(jit(jax.hessian(lambda x: scalar_fn(jnp, x)))(X3))
    np.testing.assert_allclose(H, H_ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_hessian_of_vector_function_with_chunks(chunk_size):
    inner = dualad.jacfwd(lambda x: vector_fn(np, x), chunk_size=chunk_size)
    H = dualad.jacfwd(inner, chunk_size=chunk_size)(X3)
    H_ref = np.asarray(jit(jax.hessian(lambda x: vector_fn(jnp, x)))(X3))
    assert H.shape == (3, 3, 3)
    np.testing.assert_allclose(H, H_ref, rtol=1e-11, atol=1e-12)


def test_third_derivative():
    """d3/dx3 e**(2x) sin(x) = Im((2+i)**3 e**((2+i)x)) = e**(2x) (11 cos x + 2 sin x)."""
    f = lambda x: np.sin(x) * np.exp(2 * x)  # noqa: E731
    d3 = dualad.jacfwd(dualad.jacfwd(dualad.jacfwd(f)))(0.3)
    assert d3 == pytest.approx(np.exp(0.6) * (11 * np.cos(0.3) + 2 * np.sin(0.3)), rel=1e-13)


def test_jvp_of_a_jacfwd_is_a_hessian_vector_product():
    v = np.array([0.3, -1.0, 2.0])
    grad = dualad.jacfwd(lambda x: scalar_fn(np, x))
    g, hv = dualad.jvp(grad, (X3,), (v,))
    g_ref, hv_ref = jit(lambda x, v: jax.jvp(jax.grad(lambda z: scalar_fn(jnp, z)), (x,),
                                                  (v,)))(X3, v)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hv, hv_ref, rtol=1e-11, atol=1e-12)


def test_jvp_inside_jacfwd():
    """d/dx of the directional derivative along v: the Hessian (of each output) times v."""
    v = np.array([1.0, 0.5, -0.25])

    def directional(x):
        return dualad.jvp(lambda z: vector_fn(np, z), (x,), (v,))[1]

    J = dualad.jacfwd(directional)(X3)
    J_ref = jit(jax.jacfwd(lambda x: jax.jvp(lambda z: vector_fn(jnp, z), (x,), (v,))[1]))(X3)
    np.testing.assert_allclose(J, np.asarray(J_ref), rtol=1e-11, atol=1e-12)


def test_no_perturbation_confusion():
    """d/dx [x * d/dy (x + y)] at x = 1 is 1 (the inner derivative is 1), not 2."""
    def outer(x):
        return x * dualad.jacfwd(lambda y: x + y)(1.0)

    assert dualad.jacfwd(outer)(1.0) == 1.0
    _, d = dualad.jvp(lambda x: x * dualad.jvp(lambda y: x * y, (2.0,), (1.0,))[1], (3.0,),
                      (1.0,))
    assert d == pytest.approx(6.0)  # d/dx x * x = 2x


def test_closure_over_outer_dual():
    """The inner function closes over the outer variable: mixed levels in one operation."""
    def f(x):
        return dualad.jacfwd(lambda y: np.sin(x * y) * y)(x)

    J = dualad.jacfwd(f)(X3)
    J_ref = jit(jax.jacfwd(lambda x: jax.jacfwd(lambda y: jnp.sin(x * y) * y)(x)))(X3)
    assert J.shape == (3, 3, 3)
    np.testing.assert_allclose(J, np.asarray(J_ref), rtol=1e-11, atol=1e-12)
    # without the closure path (x held constant inside) the answer would differ
    J_inner_only = jit(jax.jacfwd(lambda y: jax.jacfwd(lambda z: jnp.sin(X3 * z) * z)(y)))(
        X3)
    assert not np.allclose(J, np.asarray(J_inner_only))


# --------------------------------------------------------------------------- user primitive


def _softplus_jvp(dx, x, *, out):
    # written with np calls so that it is itself differentiable (second derivatives)
    return dx / (1 + np.exp(-x))


user_softplus = dualad.REGISTRY.get("user_softplus_transforms") or dualad.defprimitive(
    "user_softplus_transforms", impl=lambda x: np.logaddexp(0.0, x), jvp=_softplus_jvp,
    vjp=lambda ct, x, *, out: ct / (1 + np.exp(-x)), elementwise=True,
    doc="log(1 + e**x); d/dx = sigmoid(x)",
    examples=(dualad.Example(lambda np_, x: user_softplus(x), ((3,),),
                             reference=lambda np_, x: np_.logaddexp(0.0, x)),),
)


def softplus_model(np_, softplus, W, x):
    return np_.sum(softplus(W @ x) ** 2) + softplus(x[0])


def test_user_primitive_inside_numpy_code_matches_jax():
    grad = dualad.jacfwd(lambda W, x: softplus_model(np, user_softplus, W, x), argnums=(0, 1))
    ref = jit(jax.jacfwd(lambda W, x: softplus_model(jnp, jax.nn.softplus, W, x),
                             argnums=(0, 1)))
    assert_tree_close(grad(M23, X3), jax.tree_util.tree_map(np.asarray, ref(M23, X3)),
                      rtol=1e-11, atol=1e-12)


def test_user_primitive_second_derivative_matches_jax():
    H = dualad.jacfwd(dualad.jacfwd(lambda x: softplus_model(np, user_softplus, M23, x)))(X3)
    H_ref = jit(jax.hessian(lambda x: softplus_model(jnp, jax.nn.softplus, M23, x)))(X3)
    np.testing.assert_allclose(H, np.asarray(H_ref), rtol=1e-11, atol=1e-12)
    d2 = dualad.jacfwd(dualad.jacfwd(user_softplus))(0.4)
    s = 1 / (1 + np.exp(-0.4))
    assert d2 == pytest.approx(s * (1 - s), rel=1e-13)  # sigmoid' = s (1 - s)


def test_user_primitive_in_reverse_mode_matches_jax():
    f = lambda W, x: softplus_model(np, user_softplus, W, x)  # noqa: E731
    f_ref = lambda W, x: softplus_model(jnp, jax.nn.softplus, W, x)  # noqa: E731
    g = dualad.grad(f, argnums=(0, 1))(M23, X3)
    g_ref = jit(jax.grad(f_ref, argnums=(0, 1)))(M23, X3)
    assert_tree_close(g, jax.tree_util.tree_map(np.asarray, g_ref), rtol=1e-11, atol=1e-12)
    H = dualad.hessian(lambda x: f(M23, x))(X3)
    H_ref = jit(jax.hessian(lambda x: f_ref(M23, x)))(X3)
    np.testing.assert_allclose(H, np.asarray(H_ref), rtol=1e-11, atol=1e-12)


def test_user_primitive_on_plain_arrays_and_broadcasting():
    np.testing.assert_allclose(user_softplus(X3), np.logaddexp(0.0, X3), rtol=1e-15)
    J = dualad.jacfwd(lambda b: user_softplus(M23 + b), chunk_size=2)(X3)
    expected = np.zeros((2, 3, 3))
    s = 1 / (1 + np.exp(-(M23 + X3)))
    for i in range(2):
        expected[i, np.arange(3), np.arange(3)] = s[i]
    np.testing.assert_allclose(J, expected, rtol=1e-14)


# --------------------------------------------------------------------------- nesting and trees


def test_nested_jacfwd_with_dict_results_matches_jax():
    def inner(np_, jac, x):
        return jac(lambda y: {"a": y * x, "b": [np_.sin(y * x)]})(x)

    ours = dualad.jacfwd(lambda x: inner(np, dualad.jacfwd, x))(X3)
    theirs = jit(jax.jacfwd(lambda x: inner(jnp, jax.jacfwd, x)))(X3)
    assert_tree_close(ours, jax.tree_util.tree_map(np.asarray, theirs), rtol=1e-11, atol=1e-12)


def test_inner_result_constant_in_the_inner_variable():
    """The inner Jacobian is 0, the inner primal still carries the outer derivative."""
    assert dualad.jacfwd(lambda x: dualad.jacfwd(lambda y: x * 2.0)(1.0))(3.0) == 0.0
    assert dualad.jacfwd(lambda x: dualad.jvp(lambda y: x * y, (2.0,), (1.0,))[0])(3.0) == 2.0

    def aux_of_outer(x):
        return dualad.jacfwd(lambda y: (y * x, x**2), has_aux=True)(2.0)[1]

    assert dualad.jacfwd(aux_of_outer)(1.5) == pytest.approx(3.0)  # aux keeps outer levels


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_has_aux_with_chunks(chunk_size):
    calls = []

    def f(x):
        calls.append(None)
        return np.sin(x), {"s": np.sum(x), "n": len(calls)}

    J, aux = dualad.jacfwd(f, has_aux=True, chunk_size=chunk_size)(X3)
    np.testing.assert_allclose(J, np.diag(np.cos(X3)), rtol=1e-15)
    assert not isinstance(aux["s"], dualad.Dual) and aux["s"] == pytest.approx(np.sum(X3))
    assert aux["n"] == 1  # the aux of the first pass
