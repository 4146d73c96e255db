"""Reverse mode (issue 3): ``vjp``, ``grad``, ``value_and_grad``, ``jacrev``, ``hessian`` and
``hvp``, each compared with an independent reference.

References: the numbers and closed forms of the seeds (shared/seeds), reproduced from the
seeds' own NumPy code; JAX in float64 (each reference jit-compiled once without XLA's
backend optimisations); forward mode where the brief asks for agreement between the modes;
and hand-written chain rules. The per-primitive registry walk and the Hypothesis programs
live in other files.

Sections: seeds; API semantics against JAX; the pullback; nesting and perturbation
confusion; deep programs; errors.

Test functions used with JAX are written once as ``f(np_, ...)`` and called with ``numpy``
(on dualad's active arrays) and with ``jax.numpy``.
"""

from __future__ import annotations

import functools
import gc
import math
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
import dualad.transforms.reverse
from dualad import (
    ConversionError,
    DualadError,
    NonScalarOutputError,
    PerturbationConfusionError,
    ShapeMismatchError,
    UnsupportedPrimitiveError,
)
from tests.reference import FAST_COMPILE
from tests.reference import assert_pytree_close as assert_tree_close
from tests.test_source_documents import (
    H4,
    W4,
    X4,
    Y4,
    l2_loss,
    lecture_f,
    notebook_forward,
    relu,
    sigmoid,
)

RNG = np.random.default_rng(20240603)
X3 = RNG.normal(size=3)
M23 = RNG.normal(size=(2, 3))
V3 = RNG.normal(size=3)


# --------------------------------------------------------------------------- helpers


def jit(fn):
    """``fn`` compiled by ``jax.jit`` without backend optimisations (they cost more than they
    save for a reference run a few times), once per argument structure; NumPy results."""
    jitted = jax.jit(fn)
    compiled = {}

    def call(*args):
        leaves, tree = jax.tree_util.tree_flatten(args)
        key = (tree, tuple((np.shape(a), np.result_type(a)) for a in leaves))
        if key not in compiled:
            compiled[key] = jitted.lower(*args).compile(FAST_COMPILE)
        return jax.tree_util.tree_map(np.asarray, compiled[key](*args))

    return call


def jax_vjp(f, cotangent, *primals, has_aux=False):
    """JAX's ``(out, pullback(cotangent))``, or ``(out, pullback(cotangent), aux)``."""
    def run(ct, *xs):
        out = jax.vjp(f, *xs, has_aux=has_aux)
        return (out[0], out[1](ct), *out[2:])

    return jit(run)(cotangent, *primals)


def assert_tree_equal(actual, expected):
    """Bitwise equal leaves (for chunking and repeated pullbacks)."""
    a_leaves, a_def = jax.tree_util.tree_flatten(actual)
    e_leaves, e_def = jax.tree_util.tree_flatten(expected)
    assert a_def == e_def
    for a, e in zip(a_leaves, e_leaves, strict=True):
        np.testing.assert_array_equal(a, e)


# --------------------------------------------------------------------------- the lecture


def test_lecture_reverse_adjoint_trace_by_grad():
    """One backward pass from y gives both adjoints: x1_bar = 5.5, x2_bar = 1.716."""
    x1_bar, x2_bar = dualad.grad(lecture_f, argnums=(0, 1))(2.0, 5.0)
    assert x1_bar == pytest.approx(5.5, abs=1e-14)
    assert round(float(x2_bar), 3) == 1.716
    # the closed forms behind the table: 1/x1 + x2 and x1 - cos(x2)
    assert x2_bar == pytest.approx(2.0 - np.cos(5.0), rel=1e-14)
    y, (g1, g2) = dualad.value_and_grad(lecture_f, argnums=(0, 1))(2.0, 5.0)
    assert round(float(y), 3) == 11.652
    assert (g1, g2) == (x1_bar, x2_bar)


def test_lecture_reverse_adjoint_trace_by_vjp():
    """The adjoint trace is the pullback of y_bar = 1; y_bar = 2 doubles both adjoints."""
    y, pullback = dualad.vjp(lecture_f, 2.0, 5.0)
    assert round(float(y), 3) == 11.652
    x1_bar, x2_bar = pullback(1.0)
    assert x1_bar == pytest.approx(5.5, abs=1e-14)
    assert x2_bar == pytest.approx(2.0 - np.cos(5.0), rel=1e-14)
    assert round(float(x2_bar), 3) == 1.716
    np.testing.assert_allclose(pullback(np.float64(2.0)), (11.0, 2 * (2.0 - np.cos(5.0))),
                               rtol=1e-14)


def test_linear_layer_backward_identities_by_vjp():
    """Y = X W pulled back with dL/dY = G: dL/dX = G W^T and dL/dW = X^T G (the lecture)."""
    B, D1, D2 = 4, 5, 3
    rng = np.random.default_rng(101)
    X, W, G = rng.normal(size=(B, D1)), rng.normal(size=(D1, D2)), rng.normal(size=(B, D2))
    Y, pullback = dualad.vjp(lambda X, W: X @ W, X, W)
    np.testing.assert_allclose(Y, X @ W, rtol=1e-15)
    dX, dW = pullback(G)
    assert dX.shape == (B, D1) and dW.shape == (D1, D2)
    np.testing.assert_allclose(dX, G @ W.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dW, X.T @ G, rtol=1e-12, atol=1e-14)
    # the same identities through a scalar loss whose dL/dY is G, by grad
    dX2, dW2 = dualad.grad(lambda X, W: np.sum(G * (X @ W)), argnums=(0, 1))(X, W)
    np.testing.assert_allclose(dX2, G @ W.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dW2, X.T @ G, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- object arrays of duals

D_W4 = [[-0.34394106, -0.40806568], [-0.5363149, -0.6004395]]  # autograd's (PyTorch's) print
D_H4 = [-0.08744264, -0.11192658, -0.16089446, -0.1853784]  # the notebook's NumPy print
D_R4 = [-0.00582951, 0.02331804, -0.02331804, -0.05829509]  # d_R and d_A (all A > 0)


def notebook_after_a(A, H=H4, Y=Y4):
    """The notebook's forward pass from A on, as written: L as a function of A."""
    R = relu(A)
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)
    L = l2_loss(Z, Y).sum()
    return L


def notebook_after_r(R, H=H4, Y=Y4):
    """The notebook's forward pass from R on: L as a function of R."""
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)
    L = l2_loss(Z, Y).sum()
    return L


def test_notebook_dl_dw_and_dl_dh_by_grad():
    """dL/dW and dL/dH from the notebook's own code (scalar indexing, np.array of scalars),
    W and H at once; B comes back as aux."""
    (dW, dH), B = dualad.grad(notebook_forward, argnums=(0, 1), has_aux=True)(W4, H4)
    np.testing.assert_allclose(dW, D_W4, atol=1.5e-7)  # PyTorch printed float32 values
    np.testing.assert_allclose(dH, D_H4, atol=1e-8)
    assert B == pytest.approx(0.9165, abs=1e-15)
    assert round(float(dW[0, 0]), 8) == -0.34394105  # the notebook's hand backward for W00


@pytest.mark.parametrize("argnum", [0, 1])
def test_notebook_gradient_in_each_argument_alone(argnum):
    dL = dualad.grad(lambda W, H: notebook_forward(W, H)[0], argnums=argnum)(W4, H4)
    np.testing.assert_allclose(dL, (D_W4, D_H4)[argnum], atol=1.5e-7)


def test_notebook_intermediate_adjoints_dl_dr_and_dl_da():
    """d_R and d_A as printed, the gradients of the rest of the notebook's code."""
    A = np.array([[0.75, 0.96], [1.38, 1.59]])  # the printed A
    R = relu(A)
    d_R = dualad.grad(notebook_after_r)(R)
    d_A = dualad.grad(notebook_after_a)(A)
    assert d_R.shape == d_A.shape == (2, 2)
    np.testing.assert_allclose(d_R.reshape(-1), D_R4, atol=1e-8)
    np.testing.assert_allclose(d_A.reshape(-1), D_R4, atol=1e-8)
    # d_Z and d_B, the first two lines of the printed backward pass
    L, B = notebook_forward(W4, H4)
    d_B = dualad.grad(lambda B: l2_loss(sigmoid(B), Y4).sum())(B)
    d_Z = dualad.grad(lambda Z: l2_loss(Z, Y4).sum())(sigmoid(B))
    assert round(float(d_Z), 8) == -0.57134316
    assert round(float(d_B), 8) == -0.11659019


def test_notebook_pullback_of_the_whole_forward_pass():
    """vjp of (L, B): the cotangent (1, 0) gives dL/dW and dL/dH; (0, 1) gives dB/dW, the
    patches of X weighted by H (all A > 0, relu passes everything), and dB/dH = A."""
    (L, B), pullback = dualad.vjp(notebook_forward, W4, H4)
    assert L == 0.08160825153326548
    dW, dH = pullback((1.0, 0.0))
    np.testing.assert_allclose(dW, D_W4, atol=1.5e-7)
    np.testing.assert_allclose(dH, D_H4, atol=1e-8)
    dBdW, dBdH = pullback((0.0, 1.0))
    patches = [X4[:2, :2], X4[:2, 1:], X4[1:, :2], X4[1:, 1:]]
    np.testing.assert_allclose(dBdW, sum(h * p for h, p in zip(H4, patches)), rtol=1e-14)
    np.testing.assert_allclose(dBdH, [0.75, 0.96, 1.38, 1.59], rtol=1e-14)


def notebook_hand_d_w00(W, X=X4, H=H4, Y=Y4):
    """The notebook's forward pass and its hand-written backward pass down to d_W[0, 0], as
    written: scalar indexing, np.concatenate of 1-element arrays, 1 if A00 > 0 else 0."""
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]

    A = np.array([[A00, A01], [A10, A11]])
    R = relu(A)
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)

    d_L = 1
    d_Z = d_L * 2 * (Z - Y)
    d_B = d_Z * sigmoid(B) * (1 - sigmoid(B))
    d_T0 = d_T1 = d_T2 = d_T3 = d_B * 1

    d_R00 = d_T0 * H[0]
    d_R01 = d_T1 * H[1]
    d_R10 = d_T2 * H[2]
    d_R11 = d_T3 * H[3]

    d_A00 = d_R00 * (1 if A00 > 0 else 0)
    d_A01 = d_R01 * (1 if A01 > 0 else 0)
    d_A10 = d_R10 * (1 if A10 > 0 else 0)
    d_A11 = d_R11 * (1 if A11 > 0 else 0)

    d_U0_00 = d_A00 * 1
    d_U1_00 = d_A01 * 1
    d_U2_00 = d_A10 * 1
    d_U3_00 = d_A11 * 1
    d_W00 = d_U0_00 * X[0, 0] + d_U1_00 * X[0, 1] + d_U2_00 * X[1, 0] + d_U3_00 * X[1, 1]
    return d_W00[0]


def notebook_loss_jnp(W):
    """The notebook's L in jax.numpy (the four sums of products as patch sums)."""
    A = jnp.array([[jnp.sum(X4[:2, :2] * W), jnp.sum(X4[:2, 1:] * W)],
                   [jnp.sum(X4[1:, :2] * W), jnp.sum(X4[1:, 1:] * W)]])
    B = jnp.sum(jnp.clip(A, 0, jnp.inf).reshape(-1) * H4)
    return jnp.sum((1 / (1 + jnp.exp(-B)) - Y4) ** 2)


def test_grad_of_the_notebooks_hand_backward_is_a_hessian_row():
    """Reverse mode through the notebook's backward code with its data-dependent branches:
    d/dW (dL/dW00) is row (0, 0) of JAX's Hessian of L."""
    assert round(float(notebook_hand_d_w00(W4)), 8) == -0.34394105
    row = dualad.grad(notebook_hand_d_w00)(W4)
    H_ref = jit(jax.hessian(notebook_loss_jnp))(W4)
    np.testing.assert_allclose(row, H_ref[0, 0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dualad.hessian(lambda W: notebook_forward(W, H4)[0])(W4), H_ref,
                               rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- tanh layer backward


def test_tanh_layer_closed_form_backward_by_grad():
    """dl/dW = I^T [(2/n)(O - T)(1 - tanh^2 A)], the notebook's code on the notebook's data
    (np.random.seed(0) is the legacy RandomState(0) stream, without touching global state)."""
    random = np.random.RandomState(0)
    m, n = 10, 5
    I = random.random_sample((m))  # noqa: UP034 - as the notebook writes it
    T = random.random_sample((n))  # noqa: UP034
    W = random.random_sample((m, n))
    A = I @ W
    O = np.tanh(A)
    dl = np.matmul(np.reshape(I, (m, -1)), np.reshape((2 / n) * (O - T) * (1 - np.tanh(A) ** 2),
                                                      (-1, n)))
    np.testing.assert_allclose(O, [0.99248036, 0.99244429, 0.99889554, 0.99232696, 0.97565233],
                               atol=1e-8)  # the notebook's printed outputs: same data

    def loss(W):
        A = I @ W
        O = np.tanh(A)
        return np.average((O - T) ** 2)

    value, grad = dualad.value_and_grad(loss)(W)
    assert value == pytest.approx(np.average((O - T) ** 2), rel=1e-15)
    assert grad.shape == (m, n)
    np.testing.assert_allclose(grad, dl, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- sigmoid network


def sigmoid_net_loss(np_, U, W, x, t):
    """The issue's loss on the notebook's net: sum((W sigmoid(U x) / sqrt(m) - t)^2)."""
    m = U.shape[0]  # a Python float for 1/sqrt(m), so that float32 data stays float32
    return np_.sum((W @ (1 / (1 + np_.exp(-(U @ x)))) / math.sqrt(m) - t) ** 2)


def _sigmoid_net_data(dtype):
    m, d = 10, 3  # the notebook's width and input size; linear1/linear2 weight shapes
    rng = np.random.default_rng(0)
    U, W = rng.normal(size=(m, d)), rng.normal(size=(1, m))
    x, t = rng.normal(size=(d, 1)), np.array([[0.3]])
    return tuple(a.astype(dtype) for a in (U, W, x, t))


def test_sigmoid_net_loss_gradients_wrt_u_and_w_at_once():
    """gU, gW = grad(loss, argnums=(0, 1))(U, W): JAX's numbers, and the hand formulas
    dW = 2 r s^T / sqrt(m), dU = 2 r (w s (1 - s) / sqrt(m)) x^T, r the residual."""
    U, W, x, t = _sigmoid_net_data(np.float64)
    gU, gW = dualad.grad(lambda U, W: sigmoid_net_loss(np, U, W, x, t), argnums=(0, 1))(U, W)
    ref = jit(jax.grad(lambda U, W: sigmoid_net_loss(jnp, U, W, x, t), argnums=(0, 1)))(U, W)
    assert_tree_close((gU, gW), ref, rtol=1e-12, atol=1e-15)
    m = U.shape[0]
    s = 1 / (1 + np.exp(-(U @ x)))  # (m, 1)
    r = (W @ s / np.sqrt(m) - t).item()
    np.testing.assert_allclose(gW, 2 * r * s.T / np.sqrt(m), rtol=1e-12)
    np.testing.assert_allclose(gU, 2 * r * (W.T * s * (1 - s) / np.sqrt(m)) @ x.T, rtol=1e-12)


def test_sigmoid_net_in_float32_stays_float32_within_float32_rounding():
    """The notebook's 1e-9 differences are float32 rounding: grad keeps float32 (as JAX
    does), and agrees with the float64 gradient to float32 precision."""
    U, W, x, t = _sigmoid_net_data(np.float32)
    gU, gW = dualad.grad(lambda U, W: sigmoid_net_loss(np, U, W, x, t), argnums=(0, 1))(U, W)
    assert gU.dtype == np.float32 and gW.dtype == np.float32
    ref = jit(jax.grad(lambda U, W: sigmoid_net_loss(jnp, U, W, x, t), argnums=(0, 1)))(U, W)
    assert ref[0].dtype == np.float32  # JAX agrees on the dtype
    U64, W64, x64, t64 = _sigmoid_net_data(np.float64)
    g64 = dualad.grad(lambda U, W: sigmoid_net_loss(np, U, W, x64, t64), argnums=(0, 1))(U64, W64)
    assert_tree_close((gU, gW), g64, rtol=2e-5, atol=1e-6)


# --------------------------------------------------------------------------- API: argnums


def three_args(np_, a, b, c):
    """Scalar output of an array, a tuple (array, float) and an array."""
    return np_.sum(np_.tanh(a * b[0]) + c * np_.exp(b[1]) - a * c ** 2)


ARGS3 = (X3, (X3[::-1].copy(), 0.3), V3)


@functools.cache
def _jax_three_args():
    """JAX's value and gradient w.r.t. all three arguments, computed once."""
    return jit(jax.value_and_grad(lambda *xs: three_args(jnp, *xs), argnums=(0, 1, 2)))(*ARGS3)


def _pick(full, argnums):
    if isinstance(argnums, int):
        return full[argnums % 3]
    return tuple(full[a % 3] for a in argnums)


ARGNUMS = [0, 1, 2, -1, -3, (0, 2), (2, 0), (-1,), (1,), (0, 1, 2)]


@pytest.mark.parametrize("argnums", ARGNUMS)
def test_grad_argnums_like_jax(argnums):
    """An int gives one gradient tree, a tuple a tuple of them; negative numbers count from
    the end; the tuple argument's gradient is a tuple (array, float)."""
    value_ref, grad_ref = _jax_three_args()
    actual = dualad.grad(lambda *xs: three_args(np, *xs), argnums=argnums)(*ARGS3)
    assert_tree_close(actual, _pick(grad_ref, argnums))
    value, g = dualad.value_and_grad(lambda *xs: three_args(np, *xs), argnums=argnums)(*ARGS3)
    assert value == pytest.approx(float(value_ref), rel=1e-14)
    assert_tree_close(g, _pick(grad_ref, argnums))


@pytest.mark.parametrize("argnums", [(0, 0), (0, -2)])
def test_argument_named_twice_in_argnums_is_refused(argnums):
    """JAX cannot do this either (it fails inside its own code); a silent zero is wrong."""
    f = lambda a, b: np.sum(a * b)
    for transform in (dualad.grad, dualad.jacrev, dualad.jacfwd, dualad.value_and_grad):
        with pytest.raises(dualad.InvalidArgumentError, match="twice"):
            transform(f, argnums=argnums)(X3, V3)


def vector_of_three(np_, a, b, c):
    return np_.stack([np_.sum(a * b[0]), np_.tanh(c @ a) * b[1], np_.prod(c)])


@pytest.mark.parametrize("argnums", [1, -1, (2, 0)])
def test_jacrev_argnums_like_jax(argnums):
    expected = jit(jax.jacrev(lambda *xs: vector_of_three(jnp, *xs), argnums=argnums))(*ARGS3)
    actual = dualad.jacrev(lambda *xs: vector_of_three(np, *xs), argnums=argnums)(*ARGS3)
    assert_tree_close(actual, expected)


def test_vjp_differentiates_every_argument_like_jax():
    rng = np.random.default_rng(102)
    u = rng.normal(size=3)
    y, pullback = dualad.vjp(lambda *xs: vector_of_three(np, *xs), *ARGS3)
    y_ref, cts_ref = jax_vjp(lambda *zs: vector_of_three(jnp, *zs), u, *ARGS3)
    assert_tree_close(y, y_ref)
    assert_tree_close(pullback(u), cts_ref)


# --------------------------------------------------------------------------- API: has_aux


def with_aux(np_, x, y):
    z = np_.sin(x) * y
    return np_.sum(z * x), {"z": z, "pair": (x, y * 2.0)}


def vector_with_aux(np_, x, y):
    z = np_.sin(x) * y
    return z * x[::-1], [z, np_.sum(x)]


def _assert_aux_plain(aux):
    for leaf in jax.tree_util.tree_leaves(aux):
        assert not isinstance(leaf, (dualad.Dual, dualad.TapeArray)), type(leaf)


def test_grad_and_value_and_grad_has_aux_like_jax():
    (g, aux) = dualad.grad(lambda x, y: with_aux(np, x, y), argnums=(0, 1), has_aux=True)(
        X3, 1.5)
    ref = jit(jax.value_and_grad(lambda x, y: with_aux(jnp, x, y), argnums=(0, 1),
                                 has_aux=True))(X3, 1.5)
    (value_ref, aux_ref), g_ref = ref
    assert_tree_close(g, g_ref)
    assert_tree_close(aux, aux_ref)
    _assert_aux_plain(aux)
    (value, aux2), g2 = dualad.value_and_grad(lambda x, y: with_aux(np, x, y), argnums=(0, 1),
                                              has_aux=True)(X3, 1.5)
    assert value == pytest.approx(float(value_ref), rel=1e-14)
    assert_tree_close((g2, aux2), (g_ref, aux_ref))
    _assert_aux_plain(aux2)


def test_vjp_has_aux_like_jax():
    rng = np.random.default_rng(103)
    u = rng.normal(size=3)
    y, pullback, aux = dualad.vjp(lambda x, y: vector_with_aux(np, x, y), X3, 1.5,
                                  has_aux=True)
    y_ref, cts_ref, aux_ref = jax_vjp(lambda x, y: vector_with_aux(jnp, x, y), u, X3, 1.5,
                                      has_aux=True)
    assert_tree_close(y, y_ref)
    assert_tree_close(pullback(u), cts_ref)
    assert_tree_close(aux, aux_ref)
    _assert_aux_plain(aux)


def test_jacrev_has_aux_like_jax():
    jac, aux = dualad.jacrev(lambda x, y: vector_with_aux(np, x, y), argnums=(0, 1),
                             has_aux=True)(X3, 1.5)
    ref = jit(jax.jacrev(lambda x, y: vector_with_aux(jnp, x, y), argnums=(0, 1),
                         has_aux=True))(X3, 1.5)
    assert_tree_close((jac, aux), ref)
    _assert_aux_plain(aux)


def test_hessian_has_aux_like_jax():
    H, aux = dualad.hessian(lambda x: with_aux(np, x, 1.5), has_aux=True)(X3)
    H_ref, aux_ref = jit(jax.hessian(lambda x: with_aux(jnp, x, 1.5), has_aux=True))(X3)
    assert_tree_close(H, H_ref, rtol=1e-11)
    assert_tree_close(aux, aux_ref)
    _assert_aux_plain(aux)


# --------------------------------------------------------------------------- API: pytrees


def tree_in_tree_out(np_, params, x):
    """dict and nested list/tuple in the argument, dict/list/tuple in the result."""
    W, (b, scale) = params["W"], params["rest"]
    h = np_.tanh(W @ x + b) * scale[0]
    return {"h": h, "stats": [np_.sum(h * h), (np_.sin(x), scale[1] * np_.mean(h))]}


def tree_to_scalar(np_, params, x):
    out = tree_in_tree_out(np_, params, x)
    return np_.sum(out["h"] ** 3) + out["stats"][0] * out["stats"][1][1]


PARAMS = {"W": M23, "rest": [RNG.normal(size=2), (np.float64(0.7), np.array(1.3))]}


def test_grad_of_nested_dict_list_tuple_arguments_like_jax():
    g = dualad.grad(lambda p, x: tree_to_scalar(np, p, x), argnums=(0, 1))(PARAMS, X3)
    g_ref = jit(jax.grad(lambda p, x: tree_to_scalar(jnp, p, x), argnums=(0, 1)))(PARAMS, X3)
    assert_tree_close(g, g_ref)


def test_vjp_with_tree_outputs_and_tree_cotangents_like_jax():
    out, pullback = dualad.vjp(lambda p, x: tree_in_tree_out(np, p, x), PARAMS, X3)
    rng = np.random.default_rng(104)
    ct = jax.tree_util.tree_map(lambda leaf: rng.normal(size=np.shape(leaf)), out)
    out_ref, cts_ref = jax_vjp(lambda p, x: tree_in_tree_out(jnp, p, x), ct, PARAMS, X3)
    assert_tree_close(out, out_ref)
    assert_tree_close(pullback(ct), cts_ref)


def test_jacrev_of_tree_in_tree_out_like_jax():
    jac = dualad.jacrev(lambda p, x: tree_in_tree_out(np, p, x), argnums=(0, 1))(PARAMS, X3)
    ref = jit(jax.jacrev(lambda p, x: tree_in_tree_out(jnp, p, x), argnums=(0, 1)))(PARAMS, X3)
    assert_tree_close(jac, ref)


def test_list_and_tuple_arguments_keep_their_type():
    def f(np_, xs):
        return np_.sum(np_.sin(xs[0]) * xs[1][0]) + xs[1][1] ** 2

    for args in ([X3, (X3 * 2, 1.5)], (X3, [X3 * 2, 1.5])):
        expected = jit(jax.grad(lambda xs: f(jnp, xs)))(args)
        assert_tree_close(dualad.grad(lambda xs: f(np, xs))(args), expected)


# --------------------------------------------------------------------------- API: scalars, dtypes


SCALAR_CASES = [  # (id, function, argument)
    ("python-float", lambda x: np.sin(x) * x, 0.7),
    ("python-int", lambda x: x ** 3, 2),
    ("numpy-float64", lambda x: np.exp(x), np.float64(0.3)),
    ("0-d-array", lambda x: np.tanh(x) * 2.0, np.array(0.4)),
    ("vector-to-scalar", lambda x: np.sum(x ** 2), np.array([1.0, 2.0])),
    ("float32", lambda x: np.sum(np.sin(x)), np.array([1.0, 2.0], dtype=np.float32)),
]


@pytest.mark.parametrize("f, x", [pytest.param(f, x, id=i) for i, f, x in SCALAR_CASES])
def test_scalar_results_have_forward_modes_types(f, x):
    """grad, value_and_grad and vjp return what jacfwd and jvp return (NumPy floats for 0-d
    results, arrays otherwise), with the same dtypes and the same values."""
    forward = dualad.jacfwd(f)(x)
    y_forward, _ = dualad.jvp(f, (x,), (np.ones_like(x, dtype=np.result_type(x, 1.0)),))
    g = dualad.grad(f)(x)
    value, g2 = dualad.value_and_grad(f)(x)
    y, pullback = dualad.vjp(f, x)
    (g3,) = pullback(np.ones_like(y))
    for result in (g, g2, g3):
        assert type(result) is type(forward)
        assert np.result_type(result) == np.result_type(forward)
        np.testing.assert_allclose(result, forward, rtol=1e-6 if forward.dtype == np.float32
                                   else 1e-15)
    for result in (value, y):
        assert type(result) is type(y_forward)
        assert np.result_type(result) == np.result_type(y_forward)
        assert result == y_forward


def test_python_scalars_in_and_out_like_jax():
    g = dualad.grad(lambda a, b: a * b + np.sin(a), argnums=(0, 1))(2.0, 3.0)
    assert all(isinstance(v, float) for v in g)
    g_ref = jit(jax.grad(lambda a, b: a * b + jnp.sin(a), argnums=(0, 1)))(2.0, 3.0)
    assert_tree_close(g, g_ref, rtol=1e-15)
    assert dualad.grad(lambda x: 2.5)(X3).tolist() == [0.0, 0.0, 0.0]  # constant output


def test_float32_stays_float32_in_every_reverse_transform():
    x = X3.astype(np.float32)
    f = lambda x: np.sum(np.tanh(x) * x[::-1])
    assert dualad.grad(f)(x).dtype == np.float32
    value, g = dualad.value_and_grad(f)(x)
    assert np.result_type(value) == np.float32 and g.dtype == np.float32
    y, pullback = dualad.vjp(lambda x: np.tanh(x) * x[::-1], x)
    assert y.dtype == np.float32 and pullback(np.ones(3, np.float32))[0].dtype == np.float32
    J = dualad.jacrev(lambda x: np.tanh(x) * x[::-1])(x)
    assert J.dtype == np.float32
    J_ref = jit(jax.jacrev(lambda x: jnp.tanh(x) * x[::-1]))(x)
    assert J_ref.dtype == np.float32
    np.testing.assert_allclose(J, J_ref, rtol=1e-6, atol=1e-7)


def overlapping_slices(np_, x):
    """Slices and ints of one array, read several times (the engine scatters each in place)."""
    y = x[1:] * x[:-1] + x[0] * x[::2].sum() - x[-1]
    return (np_.sum(np_.sin(x) * 2.0) + np_.sum(y[1:] ** 2) + np_.sum(x[1:3] * y[:2])
            + np_.sum(x[::-1] * x) + np_.sum(x[5:1:-2] ** 3))  # negative steps too


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_overlapping_slice_cotangents_accumulate_like_jax(dtype):
    x = np.linspace(-1.0, 2.0, 7).astype(dtype)
    g = dualad.grad(lambda x: overlapping_slices(np, x))(x)
    g_ref = jit(jax.grad(lambda x: overlapping_slices(jnp, x)))(x)
    assert g.dtype == dtype
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(g, g_ref, rtol=tolerance, atol=tolerance)


# --------------------------------------------------------------------------- API: jacrev chunks


def chunked_f(np_, x, y):
    return {"a": np_.tanh(x @ y), "b": np_.sum(np_.exp(-x * x), axis=0)[:, None] * y}


CHUNK_ARGS = (RNG.normal(size=(3, 2)), RNG.normal(size=(2, 4)))  # outputs of 12 and 8 rows


@pytest.fixture(scope="module")
def chunk_reference():
    return jit(jax.jacrev(lambda x, y: chunked_f(jnp, x, y), argnums=(0, 1)))(*CHUNK_ARGS)


@pytest.mark.parametrize("chunk_size, passes", [(None, 2), (1, 20), (2, 10), (3, 7)])
def test_jacrev_chunk_sizes_give_identical_results(chunk_size, passes, chunk_reference,
                                                   monkeypatch):
    """Each chunk pulls up to chunk_size rows back at once (per output leaf); every chunk
    size gives bitwise the same Jacobian, equal to JAX's."""
    calls = []
    backward = dualad.transforms._recording.backward

    def counting_backward(tape, seeds, wanted, k):
        calls.append(k)
        return backward(tape, seeds, wanted, k)

    monkeypatch.setattr(dualad.transforms._recording, "backward", counting_backward)
    jac = dualad.jacrev(lambda x, y: chunked_f(np, x, y), argnums=(0, 1),
                        chunk_size=chunk_size)(*CHUNK_ARGS)
    assert len(calls) == passes
    assert_tree_close(jac, chunk_reference)
    monkeypatch.undo()
    unchunked = dualad.jacrev(lambda x, y: chunked_f(np, x, y), argnums=(0, 1))(*CHUNK_ARGS)
    assert_tree_equal(jac, unchunked)


# --------------------------------------------------------------------------- API: hvp


def scalar_fn(np_, x):
    return np_.sum(np_.sin(x) * np_.exp(x[::-1] / 2)) + np_.prod(np_.tanh(x)) ** 2


def two_arg_fn(np_, x, W):
    return np_.sum(np_.tanh(W @ x) ** 2) + np_.sum(x ** 3) * np_.sum(W)


def test_hvp_equals_hessian_times_v_and_jax():
    rng = np.random.default_rng(105)
    v = rng.normal(size=3)
    Hv = dualad.hvp(lambda x: scalar_fn(np, x), (X3,), (v,))
    H = dualad.hessian(lambda x: scalar_fn(np, x))(X3)
    ref = jit(lambda x, v: jax.jvp(jax.grad(lambda z: scalar_fn(jnp, z)), (x,), (v,))[1])(X3, v)
    assert Hv.shape == (3,)
    np.testing.assert_allclose(Hv, H @ v, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Hv, ref, rtol=1e-11, atol=1e-12)


def test_hvp_of_two_arguments_like_jax():
    """H = [[Hxx, HxW], [HWx, HWW]] times (vx, vW): one product per argument, a tuple."""
    rng = np.random.default_rng(106)
    vx, vW = rng.normal(size=3), rng.normal(size=(2, 3))
    hv = dualad.hvp(lambda x, W: two_arg_fn(np, x, W), (X3, M23), (vx, vW))
    ref = jit(lambda p, t: jax.jvp(jax.grad(lambda x, W: two_arg_fn(jnp, x, W),
                                            argnums=(0, 1)), p, t)[1])((X3, M23), (vx, vW))
    assert_tree_close(hv, ref, rtol=1e-11, atol=1e-12)


def test_hvp_of_python_floats():
    """d^2/dx^2 x^3 sin(x) at 0.5, times 2."""
    d2 = lambda x: 6 * x * np.sin(x) + 6 * x ** 2 * np.cos(x) - x ** 3 * np.sin(x)
    assert dualad.hvp(lambda x: x ** 3 * np.sin(x), (0.5,), (2.0,)) == pytest.approx(
        2 * d2(0.5), rel=1e-13)


# --------------------------------------------------------------------------- pullback


def pulled(np_, x, W):
    return np_.tanh(W @ x) * np_.sum(x ** 2), np_.cumsum(x)


def test_pullback_called_many_times_with_different_cotangents_like_jax():
    """The backward pass reads the tape and leaves it as it was: every call is JAX's
    answer, and repeating a cotangent repeats the result bitwise."""
    y, pullback = dualad.vjp(lambda x, W: pulled(np, x, W), X3, M23)
    jax_pullback = jit(lambda ct, x, W: jax.vjp(lambda x, W: pulled(jnp, x, W), x, W)[1](ct))
    rng = np.random.default_rng(107)
    cotangents = [(rng.normal(size=2), rng.normal(size=3)) for _ in range(3)]
    cotangents.append((np.zeros(2), np.ones(3)))
    first = [pullback(ct) for ct in cotangents]
    for ct, result in zip(cotangents, first):
        assert_tree_close(result, jax_pullback(ct, X3, M23))
    for ct, result in zip(reversed(cotangents), reversed(first)):
        assert_tree_equal(pullback(ct), result)


def test_pullback_tape_is_freed_when_nothing_refers_to_it():
    y, pullback = dualad.vjp(lambda x, W: pulled(np, x, W), X3, M23)
    tape = weakref.ref(pullback._recording.tape)
    cts = pullback((np.ones(2), np.ones(3)))
    del y
    gc.collect()
    assert tape() is not None  # the pullback holds it
    del pullback
    gc.collect()
    assert tape() is None  # the results and outputs do not
    assert cts[0].shape == (3,)


def test_other_reverse_transforms_keep_no_tape(monkeypatch):
    """grad, value_and_grad, jacrev and hessian drop their tapes on return, also with
    has_aux holding active intermediates (aux is returned as plain values)."""
    tapes = []
    Tape = dualad.transforms.reverse.Tape

    def spy(*args, **kwargs):
        tape = Tape(*args, **kwargs)
        tapes.append(weakref.ref(tape))
        return tape

    monkeypatch.setattr(dualad.transforms.reverse, "Tape", spy)
    monkeypatch.setattr(dualad.transforms._recording, "Tape", spy)
    f = lambda x: with_aux(np, x, 1.5)
    results = [dualad.grad(f, has_aux=True)(X3), dualad.value_and_grad(f, has_aux=True)(X3),
               dualad.jacrev(lambda x: vector_with_aux(np, x, 1.5), has_aux=True)(X3),
               dualad.hessian(lambda x: scalar_fn(np, x))(X3)]
    gc.collect()
    assert len(tapes) == 4 and all(t() is None for t in tapes)  # results still alive
    _assert_aux_plain(results)


COTANGENT_ERRORS = [  # (id, cotangent for outputs of shapes ((2,), (3,)), message fragments)
    ("shape-first", (np.ones(3), np.ones(3)), ["output 0", "(3,)", "(2,)"]),
    ("shape-second", (np.ones(2), np.ones((3, 1))), ["output 1", "(3, 1)", "(3,)"]),
    ("shape-scalar", (1.0, np.ones(3)), ["output 0", "(2,)"]),
    ("dtype-int", (np.ones(2, dtype=int), np.ones(3)), ["output 0", "int", "(2,)"]),
    ("dtype-bool", (np.ones(2), np.ones(3, dtype=bool)), ["output 1", "bool", "(3,)"]),
    ("dtype-complex", (np.ones(2) + 1j, np.ones(3)), ["output 0", "complex", "(2,)"]),
    ("dtype-string", (np.array(["a", "b"]), np.ones(3)), ["output 0", "(2,)"]),
    ("structure-list", [np.ones(2), np.ones(3)], ["structure"]),
    ("structure-one-leaf", np.ones(2), ["structure"]),
    ("structure-three", (np.ones(2), np.ones(3), np.ones(3)), ["structure"]),
    ("structure-nested", ((np.ones(2),), np.ones(3)), ["structure"]),
    ("structure-none", None, ["structure"]),
]


@pytest.mark.parametrize("ct, fragments",
                         [pytest.param(ct, frag, id=i) for i, ct, frag in COTANGENT_ERRORS])
def test_bad_cotangent_raises_shape_mismatch_naming_the_expected_shape(ct, fragments):
    y, pullback = dualad.vjp(lambda x, W: pulled(np, x, W), X3, M23)
    with pytest.raises(ShapeMismatchError) as excinfo:
        pullback(ct)
    assert isinstance(excinfo.value, ValueError)
    for fragment in fragments:
        assert fragment in str(excinfo.value), f"{fragment!r} not in {excinfo.value}"
    # the pullback still works after a refused cotangent
    assert_tree_close(pullback((np.ones(2), np.zeros(3))),
                      dualad.grad(lambda x, W: np.sum(pulled(np, x, W)[0]), argnums=(0, 1))(
                          X3, M23))


def test_bad_cotangent_in_a_dict_output():
    y, pullback = dualad.vjp(lambda x: {"a": x * 2, "b": np.sum(x)}, X3)
    with pytest.raises(ShapeMismatchError, match=r"\(3,\)"):
        pullback({"a": np.ones(4), "b": 1.0})
    with pytest.raises(ShapeMismatchError, match="structure"):
        pullback({"a": np.ones(3), "c": 1.0})
    np.testing.assert_allclose(pullback({"a": np.ones(3), "b": 1.0})[0], np.full(3, 3.0))


# --------------------------------------------------------------------------- nesting


def vector_fn(np_, x):
    return np_.stack([np_.sum(x ** 3), np_.sin(x[0]) * x[1], np_.tanh(x @ x)])


def scalar_1d(np_, x):
    return np_.sin(x) * np_.exp(x / 2) + x ** 3


def test_grad_of_grad_and_third_order_like_jax():
    f = lambda x: scalar_1d(np, x)
    g = lambda x: scalar_1d(jnp, x)
    ours = [dualad.grad(dualad.grad(f))(0.7), dualad.grad(dualad.grad(dualad.grad(f)))(0.7)]
    ref = jit(lambda x: (jax.grad(jax.grad(g))(x), jax.grad(jax.grad(jax.grad(g)))(x)))(0.7)
    assert_tree_close(ours, list(ref), rtol=1e-13)


def test_jacfwd_of_grad_is_the_hessian_like_jax():
    f = lambda x: scalar_fn(np, x)
    H_fr = dualad.jacfwd(dualad.grad(f))(X3)
    H = dualad.hessian(f)(X3)
    H_ref = jit(jax.hessian(lambda x: scalar_fn(jnp, x)))(X3)
    np.testing.assert_allclose(H_fr, H_ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(H, H_ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(H, H_fr, rtol=1e-13, atol=1e-14)


def test_hessian_of_vector_function_and_tuple_argnums_like_jax():
    H = dualad.hessian(lambda x, W: two_arg_fn(np, x, W), argnums=(0, 1))(X3, M23)
    ref = jit(jax.hessian(lambda x, W: two_arg_fn(jnp, x, W), argnums=(0, 1)))(X3, M23)
    assert_tree_close(H, ref, rtol=1e-11, atol=1e-12)
    H3 = dualad.hessian(lambda x: vector_fn(np, x))(X3)
    assert H3.shape == (3, 3, 3)
    np.testing.assert_allclose(H3, jit(jax.hessian(lambda x: vector_fn(jnp, x)))(X3),
                               rtol=1e-11, atol=1e-12)


def test_jacrev_of_jacrev_like_jax():
    J2 = dualad.jacrev(dualad.jacrev(lambda x: vector_fn(np, x)))(X3)
    ref = jit(jax.jacrev(jax.jacrev(lambda x: vector_fn(jnp, x))))(X3)
    assert J2.shape == (3, 3, 3)
    np.testing.assert_allclose(J2, ref, rtol=1e-11, atol=1e-12)


def test_jacrev_of_jacfwd_like_jax():
    J2 = dualad.jacrev(dualad.jacfwd(lambda x: vector_fn(np, x)))(X3)
    ref = jit(jax.jacrev(jax.jacfwd(lambda x: vector_fn(jnp, x))))(X3)
    np.testing.assert_allclose(J2, ref, rtol=1e-11, atol=1e-12)


def test_jvp_of_grad_like_jax():
    g, hv = dualad.jvp(dualad.grad(lambda x: scalar_fn(np, x)), (X3,), (V3,))
    g_ref, hv_ref = jit(lambda x, v: jax.jvp(jax.grad(lambda z: scalar_fn(jnp, z)), (x,),
                                             (v,)))(X3, V3)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(hv, hv_ref, rtol=1e-11, atol=1e-12)


def test_grad_of_a_function_calling_jvp_like_jax():
    """d/dx <w, J(x) v>: the inner jvp's tangent carries the outer tape."""
    rng = np.random.default_rng(108)
    w = rng.normal(size=3)

    def outer(np_, jvp, x):
        return np_.sum(w * jvp(lambda z: vector_fn(np_, z), (x,), (V3,))[1])

    g = dualad.grad(lambda x: outer(np, dualad.jvp, x))(X3)
    ref = jit(jax.grad(lambda x: outer(jnp, jax.jvp, x)))(X3)
    np.testing.assert_allclose(g, ref, rtol=1e-11, atol=1e-12)


def test_grad_of_a_function_calling_grad_like_jax():
    """The inner function closes over the outer variable: both levels in one operation."""
    def outer(np_, grad, x):
        inner = grad(lambda y: np_.sum(np_.sin(x * y) * y ** 2))(x)
        return np_.sum(inner ** 2) + np_.prod(x)

    g = dualad.grad(lambda x: outer(np, dualad.grad, x))(X3)
    ref = jit(jax.grad(lambda x: outer(jnp, jax.grad, x)))(X3)
    np.testing.assert_allclose(g, ref, rtol=1e-11, atol=1e-12)
    # the closure matters: holding the inner x constant gives a different answer
    def constant_inside(z):
        inner = jax.grad(lambda y: jnp.sum(jnp.sin(X3 * y) * y ** 2))(z)
        return jnp.sum(inner ** 2) + jnp.prod(z)

    assert not np.allclose(g, jit(jax.grad(constant_inside))(X3))


def test_jacrev_through_vjp_pullback_like_jax():
    """A pullback used inside an outer transform: d/dx (J(x)^T u)."""
    rng = np.random.default_rng(109)
    u = rng.normal(size=3)
    J = dualad.jacrev(lambda x: dualad.vjp(lambda z: vector_fn(np, z), x)[1](u)[0])(X3)
    ref = jit(jax.jacrev(lambda x: jax.vjp(lambda z: vector_fn(jnp, z), x)[1](u)[0]))(X3)
    np.testing.assert_allclose(J, ref, rtol=1e-11, atol=1e-12)


def test_pullback_with_a_cotangent_depending_on_the_outer_variable_like_jax():
    """d/dx sum(J(x)^T sin(x)): the cotangent itself is active in the outer grad."""
    def outer(np_, vjp, x):
        return np_.sum(vjp(lambda z: vector_fn(np_, z), x)[1](np_.sin(x))[0] ** 2)

    g = dualad.grad(lambda x: outer(np, dualad.vjp, x))(X3)
    ref = jit(jax.grad(lambda x: outer(jnp, jax.vjp, x)))(X3)
    np.testing.assert_allclose(g, ref, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("transform", [dualad.jacfwd, dualad.jacrev])
def test_pullback_is_linear_in_the_cotangent_its_jacobian_is_j_transposed(transform):
    """A pullback made outside, differentiated w.r.t. its cotangent: J^T, with JAX's J."""
    _, pullback = dualad.vjp(lambda x: vector_fn(np, x), X3)
    JT = transform(lambda u: pullback(u)[0])(np.ones(3))
    J_ref = jit(jax.jacrev(lambda x: vector_fn(jnp, x)))(X3)
    np.testing.assert_allclose(JT, J_ref.T, rtol=1e-13, atol=1e-14)


# d/dx [x * d/dy (x + y)] at x = 1 is 1: the inner derivative is 1 whatever x is. A system
# that confuses the two perturbations differentiates the inner x as well and returns 2.
# The x * y variant: d/dx [x * d/dy (x y)] = d/dx x^2 = 2x, 6 at x = 3 (confused: 9 or 3).
INNER = {
    "grad": lambda f, y: dualad.grad(f)(y),
    "jacfwd": lambda f, y: dualad.jacfwd(f)(y),
    "jacrev": lambda f, y: dualad.jacrev(f)(y),
    "jvp": lambda f, y: dualad.jvp(f, (y,), (1.0,))[1],
    "vjp": lambda f, y: dualad.vjp(f, y)[1](1.0)[0],
}
OUTER = {
    "grad": lambda f, x: dualad.grad(f)(x),
    "jacfwd": lambda f, x: dualad.jacfwd(f)(x),
    "jacrev": lambda f, x: dualad.jacrev(f)(x),
    "vjp": lambda f, x: dualad.vjp(f, x)[1](1.0)[0],
}
CONFUSION_COMBOS = [(o, i) for o in OUTER for i in INNER
                    if "grad" in (o, i) or "vjp" in (o, i) or "jacrev" in (o, i)]


@pytest.mark.parametrize("outer, inner", CONFUSION_COMBOS)
def test_no_perturbation_confusion(outer, inner):
    d = OUTER[outer](lambda x: x * INNER[inner](lambda y: x + y, 1.0), 1.0)
    assert d == 1.0
    d2 = OUTER[outer](lambda x: x * INNER[inner](lambda y: x * y, 2.0), 3.0)
    assert d2 == pytest.approx(6.0, rel=1e-15)


def confusion_on_arrays(np_, inner_grad, x):
    return np_.sum(x * inner_grad(lambda y: np_.sum(x * np_.sin(y) + y))(x[::-1]))


@pytest.mark.parametrize("outer_t, inner_t", [(dualad.grad, dualad.grad),
                                              (dualad.grad, dualad.jacfwd),
                                              (dualad.jacfwd, dualad.grad)],
                         ids=["reverse-reverse", "reverse-forward", "forward-reverse"])
def test_no_perturbation_confusion_like_jax_on_arrays(outer_t, inner_t):
    """The same on arrays, reverse over reverse and both mixed orders, against JAX."""
    g = outer_t(lambda x: confusion_on_arrays(np, inner_t, x))(X3)
    ref = jit(jax.grad(lambda x: confusion_on_arrays(jnp, jax.grad, x)))(X3)
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- deep programs

DEEP_STEPS = 33_334  # three primitives per step: 100,002 nodes on the tape
H_STEP = 1e-5


def deep_program(x):
    """Explicit Euler for x' = sin(x): stays well scaled over 10^5 operations."""
    for _ in range(DEEP_STEPS):
        x = x + H_STEP * np.sin(x)
    return np.sum(x * x)


def test_deep_program_gradient_without_recursion_error():
    """grad of a 10^5-node tape: equal to the chain rule written by hand (d x_{k+1}/d x_k
    = 1 + h cos x_k, then 2 x_N) and to forward mode."""
    x0 = np.array([0.3, -1.2])
    y, pullback = dualad.vjp(deep_program, x0)
    assert len(pullback._recording.tape.nodes) >= 100_000
    (g,) = pullback(1.0)
    x, dx = x0.copy(), np.ones(2)
    for _ in range(DEEP_STEPS):
        x, dx = x + H_STEP * np.sin(x), dx * (1 + H_STEP * np.cos(x))
    assert y == pytest.approx(np.sum(x * x), rel=1e-14)
    np.testing.assert_allclose(g, 2 * x * dx, rtol=1e-12)
    assert np.all(np.abs(g) > 0.1)  # well scaled, not underflowed
    _, forward = dualad.jvp(deep_program, (x0,), (np.array([1.0, 0.0]),))
    assert forward == pytest.approx(g[0], rel=1e-12)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("f, shape", [(np.sin, "(3,)"), (lambda x: np.sum(x, keepdims=True),
                                                          "(1,)")], ids=["vector", "one-element"])
def test_grad_of_a_non_scalar_output_suggests_jacrev_and_vjp(f, shape):
    """Like JAX, a one-element array is not a scalar either."""
    for call in (dualad.grad(f), dualad.value_and_grad(f)):
        with pytest.raises(NonScalarOutputError) as excinfo:
            call(X3)
        message = str(excinfo.value)
        assert isinstance(excinfo.value, TypeError)
        assert "jacrev" in message and "vjp" in message and shape in message, message


@pytest.mark.parametrize("f", [lambda x: (np.sum(x), np.sum(x ** 2)),
                               lambda x: [np.sum(x)], lambda x: {"a": np.sum(x)}],
                         ids=["tuple", "list", "dict"])
def test_grad_of_a_function_returning_a_container_suggests_jacrev_and_vjp(f):
    with pytest.raises(NonScalarOutputError) as excinfo:
        dualad.grad(f)(X3)
    assert "jacrev" in str(excinfo.value) and "vjp" in str(excinfo.value)


def _setitem_scalar(x):
    a = np.zeros(3)
    a[0] = x[0]
    return np.sum(a)


def _setitem_slice(x):
    a = np.zeros(3)
    a[:] = x
    return np.sum(a)


def _inplace_into_plain(x):
    a = np.zeros(3)
    a += x
    return np.sum(a)


CONVERSIONS = [
    ("float", lambda x: float(x[0])),
    ("item", lambda x: x[0].item()),
    ("asarray", lambda x: np.sum(np.asarray(x))),
    ("array", lambda x: np.sum(np.array(x))),
    ("math.sin", lambda x: math.sin(x[0])),
    ("astype-int", lambda x: np.sum(x.astype(int))),
    ("setitem-scalar", _setitem_scalar),
    ("setitem-slice", _setitem_slice),
    ("out-argument", lambda x: np.sum(np.sin(x, out=np.empty(3)))),
    ("out-argument-binary", lambda x: np.sum(np.add(x, 1.0, out=np.empty(3)))),
    ("inplace-into-plain", _inplace_into_plain),
    ("as-index", lambda x: np.sum(np.arange(3.0)[x])),
    ("unwrap", lambda x: np.sum(np.unwrap(x))),
    ("resize", lambda x: np.sum(np.resize(x, 5))),
]


def _error_of(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the error itself is what is compared
        return exc
    raise AssertionError("no error raised")


def _describe(exc):
    cause = exc.__cause__
    return type(exc), str(exc), (type(cause), str(cause)) if cause is not None else None


@pytest.mark.parametrize("f", [pytest.param(f, id=i) for i, f in CONVERSIONS])
def test_reverse_mode_raises_forward_modes_errors(f):
    """Conversions that would drop the derivative, out=, unsupported functions: the same
    error class and the same message in every reverse transform as in jvp."""
    forward = _error_of(lambda: dualad.jvp(f, (X3,), (np.ones(3),)))
    assert isinstance(forward, DualadError) or isinstance(forward.__cause__, DualadError)
    for call in (lambda: dualad.grad(f)(X3), lambda: dualad.vjp(f, X3),
                 lambda: dualad.jacrev(f)(X3), lambda: dualad.hessian(f)(X3)):
        assert _describe(_error_of(call)) == _describe(forward)


@pytest.mark.parametrize("f, name", [
    (lambda x: np.sum(np.unwrap(x)), "np.unwrap"),
    (lambda x: np.resize(x, 5), "np.resize")],
    ids=["unwrap", "resize"])
def test_unsupported_function_is_named(f, name):
    for call in (dualad.grad(f), dualad.jacrev(f)):
        with pytest.raises(UnsupportedPrimitiveError, match=name.replace(".", r"\.")):
            call(X3)


def test_conversion_error_classes_in_reverse_mode():
    """The classes the README promises, checked directly (not only 'same as forward')."""
    with pytest.raises(ConversionError):
        dualad.grad(lambda x: float(x[0]))(X3)
    with pytest.raises(ConversionError):
        dualad.grad(lambda x: np.sum(np.asarray(x)))(X3)
    with pytest.raises(UnsupportedPrimitiveError, match="out="):
        dualad.grad(lambda x: np.sum(np.sin(x, out=np.empty(3))))(X3)


def _leak(outer_transform, inner_transform, use):
    """An inner transform's active value escapes through a list and the outer one returns
    it (after ``use``)."""
    store = []

    def outer(x):
        inner_transform(lambda y: store.append(x * y) or y * 1.0, 1.0)
        return use(store[0])

    return outer_transform(outer, 2.0)


LEAKS = [
    ("grad-grad", OUTER["grad"], INNER["grad"], lambda v: v),
    ("grad-grad-used", OUTER["grad"], INNER["grad"], lambda v: np.sin(v) * 2.0),
    ("grad-jvp", OUTER["grad"], INNER["jvp"], lambda v: v),
    ("grad-vjp", OUTER["grad"], INNER["vjp"], lambda v: v),
    ("jacrev-grad", OUTER["jacrev"], INNER["grad"], lambda v: v),
    ("jacfwd-grad", OUTER["jacfwd"], INNER["grad"], lambda v: v),
]


@pytest.mark.parametrize("outer, inner, use", [pytest.param(*leak[1:], id=leak[0])
                                               for leak in LEAKS])
def test_leaked_inner_value_raises_perturbation_confusion(outer, inner, use):
    with pytest.raises(PerturbationConfusionError) as excinfo:
        _leak(outer, inner, use)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert "leaked" in message and "already returned" in message
    assert "output 0" in message or "an operand of sin" in message  # returned, or used
