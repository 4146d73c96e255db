"""The built-in primitives, one module per family. Importing this package registers them."""

from . import (  # noqa: F401
    complex_parts,
    differences,
    elementwise,
    fft,
    indexing,
    linalg,
    products,
    reductions,
    shape,
)
