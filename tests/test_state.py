"""No silent wrong derivative, whatever the code does to its arrays.

In-place updates, aliases, copies, views, buffers reused or changed after use, complex
constants, masked arrays, hidden state, user rules of the wrong shape and values kept beyond
their transform: each either gives NumPy's value and JAX's derivative (in both modes) or
raises a ``DualadError`` that says what to write instead.
"""

from __future__ import annotations

import copy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad import (
    ConversionError,
    InvalidInputError,
    PerturbationConfusionError,
    ShapeMismatchError,
    UnsupportedPrimitiveError,
)

X = np.array([1.0, 2.0, 4.0])
V = np.array([0.5, -1.0, 2.0])


def _all_modes(f, x, jax_f):
    """f's value, gradient (grad, value_and_grad, vjp, jacrev, jacfwd in chunks), jvp, hvp and
    Hessian against JAX's on the functional rewrite ``jax_f``; the caller's x stays as is."""
    keep = x.copy()
    expected_value = float(jax_f(jnp.asarray(x)))
    expected_grad = np.asarray(jax.grad(jax_f)(jnp.asarray(x)))
    expected_hess = np.asarray(jax.hessian(jax_f)(jnp.asarray(x)))
    value, g = dualad.value_and_grad(f)(x)
    np.testing.assert_allclose(value, expected_value, rtol=1e-12)
    np.testing.assert_allclose(g, expected_grad, rtol=1e-12)
    np.testing.assert_allclose(dualad.grad(f)(x), expected_grad, rtol=1e-12)
    y, pullback = dualad.vjp(f, x)
    np.testing.assert_allclose(pullback(1.0)[0], expected_grad, rtol=1e-12)
    np.testing.assert_allclose(dualad.jacrev(f)(x), expected_grad, rtol=1e-12)
    for chunk_size in (None, 1):
        np.testing.assert_allclose(dualad.jacfwd(f, chunk_size=chunk_size)(x), expected_grad,
                                   rtol=1e-12)
    y, dy = dualad.jvp(f, (x,), (V,))
    np.testing.assert_allclose(y, expected_value, rtol=1e-12)
    np.testing.assert_allclose(dy, expected_grad @ V, rtol=1e-12)
    np.testing.assert_allclose(dualad.hvp(f, (x,), (V,)), expected_hess @ V, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(dualad.hessian(f)(x), expected_hess, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(x, keep)


# --------------------------------------------------------------------------- 1. in place


def test_inplace_update_of_a_copied_argument_in_every_mode():
    def loss(w):
        w = w.copy()
        w -= w.mean()
        return np.sum(w ** 2)

    _all_modes(loss, X, lambda w: jnp.sum((w - w.mean()) ** 2))
    np.testing.assert_allclose(dualad.grad(loss)(X), [-8 / 3, -2 / 3, 10 / 3], rtol=1e-12)


def test_inplace_update_of_the_argument_itself_in_every_mode():
    def f(x):
        x *= 2
        x += np.sin(x)
        return np.sum(x * x)

    _all_modes(f, X, lambda x: jnp.sum((2 * x + jnp.sin(2 * x)) ** 2))


def test_every_inplace_operator_on_an_argument():
    def f(x):
        x += 1.5
        x -= 0.25
        x *= x
        x /= 3.0
        x **= 1.5
        x %= 7.0
        return np.sum(x)

    def jax_f(x):
        x = ((x + 1.25) * (x + 1.25) / 3.0) ** 1.5
        return jnp.sum(jnp.remainder(x, 7.0))

    _all_modes(f, X, jax_f)


def test_inplace_matmul_and_updates_of_several_arguments():
    def f(x, A):
        A = A.copy()
        A @= A
        x @= A
        return np.sum(x ** 2)

    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.0], [0.0, 1.0, 3.0]])
    jax_f = lambda x, A: jnp.sum((x @ (A @ A)) ** 2)  # noqa: E731
    g = dualad.grad(f, argnums=(0, 1))(X, A)
    expected = jax.grad(jax_f, argnums=(0, 1))(X, A)
    for got, want in zip(g, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dualad_compare_agrees_with_a_correct_hand_gradient_of_an_inplace_loss():
    def loss(w):
        w = w.copy()
        w -= w.mean()
        return np.sum(w ** 2)

    def hand(w):
        return 2 * (w - w.mean())

    assert dualad.compare(loss, hand, X).agrees


def test_scalar_values_rebind_like_numpys_scalars():
    # np.sum(x) and x[0] are NumPy scalars, which are immutable: s += 1 rebinds s only
    def f(x):
        s = np.sum(x)
        t = s
        t += 1.0
        row = np.array([x[0], x[1]], dtype=object)
        first = row[0]
        row[0] += 10.0
        return s * t + first * row[0]

    def jax_f(x):
        s = jnp.sum(x)
        return s * (s + 1.0) + x[0] * (x[0] + 10.0)

    _all_modes(f, X, jax_f)


def test_inplace_operator_whose_result_has_no_derivative_raises():
    def f(x):
        x = x * 1.0
        x //= 2.0
        return np.sum(x)

    with pytest.raises(UnsupportedPrimitiveError, match=r"x = x // y"):
        dualad.grad(f)(X)


# --------------------------------------------------------------------------- 2. copies


@pytest.mark.parametrize("make_copy", [
    pytest.param(lambda x: x.copy(), id="method"),
    pytest.param(lambda x: np.copy(x), id="np.copy"),
    pytest.param(copy.copy, id="copy.copy"),
    pytest.param(copy.deepcopy, id="copy.deepcopy"),
    pytest.param(lambda x: x.flatten(), id="flatten"),
])
def test_a_copy_is_a_new_array(make_copy):
    def f(x):
        y = make_copy(x)
        y += 1.0
        return np.sum(x * y)

    assert f(np.array([1.0, 2.0, 3.0])) == 20.0  # NumPy's own value
    _all_modes(f, np.array([1.0, 2.0, 3.0]), lambda x: jnp.sum(x * (x + 1.0)))
    y, dy = dualad.jvp(f, (np.array([1.0, 2.0, 3.0]),), (np.ones(3),))
    assert (y, dy) == (20.0, 15.0)


def test_an_alias_is_the_same_array():
    def f(x):
        x = x * 1.0
        y = x
        y += 1.0
        return np.sum(x * y)

    _all_modes(f, X, lambda x: jnp.sum((x + 1.0) ** 2))


def test_pickling_an_active_value_raises_and_says_what_to_pickle():
    for transform in (dualad.grad, lambda f: dualad.jacfwd(f)):
        with pytest.raises(ConversionError, match=r"dualad.primal\(x\)"):
            transform(lambda x: np.sum(pickle.loads(pickle.dumps(x))))(X)


# --------------------------------------------------------------------------- 3. views

VIEWS = [  # view(np_, x): written once for NumPy and jax.numpy
    pytest.param(lambda np_, x: x.reshape(-1), id="reshape"),
    pytest.param(lambda np_, x: x.ravel(), id="ravel"),
    pytest.param(lambda np_, x: np_.ravel(x), id="np.ravel"),
    pytest.param(lambda np_, x: x.T, id="T"),
    pytest.param(lambda np_, x: x.transpose(), id="transpose"),
    pytest.param(lambda np_, x: np_.swapaxes(x, 0, 1), id="swapaxes"),
    pytest.param(lambda np_, x: np_.moveaxis(x, 0, 1), id="moveaxis"),
    pytest.param(lambda np_, x: x[1:], id="slice"),
    pytest.param(lambda np_, x: x[0], id="row"),
    pytest.param(lambda np_, x: x[:, ::-1], id="negative-step"),
    pytest.param(lambda np_, x: x[..., None], id="newaxis"),
    pytest.param(lambda np_, x: np_.flipud(x), id="flipud"),
    pytest.param(lambda np_, x: np_.split(x, 2)[0], id="split"),
    pytest.param(lambda np_, x: np_.expand_dims(x, 0), id="expand_dims"),
    pytest.param(lambda np_, x: x[None].squeeze(0), id="squeeze"),
]
READ_ONLY_VIEWS = [  # NumPy's own are read-only
    pytest.param(lambda np_, x: np_.diagonal(x), id="diagonal"),
    pytest.param(lambda np_, x: np_.broadcast_to(x, (3, 2, 2)), id="broadcast_to"),
]


@pytest.mark.parametrize("view", VIEWS + READ_ONLY_VIEWS)
@pytest.mark.parametrize("transform", ["jvp", "grad", "jacfwd"])
def test_an_array_numpy_would_change_through_a_view_raises_when_used(view, transform):
    def through_view(x):
        x = x * 1.0
        v = view(np, x)
        v *= 3.0
        return np.sum(x)  # NumPy's x is tripled too

    def on_base(x):
        x = x * 1.0
        v = view(np, x)
        x += 1.0
        return np.sum(v)  # NumPy's v shows the update

    def returned(x):
        x = x * 1.0
        v = view(np, x)
        x += 1.0
        return v

    def compared(x):
        x = x * 1.0
        v = view(np, x)
        x += 1.0
        return np.where(v > 2.0, x, 0.0)  # even a comparison would use the old values

    x = np.arange(4.0).reshape(2, 2)
    for f in (through_view, on_base, returned, compared):
        with pytest.raises(UnsupportedPrimitiveError, match="updated in place.*after the view"):
            if transform == "jvp":
                dualad.jvp(f, (x,), (np.ones((2, 2)),))
            elif transform == "grad":
                dualad.vjp(f, x)
            else:
                dualad.jacfwd(f, chunk_size=1)(x)


def test_a_stale_array_cannot_be_copied_or_read_either():
    seen = []

    def f(x):
        x = x * 1.0
        v = x.T
        x += 1.0
        for read in (lambda: v.copy(), lambda: copy.deepcopy(v), lambda: dualad.primal(v),
                     lambda: bool(v[0, 0]), lambda: v[0], lambda: list(v), lambda: v + 1):
            with pytest.raises(UnsupportedPrimitiveError, match="out of date"):
                read()
            seen.append(read)
        assert "stale" in repr(v) and v.shape == (2, 2)
        return np.sum(x)

    dualad.grad(f)(np.ones((2, 2)))
    assert len(seen) == 7


@pytest.mark.parametrize("f, jax_f", [
    pytest.param(lambda A: _sym(A), lambda A: jnp.sum((A + A.T) ** 2), id="A += A.T"),
    pytest.param(lambda A: _transposed_in_place(A), lambda A: jnp.sum((A.T + 1.0) ** 2),
                 id="x = x.T; x += 1"),
    pytest.param(lambda A: _disjoint_rows(A), lambda A: jnp.sum(A[0] * 2.0 + A[1]),
                 id="rows that share no memory"),
])
def test_updates_whose_view_is_gone_or_disjoint_are_numpys(f, jax_f):
    A = np.array([[0.5, 1.0, -2.0], [3.0, 0.25, 1.5], [2.0, -1.0, 0.75]])
    np.testing.assert_allclose(dualad.value_and_grad(f)(A)[0], f(A.copy()), rtol=1e-12)
    _all_modes_matrix(f, A, jax_f)


def _sym(A):
    A = A * 1.0
    A += A.T  # the view is a temporary: NumPy's overlap handling, dualad's new array
    return np.sum(A ** 2)


def _transposed_in_place(A):
    A = A.T  # the argument is not used again
    A += 1.0
    return np.sum(A ** 2)


def _disjoint_rows(A):
    A = A * 1.0
    first, second = A[0], A[1]
    first *= 2.0  # changes A[0] in NumPy: the base goes stale, the other row does not
    return np.sum(first + second)


def _all_modes_matrix(f, A, jax_f):
    expected = np.asarray(jax.grad(jax_f)(A))
    np.testing.assert_allclose(dualad.grad(f)(A), expected, rtol=1e-12)
    np.testing.assert_allclose(dualad.jacrev(f)(A), expected, rtol=1e-12)
    np.testing.assert_allclose(dualad.jacfwd(f, chunk_size=2)(A), expected, rtol=1e-12)
    _, dy = dualad.jvp(f, (A,), (np.ones_like(A),))
    np.testing.assert_allclose(dy, np.sum(expected), rtol=1e-12)


@pytest.mark.parametrize("view", VIEWS)
def test_inplace_update_of_a_view_whose_base_is_gone_is_numpys(view):
    def f(x):
        v = view(np, x * 2.0)  # the base is a temporary: nobody else sees the update
        v += 1.0
        w = x * 1.0
        u = view(np, w)
        del u
        w *= 3.0  # its view is gone too
        return np.sum(v * v) + np.sum(w)

    x = np.arange(4.0).reshape(2, 2) + 0.5
    jax_f = lambda x: jnp.sum((view(jnp, 2.0 * x) + 1.0) ** 2) + jnp.sum(3.0 * x)  # noqa: E731
    np.testing.assert_allclose(dualad.grad(f)(x), jax.grad(jax_f)(x), rtol=1e-12)
    _, dy = dualad.jvp(f, (x,), (np.ones((2, 2)),))
    np.testing.assert_allclose(dy, np.sum(jax.grad(jax_f)(x)), rtol=1e-12)
    np.testing.assert_allclose(dualad.value_and_grad(f)(x)[0], f(x.copy()), rtol=1e-12)


def test_a_copy_of_a_view_is_free_to_change():
    def f(x):
        x = x * 1.0
        v = x[1:].copy()
        v *= 3.0
        return np.sum(x) + np.sum(v)

    _all_modes(f, X, lambda x: jnp.sum(x) + 3.0 * jnp.sum(x[1:]))


def test_advanced_indexing_makes_a_copy_as_in_numpy():
    def f(x):
        x = x * 1.0
        picked = x[[0, 2]]
        picked += 1.0
        masked = x[x > 1.5]
        masked *= 2.0
        return np.sum(x) + np.sum(picked) + np.sum(masked)

    assert f(X.copy()) == pytest.approx(7.0 + 7.0 + 12.0)
    _all_modes(f, X, lambda x: jnp.sum(x) + jnp.sum(x[jnp.array([0, 2])] + 1.0)
               + 2.0 * jnp.sum(x[1:]))


# --------------------------------------------------------------------------- 4. snapshots


def test_a_work_buffer_reused_inside_f_does_not_change_the_gradient():
    buf = np.zeros(3)

    def f(x):
        buf[:] = 2.0
        y = x * buf
        buf[:] = 5.0
        z = y * buf[0]
        return np.sum(z * z)

    expected = 2 * (10.0 * X) * 10.0  # d/dx sum((10 x)^2)
    np.testing.assert_allclose(dualad.grad(f)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(dualad.jacrev(f)(X), expected, rtol=1e-12)
    np.testing.assert_allclose(dualad.jacfwd(f, chunk_size=1)(X), expected, rtol=1e-12)


def test_a_constant_changed_after_its_use_does_not_change_the_gradient():
    def f(x, c):
        y = np.sum(x * c)
        c += 100.0  # the caller's array, as NumPy code would change it
        return y * np.sum(x)

    c = np.array([1.0, 2.0, 3.0])
    expected = np.asarray(jax.grad(lambda x: jnp.sum(x * jnp.array([1.0, 2.0, 3.0]))
                                   * jnp.sum(x))(X))
    np.testing.assert_allclose(dualad.grad(f)(X, c), expected, rtol=1e-12)


def test_index_arrays_and_masks_changed_after_use():
    def f(x):
        idx = np.array([0, 2])
        mask = np.array([True, False, True])
        y = x[idx] * 2.0 + np.where(mask, x, 0.0)[idx]
        idx[:] = 1
        mask[:] = False
        return np.sum(y ** 2)

    jax_f = lambda x: jnp.sum((3.0 * x[jnp.array([0, 2])]) ** 2)  # noqa: E731
    np.testing.assert_allclose(dualad.grad(f)(X), jax.grad(jax_f)(X), rtol=1e-12)


def test_the_caller_changing_arguments_and_results_before_the_pullback():
    W = np.array([1.0, 2.0, 3.0])
    c = np.array([1.0, 1.0, 1.0])
    y, pullback = dualad.vjp(lambda w, c: np.exp(w) * c, W, c)
    W *= 3.0
    c *= 5.0
    y *= 0.0  # the output is the caller's copy: the pullback keeps its own
    w_bar, c_bar = pullback(np.ones(3))
    np.testing.assert_allclose(w_bar, np.exp([1.0, 2.0, 3.0]), rtol=1e-12)
    np.testing.assert_allclose(c_bar, np.exp([1.0, 2.0, 3.0]), rtol=1e-12)


def test_aux_values_are_the_callers_to_change():
    (y, pullback, aux) = dualad.vjp(lambda x: (np.sum(np.exp(x)), np.exp(x)), X, has_aux=True)
    aux *= 0.0
    np.testing.assert_allclose(pullback(1.0)[0], np.exp(X), rtol=1e-12)


# --------------------------------------------------------------------------- 5. complex
# (complex values meeting active ones are differentiated with JAX's conventions:
# tests/test_complex.py)


def test_real_and_imag_of_real_active_arrays():
    def f(x):
        return np.sum(x.real * 2.0 + x.imag + x.conj())

    _all_modes(f, X, lambda x: jnp.sum(3.0 * x))


# --------------------------------------------------------------------------- 6. copy module


def test_deepcopy_inside_f_keeps_one_recording():
    def f(x):
        y = copy.deepcopy(x)
        z = copy.copy(x * 1.0)
        return np.sum(x * y) + np.sum(z)

    _all_modes(f, np.ones(3), lambda x: jnp.sum(x * x) + jnp.sum(x))


# --------------------------------------------------------------------------- 7. subclasses


def test_masked_arrays_are_refused_as_inputs_and_as_constants():
    xm = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(InvalidInputError, match=r"masked arrays.*filled"):
        dualad.value_and_grad(lambda x: np.sum(np.log(x)))(xm)
    with pytest.raises(InvalidInputError, match="masked"):
        dualad.jvp(lambda x: np.sum(np.log(x)), (xm,), (np.ones(3),))
    for f in (lambda x: x * xm, lambda x: np.add(x, xm), lambda x: np.dot(x, xm),
              lambda x: np.where(x > 0, x, xm)):
        with pytest.raises(InvalidInputError, match="masked"):
            dualad.grad(lambda x, f=f: np.sum(f(x)))(X)
        with pytest.raises(InvalidInputError, match="masked"):
            dualad.jvp(f, (X,), (V,))


def test_matrix_and_other_subclasses_are_refused():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(InvalidInputError, match="np.matrix"):
        dualad.grad(lambda x: np.sum(x * x))(m)
    with pytest.raises(InvalidInputError, match="np.matrix"):
        dualad.grad(lambda x: np.sum(x * m))(np.ones((2, 2)))


def test_memmap_inputs_are_plain_data(tmp_path):
    mm = np.memmap(tmp_path / "x.dat", dtype=np.float64, mode="w+", shape=(3,))
    mm[:] = X
    np.testing.assert_allclose(dualad.grad(lambda x: np.sum(x ** 2))(mm), 2 * X)
    np.testing.assert_allclose(dualad.grad(lambda x: np.sum(x * mm))(X), X)


# --------------------------------------------------------------------------- 8. hidden state


def _noisy(seed: int = 0, calls: list | None = None):
    rng = np.random.default_rng(seed)

    def f(x):
        if calls is not None:
            calls.append(1)
        keep = rng.random(x.shape) > 0.5  # dropout
        return np.where(keep, np.tanh(x) * rng.normal(size=x.shape), 0.0)

    return f


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64, 1024])
def test_jacfwd_evaluates_the_function_once_whatever_the_chunk_size(chunk_size):
    x = np.linspace(-1.0, 1.0, 1024)
    calls = []
    jac = dualad.jacfwd(_noisy(calls=calls), chunk_size=chunk_size)(x)
    assert len(calls) == 1
    np.testing.assert_array_equal(jac, dualad.jacfwd(_noisy(), chunk_size=1024)(x))
    np.testing.assert_allclose(jac, dualad.jacrev(_noisy())(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(jac, np.asarray(jax.jacrev(_jax_noisy())(x)), rtol=1e-14, atol=0)


def _jax_noisy(seed: int = 0):
    rng = np.random.default_rng(seed)

    def f(x):
        keep = rng.random(x.shape) > 0.5
        return jnp.where(keep, jnp.tanh(x) * rng.normal(size=x.shape), 0.0)

    return f


def test_hessian_of_a_function_with_hidden_state_is_one_evaluations():
    x = np.linspace(-1.0, 1.0, 300)  # several chunks of jacfwd over jacrev
    calls = []
    noisy = _noisy(calls=calls)
    hess = dualad.hessian(lambda x: np.sum(noisy(x) ** 2))(x)
    assert len(calls) == 1
    jax_noisy = _jax_noisy()
    expected = jax.hessian(lambda x: jnp.sum(jax_noisy(x) ** 2))(x)
    np.testing.assert_allclose(hess, expected, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- 9. user rules


def _user_primitive(name, jvp, vjp, **kwargs):
    return dualad.defprimitive(f"state_{name}", impl=lambda x: x * 2.0, jvp=jvp, vjp=vjp,
                               **kwargs)


GOOD_JVP = lambda dx, x, *, out: 2.0 * dx  # noqa: E731
GOOD_VJP = lambda ct, x, *, out: 2.0 * ct  # noqa: E731


def test_a_jvp_rule_of_the_wrong_shape_raises_naming_the_primitive():
    prim = _user_primitive("sum_jvp", lambda dx, x, *, out: np.sum(dx), GOOD_VJP)
    for call in (lambda: dualad.jvp(prim, (X,), (V,)), lambda: dualad.jacfwd(prim)(X),
                 lambda: dualad.jacfwd(prim, chunk_size=1)(X)):
        with pytest.raises(ShapeMismatchError,
                           match=r"'state_sum_jvp'.*jvp rule returned an array of shape \(\)"):
            call()


def test_a_batched_jvp_rule_ignoring_the_direction_axis_raises():
    prim = _user_primitive("first_direction", lambda dx, x, *, out: 2.0 * dx[0],
                           lambda ct, x, *, out: 2.0 * ct, batched=True)
    with pytest.raises(ShapeMismatchError, match="leading axis"):
        dualad.jacfwd(prim)(X)


def test_a_jvp_rule_of_one_direction_is_told_the_shape_of_one_direction():
    prim = _user_primitive("first_entry", lambda dx, x, *, out: 2.0 * dx[0], GOOD_VJP)
    with pytest.raises(ShapeMismatchError, match=r"for one direction; it must return a "
                                                 r"float array of the output's shape \(3,\)"):
        dualad.jacfwd(prim)(X)


@pytest.mark.parametrize("vjp, fragment", [
    pytest.param(lambda ct, x, *, out: None, "returned None", id="None"),
    pytest.param(lambda ct, x, *, out: np.sum(ct), "shape ()", id="scalar"),
    pytest.param(lambda ct, x, *, out: ct[:2], "shape (2,)", id="wrong-shape"),
    pytest.param(lambda ct, x, *, out: np.ones(ct.shape, dtype=int), "int", id="integer"),
    pytest.param(lambda ct, x, *, out: 2.0, "a float", id="python-number"),
])
def test_a_vjp_rule_returning_the_wrong_thing_raises_naming_the_primitive(vjp, fragment):
    prim = _user_primitive(f"vjp_{abs(hash(fragment))}", GOOD_JVP, vjp)
    with pytest.raises(ShapeMismatchError, match=r"'state_vjp_\d+'.*vjp rule") as info:
        dualad.grad(lambda x: np.sum(prim(x)))(X)
    assert fragment in str(info.value)


def test_a_jvp_rule_returning_none_raises():
    prim = _user_primitive("jvp_none", lambda dx, x, *, out: None, GOOD_VJP)
    with pytest.raises(ShapeMismatchError, match="returned None"):
        dualad.jvp(prim, (X,), (V,))


def test_a_multiple_result_rule_of_the_wrong_structure_raises():
    prim = dualad.defprimitive(
        "state_two_results", impl=lambda x: (x * 2.0, x * 3.0), multiple_results=True,
        jvp=lambda dx, x, *, out: 2.0 * dx, vjp=lambda ct, x, *, out: 2.0 * ct[0])
    with pytest.raises(ShapeMismatchError, match="tuple of 2"):
        dualad.jvp(lambda x: prim(x)[0], (X,), (V,))


def test_a_correct_user_rule_that_broadcasts_its_cotangent_is_accepted():
    scale = dualad.defprimitive(
        "state_scale", impl=lambda x, s: x * s, elementwise=True,
        jvp=(lambda dx, x, s, *, out: dx * s, lambda ds, x, s, *, out: ds * x),
        vjp=(lambda ct, x, s, *, out: ct * s, lambda ct, x, s, *, out: ct * x))
    s = np.array(3.0)
    gx, gs = dualad.grad(lambda x, s: np.sum(scale(x, s)), argnums=(0, 1))(X, s)
    np.testing.assert_allclose(gx, np.full(3, 3.0))
    np.testing.assert_allclose(gs, np.sum(X))


# --------------------------------------------------------------------------- leaks


def test_a_leaked_tape_value_raises_naming_the_transform_and_the_tape_stays_finished():
    kept = []

    def f(x):
        kept.append(x * 2.0)
        return np.sum(x)

    dualad.grad(f)(X)
    leaked = kept[0]
    size = leaked.tape.size
    with pytest.raises(PerturbationConfusionError, match=r"dualad\.grad call.*returned"):
        leaked + 1.0
    with pytest.raises(PerturbationConfusionError, match="dualad.grad"):
        np.sum(leaked)
    assert leaked.tape.size == size


@pytest.mark.parametrize("later", [
    pytest.param(lambda leaked: dualad.jvp(lambda z: z * leaked, (X,), (V,)), id="jvp"),
    pytest.param(lambda leaked: dualad.grad(lambda z: np.sum(z * leaked))(X), id="grad"),
    pytest.param(lambda leaked: dualad.jacfwd(lambda z: z + leaked)(X), id="jacfwd"),
])
def test_a_leaked_dual_raises_when_it_comes_back(later):
    kept = []
    dualad.jvp(lambda x: kept.append(x * 2.0) or x, (X,), (V,))
    with pytest.raises(PerturbationConfusionError, match=r"dualad\.jvp call"):
        later(kept[0])


def test_values_of_running_outer_transforms_are_not_leaks():
    # d/dx [x * d/dy (x * y)] = 2x: the outer dual is used inside the inner transform
    def outer(x):
        return x * dualad.grad(lambda y: x * y)(1.0)

    np.testing.assert_allclose(dualad.jvp(outer, (3.0,), (1.0,))[1], 6.0)
    np.testing.assert_allclose(dualad.grad(outer)(3.0), 6.0)
    hand_made = dualad.Dual(np.array(2.0), np.ones((1,)))  # never expires
    y = dualad.grad(lambda z: z * hand_made)(1.0)
    np.testing.assert_allclose(y.primal, 2.0)


# --------------------------------------------------------------------------- boundaries


def test_results_never_alias_the_callers_arrays():
    x, v = X.copy(), V.copy()
    y, dy = dualad.jvp(lambda x: x, (x,), (v,))
    assert not np.shares_memory(y, x) and not np.shares_memory(dy, v)
    y, dy = dualad.jvp(lambda x: x.reshape(3, 1), (x,), (v,))
    assert not np.shares_memory(y, x) and not np.shares_memory(dy, v)
    y, dy, aux = dualad.jvp(lambda x: (x, x), (x,), (v,), has_aux=True)
    assert not np.shares_memory(aux, x)
    y, pullback = dualad.vjp(lambda x: x, x)
    assert not np.shares_memory(y, x)
    u = np.array([1.0, 2.0, 3.0])
    (x_bar,) = pullback(u)
    assert not np.shares_memory(x_bar, u)
    x_bar *= 2.0  # results are writeable
    g = dualad.grad(lambda x: np.sum(x))(x)
    g *= 2.0
    np.testing.assert_array_equal(u, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(v, V)


def test_rules_cannot_write_into_the_callers_arrays():
    def careless_impl(x):
        try:
            x += 1.0  # a user's impl writing into its input
        except ValueError:
            pass
        return x * 2.0

    prim = dualad.defprimitive("state_careless", impl=careless_impl, jvp=GOOD_JVP,
                               vjp=GOOD_VJP)
    x = X.copy()
    dualad.jvp(prim, (x,), (V,))
    dualad.grad(lambda z: np.sum(prim(z)))(x)
    np.testing.assert_array_equal(x, X)


@pytest.mark.parametrize("f", [
    pytest.param(lambda x: np.sum(x > 1.5), id="bool-count"),
    pytest.param(lambda x: np.argmax(x), id="argmax"),
    pytest.param(lambda x: 3, id="python-int"),
])
def test_grad_of_an_integer_output_raises(f):
    for transform in (dualad.grad, dualad.value_and_grad, dualad.jacrev):
        with pytest.raises(InvalidInputError, match="integer or boolean"):
            transform(f)(X)


def test_grad_of_a_float_constant_is_zero():
    np.testing.assert_array_equal(dualad.grad(lambda x: 3.0)(X), np.zeros(3))


@pytest.mark.parametrize("write", [
    pytest.param(lambda x: x.fill(0.0), id="fill"),
    pytest.param(lambda x: x.put([0], 1.0), id="put"),
    pytest.param(lambda x: x.partition(1), id="partition"),
    pytest.param(lambda x: x.resize((4,)), id="resize"),
    pytest.param(lambda x: x.sort(), id="sort"),
    pytest.param(lambda x: np.copyto(x, 1.0), id="np.copyto"),
    pytest.param(lambda x: np.put(x, [0], 1.0), id="np.put"),
    pytest.param(lambda x: np.place(x, x > 0, 1.0), id="np.place"),
    pytest.param(lambda x: np.putmask(x, x > 0, 1.0), id="np.putmask"),
    pytest.param(lambda x: np.fill_diagonal(x, 0.0), id="np.fill_diagonal"),
    pytest.param(lambda x: np.put_along_axis(x, np.zeros((2, 1), int), 1.0, 1),
                 id="np.put_along_axis"),
])
def test_functions_and_methods_that_write_in_place_raise(write):
    def f(x):
        x = x * 1.0
        write(x)
        return np.sum(x)

    for transform in (dualad.grad, dualad.jacfwd):
        with pytest.raises(UnsupportedPrimitiveError, match="in place"):
            transform(f)(np.ones((2, 2)))


def test_an_elementwise_user_rule_may_return_a_broadcastable_contribution():
    # d(x + s) = dx + ds: for a scalar s, ds has shape (k, 1) after padding, like NumPy's
    shift = dualad.defprimitive(
        "state_shift", impl=lambda x, s: x + s, elementwise=True,
        jvp=(lambda dx, x, s, *, out: dx, lambda ds, x, s, *, out: ds),
        vjp=(lambda ct, x, s, *, out: ct, lambda ct, x, s, *, out: ct))
    jac = dualad.jacfwd(lambda x, s: shift(x, s), argnums=(0, 1))(X, np.array(2.0))
    np.testing.assert_array_equal(jac[0], np.eye(3))
    np.testing.assert_array_equal(jac[1], np.ones(3))
    _, dy = dualad.jvp(lambda s: shift(X, s), (np.array(2.0),), (np.array(1.0),))
    np.testing.assert_array_equal(dy, np.ones(3))


def test_ndarray_view_method_is_a_view():
    def f(x):
        x = x * 1.0
        v = x.view()
        v += 1.0
        return np.sum(v)  # x itself is not used again: allowed

    def g(x):
        x = x * 1.0
        v = x.view()
        v += 1.0
        return np.sum(x)  # NumPy's x shows the update: refused

    _all_modes(f, X, lambda x: jnp.sum(x + 1.0))
    with pytest.raises(UnsupportedPrimitiveError, match="out of date"):
        dualad.grad(g)(X)
    with pytest.raises(UnsupportedPrimitiveError, match="primal"):
        dualad.grad(lambda x: np.sum(x.view(np.int64)))(X)
