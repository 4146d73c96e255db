"""Random programs: DAGs of registered NumPy primitives, differentiated by dualad and by JAX.

A program is a list of operations on a pool of values: the inputs come first, and each
operation reads earlier values (by position) and appends its result. Operations cover
elementwise unary and binary functions (with broadcasting between operands of different
rank, and with constant operands), reductions with axis / keepdims, matmul, reshape,
transpose, indexing (basic, integer arrays, None), stack / concatenate and where. The same
program runs with ``numpy`` on dual and tape arrays and with ``jax.numpy``: the primal must
equal JAX's, ``dualad.jacfwd`` and ``dualad.jacrev`` (each with a drawn chunk size) must equal
``jax.jacfwd`` and ``jax.jacrev``, and for the scalar ``sum_k np.sum(w_k * out_k)`` of the
outputs (random weights, so that no structure cancels) ``dualad.grad`` and
``dualad.hessian`` must equal ``jax.grad`` and ``jax.hessian``. All of JAX's references for
one program come from one compilation.

Values stay in safe domains: logs only of 1 + x**2, exp only of tanh, divisions only by
1 + y**2; a value whose magnitude bound grows past ``BOUND`` is rescaled by a constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dualad
from dualad.registry import NUMPY_TABLE
from dualad.tape import TapeArray
from tests.reference import assert_tree_close

MAX_SIZE = 24  # elements per value, so Jacobians stay small
BOUND = 20.0  # magnitude bound above which a value is rescaled
MIN_OPS, MAX_OPS = 12, 16
CHUNK_SIZES = st.sampled_from([None, 1, 2, 3, 5])

UNARY = {  # name -> (call, magnitude bound from the input's bound)
    "sin": (lambda np_, x: np_.sin(x), lambda b: 1.0),
    "cos": (lambda np_, x: np_.cos(x), lambda b: 1.0),
    "tanh": (lambda np_, x: np_.tanh(x), lambda b: 1.0),
    "arctan": (lambda np_, x: np_.arctan(x), lambda b: 1.6),
    "log1p(x*x)": (lambda np_, x: np_.log1p(x * x), lambda b: np.log1p(b * b)),
    "sqrt(1+x**2)": (lambda np_, x: np_.sqrt(1.0 + x**2), lambda b: np.sqrt(1 + b * b)),
    "softplus": (lambda np_, x: np_.logaddexp(0.0, x), lambda b: b + 1.0),
    "sigmoid": (lambda np_, x: 1.0 / (1.0 + np_.exp(-x)), lambda b: 1.0),
    "exp(tanh)": (lambda np_, x: np_.exp(np_.tanh(x)), lambda b: np.e),
    "x/(1+x*x)": (lambda np_, x: x / (1.0 + np_.square(x)), lambda b: 0.5),
    "cbrt(1+x*x)": (lambda np_, x: np_.cbrt(1.0 + x * x), lambda b: np.cbrt(1 + b * b)),
    "-x": (lambda np_, x: -x, lambda b: b),
    "mean-centered": (lambda np_, x: x - np_.mean(x), lambda b: 2 * b),
}

BINARY = {
    "add": (lambda np_, x, y: x + y, lambda a, b: a + b),
    "subtract": (lambda np_, x, y: np_.subtract(x, y), lambda a, b: a + b),
    "multiply": (lambda np_, x, y: x * y, lambda a, b: a * b),
    "maximum": (lambda np_, x, y: np_.maximum(x, y), lambda a, b: max(a, b)),
    "minimum": (lambda np_, x, y: np_.minimum(x, y), lambda a, b: max(a, b)),
    "x/(1+y*y)": (lambda np_, x, y: x / (1.0 + y * y), lambda a, b: a),
    "logaddexp": (lambda np_, x, y: np_.logaddexp(x, y), lambda a, b: max(a, b) + 1.0),
    "where(x>y)": (lambda np_, x, y: np_.where(x > y, x, y * 0.5), lambda a, b: max(a, b)),
    "hypot(x,1+y*y)": (lambda np_, x, y: np_.hypot(x, 1.0 + y * y), lambda a, b: a + 1 + b * b),
}

REDUCTIONS = {  # name -> (call, bound from (bound, reduced size))
    "sum": (lambda np_, x, **kw: np_.sum(x, **kw), lambda b, n: n * b),
    "mean": (lambda np_, x, **kw: np_.mean(x, **kw), lambda b, n: b),
    "max": (lambda np_, x, **kw: np_.max(x, **kw), lambda b, n: b),
    "min": (lambda np_, x, **kw: x.min(**kw), lambda b, n: b),
    "prod": (lambda np_, x, **kw: np_.prod(x, **kw), lambda b, n: b**n),
    "var": (lambda np_, x, **kw: np_.var(x, **kw), lambda b, n: b * b),
}

# The NumPy functions the programs rely on; test_program_functions_are_registered names the
# missing ones instead of letting every program fail.
FUNCTIONS = (
    np.sin, np.cos, np.tanh, np.arctan, np.log1p, np.sqrt, np.logaddexp, np.exp, np.square,
    np.cbrt, np.negative, np.add, np.subtract, np.multiply, np.true_divide, np.power,
    np.maximum, np.minimum, np.hypot, np.where, np.sum, np.mean, np.max, np.min, np.prod,
    np.var, np.matmul, np.reshape, np.transpose, np.stack, np.concatenate, np.swapaxes,
    np.expand_dims,
)


@dataclass
class Op:
    text: str  # how the operation reads, for failure reports
    args: tuple[int, ...]
    call: object  # call(np_, *values) -> value

    def __repr__(self) -> str:
        return self.text


@dataclass
class Program:
    input_shapes: tuple[tuple[int, ...], ...]
    ops: list[Op] = field(default_factory=list)
    outputs: tuple[int, ...] = ()

    def run(self, np_, inputs):
        pool = list(inputs)
        for op in self.ops:
            pool.append(op.call(np_, *(pool[i] for i in op.args)))
        return tuple(pool[i] for i in self.outputs)

    def __repr__(self) -> str:
        n = len(self.input_shapes)
        lines = [f"v{i}: input of shape {s}" for i, s in enumerate(self.input_shapes)]
        lines += [f"v{n + k} = {op.text}" for k, op in enumerate(self.ops)]
        lines.append(f"return {tuple(f'v{i}' for i in self.outputs)}")
        return "Program:\n  " + "\n  ".join(lines)


def _shape_of(call, shapes):
    """The result shape of ``call`` on arrays of ``shapes``, or None if NumPy refuses."""
    try:
        out = call(np, *(np.full(s, 0.5) for s in shapes))
    except (ValueError, IndexError, TypeError):
        return None
    return np.shape(out)


_ADD = lambda np_, x, y: x + y  # noqa: E731
_MATMUL = lambda np_, x, y: x @ y  # noqa: E731


def _size(shape):
    return int(np.prod(shape, dtype=int))


@st.composite
def _pick(draw, count: int) -> int:
    """A pool index, usually one of the latest values, so that programs grow deep."""
    if draw(st.integers(0, 9)) < 6:
        return count - 1 - draw(st.integers(0, min(2, count - 1)))
    return draw(st.integers(0, count - 1))


@st.composite
def _axis(draw, ndim: int):
    kind = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


def _names(axis):
    return "" if axis is None else f"axis={axis}, "


@st.composite
def _op(draw, shapes: list, bounds: list, rng: np.random.Generator):
    """One operation on the pool (shapes and bounds of the values so far), or None."""
    count = len(shapes)
    i = draw(_pick(count))
    s, b = shapes[i], bounds[i]
    kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduce", "matmul",
                                 "shape", "index", "join"]))
    if kind == "unary":
        name = draw(st.sampled_from(list(UNARY)))
        fn, bound = UNARY[name]
        return Op(f"{name}(v{i})", (i,), fn), s, bound(b)
    if kind == "binary":
        name = draw(st.sampled_from(list(BINARY)))
        fn, bound = BINARY[name]
        partners = [j for j in range(count) if _shape_of(_ADD, (s, shapes[j])) is not None
                    and _size(np.broadcast_shapes(s, shapes[j])) <= MAX_SIZE]
        if draw(st.booleans()) and partners:
            j = draw(st.sampled_from(partners))
            out = np.broadcast_shapes(s, shapes[j])
            if draw(st.booleans()):
                return Op(f"{name}(v{i}, v{j})", (i, j), fn), out, bound(b, bounds[j])
            return Op(f"{name}(v{j}, v{i})", (j, i), fn), out, bound(bounds[j], b)
        # a constant operand of a trailing (lower-rank) shape
        cshape = s[draw(st.integers(0, len(s))):]
        c = rng.uniform(-1.5, 1.5, size=cshape)
        if draw(st.booleans()):
            return (Op(f"{name}(v{i}, const{cshape})", (i,), lambda np_, x: fn(np_, x, c)),
                    s, bound(b, 1.5))
        return (Op(f"{name}(const{cshape}, v{i})", (i,), lambda np_, x: fn(np_, c, x)),
                s, bound(1.5, b))
    if kind == "reduce":
        name = draw(st.sampled_from(list(REDUCTIONS)))
        fn, bound = REDUCTIONS[name]
        axis, keepdims = draw(_axis(len(s))), draw(st.booleans())
        call = lambda np_, x: fn(np_, x, axis=axis, keepdims=keepdims)  # noqa: E731
        out = _shape_of(call, (s,))
        reduced = max(1, _size(s) // max(1, _size(out)))
        return (Op(f"{name}(v{i}, {_names(axis)}keepdims={keepdims})", (i,), call), out,
                bound(b, reduced))
    if kind == "matmul":
        if not s:
            return None
        choices = [j for j in range(count) if shapes[j]
                   and _shape_of(_MATMUL, (s, shapes[j])) is not None
                   and _size(_shape_of(_MATMUL, (s, shapes[j]))) <= MAX_SIZE]
        if choices and draw(st.booleans()):
            j = draw(st.sampled_from(choices))
            n = s[-1]
            return (Op(f"v{i} @ v{j}", (i, j), lambda np_, x, y: x @ y),
                    _shape_of(_MATMUL, (s, shapes[j])), n * b * bounds[j])
        p = draw(st.integers(1, 3))
        if draw(st.booleans()) or len(s) == 1:
            c = rng.uniform(-1, 1, size=(s[-1], p) if draw(st.booleans()) else (s[-1],))
            out = _shape_of(_MATMUL, (s, c.shape))
            return (Op(f"matmul(v{i}, const{c.shape})", (i,),
                           lambda np_, x: np_.matmul(x, c)), out, s[-1] * b)
        c = rng.uniform(-1, 1, size=(p, s[-2]))
        out = _shape_of(_MATMUL, (c.shape, s))
        if out is None or _size(out) > MAX_SIZE:
            return None
        return Op(f"const{c.shape} @ v{i}", (i,), lambda np_, x: c @ x), out, s[-2] * b
    if kind == "shape":
        choice = draw(st.sampled_from(["reshape", "transpose", "T", "swapaxes", "expand_dims"]))
        if choice == "reshape":
            size = _size(s)
            first = draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
            new = draw(st.sampled_from([(size,), (first, -1), (-1, first), (first, 1, -1)]))
            call = (lambda np_, x: x.reshape(new)) if draw(st.booleans()) else (
                lambda np_, x: np_.reshape(x, new))
            return Op(f"reshape(v{i}, {new})", (i,), call), _shape_of(call, (s,)), b
        if choice == "transpose" and len(s) >= 2:
            axes = tuple(draw(st.permutations(range(len(s)))))
            call = lambda np_, x: np_.transpose(x, axes)  # noqa: E731
            return Op(f"transpose(v{i}, {axes})", (i,), call), _shape_of(call, (s,)), b
        if choice == "swapaxes" and len(s) >= 2:
            a1, a2 = draw(st.integers(-len(s), len(s) - 1)), draw(st.integers(0, len(s) - 1))
            call = lambda np_, x: np_.swapaxes(x, a1, a2)  # noqa: E731
            return Op(f"swapaxes(v{i}, {a1}, {a2})", (i,), call), _shape_of(call, (s,)), b
        if choice == "expand_dims":
            axis = draw(st.integers(-len(s) - 1, len(s)))
            call = lambda np_, x: np_.expand_dims(x, axis)  # noqa: E731
            return Op(f"expand_dims(v{i}, {axis})", (i,), call), _shape_of(call, (s,)), b
        return Op(f"v{i}.T", (i,), lambda np_, x: x.T), s[::-1], b
    if kind == "index":
        if not s:
            return Op(f"v{i}[None]", (i,), lambda np_, x: x[None]), (1,), b
        choice = draw(st.sampled_from(["reverse", "tail", "last", "take", "take2", "newaxis"]))
        if choice == "reverse":
            call = lambda np_, x: x[::-1]  # noqa: E731
            text = f"v{i}[::-1]"
        elif choice == "tail" and s[0] >= 2:
            call = lambda np_, x: x[1:]  # noqa: E731
            text = f"v{i}[1:]"
        elif choice == "last":
            k = draw(st.integers(-s[-1], s[-1] - 1))
            call = lambda np_, x: x[..., k]  # noqa: E731
            text = f"v{i}[..., {k}]"
        elif choice == "take2" and len(s) >= 2:
            idx = np.array(draw(st.lists(st.integers(0, s[1] - 1), min_size=1, max_size=4)))
            call = lambda np_, x: x[:, idx]  # noqa: E731
            text = f"v{i}[:, {idx.tolist()}]"
        elif choice == "newaxis":
            call = lambda np_, x: x[:, None]  # noqa: E731
            text = f"v{i}[:, None]"
        else:
            idx = np.array(draw(st.lists(st.integers(-s[0], s[0] - 1), min_size=1, max_size=4)))
            call = lambda np_, x: x[idx]  # noqa: E731
            text = f"v{i}[{idx.tolist()}]"
        out = _shape_of(call, (s,))
        if out is None or _size(out) > MAX_SIZE:
            return None
        return Op(text, (i,), call), out, b
    # join: stack or concatenate with a value of the same shape (possibly itself)
    partners = [j for j in range(count) if shapes[j] == s and 2 * _size(s) <= MAX_SIZE]
    if not partners:
        return None
    j = draw(st.sampled_from(partners))
    if s and draw(st.booleans()):
        axis = draw(st.integers(-len(s), len(s) - 1))
        call = lambda np_, x, y: np_.concatenate([x, y], axis=axis)  # noqa: E731
        text = f"concatenate([v{i}, v{j}], axis={axis})"
    else:
        axis = draw(st.integers(-len(s) - 1, len(s)))
        call = lambda np_, x, y: np_.stack((x, y), axis=axis)  # noqa: E731
        text = f"stack((v{i}, v{j}), axis={axis})"
    return Op(text, (i, j), call), _shape_of(call, (s, s)), max(b, bounds[j])


@st.composite
def programs(draw):
    n_inputs = draw(st.integers(1, 2))
    shapes = [draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
                   .filter(lambda s: _size(s) <= 12)) for _ in range(n_inputs)]
    program = Program(tuple(shapes))
    bounds = [2.0] * n_inputs
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    target = draw(st.integers(MIN_OPS, MAX_OPS))
    while len(program.ops) < target:
        made = draw(_op(shapes, bounds, rng))
        if made is None or made[1] is None or _size(made[1]) > MAX_SIZE:
            continue
        op, shape, bound = made
        program.ops.append(op)
        shapes.append(tuple(shape))
        bounds.append(float(bound))
        if bound > BOUND:  # keep magnitudes moderate: rescale by a constant
            k = len(shapes) - 1
            factor = 1.0 / bound
            program.ops.append(Op(f"v{k} * {factor:.3g}", (k,),
                                  lambda np_, x, factor=factor: x * factor))
            shapes.append(tuple(shape))
            bounds.append(1.0)
    # every value no later operation reads is an output, so every operation is checked
    used = {i for op in program.ops for i in op.args}
    program.outputs = tuple(k for k in range(n_inputs, len(shapes)) if k not in used)
    return program


# Compiling each program is most of this file's time; XLA's backend optimisations do not pay
# for a function that runs once.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _weighted_sum(np_, outputs, weights):
    """The scalar program: ``sum_k np.sum(w_k * out_k)`` over the program's outputs."""
    return sum(np_.sum(w * out) for w, out in zip(weights, outputs, strict=True))


def _jax_reference(program, inputs, weights):
    """JAX's primal, ``jacfwd`` and ``jacrev`` w.r.t. every input, and ``grad`` and
    ``hessian`` of the weighted sum, all compiled once for this program."""
    argnums = tuple(range(len(inputs)))
    f = lambda *xs: program.run(jnp, xs)  # noqa: E731
    scalar = lambda *xs: _weighted_sum(jnp, program.run(jnp, xs), weights)  # noqa: E731

    def gradient_twice(*xs):
        gradient = jax.grad(scalar, argnums=argnums)(*xs)
        return gradient, gradient

    def everything(*xs):
        # jax.hessian is jacfwd(jacrev); for a scalar, jacrev is jax.grad, whose value comes
        # out as aux, so the gradient is traced and compiled once, not twice.
        hessian, gradient = jax.jacfwd(gradient_twice, argnums=argnums, has_aux=True)(*xs)
        return (f(*xs), jax.jacfwd(f, argnums=argnums)(*xs), jax.jacrev(f, argnums=argnums)(*xs),
                gradient, hessian)

    reference = jax.jit(everything).lower(*inputs).compile(FAST_COMPILE)(*inputs)
    if not _plausible(reference, program, inputs):
        # Values stay in safe domains, so a NaN is XLA's, not the derivative's: without
        # optimisation, JAX's max/min JVP can find no element equal to the maximum it
        # computed (eq(x, max(x)) all false, 0/0). Unoptimised XLA has also returned a
        # wrong Jacobian entry in both modes (tanh of hypot: -3.1e-5 where eager JAX,
        # optimised jit and central differences give 2.2e-3). Recompile with the default
        # options.
        reference = jax.jit(everything)(*inputs)
    return reference


def _plausible(reference, program, inputs) -> bool:
    """The fast-compiled reference has no NaN and its jacfwd is within central differences'
    error of NumPy's program: a check of the reference, not of dualad (which is then held
    to the reference at rtol 1e-8)."""
    if any(np.isnan(leaf).any() for leaf in jax.tree_util.tree_leaves(reference)):
        return False
    jacobians, eps = reference[1], 1e-6
    for i, x in enumerate(inputs):
        for index in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[index] = eps
            plus = program.run(np, inputs[:i] + (x + step,) + inputs[i + 1:])
            minus = program.run(np, inputs[:i] + (x - step,) + inputs[i + 1:])
            for k, (p, m) in enumerate(zip(plus, minus, strict=True)):
                column = np.asarray(jacobians[k][i])[(...,) + index]
                if not np.allclose(column, (p - m) / (2 * eps), rtol=1e-4, atol=1e-5):
                    return False
    return True


def _assert_tree_matches(ours, theirs, what: str, rtol: float = 1e-8):
    """Leaves of nested tuples agree in shape and value (atol relative to the leaf's scale);
    ``what[k][i]`` names output k, input i for a Jacobian, and so on."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), f"{what}: structure"
        for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _assert_tree_matches(a, b, f"{what}[{k}]", rtol)
        return
    theirs = np.asarray(theirs)
    assert not isinstance(ours, (dualad.Dual, TapeArray)), f"{what}: an active array escaped"
    assert np.shape(ours) == theirs.shape, f"{what}: shape {np.shape(ours)} != {theirs.shape}"
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0)))
    note(f"{what}: max |reference| = {scale:.3g}")
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-9 * scale, err_msg=what)


def test_program_functions_are_registered():
    missing = [f.__name__ for f in FUNCTIONS if NUMPY_TABLE.get(f) is None]
    assert not missing, f"NumPy functions the random programs need are not registered: {missing}"


# JAX compiles every program (~0.5 s each with the reverse-mode and second-order references;
# dualad's part is ~20 ms), so this test draws 3/5 of the profile's examples: 15 in "ci", 60
# in "dev".
@settings(max_examples=max(10, settings.default.max_examples * 3 // 5))
@given(program=programs(), chunk_size=CHUNK_SIZES, rev_chunk_size=CHUNK_SIZES,
       seed=st.integers(0, 2**32 - 1))
def test_random_programs_match_jax(program, chunk_size, rev_chunk_size, seed):
    """Primal, Jacobians (forward and reverse), gradient and Hessian of a random program:
    dualad on NumPy code vs JAX on jax.numpy."""
    rng = np.random.default_rng(seed)
    inputs = tuple(rng.uniform(-2, 2, size=s) for s in program.input_shapes)
    argnums = tuple(range(len(inputs)))
    f = lambda *xs: program.run(np, xs)  # noqa: E731

    expected_value = f(*inputs)  # plain NumPy, no dual arrays
    weights = tuple(rng.uniform(-1, 1, size=np.shape(v)) for v in expected_value)
    scalar = lambda *xs: _weighted_sum(np, f(*xs), weights)  # noqa: E731
    ref_value, ref_jac, ref_jacrev, ref_grad, ref_hessian = _jax_reference(program, inputs,
                                                                           weights)
    for ours, theirs in zip(expected_value, ref_value, strict=True):
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-9, atol=1e-9,
                                   err_msg="NumPy and JAX disagree on the primal")

    value, _ = dualad.jvp(f, inputs, tuple(np.ones_like(x) for x in inputs))
    for ours, plain in zip(value, expected_value, strict=True):
        np.testing.assert_allclose(ours, plain, rtol=1e-13, atol=1e-13,
                                   err_msg="the primal changed under dualad")
    value, _ = dualad.vjp(f, *inputs)
    for ours, plain in zip(value, expected_value, strict=True):
        np.testing.assert_allclose(ours, plain, rtol=1e-13, atol=1e-13,
                                   err_msg="the primal changed under dualad's tape")

    jac = dualad.jacfwd(f, argnums=argnums, chunk_size=chunk_size)(*inputs)
    assert len(jac) == len(program.outputs)
    _assert_tree_matches(jac, ref_jac, f"jacfwd d outputs / d inputs, chunk_size={chunk_size}")

    jac = dualad.jacrev(f, argnums=argnums, chunk_size=rev_chunk_size)(*inputs)
    assert len(jac) == len(program.outputs)
    _assert_tree_matches(jac, ref_jacrev,
                         f"jacrev d outputs / d inputs, chunk_size={rev_chunk_size}")

    _assert_tree_matches(dualad.grad(scalar, argnums=argnums)(*inputs), ref_grad,
                         "grad of the weighted sum")
    _assert_tree_matches(dualad.hessian(scalar, argnums=argnums)(*inputs), ref_hessian,
                         "hessian of the weighted sum")


_FIXED = {}
_FIXED_WEIGHTS = np.array([0.7, -1.3, 0.4])


def _fixed_reference(f):
    """JAX's ``jacfwd``, ``jacrev`` and, of ``w . f``, ``grad`` and ``hessian`` for the fixed
    program, compiled once and shared by the seeds."""
    argnums = (0, 1)
    scalar = lambda x, W: jnp.sum(_FIXED_WEIGHTS * f(x, W))  # noqa: E731

    def everything(x, W):
        return (jax.jacfwd(f, argnums=argnums)(x, W), jax.jacrev(f, argnums=argnums)(x, W),
                jax.grad(scalar, argnums=argnums)(x, W),
                jax.hessian(scalar, argnums=argnums)(x, W))

    def reference(*args):
        if "all" not in _FIXED:
            _FIXED["all"] = jax.jit(everything).lower(*args).compile(FAST_COMPILE)
        return _FIXED["all"](*args)
    return reference


@pytest.mark.parametrize("seed", range(3))
def test_a_fixed_deep_program(seed):
    """A hand-written 14-primitive program, as a readable regression case, in both modes."""
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))

    def f(np_, x, W):
        h = np_.tanh(x @ W)                                   # matmul, tanh
        g = np_.logaddexp(0.0, h - np_.mean(h, axis=0))       # mean, subtract, logaddexp
        r = np_.reshape(g, (4, 2)).T                          # reshape, transpose
        m = np_.max(r, axis=-1, keepdims=True)                # max with keepdims
        s = np_.sum(np_.exp(np_.tanh(r - m)) * x[:, :1], axis=(0, 1))  # exp, getitem, sum
        return np_.stack([s, np_.prod(np_.sin(x[::-1, 1])), np_.var(W)])  # stack, prod, var

    ours = lambda x, W: f(np, x, W)  # noqa: E731
    scalar = lambda x, W: np.sum(_FIXED_WEIGHTS * ours(x, W))  # noqa: E731
    J_ref, Jrev_ref, g_ref, H_ref = _fixed_reference(lambda x, W: f(jnp, x, W))(x, W)
    checks = [
        ("jacfwd", dualad.jacfwd(ours, argnums=(0, 1), chunk_size=4)(x, W), J_ref),
        ("jacrev", dualad.jacrev(ours, argnums=(0, 1), chunk_size=2)(x, W), Jrev_ref),
        ("grad", dualad.grad(scalar, argnums=(0, 1))(x, W), g_ref),
        ("hessian", dualad.hessian(scalar, argnums=(0, 1))(x, W), H_ref),
    ]
    for what, actual, expected in checks:
        assert_tree_close(actual, jax.tree_util.tree_map(np.asarray, expected), rtol=1e-10,
                          atol=1e-12, what=what)
