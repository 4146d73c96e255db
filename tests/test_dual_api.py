"""The dual array behaves like an ndarray: attributes, methods, operators, conversions.

Derivatives of methods and operators are compared with ``jax.jacfwd`` (float64) of the very
same calls on ``jax.numpy`` arrays, which have the same methods.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad import Dual

from .reference import assert_tree_close

RNG = np.random.default_rng(7)
A = RNG.normal(size=(3, 4))


_assert_close = assert_tree_close


def check(call, *arrays, chunk_sizes=(None, 2), rtol=1e-10, atol=1e-12):
    """``dualad.jacfwd(call)`` equals ``jax.jacfwd(call)`` on jnp arrays (same method calls)."""
    argnums = tuple(range(len(arrays)))
    expected = jax.jit(jax.jacfwd(call, argnums=argnums))(*map(jnp.asarray, arrays))
    expected = jax.tree_util.tree_map(np.asarray, expected)
    for chunk_size in chunk_sizes:
        actual = dualad.jacfwd(call, argnums=argnums, chunk_size=chunk_size)(*arrays)
        _assert_close(actual, expected, rtol=rtol, atol=atol, what=f"chunk_size={chunk_size}")


def _dual(primal, k=2):
    primal = np.asarray(primal, dtype=float)
    return Dual(primal, RNG.normal(size=(k,) + primal.shape))


# --------------------------------------------------------------------------- attributes


def test_attributes_follow_the_primal():
    d = _dual(A, k=5)
    assert d.shape == (3, 4) and d.ndim == 2 and d.size == 12 and d.dtype == np.float64
    assert len(d) == 3
    assert d.T.shape == (4, 3) and isinstance(d.T, Dual)
    np.testing.assert_array_equal(d.T.primal, A.T)
    np.testing.assert_array_equal(d.T.tangent, np.swapaxes(d.tangent, 1, 2))
    stacked = _dual(RNG.normal(size=(2, 3, 4)))
    np.testing.assert_array_equal(stacked.mT.primal, np.swapaxes(stacked.primal, -1, -2))
    np.testing.assert_array_equal(stacked.mT.tangent, np.swapaxes(stacked.tangent, -1, -2))
    d32 = Dual(A.astype(np.float32), np.ones((1, 3, 4), dtype=np.float32))
    assert d32.dtype == np.float32


def test_zero_d_attributes():
    d = _dual(2.5)
    assert d.shape == () and d.ndim == 0 and d.size == 1
    with pytest.raises(TypeError, match="len"):
        len(d)
    with pytest.raises(TypeError, match="iteration"):
        iter(d)


def test_transpose_attributes_derivatives():
    x = RNG.normal(size=(2, 3, 4))
    check(lambda x: x.T * 1.0, x)
    check(lambda x: x.mT @ x, x)


def test_iteration_yields_rows_with_their_tangents():
    x = RNG.normal(size=(3, 2))
    rows = []

    def f(x):
        rows.extend(x)
        return sum(i * row for i, row in enumerate(x))  # Python sum over iteration

    actual = dualad.jacfwd(f)(x)
    assert len(rows) == 3 and all(isinstance(r, Dual) and r.shape == (2,) for r in rows)
    expected = jax.jacfwd(lambda x: sum(i * row for i, row in enumerate(x)))(jnp.asarray(x))
    _assert_close(actual, expected)


def test_len_inside_a_transform():
    check(lambda x: x[: len(x) - 1] * len(x), RNG.normal(size=(4, 2)))


# --------------------------------------------------------------------------- methods

X = RNG.normal(size=(3, 4))
SQ = RNG.normal(size=(3, 3))
IDX = np.array([2, 0, 3])

METHODS = [
    pytest.param(lambda x: x.reshape((4, 3)), X, id="reshape-tuple"),
    pytest.param(lambda x: x.reshape(4, 3), X, id="reshape-varargs"),
    pytest.param(lambda x: x.reshape(-1), X, id="reshape-minus1"),
    pytest.param(lambda x: x.reshape(2, -1, 2), X, id="reshape-3d"),
    pytest.param(lambda x: x.sum(), X, id="sum"),
    pytest.param(lambda x: x.sum(axis=0), X, id="sum-axis0"),
    pytest.param(lambda x: x.sum(-1, keepdims=True), X, id="sum-positional-axis"),
    pytest.param(lambda x: x.mean(), X, id="mean"),
    pytest.param(lambda x: x.mean(axis=1), X, id="mean-axis1"),
    pytest.param(lambda x: x.dot(x.T), X, id="dot-matrix"),
    pytest.param(lambda x: x.dot(x[0]), SQ, id="dot-vector"),
    pytest.param(lambda x: x.astype(float) * x, X, id="astype-float"),
    pytest.param(lambda x: x.flatten(), X, id="flatten"),
    pytest.param(lambda x: x.ravel(), X, id="ravel"),
    pytest.param(lambda x: x.copy() * 2, X, id="copy"),
    pytest.param(lambda x: x.clip(-0.5, 0.5), X, id="clip"),
    pytest.param(lambda x: x.clip(min=-0.2), X, id="clip-min-only"),
    pytest.param(lambda x: x.max(), X, id="max"),
    pytest.param(lambda x: x.max(axis=0), X, id="max-axis0"),
    pytest.param(lambda x: x.min(axis=-1, keepdims=True), X, id="min-axis-1"),
    pytest.param(lambda x: x.prod(), X, id="prod"),
    pytest.param(lambda x: x.prod(axis=1), X, id="prod-axis1"),
    pytest.param(lambda x: x.std(), X, id="std"),
    pytest.param(lambda x: x.std(axis=0, ddof=1), X, id="std-ddof"),
    pytest.param(lambda x: x.var(), X, id="var"),
    pytest.param(lambda x: x.var(axis=1), X, id="var-axis1"),
    pytest.param(lambda x: x.cumsum(), X, id="cumsum"),
    pytest.param(lambda x: x.cumsum(axis=1), X, id="cumsum-axis1"),
    pytest.param(lambda x: x.cumprod(axis=0), X, id="cumprod-axis0"),
    pytest.param(lambda x: x.ptp(axis=1), X, id="ptp"),
    pytest.param(lambda x: x.transpose(), X, id="transpose"),
    pytest.param(lambda x: x.reshape(3, 2, 2).transpose(2, 0, 1), X, id="transpose-varargs"),
    pytest.param(lambda x: x.reshape(3, 2, 2).transpose((1, 2, 0)), X, id="transpose-tuple"),
    pytest.param(lambda x: x.swapaxes(0, 1), X, id="swapaxes"),
    pytest.param(lambda x: x[None, :, None].squeeze(), X, id="squeeze"),
    pytest.param(lambda x: x[:, None].squeeze(1), X, id="squeeze-axis"),
    pytest.param(lambda x: x.diagonal(), SQ, id="diagonal"),
    pytest.param(lambda x: x.diagonal(1), X, id="diagonal-offset"),
    pytest.param(lambda x: x.trace(), SQ, id="trace"),
    pytest.param(lambda x: x.trace(-1), X, id="trace-offset"),
    pytest.param(lambda x: x.repeat(2, axis=0), X, id="repeat-axis0"),
    pytest.param(lambda x: x.repeat(2), X, id="repeat-flat"),
    pytest.param(lambda x: x.take(IDX, axis=1), X, id="take-axis1"),
    pytest.param(lambda x: x.take(IDX), X, id="take-flat"),
    pytest.param(lambda x: x.conj() * x.real, X, id="conj-real"),
    pytest.param(lambda x: x[1], X, id="getitem-int"),
    pytest.param(lambda x: x[1:, ::-2], X, id="getitem-slices"),
    pytest.param(lambda x: x[-1, IDX], X, id="getitem-int-array"),
    pytest.param(lambda x: x[X[:, 0] > 0], X, id="getitem-mask"),
]


@pytest.mark.parametrize("call, x", METHODS)
def test_method_derivatives_match_jax(call, x):
    check(call, x)


def test_astype_float32_keeps_the_derivative():
    x = RNG.normal(size=(3,))
    seen = []

    def f(x):
        y = x.astype(np.float32)
        seen.append((y.dtype, y.tangent.dtype))
        return y * y

    J = dualad.jacfwd(f)(x)
    assert seen == [(np.float32, np.float32)]
    assert J.dtype == np.float32
    _assert_close(J, np.diag(2 * x), rtol=1e-6, atol=1e-6)


def test_copy_does_not_share_a_mutable_buffer():
    d = _dual([1.0, 2.0])
    c = d.copy()
    assert isinstance(c, Dual)
    np.testing.assert_array_equal(c.primal, d.primal)
    np.testing.assert_array_equal(c.tangent, d.tangent)
    tangent = d.tangent.copy()
    c[0] = 5.0  # the copy takes new contents; the original keeps its values
    np.testing.assert_array_equal(d.primal, [1.0, 2.0])
    np.testing.assert_array_equal(d.tangent, tangent)
    np.testing.assert_array_equal(c.primal, [5.0, 2.0])
    np.testing.assert_array_equal(c.tangent[:, 0], 0.0)


def test_non_differentiable_methods_return_plain_arrays():
    d = _dual(A)
    for value, expected in [
        (d.argmax(), A.argmax()), (d.argmin(axis=0), A.argmin(axis=0)),
        (d.argsort(axis=1), A.argsort(axis=1)), (d.round(1), A.round(1)),
        (d.nonzero(), A.nonzero()), ((d > 0).any(), (A > 0).any()),
    ]:
        assert not isinstance(value, Dual)
        np.testing.assert_array_equal(value, expected)


# --------------------------------------------------------------------------- comparisons and truth


@pytest.mark.parametrize("compare", [
    pytest.param(lambda d, e: d > 0, id=">"), pytest.param(lambda d, e: d <= e, id="<="),
    pytest.param(lambda d, e: 0 < d, id="reflected-<"), pytest.param(lambda d, e: d == d, id="=="),
    pytest.param(lambda d, e: d != 1.0, id="!="), pytest.param(lambda d, e: d >= e.primal, id=">="),
    pytest.param(lambda d, e: np.greater(d, e), id="np.greater"),
    pytest.param(lambda d, e: np.isclose(d, e), id="np.isclose"),
    pytest.param(lambda d, e: np.isfinite(d), id="np.isfinite"),
])
def test_comparisons_return_plain_bool_arrays(compare):
    p, q = np.array([-1.0, 0.5, 2.0]), np.array([0.0, 0.5, 1.0])
    d, e = _dual(p), _dual(q)
    result = compare(d, e)
    assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(result, compare(p, Dual(q, np.zeros((1, 3)))))


def test_comparison_expected_values():
    d = _dual([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(d > 0, [False, True, True])
    np.testing.assert_array_equal(1 <= d, [False, False, True])


def test_bool_of_scalar_dual_and_control_flow():
    assert bool(_dual(2.0)) is True
    assert bool(_dual(0.0)) is False
    relu = lambda x: x if x > 0 else 0.0 * x  # data-dependent control flow on a 0-d dual
    _assert_close(dualad.jacfwd(relu)(1.5), 1.0)
    _assert_close(dualad.jacfwd(relu)(-1.5), 0.0)


def test_bool_of_multi_element_dual_raises_like_numpy():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(_dual([1.0, 2.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(np.array([1.0, 2.0]))  # the same error NumPy gives
    assert bool(_dual([3.0])) is True  # one element: like NumPy


# --------------------------------------------------------------------------- repr and primal


def test_repr_and_str_show_the_values():
    d = Dual(np.array([1.5, -2.25]), np.array([[3.0, 4.0]]))
    for text in (repr(d), str(d)):
        assert "Dual" in text
        for number in ("1.5", "-2.25", "3.", "4."):
            assert number in text, (number, text)
    assert "primal" in repr(d) and "tangent" in repr(d)
    big = Dual(np.arange(1000.0), np.zeros((1, 1000)))
    assert len(repr(big)) < 2000 and "999" in repr(big)  # summarized, still readable
    nested = Dual(Dual(np.array([7.5]), np.ones((1, 1))), np.ones((1, 1)))
    assert "7.5" in repr(nested) and "7.5" in str(nested)


def _read_only_values_of(p, x):
    return p.base is x and not p.flags.writeable and np.array_equal(p, x)


def test_primal_strips_every_level():
    x = np.array([1.0, 2.0])
    assert dualad.primal(x) is x
    assert dualad.primal(3.0) == 3.0
    d = Dual(x, np.ones((1, 2)))
    assert _read_only_values_of(dualad.primal(d), x)
    nested = Dual(d, np.ones((1, 2)))
    assert _read_only_values_of(dualad.primal(nested), x)
    stripped = dualad.primal((d, [nested, 1.0]))
    assert stripped[0] is x and stripped[1][0] is x and stripped[1][1] == 1.0


def test_primal_values_cannot_be_changed_behind_a_pullback():
    seen = []
    dualad.vjp(lambda x: seen.append(dualad.primal(np.exp(x))) or np.sum(x), np.ones(2))
    with pytest.raises(ValueError, match="read-only"):
        seen[0][0] = 5.0


def test_primal_inside_a_transform_is_a_constant():
    # d/dx [x * primal(x)] = primal(x): the stripped factor carries no derivative.
    x = RNG.normal(size=(3,))
    _assert_close(dualad.jacfwd(lambda x: x * dualad.primal(x))(x), np.diag(x))


# --------------------------------------------------------------------------- operators

OPERATORS = [
    pytest.param(lambda x: x + 2, id="x+2"), pytest.param(lambda x: 2 + x, id="2+x"),
    pytest.param(lambda x: x - 2.5, id="x-2.5"), pytest.param(lambda x: 2.5 - x, id="2.5-x"),
    pytest.param(lambda x: x * 3, id="x*3"), pytest.param(lambda x: 3 * x, id="3*x"),
    pytest.param(lambda x: x / 4, id="x/4"), pytest.param(lambda x: 4 / x, id="4/x"),
    pytest.param(lambda x: x // 0.7 + x, id="x//0.7"),
    pytest.param(lambda x: 5.0 // x + x, id="5//x"),
    pytest.param(lambda x: x % 0.7, id="x%0.7"), pytest.param(lambda x: 5.0 % x, id="5%x"),
    pytest.param(lambda x: x ** 3, id="x**3"), pytest.param(lambda x: x ** 2.5, id="x**2.5"),
    pytest.param(lambda x: 2 ** x, id="2**x"), pytest.param(lambda x: 2.5 ** x, id="2.5**x"),
    pytest.param(lambda x: x ** x, id="x**x"),
    pytest.param(lambda x: -x, id="neg"), pytest.param(lambda x: +x, id="pos"),
    pytest.param(lambda x: abs(x - 1.4), id="abs"),
    pytest.param(lambda x: x @ x, id="x@x"),
    pytest.param(lambda x: divmod(x, 0.7)[1] + divmod(x, 0.7)[0], id="divmod"),
    pytest.param(lambda x: divmod(5.0, x)[1] + divmod(5.0, x)[0], id="rdivmod"),
    pytest.param(lambda x: x * x - x / (x + 1) + 1 / x, id="mixed"),
]


@pytest.mark.parametrize("op", OPERATORS)
def test_operators_with_python_scalars(op):
    x = np.array([0.9, 1.3, 2.2])  # away from the discontinuities of // and %
    check(op, x, chunk_sizes=(None, 1))


@pytest.mark.parametrize("op", [
    pytest.param(lambda x, c: x @ c.T, id="dual@plain"),
    pytest.param(lambda x, c: c @ x.T, id="plain@dual"),
    pytest.param(lambda x, c: c[0] @ x.T, id="plain-1d@dual"),
    pytest.param(lambda x, c: x + c[0], id="dual+plain"),
    pytest.param(lambda x, c: c[0] - x, id="plain-dual"),
    pytest.param(lambda x, c: c[1] / x, id="plain/dual"),
    pytest.param(lambda x, c: c[0] ** x, id="plain**dual"),
])
def test_operators_with_plain_arrays_on_either_side(op):
    x = RNG.uniform(0.5, 1.5, size=(2, 4))
    c = RNG.uniform(0.5, 1.5, size=(3, 4))
    expected = jax.jacfwd(lambda x: op(x, jnp.asarray(c)))(jnp.asarray(x))
    _assert_close(dualad.jacfwd(lambda x: op(x, c))(x), expected)


def test_operators_with_numpy_scalars_on_either_side():
    x = np.array([0.9, 1.3])
    for s in (np.float64(2.0), np.float32(2.0), np.int64(2)):
        _assert_close(dualad.jacfwd(lambda x, s=s: s * x + x * s - s / x)(x),
                      np.diag(2 * float(s) + float(s) / x ** 2))


def test_divmod_parts():
    d = Dual(np.array([5.5, -1.5]), np.array([[1.0, 2.0]]))
    q, r = divmod(d, 2.0)
    assert not isinstance(q, Dual)  # piecewise constant: a plain array
    np.testing.assert_array_equal(q, [2.0, -1.0])
    np.testing.assert_array_equal(r.primal, [1.5, 0.5])
    np.testing.assert_array_equal(r.tangent, [[1.0, 2.0]])


# --------------------------------------------------------------------------- constructor


def test_dual_constructor_accepts_k_directions():
    d = Dual(np.zeros((2, 3)), np.ones((5, 2, 3)))
    assert d.shape == (2, 3) and d.tangent.shape == (5, 2, 3)
    s = Dual(1.0, [1.0, 2.0])
    assert s.shape == () and s.tangent.shape == (2,)
    assert Dual([1.0, 2.0], [[0.0, 1.0]]).tangent.shape == (1, 2)


@pytest.mark.parametrize("primal, tangent", [
    pytest.param(np.zeros(3), np.zeros(3), id="missing-k-axis"),
    pytest.param(np.zeros((2, 3)), np.zeros((1, 3, 2)), id="transposed"),
    pytest.param(np.zeros((2, 3)), np.zeros((1, 3)), id="broadcastable-is-not-enough"),
    pytest.param(np.zeros(3), np.zeros((1, 1, 3)), id="extra-axis"),
    pytest.param(1.0, 1.0, id="scalar-without-k-axis"),
    pytest.param(np.float64(1.0), np.zeros((2, 1)), id="scalar-with-extra-axis"),
])
def test_dual_constructor_validates_tangent_shape(primal, tangent):
    with pytest.raises(ValueError) as excinfo:
        Dual(primal, tangent)
    message = str(excinfo.value)
    assert "(k,)" in message and str(np.shape(primal)) in message


def test_dual_tags_are_fresh_and_ordered():
    a, b = _dual(1.0), _dual(1.0)
    assert b.tag > a.tag
    assert Dual(1.0, [1.0], tag=a.tag).tag == a.tag


def test_dual_is_unhashable_like_ndarray():
    with pytest.raises(TypeError):
        hash(_dual([1.0]))


@pytest.mark.parametrize("var", [np.var, np.nanvar], ids=["var", "nanvar"])
def test_correction_is_numpys_other_name_for_ddof(var):
    """d/dx var(x, correction=1) = 2 (x - mean) / (n - 1), the closed form, in both modes;
    giving ddof too is NumPy's ValueError."""
    x = np.array([0.3, -1.2, 2.0, 0.7])
    expected = 2 * (x - x.mean()) / (x.size - 1)
    np.testing.assert_allclose(dualad.grad(lambda x: var(x, correction=1))(x), expected)
    np.testing.assert_allclose(dualad.jacfwd(lambda x: var(x, correction=1))(x), expected)
    with pytest.raises(ValueError, match="ddof and correction"):
        dualad.grad(lambda x: var(x, ddof=1, correction=1))(x)
