"""Complex numbers in both modes, against JAX in float64 (JAX's conventions are dualad's).

* ``jvp`` of any function of complex (or real) inputs equals ``jax.jvp`` (a tangent has its
  primal's dtype; the JVP is C-linear for holomorphic functions and R-linear otherwise);
* ``vjp`` equals ``jax.vjp`` for complex cotangents: the transpose under the pairing
  ``Re(sum(u * v))``, with a real input's cotangent the real part;
* ``grad`` of a real-valued function of complex inputs equals ``jax.grad`` (``2 conj(z)``
  for ``|z|**2``), and ``holomorphic=True`` on ``grad``, ``jacfwd``, ``jacrev`` and
  ``hessian`` gives JAX's complex derivatives, with JAX's refusals;
* nested: ``jvp`` of ``grad`` of a real function of complex inputs, the holomorphic Hessian
  and a third derivative.

The registry walk (tests/test_registry.py) covers ``real``, ``imag``, ``angle`` and the
complex examples of other primitives through their real and imaginary parts.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pytest

import dualad
from dualad import InvalidInputError, ShapeMismatchError, UnsupportedPrimitiveError

from .reference import jax, jnp

RNG = np.random.default_rng(20261203)


def _c(*shape):
    return RNG.uniform(0.3, 1.5, shape) + 1j * RNG.uniform(-1.0, 1.0, shape)


Z = _c(3)
W = _c(3)
X = RNG.uniform(0.3, 1.5, 3)
A = _c(3, 3) + 3 * np.eye(3)
B = _c(3, 2)


def _close(actual, expected, rtol=1e-10, atol=1e-12, what=""):
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for a, e in zip(actual, expected):
            _close(a, e, rtol, atol, what)
        return
    expected = np.asarray(expected)
    assert np.shape(actual) == expected.shape, what
    assert np.asarray(actual).dtype.kind == expected.dtype.kind, (
        f"{what}: dtype {np.asarray(actual).dtype}, JAX's {expected.dtype}")
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _like(x, rng):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        return rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)
    return rng.standard_normal(x.shape)


# --------------------------------------------------------------------------- jvp and vjp

# (function written once for both namespaces, arguments); real and complex inputs mixed
CASES = {
    # complex constants meeting real active values
    "x * 1j": (lambda np_, x: x * 1j, (X,)),
    "1j * x": (lambda np_, x: 1j * x, (X,)),
    "x * complex128": (lambda np_, x: x * np_.complex128(2 - 1j), (X,)),
    "x + complex array": (lambda np_, x: x + np_.array([1j, 0, 2]), (X,)),
    "abs(x + 1j)": (lambda np_, x: np_.abs(x + 1j), (X,)),
    "(x + 1j).real": (lambda np_, x: (x + 1j).real, (X,)),
    "dot(x, complex)": (lambda np_, x: np_.dot(x, np_.array([1j, 2, 3 - 1j])), (X,)),
    "concatenate": (lambda np_, x: np_.concatenate([x, np_.array([1j])]), (X,)),
    "sin(x) @ complex": (lambda np_, x: np_.sin(x) @ (np_.ones((3, 2)) * (1 + 2j)), (X,)),
    "real(x * (1+2j))": (lambda np_, x: np_.real(x * (1 + 2j)), (X,)),
    # arithmetic and elementwise functions of complex values
    "arithmetic": (lambda np_, z, w: (z * w - z / w + 2.0) ** 2 + 1 / z - w ** 3, (Z, W)),
    "power z**w": (lambda np_, z, w: z ** w, (Z, W)),
    "power real**z": (lambda np_, x, z: x ** z, (X, Z)),
    "exp log sqrt": (lambda np_, z: np_.exp(z) * np_.log(z) + np_.sqrt(z), (Z,)),
    "trig": (lambda np_, z: np_.sin(z) + np_.cos(z) * np_.tan(z) + np_.tanh(z), (Z,)),
    "inverse trig": (lambda np_, z: np_.arcsin(z / 2) + np_.arccos(z / 2) + np_.arctan(z)
                     + np_.arcsinh(z) + np_.arctanh(z / 2), (Z,)),
    "arccosh": (lambda np_, z: np_.arccosh(z * np_.array([1.0, -1.0, 1j]) + 1.5), (Z,)),
    "log variants": (lambda np_, z: np_.log2(z) + np_.log10(z) + np_.log1p(z)
                     + np_.expm1(z) + np_.exp2(z), (Z,)),
    "square reciprocal": (lambda np_, z: np_.square(z) + np_.reciprocal(z) - z, (Z,)),
    "maximum minimum": (lambda np_, z, w: np_.maximum(z, w) * np_.minimum(z, 2 * w), (Z, W)),
    # the parts of complex numbers
    "real imag": (lambda np_, z: np_.real(z) * np_.imag(z), (Z,)),
    "methods": (lambda np_, z: z.real + z.imag * z.conj(), (Z,)),
    "conj": (lambda np_, z: np_.conj(z) * z + np_.conjugate(z), (Z,)),
    "abs": (lambda np_, z: np_.abs(z) + np_.absolute(z * z), (Z,)),
    "angle": (lambda np_, z: np_.angle(z) + np_.angle(z * 1j, deg=True), (Z,)),
    "astype": (lambda np_, x: (x.astype(np_.complex128) * 1j).astype(np_.complex64)
               .astype(np_.complex128), (X,)),
    # reductions, products, linear algebra
    "sum mean prod": (lambda np_, z: np_.sum(z) * np_.mean(z) + np_.prod(z), (Z,)),
    "cumsum cumprod": (lambda np_, z: np_.cumsum(z) + np_.cumprod(z), (Z,)),
    "var std": (lambda np_, z: np_.var(z) + np_.std(z * z), (Z,)),
    "norm": (lambda np_, z: np_.linalg.norm(z) + np_.linalg.norm(z, 1), (Z,)),
    "matmul dot": (lambda np_, a, b: a @ b + np_.dot(a, b), (A, B)),
    "vdot": (lambda np_, z, w: np_.vdot(z, w), (Z, W)),
    "inner outer": (lambda np_, z, w: np_.inner(z, w) + np_.sum(np_.outer(z, w)), (Z, W)),
    "einsum": (lambda np_, a, b: np_.einsum("ij,jk->ik", a, b), (A, B)),
    "solve inv det": (lambda np_, a, b: np_.linalg.solve(a, b) @ np_.ones(2)
                      + np_.linalg.inv(a)[0] * np_.linalg.det(a), (A, B)),
    "indexing and shapes": (lambda np_, a: np_.concatenate([a[::-1, 0], np_.ravel(a.T)[:2],
                                                           np_.sort(a[1])]), (A,)),
    "correlate": (lambda np_, z, w: np_.correlate(z, w, "full"), (Z, W)),
    "where": (lambda np_, z, w: np_.where(np_.array([True, False, True]), z, w), (Z, W)),
}




@functools.cache
def _jax_jvp_vjp(name):
    """JAX's jvp and vjp of case ``name`` for seeded directions, computed once."""
    fn, args = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    vs = tuple(_like(a, rng) for a in args)
    f = lambda *xs: fn(jnp, *xs)  # noqa: E731
    out, jv = jax.jvp(f, tuple(map(jnp.asarray, args)), tuple(map(jnp.asarray, vs)))
    u = _like(out, rng)
    _, pullback = jax.vjp(f, *map(jnp.asarray, args))
    return vs, np.asarray(out), np.asarray(jv), u, tuple(map(np.asarray, pullback(u)))


@pytest.mark.parametrize("name", list(CASES))
def test_jvp_and_vjp_match_jax(name):
    fn, args = CASES[name]
    f = lambda *xs: fn(np, *xs)  # noqa: E731
    vs, out, jv, u, ct = _jax_jvp_vjp(name)
    value, tangent = dualad.jvp(f, args, vs)
    _close(value, out, what=f"{name} value")
    _close(tangent, jv, what=f"{name} jvp")
    value, pullback = dualad.vjp(f, *args)
    _close(pullback(u), ct, what=f"{name} vjp")


# --------------------------------------------------------------------------- grad


REAL_VALUED = {
    "|z|^2": lambda np_, z: np_.sum(np_.abs(z) ** 2),
    "z conj(z)": lambda np_, z: np_.real(np_.sum(z * np_.conj(z))),
    "real(z^3)": lambda np_, z: np_.sum(np_.real(z ** 3)),
    "imag(exp z)": lambda np_, z: np_.sum(np_.imag(np_.exp(z)) * np_.real(z)),
    "angle": lambda np_, z: np_.sum(np_.angle(z) ** 2),
    "abs(sin)": lambda np_, z: np_.sum(np_.abs(np_.sin(z))),
    "norm": lambda np_, z: np_.linalg.norm(z * z),
    "var": lambda np_, z: np_.var(z),
    "vdot": lambda np_, z: np_.real(np_.vdot(z, z * 1j + 2)),
}


@pytest.mark.parametrize("name", list(REAL_VALUED))
def test_grad_of_a_real_function_of_complex_inputs_is_jaxs(name):
    fn = REAL_VALUED[name]
    expected = np.asarray(jax.grad(lambda z: fn(jnp, z))(jnp.asarray(Z)))
    _close(dualad.grad(lambda z: fn(np, z))(Z), expected, what=name)
    value, g = dualad.value_and_grad(lambda z: fn(np, z))(Z)
    _close(g, expected, what=name)
    # jacrev of a real output takes complex inputs too, as in JAX
    _close(dualad.jacrev(lambda z: fn(np, z))(Z), expected, what=name)


def test_grad_of_abs_squared_is_twice_the_conjugate():
    np.testing.assert_allclose(dualad.grad(lambda z: np.sum(np.abs(z) ** 2))(Z),
                               2 * np.conj(Z), rtol=1e-14)


def test_a_real_inputs_gradient_is_real():
    g = dualad.grad(lambda x: np.real(x * (1 + 2j)))(1.0)
    assert np.asarray(g).dtype == np.float64 and g == 1.0  # jax.grad gives 1.0 too
    g = dualad.grad(lambda x: np.abs(np.sum(x * np.array([1j, 2, 1 + 1j]))))(X)
    expected = jax.grad(lambda x: jnp.abs(jnp.sum(x * jnp.array([1j, 2, 1 + 1j]))))(X)
    _close(g, expected)


@pytest.mark.parametrize("name", list(REAL_VALUED))
def test_jvp_of_grad_of_a_real_function_of_complex_inputs_is_jaxs(name):
    """Second order: the directional derivative of the gradient (forward over reverse)."""
    fn = REAL_VALUED[name]
    v = _c(3)
    expected = jax.jvp(jax.grad(lambda z: fn(jnp, z)), (jnp.asarray(Z),), (jnp.asarray(v),))
    actual = dualad.jvp(dualad.grad(lambda z: fn(np, z)), (Z,), (v,))
    _close(actual, tuple(map(np.asarray, expected)), rtol=1e-9, what=name)


# --------------------------------------------------------------------------- holomorphic


HOLOMORPHIC = {
    "z^3 exp": lambda np_, z: z ** 3 * np_.exp(z),
    "sqrt log": lambda np_, z: np_.sqrt(z) * np_.log(z + 2),
    "matrix": lambda np_, z: np_.linalg.solve(np_.outer(z, z) + 3 * np_.eye(3), z),
    "conj conj": lambda np_, z: np_.conj(np_.sin(np_.conj(z))),
}


@pytest.mark.parametrize("name", list(HOLOMORPHIC))
def test_holomorphic_jacobians_are_jaxs(name):
    fn = HOLOMORPHIC[name]
    expected = np.asarray(jax.jacfwd(lambda z: fn(jnp, z), holomorphic=True)(jnp.asarray(Z)))
    _close(dualad.jacfwd(lambda z: fn(np, z), holomorphic=True)(Z), expected, what=name)
    _close(dualad.jacrev(lambda z: fn(np, z), holomorphic=True)(Z), expected, what=name)
    _close(dualad.jacfwd(lambda z: fn(np, z), holomorphic=True, chunk_size=2)(Z), expected,
           what=name)


@pytest.mark.parametrize("name", list(HOLOMORPHIC))
def test_holomorphic_grad_and_hessian_are_jaxs(name):
    fn = HOLOMORPHIC[name]
    f = lambda np_, z: np_.sum(fn(np_, z) * np_.array([1.0, 2j, 3]))  # noqa: E731
    z = jnp.asarray(Z)
    grad = np.asarray(jax.grad(lambda z: f(jnp, z), holomorphic=True)(z))
    _close(dualad.grad(lambda z: f(np, z), holomorphic=True)(Z), grad, what=name)
    value, g = dualad.value_and_grad(lambda z: f(np, z), holomorphic=True)(Z)
    _close(g, grad, what=name)
    hessian = np.asarray(jax.hessian(lambda z: f(jnp, z), holomorphic=True)(z))
    _close(dualad.hessian(lambda z: f(np, z), holomorphic=True)(Z), hessian, rtol=1e-9,
           what=name)


def test_third_derivative_of_a_holomorphic_function_is_jaxs():
    f = lambda np_, z: np_.sin(z) * z ** 4 / (z + 3)  # noqa: E731
    z = 0.7 + 0.4j
    expected = jax.grad(jax.grad(jax.grad(lambda z: f(jnp, z), holomorphic=True),
                                 holomorphic=True), holomorphic=True)(z)
    d = dualad.grad
    actual = d(d(d(lambda z: f(np, z), holomorphic=True), holomorphic=True),
               holomorphic=True)(z)
    _close(actual, np.asarray(expected), rtol=1e-9)
    third = dualad.jacfwd(dualad.jacrev(dualad.grad(lambda z: f(np, z), holomorphic=True),
                                        holomorphic=True), holomorphic=True)(np.array(z))
    _close(third, np.asarray(expected), rtol=1e-9)


def test_jacfwd_of_real_inputs_may_return_complex_values():
    f = lambda np_, x: x * (1 + 2j) + np_.exp(1j * x)  # noqa: E731
    _close(dualad.jacfwd(lambda x: f(np, x))(X),
           np.asarray(jax.jacfwd(lambda x: f(jnp, x))(jnp.asarray(X))))


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("call, error, fragments", [
    (lambda: dualad.grad(lambda z: np.sum(z ** 2))(Z), InvalidInputError,
     ["real-valued output", "holomorphic=True"]),
    (lambda: dualad.grad(lambda x: np.sum(x * 1j))(X), InvalidInputError,
     ["real-valued output", "holomorphic=True"]),
    (lambda: dualad.grad(lambda z: np.sum(z ** 2), holomorphic=True)(X), InvalidInputError,
     ["holomorphic=True", "complex inputs", "argument 1"]),
    (lambda: dualad.grad(lambda z: np.abs(z[0]), holomorphic=True)(Z), InvalidInputError,
     ["holomorphic=True", "complex outputs"]),
    (lambda: dualad.jacfwd(lambda z: z ** 2)(Z), InvalidInputError,
     ["real inputs unless holomorphic=True", "dualad.jvp"]),
    (lambda: dualad.jacfwd(np.abs, holomorphic=True)(Z), InvalidInputError,
     ["holomorphic=True", "complex outputs"]),
    (lambda: dualad.jacrev(lambda x: x * 1j)(X), InvalidInputError,
     ["real-valued output", "dualad.vjp"]),
    (lambda: dualad.jacrev(lambda z: z * 1j, holomorphic=True)(X), InvalidInputError,
     ["holomorphic=True", "complex inputs"]),
    (lambda: dualad.hessian(lambda z: np.sum(np.abs(z) ** 2))(Z), InvalidInputError,
     ["real inputs unless holomorphic=True"]),
    (lambda: dualad.jvp(np.sin, (X,), (Z,)), ShapeMismatchError, ["argument 1", "complex"]),
    (lambda: dualad.vjp(np.sin, X)[1](Z), ShapeMismatchError, ["output 0", "complex"]),
    (lambda: dualad.jvp(np.sign, (Z,), (Z,)), UnsupportedPrimitiveError,
     ["np.sign", "z / np.abs(z)"]),
    (lambda: dualad.grad(lambda a: np.sum(np.linalg.eigh(a)[0]))(A + A.conj().T),
     UnsupportedPrimitiveError, ["np.linalg.eigh", "complex", "np.real"]),
    (lambda: dualad.jvp(np.linalg.cholesky, (A @ A.conj().T,), (A,)),
     UnsupportedPrimitiveError, ["np.linalg.cholesky", "complex"]),
    (lambda: dualad.jvp(np.linalg.svd, (A,), (A,)), UnsupportedPrimitiveError,
     ["np.linalg.svd", "complex", "[[re, -im], [im, re]]"]),
    (lambda: dualad.grad(np.linalg.cond)(A), UnsupportedPrimitiveError,
     ["np.linalg.cond", "complex"]),
    (lambda: dualad.grad(lambda a: np.linalg.norm(a, "nuc"))(A), UnsupportedPrimitiveError,
     ["np.linalg.norm", "'nuc'", "ord='fro'"]),
    (lambda: dualad.jvp(np.linalg.qr, (A,), (A,)), UnsupportedPrimitiveError,
     ["np.linalg.qr", "complex"]),
    (lambda: dualad.jvp(np.linalg.slogdet, (A,), (A,)), UnsupportedPrimitiveError,
     ["np.linalg.slogdet", "complex"]),
    (lambda: dualad.jvp(np.linalg.pinv, (A,), (A,)), UnsupportedPrimitiveError,
     ["np.linalg.pinv", "complex"]),
    (lambda: dualad.jacfwd(lambda x: np.linalg.eigh(x * 1j + np.eye(3))[0])(X),
     UnsupportedPrimitiveError, ["np.linalg.eigh", "complex"]),
])
def test_refusals_name_the_function_and_the_fix(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_a_users_primitive_takes_complex_values_only_when_declared():
    rules = {"jvp": lambda dx, x, *, out: 2 * x * dx, "vjp": lambda ct, x, *, out: ct * 2 * x}
    real_only = dualad.REGISTRY.get("complex_test_square") or dualad.defprimitive(
        "complex_test_square", impl=lambda x: x * x, **rules)
    with pytest.raises(UnsupportedPrimitiveError, match="complex_rules=True"):
        dualad.grad(lambda z: np.abs(real_only(z)), holomorphic=False)(1 + 1j)
    square = dualad.REGISTRY.get("complex_test_square_c") or dualad.defprimitive(
        "complex_test_square_c", impl=lambda x: x * x, complex_rules=True, **rules)
    z = np.array([1 + 2j, 0.5 - 1j])
    _close(dualad.jacrev(square, holomorphic=True)(z), np.diag(2 * z))
    _close(dualad.jacfwd(square, holomorphic=True)(z), np.diag(2 * z))


def test_a_dual_tangent_takes_the_primals_dtype():
    d = dualad.Dual(np.array([1j]), np.ones((1, 1)))
    assert d.tangent.dtype == np.complex128
    with pytest.raises(ShapeMismatchError, match="real primal"):
        dualad.Dual(np.array([1.0]), np.ones((1, 1)) * 1j)


# --------------------------------------------------------------------------- np.fft

_REAL_IN = {"rfft", "ihfft", "rfft2", "rfftn"}
_ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
_MANY_AXES = ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "irfft2", "rfftn", "irfftn"]
FFT_CASES = {}
for _name in _ONE_AXIS + _MANY_AXES:
    _arg = RNG.uniform(-1, 1, (3, 4)) if _name in _REAL_IN else _c(3, 4)
    for _norm in (None, "backward", "ortho", "forward"):
        FFT_CASES[f"{_name}-{_norm}"] = (
            lambda np_, z, name=_name, norm=_norm: getattr(np_.fft, name)(z, norm=norm), (_arg,))
    if _name in _ONE_AXIS:  # cropped (n < length) and zero-padded (n > length), axis 0
        FFT_CASES[f"{_name}-n=3-axis=0"] = (
            lambda np_, z, name=_name: getattr(np_.fft, name)(z, n=3, axis=0), (_arg,))
        FFT_CASES[f"{_name}-n=9"] = (
            lambda np_, z, name=_name: getattr(np_.fft, name)(z, 9, norm="ortho"), (_arg,))
    else:
        FFT_CASES[f"{_name}-s-axes"] = (
            lambda np_, z, name=_name: getattr(np_.fft, name)(z, s=(5, 2), axes=(1, 0)),
            (_arg,))
FFT_CASES["fftshift"] = (lambda np_, z: np_.fft.fftshift(z), (_c(3, 4),))
FFT_CASES["ifftshift-axes"] = (lambda np_, z: np_.fft.ifftshift(z, axes=1), (_c(3, 5),))
FFT_CASES["spectrum power"] = (
    lambda np_, x: np_.abs(np_.fft.rfft(np_.sin(x), norm="ortho")) ** 2, (X,))
CASES.update(FFT_CASES)  # the jvp and vjp tests above read CASES


@pytest.mark.parametrize("name", list(FFT_CASES))
def test_fft_jvp_and_vjp_match_jax(name):
    test_jvp_and_vjp_match_jax(name)


@pytest.mark.parametrize("name", ["fft", "ifft", "fft2", "ifftn"])
def test_fft_holomorphic_jacobian_is_jaxs(name):
    z = _c(2, 3)
    expected = np.asarray(jax.jacfwd(lambda z: getattr(jnp.fft, name)(z, norm="ortho"),
                                     holomorphic=True)(jnp.asarray(z)))
    for jacobian in (dualad.jacfwd, dualad.jacrev):
        _close(jacobian(lambda z: getattr(np.fft, name)(z, norm="ortho"),
                        holomorphic=True)(z), expected, what=name)


def test_second_order_through_fft_is_jaxs():
    """A real function of a complex signal through fft, irfft and hfft: jvp of its grad."""
    def f(np_, z):
        spectrum = np_.fft.fft(z * z, norm="ortho")
        back = np_.fft.irfft(spectrum[:3], n=4) + np_.fft.hfft(z, 4, norm="forward")
        return np_.sum(np_.abs(spectrum) ** 3) + np_.sum(back ** 2)

    z, v = _c(4), _c(4)
    expected = jax.jvp(jax.grad(lambda z: f(jnp, z)), (jnp.asarray(z),), (jnp.asarray(v),))
    actual = dualad.jvp(dualad.grad(lambda z: f(np, z)), (z,), (v,))
    _close(actual, tuple(map(np.asarray, expected)), rtol=1e-9)


# --------------------------------------------------------------------------- eig, eigvals, roots


def _jax_eig(a):
    """JAX's eig with eigenvector derivatives, which differentiate LAPACK's (NumPy's)
    normalisation: unit 2-norm, largest component real."""
    return jax.lax.linalg.eig(a, compute_left_eigenvectors=False, enable_eigvec_derivs=True)


def _general(rng, n, complex_values):
    """Distinct eigenvalues; for a real matrix, a complex pair among them."""
    a = 0.5 * rng.normal(size=(n, n)) + 2 * np.diag(np.arange(n))
    a[0, 1], a[1, 0] = a[0, 1] + 3, a[1, 0] - 3
    return a + 1j * rng.normal(size=(n, n)) if complex_values else a


@pytest.mark.parametrize("complex_values", [False, True], ids=["real", "complex"])
def test_eig_jvp_and_vjp_are_jaxs(complex_values):
    rng = np.random.default_rng(7)
    a = _general(rng, 4, complex_values)
    da = _general(rng, 4, complex_values) - 2 * np.diag(np.arange(4))
    w, v = np.linalg.eig(a)
    assert np.iscomplexobj(w)  # a complex pair among the eigenvalues of the real matrix too
    expected = jax.jvp(_jax_eig, (jnp.asarray(a),), (jnp.asarray(da),))
    value, tangent = dualad.jvp(lambda a: tuple(np.linalg.eig(a)), (a,), (da,))
    _close(value, tuple(map(np.asarray, expected[0])), what="eig values")
    _close(tangent, tuple(map(np.asarray, expected[1])), rtol=1e-9, what="eig jvp")
    gw, gv = _like(w, rng), _like(v, rng)
    _, pullback = jax.vjp(lambda a: tuple(_jax_eig(a)), jnp.asarray(a))
    _, mine = dualad.vjp(lambda a: tuple(np.linalg.eig(a)), a)
    _close(mine((gw, gv))[0], np.asarray(pullback((gw, gv))[0]), rtol=1e-9, what="eig vjp")


def test_eigvals_and_roots_match_jax_in_both_modes():
    rng = np.random.default_rng(8)
    a = _general(rng, 4, True)
    for fn in (lambda np_, a: np_.linalg.eigvals(a), lambda np_, a: np_.linalg.eig(a)[0]):
        expected = np.asarray(jax.jacfwd(lambda a: jnp.linalg.eigvals(a),
                                         holomorphic=True)(jnp.asarray(a)))
        _close(dualad.jacfwd(lambda a, fn=fn: fn(np, a), holomorphic=True)(a), expected,
               rtol=1e-9)
        _close(dualad.jacrev(lambda a, fn=fn: fn(np, a), holomorphic=True)(a), expected,
               rtol=1e-9)
    p = np.poly([2.0, -1.0, 0.5 + 1j, 0.5 - 1j]).real + 0.1 * rng.normal(size=5)
    expected = np.asarray(jax.jacfwd(lambda p: jnp.roots(p))(jnp.asarray(p)))
    _close(dualad.jacfwd(np.roots)(p), expected, rtol=1e-9)
    u = _like(np.roots(p), rng)
    _, pullback = jax.vjp(jnp.roots, jnp.asarray(p))
    _close(dualad.vjp(np.roots, p)[1](u)[0], np.asarray(pullback(u)[0]), rtol=1e-9)


def test_a_gauge_invariant_function_of_eigenvectors_matches_central_differences():
    """V diag(w) V^-1 is a itself, whatever the eigenvectors' phases: its gradient is the
    identity's, in both modes and to second order."""
    rng = np.random.default_rng(9)
    a = _general(rng, 3, False)
    u = rng.normal(size=(3, 3))

    def rebuilt(a):
        w, v = np.linalg.eig(a)
        return np.sum(u * np.real(v @ np.diag(w) @ np.linalg.inv(v)))

    _close(dualad.grad(rebuilt)(a), u, rtol=1e-9)
    _close(dualad.jacfwd(rebuilt)(a), u, rtol=1e-9)
    _close(dualad.hessian(rebuilt)(a), np.zeros((3, 3, 3, 3)), atol=1e-9)


def test_roots_refuses_zero_end_coefficients():
    with pytest.raises(UnsupportedPrimitiveError, match="np.roots.*zero first or last"):
        dualad.jacfwd(np.roots)(np.array([1.0, -3.0, 2.0, 0.0]))
    with pytest.raises(UnsupportedPrimitiveError, match="np.roots.*zero first or last"):
        dualad.grad(lambda p: np.sum(np.abs(np.roots(p))))(np.array([0.0, 1.0, -3.0, 2.0]))
    # the advice works: the zero sliced off as a constant
    p = np.array([1.0, -3.0, 2.0, 0.0])
    expected = np.asarray(jax.jacfwd(lambda p: jnp.roots(p[:3]))(jnp.asarray(p)))
    np.testing.assert_allclose(np.imag(expected), 0.0)  # real roots: NumPy returns floats
    _close(dualad.jacfwd(lambda p: np.roots(p[:3]))(p), np.real(expected), rtol=1e-9)


# --------------------------------------------------------------------------- traces


def test_a_trace_of_complex_values_shows_them_and_its_json_is_valid():
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from dualad.traces.formats import FORMATS, JSON_SCHEMA

    t = dualad.trace(lambda x: np.abs(x * (1 + 2j)), 1.5)
    text = str(t)
    assert "v1 = x * (1+2j)" in text and "= 1.5+3j" in text
    assert "0.447-0.894j" in text  # v1_bar = conj(v1) / |v1|, JAX's cotangent
    np.testing.assert_allclose(t.gradient["x"], np.sqrt(5.0), rtol=1e-12)
    document = json.loads(FORMATS["json"].render(t))
    jsonschema.validate(document, JSON_SCHEMA)
    assert {"re": 1.5, "im": 3.0} in [node["primal"] for node in document["nodes"]]


def test_the_gradient_of_a_real_function_of_z_is_df_dx_minus_i_df_dy():
    """The convention in words (docs/complex.md), by central differences along x and y."""
    f = lambda z: np.real(np.sin(z) * np.conj(z)) + np.abs(z) ** 3  # noqa: E731
    z, eps = 0.8 - 0.3j, 1e-6
    dx = (f(z + eps) - f(z - eps)) / (2 * eps)
    dy = (f(z + 1j * eps) - f(z - 1j * eps)) / (2 * eps)
    np.testing.assert_allclose(dualad.grad(f)(z), dx - 1j * dy, rtol=1e-8)
