"""Dask arrays as inputs: every transform keeps them Dask arrays (tangents, cotangents and
results), computes nothing until the caller does, and gives NumPy's numbers; a function
Dask cannot compute raises an error that names it, before anything is computed."""

from __future__ import annotations

import warnings

import dask
import dask.array as da
import numpy as np
import pytest

import dualad

from .test_registry import CASES, _inputs
from .test_sparsity import _joined


@pytest.fixture
def executions():
    """The number of Dask graph executions while the test runs (a counting scheduler)."""
    count = [0]

    def counting(graph, keys, **kwargs):
        count[0] += 1
        return dask.get(graph, keys, **kwargs)

    with dask.config.set(scheduler=counting):
        yield count


def model(x):
    h = np.tanh(x[:, :3] @ W + x[:, 3:4])
    return np.sum(h * np.exp(-x[:, 1:2] ** 2), axis=1) + np.mean(x, axis=1)


W = np.linspace(-1.0, 1.0, 6).reshape(3, 2)


def _lazy(n=8, chunks=4, seed=0):
    values = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 4))
    return da.from_array(values, chunks=(chunks, 4)), values


def _computed(tree):
    leaves = tree if isinstance(tree, tuple) else (tree,)
    assert all(isinstance(leaf, da.Array) for leaf in leaves), [type(t) for t in leaves]
    return tuple(leaf.compute() for leaf in leaves)


def test_every_transform_keeps_dask_arrays_lazy(executions):
    x, xn = _lazy()
    v = da.ones_like(x)
    loss = lambda x: np.sum(model(x) ** 2)  # noqa: E731
    flat_loss = lambda z: loss(z.reshape(8, 4))  # noqa: E731
    results = {
        "jvp": (dualad.jvp(model, (x,), (v,)), dualad.jvp(model, (xn,), (np.ones_like(xn),))),
        "vjp": (dualad.vjp(model, x)[1](da.ones(8, chunks=4)),
                dualad.vjp(model, xn)[1](np.ones(8))),
        "grad": (dualad.grad(loss)(x), dualad.grad(loss)(xn)),
        "value_and_grad": (dualad.value_and_grad(loss)(x), dualad.value_and_grad(loss)(xn)),
        "hvp": (dualad.hvp(loss, (x,), (v,)), dualad.hvp(loss, (xn,), (np.ones_like(xn),))),
        "linearize": (dualad.linearize(model, x)[1](v),
                      dualad.linearize(model, xn)[1](np.ones_like(xn))),
        "jacfwd": (dualad.jacfwd(model, chunk_size=5)(x), dualad.jacfwd(model)(xn)),
        "jacrev": (dualad.jacrev(model, chunk_size=3)(x), dualad.jacrev(model)(xn)),
        "hessian": (dualad.hessian(flat_loss)(x.reshape(-1)),
                    dualad.hessian(flat_loss)(xn.ravel())),
    }
    assert executions[0] == 0  # nothing computed by the transforms
    for name, (lazy, eager) in results.items():
        eager = eager if isinstance(eager, tuple) else (eager,)
        for got, expected in zip(_computed(lazy), eager):
            np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15, err_msg=name)
    assert executions[0] == sum(len(r[0]) if isinstance(r[0], tuple) else 1
                                for r in results.values())


def test_a_function_dask_lacks_raises_naming_it_before_computing(executions):
    x, _ = _lazy()
    with pytest.raises(dualad.UnsupportedPrimitiveError, match=r"np\.linalg\.eigh of dask"):
        dualad.grad(lambda x: np.sum(np.linalg.eigh(x.T @ x)[0]))(x)
    with pytest.raises(dualad.UnsupportedPrimitiveError, match=r"np\.linalg\.solve of dask"):
        dualad.jvp(lambda x: np.linalg.solve(x[:4], x[4:]), (x,), (da.ones_like(x),))
    assert executions[0] == 0


DASK_OWN = {("pad", 4), ("pad", 5), ("einsum", 5), ("einsum", 6), ("einsum", 7)}
"""Examples Dask itself computes differently from NumPy or not at all (``np.pad`` with
``reflect`` past the edge or ``reflect_type="odd"``; ``np.einsum`` with a repeated index):
checked to be so, which is Dask's and not dualad's."""


@pytest.mark.parametrize("entry, i", CASES)
def test_every_registry_example_on_dask_arrays(entry, i):
    """``jvp`` and ``vjp`` of each example on a Dask array (two chunks): NumPy's numbers, as
    Dask arrays, or an error naming the function Dask cannot compute as called."""
    example, arrays = _inputs(entry, i)
    g, point = _joined(example, arrays)
    z = point(arrays)
    if z is None or z.size == 0:
        return
    try:
        y, tangent = dualad.jvp(g, (z,), (np.linspace(-1.0, 1.0, z.size),))
        cotangent = np.cos(np.arange(np.size(y), dtype=float)).reshape(np.shape(y))
        (pulled,) = dualad.vjp(g, z)[1](cotangent)
    except dualad.DualadError:
        return  # (the registry walk checks what NumPy's arrays raise)
    lazy = da.from_array(z, chunks=max(1, z.size // 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if (entry.name, i) in DASK_OWN:
            try:
                differs = not np.allclose(np.asarray(g(lazy)), g(z))
            except ValueError:
                differs = True
            assert differs, "Dask computes this example as NumPy does now"
            return
    try:
        y_lazy, tangent_lazy = dualad.jvp(g, (lazy,), (da.from_array(
            np.linspace(-1.0, 1.0, z.size), chunks=lazy.chunks),))
        (pulled_lazy,) = dualad.vjp(g, lazy)[1](
            da.from_array(cotangent) if np.ndim(cotangent) else cotangent)
    except dualad.UnsupportedPrimitiveError as error:
        assert "dask" in str(error)
        return
    assert isinstance(pulled_lazy, da.Array)
    assert type(tangent_lazy) is type(y_lazy)  # a constant result may be NumPy's
    for got, expected in ((y_lazy, y), (tangent_lazy, tangent), (pulled_lazy, pulled)):
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)


def test_on_a_cluster_of_worker_processes():
    """jvp and grad of a chunked workload computed by a dask.distributed cluster of two
    worker processes (the graphs dualad builds travel to them)."""
    from dask.distributed import Client, LocalCluster

    def f(x):
        return np.exp(-x) * np.sin(x) + x[::-1] * 0.5

    x = da.linspace(0.1, 1.0, 10_000, chunks=2_500)
    xn = x.compute()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        _, tangent = dualad.jvp(f, (x,), (da.ones_like(x),))
        gradient = dualad.grad(lambda x: np.sum(f(x) ** 2))(x)
        np.testing.assert_allclose(tangent.compute(),
                                   dualad.jvp(f, (xn,), (np.ones_like(xn),))[1], rtol=1e-13)
        np.testing.assert_allclose(gradient.compute(),
                                   dualad.grad(lambda x: np.sum(f(x) ** 2))(xn), rtol=1e-13)


def test_cotangents_are_dask_arrays_chunked_as_their_inputs(executions):
    """A sum's cotangent broadcast back (from a seed of one element) is chunked as the
    summed array: one chunk of the whole array would be computed in memory at once."""
    x = da.linspace(0.0, 1.0, 1000, chunks=100)
    for loss in (lambda x: np.sum(x * 2.0), lambda x: np.sum(np.sin(x)),
                 lambda x: np.mean(x.reshape(10, 100) ** 2)):
        gradient = dualad.grad(loss)(x)
        assert isinstance(gradient, da.Array) and gradient.chunks == x.chunks
    assert executions[0] == 0
    np.testing.assert_allclose(gradient.compute(), 2 * x.compute() / 1000, rtol=1e-13)


@pytest.mark.parametrize("name, f", [
    ("convolve", lambda x: np.convolve(x, np.array([0.5, -1.0, 2.0]), "same")),
    ("correlate", lambda x: np.correlate(x[:5], x[3:], "full")),
    ("a new axis", lambda x: x[:, None] * x[None, ::2]),
    ("np.diag", lambda x: np.diag(x[:4])),
    ("np.linalg.diagonal", lambda x: np.linalg.diagonal(np.outer(x, x[:6]), offset=1)),
    ("concatenate, axis=None", lambda x: np.concatenate([x[:4].reshape(2, 2), x], axis=None)),
])
def test_paths_dualad_chose_for_dask_stay_dask(executions, name, f):
    """Composites and rules written with what Dask computes (a gather by one flat index, a
    write without new axes, np.diagonal): both modes stay lazy and give NumPy's numbers. The
    registry walk accepts an error naming Dask, so these pin that they do not raise one."""
    xn = np.linspace(-1.0, 1.0, 10)
    x = da.from_array(xn, chunks=5)
    v = np.cos(np.arange(10.0))
    (y, tangent), gradient = (dualad.jvp(f, (x,), (da.from_array(v, chunks=5),)),
                              dualad.grad(lambda x: np.sum(np.sin(f(x))))(x))
    assert executions[0] == 0
    assert all(isinstance(a, da.Array) for a in (y, tangent, gradient)), name
    np.testing.assert_allclose(tangent.compute(), dualad.jvp(f, (xn,), (v,))[1], rtol=1e-13)
    np.testing.assert_allclose(gradient.compute(),
                               dualad.grad(lambda x: np.sum(np.sin(f(x))))(xn), rtol=1e-13)
