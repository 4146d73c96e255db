"""Differences, finite-difference gradients, integration, cross/Kronecker products, 1-D
convolution.

Every one is a composite: an exact composition of slicing, arithmetic, ``concatenate``,
``reshape``/``transpose`` and ``matmul``, so derivatives of every order follow. Spacings and
coordinates (``np.gradient``'s ``varargs``, ``np.trapezoid``'s ``x``) may be dual arrays too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..axes import float_dtype, normalize_axis, shape_of
from ..errors import UnsupportedPrimitiveError
from ..registry import POSITIVE, Example, Family
from .complex_parts import conj_if_complex

DIFFERENCES = Family("differences", complex_rules=True)

_NV = np._NoValue  # NumPy's "argument not given"




def _cast(x: Any, dtype: Any) -> Any:
    """``x`` in ``dtype`` (an active ``x`` through the differentiable ``astype``)."""
    return x if x.dtype == dtype else x.astype(dtype)


def _along(axis: int, item: Any) -> tuple:
    """An index applying ``item`` along ``axis`` (all axes before it kept whole)."""
    return (slice(None),) * axis + (item,)


def _moveaxis(x: Any, source: int, destination: int) -> Any:
    ndim = len(shape_of(x))
    source, destination = normalize_axis(source, ndim), normalize_axis(destination, ndim)
    if source == destination:
        return x
    order = [i for i in range(ndim) if i != source]
    order.insert(destination, source)
    return np.transpose(x, tuple(order))


# --------------------------------------------------------------------------- diff, ediff1d


def _diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NV, append: Any = _NV) -> Any:
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    shape = shape_of(a)
    if len(shape) == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, len(shape))
    parts = []
    for value in (prepend, a, append):
        if value is _NV:
            continue
        if len(shape_of(value)) == 0:  # a scalar is repeated along the other axes
            value = np.broadcast_to(value, shape[:axis] + (1,) + shape[axis + 1:])
        parts.append(value)
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    for _ in range(n):
        a = a[_along(axis, slice(1, None))] - a[_along(axis, slice(None, -1))]
    return a


diff = DIFFERENCES.defcomposite(
    "diff", _diff, numpy=np.diff,
    examples=(
        Example(lambda np_, x: np_.diff(x), ((5,),)),
        Example(lambda np_, x: np_.diff(x), ((2, 4),)),
        Example(lambda np_, x: np_.diff(x, axis=0), ((3, 4),)),
        Example(lambda np_, x: np_.diff(x, n=2, axis=-2), ((4, 2, 3),)),
        Example(lambda np_, x: np_.diff(x * x, n=3), ((6,),)),
        Example(lambda np_, x: np_.diff(x, prepend=0.5, append=np_.ones((2, 1))), ((2, 3),)),
        Example(lambda np_, x, p: np_.diff(x, axis=0, prepend=p), ((3, 2), (1, 2))),
        Example(lambda np_, x, p: np_.diff(x, append=p), ((3,), ())),
    ),
    doc="a[1:] - a[:-1] along axis, n times; linear",
)


def _ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    flat = np.reshape(ary, (-1,))
    parts = [flat[1:] - flat[:-1]]
    # NumPy's result has ary's dtype: the ends are cast to it (-1.0 or a float64 array
    # beside a float32 ary stay float32)
    if to_begin is not None:
        parts.insert(0, _cast(np.reshape(to_begin, (-1,)), flat.dtype))
    if to_end is not None:
        parts.append(_cast(np.reshape(to_end, (-1,)), flat.dtype))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


ediff1d = DIFFERENCES.defcomposite(
    "ediff1d", _ediff1d, numpy=np.ediff1d,
    examples=(
        Example(lambda np_, x: np_.ediff1d(x), ((5,),)),
        Example(lambda np_, x: np_.ediff1d(x), ((2, 3),)),
        Example(lambda np_, x: np_.ediff1d(x, to_begin=-1.0, to_end=np_.array([2.0, 3.0])),
                ((4,),)),
        Example(lambda np_, x, b: np_.ediff1d(x, to_begin=b), ((4,), (2,))),
    ),
    doc="differences of the flattened array, with optional ends; linear",
)


# --------------------------------------------------------------------------- gradient


def _gradient_along(f: Any, h: Any, axis: int, edge_order: int) -> Any:
    """Second-order central differences inside, one-sided differences at the two ends."""
    def at(x: Any, start: Any, stop: Any) -> Any:
        return x[_along(axis, slice(start, stop))]

    if len(shape_of(h)) == 0:
        inner = (at(f, 2, None) - at(f, None, -2)) / (2.0 * h)
        if edge_order == 1:
            first = (at(f, 1, 2) - at(f, 0, 1)) / h
            last = (at(f, -1, None) - at(f, -2, -1)) / h
        else:
            first = (-1.5 * at(f, 0, 1) + 2.0 * at(f, 1, 2) - 0.5 * at(f, 2, 3)) / h
            last = (0.5 * at(f, -3, -2) - 2.0 * at(f, -2, -1) + 1.5 * at(f, -1, None)) / h
        return np.concatenate([first, inner, last], axis=axis)
    # coordinates: the non-uniform formulas (as JAX; NumPy applies them too unless the
    # coordinates are exactly uniform, where the values agree)
    nf = len(shape_of(f))
    if len(shape_of(h)) != 1 or shape_of(h)[0] != shape_of(f)[axis]:
        raise ValueError("when 1d, distances must match the length of the corresponding "
                         "dimension")
    h = np.reshape(h, tuple(-1 if i == axis else 1 for i in range(nf)))
    d = at(h, 1, None) - at(h, None, -1)
    d1, d2 = at(d, None, -1), at(d, 1, None)
    inner = (-d2 / (d1 * (d1 + d2)) * at(f, None, -2) + (d2 - d1) / (d1 * d2) * at(f, 1, -1)
             + d1 / (d2 * (d1 + d2)) * at(f, 2, None))
    if edge_order == 1:
        first = (at(f, 1, 2) - at(f, 0, 1)) / at(d, 0, 1)
        last = (at(f, -1, None) - at(f, -2, -1)) / at(d, -1, None)
    else:
        d1, d2 = at(d, 0, 1), at(d, 1, 2)
        first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * at(f, 0, 1)
                 + (d1 + d2) / (d1 * d2) * at(f, 1, 2) - d1 / (d2 * (d1 + d2)) * at(f, 2, 3))
        d1, d2 = at(d, -2, -1), at(d, -1, None)
        last = (d2 / (d1 * (d1 + d2)) * at(f, -3, -2) - (d2 + d1) / (d1 * d2) * at(f, -2, -1)
                + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * at(f, -1, None))
    return np.concatenate([first, inner, last], axis=axis)


def _gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    nf = len(shape_of(f))
    if axis is None:
        axes = tuple(range(nf))
    else:
        axes = tuple(normalize_axis(a, nf) for a in
                     (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and len(shape_of(varargs[0])) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("invalid number of arguments")
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    for a in axes:
        if shape_of(f)[a] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
    grads = tuple(_gradient_along(f, h, a, edge_order) for a, h in zip(axes, spacings, strict=True))
    return grads[0] if len(grads) == 1 else grads


gradient = DIFFERENCES.defcomposite(
    "gradient", _gradient, numpy=np.gradient,
    examples=(
        Example(lambda np_, x: np_.gradient(x), ((5,),)),
        Example(lambda np_, x: np_.gradient(x, 0.5), ((4,),)),
        Example(lambda np_, x: np_.gradient(x), ((3, 4),)),
        Example(lambda np_, x: np_.gradient(x, 2.0, axis=-1), ((3, 4),)),
        Example(lambda np_, x: np_.gradient(x, 0.5, 2.0), ((3, 4),)),
        Example(lambda np_, x: np_.gradient(x * x, axis=(0, 2)), ((3, 2, 4),)),
        Example(lambda np_, x, h: np_.gradient(x, h), ((5,), ()), domain=POSITIVE),
        # coordinates, themselves differentiable
        Example(lambda np_, x, t: np_.gradient(x, t),
                make=lambda rng: (rng.normal(size=5), np.cumsum(rng.uniform(0.5, 1.5, 5)))),
        Example(lambda np_, x, t: np_.gradient(x, t, axis=0),
                make=lambda rng: (rng.normal(size=(4, 2)),
                                  np.cumsum(rng.uniform(0.5, 1.5, 4)))),
        # edge_order=2: JAX has none, so central differences
        Example(lambda np_, x: np_.gradient(x, 0.5, edge_order=2), ((5,),),
                finite_differences=True, rtol=1e-6, atol=1e-8),
        Example(lambda np_, x, t: np_.gradient(x, t, edge_order=2),
                make=lambda rng: (rng.normal(size=5), np.cumsum(rng.uniform(0.5, 1.5, 5))),
                finite_differences=True, rtol=1e-5, atol=1e-6),
        Example(lambda np_, x: np_.gradient(x, axis=1, edge_order=2), ((2, 3),),
                finite_differences=True, rtol=1e-6, atol=1e-8),
    ),
    doc="central differences inside, one-sided at the ends; linear in f",
)


# --------------------------------------------------------------------------- trapezoid


def _trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    ny = len(shape_of(y))
    axis = normalize_axis(axis, ny)
    if x is None:
        d = dx
    elif len(shape_of(x)) == 1:
        d = np.diff(x)
        d = np.reshape(d, tuple(-1 if i == axis else 1 for i in range(ny)))
    else:
        d = np.diff(x, axis=axis)
    mid = y[_along(axis, slice(1, None))] + y[_along(axis, slice(None, -1))]
    return np.sum(d * mid / 2.0, axis=axis)


if hasattr(np, "trapezoid"):
    trapezoid = DIFFERENCES.defcomposite(
        "trapezoid", _trapezoid, numpy=np.trapezoid,
        examples=(
            Example(lambda np_, y: np_.trapezoid(y), ((5,),)),
            Example(lambda np_, y: np_.trapezoid(y, dx=0.3), ((2, 4),)),
            Example(lambda np_, y: np_.trapezoid(y, axis=0), ((3, 2),)),
            Example(lambda np_, y, x: np_.trapezoid(y, x), ((5,), (5,))),
            Example(lambda np_, y, x: np_.trapezoid(y, x, axis=-2), ((4, 3), (4,))),
            Example(lambda np_, y, x: np_.trapezoid(y * y, x, axis=1), ((2, 3), (2, 3))),
            Example(lambda np_, y, h: np_.trapezoid(y, dx=h), ((4,), ())),
        ),
        doc="sum of (x[i+1] - x[i]) (y[i+1] + y[i]) / 2; differentiable in y, x and dx",
    )


# --------------------------------------------------------------------------- cross, kron


def _cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
           axis: Any = None) -> Any:
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _moveaxis(a, axisa, -1), _moveaxis(b, axisb, -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    c2 = a0 * b1 - a1 * b0
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=3)
    if na == 2 and nb == 2:
        return c2
    if na == 3 and nb == 3:
        a2, b2 = a[..., 2], b[..., 2]
        c0, c1 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif na == 2:  # a2 = 0
        b2 = b[..., 2]
        c0, c1 = a1 * b2, -(a0 * b2)
    else:  # b2 = 0
        a2 = a[..., 2]
        c0, c1 = -(a2 * b1), a2 * b0
    c = np.stack([c0, c1, c2], axis=-1)
    return _moveaxis(c, -1, axisc)


cross = DIFFERENCES.defcomposite(
    "cross", _cross, numpy=np.cross,
    examples=(
        Example(lambda np_, a, b: np_.cross(a, b), ((3,), (3,))),
        Example(lambda np_, a, b: np_.cross(a, b), ((4, 3), (3,))),
        Example(lambda np_, a, b: np_.cross(a, b, axis=0), ((3, 2), (3, 2))),
        Example(lambda np_, a, b: np_.cross(a, b, axisa=0, axisb=-1, axisc=0),
                ((3, 2), (2, 3))),
        Example(lambda np_, a: np_.cross(a, np_.array([0.5, -1.0, 2.0])), ((2, 3),)),
        # 2-vectors (deprecated in NumPy 2, still supported): the z component only
        Example(lambda np_, a, b: np_.cross(a[..., :2], b[..., :2]), ((4, 3), (4, 3)),
                reference=lambda np_, a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]),
        Example(lambda np_, a, b: np_.cross(a[:2], b), ((3,), (3,))),
    ),
    doc="the cross product of 3-vectors (2-vectors: the z component); bilinear",
)


def _kron(a: Any, b: Any) -> Any:
    sa, sb = shape_of(a), shape_of(b)
    nd = len(sa) if len(sa) > len(sb) else len(sb)
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a = np.reshape(a, tuple(s for n in sa for s in (n, 1)))
    b = np.reshape(b, tuple(s for n in sb for s in (1, n)))
    return np.reshape(a * b, tuple(m * n for m, n in zip(sa, sb, strict=True)))


kron = DIFFERENCES.defcomposite(
    "kron", _kron, numpy=np.kron,
    examples=(
        Example(lambda np_, a, b: np_.kron(a, b), ((2, 3), (3, 2))),
        Example(lambda np_, a, b: np_.kron(a, b), ((3,), (2,))),
        Example(lambda np_, a, b: np_.kron(a, b), ((2,), (2, 3))),
        Example(lambda np_, a, b: np_.kron(a, b), ((2, 1, 2), (3, 2))),
        Example(lambda np_, a: np_.kron(np_.eye(2), a), ((2, 2),)),
        Example(lambda np_, a, b: np_.kron(a, b), ((), (3,))),
    ),
    doc="a[i] * b[j] laid out block by block; bilinear",
)


# --------------------------------------------------------------------------- convolve, correlate


def _full_convolution(a: Any, v: Any) -> Any:
    """All n + m - 1 terms of the 1-D convolution, as a windowed matrix-vector product."""
    n, m = shape_of(a)[0], shape_of(v)[0]
    if m > n:  # convolution commutes: slide the shorter array
        a, v, n, m = v, a, m, n
    pad = np.zeros(m - 1, dtype=np.result_type(float_dtype(a), float_dtype(v)))
    padded = np.concatenate([pad, a, pad])
    starts = np.arange(n + m - 1)[:, None] + np.arange(m)  # (indexed flat, as Dask can)
    windows = padded[starts.ravel()].reshape(n + m - 1, m)
    return windows @ v[::-1]


def _check_1d(a: Any, v: Any, who: str) -> None:
    if len(shape_of(a)) != 1 or len(shape_of(v)) != 1:
        raise UnsupportedPrimitiveError(f"np.{who} of dual arrays takes 1-D arrays only")
    if shape_of(a)[0] == 0 or shape_of(v)[0] == 0:
        raise ValueError(f"{'a' if shape_of(a)[0] == 0 else 'v'} cannot be empty")


def _mode_slice(full: Any, n: int, m: int, mode: str, same_start: int) -> Any:
    if mode == "full":
        return full
    short, long = (n, m) if n < m else (m, n)
    if mode == "same":
        return full[same_start:same_start + long]
    if mode == "valid":
        return full[short - 1:long]
    raise ValueError(f"mode must be one of 'full', 'same' or 'valid', not {mode!r}")


def _convolve(a: Any, v: Any, mode: str = "full") -> Any:
    _check_1d(a, v, "convolve")
    n, m = shape_of(a)[0], shape_of(v)[0]
    start = ((n if n < m else m) - 1) // 2
    return _mode_slice(_full_convolution(a, v), n, m, mode, start)


def _correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    _check_1d(a, v, "correlate")
    n, m = shape_of(a)[0], shape_of(v)[0]
    start = (m - 1) // 2 if n >= m else n // 2  # NumPy swaps and reverses when m > n
    # NumPy conjugates v
    return _mode_slice(_full_convolution(a, conj_if_complex(v)[::-1]), n, m, mode, start)


def _conv_examples(name: str) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_, name)

    return tuple(
        Example(lambda np_, a, v, mode=mode: fn(np_)(a, v, mode=mode), shapes)
        for mode in ("full", "same", "valid")
        for shapes in (((5,), (3,)), ((2,), (4,)), ((4,), (7,)), ((4,), (4,)))
    ) + (
        Example(lambda np_, a, v: fn(np_)(a, v), ((6,), (2,))),
        Example(lambda np_, a: fn(np_)(a, np_.array([1.0, -2.0, 0.5])), ((5,),)),
        Example(lambda np_, v: fn(np_)(np_.array([1.0, -2.0, 0.5]), v, "same"), ((1,),)),
    )


convolve = DIFFERENCES.defcomposite(
    "convolve", _convolve, numpy=np.convolve, examples=_conv_examples("convolve"),
    doc="1-D discrete convolution (modes full, same, valid); bilinear",
)
correlate = DIFFERENCES.defcomposite(
    "correlate", _correlate, numpy=np.correlate, examples=_conv_examples("correlate"),
    doc="1-D cross-correlation, convolve(a, v[::-1]) (modes full, same, valid); bilinear",
)
