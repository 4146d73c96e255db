"""Sparse Jacobians and Hessians: one pass per colour, decompressed without a Python loop.

With a column colouring of the pattern (:mod:`dualad.sparsity.colouring`), forward mode
pushes one tangent per colour, the sum of that colour's unit directions: the result
``B = J S`` holds, at ``(i, colour(j))``, the entry ``J[i, j]`` of the one column of that
colour that row ``i`` meets. Reverse mode pulls one cotangent per row colour back instead
(``B = S^T J``). The function is recorded once per evaluation point and every colour goes
through that one recording, in passes of a few directions each: a group of directions
whose tangent arrays stay within ``GROUP_BYTES`` keeps every NumPy call of the pass in the
cache, where one pass of all the colours would stream them through memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import registry
from ..errors import InvalidArgumentError, ShapeMismatchError
from ..transforms._recording import Recording
from .colouring import (
    column_colours,
    hub_star_colours,
    row_colours,
    seeds,
    star_colours,
    star_decompress,
)
from .detect import _input, _scipy_sparse, hessian_sparsity, jacobian_sparsity

MODES = ("forward", "reverse")

GROUP_BYTES = 1 << 20
"""Directions are pushed (cotangents pulled) in groups of at most this many bytes per
tangent array of the function's size (and at least one direction per group)."""


class SparseJacobian:
    """The Jacobian of ``f`` as a ``scipy.sparse.csr_array``, prepared for many points:
    the pattern is found (or taken from ``sparsity``) and coloured once, and each call
    evaluates ``f`` once and pushes one direction per colour.

    Parameters
    ----------
    f : callable
        A function of one array returning one array.
    x : array_like
        A point: where the pattern is detected (its shape is the inputs' from then on).
    sparsity : scipy.sparse array or boolean array, optional
        The pattern, ``(f(x).size, x.size)``, instead of detecting it; it must hold every
        structural nonzero (a missing one is a wrong Jacobian).
    mode : {"forward", "reverse"}, optional
        Forward mode (a column colouring) or reverse (a row colouring); by default the one
        with fewer colours, forward at a tie.
    local : bool, optional
        Detect the pattern at ``x`` only (see :func:`dualad.jacobian_sparsity`): right at
        points where the function takes the same branches.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> def residual(u):
    ...     return u[:-2] - 2.0 * u[1:-1] + u[2:] + u[1:-1] ** 3
    >>> jacobian = dualad.SparseJacobian(residual, np.zeros(6))
    >>> jacobian.mode, jacobian.colours
    ('forward', 3)
    >>> jacobian(np.ones(6)).toarray()
    array([[1., 1., 1., 0., 0., 0.],
           [0., 1., 1., 1., 0., 0.],
           [0., 0., 1., 1., 1., 0.],
           [0., 0., 0., 1., 1., 1.]])
    """

    def __init__(self, f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                 mode: str | None = None, local: bool = False) -> None:
        sparse = _scipy_sparse("dualad.SparseJacobian")
        x = _input(x, "dualad.SparseJacobian")
        if mode is not None and mode not in MODES:
            raise InvalidArgumentError(f"dualad.SparseJacobian: mode is 'forward' or "
                                       f"'reverse' (or None: the cheaper), not {mode!r}")
        self.f = f
        self.shape_in = x.shape
        if sparsity is None:
            pattern = jacobian_sparsity(f, x, local=local)
        else:
            pattern = sparse.csr_array(sparsity, dtype=bool)
            if pattern.ndim != 2 or pattern.shape[1] != x.size:
                raise ShapeMismatchError(
                    f"dualad.SparseJacobian: sparsity has shape {pattern.shape}; the "
                    f"Jacobian's is (f(x).size, {x.size})")
        pattern.sort_indices()
        self.pattern = pattern
        """The pattern: a boolean ``scipy.sparse.csr_array``, ``(f(x).size, x.size)``."""
        by_column = column_colours(pattern) if mode != "reverse" else None
        by_row = row_colours(pattern) if mode != "forward" else None
        count = (lambda c: int(c.max()) + 1 if c.size else 0)
        if mode is None:
            mode = "forward" if count(by_column) <= count(by_row) else "reverse"
        self.mode = mode
        """``"forward"`` or ``"reverse"``: how each call evaluates the Jacobian."""
        self.colouring = by_column if mode == "forward" else by_row
        """The colour of each column (forward mode) or row (reverse mode)."""
        self.colours = count(self.colouring)
        """The number of colours: the directions (cotangents) each call pushes (pulls)."""
        m, n = pattern.shape
        k = self.colours
        counts = np.diff(pattern.indptr)
        # where each entry (in the pattern's order) is in the flat (k, length) result
        if mode == "forward":  # entry (i, j) is at (colour(j), i) of the pushed (k, m)
            colour = self.colouring[pattern.indices]
            self._flat = colour * m + np.repeat(np.arange(m, dtype=np.intp), counts)
        else:  # entry (i, j) is at (colour(i), j) of the pulled (k, n)
            colour = np.repeat(self.colouring, counts)
            self._flat = colour * n + pattern.indices
        self._colour = colour
        self._by_colour: tuple | None = None  # made for the first call of several passes
        # the seed of colour c is 1 at _members[_starts[c]:_starts[c + 1]]
        self._members = _by_colour(self.colouring, k)
        self._starts = np.r_[0, np.cumsum(np.bincount(self.colouring, minlength=k))]

    def _passes(self) -> tuple:
        """For evaluations in several passes: the entries sorted by colour (``order``), the
        colours ``[a, b)`` having the entries ``bounds[a]`` to ``bounds[b]`` of it, found
        at ``flat - a * length`` of that pass's result, and where each entry of the
        pattern's order is among them (``place``)."""
        if self._by_colour is None:
            order = _by_colour(self._colour, self.colours)
            bounds = np.r_[0, np.cumsum(np.bincount(self._colour, minlength=self.colours))]
            place = np.empty_like(order)
            place[order] = np.arange(order.size)
            self._by_colour = (bounds, self._flat[order], place)
        return self._by_colour

    def __call__(self, x: Any) -> Any:
        """The Jacobian at ``x``: a ``scipy.sparse.csr_array`` of the pattern's shape."""
        sparse = _scipy_sparse("dualad.SparseJacobian")
        p = self.pattern
        return sparse.csr_array((self.values(x), p.indices.copy(), p.indptr.copy()),
                                shape=p.shape)

    def values(self, x: Any) -> np.ndarray:
        """The Jacobian's entries at ``x`` in the order of the pattern's (``.pattern.indices``,
        row by row): the ``.data`` of ``self(x)``, for updating a matrix in place.

        >>> import numpy as np, dualad
        >>> jacobian = dualad.SparseJacobian(lambda x: x[1:] * x[:-1], np.ones(3))
        >>> jacobian.values(np.array([1.0, 2.0, 3.0]))
        array([2., 1., 3., 2.])
        """
        if not registry.is_array(x):  # (dualad.compile's traced arrays are kept)
            x = _input(x, "dualad.SparseJacobian")
        if x.shape != self.shape_in:
            raise ShapeMismatchError(f"dualad.SparseJacobian: prepared for inputs of shape "
                                     f"{self.shape_in}, called with {x.shape}")
        rec = Recording(self.f, (x,), (0,), False, False, "dualad.SparseJacobian")
        if len(rec.out_primals) != 1:
            raise InvalidArgumentError("dualad.SparseJacobian: f must return one array")
        out = rec.out_primals[0]
        p = self.pattern
        if np.size(out) != p.shape[0]:
            raise ShapeMismatchError(
                f"dualad.SparseJacobian: f(x) has {np.size(out)} elements, the pattern "
                f"{p.shape[0]} rows")
        dtype = np.result_type(x.dtype, np.result_type(out), np.float32)
        if self.mode == "forward":
            shape, length, step = x.shape, p.shape[0], rec.push
        else:
            shape, length, step = np.shape(out), x.size, rec.pull
        passes = groups(self.colours, max(p.shape) * dtype.itemsize)
        if len(passes) > 1:
            bounds, flat, place = self._passes()
        by_colour = []  # the entries in the order of their colours
        for start, stop in passes:
            directions = np.zeros((stop - start, self.colouring.size), dtype=dtype)
            chosen = self._members[self._starts[start]:self._starts[stop]]
            directions[self.colouring[chosen] - start, chosen] = 1
            result = step([directions.reshape((-1, *shape))], stop - start)[0]
            if len(passes) == 1:  # every entry from this one result
                return np.take(result, self._flat)
            first, last = bounds[start], bounds[stop]
            by_colour.append(np.take(result, flat[first:last] - start * length))
        if not by_colour:
            return np.zeros(0, dtype=dtype)
        return np.take(np.concatenate(by_colour), place)


def _by_colour(colours: np.ndarray, k: int) -> np.ndarray:
    """The positions of ``colours`` sorted by colour, stably (a radix sort for the narrow
    integers colours fit in).

    >>> _by_colour(np.array([1, 0, 1, 0]), 2)
    array([1, 3, 0, 2])
    """
    narrow = np.min_scalar_type(max(k - 1, 0))
    return np.argsort(colours.astype(narrow, copy=False), kind="stable")


def groups(k: int, bytes_per_direction: int) -> list[tuple[int, int]]:
    """The colours ``[start, stop)`` of each pass: as many as fit in ``GROUP_BYTES``.

    >>> groups(5, 400_000)
    [(0, 2), (2, 4), (4, 5)]
    """
    size = max(1, GROUP_BYTES // max(1, bytes_per_direction))
    return [(start, min(k, start + size)) for start in range(0, k, size)]


def sparse_jacobian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                    mode: str | None = None) -> Any:
    """The Jacobian of ``f`` at ``x`` as a ``scipy.sparse.csr_array``, from one pass per
    colour of its sparsity pattern (detected, or given as ``sparsity``). For many points,
    prepare a :class:`SparseJacobian` once.

    >>> import numpy as np, dualad
    >>> dualad.sparse_jacobian(lambda x: x[1:] * x[:-1], np.arange(1.0, 4.0)).toarray()
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """
    return SparseJacobian(f, x, sparsity=sparsity, mode=mode)(x)


STAR_MAX_N = 20_000
"""Up to this many unknowns, ``sparse_hessian`` colours the Hessian's pattern with the
greedy star colouring (one Python step per unknown); beyond, with the vectorised one of
hubs and columns (:func:`~dualad.sparsity.colouring.hub_star_colours`)."""


def sparse_hessian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None) -> Any:
    """The Hessian of a scalar ``f`` at ``x`` as a ``scipy.sparse.csr_array``: one forward
    pass over ``grad(f)`` (forward over reverse) with a direction per colour of a star
    colouring of the Hessian's pattern (:func:`dualad.hessian_sparsity`, or ``sparsity``),
    which uses the symmetry: each entry is read where its row, or its column, holds the only
    index of its colour. Beyond ``STAR_MAX_N`` unknowns the star colouring is the vectorised
    one of :func:`~dualad.sparsity.colouring.hub_star_colours`.

    >>> import numpy as np, dualad
    >>> energy = lambda x: np.sum((x[1:] - x[:-1]) ** 2) + np.sum(x ** 3)
    >>> dualad.sparse_hessian(energy, np.ones(3)).toarray()
    array([[ 8., -2.,  0.],
           [-2., 10., -2.],
           [ 0., -2.,  8.]])
    """
    from ..transforms.reverse import grad

    sparse = _scipy_sparse("dualad.sparse_hessian")
    x = _input(x, "dualad.sparse_hessian")
    pattern = hessian_sparsity(f, x) if sparsity is None else sparse.csr_array(sparsity,
                                                                             dtype=bool)
    if pattern.shape != (x.size, x.size):
        raise ShapeMismatchError(f"dualad.sparse_hessian: sparsity has shape {pattern.shape}; "
                                 f"the Hessian's is ({x.size}, {x.size})")
    pattern = sparse.csr_array(pattern + pattern.T, dtype=bool)  # (a pattern may be lopsided)
    colours = star_colours(pattern) if x.size <= STAR_MAX_N else hub_star_colours(pattern)
    k = int(colours.max()) + 1 if colours.size else 0
    if k == 0:
        return sparse.csr_array(pattern.shape, dtype=np.result_type(x.dtype, np.float32))
    rec = Recording(grad(f), (x,), (0,), False, False, "dualad.sparse_hessian")
    dtype = np.result_type(x.dtype, np.float32)
    compressed = np.concatenate([  # H S: (n, k)
        rec.push([seeds(colours, dtype, start, stop).reshape((-1, *x.shape))],
                 stop - start)[0].reshape(stop - start, -1)
        for start, stop in groups(k, x.size * dtype.itemsize)]).T
    return star_decompress(pattern, colours, compressed)
