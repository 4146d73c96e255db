"""Exception hierarchy: every dualad error is a ``DualadError`` and the matching built-in.

Catching ``TypeError`` or ``ValueError`` keeps working for code written against NumPy, and
``except dualad.DualadError`` catches everything dualad raises on purpose.
"""

from __future__ import annotations

import numpy as np


class DualadError(Exception):
    """Base class of every error dualad raises on purpose."""


class UnsupportedPrimitiveError(DualadError, NotImplementedError):
    """A NumPy function, ufunc method or argument that dualad cannot differentiate."""


class ConversionError(DualadError, TypeError):
    """A conversion that would drop the derivative (``float(d)``, ``np.asarray(d)``, ...)."""


class RegistrationError(DualadError, ValueError):
    """A primitive declared without its rules, twice, or with the wrong arity."""


class NonScalarOutputError(DualadError, TypeError):
    """``grad`` of a function whose output is not a scalar."""


class PerturbationConfusionError(DualadError, ValueError):
    """A dual value used outside the transform that created it."""


class ShapeMismatchError(DualadError, ValueError):
    """Tangents, cotangents or arguments whose shape or dtype does not fit."""


class InvalidArgumentError(DualadError, ValueError):
    """An argument to a transform that is out of range (``argnums``, ``chunk_size``, ...)."""


class SingularMatrixError(DualadError, np.linalg.LinAlgError):
    """A derivative that does not exist at a singular matrix (``np.linalg.slogdet``'s)."""


class InvalidInputError(DualadError, TypeError):
    """A function or argument of the wrong kind: not an array, not a pair with has_aux, ..."""


class CompileError(DualadError, TypeError):
    """Something inside a function given to ``dualad.compile`` cannot be recorded (a traced
    value converted to a plain array, kept after the call, written into a plain buffer)."""


class GuardError(DualadError, ValueError):
    """A compiled function called with ``strict=True`` took another decision on its values
    than at its recording (a guard failed)."""


class ValueDependentError(DualadError, ValueError):
    """A global sparsity pattern (``dualad.jacobian_sparsity``) was asked of a function that
    takes a decision on its input's values: a Python ``if`` on them, a shape taken from
    them."""


class DualadWarning(UserWarning):
    """Base class of every warning dualad gives."""


class RedefinitionWarning(DualadWarning):
    """A user's primitive declared again (a re-run notebook cell): the new one replaces it."""
