"""Where a transform meets its caller: arguments in, results out.

Every transform (``jvp``, ``jacfwd``, ``vjp``, ``grad``, ``jacrev``, ...) checks and names its
arguments, chooses the ones to differentiate (``argnums``), splits work into chunks, and
hands back results that are the caller's own: plain NumPy values that share no memory with
the caller's arguments and that the caller may change without changing a later pullback.
It also refuses values that escaped a finished transform (leaked values). Those jobs live
here, once, for both modes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import registry, storage
from ..active import masked_message, stack_objects, subclass_message
from ..errors import (
    DualadError,
    InvalidArgumentError,
    InvalidInputError,
)
from ..tree import (
    LEAF,
    TreeDef,
    flatten,
    flatten_with_paths,
    is_node,
    leaf_paths,
    unflatten,
    unregistered_message,
)

DEFAULT_CHUNK_BYTES = 2**20
"""``jacfwd`` seeds at most this many bytes of input tangent per pass (1 MiB) unless
``chunk_size`` says otherwise (``jacrev`` likewise for its cotangent rows). Tangents of
that size stay in the cache and below the allocator's ``mmap`` sizes; larger ones were
measured slower (Rosenbrock's n = 1024 Jacobian: 17 ms at 128 MiB, 11 ms at 1 MiB)."""

NODES_HINT = (
    "dualad looks for arrays inside tuples, lists, dicts, named tuples and the types "
    "registered with dualad.register_pytree_node or dualad.register_dataclass; pass other "
    "values through a closure (grad(lambda x: f(x, other))) or as a dataclass's meta field"
)
"""How to tell dualad about a container, for errors about leaves that are not arrays."""

FLAT_LEAVES = frozenset((np.ndarray, float, int, np.float64, np.float32))
"""Argument types the transforms' fast paths take without pytree bookkeeping."""


def flat_leaf(x: Any) -> bool:
    """True for an argument the transforms' fast paths take without pytree bookkeeping:
    an array (of a registered kind too) or a number.

    >>> flat_leaf(np.ones(2)), flat_leaf(2.0), flat_leaf((np.ones(2),))
    (True, True, False)
    """
    return x.__class__ in FLAT_LEAVES or registry.is_array(x)


# --------------------------------------------------------------------------- the call


_NUMPY_SEQUENCE = "setting an array element with a sequence"


def call(fun: Any, args: Sequence[Any]) -> Any:
    """``fun(*args)``, with dualad's own error where NumPy hides it.

    ``out = np.zeros(n); out[i] = x`` makes NumPy convert the active ``x`` with ``float()``;
    dualad refuses, and NumPy, which takes anything indexable for a sequence, raises its own
    ``ValueError`` with dualad's error as the cause. That error (which says to create the
    buffer with ``np.zeros_like(x)``) is raised instead, at the line of the assignment.
    """
    try:
        return fun(*args)
    except ValueError as exc:
        cause = exc.__cause__
        if isinstance(cause, DualadError) and str(exc).startswith(_NUMPY_SEQUENCE):
            raise cause.with_traceback(exc.__traceback__) from None
        raise


# --------------------------------------------------------------------------- arguments


def arg_paths(args: Sequence[Any], numbers: Sequence[int]) -> list[str]:
    """The names of the leaves of the arguments ``numbers`` (0-based)."""
    return [p for i, a in zip(numbers, args) for p in leaf_paths(a, f"argument {i + 1}")]


def as_input(x: Any, where: str) -> Any:
    """``x`` as a float or complex array to differentiate at: integers and booleans become
    float64.

    Masked arrays and other ndarray subclasses (except ``np.memmap``) are refused: their
    semantics would be dropped silently.

    >>> as_input([1, 2], "argument 1")
    array([1., 2.])
    """
    if registry.is_active(x):
        return x
    if registry.is_array(x) or (x.__class__ is not np.ndarray and storage.recognise(x)):
        # an array of another kind (dualad.compile's, Dask's): kept as it is
        kind = x.dtype.kind
        if kind in "fc":
            return x
        if kind in "biu":
            return x.astype(np.float64)
        raise InvalidInputError(f"{where} has dtype {x.dtype}, not numbers: it cannot be "
                                f"differentiated")
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            x = stack_objects(x)
            if registry.is_active(x):
                return x
        elif type(x) is not np.ndarray and type(x) is not np.memmap:
            if isinstance(x, np.ma.MaskedArray):
                raise InvalidInputError(masked_message(f"{where} is a masked array"))
            raise InvalidInputError(subclass_message(type(x), f"{where} is a"))
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        raise InvalidInputError(unregistered_message(type(x), where))
    try:
        a = np.asarray(x)
    except Exception as exc:  # an input NumPy cannot read at all
        raise InvalidInputError(f"{where} is not an array of numbers: {exc}") from None
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind in "fc":
        return a
    if not isinstance(x, np.ndarray) and a.dtype.kind in "OUSV":
        raise InvalidInputError(
            f"{where} is of type {type(x).__qualname__}, not an array or a number: it cannot "
            f"be differentiated. {NODES_HINT}"
        )
    raise InvalidInputError(
        f"{where} has dtype {a.dtype}, not numbers: it cannot be differentiated"
    )


def argnums_tuple(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    """``argnums`` as a tuple of non-negative positions, checked against ``nargs``.

    >>> argnums_tuple((0, -1), 3)
    (0, 2)
    """
    numbers = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    for i in numbers:
        if not isinstance(i, (int, np.integer)) or not -nargs <= i < nargs:
            raise InvalidArgumentError(
                f"argnums={argnums!r} is out of range: the function was called with "
                f"{nargs} positional argument(s)"
            )
    chosen = tuple(int(i) % nargs for i in numbers)
    if len(set(chosen)) != len(chosen):
        raise InvalidArgumentError(
            f"argnums={argnums!r} names an argument twice: each argument can be "
            f"differentiated once (JAX refuses this too)"
        )
    return chosen


def with_arguments(args: Sequence[Any], numbers: tuple[int, ...], tuple_argnums: bool,
                   chosen: Any) -> list[Any]:
    """``args`` with the arguments at ``numbers`` replaced by ``chosen``: a tuple of one value
    per number when ``argnums`` was a tuple, else the one value itself.

    >>> with_arguments(("a", "b", "c"), (0, 2), True, ("A", "C"))
    ['A', 'b', 'C']
    >>> with_arguments(("a", "b"), (1,), False, "B")
    ['a', 'B']
    """
    call_args = list(args)
    if tuple_argnums:
        for i, value in zip(numbers, chosen, strict=True):
            call_args[i] = value
    else:
        call_args[numbers[0]] = chosen
    return call_args


def chunks(n: int, chunk_size: int | None, itemsize: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in chunks of ``chunk_size`` (by default
    as many as fit in ``DEFAULT_CHUNK_BYTES`` of ``n``-long rows).

    >>> chunks(5, 2, 8)
    [(0, 2), (2, 4), (4, 5)]
    """
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_BYTES // max(1, itemsize * n))
    elif not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InvalidArgumentError(
            f"chunk_size must be a positive integer, got {chunk_size!r}"
        )
    if n == 0:
        return [(0, 0)]
    return [(start, min(n, start + chunk_size)) for start in range(0, n, chunk_size)]


def read_only(x: Any) -> Any:
    """A read-only view of the array ``x`` (anything else as it is): the caller's arrays are
    handed to the engines this way, so that no rule or implementation can write into them.

    >>> read_only(np.ones(2)).flags.writeable
    False
    """
    if x.__class__ is np.ndarray and x.flags.writeable:
        x = x.view()
        x.setflags(write=False)
    return x


def check_holomorphic_inputs(leaves: Sequence[Any], paths: Sequence[str], who: str,
                             holomorphic: bool, complex_allowed: bool) -> None:
    """JAX's checks of the inputs of ``who`` (``"jacfwd"``): complex with ``holomorphic=True``;
    else real, unless ``complex_allowed`` (``grad`` and ``jacrev`` take a complex input of a
    real-valued function)."""
    for x, where in zip(leaves, paths):
        kind = x.dtype.kind
        if holomorphic and kind != "c":
            raise InvalidInputError(
                f"dualad.{who} with holomorphic=True needs complex inputs, but {where} has "
                f"dtype {x.dtype} (JAX refuses this too): pass "
                f"x.astype(complex), or drop holomorphic=True for a real input"
            )
        if not holomorphic and kind == "c" and not complex_allowed:
            raise InvalidInputError(
                f"dualad.{who} needs real inputs unless holomorphic=True, but {where} is "
                f"complex (JAX refuses this too): pass holomorphic=True if the function is "
                f"holomorphic (complex-differentiable), or use dualad.jvp directly for a "
                f"non-holomorphic function of complex values (its Jacobian is not one complex "
                f"matrix)"
            )


def dtype_of(x: Any) -> np.dtype:
    """The dtype of an array, an active value or a number.

    >>> dtype_of(1j)
    dtype('complex128')
    """
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None else np.asarray(x).dtype


def check_holomorphic_output(dtype: np.dtype, where: str, who: str, holomorphic: bool) -> None:
    """JAX's checks of an output of ``who``: complex with ``holomorphic=True``; else real
    (``grad`` and ``jacrev``; ``jacfwd`` of real inputs may return complex values)."""
    if holomorphic and dtype.kind != "c":
        raise InvalidInputError(
            f"dualad.{who} with holomorphic=True needs complex outputs, but {where} has "
            f"dtype {dtype} (JAX refuses this too): return a complex value, or drop "
            f"holomorphic=True for a real-valued function"
        )
    if not holomorphic and dtype.kind == "c":
        raise InvalidInputError(
            f"dualad.{who} needs a real-valued output unless holomorphic=True, but {where} "
            f"is complex (JAX refuses this too): pass holomorphic=True if the function is "
            f"holomorphic, differentiate np.real(f) and np.imag(f) separately, or use "
            f"dualad.vjp directly with a complex cotangent"
        )


# --------------------------------------------------------------------------- results


def finish(x: Any) -> Any:
    """A result for the user: plain 0-d arrays become NumPy floats."""
    if (isinstance(x, np.ndarray) or registry.is_array(x)) and x.ndim == 0:
        return x[()]
    return x


def output_leaves(out: Any, what: str = "output") -> tuple[list[Any], list[str], TreeDef]:
    """The leaves of a function's result, their names for errors, and its structure.

    A leaf is named by its number (``output 1``), and also by its place when the result is
    more than one array or a tuple of them.

    >>> output_leaves((1, {"h": 2}))[1]
    ['output 0', "output 1 (result[1]['h'])"]
    """
    if not is_node(out):
        return [out], [f"{what} 0"], LEAF
    leaves, paths, treedef = flatten_with_paths(out, "result")
    names = [f"{what} {i}" if path == f"result[{i}]" else f"{what} {i} ({path})"
             for i, path in enumerate(paths)]
    return leaves, names, treedef


def split_aux(out: Any) -> tuple[Any, Any]:
    """``(output, aux)`` of a function called with ``has_aux=True``."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise InvalidInputError(
            "with has_aux=True the function must return a pair (output, aux)"
        )
    return out[0], out[1]


def strip_level(tree: Any, tag: int) -> Any:
    """``tree`` with this level's active values replaced by their primals (``has_aux``)."""
    leaves, names, treedef = output_leaves(tree, "aux output")
    stripped = []
    for leaf, where in zip(leaves, names):
        check_level(leaf, tag, where)
        stripped.append(leaf.primal if registry.is_active(leaf) and leaf.tag == tag else leaf)
    return unflatten(treedef, stripped)


def output_leaf(leaf: Any, tag: int, where: str) -> Any:
    """One leaf of a function's output at level ``tag``: an object array of scalar active
    values as one active array, checked for values of other (finished, inner) levels."""
    if isinstance(leaf, np.ndarray) and leaf.dtype == object:
        leaf = stack_objects(leaf)
    check_level(leaf, tag, where)
    return leaf


def plain_output(leaf: Any, where: str) -> np.ndarray:
    """An output leaf without a derivative as an array of numbers, or a clear error."""
    if registry.is_array(leaf) and leaf.dtype.kind in "biufc":
        return leaf  # an array of another kind (dualad.compile's): kept as it is
    try:
        value = np.asarray(leaf)
    except Exception:  # noqa: BLE001 - report any unreadable output the same way
        value = np.asarray(None)
    if value.dtype.kind not in "biufc":
        if dataclasses.is_dataclass(leaf) and not isinstance(leaf, type):
            raise InvalidInputError(unregistered_message(type(leaf), f"{where} of the function"))
        raise InvalidInputError(
            f"{where} of the function is a {type(leaf).__name__}, not an array or number: "
            f"only arrays can be differentiated"
        )
    return value


def check_level(value: Any, tag: int, where: str) -> None:
    """Raise if ``value``, a result of the transform at level ``tag``, holds an active value
    that does not belong there: one of an inner transform, or of a transform that has
    already returned (a leaked value)."""
    while registry.is_active(value):
        if value._stale:
            raise value.stale_error()
        if value.tag > tag or (value.tag != tag and registry.expired(value.tag)):
            raise registry.leaked_error(value.tag, where)
        tangent = getattr(value, "tangent", None)
        if registry.is_active(tangent):
            check_level(tangent, tag, where)
        value = value.primal


def owned(tree: Any, sources: Sequence[Any]) -> Any:
    """``tree`` with every array leaf that shares memory with one of ``sources`` (the
    caller's arguments and tangents) or that is read-only (a view of a value dualad keeps)
    replaced by a copy: results are the caller's to change."""
    if not is_node(tree):  # one leaf: the common case
        return owned_array(tree, sources)
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [owned_array(leaf, sources) for leaf in leaves])


def copied(x: Any, order: str = "K") -> Any:
    """A copy of an array (of a registered kind too: dualad.compile's traced arrays, whose
    copy is recorded; a Dask array, immutable, as it is), for a value the caller may change
    while dualad still reads it; any other value as it is.

    >>> a = np.ones(2); copied(a) is a
    False
    """
    if isinstance(x, np.ndarray):
        return x.copy(order=order)
    if registry.is_array(x):
        return registry.array_kind(x).copy(x, order)
    return x


def owned_array(x: Any, sources: Sequence[Any] = ()) -> Any:
    """The array ``x`` as a result of the caller's own (see :func:`owned`)."""
    if registry.is_array(x):
        shares = registry.array_kind(x).shares_memory
        if x.ndim and any(type(s) is type(x) and shares(x, s) for s in sources):
            return x.copy()
        return x
    if x.__class__ is not np.ndarray or x.ndim == 0:
        return x
    if not x.flags.writeable:
        return x.copy()
    root = _memory(x)
    for s in sources:
        if isinstance(s, np.ndarray) and _memory(s) is root:
            return x.copy()
    return x


def _memory(x: np.ndarray) -> Any:
    """The object that owns ``x``'s memory: arrays that share memory share it."""
    while True:
        base = x.base
        if base is None:
            return x
        if not isinstance(base, np.ndarray):
            return base
        x = base
