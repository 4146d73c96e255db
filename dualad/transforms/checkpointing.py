"""``dualad.checkpoint``: reverse mode that keeps a function's inputs, not its intermediates.

Reverse mode keeps every intermediate value of the function until the backward pass reads
it, so its memory grows with the length of the computation. A checkpointed function is one
node of the tape instead: the tape keeps its inputs and outputs, and its backward rule
computes the intermediates again from the inputs, then pulls the cotangents back through
them and lets them go. A deep network checkpointed layer by layer holds one layer's
intermediates at a time, for about one more forward pass of time (JAX's ``jax.checkpoint``,
also called ``remat``).

The first run records the function on a tape of its own (:class:`Recording`) and keeps the
recording's structure (which primitive ran on which values, the constants) without its
values, except those the *policy* saves: the backward rule replays the structure with the
primitives' own code, so the function's Python code runs once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import registry
from ..axes import zeros
from ..dual import Dual
from ..errors import InvalidArgumentError
from ..tape import Node, Tape, TapeArray, backward
from ..tree import flatten, unflatten
from ._boundary import as_input
from ._recording import Recording
from .custom import _Call, _CustomFunction

Policy = Callable[[str], bool]

DOTS = frozenset(("matmul", "dot", "inner", "tensordot", "einsum", "vdot", "outer"))
"""The matrix products ``checkpoint_policies.dots_saveable`` saves."""


class checkpoint_policies:  # noqa: N801 - JAX's name
    """Which results of a checkpointed function the tape keeps (JAX's
    ``jax.checkpoint_policies``). A policy is a function of a primitive's name
    (``"matmul"``, ``"exp"``, ``"add"``: the keys of :data:`dualad.REGISTRY`) that says
    whether to keep its results; the others are computed again in the backward pass.

    >>> checkpoint_policies.dots_saveable("matmul"), checkpoint_policies.dots_saveable("tanh")
    (True, False)
    """

    @staticmethod
    def nothing_saveable(name: str) -> bool:
        """Keep nothing but the inputs (the default): the least memory."""
        return False

    @staticmethod
    def everything_saveable(name: str) -> bool:
        """Keep every result: no recomputation, as without ``checkpoint``."""
        return True

    @staticmethod
    def dots_saveable(name: str) -> bool:
        """Keep the results of matrix products (``@``, ``np.dot``, ``np.einsum``, ...), the
        costly part of a layer, and compute the elementwise rest again."""
        return name in DOTS

    @staticmethod
    def save_only_these(*names: str) -> Policy:
        """Keep the results of the primitives ``names`` only.

        >>> checkpoint_policies.save_only_these("exp", "matmul")("exp")
        True
        """
        chosen = frozenset(names)
        return lambda name: name in chosen


class checkpoint(_CustomFunction):  # noqa: N801 - JAX's name
    """``fun`` as one step of reverse mode that keeps its inputs and outputs only, and
    computes its intermediate values again when the backward pass needs them (JAX's
    ``jax.checkpoint``): memory for time.

    Usable as a decorator. Forward mode and values are those of ``fun``; derivatives of any
    order and nesting work, as for any function of NumPy calls.

    Parameters
    ----------
    fun : callable
        A function of arrays (and pytrees of them) written with NumPy.
    policy : callable, optional
        Which intermediate results to keep after all, by primitive name: one of
        :class:`checkpoint_policies` (``nothing_saveable`` by default; ``dots_saveable``
        keeps the matrix products) or your own ``policy(name) -> bool``.
    static_argnums : sequence of int
        Arguments that are not arrays to differentiate (functions, shapes, options).
    prevent_cse : bool
        Accepted for JAX's signature; dualad never merges the recomputation away.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> @dualad.checkpoint
    ... def layer(h, w):
    ...     return np.tanh(h @ w)
    >>> def loss(w, h):
    ...     for _ in range(3):
    ...         h = layer(h, w)      # the tape keeps each layer's input, not its h @ w
    ...     return np.sum(h ** 2)
    >>> w, h = np.full((2, 2), 0.5), np.ones((1, 2))
    >>> bool(np.allclose(dualad.grad(loss)(w, h), dualad.grad(lambda w, h: np.sum(
    ...     np.tanh(np.tanh(np.tanh(h @ w) @ w) @ w) ** 2))(w, h)))
    True
    """

    kind = "checkpoint"

    def __init__(self, fun: Callable[..., Any], *, policy: Policy | None = None,
                 static_argnums: Sequence[int] = (), prevent_cse: bool = True) -> None:
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        super().__init__(fun, nondiff_argnums=static_argnums)
        if policy is not None and not callable(policy):
            raise InvalidArgumentError(
                f"dualad.checkpoint: policy is a function of a primitive's name (one of "
                f"dualad.checkpoint_policies), not {policy!r}")
        self.policy = checkpoint_policies.nothing_saveable if policy is None else policy
        self._prim = registry.declare(
            self._name, self._impl, jvp_all=self._jvp_rule, vjp_all=self._vjp_rule,
            multiple_results=True, batched=True, plain_impl=False,
            doc=f"dualad.checkpoint function {self._name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = self._positional(args, kwargs)
        static, diff = self._split(args)
        self._check_static(static)
        top = None
        for leaf in flatten(tuple(diff))[0]:
            if registry.is_active(leaf) and (top is None or leaf.tag > top.tag):
                top = leaf
        if type(top) is not TapeArray:  # only reverse mode keeps intermediates: run fun
            return self.fun(*args)
        return super().__call__(*args)

    def _impl(self, *leaves: Any, nondiff: _Call) -> tuple:
        call = nondiff
        numbers = tuple(i for i, x in enumerate(leaves) if _differentiable(x))
        rec = Recording(lambda *xs: self.fun(*self._merge(call.static, unflatten(call.tree,
                                                                                  xs))),
                        leaves, numbers, True, False, "dualad.checkpoint")
        call.residuals = _Skeleton(rec, numbers, self.policy)
        call.primals = leaves
        out = unflatten(rec.out_tree, rec.out_primals)
        return self._outputs(out, call, leaves)

    def _jvp_rule(self, dxs: tuple, *leaves: Any, out: tuple, nondiff: _Call) -> tuple:
        """Forward mode keeps nothing: ``fun`` runs on dual values of a level of its own."""
        call = nondiff
        k = next(dx.shape[0] for dx in dxs if dx is not None)
        tag = registry.enter_transform("dualad.checkpoint")
        try:
            inputs = [x if dx is None else Dual._make(x, dx, tag)
                      for x, dx in zip(leaves, dxs)]
            result = self.fun(*self._merge(call.static, unflatten(call.tree, inputs)))
            tangents = [o.tangent if type(o) is Dual and o.tag == tag else zeros(o, k)
                        for o in flatten(result)[0]]
        finally:
            registry.leave_transform(tag)
        return tuple(tangents)

    def _vjp_rule(self, cts: tuple, *leaves: Any, out: tuple, nondiff: _Call) -> tuple:
        """The intermediate values computed again from ``leaves``, then pulled back."""
        call = nondiff
        skeleton = call.residuals
        if call.primals is None or any(a is not b for a, b in zip(call.primals, leaves)):
            self._impl(*leaves, nondiff=call)  # (other values than those recorded)
            skeleton = call.residuals
        k = next(ct.shape[0] for ct in cts if ct is not None)
        return tuple(skeleton.pull(leaves, cts, k))

    def __repr__(self) -> str:
        return f"<dualad.checkpoint function {self._name}>"


class _Skeleton:
    """A recording's tape without its values (but the constants and those ``policy``
    saves), replayed on the inputs when cotangents are pulled back."""

    def __init__(self, rec: Recording, numbers: tuple[int, ...], policy: Policy) -> None:
        self.numbers = numbers
        self.tag = rec.tape.tag
        self.size = rec.tape.size
        self.input_indices = rec.input_indices
        self.out_indices = rec.out_indices
        self.nodes = []
        for node in rec.tape.nodes:
            active = dict(node.parents)
            primals = [None if i in active else p for i, p in enumerate(node.primals)]
            kept = node.out if policy(node.prim.name) else None
            self.nodes.append(Node(node.prim, primals, node.params, kept, node.parents,
                                   node.outputs))

    def pull(self, inputs: Sequence[Any], cts: Sequence[Any], k: int) -> list[Any]:
        """The inputs' cotangents for the outputs' ``cts`` (``(k,) + shape`` each, or
        None), the intermediate values computed again from ``inputs``."""
        values: list[Any] = [None] * self.size
        for index, number in zip(self.input_indices, self.numbers):
            values[index] = as_input(inputs[number], f"argument {number + 1}")
        tape = Tape(self.tag)
        tape.size = self.size
        for node in self.nodes:
            primals = list(node.primals)
            for i, index in node.parents:
                primals[i] = values[index]
            out = node.out
            if out is None:
                out = registry.apply(node.prim, primals, node.params)
            if node.outputs.__class__ is int:
                values[node.outputs] = out
            else:
                for index, part in zip(node.outputs, out):
                    if index >= 0:
                        values[index] = part
            tape.nodes.append(Node(node.prim, primals, node.params, out, node.parents,
                                   node.outputs))
        del values
        seeds = [(index, ct) for index, ct in zip(self.out_indices, cts)
                 if index is not None and ct is not None]
        pulled = backward(tape, seeds, self.input_indices, k) if seeds else \
            [None] * len(self.input_indices)
        cts_in: list[Any] = [None] * len(inputs)
        for number, ct in zip(self.numbers, pulled):
            cts_in[number] = ct
        return [zeros(x, k) if ct is None else ct for ct, x in zip(cts_in, inputs)]


def _differentiable(x: Any) -> bool:
    """A leaf the recording takes as an input: an active value or an array of floats or
    complex numbers (integers and booleans pass through as they are)."""
    if registry.is_active(x):
        return True
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    return kind in ("f", "c") or isinstance(x, (float, complex))


__all__ = ["checkpoint", "checkpoint_policies"]
