"""scipy.special's ufuncs: loaded on first use, named as the user writes them, and correct
to third order in both modes.

tests/test_registry.py walks every declaration of the family (its examples: JAX's
``jax.scipy.special`` in float64, or central differences where JAX has no twin, to second
order). Here: third derivatives against JAX and mpmath, mpmath references for the functions
that JAX lacks or differentiates wrongly (Bessel functions of any order, ``zeta`` in its
exponent, ``gammainc`` in ``a``, ``spence``), and the names in errors.
"""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import mpmath
import numpy as np
import pytest
import scipy.special as sp

import dualad
import dualad.scipy
from tests.reference import _run, assert_tree_close

mpmath.mp.dps = 30


def _float(value):
    return float(mpmath.re(value))


def _all_modes(f, x):
    """d/dx, d2/dx2 and d3/dx3 of scalar f at x, each in forward and reverse mode (and the
    third also in the mixed orders jacfwd(jacfwd(jacrev)) and grad(jacfwd(grad)))."""
    g = dualad.grad
    return {
        1: [dualad.jacfwd(f)(x), g(f)(x)],
        2: [dualad.jacfwd(dualad.jacfwd(f))(x), g(g(f))(x), dualad.hessian(f)(x)],
        3: [dualad.jacfwd(dualad.jacfwd(dualad.jacrev(f)))(x), g(g(g(f)))(x),
            g(dualad.jacfwd(g(f)))(x)],
    }


def _check(f, x, expected, rtol=1e-9, atol=1e-12, what=""):
    for order, values in _all_modes(f, x).items():
        for value in values:
            assert_tree_close(value, expected[order - 1], rtol, atol, f"{what} order {order}")


def _jax_derivatives(f, x):
    """JAX's first three derivatives of f at x, compiled once (eagerly, the third derivative
    of zeta takes a minute)."""
    first = jax.grad(f)
    second = jax.grad(first)
    derivatives = _run(lambda x: (first(x), second(x), jax.grad(second)(x)), (x,))
    return [float(d) for d in derivatives]


# --------------------------------------------------------------------------- third order

THIRD_ORDER_JAX = [
    ("gammaln", lambda x: sp.gammaln(x), lambda x: jss.gammaln(x), 1.7),
    ("digamma", lambda x: sp.digamma(x), lambda x: jss.digamma(x), 0.8),
    ("psi", lambda x: sp.psi(x), lambda x: jss.digamma(x), 2.4),
    ("erf", lambda x: sp.erf(x), lambda x: jss.erf(x), 0.6),
    ("erfinv", lambda x: sp.erfinv(x), lambda x: jss.erfinv(x), 0.35),
    ("expit", lambda x: sp.expit(x), lambda x: jss.expit(x), -0.7),
    ("xlogy in y", lambda y: sp.xlogy(1.3, y), lambda y: jss.xlogy(1.3, y), 0.9),
    ("xlogy on its diagonal", lambda x: sp.xlogy(x, x), lambda x: jss.xlogy(x, x), 1.4),
    ("gammainc in x", lambda x: sp.gammainc(1.6, x), lambda x: jss.gammainc(1.6, x), 1.1),
    ("betainc in x", lambda x: sp.betainc(1.5, 2.5, x), lambda x: jss.betainc(1.5, 2.5, x), 0.4),
    ("log_ndtr", lambda x: sp.log_ndtr(x), lambda x: jss.log_ndtr(x), -2.5),
    ("i1e", lambda x: sp.i1e(x), lambda x: jss.i1e(x), -1.3),
    ("sinc at 0", lambda x: np.sinc(x), lambda x: jnp.sinc(x), 0.0),
    ("sinc", lambda x: sp.sinc(x), lambda x: jnp.sinc(x), 1.3),
    ("softplus", lambda x: sp.softplus(x), lambda x: jax.nn.softplus(x), -0.4),
    ("erfc", lambda x: sp.erfc(x), lambda x: jss.erfc(x), 0.4),
    ("erfcx", lambda x: sp.erfcx(x), lambda x: jss.erfcx(x), 0.8),
    ("erfcinv", lambda x: sp.erfcinv(x), lambda x: jss.erfinv(1 - x), 0.6),
    ("dawsn", lambda x: sp.dawsn(x), lambda x: jss.dawsn(x), 0.9),
    ("logit", lambda x: sp.logit(x), lambda x: jss.logit(x), 0.3),
    ("log_expit", lambda x: sp.log_expit(x), lambda x: jax.nn.log_sigmoid(x), -1.2),
    ("ndtr", lambda x: sp.ndtr(x), lambda x: jss.ndtr(x), 0.7),
    ("gamma", lambda x: sp.gamma(x), lambda x: jss.gamma(x), 1.9),
    ("loggamma", lambda x: sp.loggamma(x), lambda x: jss.gammaln(x), 3.1),
    ("xlog1py", lambda y: sp.xlog1py(0.7, y), lambda y: jss.xlog1py(0.7, y), 0.4),
    ("entr", lambda x: sp.entr(x), lambda x: jss.entr(x), 0.6),
    ("rel_entr", lambda x: sp.rel_entr(x, 1.5 - x), lambda x: jss.rel_entr(x, 1.5 - x), 0.5),
    ("kl_div", lambda x: sp.kl_div(x, x * x), lambda x: jss.kl_div(x, x * x), 0.8),
    ("i0", lambda x: sp.i0(x), lambda x: jss.i0(x), 1.2),
    ("i0e", lambda x: sp.i0e(x), lambda x: jss.i0e(x), 0.9),
    ("i1", lambda x: sp.i1(x), lambda x: jss.i1(x), -0.8),
    ("gammaincc in x", lambda x: sp.gammaincc(2.3, x), lambda x: jss.gammaincc(2.3, x), 1.6),
    ("exp1", lambda x: sp.exp1(x), lambda x: -jss.expi(-x), 0.9),
    ("expi", lambda x: sp.expi(x), lambda x: jss.expi(x), -0.7),
    # huber and pseudo_huber: JAX has neither, the references are their closed forms
    ("huber inside", lambda r: sp.huber(1.2, r),
     lambda r: jnp.where(jnp.abs(r) <= 1.2, 0.5 * r * r, 1.2 * (jnp.abs(r) - 0.6)), 0.5),
    ("huber outside", lambda d: sp.huber(d, 1.7),
     lambda d: jnp.where(1.7 <= d, 0.5 * 1.7 ** 2, d * (1.7 - 0.5 * d)), 0.8),
    ("pseudo_huber", lambda d: sp.pseudo_huber(d, 2 * d - 0.5),
     lambda d: d * d * (jnp.sqrt(1 + ((2 * d - 0.5) / d) ** 2) - 1), 0.9),
    ("polygamma", lambda x: dualad.REGISTRY["polygamma"](x, n=2),
     lambda x: jss.polygamma(2, x), 1.4),
    ("expm1", lambda x: sp.expm1(x), lambda x: jnp.expm1(x), 0.3),
    ("log1p", lambda x: sp.log1p(x), lambda x: jnp.log1p(x), 0.6),
    ("exp2", lambda x: sp.exp2(x), lambda x: jnp.exp2(x), -0.4),
    ("exp10", lambda x: sp.exp10(x), lambda x: 10.0 ** x, 0.2),
    ("cbrt", lambda x: sp.cbrt(x), lambda x: jnp.cbrt(x), -1.7),
    ("cosm1", lambda x: sp.cosm1(x), lambda x: jnp.cos(x) - 1, 0.8),
    ("sindg", lambda x: sp.sindg(x), lambda x: jnp.sin(jnp.deg2rad(x)), 40.0),
    ("cosdg", lambda x: sp.cosdg(x), lambda x: jnp.cos(jnp.deg2rad(x)), 130.0),
    ("tandg", lambda x: sp.tandg(x), lambda x: jnp.tan(jnp.deg2rad(x)), -25.0),
    ("cotdg", lambda x: sp.cotdg(x), lambda x: 1 / jnp.tan(jnp.deg2rad(x)), 70.0),
    ("ndtri_exp", lambda y: sp.ndtri_exp(y), lambda y: jss.ndtri(jnp.exp(y)), -1.5),
    ("zetac", lambda x: sp.zetac(x), lambda x: jss.zeta(x, 1.0) - 1, 3.5),
]


@pytest.mark.parametrize("name, f, reference, x", THIRD_ORDER_JAX,
                         ids=[case[0] for case in THIRD_ORDER_JAX])
def test_third_derivatives_match_jax(name, f, reference, x):
    _check(f, x, _jax_derivatives(reference, x), what=name)


def _mp_derivatives(f, x, orders=3):
    return [_float(mpmath.diff(f, x, n)) for n in range(1, orders + 1)]


# mpmath where JAX's third derivative takes several seconds to compile
THIRD_ORDER_MPMATH = [
    ("zeta in x", lambda x: sp.zeta(x, 1.5), lambda x: mpmath.zeta(x, 1.5), 2.5),
    ("zeta in q", lambda q: sp.zeta(3.0, q), lambda q: mpmath.zeta(3.0, q), 0.7),
    ("beta in a", lambda a: sp.beta(a, 1.7), lambda a: mpmath.beta(a, 1.7), 0.9),
    ("beta in b", lambda b: sp.beta(2.2, b), lambda b: mpmath.beta(2.2, b), 1.3),
    ("betaln in both", lambda a: sp.betaln(a, a * 0.5 + 1),
     lambda a: mpmath.log(mpmath.beta(a, a * 0.5 + 1)), 1.1),
    # between the poles at negative integers (polygamma through scipy's Hurwitz zeta there)
    ("psi below 0", lambda x: sp.psi(x), lambda x: mpmath.psi(0, x), -2.3),
    ("gamma below 0", lambda x: sp.gamma(x), mpmath.gamma, -0.5),
    ("erfi", lambda x: sp.erfi(x), mpmath.erfi, 0.7),
    ("rgamma", lambda x: sp.rgamma(x), mpmath.rgamma, 1.6),
    ("poch in z", lambda z: sp.poch(z, 0.7), lambda z: mpmath.rf(z, 0.7), 1.3),
    ("poch in m", lambda m: sp.poch(1.3, m), lambda m: mpmath.rf(1.3, m), 0.7),
    ("j0", lambda x: sp.j0(x), lambda x: mpmath.besselj(0, x), -2.2),
    ("j1", lambda x: sp.j1(x), lambda x: mpmath.besselj(1, x), 1.4),
    ("y0", lambda x: sp.y0(x), lambda x: mpmath.bessely(0, x), 0.8),
    ("y1", lambda x: sp.y1(x), lambda x: mpmath.bessely(1, x), 2.6),
    ("k0", lambda x: sp.k0(x), lambda x: mpmath.besselk(0, x), 0.9),
    ("k1", lambda x: sp.k1(x), lambda x: mpmath.besselk(1, x), 1.9),
    ("k0e", lambda x: sp.k0e(x), lambda x: mpmath.besselk(0, x) * mpmath.exp(x), 1.1),
    ("k1e", lambda x: sp.k1e(x), lambda x: mpmath.besselk(1, x) * mpmath.exp(x), 0.6),
]


@pytest.mark.parametrize("name, f, reference, x", THIRD_ORDER_MPMATH,
                         ids=[case[0] for case in THIRD_ORDER_MPMATH])
def test_third_derivatives_match_mpmath(name, f, reference, x):
    _check(f, x, _mp_derivatives(reference, x), what=name)


@pytest.mark.parametrize("p", [0.3, 0.02, 0.9])
def test_ndtri_to_third_order_matches_its_closed_form(p):
    """y = ndtri(p) inverts ndtr, so dy/dp = sqrt(2 pi) e**(y**2/2), the second derivative
    is 2 pi y e**(y**2) and the third (2 pi)**(3/2) (1 + 2 y**2) e**(3 y**2 / 2); y from
    mpmath."""
    y = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1)
    two_pi = 2 * mpmath.pi
    expected = [_float(mpmath.sqrt(two_pi) * mpmath.exp(y * y / 2)),
                _float(two_pi * y * mpmath.exp(y * y)),
                _float(two_pi ** 1.5 * (1 + 2 * y * y) * mpmath.exp(1.5 * y * y))]
    _check(lambda p: sp.ndtri(p), p, expected, what="ndtri")


BESSEL = [
    ("iv", sp.iv, mpmath.besseli, 1.5, 1.3),
    ("iv of integer order", sp.iv, mpmath.besseli, 2.0, 0.7),
    ("ive", sp.ive, lambda v, x: mpmath.besseli(v, x) * mpmath.exp(-abs(x)), -0.6, 2.1),
    ("kv", sp.kv, mpmath.besselk, 0.4, 1.2),
    ("kve", sp.kve, lambda v, x: mpmath.besselk(v, x) * mpmath.exp(x), 2.5, 0.9),
    ("jv", sp.jv, mpmath.besselj, 1.0, 2.3),
    ("yv", sp.yv, mpmath.bessely, -0.5, 1.7),
]


@pytest.mark.parametrize("name, ufunc, reference, v, x", BESSEL, ids=[b[0] for b in BESSEL])
def test_bessel_functions_to_third_order_match_mpmath(name, ufunc, reference, v, x):
    expected = _mp_derivatives(lambda t: reference(v, t), x)
    _check(lambda t: ufunc(v, t), x, expected, what=name)


def test_bessel_functions_on_arrays_of_orders_match_mpmath_in_both_modes():
    v, x = np.array([0.0, 1.5, -0.7, 3.0]), np.array([0.5, 1.2, 2.0, 3.3])
    expected = np.diag([_float(mpmath.besseli(vi, xi, derivative=1)) for vi, xi in zip(v, x)])
    for jacobian in (dualad.jacfwd, dualad.jacrev):
        assert_tree_close(jacobian(lambda t: sp.iv(v, t))(x), expected, 1e-10, 1e-12, "iv")


def test_a_derivative_in_the_order_of_a_bessel_function_raises_naming_it():
    with pytest.raises(dualad.UnsupportedPrimitiveError,
                       match=r"scipy\.special\.iv is not differentiable in its argument 1"):
        dualad.grad(lambda v: sp.iv(v, 1.5))(0.5)


# --------------------------------------------------------------------------- mpmath references

@pytest.mark.parametrize("s, q", [(2.5, 1.0), (1.3, 0.4), (4.0, 2.7), (30.0, 1.0), (0.5, 1.0),
                                  (0.0, 1.0), (-1.5, 1.0), (-2.0, 1.0), (-20.5, 1.0)])
def test_zeta_in_its_exponent_matches_mpmath(s, q):
    """Derivatives of order 1 to 3 in x, also where scipy's Riemann zeta continues below 1
    (by the functional equation below 0, where the sum's terms would cancel)."""
    expected = [_float(mpmath.zeta(s, q, derivative=k)) for k in (1, 2, 3)]
    f = (lambda x: sp.zeta(x)) if q == 1.0 else (lambda x: sp.zeta(x, q))
    _check(f, s, expected, rtol=1e-9, what=f"zeta({s}, {q})")


def test_zeta_mixed_derivative_matches_mpmath():
    """d2/dx dq zeta(x, q) = -zeta(x+1, q) - x d/dx zeta(x+1, q), through both rules."""
    x, q = 2.2, 1.6
    expected = _float(mpmath.diff(lambda a, b: mpmath.zeta(a, b), (x, q), (1, 1)))
    f = lambda x, q: sp.zeta(x, q)  # noqa: E731
    for outer in (dualad.jacfwd, dualad.jacrev):
        for inner in (dualad.jacfwd, dualad.grad):
            value = outer(inner(f, argnums=1), argnums=0)(x, q)
            assert_tree_close(value, expected, 1e-9, 1e-12, "d2 zeta / dx dq")


@pytest.mark.parametrize("a, x", [(1.7, 1.3), (0.6, 0.2), (3.5, 6.0), (2.0, 25.0)])
def test_gammainc_in_a_to_third_order_matches_mpmath(a, x):
    def regularized(a_, upper):
        return mpmath.gammainc(a_, x, mpmath.inf, regularized=True) if upper else \
            mpmath.gammainc(a_, 0, x, regularized=True)

    for ufunc, upper in ((sp.gammainc, False), (sp.gammaincc, True)):
        expected = _mp_derivatives(lambda t, upper=upper: regularized(t, upper), a)
        _check(lambda t, ufunc=ufunc: ufunc(t, x), a, expected, rtol=1e-8, atol=1e-13,
               what=f"{ufunc.__name__}({a}, {x}) in a")


def test_gammainc_mixed_derivative_matches_mpmath():
    a, x = 1.4, 0.9
    expected = _float(mpmath.diff(
        lambda s, t: mpmath.gammainc(s, 0, t, regularized=True), (a, x), (1, 1)))
    for outer in (dualad.jacfwd, dualad.jacrev):
        value = outer(dualad.grad(lambda a, x: sp.gammainc(a, x), argnums=1))(a, x)
        assert_tree_close(value, expected, 1e-9, 1e-12, "d2 gammainc / da dx")


@pytest.mark.parametrize("x", [0.3, 0.9, 0.95, 1.0, 1.03, 2.5])
def test_spence_matches_mpmath(x):
    # scipy's spence(z) is the integral of log(t)/(1-t) from 1 to z: Li2(1 - z)
    _check(lambda t: sp.spence(t), x, _mp_derivatives(lambda t: mpmath.polylog(2, 1 - t), x),
           what="spence")


def test_polygamma_of_any_order_matches_mpmath():
    polygamma = dualad.REGISTRY["polygamma"]
    x = 1.3
    for n in (1, 2, 4):
        expected = [_float(mpmath.psi(n + k, x)) for k in (1, 2, 3)]
        _check(lambda t, n=n: polygamma(t, n=n), x, expected, rtol=1e-9, what=f"polygamma {n}")


# --------------------------------------------------------------------------- what users write

def test_polygamma_and_multigammaln_twins_match_scipy_and_jax():
    """scipy.special.polygamma and multigammaln call np.asarray, so NumPy's dispatch never
    shows them to dualad; their twins in dualad.scipy.special differentiate to any order,
    in both modes, and dualad.scipy.enable() sends SciPy's own calls there."""
    from dualad.scipy.special import multigammaln, polygamma

    x = 1.7
    for n in (0, 1, 3):
        np.testing.assert_allclose(polygamma(n, x), sp.polygamma(n, x), rtol=1e-14)
        _check(lambda t, n=n: polygamma(n, t), x,
               [_float(mpmath.psi(n + k, x)) for k in (1, 2, 3)], what=f"polygamma {n}")
    orders = np.array([0, 1, 2])
    np.testing.assert_allclose(polygamma(orders, np.array([1.3, 2.0, 2.7])),
                               sp.polygamma(orders, np.array([1.3, 2.0, 2.7])), rtol=1e-14)

    d, a = 3, np.array([2.2, 3.1])
    np.testing.assert_allclose(multigammaln(a, d), sp.multigammaln(a, d), rtol=1e-14)
    expected = np.diag(np.asarray(jax.jacfwd(lambda a: jss.multigammaln(a, d))(a)).diagonal())
    for jacobian in (dualad.jacfwd, dualad.jacrev):
        assert_tree_close(jacobian(lambda a: multigammaln(a, d))(a), expected, 1e-10, 1e-12,
                          "multigammaln")
    with dualad.scipy.enable():
        assert_tree_close(dualad.jacrev(lambda a: sp.multigammaln(a, d))(a), expected,
                          1e-10, 1e-12, "multigammaln through enable()")
        np.testing.assert_allclose(dualad.grad(lambda t: sp.polygamma(1, t))(x),
                                   sp.polygamma(2, x), rtol=1e-12)


@pytest.mark.parametrize("x", [2.5, np.array([2.5, 3.0])], ids=["scalar", "array"])
def test_polygamma_and_multigammaln_called_directly_raise_naming_them(x):
    for f, name in ((lambda x: sp.polygamma(1, x), "polygamma"),
                    (lambda x: sp.multigammaln(x, 2), "multigammaln")):
        for transform in (dualad.grad, dualad.jacfwd):
            with pytest.raises(dualad.ConversionError,
                               match=rf"^scipy\.special\.{name} converts its arguments.*"
                                     rf"dualad\.scipy\.special\.{name}"):
                transform(lambda x, f=f: np.sum(f(x)))(x)


def test_softplus_is_logaddexp():
    x = np.array([-1.5, 0.2, 3.0])
    expected = np.asarray(jax.jacfwd(jax.nn.softplus)(x))
    for jacobian in (dualad.jacfwd, dualad.jacrev):
        assert_tree_close(jacobian(sp.softplus)(x), expected, 1e-12, 1e-14, "softplus")


def test_betainc_in_a_and_b_raises_as_in_jax():
    with pytest.raises(dualad.UnsupportedPrimitiveError,
                       match=r"scipy\.special\.betainc is not differentiable in its argument 1"):
        dualad.grad(lambda a: sp.betainc(a, 2.0, 0.3))(1.5)
    with pytest.raises(dualad.UnsupportedPrimitiveError, match="argument 2"):
        dualad.jacfwd(lambda b: sp.betainc(1.5, b, 0.3))(2.0)


# --------------------------------------------------------------------------- names and loading

def test_a_scipy_ufunc_without_a_rule_names_itself():
    with pytest.raises(dualad.UnsupportedPrimitiveError,
                       match=r"^scipy\.special\.ellipk is not supported by dualad"):
        dualad.grad(lambda m: sp.ellipk(m))(0.3)
    with pytest.raises(dualad.UnsupportedPrimitiveError, match=r"^scipy\.special\.xlogy\.reduce"):
        dualad.jacfwd(lambda x: sp.xlogy.reduce(x))(np.ones(2))


def test_names_of_scipy_ufuncs():
    from dualad.registry import numpy_name

    assert numpy_name(sp.gammaln) == "scipy.special.gammaln"
    assert numpy_name(sp.digamma) == "scipy.special.psi"  # one ufunc, two names
    assert numpy_name(sp._ufuncs._zeta) == "scipy.special.zeta"
    assert numpy_name(np.sin) == "np.sin"
    other = np.frompyfunc(lambda x: x, 1, 1)
    assert "not NumPy's" in numpy_name(other)


def test_import_dualad_does_not_import_scipy_and_the_family_loads_on_first_use():
    script = (
        "import sys, dualad\n"
        "assert 'scipy' not in sys.modules, 'import dualad imported scipy'\n"
        "assert 'gammaln' not in dualad.REGISTRY\n"
        "import scipy.special as sp\n"
        "assert float(dualad.grad(sp.gammaln)(2.0)) == float(sp.psi(2.0))\n"
        "assert 'gammaln' in dualad.REGISTRY and 'betainc' in dualad.REGISTRY\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_without_scipy_dualad_works_and_lists_no_scipy_functions():
    script = (
        "import sys\n"
        "class Hide:  # as if SciPy were not installed\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'scipy' or name.startswith('scipy.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import numpy as np, dualad\n"
        "from dualad._docs import supported_markdown\n"
        "dualad.registry.load_optional_families()\n"
        "assert 'gammaln' not in dualad.REGISTRY\n"
        "assert 'scipy.special' not in supported_markdown()\n"
        "assert float(dualad.grad(np.sinc)(0.0)) == 0.0\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_incomplete_functions_at_the_ends_of_their_domain():
    """The densities x**(a-1) e**-x / gamma(a) and x**(a-1) (1-x)**(b-1) / beta(a, b) at
    x = 0 (and 1) for a = 1 (and b = 1): 0 log 0 = 0, not nan."""
    cases = [(lambda x: sp.gammainc(1.0, x), 0.0, 1.0),
             (lambda x: sp.gammaincc(1.0, x), 0.0, -1.0),
             (lambda x: sp.betainc(1.0, 2.5, x), 0.0, 2.5),
             (lambda x: sp.betainc(2.0, 1.0, x), 1.0, 2.0)]
    for f, x, expected in cases:
        for transform in (dualad.jacfwd, dualad.grad):
            assert float(transform(f)(x)) == pytest.approx(expected, rel=1e-14)


def test_gammasgn_is_piecewise_constant():
    f = lambda x: sp.gammasgn(x) * x  # noqa: E731
    for x in (1.5, -0.5, -1.5):
        for transform in (dualad.jacfwd, dualad.grad):
            assert float(transform(f)(x)) == float(sp.gammasgn(x))
