"""Log-densities of ``scipy.stats`` distributions, written with NumPy and ``scipy.special``.

SciPy's distribution methods convert their arguments with ``np.asarray`` and are not
dispatched by the array API, so an active array cannot pass through them. Each distribution
here has SciPy's methods and signatures (``norm.logpdf(x, loc=0, scale=1)``, freezing with
``norm(loc, scale).logpdf(x)``), returns SciPy's numbers on plain arrays (``-inf`` outside
the support, ``nan`` for invalid parameters) and is a composite of registered primitives,
so every argument that is a real number differentiates in both modes and to any order.
Densities that need ``gammaln``, ``xlogy``, ``ndtr``, ... call ``scipy.special``'s ufuncs,
which dualad differentiates as primitives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sc

from ..errors import SingularMatrixError, UnsupportedPrimitiveError
from ..registry import is_active, is_array, plain_array
from .special import _as_array

__all__ = ["beta", "cauchy", "expon", "gamma", "laplace", "lognorm", "multivariate_normal",
           "nbinom", "norm", "poisson", "t"]

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _values(x: Any) -> Any:
    return plain_array(x)


def _result(out: Any) -> Any:
    """A 0-d plain result as a NumPy scalar, as SciPy returns it."""
    if not is_active(out) and np.ndim(out) == 0:
        return out[()] if is_array(out) else np.asarray(out)[()]
    return out


def _finish(logp: Any, inside: np.ndarray, valid: np.ndarray) -> Any:
    """``logp`` inside the support, -inf outside it and nan for invalid parameters."""
    with np.errstate(invalid="ignore"):
        out = np.where(inside, logp, -np.inf)
        return _result(np.where(valid, out, np.nan))


def _safe(x: Any, keep: np.ndarray, fill: float) -> Any:
    """``x`` where ``keep``, ``fill`` elsewhere: the formulas only see points where they are
    defined, so the values (and derivatives) of the points replaced stay finite."""
    return np.where(keep, x, fill)


class _Frozen:
    """A distribution with its parameters fixed, like SciPy's ``norm(loc, scale)``."""

    def __init__(self, dist: _Distribution, args: tuple, kwds: dict) -> None:
        self.dist, self.args, self.kwds = dist, args, kwds

    def __getattr__(self, name: str) -> Any:
        if name not in type(self.dist).methods:
            raise AttributeError(f"dualad.scipy.stats.{self.dist.name}(...) has no {name!r} "
                                 f"(it has {', '.join(type(self.dist).methods)})")
        method = getattr(self.dist, name)
        return lambda x: method(x, *self.args, **self.kwds)

    def __repr__(self) -> str:
        return f"<frozen dualad.scipy.stats.{self.dist.name}>"


class _Distribution:
    """A distribution of ``dualad.scipy.stats``: SciPy's methods, freezing by calling it."""

    name = ""
    methods: tuple[str, ...] = ()

    def __call__(self, *args: Any, **kwds: Any) -> _Frozen:
        return _Frozen(self, args, kwds)

    def __repr__(self) -> str:
        return f"<dualad.scipy.stats.{self.name}>"


def _location_scale(x: Any, loc: Any, scale: Any) -> tuple[Any, Any, np.ndarray]:
    """``(x - loc) / scale``, the scale (1 where invalid) and where the scale is valid."""
    x, loc, scale = _as_array(x), _as_array(loc), _as_array(scale)
    valid = _values(scale) > 0
    scale = _safe(scale, valid, 1.0)
    return (x - loc) / scale, scale, valid


class _Continuous(_Distribution):
    """Location-scale family with a standard log-density ``_logpdf(y, *shapes)``."""

    methods = ("logpdf", "pdf")
    shapes: tuple[str, ...] = ()

    def _support(self, y: np.ndarray, *shapes: np.ndarray) -> np.ndarray:
        return np.ones(np.shape(y), dtype=bool)

    def _valid(self, *shapes: np.ndarray) -> np.ndarray:
        return np.bool_(True)

    def _standard(self, x: Any, shapes: tuple, loc: Any, scale: Any) -> tuple:
        y, scale, valid = _location_scale(x, loc, scale)
        shapes = tuple(map(_as_array, shapes))
        valid = valid & self._valid(*map(_values, shapes))
        shapes = tuple(_safe(s, valid, 1.0) for s in shapes)
        inside = self._support(_values(y), *map(_values, shapes)) & valid
        return _safe(y, inside, self._inner), shapes, scale, inside, valid

    _inner = 0.5

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        shapes, loc, scale = self._parse(args, kwds)
        y, shapes, scale, inside, valid = self._standard(x, shapes, loc, scale)
        return _finish(self._logpdf(y, *shapes) - np.log(scale), inside, valid)

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return _result(np.exp(self.logpdf(x, *args, **kwds)))

    def _parse(self, args: tuple, kwds: dict) -> tuple:
        names = (*self.shapes, "loc", "scale")
        if len(args) > len(names):
            raise TypeError(f"{self.name}: too many arguments (it takes x, {', '.join(names)})")
        values = dict(zip(names, args))
        for key, value in kwds.items():
            if key not in names or key in values:
                raise TypeError(f"{self.name}: unexpected or repeated argument {key!r}")
            values[key] = value
        missing = [n for n in self.shapes if n not in values]
        if missing:
            raise TypeError(f"{self.name}: missing the shape parameter(s) {missing}")
        shapes = tuple(values[n] for n in self.shapes)
        return shapes, values.get("loc", 0.0), values.get("scale", 1.0)

    def _logpdf(self, y: Any, *shapes: Any) -> Any:
        raise NotImplementedError


class Normal(_Continuous):
    """The normal distribution, like ``scipy.stats.norm``.

    >>> import numpy as np, dualad
    >>> from dualad.scipy.stats import norm
    >>> float(norm.logpdf(1.0, loc=1.0, scale=np.exp(-0.5 * np.log(2 * np.pi))))
    0.0
    >>> float(dualad.grad(lambda mu: norm.logpdf(2.0, mu, 0.5))(1.0))  # (x - mu) / s**2
    4.0
    """

    name = "norm"
    methods = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")

    def _logpdf(self, y: Any) -> Any:
        return -0.5 * y * y - _LOG_SQRT_2PI

    def _apply(self, fn: Any, x: Any, loc: Any, scale: Any, sign: float) -> Any:
        y, _, valid = _location_scale(x, loc, scale)
        return _result(np.where(valid, fn(sign * y), np.nan))

    def cdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """P(X <= x) (``scipy.special.ndtr``)."""
        return self._apply(sc.ndtr, x, loc, scale, 1.0)

    def logcdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """log P(X <= x) (``scipy.special.log_ndtr``)."""
        return self._apply(sc.log_ndtr, x, loc, scale, 1.0)

    def sf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """P(X > x)."""
        return self._apply(sc.ndtr, x, loc, scale, -1.0)

    def logsf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        """log P(X > x)."""
        return self._apply(sc.log_ndtr, x, loc, scale, -1.0)


class StudentT(_Continuous):
    """Student's t distribution, like ``scipy.stats.t`` (``t.logpdf(x, df, loc, scale)``).

    >>> from dualad.scipy.stats import t
    >>> round(float(t.logpdf(0.0, 1.0)), 12) == round(-float(np.log(np.pi)), 12)
    True
    """

    name = "t"
    shapes = ("df",)

    def _valid(self, df: np.ndarray) -> np.ndarray:
        return df > 0

    def _logpdf(self, y: Any, df: Any) -> Any:
        half = (df + 1) / 2
        return (sc.gammaln(half) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi)
                - half * np.log1p(y * y / df))


class Cauchy(_Continuous):
    """The Cauchy distribution, like ``scipy.stats.cauchy``.

    >>> from dualad.scipy.stats import cauchy
    >>> bool(np.isclose(cauchy.logpdf(0.0), -np.log(np.pi)))
    True
    """

    name = "cauchy"

    def _logpdf(self, y: Any) -> Any:
        return -np.log(np.pi) - np.log1p(y * y)


class Laplace(_Continuous):
    """The Laplace distribution, like ``scipy.stats.laplace`` (derivative 0 taken at the kink).

    >>> from dualad.scipy.stats import laplace
    >>> bool(np.isclose(laplace.logpdf(0.0), -np.log(2)))
    True
    """

    name = "laplace"

    def _logpdf(self, y: Any) -> Any:
        return -np.abs(y) - np.log(2.0)


class Exponential(_Continuous):
    """The exponential distribution, like ``scipy.stats.expon``.

    >>> from dualad.scipy.stats import expon
    >>> float(expon.logpdf(2.0)), float(expon.logpdf(-1.0))
    (-2.0, -inf)
    """

    name = "expon"

    def _support(self, y: np.ndarray) -> np.ndarray:
        return y >= 0

    def _logpdf(self, y: Any) -> Any:
        return -y


class Gamma(_Continuous):
    """The gamma distribution, like ``scipy.stats.gamma`` (``gamma.logpdf(x, a, loc, scale)``).

    >>> from dualad.scipy.stats import gamma
    >>> float(gamma.logpdf(2.0, 1.0))  # the exponential distribution
    -2.0
    """

    name = "gamma"
    shapes = ("a",)

    def _valid(self, a: np.ndarray) -> np.ndarray:
        return a > 0

    def _support(self, y: np.ndarray, a: np.ndarray) -> np.ndarray:
        return y >= 0

    def _logpdf(self, y: Any, a: Any) -> Any:
        return sc.xlogy(a - 1.0, y) - y - sc.gammaln(a)


class Beta(_Continuous):
    """The beta distribution, like ``scipy.stats.beta`` (``beta.logpdf(x, a, b, loc, scale)``).

    >>> from dualad.scipy.stats import beta
    >>> float(beta.logpdf(0.25, 1.0, 1.0))  # uniform on [0, 1]
    0.0
    """

    name = "beta"
    shapes = ("a", "b")

    def _valid(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a > 0) & (b > 0)

    def _support(self, y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (y >= 0) & (y <= 1)

    def _logpdf(self, y: Any, a: Any, b: Any) -> Any:
        return sc.xlog1py(b - 1.0, -y) + sc.xlogy(a - 1.0, y) - sc.betaln(a, b)


class LogNormal(_Continuous):
    """The log-normal distribution, like ``scipy.stats.lognorm`` (``lognorm.logpdf(x, s)``).

    >>> from dualad.scipy.stats import lognorm
    >>> bool(np.isclose(lognorm.logpdf(1.0, 1.0), -0.5 * np.log(2 * np.pi)))
    True
    """

    name = "lognorm"
    shapes = ("s",)

    def _valid(self, s: np.ndarray) -> np.ndarray:
        return s > 0

    def _support(self, y: np.ndarray, s: np.ndarray) -> np.ndarray:
        return y > 0

    def _logpdf(self, y: Any, s: Any) -> Any:
        log_y = np.log(y)
        return -log_y * log_y / (2 * s * s) - np.log(s * y) - _LOG_SQRT_2PI


class _Discrete(_Distribution):
    """A discrete distribution on the integers ``k >= loc``: ``logpmf`` and ``pmf``.
    The counts ``k`` are constants (they have no derivative); the parameters differentiate."""

    methods = ("logpmf", "pmf")
    shapes: tuple[str, ...] = ()

    def logpmf(self, k: Any, *args: Any, loc: Any = 0) -> Any:
        if len(args) == len(self.shapes) + 1:
            *args, loc = args
        if len(args) != len(self.shapes):
            raise TypeError(f"{self.name}.logpmf(k, {', '.join(self.shapes)}, loc=0)")
        if is_active(k) or is_active(loc):
            raise UnsupportedPrimitiveError(
                f"dualad.scipy.stats.{self.name}.logpmf: the counts k (and loc) are integers "
                f"and have no derivative; pass them as plain arrays (dualad.primal(k)).")
        k = np.asarray(k, dtype=np.float64) - np.asarray(loc)
        shapes = tuple(map(_as_array, args))
        valid = self._valid(*map(_values, shapes))
        shapes = tuple(_safe(s, valid, self._inner) for s in shapes)
        inside = (k >= 0) & (k == np.floor(k)) & valid
        k = np.where(inside, k, 0.0)
        return _finish(self._logpmf(k, *shapes), inside, valid)

    def pmf(self, k: Any, *args: Any, loc: Any = 0) -> Any:
        return _result(np.exp(self.logpmf(k, *args, loc=loc)))

    _inner = 0.5


class Poisson(_Discrete):
    """The Poisson distribution, like ``scipy.stats.poisson`` (``poisson.logpmf(k, mu)``).

    >>> import dualad
    >>> from dualad.scipy.stats import poisson
    >>> float(poisson.logpmf(0, 2.0))
    -2.0
    """

    name = "poisson"
    shapes = ("mu",)

    def _valid(self, mu: np.ndarray) -> np.ndarray:
        return mu >= 0

    def _logpmf(self, k: Any, mu: Any) -> Any:
        return sc.xlogy(k, mu) - sc.gammaln(k + 1) - mu


class NegativeBinomial(_Discrete):
    """The negative binomial distribution, like ``scipy.stats.nbinom`` (``logpmf(k, n, p)``).

    >>> from dualad.scipy.stats import nbinom
    >>> bool(np.isclose(nbinom.logpmf(0, 2.0, 0.5), 2 * np.log(0.5)))
    True
    """

    name = "nbinom"
    shapes = ("n", "p")

    def _valid(self, n: np.ndarray, p: np.ndarray) -> np.ndarray:
        return (n > 0) & (p > 0) & (p <= 1)

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        coefficient = sc.gammaln(n + k) - sc.gammaln(k + 1) - sc.gammaln(n)
        return coefficient + n * np.log(p) + sc.xlog1py(k, -p)


norm = Normal()
t = StudentT()
cauchy = Cauchy()
laplace = Laplace()
expon = Exponential()
gamma = Gamma()
beta = Beta()
lognorm = LogNormal()
poisson = Poisson()
nbinom = NegativeBinomial()


class MultivariateNormal(_Distribution):
    """The multivariate normal distribution, like ``scipy.stats.multivariate_normal``.

    ``logpdf(x, mean=None, cov=1, allow_singular=False)`` through the Cholesky factor of
    ``cov`` (a scalar, the diagonal or the full matrix, as in SciPy); differentiable in ``x``,
    ``mean`` and ``cov``. A covariance that is not positive definite raises
    ``SingularMatrixError`` (SciPy's pseudo-inverse for ``allow_singular=True`` has no
    derivative where the rank changes).

    >>> import numpy as np, dualad
    >>> from dualad.scipy.stats import multivariate_normal
    >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> dualad.grad(multivariate_normal.logpdf)(np.array([1.0, -1.0]), np.zeros(2), cov)
    array([-0.85714286,  1.42857143])
    """

    name = "multivariate_normal"
    methods = ("logpdf", "pdf")

    def __call__(self, mean: Any = None, cov: Any = 1, allow_singular: bool = False,
                 seed: Any = None) -> _Frozen:
        return _Frozen(self, (), {"mean": mean, "cov": cov, "allow_singular": allow_singular})

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1,
               allow_singular: bool = False) -> Any:
        mean, cov = _mvn_parameters(mean, cov)
        dim = np.shape(cov)[0]
        x = _as_array(x)
        if np.ndim(x) == 0:
            x = np.reshape(x, (1,))
        if np.ndim(x) == 1:
            x = np.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        if np.shape(x)[-1] != dim:
            raise ValueError(f"multivariate_normal.logpdf: x has {np.shape(x)[-1]} "
                             f"coordinates, the mean and covariance {dim}")
        try:
            low = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise SingularMatrixError(
                "scipy.stats.multivariate_normal.logpdf: the covariance matrix is not "
                "positive definite, and the log-density has no derivative there. Use a "
                "positive definite covariance (add a small jitter to its diagonal)."
            ) from None
        batch = np.shape(x)[:-1]
        diff = np.reshape(x - mean, (-1, dim))
        z = np.linalg.solve(low, np.transpose(diff))
        mahalanobis = np.reshape(np.sum(z * z, axis=0), batch)
        log_det = 2.0 * np.sum(np.log(np.diagonal(low)))
        out = -0.5 * (dim * np.log(2 * np.pi) + log_det + mahalanobis)
        return _result(np.squeeze(out))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        return _result(np.exp(self.logpdf(x, mean, cov, allow_singular)))


def _mvn_parameters(mean: Any, cov: Any) -> tuple[Any, Any]:
    """SciPy's reading of ``mean`` and ``cov``: the dimension from whichever is given, a
    scalar covariance times the identity, a vector one on the diagonal."""
    cov = _as_array(cov)
    if mean is None:
        dim = 1 if np.ndim(cov) == 0 else np.shape(cov)[0]
        mean = np.zeros(dim)
    mean = _as_array(mean)
    mean = np.reshape(mean, (-1,))
    dim = np.shape(mean)[0]
    if np.ndim(cov) == 0:
        cov = cov * np.eye(dim)
    elif np.ndim(cov) == 1:
        cov = np.diag(cov) if np.shape(cov)[0] == dim else cov * np.eye(dim)
    if np.shape(cov) != (dim, dim):
        raise ValueError(f"multivariate_normal: a covariance of shape {np.shape(cov)} does "
                         f"not fit a mean of {dim} coordinates")
    return mean, cov


multivariate_normal = MultivariateNormal()
