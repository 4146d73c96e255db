"""Pytrees of the user's own types: dataclasses, named tuples and types registered with
``register_pytree_node`` as arguments, tangents, cotangents and results of every transform,
each compared in both modes with JAX (float64) given the same types registered with
``jax.tree_util``; dicts whose keys cannot be compared; and the errors for what is not a
pytree of arrays, which name the leaf's path and the fix.

Test functions are written once as ``f(np_, ...)`` and called with ``numpy`` (on dualad's
active arrays) and with ``jax.numpy`` for the reference.
"""

from __future__ import annotations

import functools
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualad
from dualad.errors import InvalidInputError, RegistrationError, ShapeMismatchError
from tests.reference import FAST_COMPILE  # importing tests.reference sets JAX to float64

RNG = np.random.default_rng(20261203)


@dataclass
class Layer:
    """A dataclass with a static (meta) field."""

    w: Any
    b: Any
    activation: str = field(default="tanh", metadata=dict(static=True))


class Pair(NamedTuple):
    first: Any
    second: Any


class Point:
    """A plain class, registered by its flatten and unflatten functions; ``unit`` is aux."""

    def __init__(self, x: Any, y: Any, unit: str = "m") -> None:
        self.x, self.y, self.unit = x, y, unit

    def __repr__(self) -> str:
        return f"Point({self.x!r}, {self.y!r}, unit={self.unit!r})"


def _point_flatten(p: Point) -> tuple[tuple[Any, Any], str]:
    return (p.x, p.y), p.unit


def _point_unflatten(unit: str, children: Any) -> Point:
    return Point(*children, unit=unit)


for _register in (dualad.register_dataclass, jax.tree_util.register_dataclass):
    _register(Layer)
for _register in (dualad.register_pytree_node, jax.tree_util.register_pytree_node):
    _register(Point, _point_flatten, _point_unflatten)

LAYER = Layer(RNG.normal(size=(2, 3)), RNG.normal(size=2), activation="tanh")
POINT = Point(RNG.normal(size=3), 0.7, unit="cm")
ARGS = (LAYER, POINT)


def net(np_, layer, p):
    """A registered dataclass and a registered class in; a named tuple of a registered class
    and a dict out."""
    act = getattr(np_, layer.activation)
    h = act(layer.w @ p.x + layer.b) * p.y
    return Pair(Point(np_.sum(h ** 2), h[0] * p.y, unit=p.unit), {"h": h, "s": np_.sin(p.x)})


def loss(np_, layer, p):
    out = net(np_, layer, p)
    return out.first.x * out.first.y + np_.sum(out.second["s"] * p.x)


def ours(f: Any) -> Any:
    return lambda *xs: f(np, *xs)


def theirs(f: Any) -> Any:
    return lambda *xs: f(jnp, *xs)


def as_numpy(tree: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, tree)


def jitted(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` compiled once without XLA's backend optimisations, as NumPy arrays (eager
    JAX takes seconds over second derivatives of these functions)."""
    return as_numpy(jax.jit(fn).lower(*args).compile(FAST_COMPILE)(*args))


def like(tree: Any, seed: int) -> Any:
    """A random tree of ``tree``'s structure and shapes."""
    rng = np.random.default_rng(seed)
    return dualad.tree_map(lambda x: rng.normal(size=np.shape(x)), tree)


def assert_same_tree(actual: Any, expected: Any, rtol: float = 1e-12, atol: float = 1e-12):
    """The same structure (node types, dict keys, named-tuple fields, aux data) and close
    leaves; no active value escaped."""
    a_leaves, a_def = dualad.tree_flatten(actual)
    e_leaves, e_def = dualad.tree_flatten(expected)
    assert a_def == e_def, f"{a_def}\n!=\n{e_def}"
    for i, (a, e) in enumerate(zip(a_leaves, e_leaves, strict=True)):
        assert not isinstance(a, dualad.Dual), f"leaf {i}: a Dual"
        assert not isinstance(a, dualad.TapeArray), f"leaf {i}: a TapeArray"
        assert np.shape(a) == np.shape(e), f"leaf {i}: {np.shape(a)} != {np.shape(e)}"
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(e), rtol=rtol,
                                   atol=atol, err_msg=f"leaf {i}")


@functools.cache
def jax_jacobian() -> Any:
    """JAX's Jacobian of ``net`` with respect to both arguments, computed once."""
    return jitted(jax.jacfwd(theirs(net), argnums=(0, 1)), *ARGS)


def jax_jacobian_argnums(argnums: Any) -> Any:
    """What ``jax.jacfwd(net, argnums)`` returns, cut from :func:`jax_jacobian`: each output
    leaf holds one argument's tree for an int, a tuple of them for a tuple."""
    out_def = jax.tree_util.tree_structure(net(np, *ARGS))
    per_leaf = out_def.flatten_up_to(jax_jacobian())
    if isinstance(argnums, int):
        return jax.tree_util.tree_unflatten(out_def, [jac[argnums] for jac in per_leaf])
    return jax.tree_util.tree_unflatten(
        out_def, [tuple(jac[i] for i in argnums) for jac in per_leaf])


@functools.cache
def jax_hessian() -> Any:
    """JAX's Hessian of ``loss`` with respect to both arguments, computed once."""
    return jitted(jax.hessian(theirs(loss), argnums=(0, 1)), *ARGS)


@functools.cache
def jax_value_and_grad() -> Any:
    return jitted(jax.value_and_grad(theirs(loss), argnums=(0, 1)), *ARGS)


# --------------------------------------------------------------------------- first order


def test_jvp_with_registered_types_in_and_out_matches_jax():
    tangents = (like(LAYER, 1), like(POINT, 2))
    y, dy = dualad.jvp(ours(net), ARGS, tangents)
    y_ref, dy_ref = jitted(lambda p, t: jax.jvp(theirs(net), p, t), ARGS, tangents)
    assert isinstance(y, Pair) and isinstance(y.first, Point) and y.first.unit == "cm"
    assert_same_tree(y, y_ref)
    assert_same_tree(dy, dy_ref)


def test_vjp_with_registered_types_in_and_out_matches_jax():
    def reference(args, ct):
        y, pullback = jax.vjp(theirs(net), *args)
        return y, pullback(ct)

    y, pullback = dualad.vjp(ours(net), *ARGS)
    cotangent = like(y, 3)
    y_ref, cts_ref = jitted(reference, ARGS, cotangent)
    layer_bar, point_bar = pullback(cotangent)
    assert isinstance(layer_bar, Layer) and isinstance(point_bar, Point)
    assert layer_bar.activation == "tanh" and point_bar.unit == "cm"
    assert_same_tree(y, y_ref)
    assert_same_tree((layer_bar, point_bar), cts_ref)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0)])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_jacobians_are_nested_like_jax_in_both_modes(argnums, chunk_size):
    """Each output leaf holds a tree like the arguments (a tuple of them for tuple argnums),
    for every chunk size, forward and reverse."""
    expected = jax_jacobian_argnums(argnums)
    for transform in (dualad.jacfwd, dualad.jacrev):
        actual = transform(ours(net), argnums=argnums, chunk_size=chunk_size)(*ARGS)
        assert_same_tree(actual, expected)


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_grad_and_value_and_grad_match_jax(argnums):
    value_ref, g_ref = jax_value_and_grad()
    g_ref = g_ref[argnums] if isinstance(argnums, int) else g_ref
    value, g = dualad.value_and_grad(ours(loss), argnums=argnums)(*ARGS)
    assert_same_tree(value, value_ref)
    assert_same_tree(g, g_ref)
    assert_same_tree(dualad.grad(ours(loss), argnums=argnums)(*ARGS), g_ref)
    # the forward mode gives the same gradient, one direction per input element
    assert_same_tree(dualad.jacfwd(ours(loss), argnums=argnums)(*ARGS), g_ref)


def test_aux_of_a_registered_type_is_returned_without_derivatives():
    def f(np_, layer, p):
        h = np_.tanh(layer.w @ p.x)
        return np_.sum(h * layer.b), Layer(h, layer.b * 2, activation="aux")

    def reference(args, tangents):
        value_and_grad = jax.value_and_grad(theirs(f), has_aux=True)(*args)
        return value_and_grad, jax.jvp(theirs(f), args, tangents, has_aux=True)[1]

    tangents = (like(LAYER, 4), like(POINT, 5))
    ((value_ref, aux_ref), g_ref), dy_ref = jitted(reference, ARGS, tangents)
    (value, aux), g = dualad.value_and_grad(ours(f), has_aux=True)(*ARGS)
    assert isinstance(aux, Layer) and aux.activation == "aux"
    assert_same_tree((value, aux, g), (value_ref, aux_ref, g_ref))
    y, dy, aux_fwd = dualad.jvp(ours(f), ARGS, tangents, has_aux=True)
    assert_same_tree((y, dy, aux_fwd), (value_ref, dy_ref, aux_ref))


def test_named_tuples_need_no_registration():
    """As in JAX, a named tuple is a node of its own type, in arguments and results."""
    def f(np_, pair):
        return Pair(np_.sin(pair.first) * pair.second, pair.second ** 2)

    pair = Pair(RNG.normal(size=2), 1.3)
    expected = jitted(jax.jacrev(theirs(f)), pair)
    for transform in (dualad.jacfwd, dualad.jacrev):
        jac = transform(ours(f))(pair)
        assert isinstance(jac, Pair) and isinstance(jac.first, Pair)
        assert_same_tree(jac, expected)


# --------------------------------------------------------------------------- second order


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_hessian_of_registered_types_matches_jax(argnums):
    expected = jax_hessian()
    if argnums == 0:  # the block of the first argument: H[0], each leaf's first tree
        layer_def = jax.tree_util.tree_structure(LAYER)
        blocks = [jac[0] for jac in layer_def.flatten_up_to(expected[0])]
        expected = jax.tree_util.tree_unflatten(layer_def, blocks)
    assert_same_tree(dualad.hessian(ours(loss), argnums=argnums)(*ARGS), expected)
    # reverse over reverse and forward over forward agree with it
    for outer, inner in ((dualad.jacrev, dualad.jacrev), (dualad.jacfwd, dualad.jacfwd)):
        actual = outer(inner(ours(loss), argnums=argnums), argnums=argnums)(*ARGS)
        assert_same_tree(actual, expected)


def test_hvp_of_registered_types_matches_jax():
    v = (like(LAYER, 6), like(POINT, 7))
    expected = jitted(lambda p, t: jax.jvp(jax.grad(theirs(loss), argnums=(0, 1)), p, t)[1],
                      ARGS, v)
    assert_same_tree(dualad.hvp(ours(loss), ARGS, v), expected)
    # reverse over forward: the gradient of <grad f, v> computed by jvp
    directional = lambda *xs: dualad.jvp(ours(loss), xs, v)[1]  # noqa: E731
    assert_same_tree(dualad.grad(directional, argnums=(0, 1))(*ARGS), expected)


# --------------------------------------------------------------------------- dict keys


def mixed(np_, d):
    """A dict with int, str and float keys in, one with int and str keys out."""
    return {2: np_.sin(d[1]) * d["a"], "b": d["a"] ** 2 * d[0.5]}


def mixed_twin(np_, x1, xa, xh):
    """``mixed`` with the keys as positions, for JAX, which refuses keys it cannot sort."""
    return {"2": np_.sin(x1) * xa, "b": xa ** 2 * xh}


MIXED = {"a": 1.5, 1: np.array([0.3, -0.4]), 0.5: 2.0}


def test_dict_keys_that_cannot_be_compared_are_ordered_the_same_way_everywhere():
    """Numbers first (in order), then the other keys by type name, whatever the insertion
    order, so that structures made separately agree."""
    leaves, treedef = dualad.tree_flatten({"a": "A", 1: "one", 0.5: "half", (0,): "t"})
    assert leaves == ["half", "one", "A", "t"]
    _, again = dualad.tree_flatten({(0,): 0, 1: 0, "a": 0, 0.5: 0})
    assert again == treedef
    with pytest.raises(ValueError):  # what JAX does with such a dict
        jax.tree_util.tree_flatten({1: 0.0, "a": 0.0})


def test_dict_with_keys_that_cannot_be_compared_matches_jax_in_both_modes():
    x1, xa, xh = MIXED[1], MIXED["a"], MIXED[0.5]
    ref = jitted(jax.jacfwd(theirs(mixed_twin), argnums=(0, 1, 2)), x1, xa, xh)
    for transform in (dualad.jacfwd, dualad.jacrev):
        jac = transform(ours(mixed))(MIXED)
        assert list(jac) == [2, "b"]
        for key_out, ref_key in ((2, "2"), ("b", "b")):
            assert_same_tree(jac[key_out], {1: ref[ref_key][0], "a": ref[ref_key][1],
                                            0.5: ref[ref_key][2]})
    # tangents and cotangents built in another insertion order fit
    tangent = {0.5: 1.0, "a": 0.0, 1: np.zeros(2)}
    _, dy = dualad.jvp(ours(mixed), (MIXED,), (tangent,))
    assert_same_tree(dy, {2: ref["2"][2], "b": ref["b"][2]})
    y, pullback = dualad.vjp(ours(mixed), MIXED)
    (d_bar,) = pullback({"b": 1.0, 2: np.zeros(2)})
    assert_same_tree(d_bar, {1: ref["b"][0], "a": ref["b"][1], 0.5: ref["b"][2]})
    g = dualad.grad(lambda d: np.sum(ours(mixed)(d)[2]) + ours(mixed)(d)["b"])(MIXED)
    assert_same_tree(g, {1: ref["2"][0].sum(0) + ref["b"][0], "a": ref["2"][1].sum(0)
                         + ref["b"][1], 0.5: ref["2"][2].sum(0) + ref["b"][2]})


def test_ordered_dicts_keep_their_order_and_defaultdicts_their_factory_as_in_jax():
    def f(np_, d):
        h = np_.tanh(d["w"] @ POINT.x + d["b"])
        return OrderedDict([("z", h), ("a", np_.sum(d["w"] ** 2))])

    od = OrderedDict([("w", LAYER.w), ("b", LAYER.b)])
    expected = jitted(jax.jacfwd(theirs(f)), od)
    for transform in (dualad.jacfwd, dualad.jacrev):
        jac = transform(ours(f))(od)
        assert type(jac) is OrderedDict and list(jac) == ["z", "a"]
        assert type(jac["z"]) is OrderedDict and list(jac["z"]) == ["w", "b"]
        assert_same_tree(jac, expected)
    dd = defaultdict(list, od)
    g = dualad.grad(lambda d: ours(f)(d)["a"])(dd)
    assert type(g) is defaultdict and g.default_factory is list
    assert_same_tree(g, jitted(jax.grad(lambda d: theirs(f)(d)["a"]), dd))
    _, pullback = dualad.vjp(ours(f), od)
    with pytest.raises(ShapeMismatchError, match=r"an OrderedDict \{'z': an array, 'a': an "
                       r"array\}; got a dict"):
        pullback({"z": np.ones(2), "a": 1.0})


# --------------------------------------------------------------------------- errors


@dataclass
class Unregistered:
    w: Any


def test_an_unregistered_dataclass_argument_is_refused_with_its_path_and_the_fix():
    for transform in (dualad.grad, dualad.jacfwd, dualad.jacrev):
        with pytest.raises(InvalidInputError, match=r"argument 1\['p'\] is an Unregistered, "
                           r"a dataclass.*@dualad\.register_dataclass"):
            transform(lambda d: np.sum(d["p"].w))({"p": Unregistered(np.ones(2))})
    with pytest.raises(InvalidInputError, match="register_dataclass"):
        dualad.jvp(lambda p: p.w, (Unregistered(1.0),), (Unregistered(1.0),))


def test_an_unregistered_dataclass_result_is_refused_with_the_fix():
    for transform in (dualad.jacfwd, dualad.jacrev):
        with pytest.raises(InvalidInputError, match="output 0 of the function is an "
                           "Unregistered, a dataclass.*register_dataclass"):
            transform(lambda x: Unregistered(x))(np.ones(2))
    for transform in (dualad.jacfwd, dualad.jacrev):  # a nested one is named by its place
        with pytest.raises(InvalidInputError, match=r"output 2 \(result\['h'\]\.second\) of "
                           r"the function is an Unregistered, a dataclass"):
            transform(lambda x: {"g": x, "h": Pair(x, Unregistered(x))})(np.ones(2))
    with pytest.raises(InvalidInputError, match=r"output 2 \(result\[1\]\[1\]\) of the "
                       r"function is a str"):
        dualad.jvp(lambda x: (x, [x, "text"]), (1.0,), (1.0,))


def test_a_leaf_that_is_not_an_array_is_named_by_its_path():
    params = {"layers": [LAYER, LAYER, Layer("w", 1.0)]}
    for transform in (dualad.grad, dualad.jacfwd):
        with pytest.raises(InvalidInputError, match=r"argument 1\['layers'\]\[2\]\.w is of "
                           r"type str, not an array or a number.*register_pytree_node"):
            transform(lambda p: p["layers"][0].b[0])(params)
    with pytest.raises(InvalidInputError, match=r"argument 2\.second\[<flat index 1>\] is of "
                       r"type object"):
        dualad.grad(lambda a, b: a, argnums=(0, 1))(1.0, Pair(1.0, Point(1.0, object())))


def test_the_keys_of_flatten_with_keys_name_the_children():
    class Keyed:
        def __init__(self, a, b):
            self.a, self.b = a, b

    keys = (jax.tree_util.GetAttrKey("a"), jax.tree_util.GetAttrKey("b"))
    dualad.register_pytree_node(
        Keyed, lambda k: ((k.a, k.b), None), lambda aux, c: Keyed(*c),
        lambda k: (tuple(zip(keys, (k.a, k.b))), None))
    g = dualad.grad(lambda k: k.a * k.b ** 2)(Keyed(3.0, 2.0))
    assert isinstance(g, Keyed) and (float(g.a), float(g.b)) == (4.0, 12.0)
    with pytest.raises(InvalidInputError, match=r"argument 1\.b is of type str"):
        dualad.grad(lambda k: k.a)(Keyed(1.0, "text"))


def test_structures_that_do_not_match_are_refused():
    with pytest.raises(ShapeMismatchError, match=r"same structure as primals, .* a "
                       r"Point\['cm'\] of \(an array, an array\)\); got .* a Point\['mm'\]"):
        dualad.jvp(ours(net), ARGS, (like(LAYER, 1), Point(np.ones(3), 1.0, unit="mm")))
    with pytest.raises(ShapeMismatchError, match=r"tree 2 is a Layer\[\('relu',\)\] of "
                       r"\(an array, an array\), but the first tree is a Layer\[\('tanh',\)\]"):
        dualad.tree_map(np.add, LAYER, Layer(LAYER.w, LAYER.b, activation="relu"))
    _, pullback = dualad.vjp(ours(net), *ARGS)
    with pytest.raises(ShapeMismatchError, match=r"a Pair of \(a Point\['cm'\] of \(an array, "
                       r"an array\), a dict"):
        pullback((1.0, {"h": np.ones(2), "s": np.ones(3)}))
    cotangent = like(net(np, *ARGS), 8)
    cotangent.second["s"] = np.ones(2)
    with pytest.raises(ShapeMismatchError, match=r"cotangent for output 3 \(result\.second"
                       r"\['s'\]\) has shape \(2,\), but the output has shape \(3,\)"):
        pullback(cotangent)


def test_registration_mistakes_are_refused():
    class Fresh:
        pass

    with pytest.raises(RegistrationError, match="already registered"):
        dualad.register_pytree_node(Point, _point_flatten, _point_unflatten)
    with pytest.raises(RegistrationError, match="already registered"):
        dualad.register_dataclass(Layer)
    for built_in in (tuple, dict, np.ndarray):
        with pytest.raises(RegistrationError, match="built into"):
            dualad.register_pytree_node(built_in, _point_flatten, _point_unflatten)
    with pytest.raises(RegistrationError, match="not callable"):
        dualad.register_pytree_node(Fresh, "flatten", _point_unflatten)
    with pytest.raises(RegistrationError, match="not a dataclass"):
        dualad.register_dataclass(Fresh)
    with pytest.raises(RegistrationError, match=r"not fields of __init__: \['b'\]"):
        dualad.register_dataclass(Unregistered, data_fields=["w", "b"], meta_fields=[])
    with pytest.raises(RegistrationError, match=r"missing \['w'\]"):
        dualad.register_dataclass(Unregistered, data_fields=[], meta_fields=[])
    with pytest.raises(RegistrationError, match="both"):
        dualad.register_dataclass(Unregistered, data_fields=["w"])


def test_a_flatten_function_that_does_not_return_a_pair_is_named():
    class Broken:
        pass

    dualad.register_pytree_node(Broken, lambda b: [1.0, 2.0], lambda aux, c: Broken())
    with pytest.raises(InvalidInputError, match="registered for .*Broken returned list, not "
                       "a pair"):
        dualad.grad(lambda b: 1.0)(Broken())


def test_a_class_that_converts_its_fields_when_built_is_named():
    @dualad.register_dataclass
    @dataclass
    class Converting:
        w: Any

        def __post_init__(self):
            self.w = np.asarray(self.w, dtype=float)

    with pytest.raises(dualad.ConversionError, match=r"np\.asarray.*while rebuilding a "
                       r".*Converting from its children.*__post_init__"):
        dualad.grad(lambda c: np.sum(c.w))(Converting([1.0, 2.0]))


# --------------------------------------------------------------------------- random pytrees


LEAVES = st.one_of(
    st.floats(-2, 2, allow_nan=False),
    st.builds(lambda shape, seed: np.random.default_rng(seed).normal(size=shape),
              st.sampled_from([(), (2,), (2, 3)]), st.integers(0, 2**16)),
)
KEYS = st.one_of(st.integers(-3, 3), st.text("abc", max_size=2), st.floats(0, 1, width=16))
TREES = st.recursive(LEAVES, lambda children: st.one_of(
    st.lists(children, min_size=1, max_size=3),
    st.lists(children, min_size=1, max_size=3).map(tuple),
    st.dictionaries(KEYS, children, min_size=1, max_size=3),
    st.builds(Pair, children, children),
    st.builds(Layer, children, children),
    st.builds(Point, children, children, st.sampled_from(["m", "cm"])),
), max_leaves=6)


def sin_energy(tree):
    """sum over the leaves of sum(sin(x) * x); its gradient is sin(x) + x cos(x)."""
    return sum(np.sum(np.sin(x) * x) for x in dualad.tree_flatten(tree)[0])


@given(tree=TREES)
def test_random_pytrees_differentiate_like_the_closed_form_in_both_modes(tree):
    """Any nesting of lists, tuples, dicts with keys of mixed types, named tuples and
    registered types: the gradient has the argument's structure and the closed form's
    values, by reverse mode, forward mode and a jvp along ones (its sum)."""
    expected = dualad.tree_map(lambda x: np.sin(x) + x * np.cos(x), tree)
    assert_same_tree(dualad.grad(sin_energy)(tree), expected)
    assert_same_tree(dualad.jacfwd(sin_energy)(tree), expected)
    ones = dualad.tree_map(lambda x: np.ones_like(x, dtype=float), tree)
    _, dy = dualad.jvp(sin_energy, (tree,), (ones,))
    total = sum(np.sum(g) for g in dualad.tree_flatten(expected)[0])
    np.testing.assert_allclose(dy, total, rtol=1e-12, atol=1e-12)
    # flattening round-trips, and the order of the leaves does not depend on dict insertion
    leaves, treedef = dualad.tree_flatten(tree)
    assert dualad.tree_unflatten(treedef, leaves).__class__ is tree.__class__
    again, again_def = dualad.tree_flatten(_reinserted(tree))
    assert again_def == treedef and all(a is b for a, b in zip(again, leaves, strict=True))


def _reinserted(tree):
    """``tree`` with every dict's keys inserted in reverse order."""
    if isinstance(tree, dict):
        return {k: _reinserted(tree[k]) for k in reversed(list(tree))}
    if isinstance(tree, list):
        return [_reinserted(x) for x in tree]
    if isinstance(tree, Pair):
        return Pair(*map(_reinserted, tree))
    if isinstance(tree, tuple):
        return tuple(_reinserted(x) for x in tree)
    if isinstance(tree, Layer):
        return Layer(_reinserted(tree.w), _reinserted(tree.b), tree.activation)
    if isinstance(tree, Point):
        return Point(_reinserted(tree.x), _reinserted(tree.y), tree.unit)
    return tree


# --------------------------------------------------------------------------- helpers


def test_tree_map_over_several_trees_and_its_errors():
    g = dualad.grad(ours(loss))(*ARGS)
    stepped = dualad.tree_map(lambda p, d: p - 0.5 * d, LAYER, g)
    assert isinstance(stepped, Layer) and stepped.activation == "tanh"
    np.testing.assert_array_equal(stepped.w, LAYER.w - 0.5 * g.w)
    with pytest.raises(ShapeMismatchError, match="tree 2 is a Point"):
        dualad.tree_map(lambda p, d: p - d, LAYER, POINT)
    leaves, treedef = dualad.tree_flatten(ARGS)
    assert len(leaves) == 4
    with pytest.raises(ShapeMismatchError, match="has 4 leaves, but 3"):
        dualad.tree_unflatten(treedef, leaves[:3])
