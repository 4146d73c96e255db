"""Second order, forward over reverse as in JAX: ``hessian`` (``jacfwd(jacrev(f))``) and
``hvp`` (one ``jvp`` of the gradient)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InvalidInputError
from .forward import jacfwd, jvp
from .reverse import grad, jacrev


def hessian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Hessian of ``fun``: ``jacfwd(jacrev(fun))``, forward over reverse, as in JAX.

    ``holomorphic=True`` gives the complex Hessian of a complex-differentiable ``fun`` of
    complex inputs (as in JAX); a real-valued function of complex inputs is refused, as JAX
    does, since its second derivative is not one complex matrix.

    For a scalar ``fun`` of ``x`` the result has shape ``x.shape + x.shape``; in general
    ``out.shape + in.shape + in.shape``, nested like the arguments for tuple ``argnums``.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> dualad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic=holomorphic), argnums, has_aux,
                  holomorphic=holomorphic)


def hvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian-vector product H·v of a scalar ``fun``, without forming H.

    Forward over reverse: one ``jvp`` of the gradient, about the cost of a few gradient
    evaluations whatever the dimension. ``primals`` and ``tangents`` are tuples (or lists)
    of the same structure; the result is ``sum_j H[i, j] v_j`` for each argument ``i``, a
    single array when there is one argument and a tuple otherwise.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> f = lambda x: np.sum(x ** 3)
    >>> dualad.hvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([6., 0.])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise InvalidInputError(
            "hvp(fun, primals, tangents): primals and tangents must be tuples or lists of "
            "arguments, e.g. hvp(f, (x,), (v,))"
        )
    argnums: Any = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(fun, argnums=argnums), tuple(primals), tuple(tangents))[1]


__all__ = ["hessian", "hvp"]
