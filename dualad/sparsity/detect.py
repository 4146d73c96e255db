"""``dualad.jacobian_sparsity`` and ``dualad.hessian_sparsity``: patterns from one run.

The function runs once on a :class:`~dualad.sparsity.structure.Structure` array whose
element ``j`` depends on input ``j`` alone; the dependencies of the result's elements are
the rows of the Jacobian's pattern. The Hessian's pattern of a scalar function comes from
the same run: each primitive adds the pairs of inputs it makes interact
(:mod:`dualad.sparsity.second_order`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import registry
from ..errors import InvalidInputError, NonScalarOutputError
from .rules import empty
from .second_order import Interactions
from .structure import INTERACTIONS, Structure
from .tainted import Tainted


def _scipy_sparse(caller: str) -> Any:
    try:
        import scipy.sparse
    except ImportError:
        raise ImportError(
            f"{caller} returns a scipy.sparse array: install SciPy (pip install scipy, or "
            f"pip install 'dualad[scipy]')"
        ) from None
    return scipy.sparse


def jacobian_sparsity(f: Callable[[Any], Any], x: Any, *, local: bool = False) -> Any:
    """The sparsity pattern of the Jacobian of ``f`` at ``x``: a boolean
    ``scipy.sparse.csr_array`` of shape ``(f(x).size, x.size)`` (elements in C order) that is
    True wherever the Jacobian may be nonzero.

    The pattern is *global* by default: it holds at every input value, because it follows
    the structure of the computation (which inputs each result is computed from), not the
    values; ``np.where`` and ``np.maximum`` keep both branches, and a function that takes a
    Python decision on its input's values (``if x[0] > 0``, an index or a shape computed
    from them) raises :class:`~dualad.errors.ValueDependentError`. With ``local=True`` the
    pattern is the one at ``x``: the branches taken there, decisions on values allowed.
    Either way a True entry may still hold a zero at a particular point (``x * 0.0``, a
    derivative that vanishes there); a False entry is zero everywhere the pattern holds.

    Parameters
    ----------
    f : callable
        A function of one array returning one array, written with NumPy.
    x : array_like
        Where to run ``f`` (its values matter only for a local pattern).
    local : bool, optional
        The pattern at ``x`` instead of the global one.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> def residual(u):   # a 1-D diffusion residual: tridiagonal
    ...     return u[:-2] - 2 * u[1:-1] + u[2:]
    >>> dualad.jacobian_sparsity(residual, np.ones(5)).toarray().astype(int)
    array([[1, 1, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 1, 1]])
    >>> f = lambda x: np.maximum(x[0], x[1]) * np.ones(1)
    >>> dualad.jacobian_sparsity(f, np.array([2.0, 1.0])).toarray()
    array([[ True,  True]])
    >>> dualad.jacobian_sparsity(f, np.array([2.0, 1.0]), local=True).toarray()
    array([[ True, False]])
    """
    sparse = _scipy_sparse("dualad.jacobian_sparsity")
    x = _input(x, "dualad.jacobian_sparsity")
    out, _ = _run(f, x, local, "dualad.jacobian_sparsity", None)
    return sparse.csr_array(out, dtype=bool)


def _run(f: Callable[[Any], Any], x: np.ndarray, local: bool, caller: str,
         interactions: Interactions | None) -> tuple[Any, int]:
    """Run ``f`` on a structural ``x``: the dependencies of its result's elements, and their
    number; ``interactions``, if given, gathers the pairs of inputs that interact."""
    sparse = _scipy_sparse(caller)
    tag = registry.enter_transform(caller)
    if interactions is not None:
        INTERACTIONS[tag] = interactions
    try:
        values = x.copy() if local else x.copy().view(Tainted)
        seed = Structure._make(values, sparse.eye_array(x.size, dtype=bool, format="csr"),
                               tag, local)
        out = f(seed)
        if type(out) is Structure and out.tag == tag:
            return out.deps, out.size
        if registry.is_active(out) or isinstance(out, (tuple, list, dict)):
            raise InvalidInputError(
                f"{caller}: f must return one array, not {type(out).__name__}; return "
                f"np.concatenate([np.ravel(a) for a in ...]) for several"
            )
        size = int(np.size(np.asarray(out.view(np.ndarray) if isinstance(out, Tainted)
                                      else out)))
        return empty(size, x.size), size  # a result that does not depend on x
    finally:
        INTERACTIONS.pop(tag, None)
        registry.leave_transform(tag)


def hessian_sparsity(f: Callable[[Any], Any], x: Any, *, local: bool = False) -> Any:
    """The sparsity pattern of the Hessian of a scalar ``f`` at ``x``: a symmetric boolean
    ``scipy.sparse.csr_array`` of shape ``(x.size, x.size)``, True where inputs ``i`` and
    ``j`` may interact nonlinearly (``x[i] * x[j]``, ``np.sin(x[i] + x[j])``, and the
    diagonal of ``x[i] ** 2``). Global or local as in :func:`jacobian_sparsity`.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> def energy(x):   # a chain of springs and a linear term
    ...     return np.sum((x[1:] - x[:-1]) ** 2) + np.sum(x)
    >>> dualad.hessian_sparsity(energy, np.ones(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 1, 1]])
    """
    _scipy_sparse("dualad.hessian_sparsity")
    x = _input(x, "dualad.hessian_sparsity")
    interactions = Interactions(x.size)
    _, size = _run(f, x, local, "dualad.hessian_sparsity", interactions)
    if size != 1:
        raise NonScalarOutputError(
            f"dualad.hessian_sparsity needs a function with one scalar output; this one "
            f"returned {size} elements. Use dualad.jacobian_sparsity(dualad.jacrev(f), x) "
            f"for the pattern of the Jacobian of its Jacobian, or reduce the output first "
            f"(e.g. np.sum).")
    return interactions.pattern()


def _input(x: Any, caller: str) -> np.ndarray:
    if registry.is_active(x):
        raise InvalidInputError(f"{caller}: x must be a plain array, not an active value")
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        x = x.astype(float)
    return x
