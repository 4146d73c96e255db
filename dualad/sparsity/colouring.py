"""Colourings of a sparsity pattern: which Jacobian columns (or rows) can share one pass.

Two columns that have no row in common are *structurally orthogonal*: their sum, pushed
through the function as one tangent direction, keeps each of their entries apart, since
every row holds at most one of them. A column colouring gives such columns one colour, so
that forward mode needs one direction per colour instead of one per column; a row colouring
does the same for reverse mode's cotangents. Banded patterns get the optimum,
``bandwidth + 1`` colours (the columns that meet one row of the band all differ); others a
greedy colouring computed a round at a time with array operations, never a Python loop over
the columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def column_colours(pattern: Any) -> np.ndarray:
    """A colour for each column of ``pattern`` (an ``m x n`` ``scipy.sparse`` array or a
    boolean array) such that columns that share a row differ.

    The *cyclic* colouring ``j mod (b + 1)``, where ``b`` is the largest distance between
    two columns that share a row, is kept where it is optimal (as many colours as the
    fullest row has columns: banded patterns); otherwise the one with fewer colours of it
    and a greedy colouring by rounds (Jones and Plassmann's): in each round, every
    uncoloured column that comes first among its uncoloured neighbours (by degree, then a
    fixed random order) takes the smallest colour none of its neighbours has.

    >>> import numpy as np
    >>> tridiagonal = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool) \\
    ...     | np.eye(6, k=-1, dtype=bool)
    >>> column_colours(tridiagonal)
    array([0, 1, 2, 0, 1, 2])
    """
    import scipy.sparse

    p = scipy.sparse.csr_array(pattern, dtype=bool)
    n = p.shape[1]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # two columns that share a row are at most the widest row's span apart
    p.sort_indices()
    filled = np.diff(p.indptr) > 0
    spans = p.indices[p.indptr[1:][filled] - 1] - p.indices[p.indptr[:-1][filled]]
    width = int(spans.max(initial=0))
    cyclic = np.arange(n, dtype=np.int64) % (width + 1)
    if width + 1 <= int(np.diff(p.indptr).max(initial=0)):
        return cyclic  # as few colours as the fullest row has columns: the optimum
    ones = p.astype(np.int32)
    conflicts = scipy.sparse.csr_array(ones.T @ ones)  # columns j, k that share a row
    conflicts.setdiag(0)
    conflicts.eliminate_zeros()
    rows = np.repeat(np.arange(n), np.diff(conflicts.indptr))
    greedy = _by_rounds(conflicts, rows)
    return cyclic if width + 1 <= greedy.max() + 1 else greedy


def _by_rounds(conflicts: Any, rows: np.ndarray) -> np.ndarray:
    """Jones and Plassmann's greedy colouring of the graph ``conflicts`` (CSR, no diagonal;
    ``rows[e]`` is the row of its ``e``-th stored entry), vectorised over each round; the
    edges of coloured columns leave the arrays as the rounds go."""
    n = conflicts.shape[0]
    degree = np.diff(conflicts.indptr)
    order = np.random.default_rng(0).permutation(n)
    priority = degree.astype(np.float64) * n + order  # larger first: degree, then random
    colours = np.full(n, -1, dtype=np.int64)
    uncoloured = np.ones(n, dtype=bool)
    edge_rows, edge_columns = rows, conflicts.indices
    while uncoloured.any():
        # a column goes this round if no uncoloured neighbour comes before it
        rival = uncoloured[edge_columns] & (priority[edge_columns] > priority[edge_rows])
        blocked = np.zeros(n, dtype=bool)
        blocked[edge_rows[rival]] = True
        chosen = uncoloured & ~blocked
        # the smallest colour that none of its (coloured) neighbours has
        edges = chosen[edge_rows] & ~uncoloured[edge_columns]
        taken_rows, taken_colours = edge_rows[edges], colours[edge_columns[edges]]
        picked = np.flatnonzero(chosen)
        index = np.full(n, -1, dtype=np.int64)
        index[picked] = np.arange(len(picked))
        limit = int(taken_colours.max()) + 2 if taken_colours.size else 1
        taken = np.zeros((len(picked), limit), dtype=bool)
        taken[index[taken_rows], taken_colours] = True
        colours[picked] = np.argmin(taken, axis=1)
        uncoloured[picked] = False
        alive = uncoloured[edge_rows]
        edge_rows, edge_columns = edge_rows[alive], edge_columns[alive]
    return colours


def row_colours(pattern: Any) -> np.ndarray:
    """A colour for each row of ``pattern`` such that rows that share a column differ
    (reverse mode's colouring: one cotangent per colour).

    >>> import numpy as np
    >>> arrow = np.eye(4, dtype=bool)
    >>> arrow[0] = True    # one row that meets every column
    >>> row_colours(arrow)
    array([0, 1, 1, 1])
    """
    import scipy.sparse

    return column_colours(scipy.sparse.csr_array(pattern, dtype=bool).T)


def star_colours(pattern: Any) -> np.ndarray:
    """A star colouring of the symmetric ``pattern`` (``n x n``): adjacent indices (``i != j``
    with ``pattern[i, j]``) differ, and every path on four indices takes at least three
    colours. Then each entry of a symmetric matrix with this pattern can be read from
    ``H S`` (one column per colour) at ``(i, colour(j))`` or at ``(j, colour(i))``: the
    Hessian of a function costs a pass per star colour, fewer than the columns' colouring
    needs where rows share many columns (an arrow: 2 against n).

    Greedy in the order of the indices (Gebremedhin, Manne and Pothen's algorithm 4.1), one
    Python step per index: meant for Hessians of up to some 10^4 unknowns.

    >>> import numpy as np
    >>> arrow = np.eye(5, dtype=bool)
    >>> arrow[0] = arrow[:, 0] = True
    >>> star_colours(arrow)
    array([0, 1, 1, 1, 1])
    """
    import scipy.sparse

    p = scipy.sparse.csr_array(pattern, dtype=bool)
    p = (p + p.T).tocsr()
    p.setdiag(False)
    p.eliminate_zeros()
    p.sort_indices()
    indptr, indices = p.indptr, p.indices
    n = p.shape[0]
    neighbours = [indices[indptr[i]:indptr[i + 1]].tolist() for i in range(n)]
    colours = [-1] * n
    forbidden = [-1] * (n + 1)
    # each index in turn; the others are handled first where they have more neighbours
    order = np.argsort(-np.diff(indptr), kind="stable")
    for v in order.tolist():
        for w in neighbours[v]:
            cw = colours[w]
            if cw >= 0:
                forbidden[cw] = v
            for x in neighbours[w]:
                cx = colours[x]
                if cx < 0 or x == v:
                    continue
                if cw < 0:
                    forbidden[cx] = v
                elif any(y != w and colours[y] == cw for y in neighbours[x]):
                    forbidden[cx] = v  # v-w-x-y would take two colours
        colour = 0
        while forbidden[colour] == v:
            colour += 1
        colours[v] = colour
    return np.array(colours, dtype=np.int64)


def hub_star_colours(pattern: Any) -> np.ndarray:
    """A star colouring of the symmetric ``pattern`` from array operations alone, for
    Hessians too large for :func:`star_colours`' Python loop: the indices with the most
    neighbours (*hubs*: a dense row and column, as in an arrow) each get a colour of their
    own, and the others the columns' colouring (:func:`column_colours`) of the pattern
    without the hubs. Paths on four indices that take two colours hold each twice, so no
    hub; without hubs, two indices of one colour have no neighbour in common. The number
    of hubs ``h`` is the one that makes ``h`` plus the largest degree left smallest.

    >>> import numpy as np
    >>> arrow = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool) | np.eye(6, k=-1, dtype=bool)
    >>> arrow[0] = arrow[:, 0] = True
    >>> hub_star_colours(arrow)
    array([3, 1, 2, 0, 1, 2])
    """
    import scipy.sparse

    p = scipy.sparse.csr_array(pattern, dtype=bool)
    p = scipy.sparse.csr_array(p + p.T + scipy.sparse.eye_array(p.shape[0], dtype=bool))
    n = p.shape[0]
    degree = np.diff(p.indptr)
    order = np.argsort(-degree, kind="stable")
    cost = np.arange(n + 1) + np.r_[degree[order], 0]  # h hubs: h + the largest degree left
    hubs = order[:int(np.argmin(cost))]
    kept = np.ones(n, dtype=bool)
    kept[hubs] = False
    keep = scipy.sparse.diags_array(kept.astype(np.int8), dtype=np.int8)
    rest = scipy.sparse.csr_array(keep @ p.astype(np.int8) @ keep, dtype=bool)
    colours = column_colours(rest)
    first = int(colours[kept].max()) + 1 if kept.any() else 0
    colours[hubs] = first + np.arange(len(hubs))
    return colours


def star_decompress(pattern: Any, colours: np.ndarray, compressed: np.ndarray) -> Any:
    """The symmetric matrix with ``pattern`` whose product with the seeds of the star
    colouring ``colours`` is ``compressed`` (``n x colours``), as a ``csr_array``: each
    entry ``(i, j)`` is ``compressed[i, colour(j)]`` where no other index that ``i`` meets
    has ``j``'s colour, else ``compressed[j, colour(i)]``."""
    import scipy.sparse

    p = scipy.sparse.csr_array(pattern, dtype=bool)
    p.sort_indices()
    n = p.shape[0]
    rows = np.repeat(np.arange(n), np.diff(p.indptr))
    columns = p.indices
    k = int(colours.max()) + 1 if colours.size else 0
    per_colour = scipy.sparse.csr_array(
        (np.ones(n, dtype=np.int64), (np.arange(n), colours)), shape=(n, k))
    counts = (p.astype(np.int64) @ per_colour).toarray() if k else np.zeros((n, 0))
    alone = counts[rows, colours[columns]] == 1
    values = np.where(alone, compressed[rows, colours[columns]],
                      compressed[columns, colours[rows]])
    return scipy.sparse.csr_array((values, p.indices.copy(), p.indptr.copy()), shape=p.shape)


def seeds(colours: np.ndarray, dtype: Any = float, start: int = 0,
          stop: int | None = None) -> np.ndarray:
    """The seed directions ``(stop - start, n)`` of the colours ``start`` to ``stop`` (all
    of them by default): row ``c`` is 1 at the columns of colour ``start + c``.

    >>> seeds(np.array([0, 1, 0]))
    array([[1., 0., 1.],
           [0., 1., 0.]])
    >>> seeds(np.array([0, 1, 2, 1]), start=1)
    array([[0., 1., 0., 1.],
           [0., 0., 1., 0.]])
    """
    if stop is None:
        stop = int(colours.max()) + 1 if colours.size else 0
    return (colours == np.arange(start, stop)[:, np.newaxis]).astype(dtype)
