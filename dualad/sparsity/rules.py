"""Structural rules: which inputs each element of a primitive's result depends on.

A rule maps the dependency sets of a primitive's arguments (boolean sparse matrices, one row
per element, see :mod:`dualad.sparsity.structure`) to those of its result. Each primitive
takes the rule of its *family*, so that a new primitive is covered by its declaration alone:

- **elementwise** (ufuncs, ``nan_to_num``, ``real``): an element depends on the same
  element of each argument, after broadcasting;
- **moves elements** (reshapes, transposes, indexing, joining, padding, ``where``): each
  element is some element of an argument, found by running the primitive itself on the
  arguments' element numbers;
- **reduces** (sums, products, extrema, cumulative sums, ``bincount``): an element depends
  on the elements reduced into it;
- **products** (``matmul``, ``np.dot`` of matrices): an element depends on the row and the
  column it contracts, where the other factor is not a structural zero;
- **mixes everything** (linear algebra, FFTs, a user's primitives): every element depends
  on every input element of every argument, the rule that never misses a dependency.

A *global* pattern (the default) holds at every point: ``where``, ``maximum`` and the
extrema keep the dependencies of every branch, and an index computed from the input's
values moves any element anywhere. A *local* pattern (``local=True``) follows the branch
taken at this point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import Primitive
from .tainted import ShapeFromValuesError, is_tainted

Rule = Callable[[Primitive, list, list, Any, dict, bool], Any]


def _sparse() -> Any:
    import scipy.sparse

    return scipy.sparse


def empty(rows: int, n: int) -> Any:
    """No dependencies for ``rows`` elements."""
    return _sparse().csr_array((rows, n), dtype=bool)


def _n(deps: list) -> int:
    return next(d.shape[1] for d in deps if d is not None)


def _union(parts: list) -> Any:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total if total.dtype == bool else total.astype(bool)


def _rows(d: Any, index: np.ndarray) -> Any:
    """The rows ``index`` (a flat integer array) of ``d``: a slice where they are
    consecutive (a basic index, a reshape), which costs no gather."""
    if index.size and index[-1] - index[0] == index.size - 1 \
            and (index.size == 1 or np.all(np.diff(index) == 1)):
        start = int(index[0])
        if start == 0 and index.size == d.shape[0]:
            return d
        return d[start:start + index.size]
    return d[index]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x))


def _size(x: Any) -> int:
    return math.prod(_shape(x))


# --------------------------------------------------------------------------- families


def elementwise(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
                local: bool) -> Any:
    """An element depends on the same element of each argument, after broadcasting."""
    shape = _shape(out[0] if prim.multiple_results else out)
    total = _union([broadcast_rows(x, d, shape) for x, d in zip(primals, deps)
                    if d is not None])
    return (total,) * len(out) if prim.multiple_results else total


def broadcast_rows(x: Any, deps: Any, shape: tuple[int, ...]) -> Any:
    """The dependencies of ``x`` broadcast to ``shape``: one row per element of the result.

    >>> import scipy.sparse as sparse
    >>> broadcast_rows(np.ones(2), sparse.eye_array(2, format="csr"), (2, 2)).toarray()
    array([[1., 0.],
           [0., 1.],
           [1., 0.],
           [0., 1.]])
    """
    ids = np.broadcast_to(np.arange(_size(x)).reshape(_shape(x)), shape).ravel()
    return _rows(deps, ids)


def everything(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
               local: bool) -> Any:
    """Every element of every result depends on every input element of every argument."""
    every = all_inputs([d for d in deps if d is not None])
    if prim.multiple_results:
        return tuple(repeat_row(every, _size(o)) for o in out)
    return repeat_row(every, _size(out))


def all_inputs(deps: list) -> Any:
    """One row: the inputs any element of any of ``deps`` depends on."""
    columns = np.unique(np.concatenate([d.indices for d in deps]))
    return _sparse().csr_array(
        (np.ones(len(columns), dtype=bool), columns, np.array([0, len(columns)])),
        shape=(1, deps[0].shape[1]))


def repeat_row(row: Any, rows: int) -> Any:
    """``rows`` copies of the one-row pattern ``row``."""
    if not rows:
        return empty(0, row.shape[1])
    return _sparse().csr_array(row[np.zeros(rows, dtype=np.intp)])


def moves(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
          local: bool) -> Any:
    """Each element is one element of an argument (or a constant): the primitive run on the
    arguments' element numbers (1, 2, ...; 0 for constants) says which."""
    if not local and any(is_tainted(v) for v in params.values()):
        return _moved_by_values(prim, primals, deps, out, params, local)
    if prim.name == "pad" and (params["mode"] not in _PAD_MOVES
                               or params["options"].get("reflect_type") == "odd"):
        return everything(prim, primals, deps, out, params, local)  # mean, 2 * edge - x, ...
    numbers = []
    offset = 1
    for x, d in zip(primals, deps):
        if d is None:
            numbers.append(np.zeros(_shape(x), dtype=np.int64))
        else:
            numbers.append(np.arange(offset, offset + _size(x), dtype=np.int64)
                           .reshape(_shape(x)))
            offset += _size(x)
    moved = np.asarray(prim.impl(*numbers, **_numbering_params(prim, params)))
    source = np.asarray(moved, dtype=np.int64).ravel()
    given = [d for d in deps if d is not None]
    if len(given) == 1 and (source.size == 0 or source.min() >= 1):
        return _sparse().csr_array(_rows(given[0], source - 1))  # one argument, no constant
    stacked = _sparse().vstack([empty(1, _n(deps)), *given], format="csr")
    return _sparse().csr_array(_rows(stacked, source))


_PAD_MOVES = frozenset(("constant", "edge", "reflect", "symmetric", "wrap", "empty"))
"""``np.pad`` modes that copy elements (the others compute the padding from them)."""


def _numbering_params(prim: Primitive, params: dict) -> dict:
    """The parameters with which the primitive moves element numbers as it moves values:
    padding adds constants (number 0), and a result dtype of float would still hold them."""
    if prim.name == "pad":
        if params["mode"] != "constant":
            return params  # edge, reflect, symmetric, wrap: copies of elements
        options = dict(params["options"])
        options.pop("constant_values", None)
        return {**params, "options": options}
    if "dtype" in params and params["dtype"] is not None:
        return {**params, "dtype": None}
    return params


def _moved_by_values(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
                     local: bool) -> Any:
    """A move whose index (or condition) was computed from the input's values: for a
    global pattern, any element may land anywhere; a shape taken from values has no global
    pattern at all."""
    if prim.name == "setitem":  # x[positions] = v: each element is its own or any of v
        (x, v), (dx, dv) = primals, deps
        own = dx if dx is not None else empty(_size(x), _n(deps))
        if dv is None:
            return own
        anywhere = everything(prim, [v], [dv], x, params, local)
        return _union([own, anywhere])
    key = params.get("key")
    if key is not None and _has_mask(key):
        raise ShapeFromValuesError(
            "dualad.jacobian_sparsity: a boolean mask computed from the input's values "
            "indexes an array: the result's shape depends on the values, so the function "
            "has no global sparsity pattern. Pass local=True for the pattern at this point, "
            "or write np.where(mask, x, 0) to keep the shape."
        )
    return everything(prim, primals, deps, out, params, local)


def _has_mask(key: Any) -> bool:
    items = key if isinstance(key, tuple) else (key,)
    return any(is_tainted(k) and np.asarray(k).dtype == bool for k in items)


def where(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
          local: bool) -> Any:
    """``np.where(cond, x, y)``: at one point, the branch ``cond`` picks; globally, both."""
    if local:
        return moves(prim, primals, deps, out, params, local)
    return elementwise(prim, primals, deps, out, params, local)


def extremum_of_two(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
                    local: bool) -> Any:
    """``np.maximum``/``np.minimum``: at one point, the larger (smaller) argument, both
    at a tie; globally, both."""
    if not local:
        return elementwise(prim, primals, deps, out, params, local)
    shape = _shape(out)
    parts = []
    for x, d in zip(primals, deps):
        if d is None:
            continue
        attains = np.broadcast_to(np.asarray(x) == np.asarray(out), shape).ravel()
        ids = np.broadcast_to(np.arange(_size(x)).reshape(_shape(x)), shape).ravel()
        parts.append(_rows(d, ids).multiply(attains[:, None]).tocsr())
    return _union(parts)


def nothing(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
            local: bool) -> Any:
    """``np.zeros_like(x)`` and its kind: the result depends on no input."""
    return empty(_size(out), _n(deps))


def full_like(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
              local: bool) -> Any:
    """``np.full_like(x, v)``: the result depends on ``v`` alone."""
    if deps[1] is None:
        return empty(_size(out), _n(deps))
    return elementwise(prim, [primals[1]], [deps[1]], out, params, local)


def reduction(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
              local: bool) -> Any:
    """``np.sum``, ``np.prod``, ``np.max``, ``np.min``: an element depends on the elements
    reduced into it (for ``max``/``min`` at one point, on those that attain it)."""
    (x,), (d,) = primals, deps
    shape = _shape(x)
    axes = _axes(params.get("axis"), len(shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    group = np.broadcast_to(np.arange(math.prod(kept)).reshape(kept), shape).ravel()
    rows = np.arange(len(group))
    if local and prim.name in ("max", "min"):
        attains = (np.asarray(x) == np.broadcast_to(np.reshape(np.asarray(out), kept),
                                                    shape)).ravel()
        group, rows = group[attains], rows[attains]
    gather = _sparse().csr_array((np.ones(len(group), dtype=bool), (group, rows)),
                                 shape=(math.prod(kept), _size(x)))
    return (gather.astype(np.int64) @ d.astype(np.int64)).astype(bool)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes) if ndim else ()


def cumulative(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
               local: bool) -> Any:
    """``np.cumsum``, ``np.cumprod``: an element depends on those before it on its line."""
    (x,), (d,) = primals, deps
    axis = params.get("axis")
    if axis is None:
        x, shape, axis = np.ravel(np.asarray(x)), (_size(x),), 0
    else:
        shape = _shape(x)
        axis %= len(shape)
    numbers = np.moveaxis(np.arange(_size(x)).reshape(shape), axis, -1)
    length = shape[axis]
    lines = numbers.reshape(-1, length)
    later, earlier = np.tril_indices(length)
    targets = lines[:, later].ravel()
    sources = lines[:, earlier].ravel()
    gather = _sparse().csr_array((np.ones(len(targets), dtype=bool), (targets, sources)),
                                 shape=(_size(x), _size(x)))
    return (gather.astype(np.int64) @ d.astype(np.int64)).astype(bool)


def bincount(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
             local: bool) -> Any:
    """``np.bincount(x, weights)``: a bin depends on the weights of the entries counted in
    it (any bin, for a global pattern of indices computed from the values)."""
    (w,), (d,) = primals, deps
    bins = np.asarray(params["x"])
    if not local and is_tainted(params["x"]):
        return everything(prim, primals, deps, out, params, local)
    gather = _sparse().csr_array(
        (np.ones(bins.size, dtype=bool), (bins.ravel(), np.arange(bins.size))),
        shape=(_size(out), _size(w)))
    return (gather.astype(np.int64) @ d.astype(np.int64)).astype(bool)


def matmul(prim: Primitive, primals: list, deps: list, out: Any, params: dict,
           local: bool) -> Any:
    """``a @ b`` (or ``np.dot(a, b)``) of matrices and vectors: ``out[i, j]`` depends on
    ``a[i, k]`` where ``b[k, j]`` is not a structural zero, and on ``b[k, j]`` where
    ``a[i, k]`` is not."""
    a, b = primals
    if not (1 <= np.ndim(a) <= 2 and 1 <= np.ndim(b) <= 2):
        return everything(prim, primals, deps, out, params, local)
    a2, b2 = (_nonzero(v, d, local) for v, d in zip(primals, deps))
    a2 = a2.reshape(1, -1) if np.ndim(a) == 1 else a2
    b2 = b2.reshape(-1, 1) if np.ndim(b) == 1 else b2
    m, k = a2.shape
    n = b2.shape[1]
    sparse = _sparse()
    parts = []
    for other_nonzero, d, side in ((b2, deps[0], "a"), (a2, deps[1], "b")):
        if d is None:
            continue
        if side == "a":  # out[i, j] from a[i, l] where b[l, j] != 0: kron(I_m, B^T)
            gather = sparse.kron(sparse.eye_array(m, dtype=np.int64),
                                 sparse.csr_array(other_nonzero.T.astype(np.int64)))
        else:  # out[i, j] from b[l, j] where a[i, l] != 0: kron(A, I_n)
            gather = sparse.kron(sparse.csr_array(other_nonzero.astype(np.int64)),
                                 sparse.eye_array(n, dtype=np.int64))
        parts.append(sparse.csr_array(gather) @ d.astype(np.int64))
    return sparse.csr_array(_union(parts))


def _nonzero(value: Any, deps: Any, local: bool) -> np.ndarray:
    """Where a factor is not a structural zero. For a global pattern only a constant's
    zeros are (a factor computed from the input, with or without a derivative, may be
    anything elsewhere); at one point, the factor's zeros there, except where it depends
    on the input."""
    if not local and (deps is not None or is_tainted(value)):
        return np.ones(np.shape(value), dtype=bool)
    nonzero = np.asarray(value) != 0
    if deps is not None:
        nonzero = nonzero | (np.diff(deps.indptr) > 0).reshape(nonzero.shape)
    return nonzero


# --------------------------------------------------------------------------- by primitive

_BY_NAME: dict[str, Rule] = {
    "where": where, "maximum": extremum_of_two, "minimum": extremum_of_two,
    "fmax": extremum_of_two, "fmin": extremum_of_two,
    "zeros_like": nothing, "ones_like": nothing, "empty_like": nothing,
    "full_like": full_like,
    "sum": reduction, "prod": reduction, "max": reduction, "min": reduction,
    "cumsum": cumulative, "cumprod": cumulative, "bincount": bincount,
    "matmul": matmul, "dot": matmul,  # (np.dot is a @ b for vectors and matrices)
    "nan_to_num": elementwise, "real": elementwise, "imag": elementwise,
    "angle": elementwise, "i0": elementwise,
}

_MOVES = frozenset(("reshape", "transpose", "broadcast_to", "diagonal", "concatenate",
                    "stack", "pad", "getitem", "setitem", "take", "take_along_axis"))
"""Primitives that only move elements (or put constants beside them)."""


def structural_rule(prim: Primitive) -> Rule:
    """The structural rule of ``prim``: by name where it has one of its own, else by its
    family (see the module's description)."""
    if prim.builtin:
        rule = _BY_NAME.get(prim.name)
        if rule is not None:
            return rule
        if prim.name in _MOVES:
            return moves
        if prim.elementwise:
            return elementwise
    return everything
