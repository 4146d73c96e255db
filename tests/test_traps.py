"""The traps that make forward-mode derivatives silently wrong (DESIGN.md), one test each.

Every derivative is compared with an independent reference: ``jax.jacfwd``/``jax.jvp`` in
float64 on the same program written with ``jax.numpy``, or a closed form. Conversions that
would drop a tangent, unsupported functions and in-place writes must raise instead.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad import ConversionError, UnsupportedPrimitiveError

from .reference import assert_tree_close

RNG = np.random.default_rng(20240601)


_assert_close = assert_tree_close


def _jax_jac(call, arrays, argnums, jit=True):
    # jit compiles the whole reference once, about twice as fast as JAX's op-by-op mode.
    transform = jax.jacfwd(lambda *xs: call(jnp, *xs), argnums=argnums)
    jac = (jax.jit(transform) if jit else transform)(*map(jnp.asarray, arrays))
    return jax.tree_util.tree_map(np.asarray, jac)


def check_jacfwd(call, *arrays, argnums=None, chunk_sizes=(None,), rtol=1e-10, jit=True):
    """``dualad.jacfwd`` of ``call(np, ...)`` equals ``jax.jacfwd`` of ``call(jnp, ...)``.

    Returns JAX's Jacobians (w.r.t. every argument when ``argnums`` is None), so that a test
    can check more against the same reference without calling JAX again.
    """
    argnums = tuple(range(len(arrays))) if argnums is None else argnums
    expected = _jax_jac(call, arrays, argnums, jit)
    for chunk_size in chunk_sizes:
        actual = dualad.jacfwd(lambda *xs: call(np, *xs), argnums=argnums,
                               chunk_size=chunk_size)(*arrays)
        _assert_close(actual, expected, rtol=rtol, what=f"chunk_size={chunk_size}")
    return expected


def check_jvp(call, arrays, jacobians):
    """``dualad.jvp`` of ``call(np, ...)`` in a random direction equals ``sum_i J_i v_i``."""
    tangents = tuple(RNG.normal(size=np.shape(a)) for a in arrays)
    y, dy = dualad.jvp(lambda *xs: call(np, *xs), arrays, tangents)
    expected = sum(np.tensordot(J, v, axes=np.ndim(v))
                   for J, v in zip(jacobians, tangents, strict=True))
    _assert_close(y, call(np, *(np.copy(a) for a in arrays)), what="primal")
    _assert_close(dy, expected, what="tangent")


# --------------------------------------------------------------------------- broadcasting

# chunk sizes equal to (3, 4) and different from (5, 1) the broadcast sizes, and all at once.
CHUNKS = (3, 4, 5, 1, None)

BROADCAST_CASES = [
    pytest.param(lambda np_, x, b: x + b, ((3, 4), (4,)), id="x(3,4)+b(4,)"),
    pytest.param(lambda np_, x, b: b + x, ((3, 4), (4,)), id="b(4,)+x(3,4)"),
    pytest.param(lambda np_, x, b: x * b, ((3, 4), (4,)), id="x(3,4)*b(4,)"),
    pytest.param(lambda np_, x, b: b / (x * x + 1), ((3, 4), (4,)), id="b(4,)/x(3,4)"),
    pytest.param(lambda np_, x, b: x - b, ((3, 4), (3, 1)), id="x(3,4)-b(3,1)"),
    pytest.param(lambda np_, x, y: x * y, ((3, 1), (1, 4)), id="(3,1)*(1,4)"),
    pytest.param(lambda np_, x, y: np_.maximum(x, y), ((3, 1), (1, 4)), id="maximum(3,1)(1,4)"),
    pytest.param(lambda np_, s, x: s * x, ((), (3, 4)), id="scalar*(3,4)"),
    pytest.param(lambda np_, x, s: x - s, ((3, 4), ()), id="(3,4)-scalar"),
    pytest.param(lambda np_, x, b: np_.sin(x) * b + b, ((2, 3, 4), (4,)), id="(2,3,4)*(4,)"),
    pytest.param(lambda np_, x, b: x * b, ((4,), (3, 4)), id="(4,)*(3,4)"),
]


@pytest.mark.parametrize("call, shapes", BROADCAST_CASES)
def test_broadcast_against_lower_rank(call, shapes):
    arrays = tuple(RNG.normal(size=s) for s in shapes)
    jacobians = check_jacfwd(call, *arrays, chunk_sizes=CHUNKS)
    check_jvp(call, arrays, jacobians)
    # each operand alone, the other one a plain array: k = its own size only
    for i in range(len(arrays)):
        actual = dualad.jacfwd(lambda *xs: call(np, *xs), argnums=i, chunk_size=3)(*arrays)
        _assert_close(actual, jacobians[i], what=f"argnums={i}")


@pytest.mark.parametrize("k_shape", [(4,), (1, 4), (3, 1)])
def test_broadcast_with_plain_array_constant(k_shape):
    # The constant is a plain ndarray; the dual operand has the lower rank.
    const = RNG.normal(size=(3, 4))
    b = RNG.normal(size=k_shape)
    check_jacfwd(lambda np_, b: np_.asarray(const) * b - b, b, chunk_sizes=CHUNKS)


# --------------------------------------------------------------------------- axis arguments

AXES = [0, 1, -1, None, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
def test_reduction_axis_with_direction_axis(axis, keepdims):
    x = RNG.normal(size=(2, 3, 4))  # distinct values: no ties for max/min
    call = lambda np_, x: tuple(getattr(np_, name)(np_.sin(x), axis=axis, keepdims=keepdims)
                                for name in ("sum", "mean", "max", "min"))
    check_jacfwd(call, x, chunk_sizes=(None, 2, 3, 4, 5))


@pytest.mark.parametrize("axis", [0, -1, None], ids=str)
def test_reduction_methods_axis(axis):
    x = RNG.normal(size=(3, 4))
    check_jacfwd(lambda np_, x: x.sum(axis=axis) * x.max(axis=axis, keepdims=True), x,
                 chunk_sizes=(None, 3, 4))


# --------------------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((4, 1, 2, 3), (1, 3, 3, 2)),
]


@pytest.mark.parametrize("xs, ys", MATMUL_SHAPES, ids=str)
def test_matmul_shapes(xs, ys):
    x, y = RNG.normal(size=xs), RNG.normal(size=ys)
    Jx, Jy = check_jacfwd(lambda np_, x, y: x @ y, x, y, chunk_sizes=(None, 2, 3))
    check_jvp(lambda np_, x, y: np_.matmul(x, y), (x, y), (Jx, Jy))
    # one operand a plain ndarray, on either side (ndarray.__matmul__ must defer to the dual)
    _assert_close(dualad.jacfwd(lambda x: x @ y, chunk_size=3)(x), Jx, what="x @ plain")
    _assert_close(dualad.jacfwd(lambda y: x @ y, chunk_size=3)(y), Jy, what="plain @ y")
    _assert_close(dualad.jacfwd(lambda y: np.matmul(x, y))(y), Jy, what="np.matmul(plain, y)")


# --------------------------------------------------------------------------- indexing

_I = np.array([0, 2])
_J = np.array([1, 3])
_MASK0 = np.array([True, False, True])
_MASK1 = np.array([False, True, True, False])
_MASK3 = RNG.normal(size=(3, 4, 5)) > 0

INDEX_CASES = [
    pytest.param(lambda x: x[_I, :, _J], id="x[i,:,j]-separated"),
    pytest.param(lambda x: x[:, _I, _J], id="x[:,i,j]-adjacent"),
    pytest.param(lambda x: x[_I[:, None], 1:3, _J[None, :]], id="x[i[:,None],1:3,j]-2d"),
    pytest.param(lambda x: x[1, :, _J], id="x[1,:,j]"),
    pytest.param(lambda x: x[_I, 1], id="x[i,1]"),
    pytest.param(lambda x: x[1, ..., _I], id="x[1,...,i]"),
    pytest.param(lambda x: x[_MASK0], id="mask-axis0"),
    pytest.param(lambda x: x[:, _MASK1], id="mask-axis1"),
    pytest.param(lambda x: x[_MASK0, :, 2], id="mask-axis0-int"),
    pytest.param(lambda x: x[_MASK0, :, _J], id="mask-and-array-separated"),
    pytest.param(lambda x: x[_MASK3], id="mask-full"),
    pytest.param(lambda x: x[..., 1], id="ellipsis-int"),
    pytest.param(lambda x: x[..., _J], id="ellipsis-array"),
    pytest.param(lambda x: x[None, ..., None], id="None-ellipsis-None"),
    pytest.param(lambda x: x[:, None, 1], id="slice-None-int"),
    pytest.param(lambda x: x[::-1, ::-2, 1:-1], id="negative-steps"),
    pytest.param(lambda x: x[_I, ::-1], id="array-negative-step"),
    pytest.param(lambda x: x[-1, -2, -3], id="negative-ints"),
    pytest.param(lambda x: x[np.array([[0, 1], [2, 0]])], id="2d-index-array"),
]


@pytest.mark.parametrize("index", INDEX_CASES)
def test_advanced_indexing(index):
    x = RNG.normal(size=(3, 4, 5))
    check_jacfwd(lambda np_, x: index(np_.tanh(x)) * 2, x, chunk_sizes=(None, 3, 4, 5))


def test_indexing_with_argsort_results():
    x = RNG.normal(size=(5,))
    check_jacfwd(lambda np_, x: x[np_.argsort(x)] * np_.arange(5.0), x, chunk_sizes=(None, 2))
    m = RNG.normal(size=(3, 4))
    call = lambda np_, m: m[np_.arange(3)[:, None], np_.argsort(m, axis=1)]
    check_jacfwd(call, m, chunk_sizes=(None, 3, 4))


def test_indexing_with_mask_computed_from_values():
    x = RNG.normal(size=(3, 4))
    mask = x > 0
    # The mask is computed on dualad's side from the dual itself; JAX gets it precomputed.
    actual = dualad.jacfwd(lambda x: x[x > 0] ** 2)(x)
    expected = _jax_jac(lambda np_, x: x[mask] ** 2, (x,), 0)
    _assert_close(actual, expected)


# --------------------------------------------------------------------------- conversions


def _d(shape=(3,)):
    return dualad.Dual(RNG.normal(size=shape) + 2.0, RNG.normal(size=(2,) + shape))


CONVERSIONS = [
    pytest.param(lambda d: float(d[0]), id="float(d[0])"),
    pytest.param(lambda d: float(d), id="float(d)"),
    pytest.param(lambda d: int(d[0]), id="int(d[0])"),
    pytest.param(lambda d: complex(d[0]), id="complex(d[0])"),
    pytest.param(lambda d: np.asarray(d), id="np.asarray(d)"),
    pytest.param(lambda d: np.array(d), id="np.array(d)"),
    pytest.param(lambda d: np.asarray(d, dtype=float), id="np.asarray(d,float)"),
    pytest.param(lambda d: np.asarray(d[0], dtype=float), id="np.asarray(d0,float)"),
    pytest.param(lambda d: np.array(d[0], dtype=np.float64), id="np.array(d0,float64)"),
    pytest.param(lambda d: np.array(d[None]), id="np.array(d2d)"),
    pytest.param(lambda d: math.sin(d[0]), id="math.sin"),
    pytest.param(lambda d: math.exp(d[1]), id="math.exp"),
    pytest.param(lambda d: d.astype(int), id="astype(int)"),
    pytest.param(lambda d: d.astype(bool), id="astype(bool)"),
    pytest.param(lambda d: d.item(), id="item()"),
    pytest.param(lambda d: d[0].item(), id="d[0].item()"),
    pytest.param(lambda d: d.tolist(), id="tolist()"),
]


@pytest.mark.parametrize("convert", CONVERSIONS)
def test_conversion_that_drops_the_tangent_raises(convert):
    with pytest.raises(ConversionError) as excinfo:
        convert(_d())
    assert isinstance(excinfo.value, TypeError)
    assert isinstance(excinfo.value, dualad.DualadError)
    message = str(excinfo.value)
    assert "derivative" in message and ("dualad.primal" in message or "np." in message)


@pytest.mark.parametrize("convert", CONVERSIONS[:3] + CONVERSIONS[10:11])
def test_conversion_inside_a_transform_raises(convert):
    with pytest.raises(ConversionError):
        dualad.jvp(lambda x: convert(x * 2), (np.ones(3),), (np.ones(3),))
    with pytest.raises(ConversionError):
        dualad.jacfwd(lambda x: convert(x * 2))(np.ones(3))


def test_assigning_a_dual_into_a_plain_array_raises():
    d = _d()
    a = np.zeros(3)
    # NumPy calls float() (our ConversionError), but when the object supports indexing it
    # re-raises as ValueError("setting an array element with a sequence") *from* that error.
    with pytest.raises((ConversionError, ValueError)) as excinfo:
        a[0] = d[0]
    exc = excinfo.value
    assert isinstance(exc, ConversionError) or isinstance(exc.__cause__, ConversionError)
    assert np.all(a == 0)
    with pytest.raises(ConversionError):
        a[:] = d
    with pytest.raises(ConversionError):
        a[:2] = d[1:]
    assert np.all(a == 0)


def test_zero_d_asarray_without_dtype_keeps_the_dual():
    # np.asarray(d0) is the object-array holder used by np.array([d0, d1]); it must still
    # carry the dual, never the bare primal.
    d = _d()
    held = np.asarray(d[0])
    assert held.dtype == object and isinstance(held[()], dualad.Dual)


# --------------------------------------------------------------------------- unsupported

UNSUPPORTED = [
    pytest.param(np.unwrap, "np.unwrap", id="unwrap"),
    pytest.param(np.real_if_close, "np.real_if_close", id="real_if_close"),
    pytest.param(lambda d: np.resize(d, 5), "np.resize", id="resize"),
]


@pytest.mark.parametrize("call, name", UNSUPPORTED)
def test_unsupported_function_raises_and_names_it(call, name):
    d = _d()
    with pytest.raises(UnsupportedPrimitiveError) as excinfo:
        call(d)
    assert isinstance(excinfo.value, NotImplementedError)
    assert name in str(excinfo.value)
    with pytest.raises(UnsupportedPrimitiveError, match=name.replace(".", r"\.")):
        dualad.jacfwd(lambda x: call(x * 1.0))(np.arange(1.0, 4.0))


@pytest.mark.parametrize("call", [
    pytest.param(lambda d: np.sum(d, where=np.array([True, False, True])), id="sum-where"),
    pytest.param(lambda d: np.sum(d, dtype=int), id="sum-int-dtype"),
    pytest.param(lambda d: np.add(d, 1.0, where=np.array([True, False, True])), id="add-where"),
    pytest.param(lambda d: np.multiply(d, 2.0, dtype=int), id="multiply-int-dtype"),
])
def test_unsupported_arguments_raise_instead_of_being_ignored(call):
    with pytest.raises(UnsupportedPrimitiveError):
        call(_d())


# --------------------------------------------------------------------------- in place


def test_iadd_into_plain_array_raises_and_suggests_rebinding():
    d = _d()
    x = np.zeros(3)
    with pytest.raises(UnsupportedPrimitiveError) as excinfo:
        x += d
    assert "x = x + d" in str(excinfo.value)
    assert np.all(x == 0)


def test_inplace_operators_on_a_dual_rebind_like_jax():
    # No aliasing here: NumPy would mutate through an alias (y = x; y += 1 changes x),
    # while a dual's in-place operator rebinds, as in JAX.
    def f(np_, x):
        x += 1.0
        y = x * 2.0
        y *= x
        y -= np_.sin(x)
        y /= 2.0
        y **= 2
        return y

    x = RNG.normal(size=(3,))
    check_jvp(f, (x,), check_jacfwd(f, x, chunk_sizes=(None, 2)))


def test_inplace_on_a_dual_updates_aliases_but_not_the_callers_array():
    seen = []

    def f(x):
        before = x
        x += 1.0
        seen.append(before)
        return x

    x = np.array([1.0, 2.0])
    y, dy = dualad.jvp(f, (x,), (np.ones(2),))
    _assert_close(y, x + 1.0)
    _assert_close(dy, np.ones(2))
    _assert_close(seen[0].primal, x + 1.0)  # ``before`` aliases x, as in NumPy
    _assert_close(x, np.array([1.0, 2.0]))  # the caller's array is never written


def test_engines_never_write_into_an_input_tangent():
    """Sums of JVP contributions are formed in place in new arrays only: a rule may return
    its input tangent itself (add's does), which must stay untouched."""
    x, c = np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, -0.5])
    tx, tc = np.array([[1.0, 2.0, 3.0]]), np.array([[0.5, -1.0, 4.0]])
    keep_x, keep_c = tx.copy(), tc.copy()
    d, e = dualad.Dual(x, tx, tag=7), dualad.Dual(c, tc, tag=7)
    results = {"d*d": d * d, "d*e": d * e, "d+e": d + e, "e-d": e - d, "d/e": d / e,
               "d*d+d": d * d + d}
    np.testing.assert_array_equal(tx, keep_x)
    np.testing.assert_array_equal(tc, keep_c)
    expected = {"d*d": 2 * x * tx, "d*e": tx * c + x * tc, "d+e": tx + tc, "e-d": tc - tx,
                "d/e": tx / c - x * tc / c**2, "d*d+d": 2 * x * tx + tx}
    for name, y in results.items():
        np.testing.assert_allclose(y.tangent, expected[name], rtol=1e-15, err_msg=name)


@pytest.mark.parametrize("call", [
    pytest.param(lambda d, buf: np.add(d, 1.0, out=buf), id="add-out"),
    pytest.param(lambda d, buf: np.sin(d, out=buf), id="sin-out"),
    pytest.param(lambda d, buf: np.multiply(2.0, d, out=(buf,)), id="multiply-out-tuple"),
    pytest.param(lambda d, buf: np.sum(d[None], axis=0, out=buf), id="sum-out"),
])
def test_out_argument_raises(call):
    buf = np.zeros(3)
    with pytest.raises(UnsupportedPrimitiveError) as excinfo:
        call(_d(), buf)
    assert "out=" in str(excinfo.value)
    assert np.all(buf == 0)


UFUNC_METHODS = [
    pytest.param(lambda x, y: np.add.reduce(x), lambda x, y: jnp.sum(x, axis=0), id="add.reduce"),
    pytest.param(lambda x, y: np.add.reduce(x, axis=1), lambda x, y: jnp.sum(x, axis=1),
                 id="add.reduce-axis1"),
    pytest.param(lambda x, y: np.add.reduce(x, axis=None), lambda x, y: jnp.sum(x),
                 id="add.reduce-None"),
    pytest.param(lambda x, y: np.multiply.reduce(x), lambda x, y: jnp.prod(x, axis=0),
                 id="multiply.reduce"),
    pytest.param(lambda x, y: np.maximum.reduce(x, axis=-1), lambda x, y: jnp.max(x, axis=-1),
                 id="maximum.reduce"),
    pytest.param(lambda x, y: np.minimum.reduce(x), lambda x, y: jnp.min(x, axis=0),
                 id="minimum.reduce"),
    pytest.param(lambda x, y: np.add.accumulate(x), lambda x, y: jnp.cumsum(x, axis=0),
                 id="add.accumulate"),
    pytest.param(lambda x, y: np.add.accumulate(x, axis=1), lambda x, y: jnp.cumsum(x, axis=1),
                 id="add.accumulate-axis1"),
    pytest.param(lambda x, y: np.multiply.outer(x, y),
                 lambda x, y: jnp.reshape(x, x.shape + (1,)) * y, id="multiply.outer"),
    pytest.param(lambda x, y: np.subtract.outer(y, x),
                 lambda x, y: jnp.reshape(y, y.shape + (1, 1)) - x, id="subtract.outer"),
]


@pytest.mark.parametrize("call, reference", UFUNC_METHODS)
def test_ufunc_methods_match_jax(call, reference):
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(2,))
    expected = jax.tree_util.tree_map(
        np.asarray, jax.jit(jax.jacfwd(reference, argnums=(0, 1)))(jnp.asarray(x), jnp.asarray(y)))
    for chunk_size in (None, 3):
        actual = dualad.jacfwd(call, argnums=(0, 1), chunk_size=chunk_size)(x, y)
        _assert_close(actual, expected, what=f"chunk_size={chunk_size}")


@pytest.mark.parametrize("call, fragment", [
    pytest.param(lambda d: np.add.at(np.zeros(3), np.array([0, 0]), d[:2]), "np.zeros_like",
                 id="add.at-into-plain"),
    pytest.param(lambda d: np.multiply.at(d, np.array([0, 0]), 2.0), "not supported",
                 id="multiply.at-into-dual"),
    pytest.param(lambda d: np.add.reduceat(d, np.array([0, 2])), "not supported",
                 id="add.reduceat"),
    pytest.param(lambda d: np.arctan2.reduce(d), "not supported", id="arctan2.reduce"),
])
def test_unsupported_ufunc_methods_raise(call, fragment):
    with pytest.raises(UnsupportedPrimitiveError) as excinfo:
        call(_d())
    assert fragment in str(excinfo.value)


def test_add_at_into_a_dual_updates_it():
    d = _d()
    primal, tangent = d.primal.copy(), d.tangent.copy()
    np.add.at(d, np.array([0, 0]), d[1:3] * 2.0)  # d[0] += 2 d[1] + 2 d[2]
    jacobian = np.eye(3)
    jacobian[0, 1:3] = 2.0
    np.testing.assert_allclose(d.primal, jacobian @ primal)
    np.testing.assert_allclose(d.tangent, tangent @ jacobian.T)


# --------------------------------------------------------------------------- object arrays

_SEED_X = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
_SEED_Y = np.array([1.0])


def _correlation_loss(W, H):
    """The notebook's code as written: a 2x2 correlation assembled from scalars, relu, sigmoid."""
    X = _SEED_X
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]
    A = np.array([[A00, A01], [A10, A11]])
    R = np.clip(A, 0, np.inf)
    B = (R.reshape(-1) * H).sum()
    Z = 1 / (1 + np.exp(-B))
    return ((Z - _SEED_Y) ** 2).sum()


def _correlation_loss_jax(W, H):
    X = jnp.asarray(_SEED_X, dtype=float)
    A = jnp.stack([
        jnp.stack([jnp.sum(X[0:2, 0:2] * W), jnp.sum(X[0:2, 1:3] * W)]),
        jnp.stack([jnp.sum(X[1:3, 0:2] * W), jnp.sum(X[1:3, 1:3] * W)]),
    ])
    R = jnp.clip(A, 0, jnp.inf)
    B = (R.reshape(-1) * H).sum()
    Z = 1 / (1 + jnp.exp(-B))
    return ((Z - jnp.asarray(_SEED_Y)) ** 2).sum()


@pytest.mark.parametrize("W", [
    pytest.param(np.array([[0.1, -0.1], [0.2, 0.01]]), id="seed-values"),
    pytest.param(np.array([[0.1, -0.3], [-0.2, 0.05]]), id="some-relu-off"),
])
def test_object_array_of_scalar_duals_correlation(W):
    H = np.array([0.05, -0.2, 0.2, 0.5])
    expected = jax.jit(jax.jacfwd(_correlation_loss_jax, argnums=(0, 1)))(jnp.asarray(W),
                                                                       jnp.asarray(H))
    for chunk_size in (None, 3):
        actual = dualad.jacfwd(_correlation_loss, argnums=(0, 1), chunk_size=chunk_size)(W, H)
        _assert_close(actual, jax.tree_util.tree_map(np.asarray, expected))
    _assert_close(dualad.jvp(_correlation_loss, (W, H), (np.zeros((2, 2)), np.zeros(4)))[0],
                  _correlation_loss_jax(jnp.asarray(W), jnp.asarray(H)))


def test_correlation_matches_the_autograd_numbers_of_the_notebook():
    W = np.array([[0.1, -0.1], [0.2, 0.01]])
    H = np.array([0.05, -0.2, 0.2, 0.5])
    dW = dualad.jacfwd(_correlation_loss)(W, H)
    expected = np.array([[-0.34394106, -0.40806568], [-0.5363149, -0.6004395]])  # float32
    _assert_close(dW, expected, rtol=1e-6, atol=1e-7)


def test_object_array_output_and_mixed_plain_entries():
    def f(np_, x):
        if np_ is np:
            return np.array([x[0] * x[1], np.sin(x[2]), 3.0])
        return jnp.stack([x[0] * x[1], jnp.sin(x[2]), jnp.asarray(3.0)])

    x = RNG.normal(size=(3,))
    check_jacfwd(f, x, chunk_sizes=(None, 1, 2))
    check_jacfwd(lambda np_, x: (f(np_, x) * np_.asarray([1.0, 2.0, 3.0])).sum(), x)


def _array(np_, items):
    """``items`` as the array NumPy makes of them (JAX's operators take no lists)."""
    return items if np_ is np else jnp.asarray(items)


@pytest.mark.parametrize("name, call", [
    ("concatenate, an item a list",
     lambda np_, x: np_.concatenate([x * 2.0, _array(np_, [np_.sum(x)])])),
    ("concatenate, first item a list",
     lambda np_, x: np_.concatenate([_array(np_, [x[0]]), x * 2.0])),
    ("append", lambda np_, x: np_.append(x * 2.0, _array(np_, [np_.sum(x)]))),
    ("hstack", lambda np_, x: np_.hstack([x * 2.0, _array(np_, [np_.sum(x)])])),
    ("stack", lambda np_, x: np_.stack([x * 2.0, np_.asarray([x[0], x[1], 1.0])])),
    ("where", lambda np_, x: np_.where(x > 1.5, _array(np_, [x[0], x[1], x[2]]), x * 3.0)),
    ("maximum", lambda np_, x: np_.maximum(x, _array(np_, [x[1], 0.0, 0.0]))),
    ("clip", lambda np_, x: np_.clip(x, _array(np_, [x[1], 0.0, 0.0]), 10.0)),
    ("add, a tuple", lambda np_, x: np_.add(x, _array(np_, (x[1], 0.0, 0.0)))),
    ("matmul", lambda np_, x: np_.matmul(_array(np_, [[x[0], 1.0], [2.0, x[1]]]), x[:2])),
    ("an operator", lambda np_, x: x * _array(np_, [x[1], 1.0, 1.0])),
    ("a reflected operator", lambda np_, x: _array(np_, [x[1], 1.0, 1.0]) - x),
    ("@", lambda np_, x: x[:2] @ _array(np_, [[x[0], 1.0], [2.0, x[1]]])),
])
def test_lists_holding_active_values_are_arrays(name, call):
    # NumPy makes an object array of a list holding dual values; beside an array that
    # carries its own derivative, that derivative was lost (np.concatenate([a, [d]])):
    # every such list is stacked into one array first, as NumPy would make one of it
    x = np.array([1.0, 2.0, 3.0])
    check_jacfwd(call, x)
    expected = jax.jacrev(lambda x: call(jnp, x))(x)
    _assert_close(dualad.jacrev(lambda x: call(np, x))(x), expected, what="jacrev")


def test_a_parameter_holding_active_values_raises():
    x = np.array([0.0, 1.0, 2.0])
    with pytest.raises(UnsupportedPrimitiveError, match="indices= holds active values"):
        dualad.jacfwd(lambda x: np.take(x, [x[0], x[1]]))(x)


# --------------------------------------------------------------------------- dtypes


def test_float32_stays_float32():
    x = RNG.normal(size=(3,)).astype(np.float32)
    v = np.ones(3, dtype=np.float32)
    seen = {}

    def f(x):
        seen["primal"], seen["tangent"] = x.primal.dtype, x.tangent.dtype
        return np.sum(np.sin(x) * 2.0 + x ** 2) + x @ x

    y, dy = dualad.jvp(f, (x,), (v,))
    assert seen == {"primal": np.float32, "tangent": np.float32}
    assert np.asarray(y).dtype == np.float32 and np.asarray(dy).dtype == np.float32
    J = dualad.jacfwd(lambda x: np.tanh(x) * x[::-1])(x)
    assert J.dtype == np.float32
    x64 = x.astype(np.float64)
    expected = jax.jacfwd(lambda x: jnp.tanh(x) * x[::-1])(jnp.asarray(x64))
    _assert_close(J, expected, rtol=1e-6, atol=1e-6)
    _assert_close(dy, jax.jvp(lambda x: jnp.sum(jnp.sin(x) * 2.0 + x ** 2) + x @ x,
                              (jnp.asarray(x64),), (jnp.ones(3),))[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x", [
    pytest.param(np.array([1, 2, 3]), id="int64"),
    pytest.param(np.array([1, 2, 3], dtype=np.int32), id="int32"),
    pytest.param(np.array([1, 2, 3], dtype=np.uint8), id="uint8"),
])
def test_integer_inputs_are_promoted_to_float64(x):
    seen = []
    J = dualad.jacfwd(lambda x: seen.append(x.dtype) or x ** 3)(x)
    assert seen == [np.float64]
    assert J.dtype == np.float64
    _assert_close(J, np.diag(3.0 * np.asarray(x, dtype=float) ** 2))
    y, dy = dualad.jvp(lambda x: x ** 3, (x,), (np.ones(3),))
    assert np.asarray(y).dtype == np.float64
    _assert_close(dy, 3.0 * np.asarray(x, dtype=float) ** 2)


def test_python_int_and_bool_inputs():
    _assert_close(dualad.jvp(lambda x: x * x, (3,), (1.0,))[1], 6.0)
    _assert_close(dualad.jacfwd(lambda x: x * x)(3), 6.0)
    J = dualad.jacfwd(lambda b: b * 2.0)(np.array([True, False]))
    assert J.dtype == np.float64
    _assert_close(J, 2.0 * np.eye(2))


# --------------------------------------------------------------------------- perturbation confusion


def test_confusion_nested_jvp():
    # d/dx [x * d/dy (x + y)](x=1) = 1 (a confused implementation gives 2).
    def outer(x):
        return x * dualad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    _, d = dualad.jvp(outer, (1.0,), (1.0,))
    assert d == 1.0


def test_confusion_nested_jacfwd_and_mixed():
    inner_jac = lambda x: dualad.jacfwd(lambda y: x + y)(1.0)
    inner_jvp = lambda x: dualad.jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    assert dualad.jacfwd(lambda x: x * inner_jac(x))(1.0) == 1.0
    assert dualad.jacfwd(lambda x: x * inner_jvp(x))(1.0) == 1.0
    assert dualad.jvp(lambda x: x * inner_jac(x), (1.0,), (1.0,))[1] == 1.0


def test_confusion_inner_derivative_depends_on_outer():
    # d/dx [x * d/dy (x * y)] = d/dx x**2 = 2x.
    f = lambda x: x * dualad.jacfwd(lambda y: x * y)(1.0)
    assert dualad.jacfwd(f)(1.5) == 3.0
    assert dualad.jvp(f, (1.5,), (1.0,))[1] == 3.0


def test_confusion_inner_point_is_the_outer_variable():
    # d/dx [d/dy (x * y) at y = x] = d/dx x = 1 (2 if the perturbations are confused).
    f = lambda x: dualad.jvp(lambda y: x * y, (x,), (1.0,))[1]
    assert dualad.jacfwd(f)(2.0) == 1.0
    g = lambda x: dualad.jacfwd(lambda y: x * y)(x)
    assert dualad.jacfwd(g)(2.0) == 1.0


def test_confusion_three_levels():
    # g(x) = x * d/dy[y * d/dz(x y z)](y0) = x * 2 x y0, g'(x) = 4 x y0.
    y0, z0 = 2.0, 3.0

    def g(x):
        h = lambda y: y * dualad.jacfwd(lambda z: x * y * z)(z0)
        return x * dualad.jacfwd(h)(y0)

    _assert_close(dualad.jacfwd(g)(1.5), 4 * 1.5 * y0)
    _assert_close(dualad.jvp(g, (1.5,), (1.0,))[1], 4 * 1.5 * y0)


def test_confusion_vector_inner_derivative():
    # Array version: d/dx sum(x * J_y[x * y](y0) @ 1) = d/dx sum(x**2) = 2x.
    x = RNG.normal(size=(3,))
    f = lambda x: np.sum(x * (dualad.jacfwd(lambda y: x * y)(np.ones(3)) @ np.ones(3)))
    _assert_close(dualad.jacfwd(f)(x), 2 * x)


def _hess_fun(np_, x):
    A = np_.asarray(np.arange(12.0).reshape(4, 3) / 10 - 0.5)
    return (np_.sum(np_.tanh(A @ x) ** 2) + x[0] * x[1] * x[2]
            + np_.sum(np_.sin(x) * np_.exp(-x * x)) + np_.sum(np_.log1p(x * x) / (2 + x)))


def test_second_derivatives_match_jax_hessian():
    x, u, v = RNG.normal(size=(3,)), RNG.normal(size=(3,)), RNG.normal(size=(3,))
    expected = np.asarray(jax.jit(jax.hessian(lambda x: _hess_fun(jnp, x)))(jnp.asarray(x)))
    for inner, outer in [(None, None), (1, 2)]:
        H = dualad.jacfwd(dualad.jacfwd(lambda x: _hess_fun(np, x), chunk_size=inner),
                          chunk_size=outer)(x)
        _assert_close(H, expected, rtol=1e-9)
    # second directional derivative u^T H v by nested jvp
    dd = lambda x: dualad.jvp(lambda x: _hess_fun(np, x), (x,), (v,))[1]
    _assert_close(dualad.jvp(dd, (x,), (u,))[1], u @ expected @ v, rtol=1e-9)
    # mixed: jvp over jacfwd, jacfwd over jvp
    _assert_close(dualad.jvp(dualad.jacfwd(lambda x: _hess_fun(np, x)), (x,), (u,))[1],
                  expected @ u, rtol=1e-9)
    _assert_close(dualad.jacfwd(dd)(x), expected @ v, rtol=1e-9)


# --------------------------------------------------------------------------- kinks (JAX's)

KINKS = [
    pytest.param(lambda np_, x: np_.abs(x), [0.0, -1.0, 2.0], id="abs-at-0"),
    pytest.param(lambda np_, x: np_.maximum(x, 0.0), [0.0, -1.0, 2.0], id="relu-at-0"),
    pytest.param(lambda np_, x: np_.maximum(x[0], x[1]), [1.0, 1.0], id="maximum-tie"),
    pytest.param(lambda np_, x: np_.minimum(x[0], x[1]), [1.0, 1.0], id="minimum-tie"),
    pytest.param(lambda np_, x: np_.minimum(x, x[::-1]), [2.0, 3.0, 2.0], id="minimum-tie-vec"),
    pytest.param(lambda np_, x: np_.clip(x, 0.0, 1.0), [0.0, 1.0, 0.5, -1.0, 2.0], id="clip"),
    pytest.param(lambda np_, x: np_.max(x), [1.0, 3.0, 3.0], id="amax-2-way-tie"),
    pytest.param(lambda np_, x: np_.max(x), [3.0, 3.0, 3.0], id="amax-3-way-tie"),
    pytest.param(lambda np_, x: np_.min(x), [1.0, 1.0, 3.0], id="amin-tie"),
    pytest.param(lambda np_, x: np_.max(np_.reshape(x, (2, 2)), axis=0), [1.0, 2.0, 1.0, 0.0],
                 id="amax-axis-tie"),
    pytest.param(lambda np_, x: x ** 0, [0.0, 2.0], id="x**0-int-at-0"),
    pytest.param(lambda np_, x: np_.sqrt(x), 0.0, id="sqrt-at-0"),
    pytest.param(lambda np_, x: np_.log(x), 0.0, id="log-at-0"),
    pytest.param(lambda np_, x: np_.sign(x) + np_.floor(x) * x[::-1], [0.0, 1.0],
                 id="sign-floor"),
]


@pytest.mark.parametrize("call, x", KINKS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_kink_conventions_follow_jax(call, x):
    # JAX without jit: XLA's simplifications may change what happens at a kink.
    check_jacfwd(call, np.array(x), jit=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float_power_zero_exponent_at_zero_is_zero():
    # JAX gives nan for d/dx x**0.0 at x = 0; DESIGN.md prefers the limit, 0.
    x = np.array([0.0, 2.0])
    _assert_close(dualad.jacfwd(lambda x: x ** 0.0)(x), np.zeros((2, 2)))
    _assert_close(dualad.jacfwd(lambda x: np.power(x, np.zeros(2)))(x), np.zeros((2, 2)))


def test_inplace_operator_updates_every_alias_like_numpy():
    # NumPy: y = x; y += 1 changes x too, so y * x == (x + 1) ** 2.
    def f(x):
        y = x
        y += 1.0
        return y * x

    x = np.array([0.5, 2.0])
    value, tangent = dualad.jvp(f, (x,), (np.ones(2),))
    np.testing.assert_allclose(value, f(x.copy()))
    np.testing.assert_allclose(tangent, 2 * (x + 1))  # d/dx (x + 1)**2, closed form


def test_inplace_operator_on_a_slice_view_raises():
    # NumPy would write through the view into x; a dual slice cannot, so it must not pretend.
    def f(x):
        row = x[0]
        row += 1.0
        return x

    with pytest.raises(dualad.UnsupportedPrimitiveError, match="slice"):
        dualad.jvp(f, (np.ones((2, 2)),), (np.ones((2, 2)),))
