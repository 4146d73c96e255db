"""np.linalg at singular matrices: no raw LinAlgError and no silent garbage.

* ``det``'s derivative is the cofactor matrix adj(a)^T, also where ``a`` is singular, as in
  JAX: in both modes, for stacks mixing singular and invertible matrices, in float32, and
  to second, third and fourth order (rank n - 1, n - 2 and the zero matrix included).
  References: JAX in float64, where its derivatives exist (JAX's Hessian of det is nan at
  some singular matrices, see ``test_jax_hessian_of_det_is_nan_at_some_singular_matrices``);
  there, and beyond, JAX's derivatives of the permutation expansion of det (a polynomial)
  and the analytic third derivative of a 3 x 3 determinant.
* ``slogdet``'s derivative does not exist at a singular matrix (log|det| is -inf there):
  a clear ``SingularMatrixError`` (a ``DualadError`` and a ``LinAlgError``) says so.
* ``inv`` and ``solve`` of a singular matrix raise NumPy's own ``LinAlgError`` from the
  primal, in every transform.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad import SingularMatrixError
from dualad.primitives.linalg.determinants import _det_by_permutations

from .reference import assert_tree_close, jax_hessians, jax_jacobians


def _det(np_, x):
    return np_.linalg.det(x)


def _expansion(np_, x):
    return _det_by_permutations(np_, x)


def _jax(kind, call, a):
    """JAX's (compiled) jacfwd, jacrev or hessian of ``call(jnp, a)``."""
    if kind == "hessian":
        return jax_hessians(call, (a,))[0][0]
    return jax_jacobians(call, (a,), mode=kind)[0]

SINGULAR = {
    "2x2 rank 1": [[1.0, 2.0], [2.0, 4.0]],
    "3x3 rank 2": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
    "zero first pivot": [[0.0, 0.0], [0.0, 1.0]],
    "diag(1, 1, 0)": np.diag([1.0, 1.0, 0.0]),
    "diag(2, 0, 0), rank n - 2": np.diag([2.0, 0.0, 0.0]),
    "zero 3x3": np.zeros((3, 3)),
    "zero 1x1": [[0.0]],
    "nilpotent": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
}
CASES = [pytest.param(np.array(a, dtype=float), id=name) for name, a in SINGULAR.items()]


def _stack(rng):
    """A (2, 3, 3, 3) stack: singular matrices of several ranks beside invertible ones."""
    a = np.array([SINGULAR["3x3 rank 2"], SINGULAR["diag(1, 1, 0)"], np.eye(3) + 0.3 *
                  rng.standard_normal((3, 3)), SINGULAR["zero 3x3"],
                  SINGULAR["diag(2, 0, 0), rank n - 2"], rng.standard_normal((3, 3))])
    return a.reshape(2, 3, 3, 3)


def test_grad_of_det_at_a_singular_matrix_is_the_cofactor_matrix():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    expected = np.array([[4.0, -2.0], [-2.0, 1.0]])
    assert_tree_close(dualad.grad(np.linalg.det)(a), expected)
    assert_tree_close(dualad.jacfwd(np.linalg.det)(a), expected)
    assert_tree_close(np.asarray(jax.grad(jnp.linalg.det)(a)), expected)


@pytest.mark.parametrize("a", CASES)
def test_det_first_derivatives_match_jax(a):
    rng = np.random.default_rng(0)
    expected = _jax("rev", _det, a)
    assert_tree_close(dualad.grad(np.linalg.det)(a), expected, what="grad")
    assert_tree_close(dualad.jacrev(np.linalg.det)(a), expected, what="jacrev")
    assert_tree_close(dualad.jacfwd(np.linalg.det)(a), expected, what="jacfwd")
    v = rng.standard_normal(a.shape)
    y, dy = dualad.jvp(np.linalg.det, (a,), (v,))
    y_ref, dy_ref = jax.jvp(jnp.linalg.det, (a,), (v,))
    assert_tree_close((y, dy), (np.asarray(y_ref), np.asarray(dy_ref)), what="jvp")
    _, pullback = dualad.vjp(np.linalg.det, a)
    assert_tree_close(pullback(np.array(1.5))[0], 1.5 * expected, what="vjp")


@pytest.mark.parametrize("a", CASES)
def test_det_second_derivatives_match_jax(a):
    expected = _jax("hessian", _det, a)
    assert_tree_close(dualad.hessian(np.linalg.det)(a), expected, what="hessian")
    assert_tree_close(dualad.jacfwd(dualad.jacfwd(np.linalg.det))(a), expected,
                      what="jacfwd(jacfwd)")
    assert_tree_close(dualad.jacrev(dualad.jacrev(np.linalg.det))(a), expected,
                      what="jacrev(jacrev)")


def test_det_of_a_stack_mixing_singular_and_invertible_matrices():
    a = _stack(np.random.default_rng(1))
    assert_tree_close(dualad.jacrev(np.linalg.det)(a), _jax("rev", _det, a), what="jacrev")
    assert_tree_close(dualad.jacfwd(np.linalg.det)(a), _jax("fwd", _det, a), what="jacfwd")
    grad = dualad.grad(lambda x: np.sum(np.linalg.det(x) ** 2))(a)
    assert_tree_close(grad, _jax("rev", lambda np_, x: np_.sum(np_.linalg.det(x) ** 2), a))
    # second order, against the permutation expansion (a polynomial JAX differentiates
    # exactly; the stack holds the random invertible matrices too)
    expected = _jax("hessian", _expansion, a)
    assert_tree_close(dualad.hessian(np.linalg.det)(a), expected, 1e-10, 1e-12, "hessian")
    assert_tree_close(dualad.jacfwd(dualad.jacfwd(np.linalg.det))(a), expected, 1e-10, 1e-12,
                      "jacfwd(jacfwd)")


def _rank_deficient(rng, n):
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (u * np.r_[np.arange(n - 1, 0, -1) + 0.5, 0.0]) @ v.T


def _det_hessian(a):
    """d^2 det / da_ij da_kl from the permutation expansion, in NumPy: the sum of
    sign(p) prod_{r != i, k} a[r, p(r)] over the permutations with p(i) = j, p(k) = l."""
    n = a.shape[-1]
    h = np.zeros((n,) * 4)
    for perm in itertools.permutations(range(n)):
        sign = np.linalg.det(np.eye(n)[list(perm)])
        for i, k in itertools.permutations(range(n), 2):
            rest = [a[r, perm[r]] for r in range(n) if r not in (i, k)]
            h[i, perm[i], k, perm[k]] += sign * np.prod(rest)
    return h


def test_jax_hessian_of_det_is_nan_at_some_singular_matrices():
    """Where NumPy's LU of a rank-deficient matrix meets an exact zero pivot, JAX's Hessian
    of det is nan (documented in docs/sharp-bits.md); dualad's is finite and equals the
    Hessian of the permutation expansion."""
    rng = np.random.default_rng(7)
    a = next(a for a in (_rank_deficient(rng, 4) for _ in range(50)) if np.linalg.det(a) == 0)
    assert np.isnan(_jax("hessian", _det, a)).any()
    assert_tree_close(dualad.hessian(np.linalg.det)(a), _det_hessian(a), 1e-10, 1e-12)
    assert_tree_close(dualad.grad(np.linalg.det)(a), _jax("rev", _det, a), 1e-10, 1e-12)


def _levi_civita(n):
    eps = np.zeros((n,) * n)
    for perm in itertools.permutations(range(n)):
        eps[perm] = np.linalg.det(np.eye(n)[list(perm)])
    return eps


@pytest.mark.parametrize("a", [case for case in CASES if case.values[0].shape == (3, 3)]
                         + [pytest.param(np.random.default_rng(3).standard_normal((3, 3)),
                                         id="random")])
def test_det_third_derivative(a):
    """The third derivative of a 3 x 3 determinant is the constant eps_ikm eps_jln, at every
    matrix, singular or not: every nesting of the two modes gives it."""
    eps = _levi_civita(3)
    expected = np.einsum("ikm,jln->ijklmn", eps, eps)
    for what, third in (
        ("jacfwd(hessian)", dualad.jacfwd(dualad.hessian(np.linalg.det))),
        ("jacrev(jacrev(jacrev))", dualad.jacrev(dualad.jacrev(dualad.jacrev(np.linalg.det)))),
        ("jacfwd(jacfwd(jacfwd))", dualad.jacfwd(dualad.jacfwd(dualad.jacfwd(np.linalg.det)))),
    ):
        assert_tree_close(third(a), expected, 1e-12, 1e-12, what)


@pytest.mark.parametrize("a", [np.diag([1.0, 1.0, 0.0, 0.0]), np.zeros((4, 4))],
                         ids=["rank n - 2", "zero"])
def test_det_fourth_derivative(a):
    eps = _levi_civita(4)
    expected = np.einsum("ikmo,jlnp->ijklmnop", eps, eps)
    fourth = dualad.jacfwd(dualad.jacfwd(dualad.hessian(np.linalg.det)))(a)
    assert_tree_close(fourth, expected, 1e-12, 1e-12)


def test_det_near_singular():
    """det(a) inv(a)^T is accurate close to singular matrices too (det != 0 exactly), and
    the Hessian there takes the SVD's form instead of one that would cancel."""
    a = np.array([[1.0, 2.0], [2.0, 4.0 + 1e-12]])
    assert_tree_close(dualad.grad(np.linalg.det)(a), np.array([[4.0 + 1e-12, -2.0],
                                                               [-2.0, 1.0]]), 1e-14, 1e-15)
    b = np.array(SINGULAR["3x3 rank 2"]) + 1e-9 * np.random.default_rng(4).standard_normal(
        (3, 3))
    assert_tree_close(dualad.hessian(np.linalg.det)(b), _jax("hessian", _expansion, b),
                      1e-10, 1e-12)
    assert_tree_close(dualad.grad(np.linalg.det)(b), _jax("rev", _det, b), 1e-10, 1e-12)


@pytest.mark.parametrize("a", [CASES[0].values[0], CASES[1].values[0], _stack(
    np.random.default_rng(5))], ids=["2x2", "3x3", "stack"])
def test_det_float32_at_singular_matrices(a):
    a32 = a.astype(np.float32)
    expected = _jax("rev", _det, a32.astype(np.float64))
    for what, jac in (("jacrev", dualad.jacrev(np.linalg.det)(a32)),
                      ("jacfwd", dualad.jacfwd(np.linalg.det)(a32))):
        assert jac.dtype == np.float32, what
        np.testing.assert_allclose(jac, expected, rtol=2e-5, atol=2e-5, err_msg=what)
    hessian = dualad.hessian(np.linalg.det)(a32)
    assert hessian.dtype == np.float32
    expected = _jax("hessian", _expansion, a32.astype(np.float64))
    np.testing.assert_allclose(hessian, expected, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("transform", [
    lambda f, a: dualad.grad(f)(a),
    lambda f, a: dualad.jacfwd(f)(a),
    lambda f, a: dualad.jvp(f, (a,), (np.ones_like(a),)),
    lambda f, a: dualad.hessian(f)(a),
], ids=["grad", "jacfwd", "jvp", "hessian"])
def test_slogdet_at_a_singular_matrix_raises_a_clear_error(transform):
    a = np.array(SINGULAR["3x3 rank 2"])
    sign, logabsdet = np.linalg.slogdet(a)
    assert sign == 0 and logabsdet == -np.inf  # NumPy's primal does not raise
    with pytest.raises(SingularMatrixError, match=r"np\.linalg\.slogdet.*np\.linalg\.det"):
        transform(lambda x: np.linalg.slogdet(x)[1], a)
    stack = np.stack([np.eye(3), a])
    with pytest.raises(dualad.DualadError, match=r"matrices \[\[1\]\]"):
        transform(lambda x: np.sum(np.linalg.slogdet(x)[1]), stack)
    with pytest.raises(np.linalg.LinAlgError):  # also what NumPy users catch
        transform(lambda x: np.linalg.slogdet(x)[1], a)


@pytest.mark.parametrize("f", [
    lambda a: np.sum(np.linalg.inv(a)),
    lambda a: np.sum(np.linalg.solve(a, np.ones(3))),
    lambda a: np.sum(np.linalg.solve(a, np.ones((3, 2)))),
], ids=["inv", "solve vector", "solve matrix"])
@pytest.mark.parametrize("transform", [dualad.grad, dualad.jacfwd, dualad.hessian],
                         ids=["grad", "jacfwd", "hessian"])
def test_inv_and_solve_at_a_singular_matrix_raise_numpys_error(f, transform):
    a = np.array(SINGULAR["3x3 rank 2"])
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        f(a)  # NumPy itself
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        transform(f)(a)
