"""Sparse Jacobians and Hessians: patterns found by running the function once on
structural arrays (:mod:`dualad.sparsity.structure`), coloured
(:mod:`dualad.sparsity.colouring`) and evaluated one pass per colour
(:mod:`dualad.sparsity.jacobians`); SciPy holds the patterns and the results."""

from .detect import hessian_sparsity, jacobian_sparsity
from .jacobians import SparseJacobian, sparse_hessian, sparse_jacobian

__all__ = ["SparseJacobian", "hessian_sparsity", "jacobian_sparsity", "sparse_hessian",
           "sparse_jacobian"]
