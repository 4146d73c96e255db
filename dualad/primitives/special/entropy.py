"""Entropies and losses: xlogy, xlog1py, entr, rel_entr, kl_div, huber, pseudo_huber."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from ...registry import (
    POSITIVE,
    Example,
    Interval,
)
from ._common import (
    _sign,
    _special,
)

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
