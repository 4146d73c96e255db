"""The built-in primitives, one module per family. Importing this package registers them.

The family of scipy.special's ufuncs (:mod:`dualad.primitives.special`) is the exception:
importing SciPy costs more than importing dualad itself, and code that does not use SciPy
should not pay for it. The family is declared the first time one of scipy.special's ufuncs
reaches dualad's dispatch, which can only happen once the user's code has imported SciPy
(and :func:`dualad.registry.load_optional_families` declares it for walks of the whole
registry).
"""

import importlib
import sys
from typing import Any

import numpy as np

from .. import registry
from . import (  # noqa: F401
    complex_parts,
    differences,
    elementwise,
    fft,
    functional,
    indexing,
    interpolation,
    linalg,
    polynomials,
    products,
    reductions,
    shape,
    sinc,
)


def _is_scipy_special_ufunc(fn: Any) -> bool:
    """``fn`` is one of scipy.special's ufuncs (looked up without importing SciPy)."""
    ufuncs = sys.modules.get("scipy.special._ufuncs")
    return (isinstance(fn, np.ufunc) and ufuncs is not None
            and getattr(ufuncs, fn.__name__, None) is fn)


registry.defprovider(
    _is_scipy_special_ufunc, lambda: importlib.import_module(f"{__name__}.special"),
    requires="scipy",
)
