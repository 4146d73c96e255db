"""The built-in primitives, one module per family. Importing this package registers them."""

from . import (  # noqa: F401
    differences,
    elementwise,
    functional,
    indexing,
    interpolation,
    linalg,
    polynomials,
    products,
    reductions,
    shape,
)
