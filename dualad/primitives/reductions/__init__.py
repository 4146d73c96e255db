"""Reductions: sums, means, products, extrema, cumulative and statistical functions.

Rules shift ``axis`` past the leading direction axis with ``batch_axis``; ``keepdims`` keeps
the reduced axes so results broadcast against the input. Conventions at kinks follow JAX:
``max``/``min`` ties share the derivative equally, ``clip`` at a bound gives 0.5, ``sort``
ties follow the stable order. Products and cumulative products are exact at zeros (no
division by the input).

One module per kind of function, grouped as NumPy's documentation groups them: ``sums``
(sum, prod, bincount), ``cumulative`` (cumsum, cumprod), ``extrema`` (max, min, ptp, clip),
``statistics`` (mean, average, var, std, median, quantile, percentile), ``covariance`` (cov,
corrcoef), ``sorting`` (sort,
partition; argsort and the other index functions without a derivative), ``nanfunctions``
``histograms`` (unique, histogram)
and ``ufunc_methods`` (``np.logaddexp.reduce``, ``np.maximum.accumulate``, ``np.add.at``, ...).
"""

from . import (  # noqa: F401  - importing them registers their primitives
    covariance,
    cumulative,
    extrema,
    histograms,
    nanfunctions,
    sorting,
    statistics,
    sums,
    ufunc_methods,
)
from ._common import REDUCTIONS

__all__ = ["REDUCTIONS"]
