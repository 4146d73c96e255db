"""``dualad.compile`` of random programs: compiled derivatives equal eager ones, bit for bit.

The programs are those of ``tests/test_programs.py`` (DAGs of registered primitives with
broadcasting, reductions, matmul, reshapes, indexing, joins and ``where``), whose derivatives
that file checks against JAX. Here ``grad`` of their weighted sum, ``jvp``, ``jacfwd`` (with a
drawn chunk size), ``jacrev`` and ``hessian`` are compiled, called at one point to record and
at a second point to replay, and compared with the eager transforms at each point: the same
bits (``assert_same_bits``). The programs take no decision on values, so the second call
must replay the first recording.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

import dualad

from .test_compile_registry import assert_same_bits
from .test_programs import CHUNK_SIZES, _weighted_sum, programs


def _transforms(program, weights, chunk_size):
    """name -> (function, how its arguments are made from a point and a generator)."""
    n = len(program.input_shapes)
    argnums = tuple(range(n))
    f = lambda *xs: program.run(np, xs)  # noqa: E731
    scalar = lambda *xs: _weighted_sum(np, f(*xs), weights)  # noqa: E731

    def with_tangents(xs, rng):
        return (*xs, *(rng.standard_normal(np.shape(x)) for x in xs))

    def alone(xs, rng):
        return xs

    return {
        "grad": (dualad.grad(scalar, argnums=argnums), alone),
        "jvp": (lambda *a: dualad.jvp(f, a[:n], a[n:]), with_tangents),
        "jacfwd": (dualad.jacfwd(f, argnums=argnums, chunk_size=chunk_size), alone),
        "jacrev": (dualad.jacrev(f, argnums=argnums), alone),
        "hessian": (dualad.hessian(scalar, argnums=argnums), alone),
    }


@given(program=programs(), chunk_size=CHUNK_SIZES, seed=st.integers(0, 2**32 - 1))
def test_compiled_programs_equal_eager(program, chunk_size, seed):
    """Each compiled transform gives the eager transform's bits at the recording point and
    at a second point, from one recording."""
    rng = np.random.default_rng(seed)
    points = [tuple(rng.uniform(-2, 2, size=s) for s in program.input_shapes)
              for _ in range(2)]
    weights = tuple(rng.uniform(-1, 1, size=np.shape(v))
                    for v in program.run(np, points[0]))
    for name, (fun, make_args) in _transforms(program, weights, chunk_size).items():
        compiled = dualad.compile(fun)
        for number, xs in enumerate(points):
            args = make_args(xs, np.random.default_rng([seed, number]))
            assert_same_bits(compiled(*args), fun(*args), f"{name}, call {number + 1}")
        note(f"{name}: {compiled.program.n_ops} operations")
        assert compiled.recordings == 1, f"{name} recorded {compiled.recordings} times"
