"""Property tests over the registry: every elementwise primitive and every reduction, with
shapes, broadcast pairs, axes, ``keepdims`` and chunk sizes drawn by Hypothesis, in both
modes: ``jacfwd`` and ``jacrev`` (with the drawn chunk size), and ``grad`` and ``hessian`` of
``np.sum(w * f(x))`` for random weights ``w`` of the output's shape.

``tests/test_registry.py`` checks each primitive on its hand-picked examples; here the
shapes are random, operands of different rank (and 0-d) meet, and ``chunk_size`` is drawn
from {None, 1, 2, 3, 5}, so the number of directions k is sometimes equal to an array size
and sometimes not (the broadcasting trap of DESIGN.md).

The references come from JAX in float64, compiled once per primitive (not once per shape,
which would take seconds per example):

* elementwise: ``jax.vmap`` of ``jax.jacfwd(f)``, ``jax.jacrev(f)``, and ``jax.grad`` and
  ``jax.hessian`` of ``w * f``, gives the partial derivatives at every output element
  (evaluated on a flat buffer of fixed length); where each output element reads its inputs
  from is NumPy's broadcasting of index arrays. Together they are the full Jacobians, and
  the gradient and Hessian of the weighted sum (by the chain rule through the broadcast).
* reductions: the reduced axes are moved last and flattened, so the reduction acts on the
  rows of an (M, R) matrix; the same four JAX transforms of ``jnp.<name>`` give each row's
  derivatives, which are placed block-diagonally and moved back. Rows are padded to a fixed
  length, masked with ``where=`` (a cumulative function ignores the padding by causality),
  so that one compilation serves every R.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dualad
from dualad.registry import NUMPY_TABLE, Primitive
from tests.reference import assert_tree_close

CHUNK_SIZES = st.sampled_from([None, 1, 2, 3, 5])
SEEDS = st.integers(0, 2**32 - 1)
PAD = 256  # fixed buffer length for the elementwise references: one compilation each

# Elementwise primitives the walk cannot call as ``np.<ufunc>(*arrays)`` vs ``jnp.<name>``.
NO_JAX_TWIN = {
    "astype": "a cast taking a dtype, not a ufunc; covered by tests/test_registry.py",
    "sinc": "np.sinc is a function, not a ufunc; tests/test_registry.py checks it with jnp.sinc",
    "sinc_derivative": "sinc's k-th derivative, k static; tests/test_registry.py and "
                       "tests/test_special.py check it",
}

# Non-ufunc elementwise functions with leading constant arguments: np.where(cond, x, y).
# Each recipe draws them from the rng and the shape of the broadcast operands.
LEADING_ARGS = {
    "where": lambda rng, shape: (
        rng.random(_sub_broadcast(rng, shape)) < 0.5,
    ),
}


def _sub_broadcast(rng, shape):
    """A random shape that broadcasts to ``shape`` (axes set to 1, leading axes dropped)."""
    reduced = tuple(1 if rng.random() < 0.4 else side for side in shape)
    return reduced[rng.integers(0, len(shape) + 1):]


# jax.numpy twins for the gradient and Hessian where ``jnp.<name>`` itself is not a reference.
SECOND_ORDER_TWINS = {
    # jnp.hypot rescales by max(|x|, |y|): where |x| == |y| (the domain's +-0.1 samples meet
    # often) JAX's Hessian is 0, not y**2 / r**3 (jax 0.10: hessian(hypot(., 0.1))(0.1) == 0).
    "hypot": lambda x, y: jnp.sqrt(x * x + y * y),
}


# Arguments that are not differentiable (their jvp rule is None): how to draw them.
CONSTANT_ARGS = {
    "copysign": {1: lambda rng, shape, domain: domain.sample(rng, shape)},
    "ldexp": {1: lambda rng, shape, domain: rng.integers(-3, 4, size=shape)},
}


def _elementwise_entries():
    """Elementwise primitives of one or two operands that draw inputs from their domain.

    Primitives all of whose examples use ``make=`` need structured inputs (remainder, fmod);
    tests/test_registry.py covers them. scipy.special's family has jax.scipy.special twins,
    not jax.numpy ones, and domains of their own: tests/test_registry.py and
    tests/test_special.py cover it.
    """
    return [
        entry
        for name, entry in sorted(dualad.REGISTRY.items())
        if isinstance(entry, Primitive) and entry.elementwise and entry.nin in (1, 2)
        and not name.startswith("user_") and entry.family.name != "special"
        and not all(example.make is not None for example in entry.examples)
    ]


ELEMENTWISE = _elementwise_entries()
TESTED = [e for e in ELEMENTWISE if e.name not in NO_JAX_TWIN]
UNARY = [e.name for e in TESTED if e.nin == 1]
BINARY = [e.name for e in TESTED if e.nin == 2]


def _tolerances(entry):
    rtol = max([1e-7, *(example.rtol for example in entry.examples)])
    atol = max([1e-9, *(example.atol for example in entry.examples)])
    return rtol, atol


def _differentiable_args(entry):
    """Indices of the arguments with a jvp rule; the others must be listed above."""
    if entry.jvp is None:
        return tuple(range(entry.nin))
    return tuple(i for i, rule in enumerate(entry.jvp) if rule is not None)


def test_elementwise_primitives_have_jax_twins():
    """Every elementwise primitive of the walk has ``jnp.<name>`` or is listed with a reason."""
    missing = [e.name for e in TESTED if not hasattr(jnp, e.name) or not e.numpy]
    not_ufunc = [e.name for e in TESTED if e.numpy and not isinstance(e.numpy[0], np.ufunc)
                 and e.name not in LEADING_ARGS]
    assert not not_ufunc, f"elementwise functions that are not ufuncs (add a recipe): {not_ufunc}"
    assert not missing, f"elementwise primitives without a jax.numpy twin: {missing}"
    stale = [name for name in NO_JAX_TWIN if name not in {e.name for e in ELEMENTWISE}]
    assert not stale, f"NO_JAX_TWIN lists primitives that are not in the walk: {stale}"


def test_second_order_twins_are_the_same_functions():
    """A twin in SECOND_ORDER_TWINS computes what ``jnp.<name>`` computes, on its domain."""
    for name, twin in SECOND_ORDER_TWINS.items():
        entry = dualad.REGISTRY[name]
        assert entry in TESTED, f"SECOND_ORDER_TWINS lists {name}, which is not in the walk"
        args = [entry.domain.sample(np.random.default_rng(i), (50,)) for i in range(entry.nin)]
        np.testing.assert_allclose(twin(*args), getattr(jnp, name)(*args), rtol=1e-14,
                                   err_msg=name)


def test_non_differentiable_arguments_are_listed():
    """A primitive with a ``None`` rule needs a recipe for drawing that constant argument."""
    unlisted = [
        e.name for e in TESTED
        if len(_differentiable_args(e)) < e.nin
        and set(range(e.nin)) - set(_differentiable_args(e)) - set(CONSTANT_ARGS.get(e.name, {}))
    ]
    assert not unlisted, f"add these to CONSTANT_ARGS: {unlisted}"


def test_the_walk_is_not_empty():
    assert len(UNARY) >= 20 and len(BINARY) >= 8


# --------------------------------------------------------------------------- elementwise


# XLA's backend optimisations cost more than they save for functions that run a few times.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
_COMPILED: dict = {}


def _compiled(key, make, *args):
    """``jax.jit(make())`` compiled for ``args``'s shapes, once per ``key``."""
    if key not in _COMPILED:
        _COMPILED[key] = jax.jit(make()).lower(*args).compile(FAST_COMPILE)
    return _COMPILED[key](*args)


def _gradient_and_hessian(scalar, argnums):
    """``(jax.grad, jax.hessian)`` of ``scalar`` from one trace: ``jax.hessian`` is
    ``jacfwd(jacrev)``, and for a scalar ``jacrev`` is ``jax.grad``, whose value is kept as aux."""

    def gradient_twice(*xs):
        gradient = jax.grad(scalar, argnums=argnums)(*xs)
        return gradient, gradient

    def both(*xs):
        hessian, gradient = jax.jacfwd(gradient_twice, argnums=argnums, has_aux=True)(*xs)
        return gradient, hessian

    return both


def _jax_partials(name: str, diff: tuple[int, ...], leading: int, flat: list, weights):
    """At each of the PAD points of ``flat``, for ``jnp.<name>`` (first output) ``f``: the
    partial derivatives by ``jax.jacfwd`` and by ``jax.jacrev``, and ``jax.grad`` and
    ``jax.hessian`` of ``w * f`` (``w`` the point's weight; ``f`` from SECOND_ORDER_TWINS if
    listed there), all from one compilation."""
    fn = getattr(jnp, name)

    def first(*xs):
        out = fn(*xs)
        return out[0] if isinstance(out, tuple) else out

    argnums = tuple(leading + i for i in diff)
    second = SECOND_ORDER_TWINS.get(name, first)

    def at_a_point(*xs):
        *xs, w = xs
        weighted = _gradient_and_hessian(lambda *ys: w * second(*ys), argnums)
        return (jax.jacfwd(first, argnums=argnums)(*xs), jax.jacrev(first, argnums=argnums)(*xs),
                *weighted(*xs))

    return _compiled(("partials", name, diff, leading), lambda: jax.vmap(at_a_point),
                     *flat, weights)


def _reference_derivatives(entry, leading, arrays, diff, weights):
    """JAX's ``jacfwd`` and ``jacrev`` (full Jacobians ``out.shape + x_i.shape``) for the
    arguments ``diff``, and ``grad`` and ``hessian`` of ``np.sum(weights * f)``.

    Output element ``o`` reads element ``source_i[o]`` of argument ``i`` (NumPy's broadcasting
    of index arrays), so the Jacobian places each point's partials at ``(o, source_i[o])``
    and the gradient and Hessian of the weighted sum add them up at ``source_i[o]`` and
    ``(source_i[o], source_j[o])``: the chain rule through the broadcast.
    """
    out_shape = np.broadcast_shapes(*(np.shape(a) for a in leading + arrays))
    size = int(np.prod(out_shape, dtype=int))
    flat = [np.resize(np.broadcast_to(a, out_shape).ravel(), PAD) for a in leading + arrays]
    every = _differentiable_args(entry)  # one compilation serves every choice of diff
    fwd, rev, grad, hess = _jax_partials(entry.name, every, len(leading), flat,
                                         np.resize(np.ravel(weights), PAD))
    at = {i: k for k, i in enumerate(every)}
    shapes = [np.shape(arrays[i]) for i in diff]
    sizes = [int(np.prod(shape, dtype=int)) for shape in shapes]
    sources = [np.broadcast_to(np.arange(n).reshape(shape), out_shape).ravel()
               for n, shape in zip(sizes, shapes, strict=True)]
    reference = {"jacfwd": [], "jacrev": [], "grad": [], "hessian": []}
    for a, i in enumerate(diff):
        for what, partials in (("jacfwd", fwd), ("jacrev", rev)):
            jac = np.zeros((size, sizes[a]))
            jac[np.arange(size), sources[a]] = np.asarray(partials[at[i]])[:size]
            reference[what].append(jac.reshape(out_shape + shapes[a]))
        gradient = np.bincount(sources[a], weights=np.asarray(grad[at[i]])[:size],
                               minlength=sizes[a])
        reference["grad"].append(gradient.reshape(shapes[a]))
        row = []
        for b, j in enumerate(diff):
            block = np.zeros((sizes[a], sizes[b]))
            np.add.at(block, (sources[a], sources[b]), np.asarray(hess[at[i]][at[j]])[:size])
            row.append(block.reshape(shapes[a] + shapes[b]))
        reference["hessian"].append(tuple(row))
    return {what: tuple(values) for what, values in reference.items()}


def _check_elementwise(entry, leading, arrays, diff, chunk_size, seed):
    """The primal, both Jacobians, and the gradient and Hessian of a weighted sum."""
    function = entry.numpy[0]

    def call(*xs):
        out = function(*leading, *xs)
        return out[0] if isinstance(out, tuple) else out

    def f(*xs):
        args = list(arrays)
        for i, x in zip(diff, xs, strict=True):
            args[i] = x
        return call(*args)

    rtol, atol = _tolerances(entry)
    chosen = tuple(arrays[i] for i in diff)
    argnums = tuple(range(len(diff)))
    value, _ = dualad.jvp(f, chosen, tuple(np.ones_like(a, dtype=float) for a in chosen))
    np.testing.assert_allclose(value, call(*arrays), rtol=1e-12, atol=1e-12,
                               err_msg=f"{entry.name}: primal")
    value, _ = dualad.vjp(f, *chosen)
    np.testing.assert_allclose(value, call(*arrays), rtol=1e-12, atol=1e-12,
                               err_msg=f"{entry.name}: primal on the tape")
    weights = np.random.default_rng(seed + 1).uniform(-1, 1, size=np.shape(value))
    scalar = lambda *xs: np.sum(weights * f(*xs))  # noqa: E731
    expected = _reference_derivatives(entry, leading, arrays, diff, weights)
    actual = {
        "jacfwd": dualad.jacfwd(f, argnums=argnums, chunk_size=chunk_size)(*chosen),
        "jacrev": dualad.jacrev(f, argnums=argnums, chunk_size=chunk_size)(*chosen),
        "grad": dualad.grad(scalar, argnums=argnums)(*chosen),
        "hessian": dualad.hessian(scalar, argnums=argnums)(*chosen),
    }
    for what, reference in expected.items():
        label = f"{entry.name} {what} w.r.t. arguments {diff}, chunk_size={chunk_size}"
        assert _shapes(actual[what]) == _shapes(reference), f"{label}: shapes"
        assert_tree_close(actual[what], reference, rtol=rtol, atol=atol, what=label)


def _shapes(tree):
    """The shapes of a tree's leaves, nested as the tree (a scalar's shape is ())."""
    return jax.tree_util.tree_map(np.shape, tree)


def _draw_args(entry, shapes, seed):
    """(leading constants, operands) for one example."""
    rng = np.random.default_rng(seed)
    constants = CONSTANT_ARGS.get(entry.name, {})
    arrays = []
    for i, shape in enumerate(shapes):
        draw = constants.get(i)
        arrays.append(draw(rng, shape, entry.domain) if draw else entry.domain.sample(rng, shape))
    leading = LEADING_ARGS.get(entry.name, lambda rng, shape: ())
    return leading(rng, np.broadcast_shapes(*shapes)), tuple(arrays)


@pytest.mark.parametrize("name", UNARY)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4),
       seed=SEEDS, chunk_size=CHUNK_SIZES)
def test_unary_elementwise_matches_jax(name, shape, seed, chunk_size):
    """jacfwd of a unary ufunc on a random shape is diagonal with JAX's derivatives."""
    entry = dualad.REGISTRY[name]
    leading, arrays = _draw_args(entry, (shape,), seed)
    _check_elementwise(entry, leading, arrays, _differentiable_args(entry), chunk_size,
                       seed)


@pytest.mark.parametrize("name", BINARY)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                min_side=1, max_side=4),
       seed=SEEDS, chunk_size=CHUNK_SIZES, which=st.sampled_from([(0, 1), (0,), (1,)]))
def test_binary_elementwise_matches_jax(name, shapes, seed, chunk_size, which):
    """Broadcast pairs of any ranks, differentiating both operands or only one of them."""
    entry = dualad.REGISTRY[name]
    leading, arrays = _draw_args(entry, shapes.input_shapes, seed)
    diff = tuple(i for i in which if i in _differentiable_args(entry))
    assume(diff)
    _check_elementwise(entry, leading, arrays, diff, chunk_size, seed)


# --------------------------------------------------------------------------- reductions

# name -> (NumPy function, kind); the jnp twin is jnp.<name>.
REDUCTIONS = {
    "sum": (np.sum, "reduce"),
    "mean": (np.mean, "reduce"),
    "prod": (np.prod, "reduce"),
    "max": (np.max, "reduce"),
    "min": (np.min, "reduce"),
    "std": (np.std, "reduce"),
    "var": (np.var, "reduce"),
    "cumsum": (np.cumsum, "cumulative"),
    "cumprod": (np.cumprod, "cumulative"),
}
OPTIONAL = {"cumsum", "cumprod"}  # tested when registered
WITH_DDOF = {"std", "var"}


ROW = 27  # the longest row: a reduction over three axes of at most 3 (the shapes below)
INITIAL = {"max": {"initial": -np.inf}, "min": {"initial": np.inf}}  # needed with where=


def _jax_rows(name: str, ddof: int, x2d, weights):
    """For ``red = jnp.<name>`` over each row ``v`` of ``x2d`` (weights ``w``):
    ``jax.jacfwd(red)`` and ``jax.jacrev(red)``, and ``jax.grad`` and ``jax.hessian`` of
    ``jnp.sum(w * red(v))``, each cut back to the row's length ``r``.

    One compilation per function serves every shape: the rows are padded to ``ROW``
    elements, which a reduction leaves out with JAX's ``where=`` mask; a cumulative
    function's first ``r`` outputs depend on the first ``r`` inputs only, and the padded
    outputs have weight 0.
    """
    red = getattr(jnp, name)
    m, r = x2d.shape
    cumulative = REDUCTIONS[name][1] == "cumulative"
    if cumulative:
        reduce = lambda v, mask: red(v)  # noqa: E731
    else:
        kwargs = ({"ddof": ddof} if name in WITH_DDOF else {}) | INITIAL.get(name, {})
        reduce = lambda v, mask: red(v, where=mask, **kwargs)  # noqa: E731

    def per_row(v, mask, w):
        at = lambda v: reduce(v, mask)  # noqa: E731
        weighted = _gradient_and_hessian(lambda v: jnp.sum(w * at(v)), 0)
        return (jax.jacfwd(at)(v), jax.jacrev(at)(v), *weighted(v))

    rows = _padded(np.pad(x2d, ((0, 0), (0, ROW - r)), constant_values=1.0))
    mask = _padded(np.broadcast_to(np.arange(ROW) < r, (m, ROW)))
    if cumulative:
        weights = np.pad(weights, ((0, 0), (0, ROW - r)))
    fwd, rev, grad, hess = (np.asarray(out)[:m] for out in _compiled(
        ("rows", name, ddof), lambda: jax.vmap(per_row), rows, mask, _padded(weights)))
    if cumulative:
        return fwd[:, :r, :r], rev[:, :r, :r], grad[:, :r], hess[:, :r, :r]
    return fwd[:, :r], rev[:, :r], grad[:, :r], hess[:, :r, :r]


def _padded(a):
    """Pad the rows to a fixed count (repeating values), so one compilation serves all M."""
    m = a.shape[0]
    return np.resize(a, (32 if m <= 32 else m,) + a.shape[1:])


def _from_rows(per_row, shape, perm):
    """Values ``(m, r)`` of the rows of ``np.transpose(x, perm)`` back in ``x``'s shape."""
    permuted = tuple(shape[a] for a in perm)
    return np.transpose(per_row.reshape(permuted), np.argsort(perm))


def _from_row_blocks(per_row, shape, perm):
    """Blocks ``(m, r, r)``, one per row of ``np.transpose(x, perm)``, placed on the block
    diagonal of a ``shape + shape`` array: rows depend only on themselves."""
    m, r = per_row.shape[:2]
    blocks = np.zeros((m, r, m, r))
    blocks[np.arange(m), :, np.arange(m), :] = per_row
    permuted = tuple(shape[a] for a in perm)
    inverse = [int(i) for i in np.argsort(perm)]
    return np.transpose(blocks.reshape(permuted + permuted),
                        inverse + [len(shape) + i for i in inverse])


def _reduce_reference(name, x, axes, keepdims, ddof, weights):
    """Jacobians (``jacfwd``, ``jacrev``) of reducing ``x`` over the sorted non-negative
    ``axes``, and ``grad`` and ``hessian`` of ``np.sum(weights * reduced)``."""
    shape, d = x.shape, x.ndim
    kept = tuple(a for a in range(d) if a not in axes)
    perm = kept + tuple(axes)
    kept_shape = tuple(shape[a] for a in kept)
    red_shape = tuple(shape[a] for a in axes)
    m, r = int(np.prod(kept_shape, dtype=int)), int(np.prod(red_shape, dtype=int))
    fwd, rev, grad, hess = _jax_rows(name, ddof, np.transpose(x, perm).reshape(m, r),
                                     weights.reshape(m))
    out_shape = tuple(1 if a in axes else shape[a] for a in range(d)) if keepdims else kept_shape
    inverse = np.argsort(perm)
    nk = len(kept)
    reference = {}
    for what, grads in (("jacfwd", fwd), ("jacrev", rev)):  # grads: (m, r)
        blocks = np.zeros((m, m, r))
        blocks[np.arange(m), np.arange(m), :] = grads
        jac = blocks.reshape(kept_shape + kept_shape + red_shape)
        jac = np.transpose(jac, tuple(range(nk)) + tuple(nk + int(inverse[j]) for j in range(d)))
        reference[what] = jac.reshape(out_shape + shape)
    reference["grad"] = _from_rows(grad, shape, perm)
    reference["hessian"] = _from_row_blocks(hess, shape, perm)
    return reference


def _cumulative_reference(name, x, axis, weights):
    """Jacobians (``jacfwd``, ``jacrev``) of ``np.<name>(x, axis)``, and ``grad`` and
    ``hessian`` of ``np.sum(weights * np.<name>(x, axis))``; ``axis=None`` runs over the
    flattened array: a single row, in ``x``'s own order."""
    shape, d = x.shape, x.ndim
    if axis is None:
        perm, m = tuple(range(d)), 1
        w_rows = weights.reshape(1, -1)
    else:
        perm = tuple(a for a in range(d) if a != axis) + (axis,)
        m = x.size // shape[axis]
        w_rows = np.transpose(weights, perm).reshape(m, -1)
    fwd, rev, grad, hess = _jax_rows(name, 0, np.transpose(x, perm).reshape(m, -1), w_rows)
    reference = {}
    for what, grads in (("jacfwd", fwd), ("jacrev", rev)):  # grads: (m, r_out, r_in)
        if axis is None:
            reference[what] = grads[0].reshape((x.size,) + shape)
        else:
            reference[what] = _from_row_blocks(grads, shape, perm)
    reference["grad"] = _from_rows(grad, shape, perm)
    reference["hessian"] = _from_row_blocks(hess, shape, perm)
    return reference


def _check_reduction(f, x, weights, chunk_size, expected, label):
    """dualad's ``jacfwd`` and ``jacrev`` of ``f``, and ``grad`` and ``hessian`` of
    ``np.sum(weights * f(x))``, against the references ``expected``."""
    scalar = lambda x: np.sum(weights * f(x))  # noqa: E731
    actual = {
        "jacfwd": dualad.jacfwd(f, chunk_size=chunk_size)(x),
        "jacrev": dualad.jacrev(f, chunk_size=chunk_size)(x),
        "grad": dualad.grad(scalar)(x),
        "hessian": dualad.hessian(scalar)(x),
    }
    for what, ours in actual.items():
        assert np.shape(ours) == expected[what].shape, f"{label}: {what} shape"
        np.testing.assert_allclose(ours, expected[what], rtol=1e-7, atol=1e-9,
                                   err_msg=f"{label}: {what}, chunk_size={chunk_size}")


@st.composite
def _axis(draw, ndim: int, allow_tuple: bool = True):
    """None, an int (possibly negative) or a tuple of distinct axes in any order."""
    kinds = ["none"] + (["int"] if ndim else []) + (["tuple"] if allow_tuple else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.permutations(range(ndim)))
    axes = axes[:draw(st.integers(0, ndim))]
    negate = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return tuple(a - ndim if neg else a for a, neg in zip(axes, negate, strict=True))


def _reduction_entry(name):
    fn, _ = REDUCTIONS[name]
    entry = NUMPY_TABLE.get(fn)
    assert entry is not None, f"np.{name} is not registered in dualad"
    return fn, entry


def _reductions(kind):
    return [
        pytest.param(name, marks=pytest.mark.skipif(
            name in OPTIONAL and NUMPY_TABLE.get(fn) is None,
            reason=f"np.{name} is not registered"))
        for name, (fn, k) in REDUCTIONS.items() if k == kind
    ]


@pytest.mark.parametrize("name", _reductions("reduce"))
@given(data=st.data(), seed=SEEDS, chunk_size=CHUNK_SIZES, keepdims=st.booleans(),
       method=st.booleans(), ddof=st.sampled_from([0, 1]))
def test_reduction_matches_jax(name, data, seed, chunk_size, keepdims, method, ddof):
    """Reductions over None / int / negative / tuple axes, with and without keepdims: both
    Jacobians, and the gradient and Hessian of a weighted sum of the result."""
    fn, entry = _reduction_entry(name)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    axis = data.draw(_axis(len(shape)))
    axes = tuple(range(len(shape))) if axis is None else tuple(
        sorted({a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}))
    reduced = int(np.prod([shape[a] for a in axes], dtype=int))
    ddof = ddof if name in WITH_DDOF else 0
    if name == "std":
        assume(reduced >= 2 + ddof)  # sqrt at 0 has no derivative
    if name == "var":
        assume(reduced >= 1 + ddof)
    x = entry.domain.sample(np.random.default_rng(seed), shape)
    kwargs = {"axis": axis, "keepdims": keepdims}
    if name in WITH_DDOF:
        kwargs["ddof"] = ddof
    if method:
        f = lambda x: getattr(x, name)(**kwargs)  # noqa: E731 - ndarray/Dual method
    else:
        f = lambda x: fn(x, **kwargs)  # noqa: E731

    value, _ = dualad.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(value, fn(x, **kwargs), rtol=1e-12, atol=1e-12)
    value, _ = dualad.vjp(f, x)
    np.testing.assert_allclose(value, fn(x, **kwargs), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(seed + 1).uniform(-1, 1, size=np.shape(value))
    expected = _reduce_reference(name, x, axes, keepdims, ddof, weights)
    _check_reduction(f, x, weights, chunk_size, expected, f"np.{name}(**{kwargs})")


@pytest.mark.parametrize("name", _reductions("cumulative"))
@given(data=st.data(), seed=SEEDS, chunk_size=CHUNK_SIZES, method=st.booleans())
def test_cumulative_matches_jax(name, data, seed, chunk_size, method):
    """Cumulative sums/products along an int (possibly negative) axis or the flat array: both
    Jacobians, and the gradient and Hessian of a weighted sum of the result."""
    fn, entry = _reduction_entry(name)
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    axis = data.draw(_axis(len(shape), allow_tuple=False))
    x = entry.domain.sample(np.random.default_rng(seed), shape)
    if method:
        f = lambda x: getattr(x, name)(axis=axis)  # noqa: E731
    else:
        f = lambda x: fn(x, axis=axis)  # noqa: E731
    value, _ = dualad.jvp(f, (x,), (np.ones_like(x),))
    np.testing.assert_allclose(value, fn(x, axis=axis), rtol=1e-12, atol=1e-12)
    value, _ = dualad.vjp(f, x)
    np.testing.assert_allclose(value, fn(x, axis=axis), rtol=1e-12, atol=1e-12)
    weights = np.random.default_rng(seed + 1).uniform(-1, 1, size=np.shape(value))
    expected = _cumulative_reference(name, x, None if axis is None else axis % x.ndim, weights)
    _check_reduction(f, x, weights, chunk_size, expected, f"np.{name}(axis={axis})")
