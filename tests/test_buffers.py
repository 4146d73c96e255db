"""Preallocate-then-fill: ``out = np.zeros_like(x); out[i] = ...; out[1:] += ...``.

Each program is written twice: as scientific code writes it (a buffer made from the traced
value, filled by assignments and in-place operators) and functionally for JAX (``.at[]``).
Both modes, second and third order are checked against JAX in float64; a buffer that cannot
carry derivatives (``np.zeros(n)``) raises dualad's own error in both modes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad

from .reference import _run, assert_tree_close

RNG = np.random.default_rng(7)
X = RNG.uniform(0.3, 1.5, size=5)


def recurrence(x):
    out = np.zeros_like(x)
    out[0] = x[0]
    for i in range(1, x.shape[0]):
        out[i] = 0.5 * out[i - 1] + np.sin(x[i])
    return out


def recurrence_jax(x):
    out = jnp.zeros_like(x).at[0].set(x[0])
    for i in range(1, x.shape[0]):
        out = out.at[i].set(0.5 * out[i - 1] + jnp.sin(x[i]))
    return out


def slices(x):
    out = np.empty_like(x)
    out[:] = x ** 2
    out[1:] += x[:-1] * x[1:]
    out[1:] += out[:-1]  # overlapping: NumPy reads the old values
    out[:2] *= x[3]
    return out


def slices_jax(x):
    out = x ** 2
    out = out.at[1:].add(x[:-1] * x[1:])
    out = out.at[1:].add(out[:-1])
    return out.at[:2].multiply(x[3])


def matrix(x):
    out = np.zeros_like(x, shape=(3, 3))
    out[np.arange(3), np.arange(3)] = x[:3]
    out[0, 1:] += x[3:] ** 2
    out[:, 2] = np.exp(out[:, 0]) * x[4]
    return out @ out


def matrix_jax(x):
    out = jnp.zeros((3, 3)).at[jnp.arange(3), jnp.arange(3)].set(x[:3])
    out = out.at[0, 1:].add(x[3:] ** 2)
    out = out.at[:, 2].set(jnp.exp(out[:, 0]) * x[4])
    return out @ out


def masks_and_repeats(x):
    y = x.copy()
    y[x < 0.9] = 0.0
    y[np.array([0, 0, 1])] = np.stack([x[1], x[2], x[3]])  # row 0 keeps the last write
    z = np.full_like(x, x[4])
    z[2:4] = y[::2][:2]
    return y * z + np.ones_like(x) * x


def masks_and_repeats_jax(x):
    y = jnp.where(x < 0.9, 0.0, x)
    y = y.at[jnp.array([0, 1])].set(jnp.stack([x[2], x[3]]))
    z = jnp.full_like(x, x[4]).at[2:4].set(y[::2][:2])
    return y * z + x


PROGRAMS = [
    pytest.param(recurrence, recurrence_jax, id="recurrence"),
    pytest.param(slices, slices_jax, id="slices"),
    pytest.param(matrix, matrix_jax, id="matrix"),
    pytest.param(masks_and_repeats, masks_and_repeats_jax, id="masks-and-repeats"),
]


@pytest.mark.parametrize("f, f_jax", PROGRAMS)
def test_filled_buffer_matches_jax_in_both_modes(f, f_jax):
    assert_tree_close(f(X), np.asarray(_run(f_jax, (X,))), what="value")
    expected = np.asarray(_run(jax.jacfwd(f_jax), (X,)))
    assert_tree_close(dualad.jacfwd(f)(X), expected, what="jacfwd")
    assert_tree_close(dualad.jacrev(f)(X), expected, what="jacrev")


@pytest.mark.parametrize("f, f_jax", PROGRAMS)
def test_filled_buffer_second_order_matches_jax(f, f_jax):
    def scalar(x):
        return np.sum(np.sin(f(x)))

    expected = np.asarray(_run(jax.hessian(lambda x: jnp.sum(jnp.sin(f_jax(x)))), (X,)))
    assert_tree_close(dualad.hessian(scalar)(X), expected, what="forward over reverse")
    assert_tree_close(dualad.jacfwd(dualad.jacfwd(scalar))(X), expected, what="fwd over fwd")
    assert_tree_close(dualad.jacrev(dualad.grad(scalar))(X), expected, what="rev over rev")


def test_filled_buffer_third_order_matches_jax():
    def scalar(x):
        return np.sum(np.sin(slices(x)) * recurrence(x))

    def scalar_jax(x):
        return jnp.sum(jnp.sin(slices_jax(x)) * recurrence_jax(x))

    expected = np.asarray(_run(jax.jacfwd(jax.hessian(scalar_jax)), (X,)))
    assert_tree_close(dualad.jacfwd(dualad.hessian(scalar))(X), expected, what="fwd(hessian)")
    assert_tree_close(dualad.jacrev(dualad.jacfwd(dualad.grad(scalar)))(X), expected,
                      what="rev(fwd(grad))")


def test_a_buffer_with_an_integer_dtype_carries_no_derivative():
    def f(x):
        counts = np.zeros_like(x, dtype=int)
        assert type(counts) is np.ndarray
        counts[x > 1.0] += 1
        return x * counts

    assert_tree_close(dualad.jacfwd(f)(X), np.diag((X > 1.0) * 1.0))


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
@pytest.mark.parametrize("key", [0, slice(1, None), (np.array([0, 2]),)])
def test_an_active_value_into_a_plain_buffer_raises_dualads_error(transform, key):
    def f(x):
        out = np.zeros(5)
        out[key] = x[key]
        return out

    with pytest.raises(dualad.ConversionError, match=r"np\.zeros_like\(x\)") as info:
        transform(f)(X)
    assert "out[key] = value" in str(info.value)
    assert info.value.__cause__ is None  # not NumPy's ValueError with dualad's as the cause


def test_a_view_taken_before_an_assignment_is_refused_after_it():
    def f(x):
        out = np.zeros_like(x)
        head = out[:2]
        out[1] = x[0]
        return head + 1.0  # NumPy's head shows the new out[1]; dualad's cannot

    with pytest.raises(dualad.UnsupportedPrimitiveError, match="out of date"):
        dualad.jacfwd(f)(X)


def test_two_views_updated_before_the_write_back_are_refused():
    def f(x):
        out = np.zeros_like(x)
        tail, head = out[1:], out[:2]
        tail += x[1:]
        head += x[:2]  # out[1] changed through both views: one write-back cannot show it
        out[1:] = tail
        return out

    with pytest.raises(dualad.UnsupportedPrimitiveError, match="out of date"):
        dualad.jacrev(f)(X)


def test_a_view_written_back_elsewhere_is_refused():
    def f(x):
        out = np.zeros_like(x)
        tail = out[1:]
        tail += x[1:]
        out[:-1] = tail  # NumPy's out[1:] also changed; this write does not show it
        return out

    with pytest.raises(dualad.UnsupportedPrimitiveError, match="out of date"):
        dualad.jacfwd(f)(X)


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
def test_a_buffer_made_like_an_active_value_names_the_like_function(transform):
    with pytest.raises(dualad.UnsupportedPrimitiveError, match=r"np\.zeros_like\(x, shape="):
        transform(lambda x: np.zeros(3, like=x))(X)
