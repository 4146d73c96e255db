"""An array class of another library, seen only through NumPy's protocols: ``Strict`` wraps
an ndarray, computes every ufunc and NumPy function on it and wraps the result, and raises
if anything converts it to NumPy's (``np.asarray``). Every transform keeps it ``Strict``:
no hidden conversion happens on the way in, in the rules, or on the way out."""

from __future__ import annotations

import numpy as np
import pytest

import dualad
from dualad import registry


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
    if isinstance(x, np.ndarray):
        return Strict(x)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_wrap(item) for item in x])
    if isinstance(x, (tuple, list)):
        return type(x)(_wrap(item) for item in x)
    return x


registry.register_array_type(Strict, registry.ArrayKind(
    library="strict", frozen=lambda x: x.copy(), copy=lambda x, order: x.copy(order=order),
    in_place=True, ufunc_methods=True))

W = np.linspace(-1.0, 1.0, 6).reshape(3, 2)


def model(x):
    h = np.tanh(x[:, :3] @ W + x[:, 3:4])
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


@pytest.mark.parametrize("name", TRANSFORMS)
def test_no_transform_converts_the_arrays(name):
    transform = TRANSFORMS[name]
    got = transform(Strict(XN), Strict(ONES))
    expected = transform(XN, ONES)
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    for g, e in zip(got, expected):
        if np.ndim(e):  # (a 0-d value comes back as a number, as NumPy's does)
            assert isinstance(g, Strict), type(g)
            g = g.value
        np.testing.assert_array_equal(g, e)
