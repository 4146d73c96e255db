"""``dualad.compile`` over the registry walk: compiled results equal eager ones, bit for bit.

For every example of every registered primitive and composite (the walk of
``tests/test_registry.py``, with its inputs), these functions are compiled: the primal
function, ``jvp`` (primals and tangents in), ``vjp``'s pullback applied to a cotangent,
``jacfwd``, ``jacrev`` and, for the examples with a second order, ``hessian``. Each is
called twice: once to record, then at a *second point* of the example's domain (other
inputs, tangents and cotangents), where the replay must give exactly what the eager
transform gives at that point: a value baked into the program would show. (The few
examples made at fixed points, a singular matrix or a kink, have the same point twice.) The
second call must replay the first recording, unless the function took a decision on values
(the first program holds guards, one of which failed); it then records again and must still
equal the eager result. The walk runs again with the float inputs in float32, to first order.

Equality is bitwise (the bytes of each leaf, its class, dtype and shape), with no ulp
allowed: the program runs the same NumPy calls on the same values in the same order as the
eager call (buffer reuse writes a ufunc's result with ``out=``, which changes no bits). The
derivatives themselves are checked against JAX by ``tests/test_registry.py``; this file
checks that compiling changes nothing.
"""

from __future__ import annotations

import contextlib
import zlib

import numpy as np
import pytest

import dualad

from .test_dtypes import _float32
from .test_registry import CASES, _inputs


def _leaves(tree):
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _random_like(tree, rng):
    """Random values with the structure, shapes and dtypes (float or complex) of ``tree``."""
    if isinstance(tree, (tuple, list)):
        items = [_random_like(item, rng) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    a = np.asarray(tree)
    values = rng.standard_normal(a.shape)
    if a.dtype.kind == "c":
        return (values + 1j * rng.standard_normal(a.shape)).astype(a.dtype)
    return values.astype(a.dtype) if a.dtype.kind == "f" else values


def _transforms(f, n, second_order=False):
    """The functions compiled, each with how to make its arguments at a point."""
    argnums = tuple(range(n))

    def with_tangents(xs, rng):
        return (*xs, *(_random_like(x, rng) for x in xs))

    def with_cotangent(xs, rng):
        return (*xs, _random_like(f(*xs), rng))

    transforms = {
        "primal": (f, lambda xs, rng: xs),
        "jvp": (lambda *a: dualad.jvp(f, a[:n], a[n:]), with_tangents),
        "vjp": (lambda *a: dualad.vjp(f, *a[:n])[1](a[n]), with_cotangent),
        "jacfwd": (dualad.jacfwd(f, argnums=argnums), lambda xs, rng: xs),
        "jacrev": (dualad.jacrev(f, argnums=argnums), lambda xs, rng: xs),
    }
    if second_order:
        transforms["hessian"] = (dualad.hessian(f, argnums=argnums), lambda xs, rng: xs)
    return transforms


def assert_same_bits(actual, expected, what):
    """The same tree of values: each leaf of the same class, dtype and shape, and the same
    bytes (nan payloads and the sign of zero included)."""
    actual_leaves, expected_leaves = _leaves(actual), _leaves(expected)
    assert len(actual_leaves) == len(expected_leaves), f"{what}: structure differs"
    assert type(actual) is type(expected), f"{what}: {type(actual)} != {type(expected)}"
    for k, (a, e) in enumerate(zip(actual_leaves, expected_leaves)):
        where = f"{what}, leaf {k}"
        assert type(a) is type(e), f"{where}: {type(a).__name__} != {type(e).__name__}"
        a, e = np.asarray(a), np.asarray(e)
        assert (a.dtype, a.shape) == (e.dtype, e.shape), \
            f"{where}: {a.dtype}{a.shape} != {e.dtype}{e.shape}"
        if a.tobytes() != e.tobytes():
            np.testing.assert_array_equal(a, e, err_msg=where)
            raise AssertionError(f"{where}: equal values, other bits (signed zeros or nans)")


def _outcome(fun, args):
    """``fun(*args)``, or the exception it raised (compared by class)."""
    try:
        return fun(*args), None
    except Exception as exc:  # noqa: BLE001 - dualad's refusals and NumPy's alike
        return None, exc


def check_compiled(fun, make_args, points, rngs, what):
    """Compile ``fun``, call it at each point, compare with the eager call there."""
    compiled = dualad.compile(fun)
    first_program, shapes = None, []
    for number, (xs, rng) in enumerate(zip(points, rngs)):
        args = make_args(xs, rng)
        shapes.append([np.shape(leaf) for leaf in _leaves(args)])
        expected, refused = _outcome(fun, args)
        if refused is not None:  # the eager call raises: so must the compiled one
            with pytest.raises(type(refused)):
                compiled(*args)
            return
        assert_same_bits(compiled(*args), expected, f"{what}, call {number + 1}")
        if first_program is None:
            first_program = compiled.program
    # the replay reused the recording; or the function took a decision on values (a guard
    # failed at the second point), or the arguments changed shape (the cotangent of a
    # result whose shape depends on values), and it recorded again
    decided = any(op.kind == "guard" for op in first_program.ops)
    assert compiled.recordings == 1 or compiled.recordings == 2 and (
        decided or shapes[0] != shapes[1]), \
        f"{what}: recorded {compiled.recordings} times, with no decision on values"


def _points(entry, i, cast=lambda a: a):
    """The example's inputs (those of ``tests/test_registry.py``) and a second point."""
    example, first = _inputs(entry, i)
    rng = np.random.default_rng(zlib.crc32(f"again-{entry.name}-{i}".encode()))
    return example, tuple(map(cast, first)), tuple(map(cast, example.arrays(rng, entry.domain)))


def _walk(entry, i, example, points, second_order, what):
    f = lambda *xs: example.call(np, *xs)  # noqa: E731
    for kind, (fun, make_args) in _transforms(f, len(points[0]), second_order).items():
        rngs = [np.random.default_rng(zlib.crc32(f"{kind}-{n}-{entry.name}-{i}".encode()))
                for n in range(2)]
        check_compiled(fun, make_args, points, rngs, f"{entry.name}-{i} {what}{kind}")


@pytest.mark.parametrize("entry, i", CASES)
def test_compiled_equals_eager(entry, i):
    example, first, second = _points(entry, i)
    _walk(entry, i, example, (first, second), example.second_order, "")


FLOAT32_CASES = [case for case in CASES
                 if any(np.asarray(a).dtype == np.float64 for a in _inputs(*case.values)[1])]


@pytest.mark.parametrize("entry, i", FLOAT32_CASES)
def test_compiled_equals_eager_in_float32(entry, i):
    """The same walk with the float inputs in float32 (as ``tests/test_dtypes.py`` casts
    them), to first order: other loops, casts and promotions."""
    example, first, second = _points(entry, i, _float32)
    _walk(entry, i, example, (first, second), False, "float32 ")


@contextlib.contextmanager
def blocks_of(length):
    """With ``length`` > 0, every stretch of elementwise operations of the programs built
    inside replayed block by block, whatever its size, in blocks of ``length`` elements
    (the default settings with 0)."""
    from dualad.compiling import blocks

    kept = blocks.SETTINGS
    if length:
        blocks.SETTINGS = blocks.Settings(min_bytes=0, min_ops=1, block=length)
    try:
        yield
    finally:
        blocks.SETTINGS = kept


@pytest.mark.parametrize("entry, i", CASES)
def test_compiled_block_by_block_equals_eager(entry, i):
    """The walk, to first order, with the elementwise stretches of every program replayed
    block by block (:mod:`dualad.compiling.blocks`) in blocks of one to three elements, the
    lengths that split the examples' arrays most unevenly: still bit for bit."""
    example, first, second = _points(entry, i)
    with blocks_of(1 + zlib.crc32(entry.name.encode()) % 3):
        _walk(entry, i, example, (first, second), False, "block by block ")
