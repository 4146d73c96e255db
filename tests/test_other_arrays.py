"""Arrays of another library, seen only through NumPy's protocols, under every transform and
every registry example: results of the library's class, NumPy's numbers, and no hidden
conversion to NumPy on the way in, in the rules, or on the way out.

Two libraries: ``Strict`` (below), which wraps an ndarray, computes every ufunc and NumPy
function on it, wraps the result, and fails the test if anything converts it to NumPy's
(``np.asarray``); and CuPy, where CuPy and a GPU exist (CuPy refuses the conversion too)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import dualad
from dualad import registry

from .test_registry import CASES, _inputs
from .test_sparsity import _joined


class Strict(np.lib.mixins.NDArrayOperatorsMixin):
    """An array that refuses to become an ndarray."""

    def __init__(self, value):
        self.value = np.asarray(value)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: Strict(self.value.T))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (_wrap(item) for item in self.value)

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return self.value.__index__()

    def __complex__(self):
        return complex(self.value)

    def item(self, *args):
        return self.value.item(*args)

    def tolist(self):
        return self.value.tolist()

    def __getitem__(self, key):
        return _wrap(self.value[_unwrap(key)])

    def __setitem__(self, key, value):
        self.value[_unwrap(key)] = _unwrap(value)

    def reshape(self, *shape, **kwargs):
        return Strict(self.value.reshape(*shape, **kwargs))

    def astype(self, dtype, **kwargs):
        return Strict(self.value.astype(dtype, **kwargs))

    def copy(self, **kwargs):
        return Strict(self.value.copy(**kwargs))

    def __array__(self, *args, **kwargs):
        raise AssertionError("a Strict array was converted to NumPy's")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _wrap(getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs)))

    def __array_function__(self, func, types, args, kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))


def _unwrap(x):
    if isinstance(x, Strict):
        return x.value
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(item) for item in x)
    if isinstance(x, dict):
        return {key: _unwrap(value) for key, value in x.items()}
    return x


def _wrap(x):
    if isinstance(x, (np.ndarray, np.generic)):  # (0-d results stay arrays, as CuPy's do)
        return Strict(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_wrap(item) for item in x])
    if isinstance(x, (tuple, list)):
        return type(x)(_wrap(item) for item in x)
    return x


registry.register_array_type(Strict, registry.ArrayKind(
    library="strict", frozen=lambda x: x.copy(), copy=lambda x, order: x.copy(order=order),
    in_place=True, ufunc_methods=True))

def _cupy_missing() -> str | None:
    """Why CuPy's tests cannot run here, or None."""
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # (no CuPy, or no CUDA driver: CuPy raises its own errors)
        return f"needs CuPy and an NVIDIA GPU ({type(error).__name__}: {error})"
    return None if count else "needs CuPy and an NVIDIA GPU (CuPy finds no device)"


CUPY_MISSING = _cupy_missing()


class Library(NamedTuple):
    name: str
    make: Callable[[np.ndarray], Any]
    numpy: Callable[[Any], np.ndarray]
    array_type: Callable[[], type]


def _cupy() -> Library:
    import cupy

    return Library("cupy", cupy.asarray, cupy.asnumpy, lambda: cupy.ndarray)


LIBRARIES = [
    pytest.param(lambda: Library("strict", Strict, lambda a: a.value, lambda: Strict),
                 id="strict"),
    pytest.param(_cupy, id="cupy",
                 marks=pytest.mark.skipif(CUPY_MISSING is not None, reason=str(CUPY_MISSING))),
]


def model(x):
    h = np.tanh(x[:, :3] @ x[:3, 1:3] + x[:, 3:4])
    return np.sum(h * np.exp(-x[:, 1:2] ** 2), axis=1) + np.mean(x, axis=1)


def loss(x):
    return np.sum(model(x) ** 2)


XN = np.random.default_rng(0).uniform(-1.0, 1.0, (8, 4))
ONES = np.ones_like(XN)
TRANSFORMS = {
    "jvp": (lambda x, v: dualad.jvp(model, (x,), (v,))),
    "vjp": (lambda x, v: dualad.vjp(model, x)[1](v[:, 0])),
    "grad": (lambda x, v: dualad.grad(loss)(x)),
    "value_and_grad": (lambda x, v: dualad.value_and_grad(loss)(x)),
    "hvp": (lambda x, v: dualad.hvp(loss, (x,), (v,))),
    "linearize": (lambda x, v: dualad.linearize(model, x)[1](v)),
    "jacfwd": (lambda x, v: dualad.jacfwd(model, chunk_size=5)(x)),
    "jacrev": (lambda x, v: dualad.jacrev(model, chunk_size=3)(x)),
    "hessian": (lambda x, v: dualad.hessian(lambda x: loss(x.reshape(8, 4)))(x.reshape(-1))),
}


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("name", TRANSFORMS)
def test_no_transform_converts_the_arrays(name, library):
    library = library()
    transform = TRANSFORMS[name]
    got = transform(library.make(XN), library.make(ONES))
    expected = transform(XN, ONES)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for g, e in zip(got, expected, strict=True):
        assert isinstance(g, library.array_type()), type(g)  # (0-d values too)
        np.testing.assert_allclose(library.numpy(g), e, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("entry, i", CASES)
def test_every_registry_example_keeps_the_arrays(entry, i, library):
    """``jvp`` and ``vjp`` of each example, its inputs joined into one vector of the library:
    NumPy's numbers, as the library's arrays, with nothing converted on the way (the
    composites' constants are made in the input's library too). ``Strict`` computes every
    NumPy function; CuPy may lack one, and the error then names it and CuPy."""
    library = library()
    example, arrays = _inputs(entry, i)
    g, point = _joined(example, arrays)
    z = point(arrays)
    if z is None or z.size == 0:
        return
    v = np.linspace(-1.0, 1.0, z.size)
    try:
        y, tangent = dualad.jvp(g, (z,), (v,))
        cotangent = np.cos(np.arange(y.size, dtype=float))
        (pulled,) = dualad.vjp(g, z)[1](cotangent)
    except dualad.DualadError:
        return  # (the registry walk checks what NumPy's arrays raise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (NumPy's own warnings, as on NumPy's arrays)
        try:
            y_other, tangent_other = dualad.jvp(g, (library.make(z),), (library.make(v),))
            (pulled_other,) = dualad.vjp(g, library.make(z))[1](library.make(cotangent))
        except dualad.UnsupportedPrimitiveError as error:
            if library.name == "strict":
                raise
            assert library.name in str(error)
            return
    for got, expected in ((y_other, y), (tangent_other, tangent), (pulled_other, pulled)):
        assert isinstance(got, library.array_type()), type(got)
        np.testing.assert_allclose(library.numpy(got), expected, rtol=1e-10, atol=1e-12)
