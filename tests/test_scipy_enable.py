"""dualad.scipy.enable(): unmodified SciPy calls differentiate; off, the errors name SciPy's
function and say what to write."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.special
import scipy.stats
from scipy.special import logsumexp as logsumexp_imported_early
from scipy.stats import multivariate_normal, norm

import dualad
import dualad.scipy
from dualad.scipy import special, stats

X = np.array([0.5, 1.2, -0.3])
SCIPY_LOGSUMEXP = scipy.special.logsumexp
MVN_CALL = type(multivariate_normal).__call__


@pytest.fixture(autouse=True)
def _disabled_after():
    yield
    while dualad.scipy.is_enabled():
        dualad.scipy.disable()


def test_enabled_scipy_calls_give_dualads_derivatives():
    expected = dualad.grad(special.logsumexp)(X)
    with dualad.scipy.enable():
        np.testing.assert_allclose(dualad.grad(scipy.special.logsumexp)(X), expected, rtol=1e-15)
        np.testing.assert_allclose(dualad.jacfwd(scipy.special.softmax)(X),
                                   dualad.jacfwd(special.softmax)(X), rtol=1e-15)
        np.testing.assert_allclose(dualad.grad(scipy.optimize.rosen)(X),
                                   scipy.optimize.rosen_der(X), rtol=1e-13)
        got = dualad.grad(lambda x: norm.logpdf(x, 0.1, 2.0).sum())(X)
        np.testing.assert_allclose(got, -(X - 0.1) / 4.0, rtol=1e-15)
        decay = dualad.jacrev(lambda k: scipy.integrate.odeint(
            lambda y, t, k: -k * y, X, [0.0, 1.0], args=(k,), rtol=1e-10, atol=1e-12)[-1])
        np.testing.assert_allclose(decay(0.5), -X * np.exp(-0.5), rtol=1e-8)


def test_frozen_distributions_go_through_enable():
    with dualad.scipy.enable():
        frozen_at_x = dualad.grad(lambda x: norm(0.1, 2.0).logpdf(x).sum())(X)
        in_loc = dualad.grad(lambda m: norm(m, 2.0).logpdf(X).sum())(0.1)
        cov = np.diag([1.0, 2.0, 4.0])
        mvn_x = dualad.jacrev(lambda x: multivariate_normal(np.zeros(3), cov).logpdf(x))(X)
        mvn_mean = dualad.jacfwd(lambda m: multivariate_normal(m, cov).logpdf(X))(np.zeros(3))
    np.testing.assert_allclose(frozen_at_x, -(X - 0.1) / 4.0, rtol=1e-15)
    np.testing.assert_allclose(in_loc, np.sum(X - 0.1) / 4.0, rtol=1e-15)
    np.testing.assert_allclose(mvn_x, -X / np.diag(cov), rtol=1e-15)
    np.testing.assert_allclose(mvn_mean, X / np.diag(cov), rtol=1e-15)


def test_plain_calls_run_scipys_own_code_and_disable_restores_it():
    with dualad.scipy.enable():
        assert scipy.special.logsumexp is not SCIPY_LOGSUMEXP
        assert scipy.special.logsumexp.__wrapped__ is SCIPY_LOGSUMEXP
        value = scipy.stats.norm.logpdf(X, 0.1, 2.0)
        assert type(value) is np.ndarray
        np.testing.assert_array_equal(value, norm.logpdf.__wrapped__(norm, X, 0.1, 2.0))
    assert scipy.special.logsumexp is SCIPY_LOGSUMEXP
    assert "logpdf" not in type(norm).__dict__
    assert type(multivariate_normal).__call__ is MVN_CALL


def test_enable_nests_and_disable_undoes_one_enable():
    dualad.scipy.enable()
    with dualad.scipy.enable():
        assert dualad.scipy.is_enabled()
    assert dualad.scipy.is_enabled()
    dualad.scipy.disable()
    assert not dualad.scipy.is_enabled()
    assert scipy.special.logsumexp is SCIPY_LOGSUMEXP


def test_other_threads_plain_calls_are_unaffected():
    results = []
    with dualad.scipy.enable():
        worker = threading.Thread(target=lambda: results.append(scipy.special.logsumexp(X)))
        worker.start()
        worker.join()
    assert results == [SCIPY_LOGSUMEXP(X)]


@pytest.mark.parametrize("call, name, twin", [
    (lambda x: scipy.special.logsumexp(x), "scipy.special.logsumexp",
     "dualad.scipy.special.logsumexp"),
    (lambda x: scipy.optimize.rosen(x), "scipy.optimize.rosen", "dualad.scipy.optimize.rosen"),
    (lambda x: norm.logpdf(x, 0.1, 2.0).sum(), "scipy.stats.norm.logpdf",
     "dualad.scipy.stats.norm.logpdf"),
    (lambda x: norm(0.1, 2.0).logpdf(x).sum(), "scipy.stats.norm(...).logpdf",
     "dualad.scipy.stats.norm(...).logpdf"),
    (lambda x: norm.logpdf(x[0]), "scipy.stats.norm.logpdf", "dualad.scipy.stats.norm.logpdf"),
    (lambda x: multivariate_normal.logpdf(x, np.zeros(3)),
     "scipy.stats.multivariate_normal.logpdf", "dualad.scipy.stats.multivariate_normal.logpdf"),
    (lambda x: scipy.integrate.odeint(lambda y, t: -y, x, [0.0, 1.0]).sum(),
     "scipy.integrate.odeint", "dualad.scipy.integrate.odeint"),
], ids=["logsumexp", "rosen", "norm", "frozen", "scalar", "mvn", "odeint"])
@pytest.mark.parametrize("transform", [dualad.grad, dualad.jacfwd])
def test_off_the_error_names_the_scipy_function_and_its_twin(call, name, twin, transform):
    with pytest.raises(dualad.ConversionError) as caught:
        transform(call)(X)
    message = str(caught.value)
    assert message.startswith(name + " converts"), message
    assert twin in message and "dualad.scipy.enable()" in message
    assert "np.asarray/np.array of a dual" not in message


def test_an_uncovered_scipy_function_is_named_with_advice():
    with pytest.raises(dualad.ConversionError) as caught:
        dualad.grad(lambda x: scipy.stats.skewnorm.logpdf(x, 1.0).sum())(X)
    message = str(caught.value)
    assert message.startswith("scipy.stats.skewnorm.logpdf converts")
    assert "no differentiable version" in message and "dualad.defprimitive" in message


def test_a_name_imported_before_enable_is_explained():
    with dualad.scipy.enable(), pytest.raises(dualad.ConversionError) as caught:
        dualad.grad(logsumexp_imported_early)(X)
    message = str(caught.value)
    assert "did not go through it" in message and "dualad.scipy.special.logsumexp" in message


def test_importing_dualad_and_its_numpy_only_scipy_modules_does_not_import_scipy():
    code = ("import sys, dualad, dualad.scipy, dualad.scipy.special, dualad.scipy.optimize; "
            "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith('scipy.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_dualads_frozen_distributions_refuse_unknown_methods():
    with pytest.raises(AttributeError, match="has no 'cdf'"):
        stats.t(3.0).cdf(0.0)
