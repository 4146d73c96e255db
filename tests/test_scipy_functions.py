"""dualad.scipy's special, stats and optimize functions: SciPy's values, JAX's derivatives.

Every function here is a composite of NumPy primitives that dualad differentiates without
``scipy.special`` rules; the densities whose derivatives go through ``scipy.special``'s ufuncs
(``gammaln`` in a shape parameter, ``xlogy``, ``ndtr``) are tested in
tests/test_scipy_needs_special.py.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.special as jsp
import jax.scipy.stats as jst
import numpy as np
import pytest
import scipy.optimize
import scipy.special
import scipy.stats

import dualad
from dualad.scipy import optimize, special, stats
from tests.scipy_reference import check_both_modes, check_hessian

RNG = np.random.default_rng(20261203)
A = RNG.normal(size=(3, 4))
B = RNG.uniform(0.5, 2.0, size=(3, 4))
SIGNED = RNG.normal(size=(3, 4))
X = RNG.normal(size=5) * 2


def _same(ours, theirs):
    """Equal values and the same kind of result (NumPy scalar, array, tuple)."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-300)


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("kwargs", [{}, {"axis": 0}, {"axis": 1, "keepdims": True},
                                    {"axis": (0, 1)}, {"b": B}, {"b": B, "axis": -1},
                                    {"b": SIGNED, "axis": 1, "return_sign": True}])
def test_logsumexp_values_are_scipys(kwargs):
    _same(special.logsumexp(A, **kwargs), scipy.special.logsumexp(A, **kwargs))


@pytest.mark.parametrize("a, b", [([-np.inf, -np.inf], None), ([np.inf, 1.0], None),
                                  ([1.0, np.nan], [1.0, 0.0]), (2.0, None), ([], None),
                                  ([1.0, 2.0], [1.0, -1.0])])
def test_logsumexp_edge_values_are_scipys(a, b):
    with np.errstate(invalid="ignore"):
        _same(special.logsumexp(np.asarray(a), b=b), scipy.special.logsumexp(a, b=b))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_values_are_scipys(axis):
    _same(special.softmax(A, axis=axis), scipy.special.softmax(A, axis=axis))
    _same(special.log_softmax(A, axis=axis), scipy.special.log_softmax(A, axis=axis))


CONTINUOUS = [("norm", (0.3, 1.5)), ("t", (3.0, 0.2, 1.1)), ("cauchy", (0.1, 2.0)),
              ("laplace", (0.1, 0.7)), ("expon", (-1.0, 2.0)), ("gamma", (2.5, -1.0, 1.3)),
              ("beta", (2.0, 3.0, -3.0, 6.0)), ("lognorm", (0.7, -3.0, 1.0))]


@pytest.mark.parametrize("name, args", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_densities_are_scipys(name, args):
    ours, theirs = getattr(stats, name), getattr(scipy.stats, name)
    for method in ("logpdf", "pdf"):
        _same(getattr(ours, method)(X, *args), getattr(theirs, method)(X, *args))
        _same(getattr(ours, method)(0.5, *args), getattr(theirs, method)(0.5, *args))
        _same(getattr(ours(*args), method)(X), getattr(theirs(*args), method)(X))
    bad = (*args[:-1], -1.0)  # a negative scale: nan, as SciPy
    _same(ours.logpdf(X, *bad), theirs.logpdf(X, *bad))


def test_normal_distribution_functions_are_scipys():
    for method in ("cdf", "logcdf", "sf", "logsf"):
        _same(getattr(stats.norm, method)(X, 0.3, 1.5),
              getattr(scipy.stats.norm, method)(X, 0.3, 1.5))


@pytest.mark.parametrize("name, args", [("poisson", (2.0,)), ("nbinom", (3.0, 0.4)),
                                        ("poisson", (2.0, 1))])
def test_mass_functions_are_scipys(name, args):
    k = np.array([0, 1, 2, 5, -1, 2.5, 7])
    for method in ("logpmf", "pmf"):
        _same(getattr(getattr(stats, name), method)(k, *args),
              getattr(getattr(scipy.stats, name), method)(k, *args))


COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
MEAN = np.array([0.1, -0.4, 0.7])


@pytest.mark.parametrize("x, mean, cov", [
    (RNG.normal(size=(4, 3)), MEAN, COV), (RNG.normal(size=3), MEAN, COV),
    (np.array([0.1, 0.2]), None, 2.0), (np.array([0.1, 0.2]), [0.0, 1.0], [2.0, 3.0]),
    (0.3, 0.1, 2.0)], ids=["batch", "point", "scalar-cov", "diagonal", "one-dimensional"])
def test_multivariate_normal_is_scipys(x, mean, cov):
    _same(stats.multivariate_normal.logpdf(x, mean, cov),
          scipy.stats.multivariate_normal.logpdf(x, mean, cov))
    _same(stats.multivariate_normal(mean, cov).pdf(x),
          scipy.stats.multivariate_normal(mean, cov).pdf(x))


def test_multivariate_normal_refuses_a_singular_covariance():
    with pytest.raises(dualad.SingularMatrixError, match="multivariate_normal.logpdf"):
        stats.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.ones((2, 2)))


def test_rosen_is_scipys():
    _same(optimize.rosen(0.1 * np.arange(10)), scipy.optimize.rosen(0.1 * np.arange(10)))
    grid = np.array(np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 4)))
    _same(optimize.rosen(grid), scipy.optimize.rosen(grid))


# --------------------------------------------------------------------------- derivatives

@pytest.mark.parametrize("axis", [None, 1])
def test_logsumexp_derivatives_match_jax(axis):
    check_both_modes(lambda a, b: special.logsumexp(a, axis=axis, b=b),
                     lambda a, b: jsp.logsumexp(a, axis=axis, b=b), (A, B))


def test_logsumexp_with_signs_matches_jax():
    check_both_modes(lambda a, b: special.logsumexp(a, axis=1, b=b, return_sign=True)[0],
                     lambda a, b: jsp.logsumexp(a, axis=1, b=b, return_sign=True)[0],
                     (A, SIGNED))


def test_softmax_derivatives_match_jax():
    check_both_modes(lambda a: special.softmax(a, axis=0),
                     lambda a: jax_softmax(a, axis=0), (A,))
    check_both_modes(lambda a: special.log_softmax(a, axis=1),
                     lambda a: jax_log_softmax(a, axis=1), (A,))


def jax_softmax(a, axis):
    return jnp.exp(jax_log_softmax(a, axis))


def jax_log_softmax(a, axis):
    return a - jsp.logsumexp(a, axis=axis, keepdims=True)


def test_second_derivatives_of_logsumexp_and_a_density_match_jax():
    x = A[0]
    check_hessian(special.logsumexp, jsp.logsumexp, x)
    check_hessian(lambda p: stats.norm.logpdf(X, p[0], np.exp(p[1])).sum(),
                  lambda p: jst.norm.logpdf(X, p[0], jnp.exp(p[1])).sum(), np.array([0.3, 0.2]))
    check_hessian(lambda m: stats.multivariate_normal.logpdf(X[:3], m, COV),
                  lambda m: jst.multivariate_normal.logpdf(X[:3], m, COV), MEAN)


LOCATION_SCALE = [
    ("norm", stats.norm.logpdf, jst.norm.logpdf),
    ("cauchy", stats.cauchy.logpdf, jst.cauchy.logpdf),
    ("laplace", stats.laplace.logpdf, jst.laplace.logpdf),
    ("pdf", stats.norm.pdf, jst.norm.pdf),
]


@pytest.mark.parametrize("name, ours, theirs", LOCATION_SCALE, ids=[c[0] for c in LOCATION_SCALE])
def test_location_scale_densities_match_jax(name, ours, theirs):
    loc, scale = np.array([0.3, -0.2, 0.1, 0.0, 0.5]), np.array([1.5, 0.7, 2.0, 1.1, 0.9])
    check_both_modes(ours, theirs, (X, loc, scale))


def test_densities_of_positive_variables_match_jax():
    x = np.array([0.4, 1.3, 2.2])
    check_both_modes(lambda x, s: stats.expon.logpdf(x, scale=s),
                     lambda x, s: jst.expon.logpdf(x, scale=s), (x, np.array([0.5, 1.0, 2.0])))
    check_both_modes(lambda x, s, scale: stats.lognorm.logpdf(x, s, scale=scale),
                     lambda x, s, scale: jax_lognorm_logpdf(x, s, scale),
                     (x, np.array([0.7, 1.2, 0.4]), np.array([1.0, 0.5, 2.0])))


def jax_lognorm_logpdf(x, s, scale):
    """The log-normal density's closed form (jax.scipy.stats has no lognorm)."""
    y = x / scale
    return -jnp.log(y) ** 2 / (2 * s**2) - jnp.log(s * y * jnp.sqrt(2 * jnp.pi)) - jnp.log(scale)


def test_student_t_in_x_loc_and_scale_matches_jax():
    check_both_modes(lambda x, loc, scale: stats.t.logpdf(x, 3.5, loc, scale),
                     lambda x, loc, scale: jst.t.logpdf(x, 3.5, loc, scale),
                     (X, np.array(0.3), np.array(1.7)))


def test_outside_the_support_the_derivative_is_zero_not_nan():
    x = np.array([-1.0, 0.5, 2.0])
    value, gradient = dualad.value_and_grad(lambda x: stats.expon.logpdf(x).sum())(x)
    assert value == -np.inf
    np.testing.assert_array_equal(gradient, [0.0, -1.0, -1.0])


def test_multivariate_normal_in_x_mean_and_covariance_factor_matches_jax():
    def cov_of(f):
        return f @ f.T + 0.5 * np.eye(3)

    def jcov_of(f):
        return f @ f.T + 0.5 * jnp.eye(3)

    x, f = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3))
    check_both_modes(lambda x, m, f: stats.multivariate_normal.logpdf(x, m, cov_of(f)),
                     lambda x, m, f: jst.multivariate_normal.logpdf(x, m, jcov_of(f)),
                     (x, MEAN, f))


def test_rosen_derivatives_match_scipys_closed_forms_and_jax():
    x = np.array([0.3, -0.8, 1.1, 0.4])
    np.testing.assert_allclose(dualad.grad(optimize.rosen)(x), scipy.optimize.rosen_der(x),
                               rtol=1e-13)
    np.testing.assert_allclose(dualad.jacfwd(dualad.grad(optimize.rosen))(x),
                               scipy.optimize.rosen_hess(x), rtol=1e-13)
    check_both_modes(optimize.rosen, lambda x: jnp.sum(
        100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2), (x,))


# --------------------------------------------------------------------------- models

def test_gaussian_process_marginal_likelihood_matches_jax():
    """A GP's log marginal likelihood in its kernel's log-parameters, written as a user would
    with scipy.stats.multivariate_normal (here dualad's twin)."""
    t = np.linspace(0.0, 3.0, 6)
    y = np.sin(t) + 0.1 * RNG.normal(size=6)

    def log_marginal(params, np_=np, mvn=stats.multivariate_normal):
        amplitude, length, noise = np_.exp(params)
        d = t[:, None] - t[None, :]
        k = amplitude**2 * np_.exp(-0.5 * d**2 / length**2) + noise**2 * np_.eye(len(t))
        return mvn.logpdf(y, np_.zeros(len(t)), k)

    params = np.log(np.array([1.0, 0.8, 0.2]))
    np.testing.assert_allclose(
        log_marginal(params, mvn=scipy.stats.multivariate_normal), log_marginal(params),
        rtol=1e-13)
    check_both_modes(log_marginal, lambda p: log_marginal(p, jnp, jst.multivariate_normal),
                     (params,), rtol=1e-9)
    check_hessian(log_marginal, lambda p: log_marginal(p, jnp, jst.multivariate_normal),
                  params, rtol=1e-8)


def test_bayesian_regression_log_posterior_matches_jax():
    """Normal likelihood and priors on the weights and the log noise scale."""
    features = RNG.normal(size=(8, 2))
    targets = features @ np.array([0.7, -1.2]) + 0.3 * RNG.normal(size=8)

    def log_posterior(theta, np_=np, norm=stats.norm):
        w, log_sigma = theta[:2], theta[2]
        likelihood = norm.logpdf(targets, features @ w, np_.exp(log_sigma)).sum()
        return likelihood + norm.logpdf(w, 0.0, 2.0).sum() + norm.logpdf(log_sigma, 0.0, 1.0)

    theta = np.array([0.5, -1.0, np.log(0.4)])
    np.testing.assert_allclose(log_posterior(theta, norm=scipy.stats.norm),
                               log_posterior(theta), rtol=1e-13)
    check_both_modes(log_posterior, lambda th: log_posterior(th, jnp, jst.norm), (theta,))
    check_hessian(log_posterior, lambda th: log_posterior(th, jnp, jst.norm), theta)


def test_multivariate_normal_in_the_covariance_itself_matches_jax_and_the_closed_form():
    """d/dcov of sum_i log N(x_i; 0, cov) = -(n cov^-1 - cov^-1 S cov^-1) / 2 with S the
    scatter matrix (symmetric, as JAX's convention for cholesky gives)."""
    x = RNG.normal(size=(4, 3))
    inverse = np.linalg.inv(COV)
    closed_form = -0.5 * (len(x) * inverse - inverse @ (x.T @ x) @ inverse)
    total = lambda cov: stats.multivariate_normal.logpdf(x, np.zeros(3), cov).sum()  # noqa: E731
    np.testing.assert_allclose(dualad.grad(total)(COV), closed_form, rtol=1e-12)
    check_both_modes(lambda cov: stats.multivariate_normal.logpdf(x, np.zeros(3), cov),
                     lambda cov: jst.multivariate_normal.logpdf(x, jnp.zeros(3), cov), (COV,))
