"""scipy.special's ufuncs, one declaration each, differentiable to any order.

This module imports SciPy, so it is not imported with dualad: ``dualad.primitives`` declares
it the first time one of scipy.special's ufuncs reaches dualad's dispatch (see its
docstring), and :func:`dualad.registry.load_optional_families` declares it for walks of the
whole registry.

Every rule is written with NumPy and scipy.special calls that are themselves primitives
(``gammaln' = digamma``, ``digamma' = polygamma(1, .)``, ``polygamma(n, .)' =
polygamma(n + 1, .)``, ``iv(v, .)' = (iv(v - 1, .) + iv(v + 1, .)) / 2``, ...), so the rules
differentiate themselves and every order works. Arguments that are orders (the ``v`` of the
Bessel functions) have no rule: a derivative in them raises, naming the function and the
argument (polygamma's ``n`` is a static parameter). Where JAX differentiates a parameter
(``gammainc`` and ``gammaincc`` in ``a``, ``zeta`` in its exponent ``x``) dualad does too,
through a series written with primitives; where it does not (``betainc`` in ``a`` and ``b``)
neither does dualad.

The examples of the registry walk are cross-checked with ``jax.scipy.special`` where JAX has
the function (and a correct derivative of it), else with central differences; tests/
test_special.py adds mpmath references and third derivatives.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sp

from ..registry import (
    POSITIVE,
    REALS,
    SPELLINGS,
    UNIT,
    Example,
    Family,
    Interval,
    Primitive,
    is_active,
    strip,
)

SPECIAL = Family("special")

_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_ONE_OVER_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)

# Few, small shapes: each example costs the registry walk several compilations in JAX
_UNARY_SHAPES = ((), (2, 3))
_BINARY_SHAPES = (((), ()), ((2, 3), (3,)))


def _jax(name: str) -> Any:
    """The reference ``jax.scipy.special.<name>`` (JAX is imported by the tests only)."""
    def reference(jnp: Any, *xs: Any) -> Any:
        import jax.scipy.special as jss

        return getattr(jss, name)(*xs)
    return reference


def _examples(ufunc: Any, reference: Any) -> tuple[Example, ...]:
    """One example per shape (pairs of shapes for two arguments) of ``ufunc(*xs)``."""
    def call(np_: Any, *xs: Any) -> Any:
        return ufunc(*xs)

    shapes = _UNARY_SHAPES if ufunc.nin == 1 else _BINARY_SHAPES
    if reference is None:
        return tuple(Example(call, s if ufunc.nin > 1 else (s,), finite_differences=True)
                     for s in shapes)
    return tuple(Example(call, s if ufunc.nin > 1 else (s,), reference=reference)
                 for s in shapes)


def _special(ufunc: Any, jvp: Any, doc: str, domain: Interval = REALS, *,
             jax: str | None = "", examples: tuple[Example, ...] = (),
             name: str | None = None, formula: Any = None) -> Primitive:
    """Declare a scipy.special ufunc: dispatched from the ufunc, elementwise.

    ``jax`` names the ``jax.scipy.special`` reference (the ufunc's own name by default; None
    for central differences). As for NumPy's ufuncs, each rule ``dx -> dx * d out/dx`` is
    also the VJP rule ``ct -> ct * d out/dx`` (a diagonal Jacobian is its own transpose).
    """
    reference = None if jax is None else _jax(jax or ufunc.__name__)
    return SPECIAL.defprimitive(
        name or ufunc.__name__, impl=ufunc, numpy=ufunc, jvp=jvp, vjp=jvp, elementwise=True,
        domain=domain, doc=doc, examples=examples or _examples(ufunc, reference),
        formula=formula,
    )


def _float_dtype(*xs: Any) -> np.dtype:
    """The float dtype NumPy computes ``xs`` in (float32 stays float32)."""
    return np.result_type(*(strip(x) for x in xs), np.float32)


def _plain_in(value: Any, dtype: np.dtype) -> Any:
    """A plain value (of constant arguments only) in ``dtype``, so that a float32 derivative
    stays float32; an active value as it is."""
    return value if is_active(value) else np.asarray(value, dtype)


def _sign(x: Any) -> Any:
    """sign(x) as a constant of x's dtype (piecewise constant: no derivative)."""
    return np.sign(strip(x)).astype(np.result_type(strip(x), np.float32))


# --------------------------------------------------------------------------- error functions

erf = _special(sp.erf, lambda dx, x, *, out: dx * (_TWO_OVER_SQRT_PI * np.exp(-x * x)),
               "error function; d/dx = 2/sqrt(pi) exp(-x**2)",
               formula=("erf(x)", {"x": "2/sqrt(pi) exp(-x**2)"}))
erfc = _special(sp.erfc, lambda dx, x, *, out: dx * (-_TWO_OVER_SQRT_PI * np.exp(-x * x)),
                "1 - erf(x); d/dx = -2/sqrt(pi) exp(-x**2)",
                formula=("erfc(x)", {"x": "-2/sqrt(pi) exp(-x**2)"}))
erfcx = _special(sp.erfcx,
                 lambda dx, x, *, out: dx * (2 * x * out - _TWO_OVER_SQRT_PI),
                 "exp(x**2) erfc(x); d/dx = 2 x erfcx(x) - 2/sqrt(pi)",
                 domain=Interval(-1.5, 3.0),
                 formula=("erfcx(x)", {"x": "2 x out - 2/sqrt(pi)"}))
erfinv = _special(sp.erfinv, lambda dx, x, *, out: dx * (0.5 * _SQRT_PI * np.exp(out * out)),
                  "inverse of erf; d/dx = sqrt(pi)/2 exp(erfinv(x)**2)", domain=UNIT,
                  formula=("erfinv(x)", {"x": "sqrt(pi)/2 exp(out**2)"}))
# JAX has no erfcinv: erfcinv(y) = erfinv(1 - y) is the reference
erfcinv = _special(sp.erfcinv,
                   lambda dx, x, *, out: dx * (-0.5 * _SQRT_PI * np.exp(out * out)),
                   "inverse of erfc; d/dx = -sqrt(pi)/2 exp(erfcinv(x)**2)",
                   domain=Interval(0.1, 1.9), examples=tuple(
                       Example(lambda np_, x: sp.erfcinv(x), (s,),
                               reference=lambda jnp, x: _jax("erfinv")(jnp, 1 - x))
                       for s in _UNARY_SHAPES),
                   formula=("erfcinv(x)", {"x": "-sqrt(pi)/2 exp(out**2)"}))
dawsn = _special(sp.dawsn, lambda dx, x, *, out: dx * (1 - 2 * x * out),
                 "Dawson's integral; d/dx = 1 - 2 x dawsn(x)",
                 formula=("dawsn(x)", {"x": "1 - 2 x out"}))

# --------------------------------------------------------------------------- logistic, normal

expit = _special(sp.expit, lambda dx, x, *, out: dx * (out * (1 - out)),
                 "1/(1 + exp(-x)); d/dx = expit(x) (1 - expit(x))", domain=Interval(-4, 4),
                 formula=("expit(x)", {"x": "out (1 - out)"}))
logit = _special(sp.logit, lambda dx, x, *, out: dx / (x * (1 - x)),
                 "log(x/(1 - x)); d/dx = 1/(x (1 - x))", domain=Interval(0.05, 0.95),
                 formula=("logit(x)", {"x": "1/(x (1 - x))"}))
# JAX has no log_expit: jax.nn.log_sigmoid is the same function
log_expit = _special(sp.log_expit, lambda dx, x, *, out: dx * sp.expit(-x),
                     "log(expit(x)); d/dx = expit(-x)", domain=Interval(-6, 6),
                     examples=tuple(Example(lambda np_, x: sp.log_expit(x), (s,),
                                            reference=lambda jnp, x: _log_sigmoid(x))
                                    for s in _UNARY_SHAPES),
                     formula=("log_expit(x)", {"x": "expit(-x)"}))


def _log_sigmoid(x: Any) -> Any:
    import jax

    return jax.nn.log_sigmoid(x)


ndtr = _special(sp.ndtr, lambda dx, x, *, out: dx * (_ONE_OVER_SQRT_2PI * np.exp(-0.5 * x * x)),
                "standard normal CDF; d/dx = exp(-x**2/2)/sqrt(2 pi)", domain=Interval(-3, 3),
                formula=("ndtr(x)", {"x": "exp(-x**2/2)/sqrt(2 pi)"}))
ndtri = _special(sp.ndtri, lambda dx, x, *, out: dx * (_SQRT_2PI * np.exp(0.5 * out * out)),
                 "inverse of ndtr; d/dx = sqrt(2 pi) exp(ndtri(x)**2/2)",
                 domain=Interval(0.05, 0.95),
                 formula=("ndtri(x)", {"x": "sqrt(2 pi) exp(out**2/2)"}))
# exp(-x**2/2 - log_ndtr(x)), not pdf/ndtr: no underflow far in the left tail
log_ndtr = _special(
    sp.log_ndtr, lambda dx, x, *, out: dx * (_ONE_OVER_SQRT_2PI * np.exp(-0.5 * x * x - out)),
    "log(ndtr(x)); d/dx = exp(-x**2/2 - log_ndtr(x))/sqrt(2 pi)", domain=Interval(-6, 3),
                    formula=("log_ndtr(x)", {"x": "exp(-x**2/2 - out)/sqrt(2 pi)"}))

# --------------------------------------------------------------------------- gamma and beta


def _polygamma_rule(dx: Any, x: Any, *, out: Any, n: int) -> Any:
    return dx * polygamma(x, n=n + 1)


def _polygamma_example(n: int, shape: tuple[int, ...]) -> Example:
    return Example(lambda np_, x: polygamma(x, n=n), (shape,),
                   reference=lambda jnp, x: _jax("polygamma")(jnp, n, x))


def _polygamma_impl(x: Any, *, n: int) -> Any:
    # scipy.special.polygamma's own formula, with ufuncs only: the primal of a nested
    # derivative is itself an active value, which np.asarray (in sp.polygamma) would refuse
    if n == 0:
        return sp.psi(x)
    return (-1.0) ** (n + 1) * math.factorial(n) * sp.zeta(n + 1.0, x)


# scipy.special.polygamma is a Python function that calls np.asarray on its argument, so a
# dual array never reaches dualad through it; this primitive serves the rules of digamma
# and of itself (docs/supported.md says what a user writes instead).
polygamma = SPECIAL.defprimitive(
    "polygamma", impl=_polygamma_impl, jvp=_polygamma_rule,
    vjp=_polygamma_rule, elementwise=True, domain=POSITIVE,
    doc="polygamma(n, x), n static; d/dx = polygamma(n + 1, x)",
    examples=tuple(_polygamma_example(n, s) for n, s in ((1, ()), (2, (3,)), (3, (2, 3)))),
)
digamma = _special(sp.psi, lambda dx, x, *, out: dx * polygamma(x, n=1),
                   "digamma (psi) = d/dx log gamma(x); d/dx = polygamma(1, x)",
                   domain=POSITIVE, jax="digamma", name="digamma",
                   formula=("digamma(x)", {"x": "trigamma(x)"}))
gamma = _special(sp.gamma, lambda dx, x, *, out: dx * (out * sp.psi(x)),
                 "gamma function; d/dx = gamma(x) digamma(x)", domain=Interval(0.3, 3.5),
                 formula=("gamma(x)", {"x": "out digamma(x)"}))
gammaln = _special(sp.gammaln, lambda dx, x, *, out: dx * sp.psi(x),
                   "log |gamma(x)|; d/dx = digamma(x)", domain=Interval(0.3, 5.0),
                   formula=("gammaln(x)", {"x": "digamma(x)"}))
loggamma = _special(sp.loggamma, lambda dx, x, *, out: dx * sp.psi(x),
                    "log gamma(x) for real x > 0; d/dx = digamma(x)", domain=Interval(0.3, 5.0),
                    formula=("loggamma(x)", {"x": "digamma(x)"}))
beta = _special(sp.beta, (lambda dx, a, b, *, out: dx * (out * (sp.psi(a) - sp.psi(a + b))),
                          lambda db, a, b, *, out: db * (out * (sp.psi(b) - sp.psi(a + b)))),
                "beta function; d/da = beta(a, b) (digamma(a) - digamma(a + b))",
                domain=Interval(0.5, 3.0),
                formula=("beta(a, b)", {"a": "out (digamma(a) - digamma(a + b))",
                                        "b": "out (digamma(b) - digamma(a + b))"}))
betaln = _special(sp.betaln, (lambda dx, a, b, *, out: dx * (sp.psi(a) - sp.psi(a + b)),
                              lambda db, a, b, *, out: db * (sp.psi(b) - sp.psi(a + b))),
                  "log |beta(a, b)|; d/da = digamma(a) - digamma(a + b)",
                  domain=Interval(0.5, 3.0),
                  formula=("betaln(a, b)", {"a": "digamma(a) - digamma(a + b)",
                                            "b": "digamma(b) - digamma(a + b)"}))

# --------------------------------------------------------------------------- zeta

# Euler-Maclaurin summation of d^k/ds^k zeta(s, q) = sum_n (-log(n + q))**k (n + q)**-s:
# _ZETA_TERMS terms, the integral of the rest, and _BERNOULLI corrections, each
# differentiated k times in s by Leibniz's rule. Its error is far below float64's rounding
# for the s and q > 0 of the tests (checked against mpmath in tests/test_special.py).
_ZETA_TERMS = 16
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
"""B_2, B_4, ..., B_16."""


def _rising(j: int) -> np.ndarray:
    """Coefficients (highest first) of s (s + 1) ... (s + 2j - 2), the rising factorial."""
    return np.poly(-np.arange(2 * j - 1, dtype=float))


def _horner(coefficients: np.ndarray, s: Any) -> Any:
    value = float(coefficients[0])
    for c in coefficients[1:]:
        value = value * s + float(c)
    return value


def _zeta_derivative_impl(s: Any, q: Any, *, k: int) -> Any:
    """d^k/ds^k zeta(s, q) for k >= 1, written with NumPy calls only (so that it also runs on
    the active values of an enclosing transform)."""
    dtype = _float_dtype(s, q)
    q = _plain_in(q, dtype)  # a Python number (riemann_zeta's q = 1) in s's dtype
    t = np.expand_dims(q, -1) + np.arange(_ZETA_TERMS, dtype=dtype)
    log_t = np.log(t)
    total = np.sum((-log_t) ** k * np.exp(np.expand_dims(s, -1) * -log_t), axis=-1)
    a = q + float(_ZETA_TERMS)
    log_a = np.log(a)
    rest = np.exp((1 - s) * log_a)  # the integral: d^k/ds^k a**(1-s) / (s-1)
    for j in range(k + 1):
        total = total + (math.comb(k, j) * (-1) ** (k - j) * math.factorial(k - j)) * (
            (-log_a) ** j * rest / (s - 1) ** (k - j + 1))
    total = total + 0.5 * (-log_a) ** k * np.exp(-s * log_a)
    for j, b2j in enumerate(_BERNOULLI, start=1):
        coefficients = _rising(j)
        power = np.exp((-s - (2 * j - 1)) * log_a)
        for i in range(min(k, 2 * j - 1) + 1):
            factor = b2j / math.factorial(2 * j) * math.comb(k, i)
            total = total + factor * _horner(np.polyder(coefficients, i), s) * (
                (-log_a) ** (k - i) * power)
    return total


def _zeta_d(s: Any, q: Any, k: int) -> Any:
    """d^k/ds^k zeta(s, q): scipy's zeta itself for k = 0."""
    return sp.zeta(s, q) if k == 0 else zeta_derivative(s, q, k=k)


zeta_derivative = SPECIAL.defprimitive(
    "zeta_derivative", impl=_zeta_derivative_impl,
    jvp=(lambda ds, s, q, *, out, k: ds * _zeta_d(s, q, k + 1),
         lambda dq, s, q, *, out, k: dq * -(s * _zeta_d(s + 1, q, k)
                                           + k * _zeta_d(s + 1, q, k - 1))),
    vjp=(lambda ct, s, q, *, out, k: ct * _zeta_d(s, q, k + 1),
         lambda ct, s, q, *, out, k: ct * -(s * _zeta_d(s + 1, q, k)
                                           + k * _zeta_d(s + 1, q, k - 1))),
    elementwise=True, domain=Interval(1.5, 3.5),
    doc="d^k/ds^k zeta(s, q), k static; d/ds raises k, d/dq = -s d^k zeta(s+1, q) "
        "- k d^(k-1) zeta(s+1, q)",
    examples=(Example(lambda np_, s, q: zeta_derivative(s, q, k=1), ((3,), (3,)),
                      finite_differences=True),
              Example(lambda np_, s, q: zeta_derivative(s, q, k=2), ((2, 3), (3,)),
                      finite_differences=True)),
)
SPELLINGS[sp._ufuncs._zeta] = "scipy.special.zeta"
SPELLINGS[sp._ufuncs._riemann_zeta] = "scipy.special.zeta"
# scipy.special.zeta(x, q) calls _zeta(x, q), and zeta(x) calls _riemann_zeta(x)
zeta = _special(
    sp._ufuncs._zeta, (lambda dx, x, q, *, out: dx * zeta_derivative(x, q, k=1),
                       lambda dq, x, q, *, out: dq * (-x * sp.zeta(x + 1, q))),
    "Hurwitz zeta(x, q); d/dx by Euler-Maclaurin, d/dq = -x zeta(x + 1, q)",
    domain=Interval(1.5, 3.5), name="zeta",
    examples=tuple(Example(lambda np_, x, q: sp.zeta(x, q), s, reference=_jax("zeta"))
                   for s in _BINARY_SHAPES),
)


def _riemann_zeta_dx(dx: Any, x: Any, *, out: Any) -> Any:
    """d/dx zeta(x): Euler-Maclaurin for x >= 0; below, the sum's terms grow like n**-x and
    cancel, so the derivative of the functional equation zeta(x) = A(x) zeta(1 - x), with
    A(x) = 2**x pi**(x-1) sin(pi x/2) gamma(1 - x), is taken instead (1 - x > 1 there)."""
    reflect = x < 0
    x_direct = np.where(reflect, 2.0, x)
    x_reflect = np.where(reflect, x, -1.0)
    y = 1 - x_reflect
    scale = np.exp(x_reflect * _LOG_2PI) / math.pi * sp.gamma(y)
    sine, cosine = np.sin(0.5 * math.pi * x_reflect), np.cos(0.5 * math.pi * x_reflect)
    d_scale = scale * ((_LOG_2PI - sp.psi(y)) * sine + 0.5 * math.pi * cosine)
    reflected = d_scale * sp.zeta(y) - scale * sine * zeta_derivative(y, 1.0, k=1)
    return dx * np.where(reflect, reflected, zeta_derivative(x_direct, 1.0, k=1))


_LOG_2PI = math.log(2 * math.pi)

riemann_zeta = _special(
    sp._ufuncs._riemann_zeta, _riemann_zeta_dx,
    "Riemann zeta(x); d/dx by Euler-Maclaurin (by the functional equation for x < 0)",
    domain=Interval(1.5, 4.0), name="riemann_zeta",
    examples=tuple(Example(lambda np_, x: sp.zeta(x), (s,),
                           reference=lambda jnp, x: _jax("zeta")(jnp, x, 1.0))
                   for s in _UNARY_SHAPES) + (
        # below 1: JAX's Hurwitz zeta is nan there, central differences instead
        Example(lambda np_, x: sp.zeta(x), make=lambda rng: (np.array([-7.5, -2.2, 0.3]),),
                finite_differences=True),),
)

# --------------------------------------------------------------------------- incomplete gamma, beta


def _gamma_density(a: Any, x: Any) -> Any:
    """x**(a-1) exp(-x) / gamma(a), d/dx of gammainc(a, x)."""
    return np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))


def _gammainc_da(a: Any, x: Any) -> Any:
    """d/da gammainc(a, x) from the series gammainc = sum_n x**(a+n) e**-x / gamma(a+n+1),
    term by term: each term times (log x - digamma(a + n + 1)). The series is written with
    primitives, so it differentiates itself (in a and in x) to any order.

    The terms follow a Poisson-like bump around n = x - a of width sqrt(x): each element
    sums the window from 12 widths below it (where the terms are below float64's rounding of
    the sum) to 12 widths above, a few thousand terms for x up to 10**4."""
    a_values, x_values = np.broadcast_arrays(strip(a), strip(x))
    width = math.sqrt(max(float(np.max(x_values, initial=0.0)), 0.0))
    first = np.maximum(np.floor(x_values - a_values - 12 * np.sqrt(np.maximum(x_values, 0.0))
                                - 20), 0.0)
    n = np.expand_dims(np.nan_to_num(first), -1) + np.arange(
        math.ceil(24 * width + 60), dtype=_float_dtype(a, x))
    positive = x > 0
    x_safe = np.where(positive, x, 1.0)  # gammainc(a, 0) = 0 for every a
    a_n = np.expand_dims(a, -1) + n
    log_x = np.expand_dims(np.log(x_safe), -1)
    terms = np.exp(a_n * log_x - np.expand_dims(x_safe, -1) - sp.gammaln(a_n + 1))
    return np.where(positive, np.sum(terms * (log_x - sp.psi(a_n + 1)), axis=-1), 0.0)


def _gammainc_examples(ufunc: Any) -> tuple[Example, ...]:
    call = lambda np_, a, x: ufunc(a, x)  # noqa: E731
    fixed_a = np.array([0.6, 1.7, 3.2])
    return (
        Example(lambda np_, x: ufunc(fixed_a, x), ((2, 3),),
                reference=lambda jnp, x: _jax(ufunc.__name__)(jnp, fixed_a, x)),
        # JAX differentiates in a once only (igamma_grad_a has no rule of its own): the
        # second order in a is checked by central differences below, and by mpmath in
        # tests/test_special.py
        Example(call, ((3,), (3,)), reference=_jax(ufunc.__name__), second_order=False),
        Example(call, ((2, 1), (3,)), finite_differences=True),
    )


gammainc = _special(
    sp.gammainc, (lambda da, a, x, *, out: da * _gammainc_da(a, x),
                  lambda dx, a, x, *, out: dx * _gamma_density(a, x)),
    "regularized lower incomplete gamma P(a, x); d/dx = x**(a-1) e**-x / gamma(a), d/da by "
    "its series", domain=Interval(0.4, 3.0), examples=_gammainc_examples(sp.gammainc),
)
gammaincc = _special(
    sp.gammaincc, (lambda da, a, x, *, out: da * -_gammainc_da(a, x),
                   lambda dx, a, x, *, out: dx * -_gamma_density(a, x)),
    "regularized upper incomplete gamma Q(a, x) = 1 - P(a, x); d/dx = -x**(a-1) e**-x / "
    "gamma(a), d/da = -d/da P", domain=Interval(0.4, 3.0),
    examples=_gammainc_examples(sp.gammaincc),
)

_BETA_A = np.array([0.7, 2.0, 3.5])


def _betainc_dx(dx: Any, a: Any, b: Any, x: Any, *, out: Any) -> Any:
    # the beta density x**(a-1) (1-x)**(b-1) / beta(a, b)
    log_beta = _plain_in(sp.betaln(a, b), _float_dtype(a, b, x))
    return dx * np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_beta)


# Not differentiable in a and b, as in JAX (no closed form; JAX raises too)
betainc = _special(
    sp.betainc, (None, None, _betainc_dx),
    "regularized incomplete beta I_x(a, b); d/dx = x**(a-1) (1-x)**(b-1) / beta(a, b); "
    "a and b have no derivative", domain=Interval(0.05, 0.95),
    examples=(Example(lambda np_, x: sp.betainc(_BETA_A, 1.5, x), ((2, 3),),
                      reference=lambda jnp, x: _jax("betainc")(jnp, _BETA_A, 1.5, x)),
              Example(lambda np_, x: sp.betainc(2.5, 0.8, x), ((),),
                      reference=lambda jnp, x: _jax("betainc")(jnp, 2.5, 0.8, x))),
)

# --------------------------------------------------------------------------- Bessel functions

_ORDERS = np.array([0.0, 1.5, -0.7])
"""Orders v of the examples: integer, half-integer and negative."""


def _bessel(ufunc: Any, dx_rule: Any, doc: str) -> Primitive:
    """A Bessel function of order v and argument x: differentiable in x, not in v."""
    return _special(
        ufunc, (None, dx_rule), doc + "; v (the order) has no derivative",
        domain=Interval(0.3, 4.0), jax=None,
        examples=tuple(Example(lambda np_, x: ufunc(_ORDERS, x), (s,), finite_differences=True)
                       for s in ((3,), (2, 3))),
    )


iv = _bessel(sp.iv, lambda dx, v, x, *, out: dx * (0.5 * (sp.iv(v - 1, x) + sp.iv(v + 1, x))),
             "modified Bessel I_v(x); d/dx = (I_(v-1)(x) + I_(v+1)(x))/2")
ive = _bessel(sp.ive, lambda dx, v, x, *, out: dx * (
    0.5 * (sp.ive(v - 1, x) + sp.ive(v + 1, x)) - _sign(x) * out),
    "I_v(x) e**-|x|; d/dx = (ive(v-1, x) + ive(v+1, x))/2 - sign(x) ive(v, x)")
kv = _bessel(sp.kv, lambda dx, v, x, *, out: dx * (-0.5 * (sp.kv(v - 1, x) + sp.kv(v + 1, x))),
             "modified Bessel K_v(x); d/dx = -(K_(v-1)(x) + K_(v+1)(x))/2")
kve = _bessel(sp.kve, lambda dx, v, x, *, out: dx * (
    out - 0.5 * (sp.kve(v - 1, x) + sp.kve(v + 1, x))),
    "K_v(x) e**x; d/dx = kve(v, x) - (kve(v-1, x) + kve(v+1, x))/2")
jv = _bessel(sp.jv, lambda dx, v, x, *, out: dx * (0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x))),
             "Bessel J_v(x); d/dx = (J_(v-1)(x) - J_(v+1)(x))/2")
yv = _bessel(sp.yv, lambda dx, v, x, *, out: dx * (0.5 * (sp.yv(v - 1, x) - sp.yv(v + 1, x))),
             "Bessel Y_v(x); d/dx = (Y_(v-1)(x) - Y_(v+1)(x))/2")
i0 = _special(sp.i0, lambda dx, x, *, out: dx * sp.i1(x), "modified Bessel I_0; d/dx = I_1(x)",
              domain=Interval(-3, 3),
              formula=("i0(x)", {"x": "i1(x)"}))
# I_1' = I_0 - I_1/x = (I_0 + I_2)/2, which has no division by x
i1 = _special(sp.i1, lambda dx, x, *, out: dx * (0.5 * (sp.i0(x) + sp.iv(2.0, x))),
              "modified Bessel I_1; d/dx = (I_0(x) + I_2(x))/2", domain=Interval(-3, 3))
i0e = _special(sp.i0e, lambda dx, x, *, out: dx * (sp.i1e(x) - _sign(x) * out),
               "I_0(x) e**-|x|; d/dx = i1e(x) - sign(x) i0e(x)",
               domain=Interval(-3, 3, avoid=(0.0,)))
i1e = _special(sp.i1e, lambda dx, x, *, out: dx * (
    0.5 * (sp.i0e(x) + sp.ive(2.0, x)) - _sign(x) * out),
    "I_1(x) e**-|x|; d/dx = (i0e(x) + ive(2, x))/2 - sign(x) i1e(x)",
    domain=Interval(-3, 3, avoid=(0.0,)))

# --------------------------------------------------------------------------- entropies, losses


def _xlogy_dy(dy: Any, x: Any, y: Any, *, out: Any) -> Any:
    # x / y, and 0 where x == 0 (xlogy(0, y) = 0 for every y, also y = 0)
    zero = x == 0
    return dy * np.where(zero, 0.0, x / np.where(zero, 1.0, y))


xlogy = _special(sp.xlogy, (lambda dx, x, y, *, out: dx * np.log(y), _xlogy_dy),
                 "x log(y), 0 where x = 0; d/dx = log(y), d/dy = x/y", domain=POSITIVE,
                 formula=("x log(y)", {"x": "log(y)", "y": "x/y"}))
xlog1py = _special(sp.xlog1py, (lambda dx, x, y, *, out: dx * np.log1p(y),
                                lambda dy, x, y, *, out: dy * (x / (1 + y))),
                   "x log(1 + y); d/dx = log(1 + y), d/dy = x/(1 + y)",
                   domain=Interval(-0.5, 2.0),
                   formula=("x log(1 + y)", {"x": "log(1 + y)", "y": "x/(1 + y)"}))
entr = _special(sp.entr, lambda dx, x, *, out: dx * -(np.log(x) + 1),
                "-x log(x); d/dx = -(log(x) + 1)", domain=POSITIVE,
                formula=("-x log(x)", {"x": "-(log(x) + 1)"}))
rel_entr = _special(sp.rel_entr, (lambda dx, x, y, *, out: dx * (np.log(x / y) + 1),
                                  lambda dy, x, y, *, out: dy * (-x / y)),
                    "x log(x/y); d/dx = log(x/y) + 1, d/dy = -x/y", domain=POSITIVE,
                    formula=("x log(x/y)", {"x": "log(x/y) + 1", "y": "-x/y"}))
kl_div = _special(sp.kl_div, (lambda dx, x, y, *, out: dx * np.log(x / y),
                              lambda dy, x, y, *, out: dy * (1 - x / y)),
                  "x log(x/y) - x + y; d/dx = log(x/y), d/dy = 1 - x/y", domain=POSITIVE,
                  formula=("x log(x/y) - x + y", {"x": "log(x/y)", "y": "1 - x/y"}))


def _huber_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """delta > 0 and residuals r away from the kinks |r| = delta, inside and outside."""
    delta = rng.uniform(0.5, 1.5, (2, 3))
    scale = np.array([0.3, 0.7, 1.6]) * rng.choice([-1.0, 1.0], (2, 3))
    return delta, delta * scale


def _huber_reference(jnp: Any, delta: Any, r: Any) -> Any:
    return jnp.where(jnp.abs(r) <= delta, 0.5 * r * r, delta * (jnp.abs(r) - 0.5 * delta))


def _pseudo_huber_reference(jnp: Any, delta: Any, r: Any) -> Any:
    return delta * delta * (jnp.sqrt(1 + (r / delta) ** 2) - 1)


# JAX has neither: the references are the closed forms in jax.numpy
huber = _special(
    sp.huber,
    (lambda dd, delta, r, *, out: dd * np.where(np.abs(r) <= delta, 0.0, np.abs(r) - delta),
     lambda dr, delta, r, *, out: dr * np.where(np.abs(r) <= delta, r, delta * _sign(r))),
    "r**2/2 for |r| <= delta, else delta (|r| - delta/2); d/dr = r or delta sign(r), "
    "d/ddelta = 0 or |r| - delta",
    examples=(Example(lambda np_, delta, r: sp.huber(delta, r), make=_huber_pair,
                      reference=_huber_reference),),
)


def _pseudo_huber_root(delta: Any, r: Any) -> Any:
    return np.sqrt(1 + (r / delta) ** 2)


pseudo_huber = _special(
    sp.pseudo_huber,
    (lambda dd, delta, r, *, out: dd * (
        2 * delta * (_pseudo_huber_root(delta, r) - 1)
        - r * r / (delta * _pseudo_huber_root(delta, r))),
     lambda dr, delta, r, *, out: dr * (r / _pseudo_huber_root(delta, r))),
    "delta**2 (sqrt(1 + (r/delta)**2) - 1); d/dr = r / sqrt(1 + (r/delta)**2)",
    examples=(Example(lambda np_, delta, r: sp.pseudo_huber(delta, r),
                      make=lambda rng: (rng.uniform(0.5, 2.0, (3,)), rng.uniform(-2, 2, (2, 3))),
                      reference=_pseudo_huber_reference),),
)

# --------------------------------------------------------------------------- integrals

# JAX's spence has a nan derivative away from 1 (jax 0.10): central differences instead
spence = _special(sp.spence, lambda dx, x, *, out: dx * (np.log(x) / (1 - x)),
                  "integral of log(t)/(1-t) from 1 to x; d/dx = log(x)/(1 - x)",
                  domain=Interval(0.2, 3.0, avoid=(1.0,), margin=0.1), jax=None,
                  formula=("spence(x)", {"x": "log(x)/(1 - x)"}))
# jax.scipy.special.exp1 has no second derivative (jax 0.10): E1(x) = -Ei(-x) for x > 0
exp1 = _special(sp.exp1, lambda dx, x, *, out: dx * (-np.exp(-x) / x),
                "exponential integral E1; d/dx = -exp(-x)/x", domain=POSITIVE,
                examples=tuple(Example(lambda np_, x: sp.exp1(x), (s,),
                                       reference=lambda jnp, x: -_jax("expi")(jnp, -x))
                               for s in _UNARY_SHAPES),
                formula=("exp1(x)", {"x": "-exp(-x)/x"}))
expi = _special(sp.expi, lambda dx, x, *, out: dx * (np.exp(x) / x),
                "exponential integral Ei; d/dx = exp(x)/x",
                domain=Interval(-2.0, 2.0, avoid=(0.0,), margin=0.2),
                formula=("expi(x)", {"x": "exp(x)/x"}))
