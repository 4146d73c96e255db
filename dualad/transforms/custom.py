"""Custom derivative rules with JAX's shapes: ``custom_jvp`` and ``custom_vjp``.

A decorated function becomes one dualad primitive (declared with
:func:`dualad.registry.declare`, not registered under a name, so a notebook cell can run
again): its arguments are flattened to leaves (tuples, lists and dicts of arrays), the
arguments in ``nondiff_argnums`` are static parameters, and its rules are the user's, seeing
one direction (one cotangent) at a time as in JAX. Both modes and any nesting then follow
from the engines:

- ``custom_jvp``: forward mode calls the JVP rule; reverse mode transposes it
  (:mod:`dualad.transpose`), so the rule must be written with NumPy calls, as any rule that
  is to give higher derivatives must;
- ``custom_vjp``: reverse mode calls ``fwd`` and ``bwd``, and outer levels of a nested
  derivative differentiate their code, as in JAX; forward mode raises, as in JAX (``bwd``
  need not be a linear function of the cotangent, so it cannot be transposed safely).

Without an active argument the function itself runs, as in JAX: its rules serve derivatives
only.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import registry
from ..axes import zeros
from ..errors import (
    ConversionError,
    InvalidArgumentError,
    InvalidInputError,
    ShapeMismatchError,
    UnsupportedPrimitiveError,
)
from ..tape import frozen
from ..tree import TreeDef, flatten, unflatten


class _Call:
    """One call of a custom function, its primitive's one parameter: the arguments in
    ``nondiff_argnums`` (``static``, shown by a trace), the structure of the others, and
    what the impl learns as it runs (the output's structure; for ``custom_vjp``, the
    residuals of the values it saw)."""

    __slots__ = ("static", "tree", "out_tree", "primals", "residuals")

    def __init__(self, static: tuple, tree: TreeDef) -> None:
        self.static = tuple(frozen(value) for value in static)  # as the tape keeps values
        self.tree = tree
        self.out_tree: TreeDef | None = None
        self.primals: tuple | None = None
        self.residuals: Any = None

    def __repr__(self) -> str:
        return repr(self.static)


class _CustomFunction:
    """What ``custom_jvp`` and ``custom_vjp`` share: calling, argument handling, the
    primitive."""

    kind = "custom"

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = (),
                 nondiff_argnames: Sequence[str] = ()) -> None:
        if not callable(fun):
            raise InvalidInputError(f"dualad.{self.kind} decorates a function, not {fun!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._prim: registry.Primitive | None = None
        try:
            self._signature: inspect.Signature | None = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None
        self.nondiff_argnums = tuple(sorted({*nondiff_argnums, *self._positions(nondiff_argnames)}))

    def _positions(self, names: Sequence[str]) -> list[int]:
        """The positions of the parameters ``names`` (JAX's ``nondiff_argnames``)."""
        if isinstance(names, str):
            names = (names,)
        parameters = list(self._signature.parameters) if self._signature is not None else []
        for name in names:
            if name not in parameters:
                raise InvalidArgumentError(
                    f"{self._name} has no parameter {name!r} (nondiff_argnames); its "
                    f"parameters are {parameters}")
        return [parameters.index(name) for name in names]

    @property
    def _name(self) -> str:
        return getattr(self.fun, "__qualname__", None) or repr(self.fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        args = self._positional(args, kwargs)
        static, diff = self._split(args)
        leaves, tree = flatten(tuple(diff))
        self._check_static(static)
        if not any(map(registry.is_active, leaves)):
            return self.fun(*args)  # no derivative asked for: the function itself
        if self._prim is None:
            raise UnsupportedPrimitiveError(self._no_rule_message())
        call = _Call(static, tree)
        outs = self._prim(*leaves, nondiff=call)
        return unflatten(call.out_tree, outs)

    def _no_rule_message(self) -> str:
        raise NotImplementedError

    def _positional(self, args: tuple, kwargs: dict) -> tuple:
        """The arguments by position (JAX resolves keywords the same way)."""
        if self._signature is None:
            if kwargs:
                raise InvalidInputError(
                    f"{self._name} is a dualad.{self.kind} function whose signature cannot be "
                    f"read: pass its arguments by position")
            return args
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if bound.kwargs:
            raise InvalidInputError(
                f"{self._name} is a dualad.{self.kind} function: its keyword-only arguments "
                f"{sorted(bound.kwargs)} cannot be given to its rules; make them positional")
        return bound.args

    def _split(self, args: tuple) -> tuple[tuple, list]:
        """``(static, diff)``: the arguments in ``nondiff_argnums``, and the others."""
        for i in self.nondiff_argnums:
            if not 0 <= i < len(args):
                raise InvalidArgumentError(
                    f"{self._name}: nondiff_argnums contains {i}, but it was called with "
                    f"{len(args)} arguments")
        static = tuple(args[i] for i in self.nondiff_argnums)
        diff = [a for i, a in enumerate(args) if i not in self.nondiff_argnums]
        return static, diff

    def _merge(self, static: tuple, diff: Sequence[Any]) -> tuple:
        """The arguments in their order again, from ``_split``'s parts."""
        diff_iter = iter(diff)
        static_iter = iter(static)
        count = len(static) + len(diff)
        return tuple(next(static_iter) if i in self.nondiff_argnums else next(diff_iter)
                     for i in range(count))

    def _check_static(self, static: tuple) -> None:
        for i, value in zip(self.nondiff_argnums, static):
            if any(map(registry.is_active, flatten(value)[0])):
                raise InvalidInputError(
                    f"argument {i + 1} of {self._name} is in nondiff_argnums but carries a "
                    f"derivative: nondiff_argnums are for values without one (functions, "
                    f"shapes, options). Pass it as an ordinary argument, or "
                    f"dualad.stop_gradient(...) of it if its derivative is meant to be zero.")

    def _outputs(self, out: Any, call: _Call, leaves: Sequence[Any]) -> tuple:
        """The primal output's leaves as arrays, its structure kept in ``call``. From plain
        ``leaves``, an active output can only come from a closure."""
        out_leaves, call.out_tree = flatten(out)
        if not any(map(registry.is_active, leaves)) and any(map(registry.is_active,
                                                                 out_leaves)):
            raise InvalidInputError(
                f"{self._name} is a dualad.{self.kind} function that uses a value carrying a "
                f"derivative which is not one of its arguments (a closure over a variable of "
                f"an enclosing transform). Its rule cannot see that derivative: pass the value "
                f"as an argument.")
        return tuple(o if hasattr(o, "dtype") else np.asarray(o) for o in out_leaves)

    def _declare(self, **declaration: Any) -> None:
        self._prim = registry.declare(
            self._name, self._impl, multiple_results=True, batched=False,
            doc=f"dualad.{self.kind} function {self._name}", **declaration)

    def _impl(self, *leaves: Any, nondiff: _Call) -> tuple:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<dualad.{self.kind} function {self._name}>"


def _tangent_zeros(x: Any) -> Any:
    """The zero tangent of ``x`` (a float zero for an integer argument)."""
    return zeros(x, 1)[0]


class custom_jvp(_CustomFunction):  # noqa: N801 - JAX's name
    """A function whose derivative is given by a JVP rule, as ``jax.custom_jvp``.

    Define the rule with :meth:`defjvp`: ``rule(primals, tangents) -> (primal_out,
    tangent_out)``, where ``primals`` and ``tangents`` are tuples of the arguments (not in
    ``nondiff_argnums``; those come first, ``rule(*nondiff, primals, tangents)``) and their
    tangents, one direction at a time, and ``tangent_out`` has the output's structure.
    Forward mode calls the rule; reverse mode transposes it (the rule is linear in the
    tangents), so one rule serves ``jvp``, ``grad``, ``jacfwd``, ``jacrev`` and ``hessian``.
    Write it with NumPy calls, and derivatives of any order work; the function itself may
    be opaque (SciPy, loops). Arguments may be arrays, numbers or pytrees of them.

    Parameters
    ----------
    fun : callable
        The function. It runs on plain arrays only.
    nondiff_argnums : sequence of int
        Arguments without a derivative (functions, shapes, options), passed to the rule
        first.
    nondiff_argnames : sequence of str
        The same, by parameter name.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> @dualad.custom_jvp
    ... def norm(x):
    ...     return np.sqrt(np.sum(x * x))
    >>> @norm.defjvp
    ... def norm_jvp(primals, tangents):    # the formula's derivative at 0 is nan
    ...     x, = primals
    ...     x_dot, = tangents
    ...     y = norm(x)
    ...     return y, np.sum(x * x_dot) / np.where(y == 0, 1.0, y)
    >>> dualad.grad(norm)(np.array([3.0, 4.0])), dualad.grad(norm)(np.zeros(2))
    (array([0.6, 0.8]), array([0., 0.]))
    >>> float(dualad.jvp(norm, (np.array([3.0, 4.0]),), (np.array([1.0, 0.0]),))[1])
    0.6
    """

    kind = "custom_jvp"

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Set the JVP rule, ``jvp(*nondiff, primals, tangents) -> (primal_out,
        tangent_out)``; usable as a decorator. Returns ``jvp``."""
        self.jvp = jvp
        self._declare(jvp_all=self._jvp_rule)
        return jvp

    def _no_rule_message(self) -> str:
        return (f"{self._name} is a dualad.custom_jvp function without a JVP rule: define "
                f"it with @{self._name}.defjvp before differentiating it.")

    def _impl(self, *leaves: Any, nondiff: _Call) -> tuple:
        args = self._merge(nondiff.static, unflatten(nondiff.tree, leaves))
        return self._outputs(self.fun(*args), nondiff, leaves)

    def _jvp_rule(self, dxs: tuple, *leaves: Any, out: tuple, nondiff: _Call) -> tuple:
        """The registry's ``jvp_all`` (one direction; None for a constant's tangent)."""
        call = nondiff
        primals = unflatten(call.tree, leaves)
        tangents = unflatten(call.tree, [_tangent_zeros(x) if dx is None else dx
                                         for x, dx in zip(leaves, dxs)])
        result = self.jvp(*call.static, primals, tangents)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise ShapeMismatchError(
                f"the JVP rule of {self._name} must return a pair (primal_out, tangent_out), "
                f"as JAX's does; it returned {type(result).__name__}")
        tangent_leaves, tangent_tree = flatten(result[1])
        if tangent_tree != call.out_tree:
            raise ShapeMismatchError(
                f"the JVP rule of {self._name} returned a tangent_out of another structure "
                f"than the function's output ({len(tangent_leaves)} arrays for "
                f"{len(out)}): give one tangent per output array, in the same nesting")
        return tuple(tangent_leaves)


class custom_vjp(_CustomFunction):  # noqa: N801 - JAX's name
    """A function whose reverse-mode derivative is given by a VJP rule, as
    ``jax.custom_vjp``.

    Define the rule with :meth:`defvjp`: ``fwd(*args) -> (out, residuals)`` runs on the
    function's arguments and keeps what the backward pass needs; ``bwd(*nondiff,
    residuals, ct) -> cotangents`` returns one cotangent per argument not in
    ``nondiff_argnums`` (a tuple, each of its argument's structure; None for zero), for one
    output cotangent ``ct`` of the output's structure. Reverse mode (``grad``, ``vjp``,
    ``jacrev``) works to any order when ``fwd`` and ``bwd`` are written with NumPy calls;
    forward mode (``jvp``, ``jacfwd``, ``hessian``) raises, as in JAX: use
    ``jacrev(jacrev(f))`` for a Hessian, or :class:`custom_jvp`.

    Parameters
    ----------
    fun : callable
        The function, run when no derivative is asked for. Otherwise ``fwd`` runs: on plain
        arrays for a first derivative; in a nested one on the values of each level, outer
        levels differentiating ``fwd``'s and ``bwd``'s code, as in JAX (so write them with
        NumPy calls; ``fwd`` may call the function itself).
    nondiff_argnums : sequence of int
        Arguments without a derivative (functions, shapes, options), passed to ``bwd`` first.
    nondiff_argnames : sequence of str
        The same, by parameter name.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> @dualad.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def clip_fwd(x):
    ...     return x, None
    >>> def clip_bwd(residuals, ct):
    ...     return (np.clip(ct, -1.0, 1.0),)
    >>> clip_gradient.defvjp(clip_fwd, clip_bwd)
    >>> float(dualad.grad(lambda x: 3.0 * clip_gradient(x))(2.0))
    1.0
    """

    kind = "custom_vjp"

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Set the VJP rule: ``fwd(*args) -> (out, residuals)`` and
        ``bwd(*nondiff, residuals, ct) -> cotangents``."""
        self.fwd = fwd
        self.bwd = bwd
        # fwd runs on the values of each level, active ones of outer levels included, so
        # that outer levels differentiate fwd's code, as in JAX (and keep its residuals)
        self._declare(jvp_all=self._no_forward_mode, vjp_all=self._vjp_rule, plain_impl=False)

    def _no_rule_message(self) -> str:
        return (f"{self._name} is a dualad.custom_vjp function without a VJP rule: define it "
                f"with {self._name}.defvjp(fwd, bwd) before differentiating it.")

    def _impl(self, *leaves: Any, nondiff: _Call) -> tuple:
        out, residuals = self._forward(nondiff, leaves)
        nondiff.primals, nondiff.residuals = leaves, residuals
        return self._outputs(out, nondiff, leaves)

    def _forward(self, call: _Call, leaves: Sequence[Any]) -> tuple:
        with self._differentiating("fwd", leaves):
            result = self.fwd(*self._merge(call.static, unflatten(call.tree, leaves)))
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise ShapeMismatchError(
                f"the fwd rule of {self._name} must return a pair (out, residuals), as JAX's "
                f"does; it returned {type(result).__name__}")
        return result

    def _residuals(self, call: _Call, leaves: tuple) -> Any:
        """The residuals of ``fwd`` at ``leaves``: those the impl kept when it ran on the same
        values (the engines pass a rule the values they passed the impl); computed again
        otherwise."""
        if call.primals is None or len(call.primals) != len(leaves) or any(
                a is not b for a, b in zip(call.primals, leaves)):
            call.primals, call.residuals = leaves, self._forward(call, leaves)[1]
        return call.residuals

    def _vjp_rule(self, ct: tuple, *leaves: Any, out: tuple, nondiff: _Call) -> tuple:
        """The registry's ``vjp_all`` (one cotangent row): one cotangent per leaf."""
        call = nondiff
        residuals = self._residuals(call, leaves)
        with self._differentiating("bwd", (*leaves, *ct)):
            cts = self.bwd(*call.static, residuals, unflatten(call.out_tree, ct))
        diff = unflatten(call.tree, leaves)
        if not (isinstance(cts, (tuple, list)) and len(cts) == len(diff)):
            raise ShapeMismatchError(
                f"the bwd rule of {self._name} must return a tuple of {len(diff)} "
                f"cotangent(s), one per argument not in nondiff_argnums; it returned "
                f"{len(cts) if isinstance(cts, (tuple, list)) else type(cts).__name__}")
        result: list[Any] = []
        for i, (arg, arg_ct) in enumerate(zip(diff, cts)):
            arg_leaves, arg_tree = flatten(arg)
            if arg_ct is None:
                result.extend(_tangent_zeros(x) for x in arg_leaves)
                continue
            ct_leaves, ct_tree = flatten(arg_ct)
            if ct_tree != arg_tree:
                raise ShapeMismatchError(
                    f"the bwd rule of {self._name} returned, for argument {i + 1}, a "
                    f"cotangent of another structure than the argument's")
            result.extend(_tangent_zeros(x) if c is None else c
                          for x, c in zip(arg_leaves, ct_leaves))
        return tuple(result)

    @contextlib.contextmanager
    def _differentiating(self, rule: str, values: Sequence[Any]) -> Iterator[None]:
        """Name the function when an outer level cannot differentiate ``fwd`` or ``bwd``."""
        try:
            yield
        except (ConversionError, UnsupportedPrimitiveError) as err:
            if not any(map(registry.is_active, values)):
                raise
            raise UnsupportedPrimitiveError(
                f"a nested derivative of the dualad.custom_vjp function {self._name} "
                f"differentiates its {rule} rule, as JAX does, and {rule} cannot be "
                f"differentiated ({err}). Write {rule} with NumPy calls; fwd may call "
                f"{self._name} itself, whose rule then applies at the outer level too."
            ) from err

    def _no_forward_mode(self, dxs: tuple, *leaves: Any, **params: Any) -> tuple:
        raise UnsupportedPrimitiveError(
            f"{self._name} is a dualad.custom_vjp function: it has a reverse-mode rule only, "
            f"so forward mode (dualad.jvp, jacfwd, and hessian, which is jacfwd of jacrev) "
            f"cannot differentiate it, as in JAX. Use dualad.grad/jacrev (jacrev(jacrev(f)) "
            f"for a Hessian), or give it a JVP rule with dualad.custom_jvp instead, which "
            f"serves both modes.")


__all__ = ["custom_jvp", "custom_vjp"]
