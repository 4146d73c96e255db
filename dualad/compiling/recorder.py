"""The recording of one call: the straight-line program of NumPy operations it performed.

While :func:`dualad.compile` records, the arguments of the function are :class:`Traced`
arrays (:mod:`dualad.compiling.traced`). Each NumPy call that meets one runs on the values and
appends an :class:`Op` here; each decision Python takes on a value (``if``, ``float()``,
``len()`` of a mask's result, ...) appends a guard. Nothing here runs NumPy: the recorder is
data, turned into Python source by :mod:`dualad.compiling.source`.

Operands of an operation are kept as *templates*: the call's arguments with every traced array
replaced by a :class:`Ref` to its slot, so that the source can name them.
"""

from __future__ import annotations

import os
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


class Ref:
    """A traced value in a template: the slot that holds it when the program runs.

    >>> Ref(3) == Ref(3), Ref(3)
    (True, Ref(slot=3))
    """

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Ref and other.slot == self.slot  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((Ref, self.slot))

    def __repr__(self) -> str:
        return f"Ref(slot={self.slot})"


def leaves(template: Any) -> list[Any]:
    """Every leaf of a template, through tuples, lists, dict values and slice bounds.

    >>> leaves((Ref(1), [2.0, slice(None, Ref(3))], {"axis": 0}))
    [Ref(slot=1), 2.0, None, Ref(slot=3), None, 0]
    """
    found: list[Any] = []
    stack = [template]
    while stack:
        item = stack.pop()
        cls = item.__class__
        if cls is tuple or cls is list:
            stack.extend(reversed(item))
        elif cls is dict:
            stack.extend(reversed(list(item.values())))
        elif cls is slice:
            stack.extend((item.step, item.stop, item.start))
        else:
            found.append(item)
    return found


def slots(template: Any) -> list[int]:
    """The slots a template refers to, in order (repeats kept).

    >>> slots(((Ref(1), [2.0, slice(None, Ref(3))]), {"out": (Ref(1),)}))
    [1, 3, 1]
    """
    found: list[int] = []
    _slots_into((template,), found)
    return found


def _slots_into(template: Any, found: list[int]) -> None:
    for item in template.values() if template.__class__ is dict else template:
        cls = item.__class__
        if cls is Ref:
            found.append(item.slot)
        elif cls is tuple or cls is list or cls is dict:
            _slots_into(item, found)
        elif cls is slice:
            _slots_into((item.start, item.stop, item.step), found)


def map_leaves(template: Any, fn: Any) -> Any:
    """The template with each leaf replaced by ``fn(leaf)``, its containers rebuilt."""
    cls = template.__class__
    if cls is tuple or cls is list:
        return cls(map_leaves(t, fn) for t in template)
    if cls is dict:
        return {k: map_leaves(v, fn) for k, v in template.items()}
    if cls is slice:
        return slice(map_leaves(template.start, fn), map_leaves(template.stop, fn),
                     map_leaves(template.step, fn))
    return fn(template)


@dataclass(slots=True)
class Op:
    """One recorded operation.

    ``kind`` is ``"call"`` (``fn(*args, **kwargs)``), ``"method"`` (``args[0].fn(*args[1:],
    **kwargs)``, ``fn`` the method's name), ``"attr"`` (``args[0].fn``), ``"getitem"``
    (``args[0][args[1]]``), ``"setitem"`` (``args[0][args[1]] = args[2]``) or ``"guard"``.
    ``outs`` is the result's pattern: a slot, a tuple of patterns (a result NumPy returns
    as a tuple, unpacked) or None (nothing to keep). ``writes`` is the slot the operation
    writes into (``out=``, item assignment, an in-place method), or None. A guard holds the
    value a slot had (``expected``) and what was checked (``check``: ``"value"``,
    ``"shape"``), with the line of the user's code that took the decision (``line``).
    """

    kind: str
    fn: Any
    args: tuple
    kwargs: dict
    outs: Any = None
    writes: int | None = None
    check: str = ""
    expected: Any = None
    line: str = ""
    fresh: bool = False  # the result is a new array nothing else refers to (a ufunc's)
    view: bool = False  # an indexing result that is a view of the indexed array
    _used: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    def used(self) -> list[int]:
        """The slots the operation reads, in order (repeats kept): ``slots((args,
        kwargs))``, worked out once (an operation's operands are not changed in place
        once the program is simplified; a rewrite makes a new operation)."""
        if self._used is None:
            self._used = slots((self.args, self.kwargs))
        return self._used


_new_info = tuple.__new__  # a NamedTuple's fields without its Python-level __new__


class Info(NamedTuple):
    """What the program needs to know of a slot's value: no values are kept."""

    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    ndarray: bool
    """An ndarray (not a NumPy scalar or a Python number)."""
    owns: bool
    """An ndarray that owns its memory (not a view)."""
    c_contiguous: bool = False

    @classmethod
    def of(cls, value: Any) -> Info:
        """What the program needs to know of ``value``.

        >>> Info.of(np.zeros((2, 3))).shape, Info.of(np.float64(1.0)).ndarray
        ((2, 3), False)
        """
        if value.__class__ is np.ndarray:
            return _new_info(cls, (value.shape, value.dtype, value.nbytes, True,
                                   value.base is None, value.flags.c_contiguous))
        return cls(np.shape(value), np.asarray(value).dtype, 0, False, False)


@dataclass
class Recording:
    """Everything one recording collected: operations, inputs, constants and names."""

    ops: list[Op] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    info: dict[int, Info] = field(default_factory=dict)
    """slot -> the shape, dtype and size of the value it held at the recording."""
    names: dict[int, str] = field(default_factory=dict)
    """slot -> the user's name for it, where the function kept it in a local variable."""
    python_scalars: set[int] = field(default_factory=set)
    """Slots that hold a Python number at replay (``np.allclose``'s bool), not a NumPy one."""
    constants: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    """id -> (a plain array the operations read, a read-only copy of it when first read)."""
    constant_ops: set[int] = field(default_factory=set)
    """Indices of the operations that read a plain array."""
    next_slot: int = 0
    closed: bool = False

    def note_constant(self, array: np.ndarray) -> None:
        """Keep a copy of a plain array an operation reads: the program reads the copy (its
        values at the recording) and :meth:`changed_constants` compares with it. A copy
        costs less than a checksum of the bytes."""
        if id(array) not in self.constants:
            kept = array.copy(order="K")  # its layout: BLAS and sums take paths by strides
            kept.setflags(write=False)
            self.constants[id(array)] = (array, kept)

    def changed_constants(self) -> list[np.ndarray]:
        """The plain arrays that were written into after an operation read them."""
        return [a for a, kept in self.constants.values() if not same_bits(a, kept)]

    def new_slot(self, value: Any) -> int:
        slot = self.next_slot
        self.next_slot = slot + 1
        self.info[slot] = Info.of(value)
        return slot


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two arrays of one shape and dtype hold the same bytes (NaNs and signed
    zeros included), whatever their memory layouts.

    >>> same_bits(np.array([0.0, np.nan]), np.array([0.0, np.nan]))
    True
    >>> same_bits(np.array([0.0]), np.array([-0.0]))
    False
    """
    unsigned = _UNSIGNED.get(a.dtype.itemsize)
    if unsigned is None or a.dtype.hasobject or a.dtype.fields is not None:
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a.view(unsigned), b.view(unsigned)))


def fingerprint(array: np.ndarray) -> int:
    """A checksum of the array's bytes (of a contiguous copy where it is not contiguous)."""
    return zlib.crc32(array if array.flags.c_contiguous else np.ascontiguousarray(array))


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NUMPY_DIR = os.path.dirname(np.__file__)


def user_line() -> str:
    """``file:line in function`` of the innermost caller outside dualad and NumPy: the line
    of the user's code that took a decision (or called the library function that did)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or filename.startswith(_NUMPY_DIR)
                or filename.startswith("<__array_function__")):
            return f"{filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "an unknown line"
