"""The lecture's trace tables: ``dualad.trace`` records a function's primal, tangent and
adjoint traces (:mod:`.build`) into frozen records (:mod:`.record`), with each line's rule
text (:mod:`.rules`), and renders them (:mod:`.formats`; the derivative program in NumPy:
:mod:`.python_source`, each primitive's text in :mod:`.python_rules`)."""

from .build import trace
from .record import Trace

__all__ = ["Trace", "trace"]
