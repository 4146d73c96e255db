"""Sparsity patterns against the nonzeros of dense Jacobians and Hessians.

A pattern that misses a structural nonzero is a silently wrong sparse Jacobian, so every
registered primitive and composite is checked: for each example of the registry walk (the
inputs of ``tests/test_registry.py``), the function of all its float inputs (flattened and
joined) gets a global pattern, which must cover the nonzeros of the dense Jacobian at the
example's point and at a second point of its domain, and a local pattern at the first point,
which must cover the Jacobian's nonzeros there and lie within the global pattern. The dense
Jacobians are ``dualad.jacfwd``'s, which ``tests/test_registry.py`` checks against JAX.
Patterns of known closed forms (banded, block, arrow) are checked exactly, and the random
programs of ``tests/test_programs.py`` like the registry's examples.
"""

from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

import dualad

from .test_programs import programs
from .test_registry import CASES, _inputs


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _joined(example, arrays):
    """``g(z)``: the example's function of its float inputs, flattened and joined into
    ``z``, returning its float results flattened and joined; and ``z`` at ``arrays``."""
    floats = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    shapes = [np.shape(arrays[i]) for i in floats]
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]

    def g(z):
        xs = list(arrays)
        start = 0
        for i, shape, size in zip(floats, shapes, sizes):
            xs[i] = z[start:start + size].reshape(shape)
            start += size
        out = [o for o in _leaves(example.call(np, *xs)) if _kind(dualad.primal(o)) in "fc"]
        return np.concatenate([np.ravel(o) for o in out])

    def point(values):
        return np.concatenate([np.ravel(values[i]) for i in floats]) if floats else None

    return g, point


def _kind(value):
    """The dtype kind of an array (of any library: without converting it) or a number."""
    return value.dtype.kind if hasattr(value, "dtype") else np.asarray(value).dtype.kind


def _covers(pattern, jacobian, what):
    nonzero = np.asarray(jacobian) != 0
    assert pattern.shape == nonzero.shape, f"{what}: shape {pattern.shape} != {nonzero.shape}"
    missed = nonzero & ~pattern.toarray()
    assert not missed.any(), f"{what}: the pattern misses {np.argwhere(missed)[:5].tolist()}"


@pytest.mark.parametrize("entry, i", CASES)
def test_patterns_cover_the_jacobian(entry, i):
    example, arrays = _inputs(entry, i)
    g, point = _joined(example, arrays)
    z = point(arrays)
    rng = np.random.default_rng(zlib.crc32(f"sparsity-{entry.name}-{i}".encode()))
    z2 = point(example.arrays(rng, entry.domain))
    first = dualad.jacfwd(g)(z)
    local = dualad.jacobian_sparsity(g, z, local=True)
    _covers(local, first, "local pattern")
    if (entry.name, i) in SHAPE_FROM_VALUES:
        with pytest.raises(dualad.ValueDependentError, match="shape"):
            dualad.jacobian_sparsity(g, z)
        return
    pattern = dualad.jacobian_sparsity(g, z)
    second = dualad.jacfwd(g)(z2)
    _covers(pattern, first, "global pattern")
    _covers(pattern, second, "global pattern, second point")
    assert not (local.toarray() & ~pattern.toarray()).any(), "local beyond global"
    # one pass per colour, decompressed: the dense Jacobian of the same mode, whose
    # directions are the colours' split apart
    for mode, dense in (("forward", second), ("reverse", dualad.jacrev(g)(z2))):
        sparse = dualad.SparseJacobian(g, z, sparsity=pattern, mode=mode)(z2)
        np.testing.assert_allclose(sparse.toarray(), dense, rtol=1e-12, atol=0,
                                   err_msg=f"sparse jacobian, {mode} mode")


@pytest.mark.parametrize("entry, i", [case for case in CASES
                                      if _inputs(*case.values)[0].second_order])
def test_hessian_patterns_cover_the_hessian(entry, i):
    """A weighted sum of each example's results: the global Hessian pattern (the pairs each
    primitive makes interact) covers the nonzeros of the dense Hessian at the example's
    point and at a second one, or raises where the result's shape follows the values."""
    example, arrays = _inputs(entry, i)
    g, point = _joined(example, arrays)
    z = point(arrays)
    rng = np.random.default_rng(zlib.crc32(f"hessian-{entry.name}-{i}".encode()))
    z2 = point(example.arrays(rng, entry.domain))
    out = g(z)
    weights = rng.uniform(-1.0, 1.0, np.shape(out))
    scalar = lambda z: np.real(np.sum(weights * g(z)))  # noqa: E731
    if (entry.name, i) in SHAPE_FROM_VALUES:
        with pytest.raises(dualad.ValueDependentError):
            dualad.hessian_sparsity(scalar, z)
        return
    pattern = dualad.hessian_sparsity(scalar, z)
    for at in (z, z2):
        _covers(pattern, dualad.hessian(scalar)(at), "hessian pattern")


SHAPE_FROM_VALUES = frozenset((("getitem", 11), ("where", 5), ("extract", 0), ("unique", 0),
                               ("unique", 1), ("unique", 2)))
"""Examples whose result's shape depends on their input's values (a mask computed from
them): there is no global pattern, and jacobian_sparsity raises ValueDependentError."""


# --------------------------------------------------------------------------- closed forms


def _dense(pattern):
    return pattern.toarray().astype(int)


def test_a_diffusion_residual_is_tridiagonal():
    def residual(u):
        r = np.zeros_like(u)
        r[1:-1] = u[:-2] - 2.0 * u[1:-1] + u[2:]
        r[0], r[-1] = u[0], u[-1]  # Dirichlet rows
        return r

    n = 7
    expected = np.eye(n, dtype=int)
    for i in range(1, n - 1):
        expected[i, i - 1:i + 2] = 1
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(residual, np.ones(n))),
                                  expected)


def _laplacian(u, N):
    """The five-point Laplacian of ``u`` on an N x N grid with zeros around it."""
    u = u.reshape(N, N)
    padded = np.pad(u, 1)
    return (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
            - 4.0 * u).ravel()


def test_a_laplacian_on_a_grid_is_a_five_point_stencil():
    N = 4
    laplacian = lambda u: _laplacian(u, N)  # noqa: E731

    expected = np.zeros((N * N, N * N), dtype=int)
    for i in range(N):
        for j in range(N):
            for di, dj in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= i + di < N and 0 <= j + dj < N:
                    expected[i * N + j, (i + di) * N + j + dj] = 1
    np.testing.assert_array_equal(
        _dense(dualad.jacobian_sparsity(laplacian, np.ones(N * N))), expected)


def test_an_arrow_and_its_hessian():
    def arrow(x):  # every residual couples with x[0]; the last one sums everything
        return np.concatenate([x[1:] * x[0], [np.sum(x ** 2)]])

    n = 5
    expected = np.zeros((n, n), dtype=int)
    expected[:n - 1, 0] = 1
    expected[np.arange(n - 1), np.arange(1, n)] = 1
    expected[n - 1] = 1
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(arrow, np.ones(n))),
                                  expected)

    def energy(x):
        return x[0] * np.sum(x[1:]) + np.sum(np.sin(x[2:]))

    hessian = np.zeros((n, n), dtype=int)
    hessian[0, 1:] = hessian[1:, 0] = 1
    hessian[np.arange(2, n), np.arange(2, n)] = 1
    np.testing.assert_array_equal(_dense(dualad.hessian_sparsity(energy, np.ones(n))),
                                  hessian)


def test_hessian_patterns_of_products_and_piecewise_linear_functions():
    n = 6
    band = np.eye(n) * 2.0 - np.eye(n, k=1) - np.eye(n, k=-1)  # a constant: its zeros hold
    expected = (band != 0).astype(int)
    for quadratic in (lambda x: x @ band @ x, lambda x: np.dot(x, np.dot(band, x)),
                      lambda x: np.inner(band @ x, x), lambda x: np.sum(x * (band @ x))):
        np.testing.assert_array_equal(
            _dense(dualad.hessian_sparsity(quadratic, np.ones(n))), expected)
    linear = lambda x: np.sum(np.maximum(np.abs(x), 1.0) + np.fft.fft(x).real)  # noqa: E731
    assert dualad.hessian_sparsity(linear, np.ones(n)).nnz == 0
    batched = lambda x: np.sum(x[:4].reshape(2, 1, 2) @ x[2:].reshape(2, 2, 1))  # noqa: E731
    np.testing.assert_array_equal(  # x0 x2 + x1 x3 and x2 x4 + x3 x5
        np.argwhere(_dense(dualad.hessian_sparsity(batched, np.ones(n)))),
        [[0, 2], [1, 3], [2, 0], [2, 4], [3, 1], [3, 5], [4, 2], [5, 3]])
    reference = jax.hessian(lambda x: jnp.sum(x[:4].reshape(2, 1, 2) @ x[2:].reshape(2, 2, 1)))
    np.testing.assert_array_equal(np.argwhere(np.asarray(reference(jnp.arange(1.0, 7.0)))),
                                  [[0, 2], [1, 3], [2, 0], [2, 4], [3, 1], [3, 5], [4, 2],
                                   [5, 3]])


def test_a_function_deciding_on_values_makes_every_pair_of_its_inputs_interact():
    f = lambda x: np.median(x[:3]) + x[3] * x[4]  # noqa: E731
    expected = np.zeros((5, 5), dtype=int)
    expected[:3, :3] = 1
    expected[3, 4] = expected[4, 3] = 1
    np.testing.assert_array_equal(_dense(dualad.hessian_sparsity(f, np.ones(5))), expected)
    with pytest.raises(dualad.NonScalarOutputError, match="one scalar output"):
        dualad.hessian_sparsity(lambda x: x ** 2, np.ones(3))


def test_a_constant_matrix_keeps_its_zeros():
    W = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    pattern = dualad.jacobian_sparsity(lambda x: W @ np.sin(x), np.ones(3))
    np.testing.assert_array_equal(_dense(pattern), (W != 0).astype(int))
    pattern = dualad.jacobian_sparsity(lambda x: np.sin(x) @ W.T, np.ones(3))
    np.testing.assert_array_equal(_dense(pattern), (W != 0).astype(int))


def test_a_factor_computed_from_the_input_keeps_no_zeros():
    # np.floor(x) has no derivative, but its zeros move with x: not structural
    f = lambda x: (np.floor(x) * np.eye(3)) @ x  # noqa: E731
    x = np.array([0.5, 1.5, 0.2])  # floor: 0, 1, 0
    pattern = dualad.jacobian_sparsity(f, x)
    assert pattern.toarray().diagonal().all()
    for z in (x, x[::-1] + 1.0):
        _covers(pattern, dualad.jacfwd(f)(z), f"at {z}")
    assert not dualad.jacobian_sparsity(f, x, local=True).toarray()[0, 0]


def test_local_patterns_follow_the_branch_taken():
    def f(x):
        return np.where(x[:2] > 0.0, x[:2], x[2:]) + np.maximum(x[:2], 0.0)

    x = np.array([1.0, -1.0, 5.0, 5.0])
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(f, x)),
                                  [[1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(f, x, local=True)),
                                  [[1, 0, 0, 0], [0, 0, 0, 1]])


def test_decisions_on_values_have_no_global_pattern():
    def branches(x):
        return np.sin(x) if x[0] > 0 else np.cos(x[::-1])

    with pytest.raises(dualad.ValueDependentError, match="local=True"):
        dualad.jacobian_sparsity(branches, np.ones(3))
    np.testing.assert_array_equal(
        _dense(dualad.jacobian_sparsity(branches, np.ones(3), local=True)), np.eye(3))
    with pytest.raises(dualad.ValueDependentError, match="boolean mask"):
        dualad.jacobian_sparsity(lambda x: x[x > 0], np.ones(3))


def _set_at_the_two_smallest(x):
    y = x * 1.0
    y[np.argsort(x)[:2]] = 0.0
    return y


@pytest.mark.parametrize("name, f", [
    ("x[argmax]", lambda x: x[np.argmax(x)] * np.ones(2)),
    ("np.take", lambda x: np.take(x, np.argsort(x))),
    ("x[argsort]", lambda x: x[np.argsort(x)]),
    ("np.take_along_axis", lambda x: np.take_along_axis(x, np.argsort(x), 0)),
    ("x[i] = 0", _set_at_the_two_smallest),
    ("np.bincount", lambda x: np.bincount(np.argsort(x), weights=x, minlength=4)),
    ("np.choose", lambda x: np.choose(np.argsort(x) % 2, [x, x[::-1]])),
    ("np.where", lambda x: np.where(x > 1.0, x, x[::-1])),
    ("np.select", lambda x: np.select([x > 1.0], [x[::-1]], 0.0)),
    ("a loop over indices", lambda x: np.stack([x[i] for i in np.argsort(x)])),
    ("an ndarray method", lambda x: x[np.argsort(x).argmax()] * np.ones(2)),
    ("an element as index", lambda x: x[np.argsort(x)[0]] * np.ones(2)),
])
def test_indices_and_conditions_from_values_hold_at_every_order(name, f):
    # the pattern holds at every point: here, for every order of the values (an index array
    # or a condition computed from them must not pass for a constant, whichever operand
    # NumPy hands the call to first)
    x = np.array([3.0, 1.0, 2.0, 0.5])
    pattern = dualad.jacobian_sparsity(f, x)
    rng = np.random.default_rng(0)
    for _ in range(24):
        z = rng.permutation(x) + rng.normal(0.0, 0.01, 4)
        _covers(pattern, np.atleast_2d(dualad.jacfwd(f)(z)), f"{name} at {z}")


def test_an_index_computed_from_values_moves_anything_anywhere():
    # sorted, the first element may be any input: globally every output depends on all
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(np.sort, x)),
                                  np.ones((3, 3), dtype=int))
    np.testing.assert_array_equal(_dense(dualad.jacobian_sparsity(np.sort, x, local=True)),
                                  [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


# --------------------------------------------------------------------------- colours, values


def _banded(n, width):
    return sum(np.eye(n, k=k, dtype=bool) for k in range(-width, width + 1)).astype(bool)


@pytest.mark.parametrize("width", [0, 1, 2, 5])
def test_banded_patterns_take_the_optimal_number_of_colours(width):
    from dualad.sparsity.colouring import column_colours, row_colours

    pattern = _banded(40, width)
    assert column_colours(pattern).max() + 1 == 2 * width + 1  # the bandwidth + 1
    assert row_colours(pattern).max() + 1 == 2 * width + 1


def _check_colouring(pattern, colours):
    """Columns of one colour share no row."""
    dense = np.asarray(pattern.toarray() if hasattr(pattern, "toarray") else pattern)
    for c in range(colours.max() + 1):
        assert dense[:, colours == c].sum(axis=1).max() <= 1


def test_a_grid_and_an_arrow_take_few_colours_in_the_cheaper_mode():
    N = 8
    laplacian = lambda u: _laplacian(u, N) + u ** 3  # noqa: E731

    x = np.linspace(0.1, 0.9, N * N)
    jacobian = dualad.SparseJacobian(laplacian, x)
    _check_colouring(jacobian.pattern, jacobian.colouring)
    assert jacobian.mode == "forward" and jacobian.colours <= 8
    np.testing.assert_allclose(jacobian(x).toarray(), dualad.jacfwd(laplacian)(x), rtol=1e-13)

    def arrow(x):  # the last residual meets every input: reverse mode, two colours
        return np.concatenate([x[:-1] ** 2, [np.sum(x)]])

    x = np.linspace(1.0, 2.0, 30)
    jacobian = dualad.SparseJacobian(arrow, x)
    assert (jacobian.mode, jacobian.colours) == ("reverse", 2)
    np.testing.assert_allclose(jacobian(x).toarray(), dualad.jacfwd(arrow)(x), rtol=1e-13)
    forward = dualad.SparseJacobian(arrow, x, mode="forward")
    assert forward.colours == 30
    np.testing.assert_allclose(forward(x).toarray(), dualad.jacfwd(arrow)(x), rtol=1e-13)


def test_a_prepared_jacobian_at_many_points_and_a_given_pattern():
    def residual(u):
        return u[:-2] - 2.0 * u[1:-1] + u[2:] + np.sin(u[1:-1])

    jacobian = dualad.SparseJacobian(residual, np.zeros(50))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal(50)
        np.testing.assert_allclose(jacobian(x).toarray(), dualad.jacfwd(residual)(x),
                                   rtol=1e-13)
    given = dualad.sparse_jacobian(residual, x, sparsity=jacobian.pattern.toarray())
    np.testing.assert_array_equal(given.toarray(), jacobian(x).toarray())
    with pytest.raises(dualad.ShapeMismatchError, match="sparsity has shape"):
        dualad.SparseJacobian(residual, x, sparsity=np.ones((48, 49), dtype=bool))
    with pytest.raises(dualad.ShapeMismatchError, match="prepared for inputs of shape"):
        jacobian(np.zeros(51))
    with pytest.raises(dualad.InvalidArgumentError, match="mode"):
        dualad.SparseJacobian(residual, x, mode="sideways")


@pytest.mark.parametrize("group_bytes", [8, 1 << 20])  # a pass per colour; one pass
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_compiled_jacobian_values_are_the_eager_ones(monkeypatch, mode, group_bytes):
    from dualad.sparsity import jacobians

    monkeypatch.setattr(jacobians, "GROUP_BYTES", group_bytes)

    def residual(u):  # a tridiagonal block and a dense last row
        return np.concatenate([u[:-2] - 2.0 * u[1:-1] + u[2:] * np.sin(u[1:-1]),
                               [np.sum(u ** 2)]])

    rng = np.random.default_rng(1)
    jacobian = dualad.SparseJacobian(residual, np.zeros(40), mode=mode)
    values = dualad.compile(jacobian.values)
    for _ in range(3):
        x = rng.standard_normal(40)
        np.testing.assert_array_equal(values(x), jacobian.values(x))
        np.testing.assert_array_equal(values(x), jacobian(x).data)
        np.testing.assert_allclose(jacobian(x).toarray(), dualad.jacfwd(residual)(x),
                                   rtol=1e-13)
    assert values.recordings == 1


def test_sparse_hessians_equal_dense_ones():
    def energy(x):
        return np.sum((x[1:] - x[:-1]) ** 2 * x[1:]) + x[0] * np.sum(np.cos(x))

    x = np.linspace(-1.0, 1.0, 12)
    expected = dualad.hessian(energy)(x)
    np.testing.assert_allclose(dualad.sparse_hessian(energy, x).toarray(), expected,
                               rtol=1e-12, atol=1e-14)
    pattern = dualad.hessian_sparsity(energy, x)
    assert not (np.abs(expected) > 0)[~pattern.toarray()].any()
    # tridiagonal plus a dense first row and column: the star colouring uses the symmetry
    from dualad.sparsity.colouring import column_colours, star_colours

    assert star_colours(pattern).max() + 1 <= 4 < 12 == column_colours(pattern).max() + 1


# --------------------------------------------------------------------------- random programs


@given(program=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_patterns_and_sparse_jacobians(program, seed):
    """The random programs of ``tests/test_programs.py`` (broadcasting, reductions, matmul,
    reshapes, indexing, joins, ``where``) as a function of their inputs joined: the global
    pattern covers the Jacobian's nonzeros at two points, and the sparse Jacobians (both
    modes) equal the dense ones of the same mode."""
    rng = np.random.default_rng(seed)
    shapes = program.input_shapes
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]

    def g(z):
        parts = np.split(z, np.cumsum(sizes)[:-1])
        out = program.run(np, tuple(p.reshape(s) for p, s in zip(parts, shapes)))
        return np.concatenate([np.ravel(o) for o in out])

    points = [rng.uniform(-2, 2, sum(sizes)) for _ in range(2)]
    pattern = dualad.jacobian_sparsity(g, points[0])
    for z in points:
        _covers(pattern, dualad.jacfwd(g)(z), "global pattern")
    for mode, dense in (("forward", dualad.jacfwd(g)(points[1])),
                        ("reverse", dualad.jacrev(g)(points[1]))):
        sparse = dualad.SparseJacobian(g, points[0], sparsity=pattern, mode=mode)(points[1])
        np.testing.assert_allclose(sparse.toarray(), dense, rtol=1e-12, atol=0,
                                   err_msg=f"sparse jacobian, {mode} mode")


# --------------------------------------------------------------------------- star colouring


def _is_star_colouring(adjacency, colours):
    """Adjacent indices differ, and no path on four indices takes two colours (brute force)."""
    n = len(colours)
    edges = [(i, j) for i in range(n) for j in range(n) if i != j and adjacency[i, j]]
    if any(colours[i] == colours[j] for i, j in edges):
        return False
    neighbours = [[j for j in range(n) if j != i and adjacency[i, j]] for i in range(n)]
    for a in range(n):
        for b in neighbours[a]:
            for c in neighbours[b]:
                if c == a:
                    continue
                for d in neighbours[c]:
                    if d not in (a, b) and colours[a] == colours[c] and colours[b] == colours[d]:
                        return False
    return True


@given(n=st.integers(1, 10), density=st.floats(0.0, 0.6), seed=st.integers(0, 2**32 - 1))
def test_star_colourings_recover_every_symmetric_matrix(n, density, seed):
    from dualad.sparsity.colouring import (
        hub_star_colours,
        seeds,
        star_colours,
        star_decompress,
    )

    rng = np.random.default_rng(seed)
    upper = np.triu(rng.uniform(size=(n, n)) < density, 1)
    hubs = rng.uniform(size=n) < 0.2  # dense rows and columns, as in an arrow
    upper[hubs] = True
    upper = np.triu(upper | upper.T, 1)
    pattern = upper | upper.T | np.eye(n, dtype=bool)
    values = np.where(pattern, rng.standard_normal((n, n)), 0.0)
    symmetric = np.triu(values) + np.triu(values, 1).T
    for colouring in (star_colours, hub_star_colours):
        colours = colouring(pattern)
        assert _is_star_colouring(pattern, colours), colouring.__name__
        compressed = symmetric @ seeds(colours).T  # H S, one column per colour
        np.testing.assert_array_equal(
            star_decompress(pattern, colours, compressed).toarray(), symmetric)


def test_sparse_hessians_beyond_the_greedy_star_colouring():
    """An arrow plus a chain of springs with more unknowns than the greedy star colouring
    takes: 4 passes (the hub and the chain's 3) against the closed form."""
    from dualad.sparsity.jacobians import STAR_MAX_N

    n = STAR_MAX_N + 7
    energy = lambda x: x[0] * np.sum(x[1:]) + np.sum((x[1:] - x[:-1]) ** 2)  # noqa: E731
    x = np.linspace(0.0, 1.0, n)
    chain = np.zeros(n)
    chain[:-1] += 2.0
    chain[1:] += 2.0
    expected = scipy.sparse.diags_array([-2.0 * np.ones(n - 1), chain, -2.0 * np.ones(n - 1)],
                                        offsets=[-1, 0, 1]).tolil()
    expected[0, 1:] = expected[1:, 0] = np.r_[-1.0, np.ones(n - 2)]
    hessian = dualad.sparse_hessian(energy, x)
    assert abs(hessian - expected.tocsr()).max() < 1e-12
    from dualad.sparsity.colouring import hub_star_colours

    assert hub_star_colours(dualad.hessian_sparsity(energy, x)).max() + 1 == 4


@given(program=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_programs_sparse_hessians(program, seed):
    """The sparse Hessian (star colouring, forward over reverse) of a weighted sum of a
    random program's results equals dualad's dense Hessian, which tests/test_programs.py
    checks against JAX."""
    rng = np.random.default_rng(seed)
    shapes = program.input_shapes
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]

    def results(z):
        parts = np.split(z, np.cumsum(sizes)[:-1])
        return program.run(np, tuple(p.reshape(s) for p, s in zip(parts, shapes)))

    z = rng.uniform(-2, 2, sum(sizes))
    weights = [rng.uniform(-1, 1, np.shape(o)) for o in results(z)]

    def scalar(z):
        return sum(np.sum(w * o) for w, o in zip(weights, results(z)))

    dense = dualad.hessian(scalar)(z)
    pattern = dualad.hessian_sparsity(scalar, z)
    _covers(pattern, dense, "hessian pattern")
    scale = max(1.0, float(np.abs(dense).max()))
    np.testing.assert_allclose(dualad.sparse_hessian(scalar, z).toarray(), dense, rtol=1e-12,
                               atol=1e-14 * scale)
