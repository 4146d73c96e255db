"""Forward mode over a recorded tape: evaluate once, push tangents many times.

A :class:`~dualad.tape.Tape` holds every primitive application of one evaluation with
its values. :func:`forward_sweep` walks it in order and applies each primitive's JVP rules
to those values, so any number of tangent chunks can be pushed through one evaluation of
the function: ``jacfwd`` in several chunks evaluates the function once (a function with
hidden state, such as a random number generator, gives one consistent Jacobian) and does
not recompute the primal per chunk.
"""

from __future__ import annotations

from typing import Any

from . import registry
from .dual import binary_tangent, fit_tangent, tangent_of
from .tape import Tape, library_error


def forward_sweep(tape: Tape, seeds: list[tuple[int, Any]], wanted: list[int],
                  k: int) -> list[Any]:
    """The tangents (``(k,) + shape``) of the ``wanted`` variables for input tangents
    ``seeds`` (variable, ``(k,) + shape``); ``None`` where no path leads from a seed.

    Tangents are freed after their last use, so memory holds the live ones only.

    >>> import numpy as np
    >>> tape = Tape()
    >>> x = tape.variable(np.array([1.0, 2.0]))
    >>> y = np.sin(x) * x
    >>> forward_sweep(tape, [(x.index, np.eye(2))], [y.index], 2)[0].round(3)
    array([[1.382, 0.   ],
           [0.   , 0.077]])
    """
    kind = registry.external_kind([tangent for _, tangent in seeds])
    if kind is None:
        return _forward_sweep(tape, seeds, wanted, k)
    with registry.in_library(kind):  # (Dask raises where it would compute silently)
        return _forward_sweep(tape, seeds, wanted, k)


def _forward_sweep(tape: Tape, seeds: list[tuple[int, Any]], wanted: list[int],
                   k: int) -> list[Any]:
    tangents: list[Any] = [None] * tape.size
    for index, tangent in seeds:
        tangents[index] = tangent
    last_use = _last_uses(tape, wanted)
    for position, node in enumerate(tape.nodes):
        try:
            dxs: list[Any] = [None] * len(node.primals)
            active = False
            for i, index in node.parents:
                dx = tangents[index]
                if dx is not None:
                    dxs[i] = dx
                    active = True
            if not active:
                continue
            prim = node.prim
            out = node.out
            primals = node.primals
            if prim.elementwise and prim.jvp is not None and len(primals) <= 2 \
                    and not prim.multiple_results and not node.params:  # the engine's hot paths
                if len(primals) == 2:
                    tangent = binary_tangent(prim, primals[0], primals[1], dxs[0], dxs[1], out)
                else:
                    tangent = prim.jvp[0](dxs[0], primals[0], out=out)
            else:
                tangent = tangent_of(prim, primals, dxs, out, node.params)
            if node.outputs.__class__ is int:
                tangents[node.outputs] = fit_tangent(prim, out, tangent, k)
            else:
                parts = (None,) * len(out) if tangent is None else tangent
                for index, o, part in zip(node.outputs, out, parts):
                    if index >= 0 and part is not None:
                        tangents[index] = fit_tangent(prim, o, part, k)
            for _, index in node.parents:
                if last_use[index] == position:
                    tangents[index] = None
        except registry.LIBRARY_ERRORS as error:
            converted = library_error(node, error, "the forward-mode rule of ")
            if converted is None:
                raise
            raise converted from error
    return [tangents[i] for i in wanted]


def _last_uses(tape: Tape, wanted: list[int]) -> list[int]:
    """For each variable, the position of the last node that reads it (``len(nodes)`` for
    the wanted ones, which must survive the sweep)."""
    last = [-1] * tape.size
    for position, node in enumerate(tape.nodes):
        for _, index in node.parents:
            last[index] = position
    for index in wanted:
        last[index] = len(tape.nodes)
    return last
