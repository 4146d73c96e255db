"""check_grads and compare (dualad/checking/).

check_grads must pass on correct derivatives (float64 and float32, several arguments,
array and tuple outputs) and raise, naming mode, order and argument, on primitives declared
with deliberately wrong rules; its default step must sit near the optimum of the lecture's
truncation-versus-rounding trade-off. compare must reproduce the sigmoid network's hand
gradient (float32 rounding, not a bug) and the forum's tanh-derivative bug, with dualad's
reference checked against JAX and closed forms.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dualad
from dualad.checking import (
    ArgumentComparison,
    Comparison,
    GradCheckReport,
    GradientCheckError,
    check_grads,
    compare,
    default_step,
)
from dualad.errors import (
    DualadError,
    InvalidArgumentError,
    InvalidInputError,
    NonScalarOutputError,
    ShapeMismatchError,
)

jax.config.update("jax_enable_x64", True)


# --------------------------------------------------------------------------- primitives


def _primitive(name, jvp, vjp):
    """Declare a sin-like test primitive once (the registry refuses a second declaration
    when the module is imported twice)."""
    return dualad.REGISTRY.get(name) or dualad.defprimitive(
        name, impl=np.sin, jvp=jvp, vjp=vjp, doc="a test primitive with a wrong rule")


# sin with +cos replaced by -cos in both rules
wrong_sin = _primitive("_test_checking_wrong_sin",
                       jvp=lambda dx, x, *, out: -np.cos(x) * dx,
                       vjp=lambda ct, x, *, out: -ct * np.cos(x))
# sin whose JVP is right but whose VJP has a factor 2
sin_double_vjp = _primitive("_test_checking_sin_double_vjp",
                            jvp=lambda dx, x, *, out: np.cos(x) * dx,
                            vjp=lambda ct, x, *, out: 2 * ct * np.cos(x))
# sin whose VJP is right but whose JVP has a factor 2
sin_double_jvp = _primitive("_test_checking_sin_double_jvp",
                            jvp=lambda dx, x, *, out: 2 * np.cos(x) * dx,
                            vjp=lambda ct, x, *, out: ct * np.cos(x))
# sin with right first derivatives whose rules are not differentiable: primal() drops the
# derivative of cos(x), so every second derivative through it is wrong (0 instead of -sin)
sin_flat_second = _primitive("_test_checking_sin_flat_second",
                             jvp=lambda dx, x, *, out: np.cos(dualad.primal(x)) * dx,
                             vjp=lambda ct, x, *, out: ct * np.cos(dualad.primal(x)))
# a correct user primitive, rules written with np calls (so twice differentiable)
softplus = dualad.REGISTRY.get("_test_checking_softplus") or dualad.defprimitive(
    "_test_checking_softplus", impl=lambda x: np.logaddexp(0.0, x),
    jvp=lambda dx, x, *, out: dx / (1 + np.exp(-x)),
    vjp=lambda ct, x, *, out: ct / (1 + np.exp(-x)), doc="log(1 + e^x); d/dx = sigmoid(x)")

X3 = np.array([0.3, -1.2, 2.0])


# --------------------------------------------------------------------------- check_grads passes


def _rng_args(*shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(s).astype(dtype) for s in shapes)


CORRECT = {
    "lecture f, scalars": (lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), (2.0, 5.0)),
    "dense layer, two args": (lambda x, W: np.tanh(W @ x) * np.sum(x ** 2),
                              _rng_args((3,), (2, 3))),
    "matrix output": (lambda A: np.linalg.inv(np.eye(3) * 3 + A), _rng_args((3, 3))),
    "tuple output": (lambda x, y: (x * y, np.sum(np.cos(x))), (X3, 2.0)),
    "rosenbrock": (lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
                   _rng_args((5,))),
    "softmax": (lambda x: np.exp(x) / np.sum(np.exp(x)), _rng_args((4,))),
    "user primitive": (lambda x: softplus(x) * x, (X3,)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_check_grads_passes_on_correct_derivatives(name, dtype):
    f, args = CORRECT[name]
    args = tuple(np.asarray(a, dtype=dtype) for a in args)
    report = check_grads(f, args, order=2)
    assert isinstance(report, GradCheckReport)
    assert {c.order for c in report.checks} == {1, 2}
    assert {c.mode for c in report.checks} == {"fwd", "rev"}
    # every check was within its tolerance; against differences the errors are tiny
    tol = 1e-6 if dtype == np.float64 else 2e-3
    assert all(c.atol == tol and c.rtol == tol for c in report.checks)
    assert report.max_rel_error < (1e-7 if dtype == np.float64 else 1e-3)
    assert all(c.step == pytest.approx(default_step(dtype)) for c in report.checks)


def test_check_grads_counts_every_check():
    """Order 1, one argument, one output: a JVP check and the identity against differences
    and against the JVP. Order 2 repeats them for x -> jvp(f)(x; v) and x -> vjp(f)(x)(u)."""
    report = check_grads(np.sin, (X3,), order=1)
    assert [(c.mode, c.reference) for c in report.checks] == [
        ("fwd", "central differences"), ("rev", "central differences"), ("rev", "JVP")]
    report = check_grads(np.sin, (X3,), order=2)
    assert len(report.checks) == 9
    assert {c.function for c in report.checks} == {
        "f", "x -> jvp(f)(x; v)", "x -> vjp(f)(x)(u)"}
    assert len(check_grads(np.sin, (X3,), order=2, modes="fwd").checks) == 2
    assert len(check_grads(np.sin, (X3,), order=3).checks) == 3 * (1 + 2 + 4)


def test_check_grads_report_text_names_arguments_and_errors():
    report = check_grads(lambda w_h, w_y: w_y * np.tanh(w_h), (2.0, 40.0), order=1)
    text = str(report)
    assert text.startswith("check_grads passed 6 checks up to order 1 (modes: fwd, rev)")
    assert "w_h" in text and "w_y" in text and "JVP" in text
    assert f"{default_step(np.float64):.3g}" in text
    assert report.max_abs_error == max(c.max_abs_error for c in report.checks
                                       if c.reference == "central differences")


def test_check_grads_is_reproducible_and_seeded():
    f, args = CORRECT["dense layer, two args"]
    assert check_grads(f, args, seed=3) == check_grads(f, args, seed=3)
    assert check_grads(f, args, seed=3) != check_grads(f, args, seed=4)


def test_check_grads_tolerance_and_step_overrides():
    report = check_grads(np.exp, (X3,), order=1, atol=1e-3, rtol=1e-4, eps=1e-4)
    assert all((c.atol, c.rtol, c.step) == (1e-3, 1e-4, 1e-4) for c in report.checks)
    # a step that is far too large makes the differences wrong, and the check says so
    with pytest.raises(GradientCheckError, match=r"h = 0\.3 \* max\(1, \|x\|\).*eps= as given"):
        check_grads(np.exp, (X3,), order=1, eps=0.3)


def test_step_scales_with_x_so_large_float32_arguments_work():
    """At x = 1e4 float32's spacing is 1e-3: an unscaled step of 4.9e-3 would move x by
    about five units in the last place, and the difference would be mostly rounding."""
    x = np.array([1.0e4, 2.5e4], dtype=np.float32)
    report = check_grads(lambda x: np.log(x) * np.sqrt(x), (x,), order=2)
    assert report.max_rel_error < 2e-3


# --------------------------------------------------------------------------- check_grads raises


def test_wrong_jvp_and_vjp_rules_are_caught_in_forward_mode():
    x = 0.7
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(lambda x: wrong_sin(x), (x,), order=1)
    err = excinfo.value
    assert isinstance(err, AssertionError) and isinstance(err, DualadError)
    assert (err.mode, err.order, err.argument, err.function) == ("fwd", 1, "x", "f")
    ((index, expected, got),) = err.worst
    # the direction is +-1 for a scalar: central differences give +-cos, the rule -+cos
    assert index == () and abs(expected) == pytest.approx(np.cos(x), rel=1e-9)
    assert got == pytest.approx(-expected, rel=1e-9)
    assert err.max_abs_error == pytest.approx(2 * np.cos(x), rel=1e-9)
    assert err.step == default_step(np.float64)
    text = str(err)
    for fragment in ("forward mode (JVP) is wrong at order 1 for argument 'x' (position 0)",
                     "function checked: f", "central differences", "max abs error 1.53",
                     "max rel error 2", "worst elements (index: expected, got)",
                     "finite-difference step: h = 6.06e-06 * max(1, |x|)"):
        assert fragment in text


def test_wrong_rules_are_caught_in_reverse_mode_alone():
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(lambda a, x: a * np.sum(wrong_sin(x)), (1.5, X3), order=1, modes=("rev",))
    err = excinfo.value
    assert (err.mode, err.order, err.argument) == ("rev", 1, "x")
    assert "reverse mode (VJP) is wrong at order 1 for argument 'x' (position 1)" in str(err)
    assert "central differences" in str(err)


def test_wrong_vjp_only_is_caught_by_reverse_mode_and_localized():
    f = lambda x: np.sum(sin_double_vjp(x))  # noqa: E731
    check_grads(f, (X3,), order=1, modes="fwd")  # the JVP is right
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(f, (X3,), order=1)
    err = excinfo.value
    assert (err.mode, err.order, err.argument) == ("rev", 1, "x")
    assert "<J^T u, v> = <u, J v>" in str(err)
    # element by element: the cotangent is u cos(x) (u = +-1 for the scalar output), the
    # rule returns twice that; all three elements are off
    assert sorted(i for i, _, _ in err.worst) == [(0,), (1,), (2,)]
    for index, expected, got in err.worst:
        assert abs(expected) == pytest.approx(abs(np.cos(X3[index])), rel=1e-8)
        assert got == pytest.approx(2 * expected, rel=1e-8)


def test_wrong_jvp_only_is_caught_by_forward_mode():
    f = lambda x: np.sum(sin_double_jvp(x) ** 2)  # noqa: E731
    check_grads(f, (X3,), order=1, modes="rev")  # the VJP is right
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(f, (X3,), order=1)
    assert excinfo.value.mode == "fwd"


def test_wrong_second_derivative_is_caught_by_order_2_only():
    f = lambda x, y: sin_flat_second(x) * y  # noqa: E731
    report = check_grads(f, (X3, 1.5), order=1)
    assert report.max_rel_error < 1e-8
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(f, (X3, 1.5), order=2)
    err = excinfo.value
    assert (err.mode, err.order, err.function) == ("fwd", 2, "x -> jvp(f)(x; v)")
    assert "at order 2 for argument 'x'" in str(err)
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(f, (X3, 1.5), order=2, modes="rev")
    err = excinfo.value
    assert (err.mode, err.order, err.function) == ("rev", 2, "x -> vjp(f)(x)(u)")


def test_wrong_second_derivative_matches_the_closed_form_in_the_report():
    """Scalar x, direction +-1: d/dx jvp(f)(x; v) = -sin(x) v v' by differences, 0 by the
    broken rule."""
    with pytest.raises(GradientCheckError) as excinfo:
        check_grads(lambda x: sin_flat_second(x), (0.9,), order=2, modes="fwd")
    ((index, expected, got),) = excinfo.value.worst
    assert abs(expected) == pytest.approx(np.sin(0.9), rel=1e-6)
    assert got == 0.0


def test_large_arguments_are_not_localized_element_by_element():
    x = np.linspace(-1.0, 1.0, 1200)
    with pytest.raises(GradientCheckError, match="1200 elements: too many") as excinfo:
        check_grads(lambda x: np.sum(sin_double_vjp(x)), (x,), order=1)
    assert excinfo.value.worst == ()


def test_primal_mismatch_is_reported():
    rng = np.random.default_rng(0)
    with pytest.raises(GradientCheckError, match="primal output of jvp"):
        check_grads(lambda x: x + rng.standard_normal(), (X3,), order=1)


@pytest.mark.parametrize("call, error, fragment", [
    (lambda: check_grads(np.sin, X3), InvalidInputError, "check_grads(f, (x,))"),
    (lambda: check_grads(np.sin, ()), InvalidInputError, "non-empty tuple"),
    (lambda: check_grads(np.sin, (np.array([1j]),)), InvalidInputError, "complex"),
    (lambda: check_grads(np.sin, (X3,), modes=("forward",)), InvalidArgumentError, "'fwd'"),
    (lambda: check_grads(np.sin, (X3,), order=0), InvalidArgumentError, "order=0"),
    (lambda: check_grads(np.sin, (X3,), eps=0.0), InvalidArgumentError, "positive"),
    (lambda: check_grads(np.sin, (X3,), atol=-1.0), InvalidArgumentError, "non-negative"),
])
def test_check_grads_bad_input(call, error, fragment):
    with pytest.raises(error) as excinfo:
        call()
    assert fragment in str(excinfo.value)
    assert isinstance(excinfo.value, DualadError)


# --------------------------------------------------------------------------- step size


def _central_error(x, step, dtype):
    """|central difference of exp at x - exp'(x)|, as check_grads computes it: x +- h
    max(1, |x|) rounded to dtype, divided by the step actually taken."""
    x = dtype(x)
    h = step * max(1.0, abs(float(x)))
    plus, minus = dtype(float(x) + h), dtype(float(x) - h)
    difference = (np.float64(np.exp(plus)) - np.float64(np.exp(minus)))
    return abs(difference / (np.float64(plus) - np.float64(minus)) - np.exp(np.float64(x)))


def _model_optimum(x, dtype):
    """min over h of h**2 |f'''| / 6 + eps |f| / h for f = exp: 1.5 (eps f)^(2/3) (f/3)^(1/3)."""
    eps, f = float(np.finfo(dtype).eps), float(np.exp(x))
    return 1.5 * (eps * f) ** (2 / 3) * (f / 3) ** (1 / 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_default_step_is_near_the_optimum_for_exp(dtype):
    """The lecture's trade-off: truncation O(h^2) against rounding O(eps/h). At the default
    step the error is far below that at 100 h (truncation) and at h / 100 (rounding), and
    within a small factor of the model's optimum and of the best step on a fine grid.
    Medians over several x smooth out lucky roundings."""
    h = default_step(dtype)
    assert h == pytest.approx(float(np.finfo(dtype).eps) ** (1 / 3))
    xs = np.linspace(0.5, 2.0, 7)
    median = lambda step: float(np.median([_central_error(x, step, dtype) for x in xs]))  # noqa: E731
    at_default = median(h)
    assert 10 * at_default < median(100 * h)
    assert 10 * at_default < median(h / 100)
    assert np.median([_central_error(x, h, dtype) / _model_optimum(x, dtype) for x in xs]) < 2
    grid = h * 10.0 ** np.arange(-3.0, 3.01, 0.25)
    assert at_default <= 3 * min(median(step) for step in grid)


def test_default_step_values():
    assert default_step(np.float64) == pytest.approx(6.055454e-06, rel=1e-6)
    assert default_step(np.float32) == pytest.approx(4.921567e-03, rel=1e-6)
    assert default_step(np.int64) == default_step(np.float64)


# --------------------------------------------------------------------------- compare: tanh' bug

H0 = 0.5


def tanh_chain_y2(w_h, w_y):
    """The thread's network: y2 = w_y tanh(w_h tanh(w_h h0))."""
    h1_raw = w_h * H0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    return w_y * h2


def tanh_chain_buggy_grad(w_h, w_y):
    """The thread's backward pass over the computation graph, with its bug: 1 - raw**2
    where 1 - tanh(raw)**2 belongs."""
    h0 = H0
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dh2 = w_y * 1
    dh2_raw = (1 - h2_raw**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1_raw**2) * dh1
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    dw_y = h2 * 1
    return dw_h, dw_y


def tanh_chain_closed_form(w_h, w_y):
    h1 = np.tanh(w_h * H0)
    h2 = np.tanh(w_h * h1)
    return w_y * (1 - h2**2) * (h1 + w_h * (1 - h1**2) * H0), h2


def test_tanh_chain_buggy_tanh_derivative_differs_for_w_h_only():
    c = compare(tanh_chain_y2, tanh_chain_buggy_grad, 2.0, 40.0)
    assert isinstance(c, Comparison) and not c.agrees
    w_h, w_y = c.arguments
    assert isinstance(w_h, ArgumentComparison)
    assert (w_h.name, w_y.name) == ("w_h", "w_y")
    # the thread's numbers: manual -40.2153..., autograd 8.1888, and dy2/dw_y = 0.90925...
    assert float(w_h.manual) == pytest.approx(-40.21530288726289, rel=1e-6)
    exact_h, exact_y = tanh_chain_closed_form(2.0, 40.0)
    jax_h, jax_y = jax.grad(lambda a, b: b * jnp.tanh(a * jnp.tanh(a * H0)),
                            argnums=(0, 1))(2.0, 40.0)
    assert float(w_h.dualad) == pytest.approx(exact_h, rel=1e-14)
    assert float(w_h.dualad) == pytest.approx(float(jax_h), rel=1e-14)
    assert round(float(w_h.dualad), 4) == 8.1888
    assert float(w_y.dualad) == pytest.approx(float(jax_y), rel=1e-14)
    assert float(w_y.manual) == pytest.approx(0.9092516899108887, rel=1e-7)
    assert w_h.level == "differs" and not w_h.agrees
    assert w_h.max_rel_error == pytest.approx((exact_h + 40.2153029) / exact_h, rel=1e-6)
    assert w_h.verdict == "differs: max relative error 5.9 (manual -40.2153, dualad 8.18881)"
    assert w_y.level == "float64" and w_y.agrees
    assert w_y.verdict.startswith("agrees to float64 rounding: max relative error")


def test_tanh_chain_report_names_w_h_and_the_numbers():
    c = compare(tanh_chain_y2, tanh_chain_buggy_grad, 2.0, 40.0)
    text = str(c)
    assert text.splitlines()[0].startswith(
        "compare: the hand-derived gradient differs from dualad's for w_h")
    assert "w_h: differs: max relative error 5.9" in text
    assert "(): -40.215298, 8.18880817, -48" in text
    assert "w_y: agrees to float64 rounding" in text
    markdown = c._repr_markdown_()
    assert "| `w_h` | differs: max relative error 5.9" in markdown
    assert markdown.count("\n| `") == 2


def tanh_chain_buggy_grad_torch_float32(W_h, W_y):
    """The thread as run: forward values in float32 (torch), read out with .item() into
    Python floats, then the buggy chain rule in Python float arithmetic. torch's float32
    tanh is correctly rounded here, NumPy's is one unit in the last place off at 1.5231884
    (0.90925163 for 0.90925169), so tanh is rounded from float64."""
    tanh32 = lambda a: np.float32(np.tanh(np.float64(a)))  # noqa: E731
    H0_ = np.float32(H0)
    H1_raw = W_h * H0_
    H1 = tanh32(H1_raw)
    H2_raw = W_h * H1
    H2 = tanh32(H2_raw)
    w_h, w_y, h0 = float(W_h), float(W_y), float(H0_)
    h1_raw, h1, h2_raw, h2 = float(H1_raw), float(H1), float(H2_raw), float(H2)
    dh2_raw = (1 - h2_raw**2) * w_y
    dh1_raw = (1 - h1_raw**2) * (w_h * dh2_raw)
    return h1 * dh2_raw + h0 * dh1_raw, h2


def test_tanh_chain_replayed_in_float32_gives_the_threads_exact_numbers():
    """With float32 forward values the manual numbers are the thread's to the last digit,
    and dy2/dw_y = h2 = 0.9092516899108887 agrees with the float64 reference to float32
    rounding."""
    c = compare(tanh_chain_y2, tanh_chain_buggy_grad_torch_float32, np.float32(2.0),
                np.float32(40.0))
    assert float(c["w_h"].manual) == pytest.approx(-40.21530288726289, rel=1e-12)
    assert float(c["w_y"].manual) == pytest.approx(0.9092516899108887, rel=1e-12)
    assert c["w_h"].level == "differs"
    assert c["w_y"].level == "float32"
    assert 1e-9 < c["w_y"].max_rel_error < 1e-6
    assert c["w_y"].verdict.startswith("agrees to float32 rounding: max relative error")


# --------------------------------------------------------------------------- compare: rounding

WIDTH = 10


def sigmoid_net(U, W, x):
    """SingleLayerNet: f(W, U) = (1/sqrt m) sum_k w_k sigmoid(u_k . x), U m x d, W 1 x m."""
    hidden = 1 / (1 + np.exp(-(U @ x)))
    return (W @ hidden).squeeze() / np.sqrt(WIDTH)


def sigmoid_net_manual(U, W, inp):
    """The notebook's symbolic formulas, line for line (weights1 = U, weights2 = W)."""
    tmp0 = np.matmul(U, inp).squeeze()
    tmp = np.exp(-1 * tmp0)
    dw_calc = (1 / np.sqrt(10)) / (1 + tmp)
    tmp2 = (1 + tmp) * (1 + tmp)
    dtmp2 = W * (1 / np.sqrt(10)) * tmp / tmp2
    du_calc = np.transpose(np.matmul(inp, dtmp2))
    return du_calc, dw_calc


def _sigmoid_net_data(seed=0):
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((WIDTH, 3)).astype(np.float32)
    W = rng.standard_normal((1, WIDTH)).astype(np.float32)
    inp = rng.standard_normal((3, 1)).astype(np.float32)
    return U, W, inp


def _jax_sigmoid_net(U, W, inp):
    def net(U, W):
        return (W @ jax.nn.sigmoid(U @ inp)).squeeze() / jnp.sqrt(WIDTH)
    return jax.grad(net, argnums=(0, 1))(U.astype(np.float64), W.astype(np.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_net_float32_hand_gradient_agrees_to_float32_rounding(seed):
    """The notebook's user saw differences of ~1e-9 and suspected their formulas; compare
    says the formulas are right and the differences are float32 rounding."""
    U, W, inp = _sigmoid_net_data(seed)

    def manual(U, W, inp):  # dw_calc is (m,); W is (1, m), as torch's linear2.weight
        du, dw = sigmoid_net_manual(U, W, inp)
        return du, dw.reshape(W.shape)

    c = compare(sigmoid_net, manual, U, W, inp, argnums=(0, 1))
    assert c.agrees
    assert [a.name for a in c.arguments] == ["U", "W"]
    assert [a.level for a in c.arguments] == ["float32", "float32"]
    for a in c.arguments:
        assert a.verdict.startswith("agrees to float32 rounding: max relative error")
        assert 1e-11 < a.max_abs_error < 1e-7  # the notebook: up to 7.5e-9
        assert 2.2e-13 < a.max_rel_error <= 1e3 * np.finfo(np.float32).eps
    jax_U, jax_W = _jax_sigmoid_net(U, W, inp)
    np.testing.assert_allclose(c["U"].dualad, jax_U, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(c["W"].dualad, jax_W, rtol=1e-13, atol=1e-16)
    assert "agrees with dualad's for both arguments" in str(c)


def test_sigmoid_net_same_formulas_in_float64_agree_to_float64_rounding():
    U, W, inp = (a.astype(np.float64) for a in _sigmoid_net_data())
    c = compare(sigmoid_net, lambda U, W, inp: {"U": sigmoid_net_manual(U, W, inp)[0],
                                                 "W": sigmoid_net_manual(U, W, inp)[1][None]},
                U, W, inp, argnums=(0, 1))
    assert [a.level for a in c.arguments] == ["float64", "float64"]
    assert all(a.max_rel_error <= 1e3 * np.finfo(np.float64).eps for a in c.arguments)


def test_sigmoid_net_wrong_shape_names_the_argument_and_its_shape():
    U, W, inp = _sigmoid_net_data()
    with pytest.raises(ShapeMismatchError) as excinfo:
        compare(sigmoid_net, sigmoid_net_manual, U, W, inp, argnums=(0, 1))
    assert "'W'" in str(excinfo.value) and "(1, 10)" in str(excinfo.value)
    assert "(10,)" in str(excinfo.value)


# --------------------------------------------------------------------------- compare: verdicts


def test_exact_gradient_agrees_to_float64_rounding():
    x = np.array([0.5, -1.0, 2.0])
    c = compare(lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2, x)
    assert c.agrees and c["x"].level == "float64" and c[0] is c["x"]
    assert c["x"].verdict == "agrees to float64 rounding: max relative error 0"
    assert "every element is equal" in str(c)
    np.testing.assert_allclose(c["x"].dualad, jax.grad(lambda x: jnp.sum(x ** 3))(x), rtol=1e-15)


def test_accumulated_rounding_still_agrees_to_float64():
    """Softmax cross-entropy: the textbook gradient p - t rounds differently from the tape's
    chain of exp, sum, log, divide, yet within a few float64 eps."""
    rng = np.random.default_rng(0)
    z, t = rng.standard_normal(50) * 3, np.eye(50)[7]
    f = lambda z: -np.sum(t * (z - np.log(np.sum(np.exp(z)))))  # noqa: E731
    manual = lambda z: np.exp(z) / np.sum(np.exp(z)) - t  # noqa: E731
    c = compare(f, manual, z)
    assert c["z"].level == "float64"
    np.testing.assert_allclose(
        c["z"].dualad, jax.grad(lambda z: -jnp.sum(t * jax.nn.log_softmax(z)))(z),
        rtol=1e-12, atol=1e-15)


def test_float64_error_of_1e8_differs_rather_than_float32_rounding():
    """Computed in float64 from float64 data, a 1e-8 error is a different formula, not
    rounding: it differs (and the verdict shows the index and both values)."""
    x = np.array([[0.5, 1.0], [-2.0, 3.0]])
    c = compare(lambda x: np.sum(np.sin(x)), lambda x: np.cos(x) * (1 + 1e-8 * (x > 2)), x)
    assert c["x"].level == "differs"
    assert c["x"].verdict.startswith("differs: max relative error 1e-08 at index (1, 1) "
                                     "(manual -0.98999")
    assert c["x"].worst[0][0] == (1, 1)
    assert c["x"].worst[0][2] == pytest.approx(np.cos(3.0), rel=1e-15)


def test_float32_manual_gradient_from_float64_data_may_agree_to_float32():
    x = np.array([0.3, 1.1, -0.4])
    c = compare(lambda x: np.sum(np.exp(x)), lambda x: np.exp(x).astype(np.float32), x)
    assert c["x"].level == "float32" and c["x"].dtype == np.float32


def test_elementwise_relative_error_is_reported_but_not_judged():
    """An entry of the gradient that is 0 makes the elementwise relative error huge for any
    rounding; the norm-wise one, which the verdict uses, is not fooled."""
    x = np.array([0.0, 2.0])
    c = compare(lambda x: np.sum(x ** 2 / 2 + x ** 3), lambda x: x + 3 * x ** 2 + [1e-30, 0], x)
    assert c["x"].max_elementwise_rel_error > 1e200
    assert c["x"].max_rel_error < 1e-15 and c["x"].agrees


def test_nan_in_manual_gradient_differs():
    c = compare(lambda x: np.sum(x ** 2), lambda x: np.array([np.nan, 2.0]), np.array([1.0, 1.0]))
    assert not c.agrees and "differs: max relative error nan" in c["x"].verdict


# --------------------------------------------------------------------------- compare: inputs


def test_argnums_selects_arguments_and_orders_the_tuple():
    f = lambda a, b, c: a * b ** 2 + c  # noqa: E731
    c = compare(f, lambda a, b, c: (2 * a * b, b ** 2), 3.0, 2.0, 1.0, argnums=(1, 0))
    assert [a.name for a in c.arguments] == ["b", "a"] and c.agrees
    c = compare(f, lambda a, b, c: 2 * a * b, 3.0, 2.0, 1.0, argnums=1)
    assert [a.name for a in c.arguments] == ["b"] and c.agrees
    c = compare(f, lambda a, b, c: (2 * a * b,), 3.0, 2.0, 1.0, argnums=(1,))
    assert c.agrees


def test_unnamed_arguments_are_called_arg_i():
    c = compare(lambda *xs: xs[0] * xs[1], lambda *xs: (xs[1], xs[0]), 2.0, 5.0)
    assert [a.name for a in c.arguments] == ["arg0", "arg1"] and c.agrees


def test_dict_result_keyed_by_parameter_name():
    c = compare(tanh_chain_y2, lambda w_h, w_y: {"w_y": tanh_chain_closed_form(w_h, w_y)[1],
                                              "w_h": tanh_chain_closed_form(w_h, w_y)[0]},
                2.0, 40.0)
    assert c.agrees and [a.name for a in c.arguments] == ["w_h", "w_y"]


@pytest.mark.parametrize("manual, error, fragments", [
    (lambda w_h, w_y: 1.0, ShapeMismatchError, ["one float", "2 arguments", "['w_h', 'w_y']"]),
    (lambda w_h, w_y: (1.0, 2.0, 3.0), ShapeMismatchError, ["3 arrays", "a tuple of 2"]),
    (lambda w_h, w_y: {"w_h": 1.0, "wy": 2.0}, ShapeMismatchError, ["['w_h', 'wy']", "keyed"]),
    (lambda w_h, w_y: (np.ones(2), 1.0), ShapeMismatchError, ["'w_h'", "shape (2,)", "()"]),
    (lambda w_h, w_y: ("a", 1.0), InvalidInputError, ["'w_h'", "str"]),
])
def test_bad_manual_gradients_raise_clearly(manual, error, fragments):
    with pytest.raises(error) as excinfo:
        compare(tanh_chain_y2, manual, 2.0, 40.0)
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_non_scalar_function_raises_grads_error():
    with pytest.raises(NonScalarOutputError):
        compare(lambda x: x * 2, lambda x: 2 * np.ones_like(x), np.ones(2))


def test_unknown_key_raises():
    c = compare(tanh_chain_y2, tanh_chain_buggy_grad, 2.0, 40.0)
    with pytest.raises(KeyError, match="w_h"):
        c["h0"]
