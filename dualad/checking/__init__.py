"""Checking derivatives: ``check_grads`` (against central differences), ``compare`` (a
gradient derived by hand against dualad's) and the diagnosis that names the first
intermediate of a hand derivation that differs."""

from ._numbers import default_step
from .check_grads import GradCheckReport, GradientCheckError, check_grads
from .compare import ArgumentComparison, Comparison, compare

__all__ = ["ArgumentComparison", "Comparison", "GradCheckReport", "GradientCheckError",
           "check_grads", "compare", "default_step"]
