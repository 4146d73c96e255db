"""A recording as Python source: the straight-line NumPy program a compiled call replays.

:func:`program_source` writes one Python function per recording: its parameters are the
array leaves of the arguments, each recorded operation is one line (``t7 = np.sin(x)``,
``t9 = t7 * t8``), each guard an ``if`` that returns a :class:`GuardFailure` when the
decision differs, and the last line returns the output leaves. The same text is compiled with
:func:`compile_program` (the replay) and shown to the user (``compiled.source``), where the
constants are written out too (:func:`constants_source`) so that it runs with NumPy alone.

Two rewrites make the replay cheaper than the recording without changing a bit of the
results: copies that the tape made of traced constants are dropped when nothing is ever
written in place, and elementwise ufuncs write into the buffer of a temporary that is no longer
needed (``out=``), so that a chain of operations on large arrays does not take fresh memory
for every step. Temporaries are deleted after their last use, under every name bound to their
memory (the names of a buffer written into with ``out=``, views of it), so that a long program
(``jacfwd``'s chunks one after the other) holds no more than the eager call did. Stretches
of elementwise operations on large arrays are written as a loop over blocks of the last axis
(:mod:`~dualad.compiling.blocks`).
"""

from __future__ import annotations

import base64
import builtins
import dataclasses
import functools
import keyword
import math
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import registry
from . import blocks
from .blocks import is_fresh_ufunc, is_in_place_ufunc
from .recorder import Op, Recording, Ref, leaves, map_leaves, slots

REUSE_MIN_BYTES = 4096
"""Temporaries this large or larger lend their buffer to a later elementwise result."""

DELETE_MIN_BYTES = REUSE_MIN_BYTES
"""Temporaries this large or larger are deleted after their last use."""

_OPERATORS = {
    np.add: "+", np.subtract: "-", np.multiply: "*", np.true_divide: "/",
    np.floor_divide: "//", np.remainder: "%", np.power: "**", np.matmul: "@",
    np.less: "<", np.less_equal: "<=", np.greater: ">", np.greater_equal: ">=",
    np.equal: "==", np.not_equal: "!=",
}
_UNARY_OPERATORS = {np.negative: "-"}
_PYTHON_OPERATORS = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**",
}
"""Python's operators recorded on NumPy scalars (NumPy's scalar arithmetic): written as such."""


@dataclass(frozen=True)
class Made:
    """A large constant the program makes again at each call instead of keeping it (zeros,
    the unit directions jacfwd seeds): ``text`` is the NumPy expression."""

    text: str


MAKE_MIN_BYTES = 65536
"""Constants this large are made by the program when they are zeros or unit directions."""


def made(array: np.ndarray) -> Made | None:
    """The expression that makes ``array`` again, if it is all zeros or rows of an identity
    (``np.eye(k, n, offset)`` reshaped, as jacfwd's seeds of one chunk are); else None."""
    dtype = f"np.{array.dtype.name}"
    if array.dtype.kind not in "fc" or getattr(np, array.dtype.name, None) is None:
        return None
    nonzero = np.count_nonzero(array)
    if nonzero == 0:
        return Made(f"np.zeros({array.shape!r}, {dtype})")
    if array.ndim < 2:
        return None
    rows = array.shape[0]
    flat = array.reshape(rows, -1)
    if nonzero != rows:
        return None
    columns = np.argmax(flat != 0, axis=1)
    offset = int(columns[0])
    if not (np.array_equal(columns, offset + np.arange(rows))
            and np.all(flat[np.arange(rows), columns] == 1)):
        return None
    return Made(f"np.eye({rows}, {flat.shape[1]}, {offset}, {dtype}).reshape({array.shape!r})")


def _made_constant(leaf: Any, cache: dict[int, Any]) -> Any:
    """A large constant as a :class:`Made` where :func:`made` finds one (else itself)."""
    if leaf.__class__ is not np.ndarray or leaf.nbytes < MAKE_MIN_BYTES:
        return leaf
    key = id(leaf)
    if key not in cache:
        cache[key] = made(leaf) or leaf
    return cache[key]


@dataclass(frozen=True)
class GuardFailure:
    """What a replay returns when a guard fails: the guard's number."""

    index: int


class Namer:
    """Names of slots (the user's where known, else ``t<slot>``) and of constants."""

    def __init__(self, rec: Recording, input_names: dict[int, str]) -> None:
        self.rec = rec
        self.constants: dict[str, Any] = {}
        self._constant_names: dict[int, str] = {}
        self.names: dict[int, str] = {}
        taken = {"np", "scipy", "math"} | set(dir(builtins))
        for slot, name in (*input_names.items(), *rec.names.items()):
            if slot in self.names:
                continue
            base = _identifier(name)
            candidate, k = base, 1
            while candidate in taken or keyword.iskeyword(candidate):
                candidate, k = f"{base}_{k}", k + 1
            taken.add(candidate)
            self.names[slot] = candidate
        self._taken = taken

    def slot(self, slot: int) -> str:
        name = self.names.get(slot)
        if name is None:
            name = f"t{slot}"
            while name in self._taken:
                name = "_" + name
            self.names[slot] = name
        return name

    def fresh(self, base: str) -> str:
        """A name of the program's own, not the user's nor a constant's: ``base`` or
        ``base`` with a number."""
        candidate, k = base, 1
        while candidate in self._taken or candidate in self.names.values():
            candidate, k = f"{base}{k}", k + 1
        self._taken.add(candidate)
        return candidate

    def constant(self, value: Any) -> str:
        key = id(value)
        name = self._constant_names.get(key)
        if name is None:
            name = f"_c{len(self._constant_names)}"
            self._constant_names[key] = name
            self.constants[name] = value
        return name


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name.replace("-", "m"))
    return name if name and not name[0].isdigit() else "v" + name


# --------------------------------------------------------------------------- expressions


def expression(template: Any, namer: Namer) -> str:
    """Python source for a template: slots by name, literals as literals, anything else a
    constant's name."""
    cls = template.__class__
    if cls is Ref:
        return namer.slot(template.slot)
    if cls is Made:
        return template.text
    if template is None or cls is bool or template is Ellipsis:
        return repr(template)
    if cls is int:
        return repr(template) if template >= 0 else f"({template})"
    if cls is float:
        if math.isfinite(template):
            text = repr(template)
            return text if template >= 0 and not text.startswith("-") else f"({text})"
        return f"float({str(template)!r})"
    if cls is complex:
        return f"complex({expression(template.real, namer)}, {expression(template.imag, namer)})"
    if cls is str:
        return repr(template)
    if cls is tuple:
        items = [expression(t, namer) for t in template]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if cls is list:
        return f"[{', '.join(expression(t, namer) for t in template)}]"
    if cls is slice:
        return (f"slice({expression(template.start, namer)}, "
                f"{expression(template.stop, namer)}, {expression(template.step, namer)})")
    if cls is dict and all(k.__class__ is str for k in template):
        return "{" + ", ".join(f"{k!r}: {expression(v, namer)}"
                               for k, v in template.items()) + "}"
    if isinstance(template, np.dtype) and getattr(np, template.name, None) is not None \
            and np.dtype(getattr(np, template.name)) == template:
        return f"np.{template.name}"
    if isinstance(template, type) and getattr(np, template.__name__, None) is template:
        return f"np.{template.__name__}"
    if isinstance(template, type) and getattr(builtins, template.__name__, None) is template:
        return template.__name__
    if isinstance(template, np.generic) and template.dtype.kind in "biuf" \
            and np.isfinite(template):
        return f"np.{template.dtype.name}({template.item()!r})"
    return namer.constant(template)


def _index(key: Any, namer: Namer) -> str:
    """A subscript: ``1:``, ``::2``, ``..., None``."""
    if key.__class__ is tuple:
        if not key:
            return "()"
        return ", ".join(_index(k, namer) for k in key) + ("," if len(key) == 1 else "")
    if key.__class__ is slice:
        parts = ["" if p is None else repr(p) if p.__class__ is int else expression(p, namer)
                 for p in (key.start, key.stop, key.step)]
        return f"{parts[0]}:{parts[1]}" + (f":{parts[2]}" if parts[2] else "")
    if key is Ellipsis:
        return "..."
    return expression(key, namer)


def function_name(fn: Any, namer: Namer) -> str:
    """How the source names a NumPy function or ufunc (``np.linalg.solve``,
    ``np.add.reduce``, ``scipy.special.gammaln``), or a constant's name."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, np.ufunc):
        return f"{function_name(owner, namer)}.{fn.__name__}"
    name = getattr(fn, "__name__", None)
    candidates = []
    if name is not None:
        candidates = [f"np.{name}", f"np.linalg.{name}", f"np.fft.{name}"]
        try:
            candidates.append(registry.numpy_name(fn))
        except Exception:  # noqa: BLE001 - any callable without a known spelling
            pass
    for text in candidates:
        if _resolves(text, fn):
            return text
    return namer.constant(fn)


def _resolves(text: str, fn: Any) -> bool:
    head, _, rest = text.partition(".")
    if head == "np":
        obj: Any = np
    elif head == "scipy":
        import sys
        obj = sys.modules.get("scipy")
        if obj is None:
            return False
    else:
        return False
    for part in rest.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return obj is fn


# --------------------------------------------------------------------------- the program


def _out_slots(outs: Any, found: list[int]) -> list[int]:
    if outs.__class__ is int:
        found.append(outs)
    elif outs.__class__ is tuple:
        for o in outs:
            _out_slots(o, found)
    return found


_VIEW_FREE = frozenset((np.copy, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                        np.bincount, np.concatenate, np.stack, np.matmul, np.dot, np.einsum,
                        np.where, np.sum, np.prod, np.cumsum, np.outer, np.tensordot))
"""Functions that always return a new array (the others may return a view of an argument)."""

_RESHAPES = frozenset((np.reshape, "reshape"))


def _makes_new_array(op: Op) -> bool:
    if op.kind != "call":
        return op.kind == "method" and op.fn in ("copy", "astype")
    return isinstance(op.fn, np.ufunc) or op.fn in _VIEW_FREE \
        or isinstance(getattr(op.fn, "__self__", None), np.ufunc)


def simplify(rec: Recording, outputs: list[int]) -> list[Op]:
    """The operations to replay, without the ones that change nothing: results nobody uses
    (NumPy calls have no other effect), reshapes to the same shape, and the copies the tape
    made of traced constants when nothing writes into them or into the copy afterwards (a
    copy that is an output stays: the caller owns it)."""
    info = rec.info
    cache: dict[int, Any] = {}
    remake = functools.partial(_made_constant, cache=cache)
    reading_arrays = rec.constant_ops  # (the only operations with plain arrays among operands)
    ops = [op if i not in reading_arrays or not any(
               t.__class__ is np.ndarray and t.nbytes >= MAKE_MIN_BYTES
               for t in leaves((op.args, op.kwargs)))
           else dataclasses.replace(op, args=map_leaves(op.args, remake),
                                    kwargs=map_leaves(op.kwargs, remake))
           for i, op in enumerate(rec.ops)]
    # the slots whose memory each slot may share (itself, or what it may be a view of)
    roots: dict[int, frozenset[int]] = {s: frozenset((s,)) for s in rec.inputs}
    written_roots: set[int] = set()
    for op in ops:
        used = op.used()
        shared = frozenset().union(*(roots.get(s, frozenset((s,))) for s in used)) \
            if used else frozenset()
        for out in _out_slots(op.outs, []):
            roots[out] = frozenset((out,)) if _makes_new_array(op) else shared | {out}
        if op.writes is not None:
            written_roots.update(roots.get(op.writes, frozenset((op.writes,))))
    output_set = set(outputs)
    aliases: dict[int, int] = {}

    def rename(leaf: Any) -> Any:
        target = aliases.get(leaf.slot) if leaf.__class__ is Ref else None
        return leaf if target is None else Ref(target)

    computed: dict[Any, int] = {}
    kept = []
    for op in ops:
        if aliases and any(s in aliases for s in op.used()):
            op = dataclasses.replace(op, args=map_leaves(op.args, rename),
                                     kwargs=map_leaves(op.kwargs, rename))
        out = op.outs
        if out.__class__ is int and out not in written_roots and op.writes is None \
                and op.kind in ("call", "method", "getitem", "attr") and not op.check:
            untouched = not any(roots.get(s, frozenset((s,))) & written_roots
                                for s in op.used())
            key = _op_key(op, info) if untouched else None
            if key is not None:
                earlier = computed.get(key)
                if earlier is not None and out not in output_set:
                    # the same operation on the same values (the earlier result may itself
                    # have become an alias: of its source, a same-shape reshape)
                    aliases[out] = aliases.get(earlier, earlier)
                    continue
                computed[key] = out
                op = _ones_folded(op, info)
        if out.__class__ is int and out not in output_set:
            source = op.args[0] if op.args else None
            if source.__class__ is Ref:
                same_shape = info[out].shape == info[source.slot].shape and info[out].ndarray
                if op.check == "protective" and info[source.slot].c_contiguous and not (
                        roots[source.slot] & written_roots or out in written_roots):
                    aliases[out] = source.slot
                    continue
                if op.fn in _RESHAPES and same_shape and op.kind in ("call", "method"):
                    aliases[out] = source.slot
                    continue
        kept.append(op)
    return _without_dead(_without_self_assignments(kept), output_set)


def _without_self_assignments(ops: list[Op]) -> list[Op]:
    """``ops`` without ``a[k] = v`` where ``v = a[k]`` is a view that was only written in
    place since (what Python makes of ``a[k] += b``): the values are there already."""
    views: dict[int, tuple[int, Any]] = {}
    kept = []
    for op in ops:
        if op.kind == "getitem" and op.outs.__class__ is int and op.args[0].__class__ is Ref:
            base = op.args[0].slot
            if op.view and _basic(op.args[1]):
                views[op.outs] = (base, op.args[1])
        elif op.kind == "setitem" and op.args[2].__class__ is Ref:
            view = views.get(op.args[2].slot)
            if view is not None and view[0] == op.args[0].slot and view[1] == op.args[1]:
                continue
        kept.append(op)
    return kept


def _basic(key: Any) -> bool:
    items = key if key.__class__ is tuple else (key,)
    return all(k.__class__ in (slice, int) or k is None or k is Ellipsis for k in items)


_COMMUTATIVE = frozenset((np.add, np.multiply))
"""ufuncs whose IEEE results do not depend on the order of their operands (for real values:
NumPy's complex product rounds ``a.re * b.im + a.im * b.re`` with a fused multiply-add, whose
result depends on the order)."""


def _op_key(op: Op, info: dict[int, Any]) -> Any:
    """A hashable description of what ``op`` computes (constants by identity), or None."""
    try:
        args = _template_key(op.args)
        if op.fn in _COMMUTATIVE and len(op.args) == 2 and not op.kwargs \
                and not any(_complex(a, info) for a in op.args):
            args = tuple(sorted(args[1:], key=repr))  # x * y is y * x, bit for bit
        key = (op.kind, op.fn if isinstance(op.fn, str) else id(op.fn), args,
               _template_key(op.kwargs))
        hash(key)
    except TypeError:
        return None
    return key


def _complex(template: Any, info: dict[int, Any]) -> bool:
    if template.__class__ is Ref:
        return info[template.slot].dtype.kind == "c"
    return template.__class__ is complex or getattr(template, "dtype", None) is not None \
        and template.dtype.kind == "c"


def _template_key(template: Any) -> Any:
    cls = template.__class__
    if cls is Ref:
        return ("ref", template.slot)
    if cls is tuple or cls is list:
        return (cls.__name__, *(_template_key(t) for t in template))
    if cls is dict:
        return ("dict", *((k, _template_key(v)) for k, v in template.items()))
    if cls is slice:
        return ("slice", _template_key(template.start), _template_key(template.stop),
                _template_key(template.step))
    if cls is np.ndarray or isinstance(template, np.generic):
        return ("constant", id(template))
    return (cls, template)


def _ones_folded(op: Op, info: dict[int, Any]) -> Op:
    """``np.multiply(ones, x)`` (a seed or a broadcast cotangent of ones) as a reshape of
    ``x`` where that gives the same array: x * 1 is x, bit for bit."""
    if op.kind != "call" or len(op.args) != 2 or op.kwargs:
        return op
    a, b = op.args
    if op.fn is np.true_divide and a.__class__ is Ref and isinstance(b, (float, np.generic)) \
            and b == 1 and info[a.slot].ndarray and info[a.slot].dtype == info[op.outs].dtype:
        return Op("method", "reshape", (a, info[op.outs].shape), {}, op.outs)  # x / 1 is x
    if op.fn is not np.multiply:
        return op
    ref, constant = (a, b) if a.__class__ is Ref else (b, a)
    if ref.__class__ is not Ref or constant.__class__ is not np.ndarray:
        return op
    x, result = info[ref.slot], info[op.outs]
    extra = len(result.shape) - len(x.shape)
    if not x.ndarray or extra < 0 or result.shape[extra:] != x.shape \
            or any(n != 1 for n in result.shape[:extra]) \
            or not constant.dtype == x.dtype == result.dtype or not np.all(constant == 1):
        return op
    return Op("method", "reshape", (ref, result.shape), {}, op.outs)


def _without_dead(ops: list[Op], outputs: set[int]) -> list[Op]:
    """``ops`` without those whose results are never used (guards and writes are uses)."""
    needed = set(outputs)
    kept = []
    for op in reversed(ops):
        outs = _out_slots(op.outs, [])
        if op.kind == "guard" or op.writes is not None or op.outs is None and op.kind != \
                "attr" or any(o in needed for o in outs):
            kept.append(op)
            needed.update(op.used())
    kept.reverse()
    return kept


def program_source(rec: Recording, ops: list[Op], outputs: list[int | None],
                   namer: Namer, name: str = "compiled", single: bool = False,
                   as_tuple: bool = False) -> str:
    """The Python function that replays ``ops``; it returns the list of output leaves (None
    where a leaf is a constant), the one output with ``single``, their tuple with
    ``as_tuple``, or a :class:`GuardFailure`."""
    info = rec.info
    last_use: dict[int, int] = {}
    uses_other_than_ufunc: set[int] = set()
    for i, op in enumerate(ops):
        used = op.used()
        for s in used:
            last_use[s] = i
        in_place = is_in_place_ufunc(op)
        if not (in_place or op.kind == "call" and op.fresh and isinstance(op.fn, np.ufunc)
                and op.fn.signature is None):
            uses_other_than_ufunc.update(used)
        if op.writes is not None and not in_place:
            uses_other_than_ufunc.add(op.writes)
    kept = _kept_bytes(rec, ops)
    output_set = {o for o in outputs if o is not None}
    inputs = set(rec.inputs)
    params = ", ".join(namer.slot(s) for s in rec.inputs)
    lines: list[str | None] = [f"def {name}({params}):"]
    buffers = _Buffers(info, namer, lines)
    guard_number = 0
    fresh_slots = {op.outs for op in ops if is_fresh_ufunc(op)}

    def dying(i: int, op: Op, dead: list[int], deletions: list[int]) -> None:
        """The temporaries whose last use is ``op``: an elementwise result may go into one
        (``dead``), the others large enough are deleted (``deletions``)."""
        for s in dict.fromkeys(slots(op.args)):
            if last_use.get(s) != i or s in output_set or s in inputs:
                continue
            value = info.get(s)
            size = 0 if value is None else value.nbytes
            if s in fresh_slots and s not in uses_other_than_ufunc and size >= REUSE_MIN_BYTES:
                dead.append(s)
            elif kept.get(s, 0) >= DELETE_MIN_BYTES:
                deletions.append(s)

    stretches = {seg.start: seg for seg in blocks.segments(rec, ops, last_use, output_set)}
    skip_to = 0
    for i, op in enumerate(ops):
        if i < skip_to:
            continue
        dead: list[int] = []
        deletions: list[int] = []
        segment = stretches.get(i)
        if segment is not None:
            for j in range(segment.start, segment.stop):
                dying(j, ops[j], dead, deletions)
            made = {o.outs for o in ops[segment.start:segment.stop] if o.outs is not None}
            inside = made.difference(segment.whole)
            dead = [s for s in dead if s not in inside]
            deletions = [s for s in deletions if s not in inside]
            _block_loop(segment, ops, namer, buffers, lines)
            buffers.free(dead)
            lines.extend(buffers.deletion(s) for s in deletions)
            skip_to = segment.stop
            continue
        dying(i, op, dead, deletions)
        if op.kind == "guard":
            lines.append("    " + _guard_line(op, guard_number, namer))
            guard_number += 1
        else:
            buffer = buffers.take(op, dead) if is_fresh_ufunc(op) else None
            lines.append("    " + _op_line(op, namer, buffer))
        buffers.free(dead)
        lines.extend(buffers.deletion(s) for s in deletions)
    buffers.delete_unused()
    returned = ", ".join("None" if o is None else namer.slot(o) for o in outputs)
    if single and len(outputs) == 1 and outputs[0] is not None:
        lines.append(f"    return {namer.slot(outputs[0])}")
    elif as_tuple:
        lines.append(f"    return ({returned},)")
    else:
        lines.append(f"    return [{returned}]")
    return "\n".join(line for line in lines if line is not None) + "\n"


def _block_loop(segment: blocks.Segment, ops: list[Op], namer: Namer, buffers: _Buffers,
                lines: list[str | None]) -> None:
    """Append the lines that replay ``ops[segment.start:segment.stop]`` block by block
    (:mod:`~dualad.compiling.blocks`): the results used later are made whole before the
    loop, the loop reads blocks of the arrays made before it and writes blocks of those."""
    info = namer.rec.info
    block_names: dict[int, str] = {}

    def block_of(slot: int) -> str:
        if slot not in block_names:
            block_names[slot] = namer.fresh(f"{namer.slot(slot)}_b")
        return block_names[slot]

    start, stop = namer.fresh("_start"), namer.fresh("_stop")
    for op in ops[segment.start:segment.stop]:
        if op.outs in segment.whole:
            buffer = buffers.take(op, [])
            value = info[op.outs]
            made = namer.slot(buffer) if buffer is not None else \
                f"np.empty({value.shape!r}, {expression(value.dtype, namer)})"
            lines.append(f"    {namer.slot(op.outs)} = {made}")
    lines.append(f"    for {start} in range(0, {segment.length}, {segment.block}):")
    lines.append(f"        {stop} = {start} + {segment.block}")
    for slot in segment.sliced:
        lines.append(f"        {block_of(slot)} = {namer.slot(slot)}[..., {start}:{stop}]")
    sliced = set(segment.sliced)
    for op in ops[segment.start:segment.stop]:
        operands = ", ".join(
            block_of(a.slot) if a.__class__ is Ref and (a.slot in sliced or a.slot in
                                                         block_names)
            else expression(a, namer) for a in op.args)
        call = f"{function_name(op.fn, namer)}({operands}"
        if op.outs is None:  # in place, into a result of this stretch
            lines.append(f"        {call}, out={block_of(op.writes)})")
        elif op.outs in segment.whole:
            lines.append(f"        {block_of(op.outs)} = {call}, "
                         f"out={namer.slot(op.outs)}[..., {start}:{stop}])")
        else:
            lines.append(f"        {block_of(op.outs)} = {call})")
    lines.append(f"    del {', '.join(block_names.values())}")


class _Buffers:
    """The buffers of dead elementwise temporaries that later results are written into
    (``out=``), and the names bound to each: ``t5 = np.add(t3, t4, out=t4)`` binds ``t4``
    and ``t5`` to one array, which dies only when every name bound to it is deleted.

    A buffer that no later result takes is deleted where it died (``lines`` holds a
    placeholder there), so that a long program does not keep every temporary it made."""

    def __init__(self, info: dict[int, Any], namer: Namer, lines: list[str | None]) -> None:
        self.info, self.namer, self.lines = info, namer, lines
        self.pool: dict[tuple, list[int]] = {}
        self.names: dict[int, list[str]] = {}
        self.placeholders: dict[int, int] = {}

    def take(self, op: Op, dead: list[int]) -> int | None:
        """The buffer ``op``'s result goes into (a dead input of its shape and dtype first,
        else a pooled one), or None (a fresh array)."""
        value = self.info[op.outs]
        if value.nbytes < REUSE_MIN_BYTES:
            return None
        key = (value.shape, value.dtype.str)
        matching = [s for s in dead if (self.info[s].shape, self.info[s].dtype.str) == key]
        if matching:
            buffer = matching[0]
            dead.remove(buffer)
        elif self.pool.get(key):
            buffer = self.pool[key].pop()
            self.placeholders.pop(buffer)
        else:
            return None
        self.names[op.outs] = [*self.names.pop(buffer, [self.namer.slot(buffer)]),
                               self.namer.slot(op.outs)]
        return buffer

    def free(self, dead: list[int]) -> None:
        """Pool the buffers of ``dead`` for later results, with a placeholder for their
        deletion."""
        for s in dead:
            value = self.info[s]
            self.pool.setdefault((value.shape, value.dtype.str), []).append(s)
            self.placeholders[s] = len(self.lines)
            self.lines.append(None)

    def deletion(self, slot: int) -> str:
        """The line that deletes ``slot``'s array: every name bound to it."""
        return f"    del {', '.join(self.names.pop(slot, [self.namer.slot(slot)]))}"

    def delete_unused(self) -> None:
        """Delete the large pooled buffers that no later result took, where they died."""
        for s, index in self.placeholders.items():
            if self.info[s].nbytes >= DELETE_MIN_BYTES:
                self.lines[index] = self.deletion(s)


def _kept_bytes(rec: Recording, ops: list[Op]) -> dict[int, int]:
    """slot -> the bytes its name keeps alive: its own array's, or for a view (``t.reshape``,
    ``t[1:]``, ``t.T``) those of the temporary it is a view of (none for a view of an input:
    the caller's memory), so that a view of a large temporary is deleted after its last use
    too."""
    info = rec.info
    kept = dict.fromkeys(rec.inputs, 0)
    for op in ops:
        for out in _out_slots(op.outs, []):
            value = info[out]
            if value.owns or not value.ndarray:
                kept[out] = value.nbytes
            else:
                kept[out] = max((kept.get(s, info[s].nbytes) for s in slots(op.args)),
                                default=value.nbytes)
    return kept


def _op_line(op: Op, namer: Namer, buffer: int | None = None) -> str:
    args = op.args
    if op.kind == "getitem":
        text = f"{expression(args[0], namer)}[{_index(args[1], namer)}]"
    elif op.kind == "setitem":
        return f"{expression(args[0], namer)}[{_index(args[1], namer)}] = " \
               f"{expression(args[2], namer)}"
    elif op.kind == "attr":
        text = f"{expression(args[0], namer)}.{op.fn}"
    elif op.kind == "method":
        text = f"{expression(args[0], namer)}.{op.fn}({_arguments(args[1:], op.kwargs, namer)})"
    else:
        symbol = _operator_symbol(op, args, namer)
        short = _short_form(op, namer) if buffer is None else None
        if short is not None:
            text = short
            if op.outs is None:
                return text
        elif buffer is not None:
            text = (f"{function_name(op.fn, namer)}("
                    f"{_arguments(args, op.kwargs, namer)}, out={namer.slot(buffer)})")
        elif symbol is not None:
            text = f"{expression(args[0], namer)} {symbol} {expression(args[1], namer)}"
        elif op.fn is operator.abs:
            text = f"abs({expression(args[0], namer)})"
        elif op.fn in _UNARY_OPERATORS and len(args) == 1 and not op.kwargs \
                and args[0].__class__ is Ref:
            text = f"{_UNARY_OPERATORS[op.fn]}{expression(args[0], namer)}"
        else:
            text = f"{function_name(op.fn, namer)}({_arguments(args, op.kwargs, namer)})"
    if op.outs is None:
        return text
    return f"{_targets(op.outs, namer)} = {text}"


_METHODS = {np.reshape: "reshape", np.transpose: "transpose", np.swapaxes: "swapaxes",
            np.squeeze: "squeeze", np.ravel: "ravel"}
"""NumPy functions that call the ndarray method of the same name (written as the method:
NumPy's Python wrapper costs more than the operation on a small array)."""


def _short_form(op: Op, namer: Namer) -> str | None:
    """The same operation written the cheaper way, where NumPy does exactly that: an
    in-place operator for ``np.add(a, b, out=a)``, the ndarray method for ``np.reshape``,
    ``a.transpose(order)`` for ``np.moveaxis``, ``np.zeros(shape, dtype)`` for
    ``np.zeros_like`` with a C-contiguous result; None where there is none."""
    args, kwargs, info = op.args, op.kwargs, namer.rec.info
    if op.fn is np.eye and set(kwargs) <= {"M", "k", "dtype", "order", "device"} \
            and kwargs.get("order", "C") == "C" and kwargs.get("device") is None:
        shape = [kwargs.get(k, d) for k, d in (("M", None), ("k", 0), ("dtype", float))]
        return f"np.eye({_arguments((*args, *shape), {}, namer)})"  # as made(...) writes it
    first = args[0] if args else None
    if first.__class__ is not Ref or not info[first.slot].ndarray:
        if op.fn in (np.zeros_like, np.ones_like) and op.outs.__class__ is int \
                and info[op.outs].ndarray and first.__class__ is Ref:
            pass
        else:
            return None
    name = namer.slot(first.slot)
    symbol = _OPERATORS.get(op.fn)
    out = kwargs.get("out")
    if symbol is not None and len(args) == 2 and op.outs is None and len(kwargs) == 1 \
            and out in (first, (first,)) and _operand_ok(args[1], namer) \
            and symbol not in ("<", "<=", ">", ">=", "==", "!=") \
            and not _fast_exponent(op.fn, args[1]):
        return f"{name} {symbol}= {expression(args[1], namer)}"
    if op.fn in _METHODS and op.outs.__class__ is int and set(kwargs) <= {"order", "axis",
                                                                           "axes", "shape",
                                                                           "newshape"}:
        rest = [expression(a, namer) for a in args[1:]]
        rest += [f"{k}={expression(v, namer)}" for k, v in kwargs.items()
                 if k not in ("newshape", "shape", "axes")]
        rest = [expression(kwargs[k], namer) for k in ("shape", "newshape", "axes")
                if k in kwargs] + rest
        return f"{name}.{_METHODS[op.fn]}({', '.join(rest)})"
    if op.fn is np.moveaxis and op.outs.__class__ is int and len(args) == 3 and not kwargs:
        order = _moveaxis_order(len(info[first.slot].shape), args[1], args[2])
        return None if order is None else f"{name}.transpose({order!r})"
    if op.fn in (np.zeros_like, np.ones_like) and op.outs.__class__ is int:
        result = info[op.outs]
        if result.ndarray and result.c_contiguous and set(kwargs) <= {"shape", "dtype"} \
                and len(args) == 1:
            maker = "np.zeros" if op.fn is np.zeros_like else "np.ones"
            return f"{maker}({result.shape!r}, {expression(result.dtype, namer)})"
    return None


def _moveaxis_order(ndim: int, source: Any, destination: Any) -> tuple[int, ...] | None:
    """The permutation ``np.moveaxis`` gives to ``transpose`` (NumPy's own algorithm)."""
    try:
        from numpy.lib.array_utils import normalize_axis_tuple

        source = normalize_axis_tuple(source, ndim, "source")
        destination = normalize_axis_tuple(destination, ndim, "destination")
    except (TypeError, ValueError, np.exceptions.AxisError):
        return None
    if len(source) != len(destination):
        return None
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return tuple(order)


def _operator_symbol(op: Op, args: Any, namer: Namer) -> str | None:
    """The operator that computes exactly what ``op`` computed, or None. On NumPy scalars
    Python's operators run NumPy's scalar arithmetic, not the ufunc (complex products and
    powers differ in the last bit), and ndarray's ``**`` calls np.square, np.reciprocal or
    np.sqrt for the exponents 2, -1 and 0.5: a ufunc is written as an operator only where an
    operand is an ndarray and the exponent is none of those."""
    if len(args) != 2 or op.kwargs:
        return None
    symbol = _PYTHON_OPERATORS.get(op.fn)
    if symbol is not None:
        return symbol
    symbol = _OPERATORS.get(op.fn)
    if symbol is None or not (_operand_ok(args[0], namer) and _operand_ok(args[1], namer)):
        return None
    if not any(a.__class__ is Ref and namer.rec.info[a.slot].ndarray for a in args):
        return None
    if _fast_exponent(op.fn, args[1]):
        return None
    return symbol


def _fast_exponent(fn: Any, exponent: Any) -> bool:
    """``x ** exponent`` of an ndarray would call np.square, np.reciprocal or np.sqrt, not
    ``fn``, np.power (a Python 2, -1 or 0.5)."""
    return fn is np.power and exponent.__class__ in (int, float) and exponent in (2, -1, 0.5)


def _operand_ok(template: Any, namer: Namer) -> bool:
    """An operand written with an operator gives NumPy's result: a slot holding a NumPy value,
    or a Python number beside one."""
    if template.__class__ is Ref:
        return template.slot not in namer.rec.python_scalars
    return template.__class__ in (int, float) or isinstance(template, np.generic)


def _targets(outs: Any, namer: Namer) -> str:
    if outs.__class__ is int:
        return namer.slot(outs)
    if not outs:
        return "_"
    parts = [_targets(o, namer) for o in outs]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


def _arguments(args: Any, kwargs: dict, namer: Namer) -> str:
    parts = [expression(a, namer) for a in args]
    parts += [f"{k}={expression(v, namer)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _guard_line(op: Op, number: int, namer: Namer) -> str:
    value = namer.slot(op.args[0].slot)
    fail = f"return _FAILED[{number}]"
    if op.check == "shape":
        return f"if {value}.shape != {op.expected!r}: {fail}"
    expected = op.expected
    if op.fn == "bool":
        return f"if {'not ' if expected else ''}{value}: {fail}"
    if op.fn in ("int", "index") and expected.__class__ is int:
        return f"if {'int' if op.fn == 'int' else 'operator.index'}({value}) != " \
               f"{expected!r}: {fail}"
    convert = {"float": "float({})", "complex": "complex({})", "round": "round({})",
               "item": "{}.item()", "tolist": "np.asarray({}).tolist()",
               "int": "int({})", "index": "operator.index({})"}[op.fn].format(value)
    return f"if not _same({convert}, {namer.constant(expected)}): {fail}"


def same(a: Any, b: Any) -> bool:
    """Equal values, nan equal to nan (what a value guard checks)."""
    if a.__class__ is float and b.__class__ is float:
        return a == b or (a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


# --------------------------------------------------------------------------- compiling


def compile_program(text: str, namer: Namer, guards: int) -> Any:
    """The function ``text`` defines, with its constants, NumPy and the guard results."""
    import operator

    namespace: dict[str, Any] = {"np": np, "operator": operator, "_same": same,
                                 "_FAILED": [GuardFailure(i) for i in range(guards)]}
    if "scipy." in text:
        import sys

        import scipy.special  # noqa: F401 - only when the program calls SciPy's ufuncs
        namespace["scipy"] = sys.modules["scipy"]
    namespace.update(namer.constants)
    exec(builtins.compile(text, "<dualad.compile>", "exec"), namespace)  # noqa: S102
    return namespace[text[4:text.index("(")]]


def constants_source(namer: Namer) -> str:
    """Lines that define the program's constants, so that its source runs on its own."""
    lines = []
    for name, value in namer.constants.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
            if value.size <= 64:
                lines.append(f"{name} = np.array({value.tolist()!r}, dtype=np.{value.dtype.name})"
                             .replace("nan", "float('nan')").replace("inf", "float('inf')"))
            else:
                data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode()
                lines.append(f"{name} = np.frombuffer(base64.b64decode({data!r}), "
                             f"dtype={value.dtype.str!r}).reshape({value.shape!r})")
        elif isinstance(value, np.generic):
            lines.append(f"{name} = np.{value.dtype.name}({value.item()!r})")
        elif isinstance(value, (int, float, complex, bool, str, list, tuple)):
            lines.append(f"{name} = {value!r}")
        else:
            lines.append(f"{name} = None  # {value!r} cannot be written as source")
    return "\n".join(lines)
