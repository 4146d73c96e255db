"""Axes: helpers for tangents and cotangents that carry a leading axis of directions.

A tangent of ``x`` has shape ``(k,) + x.shape``: axis ``a`` of ``x`` is axis ``a + 1`` of its
tangent. Every rule that takes an ``axis`` goes through :func:`batch_axis`, so that a
negative or ``None`` axis never lands on the direction axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import registry, storage


def normalize_axis(axis: int, ndim: int) -> int:
    """``axis`` as a non-negative int, with NumPy's error when it is out of range.

    >>> normalize_axis(-1, 3)
    2
    """
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def batch_axis(axis: Any, ndim: int) -> Any:
    """The tangent's axis (or tuple of axes) for the primal's ``axis``; ``None`` -> all.

    >>> batch_axis(None, 2), batch_axis(-1, 2), batch_axis((0, -1), 3)
    ((1, 2), 2, (1, 3))
    """
    if axis is None:
        return tuple(range(1, ndim + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(normalize_axis(a, ndim) + 1 for a in axis)
    return normalize_axis(int(axis), ndim) + 1


def reduced_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """The primal axes a reduction over ``axis`` removes, sorted and non-negative."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(normalize_axis(a, ndim) for a in axis))
    return (normalize_axis(int(axis), ndim),)


def expand_reduced(y: Any, axis: Any, ndim: int, keepdims: bool, batched: bool = True) -> Any:
    """Reinsert the axes a reduction removed (size 1), so ``y`` broadcasts against its input.

    ``ndim`` is the primal input's rank; with ``batched`` the leading direction axis of ``y``
    is kept in front.
    """
    if keepdims:
        return y
    offset = 1 if batched else 0
    shape = list(np.shape(y))
    for a in reduced_axes(axis, ndim):
        shape.insert(a + offset, 1)
    return np.reshape(y, tuple(shape))


def pad_tangent(dx: Any, ndim: int) -> Any:
    """Give ``dx`` (shape ``(k,) + s``) rank ``ndim + 1`` by inserting size-1 axes after k.

    This keeps broadcasting from aligning the direction axis with a primal axis when an
    operand of lower rank meets a larger one (``x (3, 4) + b (4,)``).

    >>> pad_tangent(np.zeros((5, 4)), 2).shape
    (5, 1, 4)
    """
    missing = ndim + 1 - dx.ndim
    if missing <= 0:
        return dx
    shape = dx.shape
    return dx.reshape(shape[:1] + (1,) * missing + shape[1:])


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, an active array or a number.

    >>> shape_of(np.ones((2, 3))), shape_of(2.0)
    ((2, 3), ())
    """
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def float_dtype(x: Any) -> np.dtype:
    """The dtype derivatives of ``x`` take: its own when it is a float or complex dtype, else
    float64.

    >>> float_dtype(np.ones(2, np.float32)), float_dtype(3)
    (dtype('float32'), dtype('float64'))
    """
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None and np.dtype(dtype).kind in "fc" \
        else np.dtype(np.float64)


def weighted_bincount(bins: Any, weights: Any, minlength: int) -> Any:
    """``np.bincount(bins, weights, minlength=minlength)`` for complex weights too (NumPy's
    takes real ones): the real and imaginary parts counted apart. Rules scatter-add with it.

    >>> weighted_bincount(np.array([0, 0, 1]), np.array([1j, 2.0, 3.0]), 2)
    array([2.+1.j, 3.+0.j])
    """
    bins = storage.as_library_of(bins, weights)  # (Dask's bincount takes its own arrays)
    if getattr(weights, "dtype", np.dtype(float)).kind == "c":
        return (np.bincount(bins, np.real(weights), minlength=minlength)
                + 1j * np.bincount(bins, np.imag(weights), minlength=minlength))
    return np.bincount(bins, weights, minlength=minlength)


def zeros(x: Any, k: int) -> np.ndarray:
    """``k`` zero (co)tangents of ``x``: shape ``(k,) + x.shape``, dtype ``float_dtype(x)``.
    The one zero-maker of the engines and transforms.

    >>> zeros(np.ones(3, np.float32), 2).dtype, zeros(1, 2).shape
    (dtype('float32'), (2,))
    """
    external = registry.external_value((x,))
    if external is not None:  # a Dask array's zeros are a Dask array
        return np.zeros((k, *shape_of(x)), dtype=float_dtype(x), like=external)
    return np.zeros((k, *shape_of(x)), dtype=float_dtype(x))


def fill_zeros(dxs: Any, xs: Any) -> tuple:
    """``dxs`` with each ``None`` (the tangent of a constant) replaced by zeros.

    >>> [t.shape for t in fill_zeros((None, np.ones((2, 3))), (np.ones(4), np.ones(3)))]
    [(2, 4), (2, 3)]
    """
    k = next(dx.shape[0] for dx in dxs if dx is not None)
    return tuple(zeros(x, k) if dx is None else dx for x, dx in zip(xs, dxs))


def sum_to_shape(ct: Any, shape: tuple[int, ...]) -> Any:
    """A batch of cotangents ``(k,) + s``, with ``s`` broadcast from ``shape``, summed back to
    ``(k,) + shape``: the axes broadcasting added in front are summed away, those it stretched
    from size 1 summed with ``keepdims``. The one place broadcasting is undone; written with
    NumPy calls, so it is differentiable itself.

    >>> sum_to_shape(np.ones((2, 3, 4)), (4,))
    array([[3., 3., 3., 3.],
           [3., 3., 3., 3.]])
    >>> sum_to_shape(np.ones((1, 3, 4)), (3, 1)).shape
    (1, 3, 1)
    """
    ct_shape = shape_of(ct)
    extra = len(ct_shape) - 1 - len(shape)
    if extra > 0:  # broadcasting prepended axes: sum them (they sit behind the batch axis)
        ct = np.sum(ct, axis=tuple(range(1, 1 + extra)))
        ct_shape = shape_of(ct)
    if len(ct_shape) == len(shape) + 1:
        stretched = tuple(axis + 1 for axis, n in enumerate(shape)
                          if n == 1 and ct_shape[axis + 1] != 1)
        if stretched:
            ct = np.sum(ct, axis=stretched, keepdims=True)
    return ct


def fit_cotangent(ct: Any, shape: tuple[int, ...], k: int) -> Any:
    """``ct`` (a VJP rule's result) as a batch of ``k`` cotangents of an operand of
    ``shape``: :func:`sum_to_shape`, and a result smaller than the operand (a rule that
    returns a scalar zero, say) broadcast up.

    >>> fit_cotangent(np.ones((2, 3, 4)), (4,), 2).shape
    (2, 4)
    >>> fit_cotangent(0.0, (3,), 1)
    array([[0., 0., 0.]])
    """
    if getattr(ct, "shape", None) is None:  # a Python number from a rule
        ct = np.asarray(ct)
    target = (k, *shape)
    if ct.shape == target:
        return ct
    ct = sum_to_shape(ct, shape)
    if ct.shape != target:
        ct = np.broadcast_to(ct, target)
    return ct
