"""float32 in, float32 out: every registered primitive and composite, in both modes.

The walk takes each declaration's examples from the registry (as tests/test_registry.py
does), casts their floating-point inputs to float32 (integer and boolean inputs, such as
index arrays, stay as they are) and checks dtypes only; the values are cross-checked with JAX
in float64 by tests/test_registry.py. For every example:

* the primal that ``jvp`` and ``vjp`` return has NumPy's own result dtype for the float32
  inputs (NumPy is the reference: ``np.sin`` of float32 is float32, float32 with an int64
  array is float64);
* every tangent (``jvp``, and ``jacfwd``) has the dtype of the output it belongs to;
* every cotangent (``vjp``) has the dtype of the input it belongs to, for an output
  cotangent of the output's dtype: a float32 input gets a float32 gradient, where NumPy
  computes in float32 throughout, and also where NumPy promotes the result to float64
  (a float64 constant, ``np.float_power``): the reverse engine casts each contribution to
  its input's dtype, as JAX does;
* second derivatives (``jacfwd`` of ``jacfwd``, ``hessian``) of float32 functions are
  float32.

A rule that forms a factor in float64 (a Python float made into an array, ``np.where(m,
1.0, 0.0)``, ``np.eye(n)``) promotes the whole derivative; this walk finds it.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import dualad

WALK = [
    pytest.param(entry, i, id=f"{name}-{i}")
    for name, entry in sorted(dualad.REGISTRY.items())
    if entry.builtin
    for i in range(len(entry.examples))
]


def _float32(a):
    """``a`` in float32 if it is a float64 array or number; other inputs as they are."""
    a = np.asarray(a) if isinstance(a, float) else a
    if isinstance(a, np.ndarray) and a.dtype == np.float64:
        return a.astype(np.float32)
    return a


def _inputs(entry, i):
    example = entry.examples[i]
    rng = np.random.default_rng(zlib.crc32(f"{entry.name}-{i}".encode()))
    return example, tuple(_float32(a) for a in example.arrays(rng, entry.domain))


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _dtype(x):
    return np.asarray(x).dtype if not hasattr(x, "dtype") else np.dtype(x.dtype)


def _like(tree, rng):
    """Random arrays with the structure, shapes and (float) dtypes of ``tree``."""
    if isinstance(tree, (tuple, list)):
        items = [_like(item, rng) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    dtype = _dtype(tree) if _dtype(tree).kind == "f" else np.float64
    return rng.standard_normal(np.shape(tree)).astype(dtype)


def _problems(entry, i):
    """What ``entry``'s example ``i`` gets wrong about dtypes in float32, and whether NumPy
    computes it in float32 throughout (its float outputs are float32)."""
    example, arrays = _inputs(entry, i)
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    expected = [_dtype(leaf) for leaf in _leaves(f(*arrays))]
    single = all(d == np.float32 for d in expected if d.kind == "f")
    rng = np.random.default_rng(zlib.crc32(f"dtype-{entry.name}-{i}".encode()))
    problems, cotangent_problems = [], []

    def check(found, what, leaves, dtypes):
        got = [_dtype(leaf) for leaf in leaves]
        if got != list(dtypes):
            found.append(f"{what}: {[str(d) for d in got]}, expected {[str(d) for d in dtypes]}")

    tangents = tuple(rng.standard_normal(np.shape(a)).astype(_dtype(a)) if _dtype(a).kind == "f"
                     else np.zeros(np.shape(a)) for a in arrays)
    out, tangent = dualad.jvp(f, arrays, tangents)
    check(problems, "jvp primal", _leaves(out), expected)
    check(problems, "jvp tangent", _leaves(tangent), expected)
    argnums = tuple(range(len(arrays)))
    check(problems, "jacfwd", _leaves(dualad.jacfwd(f, argnums=argnums)(*arrays)),
          [d for d in expected for _ in arrays])

    out, pullback = dualad.vjp(f, *arrays)
    check(problems, "vjp primal", _leaves(out), expected)
    floats = [n for n, a in enumerate(arrays) if _dtype(a).kind == "f"]
    cotangents = pullback(_like(out, rng))
    check(cotangent_problems, "vjp cotangent", [cotangents[n] for n in floats],
          [_dtype(arrays[n]) for n in floats])

    if single and example.second_order and len(floats) == len(arrays):
        # rules differentiated again: forward over forward, forward over reverse
        for what, second in (("jacfwd(jacfwd)", dualad.jacfwd(dualad.jacfwd(
                f, argnums=argnums), argnums=argnums)), ("hessian", dualad.hessian(
                f, argnums=argnums))):
            leaves = _leaves(second(*arrays))
            check(problems, what, leaves, [np.dtype(np.float32)] * len(leaves))
    return single, problems, cotangent_problems


@pytest.mark.parametrize("entry, i", WALK)
def test_float32_in_float32_out(entry, i):
    """NumPy's result dtypes for primals and tangents; a float32 input's dtype for its
    cotangent where NumPy computes in float32 throughout."""
    example, arrays = _inputs(entry, i)
    if not any(_dtype(a) == np.float32 for a in arrays):
        pytest.skip("no floating-point input")
    single, problems, cotangent_problems = _problems(entry, i)
    if single:
        problems += cotangent_problems
    assert not problems, f"{entry.name} example {i}: " + "; ".join(problems)


def test_float32_inputs_get_float32_cotangents_from_float64_outputs():
    """A float32 input's cotangent is float32 even where NumPy promotes the result to
    float64, as in JAX (forward mode already casts each tangent to its output's dtype)."""
    mixed, failing = 0, []
    for entry, i in (case.values for case in WALK):
        single, _, cotangent_problems = _problems(entry, i)
        if not single:
            mixed += 1
            failing += [f"{entry.name}-{i}: {p}" for p in cotangent_problems]
    assert mixed, "the walk has examples that mix float32 inputs with float64 constants"
    assert not failing, f"{len(failing)} of {mixed}: " + "; ".join(failing)
