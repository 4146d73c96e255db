"""Values that depend on the point: what a global sparsity pattern must not decide on.

A *global* pattern holds for every input value, so the detection may not take a decision on
the values it runs with. :func:`dualad.jacobian_sparsity` runs the function on
:class:`~dualad.sparsity.structure.Structure` arrays whose values are :class:`Tainted`: an
ndarray subclass that keeps its class through every NumPy call (an index computed with
``np.argsort``, a mask ``x > 0``), so that the structural rules know an index or a condition
came from the input's values, and that refuses the decisions Python would take on it
(``if``, ``int()``, ``float()``, ``.item()``) with an error that says what to do instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import registry
from ..errors import ValueDependentError


class ShapeFromValuesError(ValueDependentError):
    """A shape computed from the input's values (``np.nonzero``, a boolean mask): the
    function has no global pattern, whichever code took the decision."""


_SHAPE_FROM_VALUES = frozenset((
    np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.extract, np.compress,
    np.intersect1d, np.union1d, np.setdiff1d, np.setxor1d, np.trim_zeros,
))
"""NumPy functions whose result's shape depends on the values they are given."""


def _shape_error(what: str) -> ShapeFromValuesError:
    return ShapeFromValuesError(
        f"dualad.jacobian_sparsity: {what} of a value that depends on the input: the shape "
        f"of the result depends on the values, so the function has no global sparsity "
        f"pattern. Pass local=True for the pattern at this point, or keep the shape "
        f"(np.where(mask, x, 0) instead of x[mask])."
    )


def _decision(what: str) -> ValueDependentError:
    return ValueDependentError(
        f"dualad.jacobian_sparsity: {what} of a value that depends on the input; the "
        f"function takes a decision on the input's values, so its sparsity pattern may "
        f"differ from point to point, and a global pattern (valid at every point) cannot be "
        f"found by running it once. Pass local=True for the pattern at this point only, or "
        f"give the pattern yourself (sparsity=...)."
    )


class Tainted(np.ndarray):
    """An array whose values depend on the input of a global sparsity detection.

    >>> t = np.arange(3.0).view(Tainted)
    >>> type(np.argsort(t) + 1).__name__
    'Tainted'
    """

    # An active value among the operands (a Structure) takes the call, with the tainted
    # operands as they are, so that its rules see which came from the input's values.

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(registry.is_active(x) for x in (*inputs, *kwargs.get("out", ()))):
            return NotImplemented
        inputs = tuple(_plain(x) for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return taint(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if any(registry.is_active_type(kind) for kind in types):
            return NotImplemented
        if func in _SHAPE_FROM_VALUES or func is np.where and len(args) + len(kwargs) == 1:
            raise _shape_error(f"np.{func.__name__}")
        return taint(func(*_plain_tree(args), **_plain_tree(kwargs)))

    def __getitem__(self, key: Any) -> Any:
        if _has_tainted_mask(key):
            raise _shape_error("a boolean mask")
        return taint(super().__getitem__(untainted(key)))  # an element too: a 0-d array

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def nonzero(self) -> Any:
        """Refused: the number of nonzeros depends on the input's values."""
        raise _shape_error(".nonzero()")

    def __bool__(self) -> bool:
        raise _decision("a Python `if`, `while`, `and`/`or` or bool()")

    def __int__(self) -> int:
        raise _decision("int()")

    def __float__(self) -> float:
        raise _decision("float()")

    def __complex__(self) -> complex:
        raise _decision("complex()")

    def __index__(self) -> int:
        raise _decision("a Python index")

    def item(self, *args: Any) -> Any:
        """Refused: a Python number would hide that the value depends on the input."""
        raise _decision(".item()")

    def tolist(self) -> Any:
        """Refused: Python numbers would hide that the values depend on the input."""
        raise _decision(".tolist()")


def _through_function(name: str) -> Any:
    """The ndarray method ``name`` as NumPy's function of the same name, which dispatches
    to :class:`Tainted` (the method computes in C without NumPy's dispatch)."""
    function = getattr(np, name)

    def method(self: Tainted, *args: Any, **kwargs: Any) -> Any:
        return function(self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"Like ``ndarray.{name}``; the result is marked too."
    return method


for _name in ("argmax", "argmin", "argsort", "argpartition", "searchsorted", "dot", "round",
              "take", "repeat"):
    setattr(Tainted, _name, _through_function(_name))


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, Tainted) else x


def untainted(x: Any) -> Any:
    """``x`` with its tainted arrays (in tuples, lists and dicts too) as plain ones: the
    same values, without the mark."""
    if isinstance(x, Tainted):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(untainted(item) for item in x)
    if isinstance(x, dict):
        return {k: untainted(v) for k, v in x.items()}
    return x


_plain_tree = untainted


def taint(x: Any) -> Any:
    """``x`` with its arrays and NumPy scalars as :class:`Tainted` arrays (tuples and lists
    of them too)."""
    if isinstance(x, np.ndarray):
        return x if isinstance(x, Tainted) or x.dtype.hasobject else x.view(Tainted)
    if isinstance(x, np.generic):
        return np.asarray(x).view(Tainted)
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(taint(item) for item in x)
    if isinstance(x, tuple):  # NumPy's named results
        return type(x)(*(taint(item) for item in x))
    return x


def is_tainted(x: Any) -> bool:
    """True when ``x`` (or an item of a tuple or list ``x``: an index key) is tainted."""
    if isinstance(x, Tainted):
        return True
    if isinstance(x, (list, tuple)):
        return any(is_tainted(item) for item in x)
    return False


registry.register_value_subclass(Tainted)


def _has_tainted_mask(key: Any) -> bool:
    """``key`` holds a boolean array computed from the input's values."""
    items = key if isinstance(key, tuple) else (key,)
    return any(isinstance(k, Tainted) and k.dtype == bool and k.ndim > 0 for k in items)
