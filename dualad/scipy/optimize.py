"""``scipy.optimize``'s test functions with SciPy's signatures, written with NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np

from .special import _as_array

__all__ = ["rosen"]


def rosen(x: Any) -> Any:
    """The Rosenbrock function along the first axis, like ``scipy.optimize.rosen``.

    >>> import numpy as np, dualad
    >>> from dualad.scipy.optimize import rosen
    >>> float(rosen(np.ones(3)))
    0.0
    >>> dualad.grad(rosen)(np.array([0.0, 0.0]))
    array([-2.,  0.])
    """
    x = _as_array(x)
    head, tail = x[:-1], x[1:]
    return np.sum(100.0 * (tail - head**2.0) ** 2.0 + (1 - head) ** 2.0, axis=0)
