"""Property tests over the registry: every elementwise primitive and every reduction, with
shapes, broadcast pairs, axes, ``keepdims`` and chunk sizes drawn by Hypothesis.

``tests/test_registry.py`` checks each primitive on its hand-picked examples; here the
shapes are random, operands of different rank (and 0-d) meet, and ``chunk_size`` is drawn
from {None, 1, 2, 3, 5}, so the number of directions k is sometimes equal to an array size
and sometimes not (the broadcasting trap of DESIGN.md).

The references come from JAX in float64, compiled once per primitive (not once per shape,
which would take seconds per example):

* elementwise: ``jax.vmap(jax.jacfwd(f))`` gives the partial derivatives at every output
  element (evaluated on a flat buffer of fixed length); where each output element reads its
  inputs from is NumPy's broadcasting of index arrays. Together they are the full Jacobian.
* reductions: the reduced axes are moved last and flattened, so the reduction acts on the
  rows of an (M, R) matrix; ``jax.vmap(jax.jacfwd(jnp.<name>))`` gives each row's
  derivative (compiled once per R), which is placed block-diagonally and moved back.
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
from dualad.registry import Primitive, lookup

CHUNK_SIZES = st.sampled_from([None, 1, 2, 3, 5])
SEEDS = st.integers(0, 2**32 - 1)
PAD = 256  # fixed buffer length for the elementwise references: one compilation each

# Elementwise primitives the walk cannot call as ``np.<ufunc>(*arrays)`` vs ``jnp.<name>``.
NO_JAX_TWIN = {
    "astype": "a cast taking a dtype, not a ufunc; covered by tests/test_registry.py",
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


# Arguments that are not differentiable (their jvp rule is None): how to draw them.
CONSTANT_ARGS = {
    "copysign": {1: lambda rng, shape, domain: domain.sample(rng, shape)},
    "ldexp": {1: lambda rng, shape, domain: rng.integers(-3, 4, size=shape)},
}


def _elementwise_entries():
    """Elementwise primitives of one or two operands that draw inputs from their domain.

    Primitives all of whose examples use ``make=`` need structured inputs (remainder, fmod);
    tests/test_registry.py covers them.
    """
    return [
        entry
        for name, entry in sorted(dualad.REGISTRY.items())
        if isinstance(entry, Primitive) and entry.elementwise and entry.nin in (1, 2)
        and not name.startswith("user_")
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


def _jax_partials(name: str, diff: tuple[int, ...], leading: int, flat: list):
    """Partial derivatives of ``jnp.<name>`` (first output) at the PAD points of ``flat``."""
    fn = getattr(jnp, name)

    def first(*xs):
        out = fn(*xs)
        return out[0] if isinstance(out, tuple) else out

    argnums = tuple(leading + i for i in diff)
    return _compiled(("partials", name, diff, leading),
                     lambda: jax.vmap(jax.jacfwd(first, argnums=argnums)), *flat)


def _reference_jacobians(entry, leading, arrays, diff):
    """Full Jacobians ``out.shape + x_i.shape`` for the arguments ``diff``."""
    out_shape = np.broadcast_shapes(*(np.shape(a) for a in leading + arrays))
    size = int(np.prod(out_shape, dtype=int))
    flat = [np.resize(np.broadcast_to(a, out_shape).ravel(), PAD) for a in leading + arrays]
    every = _differentiable_args(entry)  # one compilation serves every choice of diff
    partials = dict(zip(every, _jax_partials(entry.name, every, len(leading), flat),
                        strict=True))
    jacobians = []
    for i in diff:
        shape = np.shape(arrays[i])
        n_in = int(np.prod(shape, dtype=int))
        source = np.broadcast_to(np.arange(n_in).reshape(shape), out_shape).ravel()
        jac = np.zeros((size, n_in))
        jac[np.arange(size), source] = np.asarray(partials[i])[:size]
        jacobians.append(jac.reshape(out_shape + shape))
    return tuple(jacobians)


def _check_elementwise(entry, leading, arrays, diff, chunk_size):
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
    value, _ = dualad.jvp(f, chosen, tuple(np.ones_like(a, dtype=float) for a in chosen))
    np.testing.assert_allclose(value, call(*arrays), rtol=1e-12, atol=1e-12,
                               err_msg=f"{entry.name}: primal")
    actual = dualad.jacfwd(f, argnums=tuple(range(len(diff))), chunk_size=chunk_size)(*chosen)
    expected = _reference_jacobians(entry, leading, arrays, diff)
    assert len(actual) == len(expected)
    for i, a, e in zip(diff, actual, expected, strict=True):
        assert np.shape(a) == e.shape, f"{entry.name}: Jacobian shape for argument {i}"
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol,
                                   err_msg=f"{entry.name} d/dx{i} chunk_size={chunk_size}")


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
    _check_elementwise(entry, leading, arrays, _differentiable_args(entry), chunk_size)


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
    _check_elementwise(entry, leading, arrays, diff, chunk_size)


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


def _jax_rows(name: str, ddof: int, rows):
    """``jax.vmap(jax.jacfwd(jnp.<name>))`` over the rows of ``rows`` (compiled per shape)."""
    red = getattr(jnp, name)
    kwargs = {"ddof": ddof} if name in WITH_DDOF else {}
    return _compiled(("rows", name, ddof, rows.shape),
                     lambda: jax.vmap(jax.jacfwd(lambda v: red(v, **kwargs))), rows)


def _rows_padded(x2d):
    """Pad the rows to a fixed count (repeating values), so one compilation serves all M."""
    m, r = x2d.shape
    pad = 32 if m <= 32 else m
    return np.resize(x2d, (pad, r)), m


def _reduce_reference(name, x, axes, keepdims, ddof):
    """Jacobian of reducing ``x`` over the sorted non-negative ``axes``."""
    shape, d = x.shape, x.ndim
    kept = tuple(a for a in range(d) if a not in axes)
    perm = kept + tuple(axes)
    kept_shape = tuple(shape[a] for a in kept)
    red_shape = tuple(shape[a] for a in axes)
    m, r = int(np.prod(kept_shape, dtype=int)), int(np.prod(red_shape, dtype=int))
    rows, _ = _rows_padded(np.transpose(x, perm).reshape(m, r))
    grads = np.asarray(_jax_rows(name, ddof, rows))[:m]  # (m, r)
    blocks = np.zeros((m, m, r))
    blocks[np.arange(m), np.arange(m), :] = grads
    jac = blocks.reshape(kept_shape + kept_shape + red_shape)
    inverse = np.argsort(perm)
    nk = len(kept)
    jac = np.transpose(jac, tuple(range(nk)) + tuple(nk + int(inverse[j]) for j in range(d)))
    if keepdims:
        out_shape = tuple(1 if a in axes else shape[a] for a in range(d))
        jac = jac.reshape(out_shape + shape)
    return jac


def _cumulative_reference(name, x, axis):
    """Jacobian of ``np.<name>(x, axis)``; ``axis=None`` runs over the flattened array."""
    if axis is None:
        flat = x.reshape(1, -1)
        rows, _ = _rows_padded(flat)
        grads = np.asarray(_jax_rows(name, 0, rows))[0]
        return grads.reshape((x.size,) + x.shape)
    shape, d = x.shape, x.ndim
    kept = tuple(a for a in range(d) if a != axis)
    perm = kept + (axis,)
    m, r = int(np.prod([shape[a] for a in kept], dtype=int)), shape[axis]
    rows, _ = _rows_padded(np.transpose(x, perm).reshape(m, r))
    grads = np.asarray(_jax_rows(name, 0, rows))[:m]  # (m, r_out, r_in)
    blocks = np.zeros((m, r, m, r))
    blocks[np.arange(m), :, np.arange(m), :] = grads
    permuted = tuple(shape[a] for a in perm)
    jac = blocks.reshape(permuted + permuted)
    inverse = [int(i) for i in np.argsort(perm)]
    return np.transpose(jac, inverse + [d + i for i in inverse])


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
    entry = lookup(fn)
    assert entry is not None, f"np.{name} is not registered in dualad"
    return fn, entry


def _reductions(kind):
    return [
        pytest.param(name, marks=pytest.mark.skipif(
            name in OPTIONAL and lookup(fn) is None, reason=f"np.{name} is not registered"))
        for name, (fn, k) in REDUCTIONS.items() if k == kind
    ]


@pytest.mark.parametrize("name", _reductions("reduce"))
@given(data=st.data(), seed=SEEDS, chunk_size=CHUNK_SIZES, keepdims=st.booleans(),
       method=st.booleans(), ddof=st.sampled_from([0, 1]))
def test_reduction_matches_jax(name, data, seed, chunk_size, keepdims, method, ddof):
    """Reductions over None / int / negative / tuple axes, with and without keepdims."""
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
    actual = dualad.jacfwd(f, chunk_size=chunk_size)(x)
    expected = _reduce_reference(name, x, axes, keepdims, ddof)
    assert np.shape(actual) == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9,
                               err_msg=f"np.{name}(**{kwargs}) chunk_size={chunk_size}")


@pytest.mark.parametrize("name", _reductions("cumulative"))
@given(data=st.data(), seed=SEEDS, chunk_size=CHUNK_SIZES, method=st.booleans())
def test_cumulative_matches_jax(name, data, seed, chunk_size, method):
    """Cumulative sums/products along an int (possibly negative) axis or the flat array."""
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
    actual = dualad.jacfwd(f, chunk_size=chunk_size)(x)
    expected = _cumulative_reference(name, x, None if axis is None else axis % x.ndim)
    assert np.shape(actual) == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=1e-9,
                               err_msg=f"np.{name}(axis={axis}) chunk_size={chunk_size}")
