"""Every registered primitive and composite, cross-checked with JAX (or finite differences).

The test walks ``dualad.REGISTRY``: a new primitive cannot escape it, and one without
examples fails ``test_every_primitive_has_examples``. For each example, in float64:

* the primal equals NumPy's own result;
* ``jacfwd`` (all directions in one pass, and in chunks of 1 and 2 directions, so that k is
  both equal to and different from the array sizes) equals ``jax.jacfwd`` of the
  ``jax.numpy`` twin;
* ``jacrev`` (all rows in one pass, and in chunks of 1 and 2 rows) equals ``jax.jacrev``,
  and equals dualad's own ``jacfwd``;
* ``linearize``: its primal equals the function's, and its JVP function on a random
  direction equals JAX's Jacobian times that direction;
* the dot-product identity ``<u, J v> == <J^T u, v>`` holds between ``jvp`` and ``vjp`` for
  random ``u`` and ``v``;
* second order: ``jacfwd(jacfwd)`` and ``hessian`` (forward over reverse) equal JAX's
  Hessian (or central differences of the first derivative where JAX has no twin), for every
  example not marked ``second_order=False`` (which the example's comment explains).

JAX references are computed once per example and shared by the tests that need them.
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pytest

import dualad
from dualad.registry import Composite, Primitive

from .reference import central_differences, jax_hessians, jax_jacobians

CASES = [
    pytest.param(entry, i, id=f"{name}-{i}")
    for name, entry in sorted(dualad.REGISTRY.items())
    if entry.builtin
    for i in range(len(entry.examples))
]


@functools.cache
def _reference(name, i, kind):
    """JAX's (or central differences') first or second derivatives of example i, once."""
    entry = dualad.REGISTRY[name]
    example, arrays = _inputs(entry, i)
    call = example.reference or example.call
    if kind == "hessian":
        return jax_hessians(call, arrays)
    if example.finite_differences:
        return central_differences(lambda *xs: example.call(np, *xs), arrays)
    return jax_jacobians(call, arrays, mode=kind)


def _inputs(entry, i):
    example = entry.examples[i]
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}-{i}".encode()))
    return example, example.arrays(rng, entry.domain)


def _assert_tree_close(actual, expected, example, what):
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for a, e in zip(actual, expected):
            _assert_tree_close(a, e, example, what)
        return
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
        rtol=example.rtol, atol=example.atol, err_msg=what,
    )


def test_every_primitive_has_examples():
    missing = [name for name, entry in dualad.REGISTRY.items()
               if entry.builtin and not entry.examples]
    assert not missing, f"primitives without test examples: {missing}"


def test_registry_holds_only_declarations():
    assert all(isinstance(e, (Primitive, Composite)) for e in dualad.REGISTRY.values())


FUSED = [entry for _, entry in sorted(dualad.REGISTRY.items())
         if isinstance(entry, Primitive) and entry.jvp_fused is not None]


@pytest.mark.parametrize("entry", FUSED, ids=lambda entry: entry.name)
@pytest.mark.parametrize("x_shape, y_shape, k", [
    ((3,), (3,), 2),
    ((2, 3), (3,), 1),  # broadcast: the plain sum
    ((2**16,), (2**16,), 1),  # large: block by block
    ((2**16 + 5,), (2**16 + 5,), 3),  # a last, shorter block, several directions
    ((300, 256), (300, 256), 1),
    ((1000,), (1000,), 70),  # short rows, many directions (a jacfwd chunk): blocks of rows
    ((2**16,), (), 2),
])
def test_fused_jvp_equals_the_sum_of_its_rules(entry, x_shape, y_shape, k):
    """A primitive's ``jvp_fused`` gives the bits of its rules' contributions added (so the
    registry walk above, which checks the rules against JAX, vouches for it too), and leaves
    its inputs alone."""
    from dualad.axes import pad_tangent

    rng = np.random.default_rng(k)
    xs = [rng.uniform(0.5, 1.5, shape) for shape in (x_shape, y_shape)]
    out = entry.impl(*xs)
    dxs = [pad_tangent(rng.standard_normal((k, *np.shape(x))), out.ndim) for x in xs]
    kept = [a.copy() for a in xs + dxs]
    fused = entry.jvp_fused(tuple(dxs), *xs, out=out)
    summed = entry.jvp[0](dxs[0], *xs, out=out) + entry.jvp[1](dxs[1], *xs, out=out)
    np.testing.assert_array_equal(fused, summed)
    assert fused.shape == (k, *out.shape)
    for before, after in zip(kept, xs + dxs):
        np.testing.assert_array_equal(before, after)


def test_the_engine_multiplies_two_duals_with_the_fused_rule():
    """``a * b`` of two duals goes through ``multiply``'s ``jvp_fused``; the result is the
    product rule's, for contiguous (block by block) and strided (plain) operands."""
    multiply = dualad.REGISTRY["multiply"]
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return fused(*args, **kwargs)

    fused = multiply.jvp_fused
    object.__setattr__(multiply, "jvp_fused", counted)  # a frozen dataclass
    try:
        rng = np.random.default_rng(0)
        x, y = rng.standard_normal(2**17), rng.standard_normal(2**17)
        for slicer in (slice(None), slice(None, None, 2)):
            a, b = x[slicer], y[slicer]
            (_, dz) = dualad.jvp(lambda a, b: a * b, (a, b), (np.cos(a), np.sin(b)))
            np.testing.assert_array_equal(dz, np.cos(a) * b + a * np.sin(b))
    finally:
        object.__setattr__(multiply, "jvp_fused", fused)
    assert len(calls) == 2


@pytest.mark.parametrize("entry, i", CASES)
def test_primal_matches_numpy(entry, i):
    example, arrays = _inputs(entry, i)
    expected = example.call(np, *arrays)
    ones = tuple(np.ones_like(a) for a in arrays)
    value = dualad.jvp(lambda *xs: example.call(np, *xs), arrays, ones)[0]
    _assert_tree_close(value, expected, example.__class__(example.call, rtol=1e-12, atol=1e-12),
                       f"{entry.name} primal")


@pytest.mark.parametrize("entry, i", CASES)
def test_jacfwd_matches_reference(entry, i):
    example, arrays = _inputs(entry, i)
    argnums = tuple(range(len(arrays)))
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    expected = _reference(entry.name, i, "fwd")
    for chunk_size in (None, 1, 2):
        actual = dualad.jacfwd(f, argnums=argnums, chunk_size=chunk_size)(*arrays)
        _assert_tree_close(actual, expected, example, f"{entry.name} chunk_size={chunk_size}")
    # linearize: one evaluation, then a random direction pushed through it equals J @ v
    out, f_jvp = dualad.linearize(f, *arrays)
    _assert_tree_close(out, actual_primal := f(*arrays), example, f"{entry.name} linearize")
    rng = np.random.default_rng(zlib.crc32(f"linearize-{entry.name}-{i}".encode()))
    vs = tuple(rng.standard_normal(np.shape(a)) for a in arrays)
    rows = expected if isinstance(actual_primal, (tuple, list)) else (expected,)
    jv = [sum(np.tensordot(block, v, axes=np.ndim(v)) for block, v in zip(row, vs))
          for row in rows]
    pushed = f_jvp(*vs)
    _assert_tree_close(pushed if isinstance(actual_primal, (tuple, list)) else (pushed,), jv,
                       example, f"{entry.name} linearize's f_jvp")


@pytest.mark.parametrize("entry, i", CASES)
def test_jacrev_matches_reference_and_jacfwd(entry, i):
    example, arrays = _inputs(entry, i)
    argnums = tuple(range(len(arrays)))
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    expected = _reference(entry.name, i, "rev")
    for chunk_size in (None, 1, 2):
        actual = dualad.jacrev(f, argnums=argnums, chunk_size=chunk_size)(*arrays)
        _assert_tree_close(actual, expected, example,
                           f"{entry.name} jacrev chunk_size={chunk_size}")
    forward = dualad.jacfwd(f, argnums=argnums)(*arrays)
    _assert_tree_close(actual, forward, example.__class__(example.call, rtol=1e-10, atol=1e-12),
                       f"{entry.name} jacrev vs jacfwd")


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [np.asarray(tree, dtype=float)]


def _like(tree, rng):
    """Random arrays with the structure and shapes of ``tree``."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(_like(item, rng) for item in tree) if not hasattr(tree, "_fields") \
            else type(tree)(*(_like(item, rng) for item in tree))
    return rng.standard_normal(np.shape(tree))


@pytest.mark.parametrize("entry, i", CASES)
def test_dot_product_identity(entry, i):
    # <u, J v> (forward mode) equals <J^T u, v> (reverse mode) for random u, v
    example, arrays = _inputs(entry, i)
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    rng = np.random.default_rng(zlib.crc32(f"dot-{entry.name}-{i}".encode()))
    vs = tuple(rng.standard_normal(np.shape(a)) for a in arrays)
    out, jv = dualad.jvp(f, arrays, vs)
    us = _like(out, rng)
    _, pullback = dualad.vjp(f, *arrays)
    jtu = pullback(us)
    lhs = sum(float(np.sum(u * t)) for u, t in zip(_leaves(us), _leaves(jv)))
    rhs = sum(float(np.sum(c * v)) for c, v in zip(_leaves(jtu), vs))
    scale = sum(float(np.sum(np.abs(u * t))) for u, t in zip(_leaves(us), _leaves(jv))) + 1.0
    tolerance = max(1e-9, example.rtol) * scale  # float32 examples declare a looser rtol
    assert abs(lhs - rhs) <= tolerance, f"{entry.name}: <u, Jv> = {lhs}, <J^T u, v> = {rhs}"


SECOND_ORDER_CASES = [case for case in CASES
                      if case.values[0].examples[case.values[1]].second_order]


@pytest.mark.parametrize("mode", ["fwd-fwd", "fwd-rev"])
@pytest.mark.parametrize("entry, i", SECOND_ORDER_CASES)
def test_second_order_matches_reference(entry, i, mode):
    example, arrays = _inputs(entry, i)
    argnums = tuple(range(len(arrays)))
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    inner = dualad.jacfwd if mode == "fwd-fwd" else dualad.jacrev
    if mode == "fwd-fwd":
        actual = dualad.jacfwd(dualad.jacfwd(f, argnums=argnums), argnums=argnums)(*arrays)
    else:
        actual = dualad.hessian(f, argnums=argnums)(*arrays)
    if example.finite_differences:  # differences of the (separately checked) first derivative
        for a, row in enumerate(actual):
            first = lambda *xs, a=a: inner(f, argnums=argnums)(*xs)[a]  # noqa: E731
            _assert_tree_close(row, central_differences(first, arrays), example,
                               f"{entry.name} second order ({mode})")
        return
    expected = _reference(entry.name, i, "hessian")
    _assert_tree_close(actual, expected, example, f"{entry.name} second order ({mode})")


def test_vjp_add_is_declared_only_beside_the_rule_of_one_argument():
    with pytest.raises(dualad.RegistrationError, match="vjp_add="):
        dualad.defprimitive(
            "registry_two_args_add", impl=lambda x, y: x + y,
            jvp=(lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: dy),
            vjp=(lambda ct, x, y, *, out: ct, lambda ct, x, y, *, out: ct),
            vjp_add=lambda total, owned, ct, x, y, *, out: None)


def test_getitems_vjp_add_equals_its_rule():
    """The slice hook gives what the rule plus the engine's sum give, bit for bit."""
    getitem = dualad.REGISTRY["getitem"]
    x = np.arange(12.0).reshape(3, 4)
    g = np.linspace(-1.0, 1.0, 8).reshape(1, 2, 4)
    for total in (None, np.ones((1, 3, 4))):
        for owned in (False, True):
            before = None if total is None else total.copy()
            key = slice(1, None)
            added = getitem.vjp_add(None if total is None else total.copy(), owned, g, x,
                                    out=x[key], key=key)
            expected = getitem.vjp[0](g, x, out=x[key], key=key)
            if before is not None:
                expected = before + expected
            np.testing.assert_array_equal(added, expected)


# --------------------------------------------------------------------------- declarations

_UNARY = {"jvp": lambda dx, x, *, out: dx, "vjp": lambda ct, x, *, out: ct}
_BINARY = {"jvp": (lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: dy),
           "vjp": (lambda ct, x, y, *, out: ct, lambda ct, x, y, *, out: ct)}


@pytest.mark.parametrize("rules, formula, complaint", [
    (_UNARY, "x; d/dx = 1", "is \\(primal, \\{letter: partial\\}\\)"),
    (_UNARY, ("ln x", {"y": "1/y"}), "letter 'y' does not occur in the primal"),
    (_BINARY, ("x + y", {"x": "1"}), "gives 1 partials for 2 differentiable arguments"),
    (_UNARY, ("x + y", {"x": "1", "y": "1"}), "gives 2 partials for 1 differentiable"),
    (_UNARY, ("out x", {"out": "1"}), "letter 'out' is not a name"),
    (_UNARY, ("sin x", {"x": "cos x, as in JAX"}), "d/dx = 'cos x, as in JAX' is not a formula"),
    (_UNARY, ("sin x", {"x": ""}), "d/dx = '' is not a formula"),
    (_UNARY, ("x**3", {"x": "3x**2"}), "'3x\\*\\*2' glues 'x' to a number: write 3 x"),
    ({"jvp": (lambda dx, x, y, *, out: dx, None), "vjp": (lambda ct, x, y, *, out: ct, None)},
     ("x + y", {"x": "1", "y": "0"}), "argument 2 has no derivative"),
    ({"jvp_all": lambda dxs, x, *, out: dxs[0], "vjp_all": lambda ct, x, *, out: (ct,)},
     ("x", {"x": "1"}), "goes with jvp= rules"),
    ({**_UNARY, "multiple_results": True}, ("x", {"x": "1"}), "describes one result"),
])
def test_a_formula_that_does_not_fit_is_refused_naming_the_primitive(rules, formula, complaint):
    name = "registry_bad_formula"
    message = f"primitive '{name}': formula= .*{complaint}"
    with pytest.raises(dualad.RegistrationError, match=message):
        dualad.defprimitive(name, impl=lambda *xs: xs[0], formula=formula, **rules)
    assert name not in dualad.REGISTRY


def test_a_declared_formula_is_what_a_trace_prints():
    from dualad.registry import Formula
    from dualad.traces.rules import formula

    cube = dualad.REGISTRY.get("registry_cube") or dualad.defprimitive(
        "registry_cube", impl=lambda x: x ** 3, formula=("x**3", {"x": "3 x**2"}),
        jvp=lambda dx, x, *, out: dx * (3 * x * x), vjp=lambda ct, x, *, out: ct * (3 * x * x))
    assert formula(cube) == Formula("x**3", ("x",), ("3 x**2",))
    assert cube.doc == "x**3; d/dx = 3 x**2"  # the docstring defaults to the formula
    text = str(dualad.trace(lambda x: cube(np.sin(x)), 2.0))
    assert "v2 = v1**3" in text and "v2_dot = v1_dot * 3 v1**2" in text
    assert "v1_bar = v2_bar * 3 v1**2" in text


def test_builtin_primitives_record_their_family():
    from dualad._docs import _FAMILIES
    from dualad.primitives.elementwise import ELEMENTWISE

    assert dualad.REGISTRY["sin"].family is ELEMENTWISE
    families = {entry.family for entry in dualad.REGISTRY.values() if entry.builtin}
    assert {family.name for family in families} == set(_FAMILIES)
    assert all(family.builtin for family in families)
    builtin = [entry for entry in dualad.REGISTRY.values() if entry.builtin]
    assert all(not entry.checked for entry in builtin if isinstance(entry, Primitive))


def test_a_users_primitive_is_user_defined_wherever_it_is_declared():
    """The family is what the declaration says, not where the call comes from: a user's
    module named like dualad's own families still declares user primitives, whose rules the
    engines check as they run."""
    from dualad.registry import USER, Family

    source = ("import dualad\n"
              "prim = dualad.defprimitive('registry_user_prim', impl=lambda x: 2 * x,\n"
              "                           jvp=lambda dx, x, *, out: 2 * dx,\n"
              "                           vjp=lambda ct, x, *, out: 2 * ct)\n"
              "comp = dualad.registry.defcomposite('registry_user_comp', lambda x: prim(x),\n"
              "                                    numpy=())\n")
    namespace = {"__name__": "dualad.primitives.lookalike"}
    if "registry_user_prim" not in dualad.REGISTRY:
        exec(compile(source, "<lookalike>", "exec"), namespace)
    prim, comp = dualad.REGISTRY["registry_user_prim"], dualad.REGISTRY["registry_user_comp"]
    assert prim.family is USER and comp.family is USER
    assert not prim.builtin and not comp.builtin and prim.checked
    assert float(dualad.grad(prim)(3.0)) == 2.0

    mine = Family("registry_mine", builtin=False)
    half = dualad.REGISTRY.get("registry_half") or mine.defprimitive(
        "registry_half", impl=lambda x: x / 2, jvp=lambda dx, x, *, out: dx / 2,
        vjp=lambda ct, x, *, out: ct / 2)
    assert half.family is mine and not half.builtin and half.checked
