"""Hessian patterns: which pairs of inputs each primitive makes interact.

The Hessian of a composition is a sum over its primitives: the second derivatives of a
primitive's result ``out[e]``, with respect to the inputs ``deps[e]`` it depends on, weighted
by how the rest of the function uses it. So inputs ``i`` and ``j`` interact only where some
primitive's result element depends nonlinearly on both. While
:func:`dualad.hessian_sparsity` runs the function on structural arrays, every primitive adds
its pairs to an :class:`Interactions`, by kind:

- **linear** (sums, moves, ``where``, FFTs) and **piecewise linear** (``maximum``, ``abs`` of
  reals, ``max``): nothing, their second derivatives vanish wherever they exist;
- **bilinear** (``multiply``, ``matmul``, ``dot``): nothing when one factor is constant;
  else the pairs of inputs of the factors' elements that are multiplied together
  (``a[i, k]`` and ``b[k, j]`` in ``a @ b``), or of each result element for the other
  products (``einsum``, ``tensordot``);
- **linear in the first argument** (``divide``): nothing for ``x / c``;
- **anything else**: every pair of the inputs of each result element.

No reverse pass runs, so a rule that decides on values cannot stop it, and a dualad function
that decides on values (``np.median``) falls back to every pair of its inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..registry import Primitive
from .rules import broadcast_rows

LINEAR = frozenset((
    # affine
    "add", "subtract", "negative", "positive", "conjugate", "real", "imag", "astype",
    "deg2rad", "degrees", "rad2deg", "radians", "ldexp", "sum", "cumsum", "bincount",
    "fft", "ifft", "rfft", "irfft", "full_like", "zeros_like", "ones_like", "empty_like",
    "where", "reshape", "transpose", "broadcast_to", "diagonal", "concatenate", "stack",
    "pad", "getitem", "setitem", "take", "take_along_axis",
    # piecewise linear: no second derivative wherever one exists
    "maximum", "minimum", "fmax", "fmin", "max", "min", "fabs", "copysign", "fmod",
    "remainder", "modf", "frexp", "nan_to_num",
))
"""Primitives whose second derivatives vanish (wherever they exist)."""

BILINEAR = frozenset(("multiply", "matmul", "dot", "inner", "tensordot", "einsum"))
"""Primitives linear in each argument: linear when one argument is constant."""

LINEAR_IN_FIRST = frozenset(("divide",))
"""Primitives linear in their first argument: linear when the others are constant."""


class Interactions:
    """The pairs of inputs found to interact so far: a Hessian pattern being gathered.

    Each result element that depends nonlinearly on its inputs adds a row (its inputs) to
    ``rows``; a product ``a * b`` adds its aligned factors' rows to ``left`` and ``right``.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: list[Any] = []
        self.left: list[Any] = []
        self.right: list[Any] = []

    def add(self, prim: Primitive, primals: list, deps: list, out: Any, out_deps: Any) -> None:
        """The pairs ``prim`` makes interact, from its arguments' and results'
        dependencies (``deps``, ``out_deps``)."""
        given = [i for i, d in enumerate(deps) if d is not None]
        if not given:
            return
        name = prim.name if prim.builtin else None
        if name in LINEAR or (name in BILINEAR and len(given) == 1) \
                or (name in LINEAR_IN_FIRST and given == [0]):
            return
        if name == "absolute" and not any(np.iscomplexobj(x) for x in primals):
            return  # |x| of reals is piecewise linear
        if name == "multiply":  # both factors depend on the input: their pairs only
            shape = np.shape(out)
            a, b = (broadcast_rows(x, d, shape) for x, d in zip(primals, deps))
            self.left.append(a)
            self.right.append(b)
            return
        if name in _CONTRACTIONS and len(primals) == 2:
            # the inputs of the factors' elements multiplied together: those of a group
            # (a contraction index) of a's with those of the same group of b's
            (a, b), (da, db) = primals, deps
            a_groups, b_groups, count = _CONTRACTIONS[name](np.shape(a), np.shape(b))
            self.left.append(_grouped(a_groups, count, da))
            self.right.append(_grouped(b_groups, count, db))
            return
        results = out_deps if prim.multiple_results else (out_deps,)
        self.rows.extend(d for d in results if d is not None)

    def add_everything(self, row: Any) -> None:
        """Every pair of the inputs in the one-row pattern ``row`` interacts."""
        self.rows.append(row)

    def pattern(self) -> Any:
        """The symmetric ``(n, n)`` boolean ``csr_array`` of the pairs found."""
        import scipy.sparse as sparse

        total = sparse.csr_array((self.n, self.n), dtype=np.int64)
        if self.rows:
            rows = distinct_rows(sparse.vstack(self.rows, format="csr"))
            total = total + rows.T @ rows
        if self.left:
            left = sparse.vstack(self.left, format="csr").astype(np.int64)
            right = sparse.vstack(self.right, format="csr").astype(np.int64)
            cross = left.T @ right
            total = total + cross + cross.T
        return sparse.csr_array(total, dtype=bool)


def _grouped(groups: np.ndarray, count: int, deps: Any) -> Any:
    """One row per group: the inputs of the elements in it (``groups[e]`` is element
    ``e``'s group; a broadcast element may be in several, so ``groups`` is ``(2, k)``:
    group, element)."""
    import scipy.sparse as sparse

    group, element = groups
    gather = sparse.csr_array((np.ones(group.size, dtype=np.int64), (group, element)),
                              shape=(count, deps.shape[0]))
    return gather @ deps.astype(np.int64)


def _matmul_groups(a: tuple[int, ...], b: tuple[int, ...]) -> tuple:
    """``a @ b``: ``a[..., i, k]`` meets ``b[..., k, j]`` (broadcast batches alike)."""
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    k = a2[-1]
    base = np.arange(math.prod(batch)).reshape(*batch, 1, 1) * k
    a_ids = np.broadcast_to(np.arange(math.prod(a2)).reshape(a2), (*batch, *a2[-2:]))
    b_ids = np.broadcast_to(np.arange(math.prod(b2)).reshape(b2), (*batch, *b2[-2:]))
    a_group = np.broadcast_to(base + np.arange(k), a_ids.shape)
    b_group = np.broadcast_to(base + np.arange(k)[:, np.newaxis], b_ids.shape)
    return (np.stack([a_group.ravel(), a_ids.ravel()]),
            np.stack([b_group.ravel(), b_ids.ravel()]), math.prod(batch) * k)


def _along(shape: tuple[int, ...], axis: int | None) -> np.ndarray:
    """Each element's group: its index along ``axis`` (all in one, for None)."""
    ids = np.arange(math.prod(shape))
    index = np.zeros_like(ids) if axis is None else np.indices(shape)[axis].ravel()
    return np.stack([index, ids])


def _dot_groups(a: tuple[int, ...], b: tuple[int, ...]) -> tuple:
    """``np.dot(a, b)``: ``a[..., k]`` meets ``b[..., k, :]`` (everything, for a 0-d)."""
    if not a or not b:
        return _along(a, None), _along(b, None), 1
    return _along(a, -1), _along(b, -2 if len(b) > 1 else 0), a[-1]


def _inner_groups(a: tuple[int, ...], b: tuple[int, ...]) -> tuple:
    """``np.inner(a, b)``: ``a[..., k]`` meets ``b[..., k]`` (everything, for a 0-d)."""
    if not a or not b:
        return _along(a, None), _along(b, None), 1
    return _along(a, -1), _along(b, -1), a[-1]


_CONTRACTIONS = {"matmul": _matmul_groups, "dot": _dot_groups, "inner": _inner_groups}
"""Products whose pairs of factor elements follow from the shapes: each returns the groups
of ``a``'s and of ``b``'s elements (``(2, k)``: group, element) and the number of groups."""


def distinct_rows(rows: Any) -> Any:
    """The distinct nonempty rows of a boolean ``csr_array`` as an ``int64`` one: many
    results share their inputs (every element of an FFT depends on all of them), and the
    product of a row with itself costs the square of its length.

    >>> import scipy.sparse as sparse
    >>> d = sparse.csr_array(np.array([[1, 1, 0], [0, 0, 0], [1, 1, 0], [0, 1, 1]], bool))
    >>> distinct_rows(d).toarray()
    array([[1, 1, 0],
           [0, 1, 1]])
    """
    import scipy.sparse as sparse

    rows = sparse.csr_array(rows, dtype=np.int64)
    rows.sum_duplicates()
    rows.data[:] = 1
    counts = np.diff(rows.indptr)
    rows = rows[np.flatnonzero(counts)]
    if rows.shape[0] <= 1:
        return rows
    # candidates by a random weighted sum; each row is then compared with its candidate,
    # so a collision keeps both rows instead of losing one
    weights = np.random.default_rng(0).uniform(1.0, 2.0, rows.shape[1])
    key = rows @ weights
    order = np.lexsort((key, np.diff(rows.indptr)))
    sorted_key = key[order]
    sorted_count = np.diff(rows.indptr)[order]
    starts = np.r_[True, (sorted_key[1:] != sorted_key[:-1])
                   | (sorted_count[1:] != sorted_count[:-1])]
    first = order[starts]
    candidate = np.empty_like(order)
    candidate[order] = first[np.cumsum(starts) - 1]
    difference = rows - rows[candidate]
    difference.eliminate_zeros()
    differs = np.diff(difference.indptr) > 0
    keep = np.union1d(first, np.flatnonzero(differs))
    return rows[keep]
