"""Every registered primitive and composite, cross-checked with JAX (or finite differences).

The test walks ``dualad.REGISTRY``: a new primitive cannot escape it, and one without
examples fails ``test_every_primitive_has_examples``. For each example, in float64:

* the primal equals NumPy's own result;
* ``jacfwd`` (all directions in one pass, and in chunks of 1 and 2 directions, so that k is
  both equal to and different from the array sizes) equals ``jax.jacfwd`` of the
  ``jax.numpy`` twin;
* second order: ``jacfwd(jacfwd)`` equals JAX's forward-over-forward Hessian (or central
  differences of the first derivative where JAX has no twin), for every example not marked
  ``second_order=False`` (which the example's comment explains).
"""

from __future__ import annotations

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
    if example.finite_differences:
        expected = central_differences(f, arrays)
    else:
        expected = jax_jacobians(example.reference or example.call, arrays)
    for chunk_size in (None, 1, 2):
        actual = dualad.jacfwd(f, argnums=argnums, chunk_size=chunk_size)(*arrays)
        _assert_tree_close(actual, expected, example, f"{entry.name} chunk_size={chunk_size}")


SECOND_ORDER_CASES = [case for case in CASES
                      if case.values[0].examples[case.values[1]].second_order]


@pytest.mark.parametrize("entry, i", SECOND_ORDER_CASES)
def test_second_order_matches_reference(entry, i):
    example, arrays = _inputs(entry, i)
    argnums = tuple(range(len(arrays)))
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    actual = dualad.jacfwd(dualad.jacfwd(f, argnums=argnums), argnums=argnums)(*arrays)
    if example.finite_differences:  # differences of the (separately checked) first derivative
        for a, row in enumerate(actual):
            first = lambda *xs, a=a: dualad.jacfwd(f, argnums=argnums)(*xs)[a]  # noqa: E731
            _assert_tree_close(row, central_differences(first, arrays), example,
                               f"{entry.name} second order")
        return
    expected = jax_hessians(example.reference or example.call, arrays)
    _assert_tree_close(actual, expected, example, f"{entry.name} second order")
