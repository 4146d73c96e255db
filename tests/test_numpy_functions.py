"""NumPy functions beyond the registry walk's random points: sinc at 0 and i0 against mpmath
to third order, interp at its knots, np.polynomial evaluation, and the functions that raise
(rank-deficient lstsq, np.vectorize, np.polynomial with active coefficients)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import dualad

from .reference import _run, assert_tree_close

mpmath.mp.dps = 40


def _derivatives(f, x, transform_chain):
    """The first three derivatives of the scalar function f at the points x, elementwise."""
    first = transform_chain(f)
    second = transform_chain(first)
    third = transform_chain(second)
    return [np.array([float(g(xi)) for xi in x]) for g in (first, second, third)]


def _forward(f):
    return lambda x: dualad.jvp(f, (x,), (1.0,))[1]


def _reverse(f):
    return dualad.grad(f)


def _mp_derivatives(f, x):
    return [np.array([float(mpmath.diff(f, mpmath.mpf(xi), n)) for xi in x]) for n in (1, 2, 3)]


SINC_POINTS = np.array([0.0, 1e-9, 0.03, -0.0999, 0.1001, 0.5, -2.3])


def _mp_sinc(t):
    return mpmath.sin(mpmath.pi * t) / (mpmath.pi * t) if t != 0 else mpmath.mpf(1)


@pytest.mark.parametrize("chain", [_forward, _reverse], ids=["forward", "reverse"])
def test_sinc_to_third_order_matches_mpmath_at_and_near_zero(chain):
    expected = _mp_derivatives(_mp_sinc, [x if x != 0 else 0 for x in SINC_POINTS])
    expected[0][0], expected[1][0], expected[2][0] = 0.0, -np.pi ** 2 / 3, 0.0  # at 0
    actual = _derivatives(np.sinc, SINC_POINTS, chain)
    for order, (a, e) in enumerate(zip(actual, expected, strict=True), start=1):
        assert_tree_close(a, e, rtol=1e-11, atol=1e-12, what=f"derivative {order}")
    assert_tree_close(np.sinc(SINC_POINTS), np.array([float(_mp_sinc(x)) for x in SINC_POINTS]),
                      rtol=1e-15, what="value")


I0_POINTS = np.array([0.0, 0.3, -2.0, 15.0, -40.0])


@pytest.mark.parametrize("chain", [_forward, _reverse], ids=["forward", "reverse"])
def test_i0_to_third_order_matches_mpmath(chain):
    expected = _mp_derivatives(lambda t: mpmath.besseli(0, t), I0_POINTS)
    actual = _derivatives(np.i0, I0_POINTS, chain)
    for order, (a, e) in enumerate(zip(actual, expected, strict=True), start=1):
        assert_tree_close(a, e, rtol=1e-12, atol=1e-14, what=f"derivative {order}")


def test_interp_at_knots_takes_the_slope_to_the_right_as_jax_does():
    xp, fp = np.array([0.0, 1.0, 3.0, 4.0]), np.array([1.0, -1.0, 2.0, 0.0])
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    expected = tuple(map(np.asarray, _run(jax.jacfwd(lambda x, fp: jnp.interp(x, xp, fp),
                                                     argnums=(0, 1)), (x, fp))))
    for transform in (dualad.jacfwd, dualad.jacrev):
        actual = transform(lambda x, fp: np.interp(x, xp, fp), argnums=(0, 1))(x, fp)
        assert_tree_close(actual, expected, what=transform.__name__)


def test_polynomial_evaluation_with_an_active_x_matches_the_derivative_series():
    from numpy.polynomial import chebyshev, hermite, legendre, polynomial

    c = np.array([0.5, -1.0, 2.0, 0.25, -0.75])
    x = np.array([-0.8, 0.1, 0.6])
    for module, val in ((polynomial, "polyval"), (chebyshev, "chebval"),
                        (legendre, "legval"), (hermite, "hermval")):
        f = functools.partial(lambda x, c, evaluate: evaluate(x, c), c=c,
                              evaluate=getattr(module, val))
        der = getattr(module, val[:-3] + "der")
        expected = np.diag(f(x, c=der(c, 1)))
        for transform in (dualad.jacfwd, dualad.jacrev):
            assert_tree_close(transform(f)(x), expected, what=val)
        hess = dualad.hessian(lambda x, f=f: np.sum(f(x)))(x)
        assert_tree_close(hess, np.diag(f(x, c=der(c, 2))), what=f"{val} second order")
    p = chebyshev.Chebyshev(c, domain=[-2.0, 2.0])
    assert_tree_close(dualad.jacfwd(lambda x: chebyshev.chebval(x, p.convert().coef))(x),
                      np.diag(p.deriv()(x)), what="a series through p.convert().coef")


def test_polyval_third_order_matches_jax():
    p, x = np.array([0.3, -1.0, 0.5, 2.0, -0.2]), np.array([0.7, -1.3])

    def f(p, x):
        return np.sum(np.polyval(p, x) ** 2)

    expected = np.asarray(_run(jax.jacfwd(jax.hessian(lambda p: jnp.sum(
        jnp.polyval(p, x) ** 2))), (p,)))
    assert_tree_close(dualad.jacfwd(dualad.hessian(lambda p: f(p, x)))(p), expected)
    assert_tree_close(dualad.jacrev(dualad.jacrev(dualad.grad(lambda p: f(p, x))))(p),
                      expected)


def test_matrix_rank_and_counts_are_plain():
    def f(a):
        rank = np.linalg.matrix_rank(a)
        values, inverse, counts = np.unique(np.round(a), return_inverse=True,
                                            return_counts=True)
        assert all(type(v) is not dualad.Dual for v in (rank, inverse, counts))
        return a * rank + values[inverse.reshape(a.shape)] * counts[0]

    a = np.array([[1.2, 0.3], [0.4, 2.0]])
    assert_tree_close(dualad.jacfwd(f)(a), 2.0 * np.eye(4).reshape(2, 2, 2, 2))


REFUSED = [
    pytest.param(lambda x: np.linalg.lstsq(np.outer(x, x), x)[0], dualad.UnsupportedPrimitiveError,
                 ["np.linalg.lstsq", "rank 1", "np.linalg.solve"], id="lstsq-rank-deficient"),
    pytest.param(lambda x: np.polyfit(x, x ** 2, 1, cov=True), dualad.UnsupportedPrimitiveError,
                 ["np.polyfit", "cov=True"], id="polyfit-cov"),
    pytest.param(lambda x: np.polyfit(np.ones(3), x, 1), dualad.UnsupportedPrimitiveError,
                 ["np.polyfit(x, y, 1)", "np.linalg.lstsq", "rank 1"], id="polyfit-rank"),
    pytest.param(lambda x: np.interp(x, np.arange(3.0), x, period=2.0),
                 dualad.UnsupportedPrimitiveError, ["np.interp", "period"], id="interp-period"),
    pytest.param(lambda x: np.vectorize(lambda t: t if t > 0 else 0.0)(x),
                 dualad.ConversionError, ["np.vectorize", "np.where"], id="vectorize"),
    pytest.param(lambda c: np.polynomial.polynomial.polyval(0.5, c), dualad.ConversionError,
                 ["np.polynomial.polynomial.polyval", r"np.polyval(c[::-1], x)"],
                 id="polynomial-active-coefficients"),
    pytest.param(lambda x: np.polynomial.Polynomial([1.0, 2.0])(x), dualad.ConversionError,
                 ["np.polynomial series", "p.convert().coef"], id="polynomial-series-object"),
]


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
@pytest.mark.parametrize("f, error, fragments", REFUSED)
def test_what_cannot_be_differentiated_raises_naming_the_function(transform, f, error,
                                                                   fragments):
    with pytest.raises(error) as info:
        transform(f)(np.array([0.5, -1.0, 2.0]))
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


THIRD_ORDER = [
    pytest.param(lambda np_, x: np_.sum(np_.corrcoef(np_.reshape(x, (2, 4))) ** 3),
                 id="corrcoef"),
    pytest.param(lambda np_, x: np_.sum(np_.linalg.lstsq(
        np_.reshape(x[:6], (3, 2)) + np_.eye(3, 2), x[5:])[0] ** 2), id="lstsq"),
    pytest.param(lambda np_, x: np_.sum(np_.sin(np_.polyfit(np_.linspace(0.0, 1.0, 8), x, 2))),
                 id="polyfit"),
    pytest.param(lambda np_, x: np_.sum(np_.interp(x, np_.array([-1.0, 0.0, 1.5]),
                                                   np_.array([0.5, 2.0, -1.0])) ** 3),
                 id="interp"),
]


@pytest.mark.parametrize("f", THIRD_ORDER)
def test_third_order_matches_jax(f):
    x = np.array([0.3, -1.1, 0.8, 0.25, -0.6, 1.4, 0.9, -0.2])
    expected = np.asarray(_run(jax.jacfwd(jax.hessian(lambda x: f(jnp, x))), (x,)))
    assert_tree_close(dualad.jacfwd(dualad.hessian(lambda x: f(np, x)))(x), expected,
                      what="jacfwd(hessian)")
    assert_tree_close(dualad.jacrev(dualad.jacrev(dualad.grad(lambda x: f(np, x))))(x),
                      expected, what="reverse, three times")
