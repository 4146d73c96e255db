"""Block-by-block replay of elementwise chains on large arrays.

A chain of elementwise ufuncs on arrays larger than the processor's caches reads and writes
main memory at every step: ``t3 = -x; t5 = t3 * x; t9 = np.exp(t5)`` makes three passes over
``n`` elements. :func:`segments` finds such stretches of a program (consecutive elementwise
ufuncs whose operands all share the last axis, or broadcast along it), and
:mod:`~dualad.compiling.source` replays each one block of that axis at a time: the
temporaries used only inside the stretch then live in a block small enough for the cache, and
only the results used later are written out whole. An elementwise ufunc computes each element
from the same elements of its operands, so the values are those of the whole-array program,
bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .recorder import Op, Recording, Ref


@dataclass
class Settings:
    """When a stretch of elementwise operations is replayed block by block."""

    block_bytes: int = 128 * 1024
    """The bytes of one block of a result: its temporaries stay in the processor's cache."""
    min_bytes: int = 8 * 1024 * 1024
    """The results must be at least this large (smaller ones stay in the cache anyway)."""
    min_ops: int = 4
    """The stretch must hold at least this many operations (the loop costs Python time)."""
    align: int = 64
    """A block's length is a multiple of this many elements."""
    block: int = 0
    """A fixed block length in elements, for the tests (0: from ``block_bytes``)."""


SETTINGS = Settings()


@dataclass
class Segment:
    """``ops[start:stop]``, replayed ``block`` elements of the last axis (``length``) at a
    time. ``whole`` holds the results used after the stretch (or returned): they are made
    whole before the loop and written block by block; ``sliced`` holds the slots read from
    before the stretch whose last axis is ``length``: the loop reads their blocks."""

    start: int
    stop: int
    length: int
    block: int
    whole: list[int] = field(default_factory=list)
    sliced: list[int] = field(default_factory=list)


def is_fresh_ufunc(op: Op) -> bool:
    """An elementwise ufunc called without keywords: its result is a new array, and it may
    be written into a buffer of the same shape and dtype (one of its inputs too)."""
    return op.fresh and op.kind == "call" and op.outs.__class__ is int \
        and isinstance(op.fn, np.ufunc) and op.fn.signature is None and op.fn.nout == 1


def is_in_place_ufunc(op: Op) -> bool:
    """An elementwise ufunc written into one of its operands' buffers (``t *= 2.0``): it makes
    no new name for that buffer, which may then lend itself to a later result as a fresh
    one does."""
    if not (op.kind == "call" and op.outs is None and op.writes is not None
            and isinstance(op.fn, np.ufunc) and op.fn.signature is None
            and op.fn.nout == 1 and set(op.kwargs) == {"out"}):
        return False
    target = Ref(op.writes)
    return op.kwargs["out"] in (target, (target,))


def segments(rec: Recording, ops: list[Op], last_use: dict[int, int], outputs: set[int],
             settings: Settings | None = None) -> list[Segment]:
    """The stretches of ``ops`` worth replaying block by block (see the module's
    description), in order and disjoint. ``last_use`` maps a slot to the index of the last
    operation that reads it; ``settings`` are :data:`SETTINGS` unless given."""
    settings = SETTINGS if settings is None else settings
    found: list[Segment] = []
    i = 0
    while i < len(ops):
        length = _length(rec, ops[i])
        if length is None:
            i += 1
            continue
        made: set[int] = set()
        stop = i
        while stop < len(ops) and _joins(rec, ops[stop], length, made):
            if ops[stop].outs is not None:
                made.add(ops[stop].outs)
            stop += 1
        segment = _finish(rec, ops, i, stop, length, made, last_use, outputs, settings)
        if segment is not None:
            found.append(segment)
        i = max(stop, i + 1)
    return found


def _length(rec: Recording, op: Op) -> int | None:
    """The last axis of the result of ``op`` if it may start a stretch."""
    if not is_fresh_ufunc(op):
        return None
    result = rec.info[op.outs]
    if not (result.ndarray and result.shape and result.c_contiguous):
        return None
    return result.shape[-1]


def _joins(rec: Recording, op: Op, length: int, made: set[int]) -> bool:
    """``op`` may join a stretch over a last axis of ``length`` that made ``made``."""
    info = rec.info
    if is_fresh_ufunc(op):
        result = info[op.outs]
        if not (result.ndarray and result.shape and result.shape[-1] == length
                and result.c_contiguous):
            return False
    elif not (is_in_place_ufunc(op) and op.writes in made):
        return False  # (an in-place write into an array the stretch made: no aliasing)
    for arg in op.args:
        if arg.__class__ is Ref:
            value = info[arg.slot]
            if value.ndarray and value.shape and value.shape[-1] not in (1, length):
                return False
        elif not (arg.__class__ in (int, float) or isinstance(arg, np.generic)):
            return False
    return True


def _finish(rec: Recording, ops: list[Op], start: int, stop: int, length: int,
            made: set[int], last_use: dict[int, int], outputs: set[int],
            settings: Settings) -> Segment | None:
    """The segment ``ops[start:stop]``, or None where a block-by-block loop would not pay."""
    info = rec.info
    count = stop - start
    if count < max(settings.min_ops, 1):
        return None
    whole = [s for s in made if s in outputs or last_use.get(s, -1) >= stop]
    if len(whole) == len(made) and settings.block == 0:
        return None  # no temporary stays in the cache
    largest = max(info[s].nbytes for s in made)
    if largest < settings.min_bytes:
        return None
    if settings.block:
        block = settings.block
    else:
        row_bytes = max(math.prod(info[s].shape[:-1]) * info[s].dtype.itemsize for s in made)
        if row_bytes * settings.align > 2 * settings.block_bytes:
            return None  # a block of ``align`` columns would not stay in the cache
        block = max(settings.block_bytes // row_bytes // settings.align, 1) * settings.align
    if length < 2 * block:
        return None
    sliced: list[int] = []
    for op in ops[start:stop]:
        for arg in op.args:
            if arg.__class__ is Ref and arg.slot not in made and arg.slot not in sliced:
                value = info[arg.slot]
                if value.ndarray and value.shape and value.shape[-1] == length:
                    sliced.append(arg.slot)
    return Segment(start, stop, length, block, sorted(whole), sliced)

