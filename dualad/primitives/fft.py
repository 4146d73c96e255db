"""Discrete Fourier transforms: ``np.fft``.

Three primitives along one axis carry every derivative: ``fft`` and ``ifft`` (complex to
complex), ``rfft`` (real to the half spectrum) and ``irfft`` (half spectrum to real). Each is
linear, so its JVP applies it to the tangent (along the same axis, counted from the end so
that the tangent's leading axis of directions is left alone) and its VJP is its transpose
under JAX's pairing ``Re(sum(u * v))``, with no conjugate:

* the DFT matrix is symmetric, so ``fft``'s and ``ifft``'s transposes are themselves (the
  same ``norm=``), followed by the transpose of the cropping or zero-padding to ``n``;
* ``rfft`` keeps half of the spectrum of a real array: its transpose is the real part of
  the ``fft`` of the cotangent zero-padded to ``n``;
* ``irfft`` reads the half spectrum as a Hermitian one (the imaginary parts at 0 and at
  ``n/2`` are ignored): its transpose is ``ifft`` of the cotangent, halved back to
  ``n//2 + 1`` values and weighted 2 where a value stands for two.

The other functions are composites, as NumPy writes them: ``fftn`` is ``fft`` along each
axis in turn, ``rfftn`` an ``rfft`` then ``fft``s, ``hfft`` an ``irfft`` of the conjugate
with the opposite ``norm=``; ``fftshift`` and ``ifftshift`` are rolls (moves of elements).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..axes import normalize_axis, shape_of
from ..registry import Example, Family, is_active
from .complex_parts import via_parts

FFT = Family("fft", complex_rules=True)

_NORMS = (None, "backward", "ortho", "forward")


def _norm(norm: Any) -> str:
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or '
                         f'"forward".')
    return "backward" if norm is None else norm


def _swap(norm: Any) -> str:
    """The norm of the opposite direction (NumPy's hfft and ihfft use it)."""
    return {"backward": "forward", "forward": "backward", "ortho": "ortho"}[_norm(norm)]


def _static(name: str, **values: Any) -> None:
    for key, value in values.items():
        if is_active(value):
            raise TypeError(f"{key}= of np.fft.{name} cannot be an active array")


def _split(name: str, default_n: Any) -> Any:
    """split_args of a one-axis transform: the array, and n, axis (from the end) and norm."""

    def split(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
        _static(name, n=n, axis=axis)
        if out is not None:
            raise TypeError(f"np.fft.{name} on dual arrays does not support out=")
        shape = shape_of(a)
        if not shape:
            raise ValueError("Invalid number of FFT data points (0) specified.")
        axis = normalize_axis(int(axis), len(shape)) - len(shape)  # from the end
        n = default_n(shape[axis]) if n is None else int(n)
        if n < 1:
            raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
        return (a,), {"n": n, "axis": axis, "norm": _norm(norm)}

    return split


def _fit(a: Any, length: int, axis: int) -> Any:
    """``a`` cropped or zero-padded to ``length`` along ``axis`` (counted from the end): the
    transpose of the cropping or padding a transform applies to its input."""
    size = shape_of(a)[axis]
    if size > length:
        return a[(Ellipsis, slice(0, length)) + (slice(None),) * (-axis - 1)]
    if size < length:
        widths = [(0, 0)] * len(shape_of(a))
        widths[axis] = (0, length - size)
        return np.pad(a, widths)
    return a


# --------------------------------------------------------------------------- complex to complex


def _c2c(name: str, transform: Any) -> Any:
    def jvp(dx: Any, x: Any, *, out: Any, n: int, axis: int, norm: str) -> Any:
        return transform(dx, n=n, axis=axis, norm=norm)

    def vjp(ct: Any, x: Any, *, out: Any, n: int, axis: int, norm: str) -> Any:
        # the DFT matrix is symmetric: the transpose is the same transform
        return _fit(transform(ct, n=n, axis=axis, norm=norm), shape_of(x)[axis], axis)

    return FFT.defprimitive(
        name, impl=lambda x, *, n, axis, norm: transform(x, n=n, axis=axis, norm=norm),
        numpy=transform, split_args=_split(name, lambda m: m), jvp=jvp, vjp=vjp,
        examples=_one_axis_examples(name, complex_input=True),
        doc=f"np.fft.{name}; linear, its own transpose (DFT matrices are symmetric)",
    )


def _one_axis_examples(name: str, complex_input: bool) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_.fft, name)

    def call(f: Any) -> Any:
        return via_parts(f, complex_inputs=complex_input)

    pair = 2 if complex_input else 1
    return tuple(
        Example(call(lambda np_, z, norm=norm: fn(np_)(z, norm=norm)), ((2, 5),) * pair)
        for norm in _NORMS
    ) + (
        Example(call(lambda np_, z: fn(np_)(z, n=7, axis=0, norm="ortho")), ((4, 3),) * pair),
        Example(call(lambda np_, z: fn(np_)(z, 4, 1)), ((2, 6, 2),) * pair),
        Example(call(lambda np_, z: fn(np_)(z, n=5, norm="forward")), ((6,),) * pair),
    )


fft = _c2c("fft", np.fft.fft)
ifft = _c2c("ifft", np.fft.ifft)


# --------------------------------------------------------------------------- real transforms


def _rfft_vjp(ct: Any, x: Any, *, out: Any, n: int, axis: int, norm: str) -> Any:
    # x_bar = Re(F^T R^T ct): the half spectrum zero-padded to n, transformed by the
    # (symmetric) DFT, real part
    full = np.fft.fft(ct, n=n, axis=axis, norm=norm)
    return _fit(np.real(full), shape_of(x)[axis], axis)


rfft = FFT.defprimitive(
    "rfft", impl=lambda x, *, n, axis, norm: np.fft.rfft(x, n=n, axis=axis, norm=norm),
    numpy=np.fft.rfft, split_args=_split("rfft", lambda m: m),
    jvp=lambda dx, x, *, out, n, axis, norm: np.fft.rfft(dx, n=n, axis=axis, norm=norm),
    vjp=_rfft_vjp, examples=_one_axis_examples("rfft", complex_input=False),
    doc="np.fft.rfft; linear, transpose Re(fft of the zero-padded cotangent)",
)


def _halves(n: int, axis: int) -> np.ndarray:
    """The weights of the half spectrum of length n//2 + 1 in irfft: 1 at 0 (and at n/2 for
    even n), 2 elsewhere (each stands for a value and its conjugate), shaped to broadcast
    along ``axis``."""
    weights = np.full(n // 2 + 1, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return np.reshape(weights, (-1,) + (1,) * (-axis - 1))


def _irfft_vjp(ct: Any, x: Any, *, out: Any, n: int, axis: int, norm: str) -> Any:
    # sum(ct * irfft(v)) = Re(sum(G * v)) with G = weights * ifft(ct)[:n//2 + 1]
    half = _fit(np.fft.ifft(ct, n=n, axis=axis, norm=norm), n // 2 + 1, axis)
    return _fit(half * _halves(n, axis), shape_of(x)[axis], axis)


irfft = FFT.defprimitive(
    "irfft", impl=lambda x, *, n, axis, norm: np.fft.irfft(x, n=n, axis=axis, norm=norm),
    numpy=np.fft.irfft, split_args=_split("irfft", lambda m: 2 * (m - 1)),
    jvp=lambda dx, x, *, out, n, axis, norm: np.fft.irfft(dx, n=n, axis=axis, norm=norm),
    vjp=_irfft_vjp,
    examples=_one_axis_examples("irfft", complex_input=True) + (
        Example(via_parts(lambda np_, z: np_.fft.irfft(z, n=8)), ((3, 5),) * 2),  # padded
        Example(via_parts(lambda np_, z: np_.fft.irfft(z, n=5, axis=0)), ((4, 2),) * 2),
    ),
    doc="np.fft.irfft; R-linear, transpose the weighted half of ifft of the cotangent",
)


# --------------------------------------------------------------------------- composites


def _hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("np.fft.hfft on dual arrays does not support out=")
    return np.fft.irfft(np.conjugate(a), n, axis, norm=_swap(norm))


def _ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Any:
    if out is not None:
        raise TypeError("np.fft.ihfft on dual arrays does not support out=")
    return np.conjugate(np.fft.rfft(a, n, axis, norm=_swap(norm)))


hfft = FFT.defcomposite(
    "hfft", _hfft, numpy=np.fft.hfft,
    examples=_one_axis_examples("hfft", complex_input=True),
    doc="np.fft.hfft: irfft of the conjugate, with the opposite norm",
)
ihfft = FFT.defcomposite(
    "ihfft", _ihfft, numpy=np.fft.ihfft,
    examples=_one_axis_examples("ihfft", complex_input=False),
    doc="np.fft.ihfft: the conjugate of rfft, with the opposite norm",
)


def _nd_args(a: Any, s: Any, axes: Any, name: str, last: Any = None) -> tuple[list, list]:
    """NumPy's reading of ``s`` and ``axes``: all axes by default, the last ``len(s)`` ones
    when only ``s`` is given; ``last(m)`` is the default length along the last axis."""
    _static(name, s=s, axes=axes)
    shape = shape_of(a)
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(len(shape)))
    axes = [int(axis) for axis in axes]
    if s is None:
        s = [shape[axis] for axis in axes]
        if last is not None and axes:
            s[-1] = last(shape[axes[-1]])
    s = list(s)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return s, axes


def _each_axis(a: Any, s: Sequence[int], axes: Sequence[int], transform: Any,
               norm: Any) -> Any:
    """``transform`` along each axis, the last first (NumPy's order)."""
    for length, axis in zip(reversed(s), reversed(axes)):
        a = transform(a, n=length, axis=axis, norm=norm)
    return a


def _nd(transform: Any, name: str, default_axes: Any) -> Any:
    def impl(a: Any, s: Any = None, axes: Any = default_axes, norm: Any = None,
             out: Any = None) -> Any:
        if out is not None:
            raise TypeError(f"np.fft.{name} on dual arrays does not support out=")
        s, axes = _nd_args(a, s, axes, name)
        return _each_axis(a, s, axes, transform, norm)

    return impl


def _rfftn_of(name: str, default_axes: Any) -> Any:
    def impl(a: Any, s: Any = None, axes: Any = default_axes, norm: Any = None,
             out: Any = None) -> Any:
        if out is not None:
            raise TypeError(f"np.fft.{name} on dual arrays does not support out=")
        s, axes = _nd_args(a, s, axes, name)
        a = np.fft.rfft(a, n=s[-1], axis=axes[-1], norm=norm)
        return _each_axis(a, s[:-1], axes[:-1], np.fft.fft, norm)

    return impl


def _irfftn_of(name: str, default_axes: Any) -> Any:
    def impl(a: Any, s: Any = None, axes: Any = default_axes, norm: Any = None,
             out: Any = None) -> Any:
        if out is not None:
            raise TypeError(f"np.fft.{name} on dual arrays does not support out=")
        s, axes = _nd_args(a, s, axes, name, last=lambda m: 2 * (m - 1))
        a = _each_axis(a, s[:-1], axes[:-1], np.fft.ifft, norm)
        return np.fft.irfft(a, n=s[-1], axis=axes[-1], norm=norm)

    return impl


def _nd_examples(name: str, complex_input: bool, two: bool) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_.fft, name)

    def call(f: Any) -> Any:
        return via_parts(f, complex_inputs=complex_input)

    pair = 2 if complex_input else 1
    examples = [Example(call(lambda np_, z, norm=norm: fn(np_)(z, norm=norm)), ((2, 4),) * pair)
                for norm in _NORMS]
    examples.append(Example(call(lambda np_, z: fn(np_)(z, s=(3, 4), axes=(0, 2),
                                                         norm="ortho")), ((2, 3, 3),) * pair))
    if not two:
        examples.append(Example(call(lambda np_, z: fn(np_)(z, axes=(1,))), ((2, 4),) * pair))
        examples.append(Example(call(lambda np_, z: fn(np_)(z, norm="forward")),
                                ((2, 3, 4),) * pair, second_order=False))  # size: see below
    return tuple(examples)


# second_order=False on the 3-D example only for time: its Hessian has 24**3 entries, and the
# smaller examples check the same rules to second order.
fft2 = FFT.defcomposite("fft2", _nd(np.fft.fft, "fft2", (-2, -1)), numpy=np.fft.fft2,
                        examples=_nd_examples("fft2", True, True),
                        doc="np.fft.fft2: fft along the last two axes")
ifft2 = FFT.defcomposite("ifft2", _nd(np.fft.ifft, "ifft2", (-2, -1)), numpy=np.fft.ifft2,
                         examples=_nd_examples("ifft2", True, True),
                         doc="np.fft.ifft2: ifft along the last two axes")
fftn = FFT.defcomposite("fftn", _nd(np.fft.fft, "fftn", None), numpy=np.fft.fftn,
                        examples=_nd_examples("fftn", True, False),
                        doc="np.fft.fftn: fft along each axis")
ifftn = FFT.defcomposite("ifftn", _nd(np.fft.ifft, "ifftn", None), numpy=np.fft.ifftn,
                         examples=_nd_examples("ifftn", True, False),
                         doc="np.fft.ifftn: ifft along each axis")
rfft2 = FFT.defcomposite("rfft2", _rfftn_of("rfft2", (-2, -1)), numpy=np.fft.rfft2,
                         examples=_nd_examples("rfft2", False, True),
                         doc="np.fft.rfft2: rfft along the last axis, then fft")
irfft2 = FFT.defcomposite("irfft2", _irfftn_of("irfft2", (-2, -1)), numpy=np.fft.irfft2,
                          examples=_nd_examples("irfft2", True, True),
                          doc="np.fft.irfft2: ifft, then irfft along the last axis")
rfftn = FFT.defcomposite("rfftn", _rfftn_of("rfftn", None), numpy=np.fft.rfftn,
                         examples=_nd_examples("rfftn", False, False),
                         doc="np.fft.rfftn: rfft along the last axis, then fft along the others")
irfftn = FFT.defcomposite("irfftn", _irfftn_of("irfftn", None), numpy=np.fft.irfftn,
                          examples=_nd_examples("irfftn", True, False),
                          doc="np.fft.irfftn: ifft along all axes but the last, then irfft")


# --------------------------------------------------------------------------- shifts


def _shift(name: str, sign: int) -> Any:
    def impl(x: Any, axes: Any = None) -> Any:
        _static(name, axes=axes)
        shape = shape_of(x)
        if axes is None:
            axes = tuple(range(len(shape)))
        elif isinstance(axes, (int, np.integer)):
            axes = (int(axes),)
        shifts = tuple(sign * (shape[axis] // 2) for axis in axes)
        return np.roll(x, shifts, tuple(axes))

    return impl


def _shift_examples(name: str) -> tuple[Example, ...]:
    def fn(np_: Any) -> Any:
        return getattr(np_.fft, name)

    return (
        Example(lambda np_, x: fn(np_)(x), ((3, 4),)),
        Example(lambda np_, x: fn(np_)(x, axes=1), ((2, 5),)),
        Example(via_parts(lambda np_, z: fn(np_)(z, axes=(0,))), ((5, 2),) * 2),
    )


fftshift = FFT.defcomposite("fftshift", _shift("fftshift", 1), numpy=np.fft.fftshift,
                            examples=_shift_examples("fftshift"),
                            doc="np.fft.fftshift: the zero frequency moved to the middle")
ifftshift = FFT.defcomposite("ifftshift", _shift("ifftshift", -1), numpy=np.fft.ifftshift,
                             examples=_shift_examples("ifftshift"),
                             doc="np.fft.ifftshift: the inverse of fftshift")
