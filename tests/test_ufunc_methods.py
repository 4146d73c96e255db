"""Reductions, accumulations and ``at`` of differentiable ufuncs, beyond the registry walk:
stability far from 0, entries of -inf, third order, and the errors that name what to write.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad

from .reference import _run, assert_tree_close

WIDE = np.array([-1000.0, 0.0, -1000.5, 2.0, -3000.0])
"""exp() of these underflows or overflows: a naive log(cumsum(exp(x))) gives -inf and NaN."""


def _running_lse_jacobian(x):
    """d out_i / d x_j = exp(x_j - out_i) for j <= i (closed form)."""
    out = np.logaddexp.accumulate(x)
    earlier = np.tril(np.ones((x.size, x.size), dtype=bool))
    return np.exp(np.where(earlier, x[None, :] - out[:, None], -np.inf))


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
def test_running_log_sum_exp_is_stable_far_from_zero(transform):
    assert_tree_close(np.logaddexp.accumulate(WIDE), np.logaddexp.accumulate(WIDE))
    expected = _running_lse_jacobian(WIDE)
    assert np.isfinite(expected).all()
    value, jac = dualad.jvp(np.logaddexp.accumulate, (WIDE,), (np.ones(5),))
    assert_tree_close(value, np.logaddexp.accumulate(WIDE), rtol=1e-15)
    assert_tree_close(transform(np.logaddexp.accumulate)(WIDE), expected, rtol=1e-13)


@pytest.mark.parametrize("transform", [dualad.grad, lambda f: dualad.jacfwd(f)])
def test_log_sum_exp_of_minus_infinity_entries_gives_zero_weights(transform):
    # (every entry -inf: NaN, as JAX's; the weights 0/0 have no limit there)
    x = np.array([-np.inf, 0.5, -np.inf, 1.5])
    gradient = transform(np.logaddexp.reduce)(x)
    weights = np.exp(x - np.logaddexp.reduce(x))
    assert_tree_close(gradient, weights, rtol=1e-15)


def test_third_order_of_log_sum_exp_and_running_maximum_matches_jax():
    x = np.array([0.3, -1.2, 0.8, 0.1])

    def f(x):
        return np.logaddexp.reduce(np.sin(x) * np.maximum.accumulate(x) ** 2)

    def f_jax(x):
        return jnp.logaddexp.reduce(jnp.sin(x) * jnp.maximum.accumulate(x) ** 2)

    expected = np.asarray(_run(jax.jacfwd(jax.jacfwd(jax.grad(f_jax))), (x,)))
    assert_tree_close(dualad.jacfwd(dualad.hessian(f))(x), expected, rtol=1e-11)
    assert_tree_close(dualad.jacrev(dualad.jacrev(dualad.grad(f)))(x), expected, rtol=1e-11)


def test_add_at_into_a_buffer_matches_jax_in_both_modes():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    idx = np.array([0, 2, 0, 0])

    def f(x):
        out = np.ones_like(x) * x
        np.add.at(out, idx, x ** 2)
        np.subtract.at(out, np.array([1, 1]), x[:2])
        return out

    def f_jax(x):
        return (x.at[idx].add(x ** 2)).at[jnp.array([1, 1])].add(-x[:2])

    expected = np.asarray(_run(jax.jacfwd(f_jax), (x,)))
    assert_tree_close(f(x), np.asarray(_run(f_jax, (x,))))
    assert_tree_close(dualad.jacfwd(f)(x), expected)
    assert_tree_close(dualad.jacrev(f)(x), expected)


def _multiply_at(x):
    out = np.zeros_like(x)
    np.multiply.at(out, np.array([0, 1]), x[:2])
    return out


def _add_at_plain(x):
    out = np.zeros(4)
    np.add.at(out, np.array([0, 0]), x[:2])
    return out


REFUSED = [
    pytest.param(lambda x: np.subtract.reduce(x), [r"x\[0\] - np\.sum"], id="subtract.reduce"),
    pytest.param(lambda x: np.add.reduceat(x, [0, 2]), ["np.add.reduceat", "np.bincount"],
                 id="add.reduceat"),
    pytest.param(lambda x: np.fmax.accumulate(x), [r"np\.maximum\.accumulate\(np\.where"],
                 id="fmax.accumulate"),
    pytest.param(_multiply_at, [r"a\[indices\] \*= b"], id="multiply.at"),
    pytest.param(lambda x: np.arctan2.reduce(x), ["np.arctan2.reduce", "np.logaddexp.reduce"],
                 id="arctan2.reduce"),
    pytest.param(lambda x: np.logaddexp.reduce(x, initial=0.0), ["initial="], id="initial"),
    pytest.param(_add_at_plain, ["np.add.at", r"np\.zeros_like"], id="add.at-plain"),
]


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
@pytest.mark.parametrize("f, fragments", REFUSED)
def test_an_unsupported_ufunc_method_names_what_to_write(transform, f, fragments):
    with pytest.raises(dualad.UnsupportedPrimitiveError) as info:
        transform(f)(np.array([0.5, -1.0, 2.0, 0.25]))
    for fragment in fragments:
        assert re.search(fragment, str(info.value)), str(info.value)
