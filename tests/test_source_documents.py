"""The numbers of the source documents (a lecture, a forum thread, three notebooks), reproduced
from their own NumPy code.

Each test runs the document's code as written (where it has code) and compares dualad with the
numbers the document prints, or with the document's hand-derived formulas.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualad

# --------------------------------------------------------------------------- the lecture


def lecture_f(x1, x2):
    """The lecture's running example, f(x1, x2) = ln(x1) + x1 x2 - sin(x2)."""
    return np.log(x1) + x1 * x2 - np.sin(x2)


def test_lecture_forward_trace_values_by_jvp():
    """Forward primal trace y = 11.652; tangent trace dy/dx1 = 5.5; and dy/dx2 = 1.716."""
    y, dy_dx1 = dualad.jvp(lecture_f, (2.0, 5.0), (1.0, 0.0))
    assert round(float(y), 3) == 11.652
    assert float(dy_dx1) == pytest.approx(5.5, abs=1e-14)
    y2, dy_dx2 = dualad.jvp(lecture_f, (2.0, 5.0), (0.0, 1.0))
    assert float(y2) == float(y)
    assert round(float(dy_dx2), 3) == 1.716
    # the closed forms behind the tables: 1/x1 + x2 and x1 - cos(x2)
    assert float(dy_dx2) == pytest.approx(2.0 - np.cos(5.0), rel=1e-14)


def test_lecture_jacobian_row_by_jacfwd():
    """One forward pass per input gives one Jacobian column: (5.5, 1.716)."""
    d1, d2 = dualad.jacfwd(lecture_f, argnums=(0, 1))(2.0, 5.0)
    assert isinstance(d1, float) and isinstance(d2, float)
    assert d1 == pytest.approx(5.5, abs=1e-14)
    assert round(d2, 3) == 1.716
    grad = dualad.jacfwd(lambda x: lecture_f(x[0], x[1]))(np.array([2.0, 5.0]))
    np.testing.assert_allclose(grad, [0.5 + 5.0, 2.0 - np.cos(5.0)], rtol=1e-14)


def logistic(x, n):
    """l_1 = x, l_{k+1} = 4 l_k (1 - l_k); returns l_n."""
    l = x
    for _ in range(n - 1):
        l = 4 * l * (1 - l)
    return l


LOGISTIC_DERIVATIVES = {  # the table's "simplified form" column
    1: lambda x: np.ones_like(x),
    2: lambda x: 4 - 8 * x,
    3: lambda x: 16 * (1 - 10 * x + 24 * x**2 - 16 * x**3),
    4: lambda x: 64 * (1 - 42 * x + 504 * x**2 - 2640 * x**3 + 7040 * x**4 - 9984 * x**5
                       + 7168 * x**6 - 2048 * x**7),
}


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_logistic_map_derivatives_match_the_simplified_forms(n):
    """Expression swell: forward mode gets d l_n / dx without building the expression."""
    xs = np.array([-0.7, 0.0, 0.13, 0.25, 0.5, 0.81, 1.0, 1.3])
    _, tangent = dualad.jvp(lambda x: logistic(x, n), (xs,), (np.ones_like(xs),))
    # the expanded polynomials cancel: compare to within their own rounding
    np.testing.assert_allclose(tangent, LOGISTIC_DERIVATIVES[n](xs), rtol=1e-10, atol=1e-10)
    for x in (0.13, 0.81):
        assert dualad.jacfwd(lambda x: logistic(x, n))(x) == pytest.approx(
            LOGISTIC_DERIVATIVES[n](np.float64(x)), rel=1e-10)


def test_linear_layer_backward_identities():
    """dL/dX = dL/dY W^T and dL/dW = X^T dL/dY for Y = X W, with dL/dY = G."""
    rng = np.random.default_rng(4901)
    B, D1, D2 = 4, 5, 3
    X, W, G = rng.normal(size=(B, D1)), rng.normal(size=(D1, D2)), rng.normal(size=(B, D2))

    def loss(X, W):
        return np.sum(G * (X @ W))  # L with dL/dY = G

    dX, dW = dualad.jacfwd(loss, argnums=(0, 1))(X, W)
    np.testing.assert_allclose(dX, G @ W.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dW, X.T @ G, rtol=1e-12, atol=1e-13)
    # and through the full Jacobian of Y = X W: dL/dX[i, j] = sum_{a,b} G[a, b] dY[a, b]/dX[i, j]
    J = dualad.jacfwd(lambda X: X @ W)(X)
    assert J.shape == (B, D2, B, D1)
    np.testing.assert_allclose(np.einsum("ab,abij->ij", G, J), G @ W.T, rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- forum: tanh network


def forum_y2(w_h, w_y, h0=0.5):
    """The thread's equations, in their order."""
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    return w_y * h2


def _hand_dy2_dwh(w_h, w_y, h0, fixed):
    """The thread's analytic chain rule; ``fixed=False`` is its buggy 1 - raw**2 version."""
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dh0_dwh = 0
    dh1raw_dwh = h0 + w_h * dh0_dwh
    dh1_dwh = (1 - (h1 if fixed else h1_raw) ** 2) * dh1raw_dwh
    dh2raw_dwh = h1 + w_h * dh1_dwh
    dh2_dwh = (1 - (h2 if fixed else h2_raw) ** 2) * dh2raw_dwh
    dwy_dwh = 0
    return h2 * dwy_dwh + w_y * dh2_dwh


def test_forum_gradients_are_autograds_numbers():
    """dy2/dw_h = 8.1888 and dy2/dw_y = 0.9093, as PyTorch printed."""
    dwh, dwy = dualad.jacfwd(forum_y2, argnums=(0, 1))(2.0, 40.0)
    assert round(dwh, 4) == 8.1888
    assert round(dwy, 4) == 0.9093
    assert dwy == pytest.approx(np.tanh(2 * np.tanh(1.0)), rel=1e-14)


def test_forum_buggy_hand_formula_disagrees_and_the_fix_agrees():
    """1 - raw**2 in place of 1 - tanh(raw)**2 gives -40.2153; dualad gives 8.1888."""
    buggy = _hand_dy2_dwh(2.0, 40.0, 0.5, fixed=False)
    assert round(buggy, 4) == -40.2153
    _, dwh = dualad.jvp(forum_y2, (2.0, 40.0), (1.0, 0.0))
    assert round(float(dwh), 4) == 8.1888
    assert abs(float(dwh) - buggy) > 48
    assert float(dwh) == pytest.approx(_hand_dy2_dwh(2.0, 40.0, 0.5, fixed=True), rel=1e-14)


# --------------------------------------------------------------------------- object arrays of duals


def relu(x):
    return np.clip(x, 0, np.inf)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def l2_loss(x, y):
    return (x - y) ** 2


X4 = np.array([[1, 2, 3],
               [4, 5, 6],
               [7, 8, 9]])
W4 = np.array([[0.1, -0.1],
               [0.2, 0.01]])
H4 = np.array([0.05, -0.2, 0.2, 0.5])
Y4 = np.array([1.])


def notebook_forward(W, H, X=X4, Y=Y4):
    """The notebook's forward pass as written: scalar indexing, np.array of scalars, clip."""
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]

    A = np.array([[A00, A01], [A10, A11]])
    R = relu(A)
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)
    L = l2_loss(Z, Y).sum()
    return L, B


def test_notebook_forward_values():
    L, B = notebook_forward(W4, H4)
    assert L == 0.08160825153326548
    assert B == pytest.approx(0.9165, abs=1e-15)


def test_notebook_gradients_through_the_code_as_written():
    """dL/dW and dL/dH as autograd printed them, differentiating W and H together."""
    (dW, dH), B = dualad.jacfwd(notebook_forward, argnums=(0, 1), has_aux=True)(W4, H4)
    np.testing.assert_allclose(dW, [[-0.34394106, -0.40806568], [-0.5363149, -0.6004395]],
                               atol=1.5e-7)
    np.testing.assert_allclose(dH, [-0.08744264, -0.11192658, -0.16089446, -0.1853784],
                               atol=1e-8)
    assert B == pytest.approx(0.9165, abs=1e-15)


@pytest.mark.parametrize("argnum", [0, 1])
def test_notebook_gradient_in_each_argument_alone(argnum):
    """W active alone (object array of scalar duals) and H active alone (plain R times H)."""
    dL = dualad.jacfwd(lambda W, H: notebook_forward(W, H)[0], argnums=argnum)(W4, H4)
    expected = ([[-0.34394106, -0.40806568], [-0.5363149, -0.6004395]],
                [-0.08744264, -0.11192658, -0.16089446, -0.1853784])[argnum]
    np.testing.assert_allclose(dL, expected, atol=1.5e-7)


def test_notebook_hand_backward_for_w00():
    """The notebook's own backward pass for W[0, 0] (-0.34394105) agrees with dualad."""
    dL = dualad.jacfwd(lambda W: notebook_forward(W, H4)[0])(W4)
    L, B = notebook_forward(W4, H4)
    Z = sigmoid(B)
    A = np.array([[0.75, 0.96], [1.38, 1.59]])
    R = relu(A)
    d_B = 2 * (Z - Y4) * sigmoid(B) * (1 - sigmoid(B))
    d_A = d_B * H4 * (A.reshape(-1) > 0)
    d_W00 = d_A @ np.array([X4[0, 0], X4[0, 1], X4[1, 0], X4[1, 1]])
    assert np.all(R == A)
    assert dL[0, 0] == pytest.approx(d_W00, rel=1e-12)
    assert round(float(dL[0, 0]), 8) == -0.34394105


# --------------------------------------------------------------------------- sigmoid network


def test_single_layer_net_gradients_match_the_hand_formulas():
    """f(W, U) = (1/sqrt m) sum_k w_k sigmoid(u_k . x), with the notebook's shapes."""
    m, d = 10, 3
    rng = np.random.default_rng(0)
    weights1 = rng.normal(size=(m, d))  # U, linear1.weight
    weights2 = rng.normal(size=(1, m))  # W, linear2.weight
    inp = rng.normal(size=(d, 1))

    def net(weights2, weights1):
        hidden = 1 / (1 + np.exp(-np.matmul(weights1, inp)))
        return (np.matmul(weights2, hidden)).squeeze() / np.sqrt(m)

    dw_ad, du_ad = dualad.jacfwd(net, argnums=(0, 1))(weights2, weights1)

    # the notebook's symbolic formulas, as written
    tmp0 = np.matmul(weights1, inp).squeeze()
    tmp = np.exp(-1 * tmp0)
    dw_calc = (1 / np.sqrt(10)) / (1 + tmp)
    tmp2 = (1 + tmp) * (1 + tmp)
    dtmp2 = weights2 * (1 / np.sqrt(10)) * tmp / tmp2
    du_calc = np.transpose(np.matmul(inp, dtmp2))

    assert dw_ad.shape == (1, m) and du_ad.shape == (m, d)
    np.testing.assert_allclose(dw_ad.squeeze(), dw_calc, rtol=1e-13)
    np.testing.assert_allclose(du_ad, du_calc, rtol=1e-12, atol=1e-15)
    # the brief's form: dw = sigmoid(Ux)/sqrt(m), du = outer(w s (1-s)/sqrt(m), x)
    s = 1 / (1 + np.exp(-(weights1 @ inp).ravel()))
    np.testing.assert_allclose(dw_ad.ravel(), s / np.sqrt(m), rtol=1e-13)
    np.testing.assert_allclose(du_ad, np.outer(weights2.ravel() * s * (1 - s) / np.sqrt(m),
                                               inp.ravel()), rtol=1e-12, atol=1e-15)


def test_single_layer_net_in_float32_agrees_within_float32_rounding():
    """The notebook's 1e-9 differences are float32 rounding: float32 stays float32."""
    m, d = 10, 3
    rng = np.random.default_rng(1)
    U = rng.normal(size=(m, d)).astype(np.float32)
    w = rng.normal(size=m).astype(np.float32)
    x = rng.normal(size=d).astype(np.float32)

    def net(w, U):
        return w @ (1 / (1 + np.exp(-(U @ x)))) / np.float32(np.sqrt(m))

    dw, du = dualad.jacfwd(net, argnums=(0, 1))(w, U)
    assert dw.dtype == np.float32 and du.dtype == np.float32
    s = 1 / (1 + np.exp(-(U.astype(float) @ x.astype(float))))
    np.testing.assert_allclose(dw, s / np.sqrt(m), rtol=1e-6)
    np.testing.assert_allclose(du, np.outer(w * s * (1 - s) / np.sqrt(m), x), rtol=1e-5,
                               atol=1e-7)


# --------------------------------------------------------------------------- tanh layer backward


def test_tanh_layer_closed_form_backward():
    """dl/dW = I^T [(2/n)(O - T)(1 - tanh^2 A)], with the notebook's data."""
    np.random.seed(0)
    m, n = 10, 5
    I = np.random.random_sample((m))  # noqa: UP034 - as the notebook writes it
    T = np.random.random_sample((n))  # noqa: UP034
    W = np.random.random_sample((m, n))

    def loss(W):
        A = I @ W
        O = np.tanh(A)
        return np.average((O - T) ** 2)

    A = I @ W
    O = np.tanh(A)
    dl = np.matmul(np.reshape(I, (m, -1)), np.reshape((2 / n) * (O - T) * (1 - np.tanh(A) ** 2),
                                                      (-1, n)))
    np.testing.assert_allclose(O, [0.99248036, 0.99244429, 0.99889554, 0.99232696, 0.97565233],
                               atol=1e-8)  # the notebook's printed outputs: same data
    grad = dualad.jacfwd(loss)(W)
    assert grad.shape == (m, n)
    np.testing.assert_allclose(grad, dl, rtol=1e-12, atol=1e-15)
