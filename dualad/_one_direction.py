"""A user's rules see one direction at a time; dualad stacks the results.

The engines hand rules tangents with a leading axis of directions, ``(k,) + x.shape``, and
cotangents with a leading axis of rows, ``(k,) + out.shape``. A rule written the way JAX
writes them, ``lambda dx, x, *, out: A @ dx``, would read that axis as part of the data
(``A @ dx`` contracts it and returns the transposed Jacobian, silently). So a user's rule is
wrapped, once, when it is declared: the wrapper calls it once per direction (or row) with
arrays of the primal's (or output's) shape and stacks the results. dualad's own rules, and
a user's declared with ``batched=True``, handle the axis themselves and are not wrapped.

The loop is over directions, not elements: ``jvp`` and ``grad`` have one, ``jacfwd`` and
``jacrev`` one per input or output element.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Rule = Callable[..., Any]


def each_direction(rule: Rule) -> Rule:
    """``rule(dx, *xs, **params)`` of one direction as a rule of ``k`` directions.

    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> jvp = each_direction(lambda dx, x, *, out: A @ dx)
    >>> jvp(np.eye(2), np.zeros(2), out=None)   # rows are A's columns: A e_j
    array([[1., 3.],
           [2., 4.]])
    """

    def one_direction_at_a_time(dx: Any, *xs: Any, **params: Any) -> Any:
        k = dx.shape[0]
        return _trim(_stack([rule(_entry(dx, j), *xs, **params) for j in _indices(k)]), k)

    return _named(one_direction_at_a_time, rule)


def each_direction_all(rule: Rule) -> Rule:
    """``jvp_all(dxs, *xs, **params)`` of one direction (``None`` for a constant's tangent)
    as a rule of ``k`` directions; a rule with several results returns one tuple each."""

    def one_direction_at_a_time(dxs: Any, *xs: Any, **params: Any) -> Any:
        k = next(dx.shape[0] for dx in dxs if dx is not None)
        parts = [rule(tuple(None if dx is None else _entry(dx, j) for dx in dxs), *xs,
                      **params) for j in _indices(k)]
        return _trim(_stack_results(parts), k)

    return _named(one_direction_at_a_time, rule)


def each_row(rule: Rule, multiple_results: bool) -> Rule:
    """``rule(ct, *xs, **params)`` of one cotangent (a tuple of them for several results)
    as a rule of ``k`` rows.

    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> vjp = each_row(lambda ct, x, *, out: A.T @ ct, False)
    >>> vjp(np.eye(2), np.zeros(2), out=None)   # rows are A's rows: A^T e_i
    array([[1., 2.],
           [3., 4.]])
    """

    def one_row_at_a_time(ct: Any, *xs: Any, **params: Any) -> Any:
        k, rows = _rows(ct, multiple_results)
        return _trim(_stack([rule(ct_i, *xs, **params) for ct_i in rows]), k)

    return _named(one_row_at_a_time, rule)


def each_row_all(rule: Rule, multiple_results: bool) -> Rule:
    """``vjp_all(ct, *xs, **params)`` of one cotangent as a rule of ``k`` rows: one
    cotangent per argument, each stacked."""

    def one_row_at_a_time(ct: Any, *xs: Any, **params: Any) -> Any:
        k, rows = _rows(ct, multiple_results)
        return _trim(_stack_results([rule(ct_i, *xs, **params) for ct_i in rows]), k)

    return _named(one_row_at_a_time, rule)


def _indices(k: int) -> range:
    """The directions to call a rule for: one (on zeros, trimmed away) when ``k = 0``, so
    that the result still has the output's shape."""
    return range(max(k, 1))


def _entry(batch: Any, j: int) -> Any:
    """Direction ``j`` of ``batch``, or zeros of one direction's shape for an empty batch."""
    if batch.shape[0] == 0:
        return np.zeros(batch.shape[1:], dtype=batch.dtype)
    return batch[j]


def _trim(result: Any, k: int) -> Any:
    """``result`` of the directions called, cut to ``k`` (only ``k = 0`` differs)."""
    if k or result is None:
        return result
    if isinstance(result, tuple):
        return tuple(None if r is None else r[:0] for r in result)
    return result[:0]


def _rows(ct: Any, multiple_results: bool) -> tuple[int, list[Any]]:
    """``k`` and one cotangent per row (a tuple of them for several results)."""
    if not multiple_results:
        return ct.shape[0], [_entry(ct, i) for i in _indices(ct.shape[0])]
    k = next(c.shape[0] for c in ct if c is not None)
    return k, [tuple(None if c is None else _entry(c, i) for c in ct) for i in _indices(k)]


def _stack(parts: list[Any]) -> Any:
    """The results of one direction each, on a new leading axis; None if a rule returned
    None (the engines' checks then name the rule)."""
    if any(part is None for part in parts):
        return None
    if len(parts) == 1:
        part = parts[0]
        return part[None] if hasattr(part, "shape") else np.asarray(part)[None]
    return np.stack(parts)


def _stack_results(parts: list[Any]) -> Any:
    """Per direction a tuple of results (one per output or argument): a tuple of stacks.
    A position that is None in every direction stays None; where only some directions
    returned None (a rule that skips zero tangents), those are zeros."""
    if not isinstance(parts[0], (tuple, list)):
        return _stack(parts)
    if any(not isinstance(part, (tuple, list)) or len(part) != len(parts[0])
           for part in parts):
        return parts[0]  # a malformed result: the engines' checks describe it
    stacked = []
    for position in zip(*parts):
        present = [p for p in position if p is not None]
        if not present:
            stacked.append(None)
            continue
        zero = np.zeros(np.shape(present[0]))
        stacked.append(_stack([zero if p is None else p for p in position]))
    return tuple(stacked)


def _named(wrapper: Rule, rule: Rule) -> Rule:
    wrapper.__name__ = getattr(rule, "__name__", wrapper.__name__)
    wrapper.__qualname__ = getattr(rule, "__qualname__", wrapper.__qualname__)
    wrapper.__wrapped__ = rule  # type: ignore[attr-defined]
    return wrapper
