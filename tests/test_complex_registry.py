"""Every registry entry that takes complex values, walked with complex inputs.

A primitive or composite declared with ``complex_rules`` (its own or its family's) promises
NumPy's values and correct derivatives for complex arguments; every other entry must raise
for them. This walk holds each entry to that, so that a new primitive cannot take complex
values untested. For each example of an entry, its float inputs get an imaginary part, and
where NumPy itself computes the function on them:

* dualad either raises one of its errors (a real-only primitive inside refuses), or
* its value equals NumPy's, its ``jvp`` along a random complex direction equals central
  differences of NumPy's function along that direction (the derivative is R-linear, so the
  directional derivative is the reference for holomorphic and other functions alike), and
  its ``vjp`` is the transpose of its ``jvp`` under JAX's pairing ``Re(sum(u * v))``.
"""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import dualad
from dualad.registry import load_optional_families

load_optional_families()

CASES = [
    pytest.param(name, i, id=f"{name}-{i}")
    for name, entry in sorted(dualad.REGISTRY.items())
    if entry.builtin
    for i in range(len(entry.examples))
]


def _complex_inputs(entry, i):
    example = entry.examples[i]
    rng = np.random.default_rng(zlib.crc32(f"complex {entry.name}-{i}".encode()))
    arrays = example.arrays(rng, entry.domain)
    made = tuple(
        a + 0.3j * rng.uniform(-1, 1, np.shape(a)) if np.asarray(a).dtype.kind == "f" else a
        for a in arrays)
    return example, made, rng


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for part in out for leaf in _leaves(part)]
    return [np.asarray(out)]


def _float_leaves(out):
    return [leaf for leaf in _leaves(out) if leaf.dtype.kind in "fc"]


@pytest.mark.parametrize("name, i", CASES)
def test_complex_values_are_right_or_refused(name, i):
    entry = dualad.REGISTRY[name]
    example, xs, rng = _complex_inputs(entry, i)
    if not any(np.asarray(x).dtype.kind == "c" for x in xs):
        return  # integer inputs only: nothing to make complex
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = f(*xs)
        except (TypeError, ValueError, np.linalg.LinAlgError):
            return  # NumPy does not compute this function of complex values
    complex_at = tuple(k for k, x in enumerate(xs) if np.asarray(x).dtype.kind == "c")
    directions = tuple(
        rng.standard_normal(np.shape(x)) + 1j * rng.standard_normal(np.shape(x))
        if k in complex_at else np.zeros(np.shape(x)) for k, x in enumerate(xs))
    g = lambda *zs: f(*(z if k in complex_at else xs[k] for k, z in enumerate(zs)))  # noqa: E731
    try:
        value, tangent = dualad.jvp(g, xs, directions)
    except dualad.DualadError:
        return  # refused, not silently wrong
    for ours, theirs in zip(_leaves(value), _leaves(expected), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}: value of complex inputs")
    tangents = _float_leaves(tangent)
    # (astype's example rounds to float32 on the way: differences have float32's error)
    if name != "astype" and all(leaf.dtype in (np.float64, np.complex128) for leaf in tangents):
        # where central differences converge (two steps agree), they are the reference; at
        # a kink (ties that the complex order breaks, the examples of max's ties) they are not
        coarse, fine = _differences(g, xs, directions, 1e-5), _differences(g, xs, directions, 1e-6)
        assert len(tangents) == len(fine), name
        for ours, near, nearer in zip(tangents, coarse, fine):
            scale = max(1.0, float(np.max(np.abs(nearer), initial=0.0)))
            smooth = np.isclose(near, nearer, rtol=1e-4, atol=1e-5 * scale)
            np.testing.assert_allclose(ours[smooth], nearer[smooth], rtol=1e-5,
                                       atol=1e-6 * scale,
                                       err_msg=f"{name}: jvp along a complex direction")
    # the transpose: Re(sum(u * J v)) == Re(sum(J^T u * v)) for every input
    _, pullback = dualad.vjp(g, *xs)
    cotangents = jax_like_cotangents(value, rng)
    pulled = pullback(cotangents)
    left = sum(np.real(np.sum(u * t)) for u, t in zip(_float_leaves(cotangents), tangents))
    right = sum(np.real(np.sum(p * d)) for p, d in zip(_leaves(pulled), directions))
    rtol = 1e-6 if name == "astype" else 1e-8  # (float32 on the way)
    assert np.isclose(left, right, rtol=rtol, atol=1e-10), f"{name}: vjp is not the transpose"


def _differences(g, xs, directions, h):
    plus = g(*(x + h * d for x, d in zip(xs, directions)))
    minus = g(*(x - h * d for x, d in zip(xs, directions)))
    return [(p - m) / (2 * h) for p, m in zip(_float_leaves(plus), _float_leaves(minus))]


def jax_like_cotangents(value, rng):
    """A random cotangent of ``value``'s structure and dtypes (zeros for integer leaves)."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(jax_like_cotangents(v, rng) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(jax_like_cotangents(v, rng) for v in value)
    v = np.asarray(value)
    if v.dtype.kind == "c":
        return rng.standard_normal(v.shape) + 1j * rng.standard_normal(v.shape)
    if v.dtype.kind == "f":
        return rng.standard_normal(v.shape)
    return np.zeros(v.shape)
