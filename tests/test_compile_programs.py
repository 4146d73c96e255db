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
import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

import dualad

from . import test_mutation_programs as mutation
from .test_compile_registry import assert_same_bits, blocks_of
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


@given(program=programs(), chunk_size=CHUNK_SIZES, seed=st.integers(0, 2**32 - 1),
       block=st.sampled_from([0, 1, 2, 3]))
def test_compiled_programs_equal_eager(program, chunk_size, seed, block):
    """Each compiled transform gives the eager transform's bits at the recording point and
    at a second point, from one recording; with ``block``, its elementwise stretches are
    replayed block by block, in blocks of that many elements."""
    rng = np.random.default_rng(seed)
    points = [tuple(rng.uniform(-2, 2, size=s) for s in program.input_shapes)
              for _ in range(2)]
    weights = tuple(rng.uniform(-1, 1, size=np.shape(v))
                    for v in program.run(np, points[0]))
    for name, (fun, make_args) in _transforms(program, weights, chunk_size).items():
        compiled = dualad.compile(fun)
        for number, xs in enumerate(points):
            args = make_args(xs, np.random.default_rng([seed, number]))
            with blocks_of(block):
                replayed = compiled(*args)
            assert_same_bits(replayed, fun(*args), f"{name}, call {number + 1}")
        note(f"{name}: {compiled.program.n_ops} operations")
        assert compiled.recordings == 1, f"{name} recorded {compiled.recordings} times"


# cheap (no JAX): three times the profile's examples
@settings(max_examples=settings.default.max_examples * 3)
@given(n=st.sampled_from([2, 3]), program=st.lists(mutation.statement, min_size=1, max_size=8),
       seed=st.integers(0, 2**32 - 1), block=st.sampled_from([0, 1, 2]))
@example(n=2, program=[("view", 0, 0, "np.swapaxes(x, 0, 1)"), ("inplace", 0, 0, "*=tanh")],
         seed=0, block=1)  # reads x after an update through its view: raises, compiled too
def test_compiled_mutation_programs_equal_eager(n, program, seed, block):
    """The programs of ``tests/test_mutation_programs.py`` (in-place updates, aliases, copies,
    views): compiled, the function itself, ``value_and_grad``, ``jvp`` and ``jacfwd`` give the
    eager bits at two points, or raise where the eager call raises (an array NumPy would have
    changed through a view is read); with ``block``, replayed block by block."""
    rng = np.random.default_rng(seed)
    points = [rng.uniform(-1.0, 1.0, (n, n)) for _ in range(2)]
    f = lambda x: mutation.output(np, mutation.run(program, x, np), [0.7, 1.3, 0.9, 1.1])  # noqa: E731
    transforms = {
        "function": (f, lambda x: (x,)),
        "value_and_grad": (dualad.value_and_grad(f), lambda x: (x,)),
        "jvp": (lambda x, v: dualad.jvp(f, (x,), (v,)), lambda x: (x, np.cos(x))),
        "jacfwd": (dualad.jacfwd(f, chunk_size=2), lambda x: (x,)),
    }
    for name, (fun, make_args) in transforms.items():
        compiled = dualad.compile(fun)
        for number, x in enumerate(points):
            args = make_args(x)  # copied for each call: the function writes into x
            try:
                expected = fun(*(a.copy() for a in args))
            except dualad.UnsupportedPrimitiveError as refused:
                with pytest.raises(type(refused), match="out of date"):
                    compiled(*(a.copy() for a in args))
                break
            with blocks_of(block):
                replayed = compiled(*(a.copy() for a in args))
            assert_same_bits(replayed, expected, f"{name}, call {number + 1}")
        assert compiled.recordings <= 1, f"{name} recorded {compiled.recordings} times"


# --------------------------------------------------------------------------- beyond the walks
# Cases the registry walk and the random programs do not reach, each a way a compiled
# function could differ from the eager one.


def test_a_traced_slice_bound_is_a_decision_the_program_checks():
    """``x[:n]`` with a traced ``n`` makes a shape from n's value: the program checks n
    (it records again for another n, or raises with strict=True)."""

    def f(x, n):
        return np.sum(x[:n] ** 2)

    x = np.linspace(-1.0, 2.0, 6)
    for transform in (dualad.grad, dualad.jacrev, dualad.jacfwd):
        compiled = dualad.compile(transform(f))
        for n in (3, 5, 3):
            expected = np.where(np.arange(6) < n, 2.0 * x, 0.0)  # d/dx sum(x[:n]**2)
            assert_same_bits(compiled(x, np.int64(n)), transform(f)(x, np.int64(n)), f"n={n}")
            np.testing.assert_array_equal(compiled(x, np.int64(n)), expected)
        assert compiled.recordings == 2
    strict = dualad.compile(dualad.grad(f), strict=True)
    strict(x, np.int64(3))
    with pytest.raises(dualad.GuardError, match="index"):
        strict(x, np.int64(4))


@pytest.mark.parametrize("f", [
    lambda x: x[0] * x[1],
    lambda x: abs(x[0]) + x[1],
    lambda x: np.sum(x) ** 0.3,
    lambda x: np.multiply(x[0], x[1]) - np.power(x[1], 2),
    lambda x: x ** 2 + x ** -1 + x ** 0.5 + x ** 2.0 + np.power(x, 2),
], ids=["scalar-product", "scalar-abs", "scalar-power", "scalar-ufuncs", "array-powers"])
def test_compiled_arithmetic_is_numpys_own(f):
    """NumPy's scalar arithmetic (complex products and absolute values, powers) and
    ndarray's ``**`` (np.square, np.reciprocal, np.sqrt for some exponents) differ from the
    ufuncs in the last bit: recorded and replayed, each is what the eager call computes."""
    rng = np.random.default_rng(7)
    compiled = dualad.compile(f)
    for _ in range(50):
        x = rng.standard_normal(3) + 1j * rng.standard_normal(3)
        assert_same_bits(compiled(x), f(x), "complex, replayed")
        assert_same_bits(dualad.compile(f)(x), f(x), "complex, recorded")
        y = rng.uniform(0.1, 3.0, 3)
        assert_same_bits(dualad.compile(f)(y), f(y), "real, recorded")
    assert compiled.recordings == 1


def test_a_result_real_or_complex_by_value_is_checked():
    """np.linalg.eigvals is real for a matrix with real eigenvalues, complex otherwise: the
    program checks which, and records again when it changes."""
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    diagonal = np.array([[2.0, 0.0], [0.0, 3.0]])
    f = lambda a: np.linalg.eigvals(a) * 2.0  # noqa: E731
    compiled = dualad.compile(f)
    for a in (rotation, diagonal, rotation):
        assert_same_bits(compiled(a), f(a), "eigvals")
    assert compiled.recordings == 2
    strict = dualad.compile(f, strict=True)
    strict(rotation)
    with pytest.raises(dualad.GuardError):
        strict(diagonal)


def test_a_constant_keeps_its_memory_layout():
    """A plain array the function reads is kept as a copy with its layout (here the
    transpose of a C-ordered matrix, F-ordered): BLAS takes another path, with other bits,
    for another layout."""
    rng = np.random.default_rng(3)
    transposed = rng.standard_normal((7, 7)).T
    f = lambda x: np.matmul(x, transposed)  # noqa: E731
    compiled = dualad.compile(f)
    for _ in range(20):
        x = rng.standard_normal((1, 7))
        assert_same_bits(compiled(x), f(x), "x @ c.T")
    assert compiled.recordings == 1


def _scipy_cases():
    import scipy.special

    from dualad.scipy import optimize, special, stats

    return {
        "logsumexp": lambda a: special.logsumexp(a, axis=1),
        "logsumexp(b=)": lambda a: special.logsumexp(a, b=np.abs(a) + 0.5),
        "softmax": lambda a: special.softmax(a, axis=0),
        "log_softmax": lambda a: special.log_softmax(a),
        "polygamma": lambda a: special.polygamma(1, np.abs(a) + 0.5),
        "multigammaln": lambda a: special.multigammaln(np.abs(a) + 3.0, 2),
        "rosen": lambda a: optimize.rosen(a.ravel()),
        "norm.logpdf": lambda a: stats.norm.logpdf(a, loc=0.3, scale=1.5),
        "norm.cdf": lambda a: stats.norm.cdf(a),
        "gamma.logpdf": lambda a: stats.gamma.logpdf(np.abs(a) + 0.5, 2.0),
        "t.logpdf": lambda a: stats.t.logpdf(a, 3.0),
        "gammaln": lambda a: scipy.special.gammaln(np.abs(a) + 0.5),
    }


@pytest.mark.parametrize("name", sorted(_scipy_cases()))
def test_compiled_scipy_functions_equal_eager(name):
    """dualad.scipy's functions (and scipy.special's ufuncs), which take plain and traced
    arrays alike: the function, jacfwd, jacrev and the Hessian of its sum, compiled."""
    f = _scipy_cases()[name]
    rng = np.random.default_rng(11)
    points = [rng.normal(size=(3, 4)) for _ in range(3)]
    for transform in (lambda f: f, dualad.jacfwd, dualad.jacrev,
                      lambda f: dualad.hessian(lambda a: np.sum(f(a)))):
        fun = transform(f)
        compiled = dualad.compile(fun)
        for number, x in enumerate(points):
            assert_same_bits(compiled(x), fun(x), f"{name}, call {number + 1}")
        assert compiled.recordings == 1


def test_scipys_own_code_is_refused_naming_it():
    """scipy.integrate.odeint (under dualad.scipy's odeint) runs SciPy's compiled solver on
    plain numbers: dualad.compile cannot record it and says where to call it instead."""
    from dualad.scipy import integrate

    def f(k):
        return integrate.odeint(lambda y, t, k: -k * y, np.array([1.0]), np.linspace(0, 1, 3),
                                args=(k,))[-1]

    assert np.allclose(dualad.jacfwd(f)(np.array([0.5])), -np.exp(-0.5))  # d/dk e^-k
    with pytest.raises(dualad.CompileError, match="scipy.integrate.odeint .* outside the "
                                                  "compiled function"):
        dualad.compile(dualad.jacfwd(f))(np.array([0.5]))


def test_what_the_caller_changes_after_vjp_or_linearize_is_not_what_they_read():
    """vjp and linearize hand out copies of the primal results (and the tape keeps copies of
    index arrays): an in-place update of them by the caller leaves the pullback alone,
    compiled as eagerly (d/dx exp = exp, the tape's copy of it)."""

    def pulled(x, u):
        out, pullback = dualad.vjp(np.exp, x)
        out += 1.0
        return out, pullback(u)

    def pushed(x, v):
        out, f_jvp = dualad.linearize(np.exp, x)
        out += 1.0
        return out, f_jvp(v)

    def gathered(x, u):
        index = np.argsort(x)
        _, pullback = dualad.vjp(lambda x: x[index], x)
        index[0] = index[1]
        return pullback(u)

    x, u = np.array([0.3, 1.0, -0.5]), np.array([1.0, 10.0, 100.0])
    for f, expected in ((pulled, (np.exp(x) + 1.0, (u * np.exp(x),))),
                        (pushed, (np.exp(x) + 1.0, u * np.exp(x))),
                        (gathered, (np.array([10.0, 100.0, 1.0]),))):
        compiled = dualad.compile(f)
        for _ in range(2):
            assert_same_bits(compiled(x, u), f(x, u), f.__name__)
            assert_same_bits(compiled(x, u), expected, f.__name__)


@pytest.mark.parametrize("name, transform, f, shapes", [
    ("grad of var of a transpose", dualad.grad, lambda x: np.sin(np.var(x.T)), [(2, 2)]),
    ("jacfwd of a sum of a broadcast quotient", lambda f: dualad.jacfwd(f, argnums=(0, 1)),
     lambda a, b: np.sum(b[np.array([0, 0])] / a), [(2,), (1, 1)]),
    ("jacrev of a matmul of a transpose", lambda f: dualad.jacrev(f, argnums=(0,)),
     lambda x: (x.T @ x, np.sin(np.var(np.sin(x.T)))), [(2, 2)]),
], ids=lambda value: value if isinstance(value, str) else "")
def test_the_layouts_a_sum_reads_are_eagers(name, transform, f, shapes):
    """The engines' copies, in-place sums and broadcasts give arrays of the same layout
    compiled as eagerly: the order of a sum's additions (and BLAS's path) follows it."""
    g = transform(f)
    for seed in range(40):
        rng = np.random.default_rng(seed)
        args = [rng.uniform(-2, 2, s) for s in shapes]
        assert_same_bits(dualad.compile(g)(*args), g(*args), f"{name}, seed {seed}")
