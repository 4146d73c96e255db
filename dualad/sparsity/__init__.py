"""Sparsity patterns of Jacobians and Hessians, found by running the function once on
structural arrays (:mod:`dualad.sparsity.structure`); SciPy holds the patterns."""

from .detect import hessian_sparsity, jacobian_sparsity

__all__ = ["hessian_sparsity", "jacobian_sparsity"]
