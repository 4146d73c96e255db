"""One evaluation of a function on a fresh tape, for the transforms that need its values.

``vjp``, ``grad``, ``jacrev`` pull cotangents back through the recording; ``jacfwd`` in
several chunks pushes tangents forward through it (:mod:`dualad.sweep`). The recording keeps
what it needs of the inputs when the function is called (their variables and values), so
whatever the function does to its argument handles (``x += 1`` rebinds ``x``) cannot change
which variables the derivative is taken with respect to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import registry
from ..axes import zeros
from ..errors import PerturbationConfusionError
from ..sweep import forward_sweep
from ..tape import Tape, TapeArray, backward
from ..tree import TreeDef, flatten, unflatten
from ._boundary import (
    arg_paths,
    as_input,
    call,
    output_leaf,
    output_leaves,
    plain_output,
    split_aux,
    strip_level,
    with_arguments,
)


class Recording:
    """``fun`` run once on a fresh tape: its inputs, outputs and the tape behind them.

    ``transform`` names the transform in errors (``"dualad.grad"``); the tape is closed when
    ``fun`` returns, so a tape array kept beyond the call raises when it is used.
    """

    __slots__ = ("tape", "input_indices", "input_primals", "in_tree", "out_tree",
                 "out_primals", "out_indices", "out_names", "aux")

    def __init__(self, fun: Callable[..., Any], args: Sequence[Any], numbers: tuple[int, ...],
                 tuple_argnums: bool, has_aux: bool, transform: str) -> None:
        chosen = tuple(args[i] for i in numbers)
        leaves, self.in_tree = flatten(chosen if tuple_argnums else chosen[0])
        paths = arg_paths(chosen, numbers)
        values = [as_input(x, where) for x, where in zip(leaves, paths)]
        tag = registry.enter_transform(transform)
        self.tape = tape = Tape(tag)
        try:
            inputs = [tape.variable(x) for x in values]
            self.input_indices = [x.index for x in inputs]
            self.input_primals = [x.primal for x in inputs]
            call_args = with_arguments(args, numbers, tuple_argnums,
                                       unflatten(self.in_tree, inputs))
            del inputs
            self.read_outputs(call(fun, call_args), has_aux)
        finally:
            tape.close()
            registry.leave_transform(tag)

    @classmethod
    def of_output(cls, tape: Tape, input_indices: list[int], input_primals: list[Any],
                  in_tree: TreeDef, out: Any, has_aux: bool) -> Recording:
        """A recording of a function that has already run on the tape variables
        ``input_indices`` holding ``input_primals`` (read when it was called) and returned
        ``out``."""
        rec = object.__new__(cls)
        rec.tape, rec.in_tree = tape, in_tree
        rec.input_indices, rec.input_primals = input_indices, input_primals
        rec.read_outputs(out, has_aux)
        return rec

    def read_outputs(self, out: Any, has_aux: bool) -> None:
        """Split ``fun``'s result into output leaves (primal, variable) and ``aux``."""
        tape = self.tape
        self.aux = None
        if has_aux:
            out, aux = split_aux(out)
            self.aux = strip_level(aux, tape.tag)
        out_leaves, self.out_names, self.out_tree = output_leaves(out)
        self.out_primals = []
        self.out_indices = []
        for leaf, where in zip(out_leaves, self.out_names):
            value, index = _read(leaf, tape, where)
            self.out_primals.append(value)
            self.out_indices.append(index)

    def pull(self, seeds: list[Any], k: int) -> list[Any]:
        """Cotangents ``(k,) + x.shape`` of every input for output cotangents ``seeds``
        (one per output leaf, ``(k,) + out.shape``, or None)."""
        pairs = [(index, seed) for index, seed in zip(self.out_indices, seeds)
                 if index is not None and seed is not None]
        wanted = self.input_indices
        cts = backward(self.tape, pairs, wanted, k) if pairs else [None] * len(wanted)
        return [zeros(x, k) if ct is None else ct for ct, x in zip(cts, self.input_primals)]

    def push(self, seeds: list[Any], k: int) -> list[Any]:
        """Tangents ``(k,) + out.shape`` of every output leaf for input tangents ``seeds``
        (one per input, ``(k,) + x.shape``), by a forward sweep over the recorded values."""
        wanted = [index for index in self.out_indices if index is not None]
        pushed = iter(forward_sweep(self.tape, list(zip(self.input_indices, seeds)),
                                    wanted, k) if wanted else [])
        tangents = []
        for index, out in zip(self.out_indices, self.out_primals):
            tangent = next(pushed) if index is not None else None
            tangents.append(zeros(out, k) if tangent is None else tangent)
        return tangents


def _read(leaf: Any, tape: Tape, where: str) -> tuple[Any, int | None]:
    """An output leaf's primal and its variable on ``tape`` (None for a constant)."""
    leaf = output_leaf(leaf, tape.tag, where)
    if type(leaf) is TapeArray and leaf.tag == tape.tag:
        return leaf.primal, leaf.index
    if registry.is_active(leaf):
        return leaf, None
    return plain_output(leaf, where), None


def check_alive(value: Any, where: str, what: str, made_by: str) -> None:
    """Raise if ``value`` holds an active value of a transform that has returned: ``what``
    (a pullback, a linearized JVP) called after the transform in which ``made_by`` ran. The
    values it recorded carry that transform's derivative, which has no meaning any more, and
    returning them would leak it."""
    while registry.is_active(value):
        if registry.expired(value.tag):
            name = registry.transform_name(value.tag)
            raise PerturbationConfusionError(
                f"{what} was called after the {name} call in which {made_by} ran had "
                f"returned: the values it recorded carry that call's derivative ({where} "
                f"would leak it). Call it inside the function given to {name}, or call "
                f"{made_by} outside it."
            )
        tangent = getattr(value, "tangent", None)
        if registry.is_active(tangent):
            check_alive(tangent, where, what, made_by)
        value = value.primal
