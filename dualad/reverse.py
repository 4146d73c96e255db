"""Reverse mode: the tape (a Wengert list) and the arrays recorded on it.

Each reverse-mode transform call opens a :class:`Tape` with a fresh tag. Its inputs become
:class:`TapeArray` values; every primitive applied to them at that level appends one
:class:`Node` (the primitive, its primal inputs and parameters, its output and which
variables it read) and returns new tape arrays. :func:`backward` walks the nodes in reverse
order, calling each primitive's VJP rules, with cotangents that carry a leading batch axis
(``k`` rows of a Jacobian at once). It is a loop over a list, not a recursion, so programs of
any length work; it does not modify the tape, so a pullback can run many times. Nothing
global refers to a tape: it is freed with the last array or pullback that uses it.

Rules are written with NumPy calls, so when the recorded primals are themselves traced (a
forward-mode ``Dual`` for ``hessian``, an outer tape for ``grad`` of ``grad``) the backward
pass is differentiated in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import registry
from ._broadcast import fit_cotangent
from ._traced import _NO_PARAMS, TracedArray, not_differentiable
from .errors import UnsupportedPrimitiveError
from .registry import Primitive, apply, strip


class Node:
    """One primitive application on a tape.

    ``parents`` pairs each argument position that carries a derivative with the variable it
    read; ``outputs`` is the variable of the result (a tuple of them, ``-1`` for outputs
    without a derivative, when the primitive has several results).
    """

    __slots__ = ("prim", "primals", "params", "out", "parents", "outputs")

    def __init__(self, prim: Primitive, primals: list, params: dict, out: Any,
                 parents: list, outputs: Any) -> None:
        self.prim = prim
        self.primals = primals
        self.params = params
        self.out = out
        self.parents = parents
        self.outputs = outputs

    def __repr__(self) -> str:
        return f"<Node {self.prim.name} {self.parents} -> {self.outputs}>"


class Tape:
    """The nodes of one reverse-mode transform call, in the order they ran.

    Variables are numbered as they are created: the inputs first, then each result.

    >>> import numpy as np, dualad
    >>> tape = Tape()
    >>> x = tape.variable(np.array([1.0, 2.0]))
    >>> y = np.sin(x) * x
    >>> [node.prim.name for node in tape.nodes], tape.size
    (['sin', 'multiply'], 3)
    """

    __slots__ = ("tag", "nodes", "size", "__weakref__")

    def __init__(self, tag: int | None = None) -> None:
        self.tag = registry.new_tag() if tag is None else tag
        self.nodes: list[Node] = []
        self.size = 0

    def variable(self, primal: Any) -> TapeArray:
        """A new input variable holding ``primal``."""
        index = self.size
        self.size += 1
        return TapeArray._make(primal, self.tag, self, index)

    def __repr__(self) -> str:
        return f"<Tape tag={self.tag}: {self.size} variables, {len(self.nodes)} nodes>"


class TapeArray(TracedArray):
    """An array whose operations are recorded on a tape, for reverse mode.

    It behaves like the primal array in NumPy code (ufuncs, NumPy functions, operators,
    indexing and methods), like :class:`~dualad.Dual` in forward mode. Users meet it only
    inside a function given to ``vjp``, ``grad``, ``jacrev`` or ``hessian``.

    >>> import numpy as np, dualad
    >>> x = Tape().variable(np.array([1.0, 2.0]))
    >>> y = np.sum(x ** 2)
    >>> y
    TapeArray(primal=5.0, variable=v2)
    """

    __slots__ = ("primal", "tag", "tape", "index", "_view")

    @classmethod
    def _make(cls, primal: Any, tag: int, tape: Tape, index: int) -> TapeArray:
        t = object.__new__(cls)
        t.primal = primal
        t.tag = tag
        t.tape = tape
        t.index = index
        return t

    @staticmethod
    def _dualad_apply(prim: Primitive, xs: Any, params: dict[str, Any], tag: int) -> Any:
        """Apply ``prim`` at level ``tag`` and record it; other levels are constants here."""
        primals = []
        parents = []
        tape = None
        for i, x in enumerate(xs):
            if type(x) is TapeArray and x.tag == tag:
                tape = x.tape
                primals.append(x.primal)
                parents.append((i, x.index))
            else:
                primals.append(x)
        if prim.vjp is None:
            if prim.vjp_all is None:
                raise _no_vjp(prim)
        else:
            rules = prim.vjp
            for i, _ in parents:
                if rules[i] is None:
                    raise not_differentiable(prim, i)
        out = prim.impl(*primals, **params)
        return _record(tape, prim, primals, params, out, parents)

    def _index_basic(self, key: Any) -> Any:
        # an int or slice: record the getitem primitive without the dispatch
        tape = self.tape
        out = self.primal[key]
        if getattr(out, "shape", None) is None:
            return _getitem(self, key=key)
        index = tape.size
        tape.size = index + 1
        params = {"key": key}
        tape.nodes.append(Node(_getitem, [self.primal], params, out, [(0, self.index)], index))
        return TapeArray._make(out, self.tag, tape, index)

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        primal = np.array2string(np.asarray(strip(self)), separator=", ", threshold=20)
        return f"TapeArray(primal={primal}, variable=v{self.index})"

    def __str__(self) -> str:
        return f"TapeArray({strip(self)})"


def _record(tape: Tape, prim: Primitive, primals: list, params: dict, out: Any,
            parents: list) -> Any:
    """Append a node for ``out = prim(*primals)`` and return its output(s) as tape arrays."""
    tag = tape.tag
    if not prim.multiple_results:
        if getattr(out, "shape", None) is None:  # a Python number from a user's impl
            out = np.asarray(out)
        if out.dtype.kind not in "fc":  # integer or boolean results carry no derivative
            return out
        index = tape.size
        tape.size = index + 1
        tape.nodes.append(Node(prim, primals, params, out, parents, index))
        return TapeArray._make(out, tag, tape, index)
    results = []
    outputs = []
    for o in out:
        if getattr(o, "dtype", np.dtype(float)).kind not in "fc":
            outputs.append(-1)
            results.append(o)
            continue
        index = tape.size
        tape.size = index + 1
        outputs.append(index)
        results.append(TapeArray._make(o, tag, tape, index))
    tape.nodes.append(Node(prim, primals, params, out, parents, tuple(outputs)))
    if hasattr(out, "_fields"):  # keep NumPy's named results (eigh, slogdet, svd)
        return type(out)(*results)
    return tuple(results) if isinstance(out, tuple) else results


def _no_vjp(prim: Primitive) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{prim.name} has no reverse-mode (VJP) rule: it can be differentiated with "
        f"dualad.jvp/jacfwd only. Give its declaration vjp= (see the README, 'Your own "
        f"primitives')."
    )


def _elementwise(prim: Primitive, xs: tuple) -> Any:
    """The hot path of ufuncs and operators on tape arrays."""
    tag = -1
    for x in xs:
        if type(x) is TapeArray:
            if x.tag > tag:
                tag = x.tag
        elif type(x) not in _FAST_TYPES and registry.is_traced(x):
            return apply(prim, xs, _NO_PARAMS)
    if tag < 0:
        return prim.impl(*xs)
    if len(xs) == 1:  # unary ufuncs: no bookkeeping
        x = xs[0]
        primal = x.primal
        out = prim.impl(primal)
        tape = x.tape
        index = tape.size
        tape.size = index + 1
        tape.nodes.append(Node(prim, [primal], _NO_PARAMS, out, [(0, x.index)], index))
        return TapeArray._make(out, tag, tape, index)
    if len(xs) == 2:  # binary ufuncs and operators: x * y, x + 1
        a, b = xs
        if a.__class__ is TapeArray and a.tag == tag:
            pa = a.primal
            if b.__class__ is TapeArray and b.tag == tag:
                pb = b.primal
                parents = [(0, a.index), (1, b.index)]
            else:
                pb = b
                parents = [(0, a.index)]
            tape = a.tape
        else:
            pa = a
            pb = b.primal
            parents = [(1, b.index)]
            tape = b.tape
        rules = prim.vjp
        for i, _ in parents:
            if rules[i] is None:
                raise not_differentiable(prim, i)
        out = prim.impl(pa, pb)
        if out.__class__ is not np.ndarray and out.__class__ is not np.float64:
            return _record(tape, prim, [pa, pb], _NO_PARAMS, out, parents)
        index = tape.size
        tape.size = index + 1
        tape.nodes.append(Node(prim, [pa, pb], _NO_PARAMS, out, parents, index))
        return TapeArray._make(out, tag, tape, index)
    return TapeArray._dualad_apply(prim, xs, _NO_PARAMS, tag)


# --------------------------------------------------------------------------- backward


def backward(tape: Tape, seeds: list[tuple[int, Any]], wanted: list[int], k: int,
             observe: Callable[[Node, int, int, Any], None] | None = None) -> list[Any]:
    """Pull the cotangents ``seeds`` (variable, ``(k,) + shape``) back to ``wanted`` variables.

    Returns one cotangent per wanted variable, ``None`` where no path leads to it. Nodes are
    visited in reverse order; a node whose outputs received no cotangent is skipped.
    ``observe(node, argument, variable, ct)``, if given, sees every contribution before it
    is added to the variable's cotangent (this is how :func:`dualad.trace` records the
    adjoint trace).

    >>> import numpy as np
    >>> tape = Tape()
    >>> x = tape.variable(np.array([1.0, 2.0]))
    >>> y = x * x
    >>> backward(tape, [(y.index, np.ones((1, 2)))], [x.index], 1)
    [array([[2., 4.]])]
    """
    cts: list[Any] = [None] * tape.size
    # owned[i]: cts[i] is a buffer this pass allocated (a sum), so later contributions may be
    # added into it in place; a rule's result may alias its input and is never written to.
    owned = [False] * tape.size
    for index, ct in seeds:
        cts[index] = ct if cts[index] is None else cts[index] + ct
    for node in reversed(tape.nodes):
        outputs = node.outputs
        if outputs.__class__ is int:
            g = cts[outputs]
            if g is None:
                continue
            cts[outputs] = None  # no later node reads it: free it as we go
        else:
            gs = [None if o < 0 else cts[o] for o in outputs]
            if all(g is None for g in gs):
                continue
            for o in outputs:
                if o >= 0:
                    cts[o] = None
            g = tuple(_zeros_cotangent(o, k) if g is None else g for g, o in zip(gs, node.out))
        prim = node.prim
        primals = node.primals
        out = node.out
        params = node.params
        if prim is _getitem and observe is None and g.__class__ is np.ndarray and _scatter_slice(
                cts, owned, node.parents[0][1], primals[0], g, params["key"]):
            continue
        rules = prim.vjp
        if rules is None:
            every = prim.vjp_all(g, *primals, out=out, **params)
        for i, index in node.parents:
            ct = every[i] if rules is None else rules[i](g, *primals, out=out, **params)
            x = primals[i]
            shape = x.shape if x.__class__ is np.ndarray else _shape(x)
            if ct.__class__ is not np.ndarray or ct.shape[1:] != shape or ct.shape[0] != k:
                ct = fit_cotangent(ct, shape, k)
            if observe is not None:
                observe(node, i, index, ct)
            previous = cts[index]
            if previous is None:
                cts[index] = ct
                owned[index] = False
            elif owned[index] and ct.__class__ is np.ndarray:
                previous += ct
            else:
                total = previous + ct
                cts[index] = total
                owned[index] = total.__class__ is np.ndarray
    return [cts[i] for i in wanted]


def _scatter_slice(cts: list, owned: list, index: int, x: Any, g: Any, key: Any) -> bool:
    """Add ``g``, the cotangent of ``x[key]`` for an int or slice ``key``, into ``cts[index]``.

    The getitem rule would write ``g`` into zeros the size of ``x`` and the engine then add
    that to the cotangent so far; here ``g`` goes straight into the slice of the buffer
    (``x[1:]`` and ``x[:-1]`` share one). Returns False where the general path is needed.
    """
    kind = key.__class__
    if (kind is not slice and kind is not int) or x.__class__ is not np.ndarray:
        return False
    previous = cts[index]
    at = (slice(None), key)
    if previous is None:
        buffer = np.zeros((g.shape[0], *x.shape), dtype=g.dtype)
        buffer[at] = g
    elif previous.__class__ is not np.ndarray:
        return False
    elif owned[index] and np.promote_types(previous.dtype, g.dtype) == previous.dtype:
        previous[at] += g
        return True
    else:
        buffer = previous.astype(np.result_type(previous, g))  # a copy this pass owns
        buffer[at] += g
    cts[index] = buffer
    owned[index] = True
    return True


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return np.shape(x) if shape is None else shape


def _zeros_cotangent(out: Any, k: int) -> Any:
    """Zeros standing in for an output of a multiple-result primitive that got no cotangent."""
    dtype = out.dtype if out.dtype.kind == "f" else np.float64
    return np.zeros((k, *np.shape(out)), dtype=dtype)


registry.register_traced_type(TapeArray)
TapeArray._elementwise = staticmethod(_elementwise)  # type: ignore[method-assign]
TapeArray._fast_types = _FAST_TYPES = frozenset(
    (TapeArray, float, int, np.float64, np.float32)
)

from .primitives.indexing import getitem as _getitem  # noqa: E402

__all__ = ["Node", "Tape", "TapeArray", "backward"]
