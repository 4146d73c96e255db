"""Copies of large constants, made in memory that earlier copies no longer use.

The tape copies every writeable plain array it reads (its value at the time of use). A copy of
128 KiB or more is memory glibc maps from the kernel on each allocation and returns on each
free, so a ``grad`` call that copies a 1 MiB data matrix pays for page faults, not for the
copying: in a loop, 170 us per copy against 28 us for the copying itself. This module keeps
the large copies once their tape is gone and writes the next copy of the same shape and dtype
into one of them.

A kept copy is reused only when nothing but this pool refers to it: ``sys.getrefcount``
reads its count and compares it with the count of a copy held by the pool alone, measured
once at import (so that the interpreter's own way of counting references does not matter).
A tape that still records or can still pull back, a view of the copy, or a user holding
``dualad.primal`` of an input all keep it referenced, so it is never overwritten while in use.
The pool keeps at most :data:`MAX_KEPT_BYTES` in all, copies of at most
:data:`MAX_COPY_BYTES` each.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

import numpy as np

MIN_COPY_BYTES = 1 << 17
"""Smaller copies come from malloc's free lists anyway: they are not kept."""

MAX_COPY_BYTES = 1 << 26
"""Larger copies are not kept (64 MiB): holding them would cost more memory than it saves."""

MAX_KEPT_BYTES = 1 << 27
"""The memory the pool may keep in all (128 MiB)."""

_kept: OrderedDict[int, np.ndarray] = OrderedDict()
"""id -> a copy the pool keeps, oldest first."""
_kept_bytes = 0
_lock = threading.Lock()


def _first_unshared(copies: list[np.ndarray], shape: tuple, dtype: np.dtype,
                    unshared: int | None) -> np.ndarray | int | None:
    """The first of ``copies`` of ``shape`` and ``dtype`` that only the pool refers to; with
    ``unshared=None``, the reference count of the first copy (to measure the baseline)."""
    for copy in copies:
        count = sys.getrefcount(copy)
        if unshared is None:
            return count
        if count == unshared and copy.shape == shape and copy.dtype == dtype:
            return copy
    return None


_UNSHARED = _first_unshared([np.empty(1)], (1,), np.dtype(float), None)
"""The reference count of a copy that only the pool's list holds, counted in the loop above."""


def copy(x: np.ndarray) -> np.ndarray:
    """A new C-ordered copy of ``x``, in the memory of an unused earlier copy where there is
    one (writeable: the caller makes it read-only).

    >>> a = np.arange(3.0)
    >>> b = copy(a)
    >>> b is a, bool(np.shares_memory(a, b)), b.tolist()
    (False, False, [0.0, 1.0, 2.0])
    """
    nbytes = x.nbytes
    if nbytes < MIN_COPY_BYTES or nbytes > MAX_COPY_BYTES or x.dtype.kind not in "biufc":
        return x.copy()
    with _lock:
        reused = _first_unshared(list(_kept.values()), x.shape, x.dtype, _UNSHARED + 1)
        if reused is not None:
            _kept.move_to_end(id(reused))
    if reused is not None:
        reused.setflags(write=True)
        np.copyto(reused, x)
        return reused
    fresh = x.copy()
    _keep(fresh)
    return fresh


def _keep(fresh: np.ndarray) -> None:
    """Keep ``fresh`` for reuse, dropping the oldest unused copies to stay within the cap."""
    global _kept_bytes
    with _lock:
        for key in list(_kept):
            if _kept_bytes + fresh.nbytes <= MAX_KEPT_BYTES:
                break
            old = _kept.pop(key)
            _kept_bytes -= old.nbytes
        if _kept_bytes + fresh.nbytes <= MAX_KEPT_BYTES:
            _kept[id(fresh)] = fresh
            _kept_bytes += fresh.nbytes
