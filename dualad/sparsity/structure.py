"""The structural array: which inputs each element depends on.

A :class:`Structure` holds the values of an array (``primal``) and, for each of its elements
in C order, the set of input elements it depends on: ``deps``, a boolean
``scipy.sparse.csr_array`` of shape ``(size, n)`` whose row ``i`` is the sparsity pattern of
row ``i`` of the Jacobian. It is a third interpreter of the primitive registry, beside the
dual array and the tape: NumPy code runs on it unchanged, and each primitive maps its inputs'
sets to its outputs' with the structural rule of its family
(:mod:`dualad.sparsity.rules`), one sparse-matrix operation per primitive, never a Python
loop over elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import registry
from ..active import ActiveArray, link_if_view, stale_class
from ..errors import ValueDependentError
from ..registry import Composite, Primitive
from ..tree import tree_map
from .second_order import Interactions
from .tainted import ShapeFromValuesError, taint, untainted


class Structure(ActiveArray):
    """An array that carries, for each element, the set of inputs it depends on.

    Users meet one only inside a function given to :func:`dualad.jacobian_sparsity`, where
    it behaves like the array it holds.
    """

    __slots__ = ("primal", "deps", "tag", "local", "_views", "__weakref__")
    _contents = ("primal", "deps", "tag", "local")

    @classmethod
    def _make(cls, primal: Any, deps: Any, tag: int, local: bool) -> Structure:
        s = object.__new__(cls)
        s.primal = primal
        s.deps = deps
        s.tag = tag
        s.local = local
        s._views = None
        return s

    @staticmethod
    def _dualad_apply(prim: Primitive, xs: Any, params: dict[str, Any], tag: int) -> Any:
        """Apply ``prim`` at level ``tag``: values of other levels are constants here."""
        from .rules import structural_rule

        primals = []
        deps = []
        local = False
        for x in xs:
            if type(x) is Structure and x.tag == tag:
                primals.append(x.primal)
                deps.append(x.deps)
                local = x.local
            else:
                primals.append(x)
                deps.append(None)
        if local:
            out = prim.impl(*primals, **params)
        else:  # the primitive's own code may branch on values: its rule gives the structure
            out = taint(prim.impl(*map(untainted, primals),
                                  **{k: untainted(v) for k, v in params.items()}))
        out_deps = structural_rule(prim)(prim, primals, deps, out, params, local)
        interactions = INTERACTIONS.get(tag)
        if interactions is not None:
            interactions.add(prim, primals, deps, out, out_deps)
        if prim.multiple_results:
            results = [_wrap(o, d, tag, local) for o, d in zip(out, out_deps)]
            result: Any = type(out)(*results) if hasattr(out, "_fields") else tuple(results)
        else:
            result = _wrap(out, out_deps, tag, local)
        if not prim.elementwise:
            for part in (result if prim.multiple_results else (result,)):
                link_if_view(part, xs, tag)
        return result

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        entry = registry.NUMPY_TABLE.get(func)
        if self.local or not isinstance(entry, Composite):
            return super().__array_function__(func, types, args, kwargs)
        try:
            return super().__array_function__(func, types, args, kwargs)
        except ValueDependentError as error:
            if isinstance(error, ShapeFromValuesError) and entry.name in SHAPE_FROM_VALUES:
                raise
            # dualad's own code of the function decided on values (a check for a singular
            # matrix or for nan, a mask it writes back in place): every result depends on
            # every input the function was given
            return _depends_on_everything(func, args, kwargs)

    def __repr__(self) -> str:
        return f"Structure(shape={self.shape}, nonzeros={self.deps.nnz}, tag={self.tag})"


INTERACTIONS: dict[int, Interactions] = {}
"""The pairs of inputs found to interact by the :func:`dualad.hessian_sparsity` call
running at each level (tag)."""


SHAPE_FROM_VALUES = frozenset(("compress", "extract", "unique", "roots", "repeat",
                               "apply_along_axis"))
"""dualad's NumPy functions whose result's shape may depend on the values they are given
(or on what the function they call makes of them, for ``apply_along_axis``):
where their code computes a shape from values, there is no global pattern."""


def _depends_on_everything(func: Any, args: Any, kwargs: Any) -> Any:
    """``func``'s results computed on the values, each element depending on every input
    element of every structural argument."""
    from .rules import all_inputs, repeat_row

    found: list[Structure] = []
    plain_args = tree_map(lambda a: _values(a, found), args)
    plain_kwargs = tree_map(lambda a: _values(a, found), kwargs)
    out = func(*plain_args, **plain_kwargs)
    every = all_inputs([s.deps for s in found])
    tag, local = found[0].tag, found[0].local
    interactions = INTERACTIONS.get(tag)
    if interactions is not None:
        interactions.add_everything(every)

    def attach(o: Any) -> Any:
        value = np.asarray(o)
        if value.dtype.kind not in "fc":
            return taint(o)
        return Structure._make(taint(o), repeat_row(every, value.size), tag, local)

    if isinstance(out, tuple):
        parts = [attach(o) for o in out]
        return type(out)(*parts) if hasattr(out, "_fields") else tuple(parts)
    return attach(out)


def _values(a: Any, found: list) -> Any:
    if type(a) is Structure:
        found.append(a)
        return untainted(a.primal)
    return untainted(a) if isinstance(a, np.ndarray) else a


def _wrap(out: Any, deps: Any, tag: int, local: bool) -> Any:
    """One output: a Structure where it is a float or complex array with dependencies."""
    if deps is None:
        return out
    value = out if isinstance(out, np.ndarray) else np.asarray(out)
    if value.dtype.kind not in "fc":
        return out  # integers and booleans carry no derivative
    return Structure._make(out if hasattr(out, "shape") else value, deps, tag, local)


registry.register_active_type(Structure)
Structure._stale_class = stale_class(Structure)
