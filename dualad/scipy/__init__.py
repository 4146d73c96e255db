"""dualad.scipy: SciPy's functions written in Python, differentiable (like ``jax.scipy``).

SciPy's Python functions convert their inputs with ``np.asarray``, which an active array
refuses. This package gives them twins with SciPy's names and signatures, written with NumPy
(and ``scipy.special``'s ufuncs) so that they differentiate in both modes and to any order:

- :mod:`dualad.scipy.special`: ``logsumexp``, ``softmax``, ``log_softmax``;
- :mod:`dualad.scipy.stats`: ``norm``, ``t``, ``multivariate_normal``, ``gamma``, ``beta``,
  ``poisson``, ... (log-densities, frozen or not);
- :mod:`dualad.scipy.optimize`: ``rosen``;
- :mod:`dualad.scipy.integrate`: ``odeint`` (derivatives in ``y0`` and ``args``).

:func:`enable` (opt-in, undone by :func:`disable`) makes SciPy's own names send calls with
active arguments here, so that unmodified code differentiates. ``dualad.scipy.special`` and
``dualad.scipy.optimize`` need NumPy only; the other modules import SciPy when imported.

>>> import numpy as np, dualad
>>> from dualad.scipy.special import logsumexp
>>> dualad.grad(logsumexp)(np.zeros(2))
array([0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

from . import optimize, special
from ._enable import disable, enable, is_enabled

__all__ = ["disable", "enable", "integrate", "is_enabled", "optimize", "special", "stats"]


def __getattr__(name: str) -> Any:
    # stats and integrate import SciPy (0.3 s): only when used
    if name in ("stats", "integrate"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
