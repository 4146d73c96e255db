"""dualad.scipy.integrate.odeint: SciPy's solution, derivatives in y0 and args in both modes
against JAX's odeint (float64, tight tolerances) and central differences, second order, and
an ODE fitted to data."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
from jax.experimental.ode import odeint as jax_odeint

import dualad
from dualad.scipy.integrate import odeint
from tests.reference import _run, assert_tree_close, central_differences

TOL = {"rtol": 1e-11, "atol": 1e-12}
T = np.linspace(0.0, 2.0, 5)
Y0 = np.array([1.0, 0.5])
THETA = np.array([1.3, 0.7, 0.1])


def oscillator(y, t, theta):
    """A damped, driven oscillator; written once for NumPy and jax.numpy."""
    np_ = jnp if type(y).__module__.startswith("jax") else np
    return np_.stack([theta[0] * y[1], -theta[1] * y[0] - theta[2] * y[1] + 0.2 * np_.sin(t)])


def solve(y0, theta):
    return odeint(oscillator, y0, T, args=(theta,), **TOL)


def jax_solve(y0, theta):
    return jax_odeint(oscillator, y0, jnp.asarray(T), theta, rtol=1e-12, atol=1e-12)


def test_values_are_scipys():
    np.testing.assert_array_equal(
        solve(Y0, THETA), scipy.integrate.odeint(oscillator, Y0, T, args=(THETA,), **TOL))


@pytest.fixture(scope="module")
def jax_jacobians():
    import jax
    jac = _run(jax.jacrev(jax_solve, argnums=(0, 1)), (Y0, THETA))  # JAX's is reverse-only
    return tuple(np.asarray(j) for j in jac)


def test_both_modes_match_jax_and_central_differences(jax_jacobians):
    forward = dualad.jacfwd(solve, argnums=(0, 1))(Y0, THETA)
    reverse = dualad.jacrev(solve, argnums=(0, 1))(Y0, THETA)
    assert_tree_close(forward, jax_jacobians, rtol=1e-7, atol=1e-9, what="jacfwd vs jax")
    assert_tree_close(reverse, jax_jacobians, rtol=1e-7, atol=1e-9, what="jacrev vs jax")
    assert_tree_close(forward, central_differences(solve, (Y0, THETA)), rtol=1e-5, atol=1e-7,
                      what="jacfwd vs central differences")


def test_second_derivatives_match_differences_of_the_first():
    """Second order: both nestings against central differences of the gradient (which the
    test above checks against JAX; JAX's own second derivative of odeint takes seconds)."""
    def final(theta):
        return solve(Y0, theta)[-1, 0]

    gradient = dualad.grad(final)
    # the step balances the solver's error in the gradient (~1e-11, divided by the step)
    # against the differences' truncation error (~step**2)
    expected = central_differences(gradient, (THETA,), eps=1e-4)[0]
    assert_tree_close(dualad.hessian(final)(THETA), expected, rtol=1e-6, atol=1e-8)
    assert_tree_close(dualad.jacrev(dualad.jacrev(final))(THETA), expected, rtol=1e-6,
                      atol=1e-8)


def test_a_right_hand_side_returning_a_list_and_tfirst():
    def decay(t, y, k):
        return [-k * y[0], k * y[0]]

    def amounts(k):
        return odeint(decay, [1.0, 0.0], [0.0, 1.0], args=(k,), tfirst=True, **TOL)[-1]

    k = 0.8
    exact = np.array([-np.exp(-k), np.exp(-k)])  # d/dk of (e^-k, 1 - e^-k) at t = 1
    np.testing.assert_allclose(dualad.jacfwd(amounts)(k), exact, rtol=1e-8)
    np.testing.assert_allclose(dualad.jacrev(amounts)(k), exact, rtol=1e-8)


def test_fitting_an_ode_to_data_matches_jax():
    """The gradient of a least-squares loss of a logistic-growth model in (y0, rate, cap)."""
    times = np.linspace(0.0, 4.0, 6)
    data = np.array([0.11, 0.25, 0.49, 0.72, 0.88, 0.95])

    def growth(y, t, rate, cap):
        return rate * y * (1 - y / cap)

    def loss(p, solver=odeint, np_=np):
        y = solver(growth, p[:1], times, p[1], p[2], **TOL) if solver is jax_odeint_kw \
            else solver(growth, p[:1], times, args=(p[1], p[2]), **TOL)
        return np_.sum((y[:, 0] - data) ** 2)

    import jax
    p = np.array([0.1, 1.2, 1.0])
    expected = np.asarray(_run(jax.grad(lambda q: loss(q, jax_odeint_kw, jnp)), (p,)))
    np.testing.assert_allclose(dualad.grad(loss)(p), expected, rtol=1e-7)
    np.testing.assert_allclose(dualad.jacfwd(loss)(p), expected, rtol=1e-7)


def jax_odeint_kw(func, y0, t, *args, rtol, atol):
    return jax_odeint(func, y0, jnp.asarray(t), *args, rtol=1e-12, atol=1e-12)


def test_active_times_and_full_output_are_refused():
    with pytest.raises(dualad.UnsupportedPrimitiveError, match="time points t"):
        dualad.grad(lambda t: odeint(oscillator, Y0, t, args=(THETA,))[-1, 0])(T)
    with pytest.raises(dualad.UnsupportedPrimitiveError, match="full_output"):
        dualad.grad(lambda y0: odeint(oscillator, y0, T, args=(THETA,), full_output=1)[0])(Y0)
