"""The transforms, with JAX's signatures: forward mode (``jvp``, ``jacfwd``,
``linearize``), reverse mode (``vjp``, ``grad``, ``value_and_grad``, ``jacrev``), second
order (``hessian``, ``hvp``), custom derivative rules (``custom_jvp``, ``custom_vjp``), and
``checkpoint`` (reverse mode that computes a function's intermediates again).

Each is a thin composition over the engines (:mod:`dualad.dual`, :mod:`dualad.tape`);
``_boundary`` checks and names arguments and hands back results, ``_recording`` runs a
function once on a tape.
"""

from .checkpointing import checkpoint, checkpoint_policies
from .custom import custom_jvp, custom_vjp
from .forward import jacfwd, jvp
from .linearize import linearize
from .reverse import Pullback, grad, jacrev, value_and_grad, vjp
from .second_order import hessian, hvp

__all__ = ["Pullback", "checkpoint", "checkpoint_policies", "custom_jvp", "custom_vjp", "grad",
           "hessian", "hvp", "jacfwd", "jacrev", "jvp", "linearize", "value_and_grad", "vjp"]
