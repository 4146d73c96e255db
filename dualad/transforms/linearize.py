"""``linearize``, with JAX's signature: evaluate once, push any number of tangents.

The function runs once on a tape (a :class:`~._recording.Recording`, as for ``vjp``); the
returned JVP function pushes each tangent through the recorded values by a forward sweep
(:mod:`dualad.sweep`), the mechanism by which ``jacfwd`` in several chunks evaluates the
function once. Neither the function nor any primal value is computed again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidInputError, ShapeMismatchError
from ..tree import describe, flatten, unflatten
from ._boundary import arg_paths, copied, finish, owned
from ._recording import Recording, check_alive
from .forward import _as_tangent


def linearize(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate ``fun`` at ``primals`` once and return its JVP function (``jax.linearize``).

    Parameters
    ----------
    fun : callable
        Ordinary NumPy code; arguments and results may be arrays, numbers, or pytrees of
        them (see :func:`dualad.jvp`).
    *primals
        The arguments to evaluate at.
    has_aux : bool
        ``fun`` returns ``(output, aux)``; ``aux`` is returned undifferentiated.

    Returns
    -------
    (primals_out, f_jvp) or (primals_out, f_jvp, aux)
        ``f_jvp(*tangents)``, one tangent per primal with its structure, shapes and dtype,
        returns the output's tangent, ``jvp(fun, primals, tangents)[1]``. It may be called
        any number of times and never runs ``fun`` again: it applies the JVP rules to the
        values recorded when ``fun`` ran.

    Raises
    ------
    ShapeMismatchError
        (from ``f_jvp``) when the tangents' number, structure, shapes or dtypes do not match
        the primals.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> y, f_jvp = dualad.linearize(lambda x: np.sin(x) * x, np.array([0.0, 1.0]))
    >>> y.round(4)
    array([0.    , 0.8415])
    >>> f_jvp(np.array([1.0, 1.0])).round(4)
    array([0.    , 1.3818])
    >>> f_jvp(np.array([0.0, 2.0])).round(4)
    array([0.    , 2.7635])
    """
    if not callable(fun):
        raise InvalidInputError(
            f"linearize(fun, *primals): fun must be callable, got {type(fun).__name__}"
        )
    numbers = tuple(range(len(primals)))
    rec = Recording(fun, primals, numbers, True, has_aux, "dualad.linearize")
    # copies: f_jvp reads the recorded values, which the caller may then change
    out = unflatten(rec.out_tree, [finish(copied(p)) for p in rec.out_primals])
    f_jvp = Linearized(rec, arg_paths(primals, numbers), len(primals))
    if has_aux:
        aux_leaves, aux_tree = flatten(rec.aux)
        aux = unflatten(aux_tree, [copied(a, "C") for a in aux_leaves])
        return out, f_jvp, aux
    return out, f_jvp


class Linearized:
    """The JVP function that :func:`linearize` returns: ``f_jvp(*tangents)``.

    It holds the recording of one evaluation (freed with it) and pushes one direction per
    call through it.
    """

    __slots__ = ("_recording", "_paths", "_nargs")

    def __init__(self, recording: Recording, paths: list[str], nargs: int) -> None:
        self._recording = recording
        self._paths = paths
        self._nargs = nargs

    def __call__(self, *tangents: Any) -> Any:
        rec = self._recording
        if len(tangents) != self._nargs:
            raise ShapeMismatchError(
                f"the function returned by dualad.linearize takes one tangent per primal: "
                f"{self._nargs} expected, got {len(tangents)}; call it as f_jvp(*tangents)"
            )
        leaves, tree = flatten(tangents)
        if tree != rec.in_tree:
            raise ShapeMismatchError(
                f"the tangents given to the function returned by dualad.linearize must have "
                f"the structure of the primals, {describe(rec.in_tree)}; got {describe(tree)}"
            )
        seeds = [_as_tangent(t, x, where)[None]
                 for t, x, where in zip(leaves, rec.input_primals, self._paths)]
        pushed = rec.push(seeds, 1)
        for tangent, where in zip(pushed, rec.out_names):
            check_alive(tangent, where, "the function returned by dualad.linearize",
                        "linearize")
        out = unflatten(rec.out_tree, [finish(t[0]) for t in pushed])
        return owned(out, leaves)

    def __repr__(self) -> str:
        return f"<dualad linearized JVP over {self._recording.tape!r}>"


