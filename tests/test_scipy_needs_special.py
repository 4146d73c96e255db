"""dualad.scipy.stats derivatives that go through scipy.special's ufuncs.

NEEDS THE ``special`` BRANCH: these derivatives call ``scipy.special.ndtr``, ``log_ndtr``,
``gammaln``, ``xlogy``, ``xlog1py`` and ``betaln`` on active arrays, which dualad
differentiates once the scipy.special primitives are registered. Until then every test here
fails with "scipy.special.NAME is not supported" (or "np.NAME is not supported").
"""

from __future__ import annotations

import jax.scipy.stats as jst
import numpy as np

from dualad.scipy import stats
from tests.scipy_reference import check_both_modes, check_hessian

X = np.array([-0.7, 0.2, 1.9])
POSITIVE = np.array([0.4, 1.3, 2.2])
UNIT = np.array([0.15, 0.5, 0.8])


def test_normal_distribution_functions_match_jax():
    for method in ("cdf", "logcdf", "sf", "logsf"):
        check_both_modes(getattr(stats.norm, method), getattr(jst.norm, method),
                         (X, np.array(0.3), np.array(1.4)))


def test_student_t_in_its_degrees_of_freedom_matches_jax():
    check_both_modes(stats.t.logpdf, jst.t.logpdf, (X, np.array([2.5, 4.0, 9.0])))


def test_gamma_and_beta_match_jax():
    check_both_modes(lambda x, a, s: stats.gamma.logpdf(x, a, scale=s),
                     lambda x, a, s: jst.gamma.logpdf(x, a, scale=s),
                     (POSITIVE, np.array([0.8, 2.0, 3.5]), np.array(1.3)))
    check_both_modes(stats.beta.logpdf, jst.beta.logpdf,
                     (UNIT, np.array([0.8, 2.0, 3.5]), np.array([1.5, 0.7, 2.0])))


def test_poisson_and_negative_binomial_in_their_parameters_match_jax():
    k = np.array([0.0, 2.0, 5.0])
    check_both_modes(lambda mu: stats.poisson.logpmf(k, mu),
                     lambda mu: jst.poisson.logpmf(k, mu), (np.array([0.5, 2.0, 4.5]),))
    check_both_modes(lambda n, p: stats.nbinom.logpmf(k, n, p),
                     lambda n, p: jst.nbinom.logpmf(k, n, p),
                     (np.array([1.5, 3.0, 4.0]), np.array([0.3, 0.5, 0.8])))


def test_second_order_in_a_shape_parameter_matches_jax():
    check_hessian(lambda a: stats.gamma.logpdf(POSITIVE, a).sum(),
                  lambda a: jst.gamma.logpdf(POSITIVE, a).sum(), np.array([0.8, 2.0, 3.5]))
