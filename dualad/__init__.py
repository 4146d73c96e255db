"""dualad: automatic differentiation of ordinary NumPy code.

>>> import numpy as np, dualad
>>> def f(x1, x2):
...     return np.log(x1) + x1 * x2 - np.sin(x2)
>>> y, y_dot = dualad.jvp(f, (2.0, 5.0), (1.0, 0.0))
>>> round(float(y), 3), float(y_dot)
(11.652, 5.5)
"""

from . import (
    primitives,  # noqa: F401  - registers the built-in primitives
    transpose,  # noqa: F401  - lets reverse mode transpose a JVP rule alone
)
from .active import primal, stop_gradient
from .checking import check_grads, compare
from .compiling import Compiled, compile  # noqa: A004 - dualad.compile, as jax.jit
from .dual import Dual
from .errors import (
    CompileError,
    ConversionError,
    DualadError,
    GuardError,
    InvalidArgumentError,
    InvalidInputError,
    NonScalarOutputError,
    PerturbationConfusionError,
    RedefinitionWarning,
    RegistrationError,
    ShapeMismatchError,
    SingularMatrixError,
    UnsupportedPrimitiveError,
    ValueDependentError,
)
from .registry import NONDIFF, REGISTRY, Example, Interval, defprimitive
from .sparsity import (
    SparseJacobian,
    hessian_sparsity,
    jacobian_sparsity,
    sparse_hessian,
    sparse_jacobian,
)
from .tape import TapeArray
from .traces import Trace, trace
from .transforms import (
    checkpoint,
    checkpoint_policies,
    custom_jvp,
    custom_vjp,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from .tree import (
    register_dataclass,
    register_pytree_node,
    tree_flatten,
    tree_map,
    tree_unflatten,
)

# The one place the version is written: pyproject.toml reads this literal (dynamic version,
# attr:), so the installed metadata and dualad.__version__ agree; tests/test_release.py checks.
__version__ = "0.1.0"

__all__ = [
    "CompileError",
    "Compiled",
    "ConversionError",
    "Dual",
    "DualadError",
    "Example",
    "GuardError",
    "Interval",
    "InvalidArgumentError",
    "InvalidInputError",
    "NONDIFF",
    "NonScalarOutputError",
    "PerturbationConfusionError",
    "REGISTRY",
    "RedefinitionWarning",
    "RegistrationError",
    "ShapeMismatchError",
    "SingularMatrixError",
    "SparseJacobian",
    "TapeArray",
    "Trace",
    "UnsupportedPrimitiveError",
    "ValueDependentError",
    "check_grads",
    "compare",
    "compile",
    "checkpoint",
    "checkpoint_policies",
    "custom_jvp",
    "custom_vjp",
    "defprimitive",
    "grad",
    "hessian",
    "hessian_sparsity",
    "hvp",
    "jacfwd",
    "jacobian_sparsity",
    "jacrev",
    "jvp",
    "linearize",
    "primal",
    "register_dataclass",
    "register_pytree_node",
    "sparse_hessian",
    "sparse_jacobian",
    "stop_gradient",
    "trace",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "value_and_grad",
    "vjp",
]
