"""Shape primitives: reshaping, transposing, joining and splitting arrays.

All of these are linear: the tangent goes through the same operation, with the leading
direction axis kept in front (axes shifted by one, shapes prefixed with ``k``).

One module per kind of operation: ``reshaping`` (reshape, transpose, broadcast_to, and moving
or adding axes), ``joining`` (concatenate, stack, split, tile, repeat), ``reordering`` (flip,
rot90, roll), ``padding`` (pad), ``diagonals`` (diagonal, trace, triu, tril, diag) and
``creation`` (copy, meshgrid, linspace, full_like).
"""

from . import (  # noqa: F401  - importing them registers their primitives
    creation,
    diagonals,
    joining,
    padding,
    reordering,
    reshaping,
)
from ._common import SHAPE

__all__ = ["SHAPE"]
