"""Reverse mode: the tape (a Wengert list) and the arrays recorded on it.

Each reverse-mode transform call opens a :class:`Tape` with a fresh tag. Its inputs become
:class:`TapeArray` values; every primitive applied to them at that level appends one
:class:`Node` (the primitive, its primal inputs and parameters, its output and which
variables it read) and returns new tape arrays. :func:`backward` walks the nodes in reverse
order, calling each primitive's VJP rules, with cotangents that carry a leading batch axis
(``k`` rows of a Jacobian at once). It is a loop over a list, not a recursion, so programs of
any length work; it does not modify the tape, so a pullback can run many times. Nothing
global refers to a tape: it is freed with the last array or pullback that uses it.

A tape holds the values at the time of use: its inputs and every plain array a node reads
(a constant, an index array) are copied into read-only arrays when they are recorded, so a
buffer the function reuses, or an argument the caller changes before calling the pullback,
cannot change the derivative. When its transform returns, the tape is closed: a tape array
kept beyond it (a leaked value) raises when used instead of growing the finished recording.

Rules are written with NumPy calls, so when the recorded primals are themselves active (a
forward-mode ``Dual`` for ``hessian``, an outer tape for ``grad`` of ``grad``) the backward
pass is differentiated in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _copies, registry, storage
from ._rule_checks import check_complex, check_rule_result, check_rule_results
from .active import (
    _NO_PARAMS,
    ActiveArray,
    check_constant,
    link_if_view,
    link_view,
    not_differentiable,
    stale_class,
)
from .axes import fit_cotangent, shape_of, zeros
from .errors import DualadError, UnsupportedPrimitiveError
from .registry import REGISTRY, Primitive, apply, strip


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

    __slots__ = ("tag", "nodes", "size", "closed", "on_keep", "__weakref__")

    def __init__(self, tag: int | None = None) -> None:
        self.tag = registry.new_tag() if tag is None else tag
        self.nodes: list[Node] = []
        self.size = 0
        self.closed = False
        self.on_keep: Callable[[Any, Any], None] | None = None
        """Called with each copy :meth:`keep` makes and the array it copied (for
        :func:`dualad.trace`, which names constants after the locals that held them)."""

    def variable(self, primal: Any) -> TapeArray:
        """A new input variable holding (a read-only copy of) ``primal``."""
        index = self.size
        self.size += 1
        return TapeArray._make(frozen(primal), self.tag, self, index)

    def keep(self, x: Any) -> Any:
        """``x`` as the tape keeps a constant: :func:`frozen` (and :attr:`on_keep` told)."""
        kept = frozen(x)
        if kept is not x and self.on_keep is not None:
            self.on_keep(kept, x)
        return kept

    def record(self, prim: Primitive, primals: list, params: dict, out: Any,
               parents: list) -> Any:
        """Append a node for ``out = prim(*primals, **params)`` and return its output as a
        tape array (or a tuple of them; plain arrays where an output has no derivative)."""
        if self.closed:
            raise registry.leaked_error(self.tag, "an operand of " + prim.name)
        if not prim.multiple_results:
            if out.__class__ is not np.ndarray and getattr(out, "shape", None) is None:
                out = np.asarray(out)  # a Python number from a user's impl
            dtype = out.dtype
            if dtype is not _FLOAT64 and dtype.kind != "f" and dtype.kind != "c":
                return out  # integer or boolean results carry no derivative
            index = self.size
            self.size = index + 1
            self.nodes.append(Node(prim, primals, params, out, parents, index))
            return TapeArray._make(out, self.tag, self, index)
        results = []
        outputs = []
        for o in out:
            kind = getattr(o, "dtype", np.dtype(float)).kind
            if kind != "f" and kind != "c":
                outputs.append(-1)
                results.append(o)
                continue
            index = self.size
            self.size = index + 1
            outputs.append(index)
            results.append(TapeArray._make(o, self.tag, self, index))
        self.nodes.append(Node(prim, primals, params, out, parents, tuple(outputs)))
        if hasattr(out, "_fields"):  # keep NumPy's named results (eigh, slogdet, svd)
            return type(out)(*results)
        return tuple(results) if isinstance(out, tuple) else results

    def close(self) -> None:
        """The transform has finished recording: any further operation raises."""
        self.closed = True

    def __repr__(self) -> str:
        return f"<Tape tag={self.tag}: {self.size} variables, {len(self.nodes)} nodes>"


def frozen(x: Any) -> Any:
    """``x`` as a value that cannot change after it is recorded: a plain array is copied
    into a read-only array the tape owns, unless it is read-only through and through (a
    read-only array that owns its data, or a read-only view of one: the copies dualad
    made, and constants a user made read-only to spare the copy); numbers and active
    values are immutable already.

    >>> frozen(np.ones(2)).flags.writeable
    False
    >>> w = np.ones(2); w.flags.writeable = False
    >>> frozen(w) is w
    True
    """
    if isinstance(x, np.ndarray):
        if not _read_only_throughout(x):
            x = _copies.copy(x)
            x.setflags(write=False)
    elif registry.is_array(x):
        return registry.array_kind(x).frozen(x)
    return x


def _read_only_throughout(x: np.ndarray) -> bool:
    while not x.flags.writeable:
        base = x.base
        if base is None:
            return True
        if not isinstance(base, np.ndarray):
            return isinstance(base, bytes)  # np.frombuffer of bytes: immutable memory
        x = base
    return False


def _frozen_params(params: dict) -> dict:
    """``params`` with every plain array in it (index arrays, masks) frozen."""
    for value in params.values():
        if isinstance(value, (np.ndarray, list, tuple)) or registry.is_array(value):
            return {key: _frozen_item(value) for key, value in params.items()}
    return params


def _frozen_item(x: Any) -> Any:
    if isinstance(x, np.ndarray) or registry.is_array(x):  # (dualad.compile's traced keys)
        return frozen(x)
    if isinstance(x, (list, tuple)) and any(isinstance(i, (np.ndarray, list, tuple))
                                           or registry.is_array(i) for i in x):
        items = [_frozen_item(i) for i in x]
        return items if isinstance(x, list) else type(x)(items) if type(x) is tuple \
            else type(x)(*items)
    return x


class TapeArray(ActiveArray):
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

    __slots__ = ("primal", "tag", "tape", "index", "_views", "__weakref__")
    _contents = ("primal", "tag", "tape", "index")

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
        active = dict(parents)
        primals = [p if i in active else tape.keep(p) for i, p in enumerate(primals)]
        if prim.vjp is None:
            if prim.vjp_all is None:
                raise _no_vjp(prim)
        else:
            rules = prim.vjp
            for i, _ in parents:
                if rules[i] is None:
                    raise not_differentiable(prim, i)
        params = _frozen_params(params)
        out = prim.impl(*primals, **params)
        if not prim.complex_rules:
            check_complex(prim, primals, out)
        result = tape.record(prim, primals, params, out, parents)
        if not prim.elementwise:  # NumPy may have returned a view of an input
            for part in (result if prim.multiple_results else (result,)):
                link_if_view(part, xs, tag)
        return result

    def _index_basic(self, key: Any) -> Any:
        # an int or slice: record the getitem primitive without the dispatch; NumPy
        # returns a view
        out = self.primal[key]
        getitem = REGISTRY["getitem"]
        if getattr(out, "shape", None) is None:
            return apply(getitem, (self,), {"key": key})
        part = self.tape.record(getitem, [self.primal], {"key": key}, out, [(0, self.index)])
        if out.ndim:
            link_view(part, self)
        return part

    # -- display ------------------------------------------------------------------------
    def __repr__(self) -> str:
        primal = np.array2string(np.asarray(strip(self)), separator=", ", threshold=20)
        return f"TapeArray(primal={primal}, variable=v{self.index})"

    def __str__(self) -> str:
        return f"TapeArray({strip(self)})"


def _no_vjp(prim: Primitive) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{prim.name} has no reverse-mode (VJP) rule: it can be differentiated with "
        f"dualad.jvp/jacfwd only. Give its declaration vjp= (see the guide's "
        f"Custom primitives, docs/custom-primitives.md)."
    )


def _elementwise(prim: Primitive, xs: tuple) -> Any:
    """The hot path of ufuncs and operators on tape arrays."""
    # The level scan is written out here and in dual._elementwise on purpose: it runs on
    # every operation, and a shared helper would add a call to each.
    try:
        tag = -1
        for x in xs:
            kind = x.__class__
            if kind is TapeArray:
                if x.tag > tag:
                    tag = x.tag
            elif kind is not np.ndarray and kind not in _FAST_TYPES:
                if registry.is_active(x):
                    return apply(prim, xs, _NO_PARAMS)
                check_constant(x, prim)
        if tag < 0:
            return prim.impl(*xs)
        if len(xs) == 1:  # unary ufuncs: no bookkeeping
            x = xs[0]
            primal = x.primal
            out = prim.impl(primal)
            if not prim.complex_rules:
                check_complex(prim, (primal,), out)
            return _record_one(x.tape, prim, [primal], out, [(0, x.index)])
        if len(xs) == 2:  # binary ufuncs and operators: x * y, x + 1
            a, b = xs
            if a.__class__ is TapeArray and a.tag == tag:
                pa = a.primal
                if b.__class__ is TapeArray and b.tag == tag:
                    pb = b.primal
                    parents = [(0, a.index), (1, b.index)]
                else:
                    pb = b if b.__class__ in _SCALARS else a.tape.keep(b)
                    parents = [(0, a.index)]
                tape = a.tape
            else:
                pa = a if a.__class__ in _SCALARS else b.tape.keep(a)
                pb = b.primal
                parents = [(1, b.index)]
                tape = b.tape
            rules = prim.vjp
            for i, _ in parents:
                if rules[i] is None:
                    raise not_differentiable(prim, i)
            out = prim.impl(pa, pb)
            if not prim.complex_rules:
                check_complex(prim, (pa, pb), out)
            return _record_one(tape, prim, [pa, pb], out, parents)
        return TapeArray._dualad_apply(prim, xs, _NO_PARAMS, tag)
    except registry.LIBRARY_ERRORS as error:
        converted = registry.elementwise_library_error(prim, xs, error)
        if converted is None:
            raise
        raise converted from error


def _record_one(tape: Tape, prim: Primitive, primals: list, out: Any, parents: list) -> Any:
    """:meth:`Tape.record` of an elementwise result, inlined for a float64 array."""
    if out.__class__ is not np.ndarray or out.dtype is not _FLOAT64 or tape.closed:
        return tape.record(prim, primals, _NO_PARAMS, out, parents)
    index = tape.size
    tape.size = index + 1
    tape.nodes.append(Node(prim, primals, _NO_PARAMS, out, parents, index))
    return TapeArray._make(out, tape.tag, tape, index)


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
    kind = registry.external_kind([ct for _, ct in seeds])
    if kind is None:
        return _backward(tape, seeds, wanted, k, observe)
    with registry.in_library(kind):  # (Dask raises where it would compute silently)
        return _backward(tape, seeds, wanted, k, observe)


def _backward(tape: Tape, seeds: list[tuple[int, Any]], wanted: list[int], k: int,
              observe: Callable[[Node, int, int, Any], None] | None) -> list[Any]:
    cts: list[Any] = [None] * tape.size
    # owned[i]: cts[i] is a buffer this pass allocated (a sum), so later contributions may be
    # added into it in place; a rule's result may alias its input and is never written to.
    owned = [False] * tape.size
    for index, ct in seeds:
        cts[index] = ct if cts[index] is None else cts[index] + ct
    for node in reversed(tape.nodes):
        try:
            outputs = node.outputs
            if outputs.__class__ is int:
                out_ct = cts[outputs]
                if out_ct is None:
                    continue
                cts[outputs] = None  # no later node reads it: free it as we go
            else:
                out_cts = [None if o < 0 else cts[o] for o in outputs]
                if all(c is None for c in out_cts):
                    continue
                for o in outputs:
                    if o >= 0:
                        cts[o] = None
                out_ct = tuple(zeros(o, k) if c is None else c for c, o in zip(out_cts, node.out))
            prim = node.prim
            primals = node.primals
            out = node.out
            params = node.params
            add = prim.vjp_add
            if add is not None and observe is None:
                index = node.parents[0][1]
                total = add(cts[index], owned[index], out_ct, *primals, out=out, **params)
                if total is not None:
                    cts[index] = total
                    owned[index] = True
                    continue
            rules = prim.vjp
            if rules is None:
                every = prim.vjp_all(out_ct, *primals, out=out, **params)
                if prim.checked:
                    check_rule_results(prim, "vjp", every, len(primals))
            for i, index in node.parents:
                ct = every[i] if rules is None else rules[i](out_ct, *primals, out=out, **params)
                x = primals[i]
                shape = x.shape if x.__class__ is np.ndarray else shape_of(x)
                if prim.checked:
                    check_rule_result(prim, "vjp", i, ct, (k, *shape), broadcast="down")
                if ct.__class__ is not np.ndarray or ct.shape[1:] != shape or ct.shape[0] != k:
                    ct = fit_cotangent(ct, shape, k)
                    if registry.is_array(ct):  # (a Dask cotangent chunked as its primal)
                        ct = storage.chunked_as(ct, x)
                if ct.dtype is not x.dtype and ct.dtype != x.dtype:
                    ct = _in_dtype(ct, x)
                if observe is not None:
                    observe(node, i, index, ct)
                previous = cts[index]
                if previous is None:
                    cts[index] = ct
                    owned[index] = False
                elif owned[index] and (ct.__class__ is np.ndarray
                                       or registry.is_array(ct) and registry.is_array(previous)
                                       and registry.adds_in_place(previous)):
                    previous += ct
                else:
                    total = previous + ct
                    cts[index] = total
                    owned[index] = _plain(total)  # (traced too: the same layouts compiled)
        except registry.LIBRARY_ERRORS as error:
            converted = library_error(node, error, "the reverse-mode rule of ")
            if converted is None:
                raise
            raise converted from error
    return [cts[i] for i in wanted]


def library_error(node: Node, error: BaseException, rule: str) -> Exception | None:
    """The error that names ``node``'s primitive for ``error``, raised by another library
    (Dask) in its ``rule``; None where no array of another library is involved, or where
    the error is dualad's own."""
    if isinstance(error, DualadError):
        return None
    kind = registry.external_kind([*node.primals, node.out])
    if kind is None:
        return None
    return registry.library_error(node.prim, kind, error, rule)


def _plain(x: Any) -> bool:
    """An ndarray, or an array of a registered kind that stands for one (dualad.compile's)."""
    return x.__class__ is np.ndarray or registry.is_array(x)


def _in_dtype(ct: Any, x: Any) -> Any:
    """A cotangent in its argument's dtype. A real argument's cotangent is the real part of
    a complex one (JAX's convention: the transpose of taking a real value into the complex
    numbers); float32 stays float32 whatever a rule computed in."""
    if x.dtype.kind == "f":
        if ct.dtype.kind == "c":
            ct = np.real(ct)
        return ct.astype(x.dtype) if _plain(ct) else ct
    if x.dtype.kind == "c" and _plain(ct) and ct.dtype.kind != "c":
        return ct.astype(x.dtype)
    return ct


registry.register_active_type(TapeArray)
TapeArray._stale_class = stale_class(TapeArray)
TapeArray._elementwise = staticmethod(_elementwise)  # type: ignore[method-assign]
_SCALARS = frozenset((float, int, np.float64, np.float32))
_FLOAT64 = np.dtype(np.float64)
TapeArray._fast_types = _FAST_TYPES = frozenset(
    (TapeArray, float, int, np.float64, np.float32)
)

__all__ = ["Node", "Tape", "TapeArray", "backward"]
