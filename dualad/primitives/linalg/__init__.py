"""Linear algebra: np.linalg's solvers, determinants, factorisations and norms.

Every rule works on stacks of matrices (``(..., n, n)``): the tangent's direction axis leads,
``(k, ..., n, n)``, and np.matmul and np.linalg.solve broadcast it as one more batch axis.
Rules are written with np.matmul, np.linalg.solve and einsum on their arguments, so they are
differentiable themselves (second order).

Conventions, as in JAX: cholesky and eigh read one triangle of their input, but their
derivatives are taken with respect to the symmetrised input ``(a + a.T) / 2``; svd and qr are
differentiated in their reduced forms; eigenvectors and singular vectors are defined up to
sign, so test functions of them that do not depend on the sign. ``norm`` at 0 has the finite
subgradient 0 (JAX gives nan there).

``det``'s derivative is the cofactor matrix adj(a)^T (the ``cofactor`` primitive), which
exists at singular matrices too: JAX's value there, and exact to every order, where JAX's
own Hessian is sometimes nan. ``slogdet``'s derivative does not exist at a singular matrix
(log|det| is -inf): it raises :class:`SingularMatrixError`. ``inv`` and ``solve`` of a
singular matrix raise NumPy's ``LinAlgError`` from the primal, as NumPy does.

One module per kind: ``solvers`` (inv, solve, tensorinv, tensorsolve, lstsq), ``determinants``
(det, slogdet), ``decompositions`` (cholesky, eigh, svd, pinv, qr), ``eigen`` (eig, eigvals,
roots: complex results), ``norms`` (norm, cond)
and ``array_api`` (NumPy 2's names); ``_common`` holds the family and the matrix helpers.
"""

from . import (  # noqa: F401  - importing them registers their primitives
    array_api,
    decompositions,
    determinants,
    eigen,
    norms,
    solvers,
)
from ._common import LINALG

__all__ = ["LINALG"]
