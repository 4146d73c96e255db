"""Custom rules users can trust: a rule sees one direction, an opaque impl has derivatives
of every order, a declaration can be run again, JAX's custom_jvp/custom_vjp, a JVP rule
alone transposed for reverse mode, stop_gradient.

Every derivative is checked in both modes (custom_vjp: reverse mode, forward mode raises
as in JAX) against JAX in float64 with the same rules (or a closed form), to third order.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import dualad
from dualad import RedefinitionWarning, RegistrationError, UnsupportedPrimitiveError
from dualad.registry import NONDIFF, NUMPY_TABLE, REGISTRY, Family, declare

from .reference import _run, assert_pytree_close, assert_tree_close

RNG = np.random.default_rng(14)
A = np.array([[1.0, 2.0, 0.5], [-3.0, 4.0, 1.0], [0.25, -1.0, 2.0]])  # not symmetric
X = np.array([0.7, 1.3, 2.1])
Y = np.array([1.5, -0.4, 0.9])


def _z(dx):
    """A tangent, 0 for a constant's (``jvp_all`` rules receive None there)."""
    return 0.0 if dx is None else dx


def _jax_derivatives(f, x, order):
    """JAX's derivatives of ``f`` at ``x`` up to ``order``, forward over forward."""
    derivatives, g = [], f
    for _ in range(order):
        g = jax.jacfwd(g)
        derivatives.append(g)
    found = _run(lambda x: tuple(d(x) for d in derivatives), (x,))  # compiled once
    return [np.asarray(d) for d in found]


def _nestings(order):
    """Every way of nesting jacfwd and jacrev ``order`` times (dualad's transforms)."""
    if order == 0:
        return [((), lambda f: f)]
    return [((name, *names), (lambda t, n: lambda f: t(n(f)))(transform, nest))
            for names, nest in _nestings(order - 1)
            for name, transform in (("fwd", dualad.jacfwd), ("rev", dualad.jacrev))]


def _check_every_nesting(f, x, expected, orders=(1, 2, 3)):
    """Each derivative of ``f`` up to third order, by every nesting of the two modes, equals
    the reference (JAX's)."""
    for order in orders:
        for names, nest in _nestings(order):
            got = nest(f)(x)
            np.testing.assert_allclose(got, expected[order - 1], rtol=1e-10, atol=1e-12,
                                       err_msg=f"{'∘'.join(names)} of order {order}")


# --------------------------------------------------------------------------- one direction


def test_a_jvp_rule_written_the_jax_way_gives_A_in_both_modes():
    """``A @ dx`` in a JVP rule: jacfwd would read the axis of directions as data and return
    A transposed; the rule sees one direction, so both modes return A."""
    matvec = dualad.defprimitive(
        "custom_matvec", impl=lambda x: A @ x,
        jvp=lambda dx, x, *, out: A @ dx, vjp=lambda ct, x, *, out: A.T @ ct)
    np.testing.assert_array_equal(dualad.jacfwd(matvec)(X), A)
    np.testing.assert_array_equal(dualad.jacfwd(matvec, chunk_size=1)(X), A)
    np.testing.assert_array_equal(dualad.jacrev(matvec)(X), A)
    np.testing.assert_array_equal(dualad.jacrev(matvec, chunk_size=2)(X), A)
    v = RNG.normal(size=3)
    np.testing.assert_allclose(dualad.jvp(matvec, (X,), (v,))[1], A @ v, rtol=1e-15)
    np.testing.assert_allclose(dualad.vjp(matvec, X)[1](v)[0], A.T @ v, rtol=1e-15)


def test_rules_see_one_tangent_of_the_primals_shape_and_one_cotangent_of_the_outputs():
    seen = {"jvp": set(), "vjp": set()}

    def jvp(dx, x, *, out):
        seen["jvp"].add(dx.shape)
        return np.cos(x) * dx

    def vjp(ct, x, *, out):
        seen["vjp"].add(ct.shape)
        return np.cos(x) * ct

    sine = dualad.defprimitive("custom_seen_sin", impl=np.sin, jvp=jvp, vjp=vjp)
    x = RNG.normal(size=(2, 3))
    expected = np.einsum("ik,jl->ijkl", np.eye(2), np.eye(3)) * np.cos(x)[:, :, None, None]
    np.testing.assert_allclose(dualad.jacfwd(sine)(x), expected, rtol=1e-15)
    np.testing.assert_allclose(dualad.jacrev(sine)(x), expected, rtol=1e-15)
    assert seen == {"jvp": {(2, 3)}, "vjp": {(2, 3)}}


def test_batched_rules_see_the_axis_of_directions_and_rows():
    seen = {"jvp": set(), "vjp": set()}

    def jvp(dx, x, *, out):
        seen["jvp"].add(dx.shape)
        return dx @ A.T

    def vjp(ct, x, *, out):
        seen["vjp"].add(ct.shape)
        return ct @ A

    matvec = dualad.defprimitive("custom_batched_matvec", impl=lambda x: A @ x, jvp=jvp,
                                 vjp=vjp, batched=True)
    np.testing.assert_array_equal(dualad.jacfwd(matvec)(X), A)
    np.testing.assert_array_equal(dualad.jacrev(matvec)(X), A)
    assert seen == {"jvp": {(3, 3)}, "vjp": {(3, 3)}}
    assert matvec.batched and not dualad.REGISTRY["custom_matvec"].batched
    assert all(entry.batched for entry in REGISTRY.values()
               if entry.builtin and hasattr(entry, "batched"))


def test_rules_of_several_arguments_and_results_one_direction_at_a_time():
    """Elementwise with a broadcast operand, and a primitive with two results."""
    scale = dualad.defprimitive(
        "custom_scale", impl=lambda x, s: x * s, elementwise=True,
        jvp=(lambda dx, x, s, *, out: dx * s, lambda ds, x, s, *, out: ds * x),
        vjp=(lambda ct, x, s, *, out: ct * s, lambda ct, x, s, *, out: ct * x))
    polar = dualad.defprimitive(
        "custom_polar", impl=lambda r, t: (r * np.cos(t), r * np.sin(t)), multiple_results=True,
        jvp_all=lambda dxs, r, t, *, out: (  # None: the tangent of a constant
            _z(dxs[0]) * np.cos(t) - _z(dxs[1]) * out[1],
            _z(dxs[0]) * np.sin(t) + _z(dxs[1]) * out[0]),
        vjp_all=lambda ct, r, t, *, out: (
            ct[0] * np.cos(t) + ct[1] * np.sin(t), -ct[0] * out[1] + ct[1] * out[0]))

    def f(np_, scale, polar, x, s):
        a, b = polar(scale(x, s), x[0])
        return a * b + x

    x, s = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    jx = functools.partial(f, np, scale, polar)
    ref = functools.partial(f, jnp, lambda x, s: x * s,
                            lambda r, t: (r * jnp.cos(t), r * jnp.sin(t)))
    expected = _run(jax.jacfwd(ref, argnums=(0, 1)), (x, s))
    for argnums in (0, 1):
        assert_tree_close(dualad.jacfwd(jx, argnums=argnums)(x, s), expected[argnums])
        assert_tree_close(dualad.jacrev(jx, argnums=argnums)(x, s), expected[argnums])


# --------------------------------------------------------------------------- opaque impl


def _polygamma_rules(prim_name):
    """d/dx polygamma(n, x) = polygamma(n + 1, x): rules that call the primitive itself."""

    def jvp(dx, x, *, out, n):
        return dx * REGISTRY[prim_name](x, n=n + 1)

    def vjp(ct, x, *, out, n):
        return ct * REGISTRY[prim_name](x, n=n + 1)

    return jvp, vjp


def _opaque_polygamma(x, *, n):
    return scipy.special.polygamma(n, np.asarray(x))  # np.asarray: opaque to dualad


def _opaque_gammaln(x):
    return scipy.special.gammaln(np.asarray(x))


def _declare_gammaln(suffix, jvp_only):
    polygamma_jvp, polygamma_vjp = _polygamma_rules(f"custom_polygamma_{suffix}")
    dualad.defprimitive(f"custom_polygamma_{suffix}", impl=_opaque_polygamma, jvp=polygamma_jvp,
                        **({} if jvp_only else {"vjp": polygamma_vjp}))
    digamma = functools.partial(REGISTRY[f"custom_polygamma_{suffix}"], n=0)
    return dualad.defprimitive(
        f"custom_gammaln_{suffix}", impl=_opaque_gammaln,
        jvp=lambda dx, x, *, out: dx * digamma(x),
        **({} if jvp_only else {"vjp": lambda ct, x, *, out: ct * digamma(x)}))


GAMMALN = _declare_gammaln("both", jvp_only=False)
GAMMALN_JVP_ONLY = _declare_gammaln("jvp_only", jvp_only=True)


def _gammaln_program(np_, gammaln, x):
    return np_.sum(gammaln(x) * np_.sin(x)) + gammaln(x[0] * x[1])


@functools.cache
def _gammaln_reference():
    return _jax_derivatives(
        lambda x: _gammaln_program(jnp, jax.scipy.special.gammaln, x), X, 3)


@pytest.mark.parametrize("gammaln", [GAMMALN, GAMMALN_JVP_ONLY], ids=["vjp", "jvp-only"])
def test_an_opaque_impl_is_differentiated_to_third_order_by_every_nesting(gammaln):
    """impl calls SciPy on np.asarray; the rules call a primitive whose impl is SciPy too.
    Forward over forward, reverse over reverse, forward over reverse (hessian), reverse
    over forward, and every third-order nesting equal JAX's gammaln derivatives."""
    f = functools.partial(_gammaln_program, np, gammaln)
    _check_every_nesting(f, X, _gammaln_reference())
    np.testing.assert_allclose(dualad.hessian(f)(X), _gammaln_reference()[1], rtol=1e-10)


def test_grad_of_grad_of_grad_through_an_opaque_impl():
    third = dualad.grad(dualad.grad(dualad.grad(lambda x: GAMMALN(x))))(2.5)
    assert float(third) == pytest.approx(float(scipy.special.polygamma(2, 2.5)), rel=1e-14)
    third = dualad.grad(dualad.grad(dualad.grad(lambda x: GAMMALN_JVP_ONLY(x))))(2.5)
    assert float(third) == pytest.approx(float(scipy.special.polygamma(2, 2.5)), rel=1e-14)


def test_an_impl_sees_plain_arrays_only():
    seen = []

    def impl(x):
        seen.append(type(x))
        return np.array([np.sin(v) for v in np.asarray(x).ravel()]).reshape(np.shape(x))

    looped = dualad.defprimitive("custom_looped_sin", impl=impl,
                                 jvp=lambda dx, x, *, out: np.cos(x) * dx)
    f = lambda x: np.sum(looped(x) * x)  # noqa: E731
    expected = _jax_derivatives(lambda x: jnp.sum(jnp.sin(x) * x), X, 3)
    _check_every_nesting(f, X, expected, orders=(2, 3))
    assert set(seen) == {np.ndarray}


def test_a_builtin_family_opts_into_plain_impl_for_an_opaque_impl():
    """dualad's own impls dispatch themselves; one that calls SciPy says plain_impl=True
    (declared, not registered: the registry walk would want its examples)."""
    family = Family("custom_test_family")
    polygamma = {}
    for plain in (True, False):
        polygamma[plain] = declare(
            f"custom_builtin_polygamma_{plain}", _opaque_polygamma, family=family,
            plain_impl=plain,
            jvp=lambda dx, x, *, out, n, plain=plain: dx * polygamma[plain](x, n=n + 1),
            vjp=lambda ct, x, *, out, n, plain=plain: ct * polygamma[plain](x, n=n + 1))
    assert polygamma[True].batched and not polygamma[True].checked
    third = dualad.grad(dualad.grad(lambda x: polygamma[True](x, n=0)))(2.5)
    assert float(third) == pytest.approx(float(scipy.special.polygamma(2, 2.5)), rel=1e-14)
    with pytest.raises(dualad.ConversionError, match="np.asarray"):  # impl got a Dual
        dualad.hessian(lambda x: np.sum(polygamma[False](x, n=0)))(X)
    np.testing.assert_allclose(dualad.hessian(lambda x: np.sum(polygamma[True](x, n=0)))(X),
                               np.diag(scipy.special.polygamma(2, X)), rtol=1e-14)


# --------------------------------------------------------------------------- a JVP rule alone


def test_a_jvp_rule_alone_is_transposed_exactly():
    hypot = dualad.defprimitive(
        "custom_hypot", impl=lambda x, y: np.sqrt(np.asarray(x) ** 2 + np.asarray(y) ** 2),
        elementwise=True,
        jvp=(lambda dx, x, y, *, out: dx * (x / out), lambda dy, x, y, *, out: dy * (y / out)))
    x, y = RNG.uniform(0.5, 2.0, size=(2, 3)), RNG.uniform(0.5, 2.0, size=3)
    f = lambda x, y: hypot(x, y) * x  # noqa: E731
    ref = lambda x, y: jnp.hypot(x, y) * x  # noqa: E731
    expected = _run(jax.jacrev(ref, argnums=(0, 1)), (x, y))
    for argnums in (0, 1):
        assert_tree_close(dualad.jacrev(f, argnums=argnums)(x, y), expected[argnums])
        assert_tree_close(dualad.jacfwd(f, argnums=argnums)(x, y), expected[argnums])
    u = RNG.normal(size=(2, 3))
    got = dualad.vjp(f, x, y)[1](u)
    want = _run(lambda x, y, u: jax.vjp(ref, x, y)[1](u), (x, y, u))
    assert_tree_close(got, tuple(map(np.asarray, want)))


def test_a_jvp_all_rule_alone_with_several_results_to_third_order():
    polar = dualad.defprimitive(
        "custom_polar_jvp_only", impl=lambda r, t: (r * np.cos(t), r * np.sin(t)),
        multiple_results=True,
        jvp_all=lambda dxs, r, t, *, out: (
            _z(dxs[0]) * np.cos(t) - _z(dxs[1]) * out[1],
            _z(dxs[0]) * np.sin(t) + _z(dxs[1]) * out[0]))

    def f(x):
        a, b = polar(x, x[::-1])
        return a * b + np.sin(a)

    expected = _jax_derivatives(
        lambda x: x * jnp.cos(x[::-1]) * x * jnp.sin(x[::-1]) + jnp.sin(x * jnp.cos(x[::-1])),
        X, 3)
    _check_every_nesting(f, X, expected)


def test_a_batched_jvp_rule_alone_is_transposed():
    matvec = dualad.defprimitive("custom_batched_jvp_only", impl=lambda x: A @ x,
                                 jvp=lambda dx, x, *, out: dx @ A.T, batched=True)
    np.testing.assert_array_equal(dualad.jacrev(matvec)(X), A)
    np.testing.assert_array_equal(dualad.jacfwd(matvec)(X), A)


def test_a_jvp_rule_alone_that_cannot_run_on_a_tape_raises_naming_the_primitive():
    opaque = dualad.defprimitive("custom_opaque_rule", impl=lambda x: 2.0 * x,
                                 jvp=lambda dx, x, *, out: 2.0 * np.asarray(dx))
    np.testing.assert_array_equal(dualad.jacfwd(opaque)(X), 2.0 * np.eye(3))
    with pytest.raises(UnsupportedPrimitiveError,
                       match=r"reverse mode of custom_opaque_rule.*np.asarray.*vjp="):
        dualad.jacrev(opaque)(X)


# --------------------------------------------------------------------------- redefinition


def test_declaring_a_primitive_again_replaces_it_with_a_warning():
    free = next(fn for fn in (np.i0, np.sinc, np.unwrap, np.real_if_close)
                if fn not in NUMPY_TABLE and fn not in NONDIFF)
    split = lambda x: ((x,), {})  # noqa: E731
    try:
        first = dualad.defprimitive("custom_cell", impl=lambda x: 2.0 * x, numpy=free,
                                    split_args=split, jvp=lambda dx, x, *, out: 2.0 * dx)
        assert float(dualad.grad(lambda x: free(x))(1.0)) == 2.0
        with pytest.warns(RedefinitionWarning, match="'custom_cell' is declared again"):
            second = dualad.defprimitive("custom_cell", impl=lambda x: 3.0 * x, numpy=free,
                                         split_args=split, jvp=lambda dx, x, *, out: 3.0 * dx)
        assert REGISTRY["custom_cell"] is second and NUMPY_TABLE[free] is second
        assert float(dualad.grad(lambda x: free(x))(1.0)) == 3.0
        assert float(dualad.jvp(lambda x: free(x), (1.0,), (1.0,))[1]) == 3.0
        assert float(dualad.grad(first)(1.0)) == 2.0  # the old object keeps its rules
        with pytest.warns(RedefinitionWarning, match="declared as 'custom_cell'"):
            third = dualad.defprimitive("custom_cell_renamed", impl=lambda x: 4.0 * x,
                                        numpy=free, split_args=split,
                                        jvp=lambda dx, x, *, out: 4.0 * dx)
        assert "custom_cell" not in REGISTRY and NUMPY_TABLE[free] is third
        assert issubclass(RedefinitionWarning, UserWarning)
    finally:
        for name in ("custom_cell", "custom_cell_renamed"):
            REGISTRY.pop(name, None)
        NUMPY_TABLE.pop(free, None)


def test_dualads_own_primitives_cannot_be_redeclared():
    rules = {"jvp": lambda dx, x, *, out: dx, "vjp": lambda ct, x, *, out: ct}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RegistrationError, match="'sin' is already registered .*own"):
            dualad.defprimitive("sin", impl=np.sin, **rules)
        with pytest.raises(RegistrationError, match="np.sin is already differentiated"):
            dualad.defprimitive("custom_my_sin", impl=np.sin, numpy=np.sin, **rules)
        with pytest.raises(RegistrationError, match="non-differentiable"):
            dualad.defprimitive("custom_my_floor", impl=np.floor, numpy=np.floor, **rules)
    assert REGISTRY["sin"].builtin and NUMPY_TABLE[np.sin] is REGISTRY["sin"]
    assert "custom_my_sin" not in REGISTRY


# --------------------------------------------------------------------------- custom_jvp


def _sin_times(custom_jvp, np_):
    @custom_jvp
    def f(x, y):
        return np_.sin(x) * y

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        x_dot, y_dot = tangents
        return f(x, y), np_.cos(x) * x_dot * y + np_.sin(x) * y_dot

    return f


def _power_with_params(custom_jvp, np_):
    """A pytree argument, a static one (nondiff_argnums) and a keyword."""

    @functools.partial(custom_jvp, nondiff_argnums=(0,))
    def f(n, params, x):
        return params["w"] * x ** n + params["b"]

    @f.defjvp
    def f_jvp(n, primals, tangents):
        params, x = primals
        d_params, x_dot = tangents
        out = f(n, params, x)
        return out, d_params["w"] * x ** n + params["w"] * n * x ** (n - 1) * x_dot \
            + d_params["b"]

    return f


def _straight_through(custom_jvp, np_):
    """A rule that is not the function's derivative: the rule is what counts."""

    @custom_jvp
    def f(x):
        return np_.round(x)

    f.defjvp(lambda primals, tangents: (f(*primals), tangents[0]))
    return f


MINE = {name: make(dualad.custom_jvp, np) for name, make in [
    ("sin_times", _sin_times), ("power", _power_with_params), ("straight", _straight_through)]}
THEIRS = {name: make(jax.custom_jvp, jnp) for name, make in [
    ("sin_times", _sin_times), ("power", _power_with_params), ("straight", _straight_through)]}
PROGRAMS = {
    "sin_times": lambda f, np_, x: np_.sum(f(x, x[::-1]) * x),
    "power": lambda f, np_, x: f(3, {"w": x[0], "b": x[1] * x[2]}, x) * np_.cos(x),
    "straight": lambda f, np_, x: f(x * 3.0) * x ** 2,
}


@functools.cache
def _custom_jvp_reference(name):
    return _jax_derivatives(lambda x: PROGRAMS[name](THEIRS[name], jnp, x), X, 3)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_custom_jvp_agrees_with_jaxs_in_every_nesting_to_third_order(name):
    f = functools.partial(PROGRAMS[name], MINE[name], np)
    _check_every_nesting(f, X, _custom_jvp_reference(name))


def test_custom_jvp_runs_the_function_itself_without_derivatives_and_keywords_bind():
    f = MINE["power"]
    params = {"w": 2.0, "b": 1.0}
    assert f(2, params, 3.0) == 19.0
    assert f(2, x=3.0, params=params) == 19.0
    grads = dualad.grad(lambda p, x: f(2, p, x), argnums=(0, 1))(params, 3.0)
    assert grads == ({"b": 1.0, "w": 9.0}, 12.0)
    v = dualad.jvp(lambda x: f(2, params, x=x), (3.0,), (1.0,))[1]
    assert float(v) == 12.0


def test_nondiff_argnames_name_the_static_arguments():
    @functools.partial(dualad.custom_jvp, nondiff_argnames=("n",))
    def power(x, n):
        return x ** n

    power.defjvp(lambda n, primals, tangents: (power(primals[0], n),
                                               n * primals[0] ** (n - 1) * tangents[0]))
    assert power.nondiff_argnums == (1,)
    for transform in (dualad.grad, lambda f: lambda x: dualad.jvp(f, (x,), (1.0,))[1]):
        assert float(transform(lambda x: power(x, 3))(2.0)) == 12.0
    with pytest.raises(dualad.InvalidArgumentError, match="no parameter 'm'"):
        dualad.custom_vjp(lambda x, n: x, nondiff_argnames=("m",))


def test_custom_jvp_errors_name_the_function():
    @dualad.custom_jvp
    def no_rule(x):
        return x * 2.0

    assert no_rule(1.0) == 2.0
    with pytest.raises(UnsupportedPrimitiveError, match=r"no_rule.*without a JVP rule.*defjvp"):
        dualad.grad(no_rule)(1.0)

    f = MINE["power"]
    with pytest.raises(dualad.InvalidInputError, match="argument 1 of .*nondiff_argnums"):
        dualad.grad(lambda n: f(n, {"w": 1.0, "b": 0.0}, 2.0))(3.0)

    @dualad.custom_jvp
    def wrong_structure(x):
        return x, x

    wrong_structure.defjvp(lambda primals, tangents: (primals[0], tangents[0]))
    with pytest.raises(dualad.ShapeMismatchError, match="wrong_structure.*structure"):
        dualad.jvp(lambda x: wrong_structure(x)[0], (1.0,), (1.0,))

    def scaled_by(w):
        @dualad.custom_jvp
        def scaled(x):
            return w * x

        scaled.defjvp(lambda primals, tangents: (scaled(*primals), w * tangents[0]))
        return scaled

    # the function itself runs when its arguments carry no derivative: w's flows through it
    assert float(dualad.grad(lambda w: scaled_by(w)(2.0))(3.0)) == 2.0
    # with an active argument the rule runs, and it cannot see w's derivative: refused
    with pytest.raises(dualad.InvalidInputError, match="scaled.*not one of its arguments"):
        dualad.grad(lambda w: scaled_by(w)(2.0 * w))(3.0)


# --------------------------------------------------------------------------- custom_vjp


def _sin_times_vjp(custom_vjp, np_, calls):
    @custom_vjp
    def f(x, y):
        return np_.sin(x) * y

    def f_fwd(x, y):
        calls.append("fwd")
        return f(x, y), (np_.cos(x), np_.sin(x), y)

    def f_bwd(residuals, ct):
        cos_x, sin_x, y = residuals
        return cos_x * ct * y, sin_x * ct

    f.defvjp(f_fwd, f_bwd)
    return f


def _clip_gradient(custom_vjp, np_):
    """JAX's clip_gradient, with the bounds static (nondiff_argnums) and a None cotangent."""

    @functools.partial(custom_vjp, nondiff_argnums=(0, 1))
    def clip(lo, hi, x, y):
        return x * y

    clip.defvjp(lambda lo, hi, x, y: (x * y, (x, y)),
                lambda lo, hi, res, ct: (np_.clip(ct * res[1], lo, hi), None))
    return clip


FWD_CALLS: list[str] = []
VJP_MINE = {"sin_times": _sin_times_vjp(dualad.custom_vjp, np, FWD_CALLS),
            "clip": _clip_gradient(dualad.custom_vjp, np)}
VJP_THEIRS = {"sin_times": _sin_times_vjp(jax.custom_vjp, jnp, []),
              "clip": _clip_gradient(jax.custom_vjp, jnp)}
VJP_PROGRAMS = {
    "sin_times": lambda f, np_, x: np_.sum(f(x, x[::-1]) * x),
    "clip": lambda f, np_, x: np_.sum(f(-0.5, 0.5, x, 2.0) * x),
}


@pytest.mark.parametrize("name", sorted(VJP_PROGRAMS))
def test_custom_vjp_agrees_with_jaxs_in_reverse_mode_to_third_order(name):
    f = functools.partial(VJP_PROGRAMS[name], VJP_MINE[name], np)
    g, expected = f, None
    ref = lambda x: VJP_PROGRAMS[name](VJP_THEIRS[name], jnp, x)  # noqa: E731
    for order in (1, 2, 3):
        ref = jax.jacrev(ref)
        expected = np.asarray(_run(ref, (X,)))
        g = dualad.jacrev(g)
        np.testing.assert_allclose(g(X), expected, rtol=1e-10, atol=1e-12,
                                   err_msg=f"jacrev to order {order}")
    third = dualad.grad(dualad.grad(dualad.grad(lambda x: VJP_MINE["sin_times"](x, 2.0))))
    assert float(third(0.3)) == pytest.approx(-2.0 * np.cos(0.3), rel=1e-14)


def test_custom_vjp_runs_fwd_once_for_a_gradient_and_the_function_without_derivatives():
    f = VJP_MINE["sin_times"]
    FWD_CALLS.clear()
    assert f(0.5, 2.0) == np.sin(0.5) * 2.0 and FWD_CALLS == []
    dualad.jacrev(lambda x: f(x, x[::-1]))(X)  # three rows: the residuals are kept
    assert FWD_CALLS == ["fwd"]


def test_forward_mode_of_a_custom_vjp_function_raises_as_in_jax():
    f = VJP_MINE["sin_times"]
    for transform in (lambda g: dualad.jvp(g, (X,), (X,)), lambda g: dualad.jacfwd(g)(X),
                      lambda g: dualad.hessian(lambda x: np.sum(g(x)))(X)):
        with pytest.raises(UnsupportedPrimitiveError,
                           match=r"f is a dualad.custom_vjp function.*forward mode.*jacrev"):
            transform(lambda x: f(x, 2.0))
    with pytest.raises(TypeError, match="custom_vjp"):  # JAX refuses too
        jax.jvp(lambda x: VJP_THEIRS["sin_times"](x, 2.0), (X,), (X,))


def test_a_nested_derivative_of_an_opaque_fwd_names_the_function_and_the_way_out():
    def make(fwd_calls_f):
        @dualad.custom_vjp
        def gammaln(x):
            return scipy.special.gammaln(np.asarray(x))

        def fwd(x):
            out = gammaln(x) if fwd_calls_f else scipy.special.gammaln(np.asarray(x))
            return out, x

        gammaln.defvjp(fwd, lambda x, ct: (ct * REGISTRY["custom_polygamma_both"](x, n=0),))
        return gammaln

    opaque, calling_itself = make(False), make(True)
    for f in (opaque, calling_itself):
        assert float(dualad.grad(f)(2.5)) == pytest.approx(float(scipy.special.digamma(2.5)),
                                                           rel=1e-14)
    with pytest.raises(UnsupportedPrimitiveError,
                       match=r"custom_vjp function .*gammaln differentiates its fwd.*call"):
        dualad.jacrev(dualad.jacrev(lambda x: np.sum(opaque(x))))(X)
    np.testing.assert_allclose(
        dualad.jacrev(dualad.jacrev(lambda x: np.sum(calling_itself(x))))(X),
        np.diag(scipy.special.polygamma(1, X)), rtol=1e-14)


def test_custom_vjp_errors_name_the_function():
    @dualad.custom_vjp
    def one_cotangent_short(x, y):
        return x * y

    one_cotangent_short.defvjp(lambda x, y: (x * y, None), lambda res, ct: (ct,))
    with pytest.raises(dualad.ShapeMismatchError, match="one_cotangent_short.*tuple of 2"):
        dualad.grad(one_cotangent_short)(1.0, 2.0)


# --------------------------------------------------------------------------- stop_gradient


def test_stop_gradient_is_zero_in_both_modes_at_every_level():
    def f(np_, stop, x):
        c = stop(x ** 2)
        return np_.sum(np_.sin(x) * c + x ** 3)

    mine = functools.partial(f, np, dualad.stop_gradient)
    expected = _jax_derivatives(functools.partial(f, jnp, jax.lax.stop_gradient), X, 3)
    _check_every_nesting(mine, X, expected)


def test_stop_gradient_of_a_pytree():
    tree = {"w": X, "b": (1.0, [Y])}

    def f(np_, stop, tree):
        frozen = stop(tree)
        return np_.sum(tree["w"] * frozen["w"]) + frozen["b"][1][0][0] * tree["b"][1][0][0]

    grads = dualad.grad(functools.partial(f, np, dualad.stop_gradient))(tree)
    want = jax.grad(functools.partial(f, jnp, jax.lax.stop_gradient))(
        jax.tree_util.tree_map(jnp.asarray, tree))
    assert_pytree_close(grads, jax.tree_util.tree_map(np.asarray, want))
