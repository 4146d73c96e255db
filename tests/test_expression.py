"""The expression language: values, derivatives through dualad, refusals, positions, limits.

References: NumPy (and Python's own ``eval`` in a restricted namespace, in this test only)
for values; the lecture's closed forms, JAX in float64 and central differences for
derivatives.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import inspect
import os
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad
from dualad.cli.expression import (
    ALLOWED_FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    parse_expression,
)
from dualad.errors import DualadError, InvalidInputError
from dualad.registry import NONDIFF, NUMPY_TABLE
from tests.reference import central_differences, jax_jacobians

LECTURE = "log(x1) + x1*x2 - sin(x2)"


def _refusal(source: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as excinfo:
        parse_expression(source)
    return excinfo.value


# --------------------------------------------------------------------------- the lecture


def test_lecture_value_and_variables():
    f = parse_expression(LECTURE)
    assert f.variables == ("x1", "x2")
    assert f.source == LECTURE
    assert float(f(2.0, 5.0)) == pytest.approx(np.log(2.0) + 10.0 - np.sin(5.0), rel=1e-15)
    assert round(float(f(2.0, 5.0)), 3) == 11.652


def test_lecture_derivatives_match_closed_forms():
    f = parse_expression(LECTURE)
    x1, x2 = 2.0, 5.0
    d1, d2 = 1 / x1 + x2, x1 - np.cos(x2)  # closed forms from the lecture
    assert float(dualad.grad(f)(x1, x2)) == pytest.approx(5.5, rel=1e-15)
    assert float(dualad.grad(f, argnums=1)(x1, x2)) == pytest.approx(d2, rel=1e-14)
    assert round(float(d2), 3) == 1.716
    _, tangent = dualad.jvp(f, (x1, x2), (1.0, 0.0))
    assert float(tangent) == pytest.approx(d1, rel=1e-15)
    _, tangent = dualad.jvp(f, (x1, x2), (0.0, 1.0))
    assert float(tangent) == pytest.approx(d2, rel=1e-14)
    jac = dualad.jacfwd(f, argnums=(0, 1))(x1, x2)
    np.testing.assert_allclose([float(j) for j in jac], [d1, d2], rtol=1e-14)
    jac = dualad.jacrev(f, argnums=(0, 1))(x1, x2)
    np.testing.assert_allclose([float(j) for j in jac], [d1, d2], rtol=1e-14)


def test_lecture_hessian_matches_closed_form():
    f = parse_expression(LECTURE)
    hess = dualad.hessian(f, argnums=(0, 1))(2.0, 5.0)
    expected = [[-1 / 4.0, 1.0], [1.0, np.sin(5.0)]]
    np.testing.assert_allclose(np.array(hess, dtype=float), expected, rtol=1e-14)


def test_signature_names_the_variables_for_tools_that_read_it():
    f = parse_expression(LECTURE)
    assert list(inspect.signature(f).parameters) == ["x1", "x2"]
    assert f.describe() == "f(x1, x2) = log(x1) + x1*x2 - sin(x2)"
    assert repr(f) == "Expression('log(x1) + x1*x2 - sin(x2)', variables=('x1', 'x2'))"
    assert len(repr(parse_expression(" + ".join(["x"] * 40)))) < 100


# --------------------------------------------------------------------------- values

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, (2, 3))
B = RNG.uniform(0.5, 2.0, (3,))
M = RNG.uniform(-1.0, 1.0, (3, 3))

VALUES = [
    ("x + y*2 - 3/x", (1.5, 0.25), lambda x, y: x + y * 2 - 3 / x),
    ("-x**2", (3.0,), lambda x: -(x**2)),
    ("(-x)**2", (3.0,), lambda x: (-x) ** 2),
    ("2**-x", (3.0,), lambda x: 2**-x),
    ("x**y**2", (1.5, 2.0), lambda x, y: x ** (y**2)),
    ("+x - -y", (1.0, 2.0), lambda x, y: x + y),
    ("x % 3 + x // 2", (7.5,), lambda x: x % 3 + x // 2),
    ("pi*x + e", (2.0,), lambda x: np.pi * x + np.e),
    ("2**-1 + 7 // 2 + 1e-3", (), lambda: 0.5 + 3 + 1e-3),
    ("sin(x)*cos(y) + exp(-x) + sqrt(y) + tanh(x)", (A, B),
     lambda x, y: np.sin(x) * np.cos(y) + np.exp(-x) + np.sqrt(y) + np.tanh(x)),
    ("abs(x - 1) + absolute(y - 1) + arctan2(x, y)", (A, B),
     lambda x, y: np.abs(x - 1) + np.abs(y - 1) + np.arctan2(x, y)),
    ("maximum(x, y) + minimum(x, 1.2) + hypot(x, y)", (A, B),
     lambda x, y: np.maximum(x, y) + np.minimum(x, 1.2) + np.hypot(x, y)),
    ("log1p(x) + log10(x) + log2(x) + expm1(x)", (A,),
     lambda x: np.log1p(x) + np.log10(x) + np.log2(x) + np.expm1(x)),
    ("sum(x)", (A,), np.sum),
    ("sum(x, axis=0)", (A,), lambda x: np.sum(x, axis=0)),
    ("sum(x, axis=-1, keepdims=True)", (A,), lambda x: np.sum(x, axis=-1, keepdims=True)),
    ("mean(x, axis=(0, 1), keepdims=False)", (A,), lambda x: np.mean(x, axis=(0, 1))),
    ("x - mean(x, axis=1, keepdims=True)", (A,), lambda x: x - np.mean(x, 1, keepdims=True)),
    ("sum(x, 1)", (A,), lambda x: np.sum(x, 1)),
    ("std(x, axis=0) + var(x) + prod(y) + max(x, axis=0) + min(y)", (A, B),
     lambda x, y: np.std(x, axis=0) + np.var(x) + np.prod(y) + np.max(x, axis=0) + np.min(y)),
    ("cumsum(y) + sort(y) + clip(y, 0.8, 1.5)", (B,),
     lambda y: np.cumsum(y) + np.sort(y) + np.clip(y, 0.8, 1.5)),
    ("quantile(x, 0.25, axis=0)", (A,), lambda x: np.quantile(x, 0.25, axis=0)),
    ("x @ y", (M, B), lambda x, y: x @ y),
    ("matmul(x, x) @ y", (M, B), lambda x, y: (x @ x) @ y),
    ("x + y", (A, B), lambda x, y: x + y),  # broadcasting
]


@pytest.mark.parametrize("source, args, reference", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_numpy(source, args, reference):
    f = parse_expression(source)
    np.testing.assert_allclose(f(*args), reference(*args), rtol=1e-15, atol=0)


def test_int_literals_stay_exact_like_python():
    assert parse_expression("2**10 + 7 // 2")() == 1027
    assert type(parse_expression("2*3")()) is int


def test_call_by_name_and_order_of_first_appearance():
    f = parse_expression("b*a + sin(c) - a")
    assert f.variables == ("b", "a", "c")
    assert f.call(a=1.0, b=2.0, c=0.0) == pytest.approx(f(2.0, 1.0, 0.0)) == 1.0
    multi_line = parse_expression("(y +\n  x) * y")
    assert multi_line.variables == ("y", "x")
    assert multi_line(2.0, 3.0) == 10.0
    assert parse_expression("   x + 1\n").variables == ("x",)


def test_wrong_number_or_names_of_values():
    f = parse_expression(LECTURE)
    with pytest.raises(ExpressionError, match=r"takes 2 values \(x1, x2\), got 1"):
        f(1.0)
    with pytest.raises(ExpressionError, match="missing x2.*unknown x3"):
        f.call(x1=1.0, x3=2.0)


# --------------------------------------------------------------------------- derivatives

JAX_CASES = [
    ("sum(x**2, axis=0) * y", (A, B)),
    ("mean(sin(x) * y) + std(x)", (A, B)),
    ("-x**3 / (1 + exp(-y)) + pi*log(x)", (A, B)),
    ("max(x, axis=1) + sum(x*x)", (A,)),
    ("maximum(x, 1.0) * hypot(x, y) - arctan2(y, x)", (A, B)),
]


def _jax_call(source: str):
    names = {name: getattr(jnp, name) for name in ("sum", "mean", "std", "sin", "exp", "log",
                                                   "sqrt", "max", "maximum", "hypot",
                                                   "arctan2")}
    # The test's reference evaluates the same text with JAX (eval is fine in a test only).
    return lambda np_, *xs: eval(source, {"__builtins__": {}},
                                 {**names, "pi": np.pi, **dict(zip("xy", xs))})


@pytest.mark.parametrize("source, args", JAX_CASES, ids=[c[0] for c in JAX_CASES])
def test_jacobians_match_jax(source, args):
    f = parse_expression(source)
    assert f.variables == ("x", "y")[:len(args)]
    argnums = tuple(range(len(args)))
    forward = dualad.jacfwd(f, argnums=argnums)(*args)
    reverse = dualad.jacrev(f, argnums=argnums)(*args)
    reference = jax_jacobians(_jax_call(source), args, "rev")
    for ours_fwd, ours_rev, theirs in zip(forward, reverse, reference):
        np.testing.assert_allclose(ours_fwd, theirs, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours_rev, theirs, rtol=1e-10, atol=1e-12)


def _unary_ufunc_names() -> list[str]:
    return sorted(name for name in ALLOWED_FUNCTIONS
                  if isinstance(getattr(np, name), np.ufunc) and getattr(np, name).nin == 1)


@pytest.mark.parametrize("name", _unary_ufunc_names())
def test_every_unary_function_differentiates_like_central_differences(name):
    domain = NUMPY_TABLE[getattr(np, name)].domain
    x = domain.sample(np.random.default_rng(1), (3,))
    f = parse_expression(f"{name}(x) * x")
    jac = dualad.jacfwd(f)(x)
    np.testing.assert_allclose(jac, central_differences(f, (x,))[0], rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- allowed names


def test_allowed_functions_come_from_the_registry():
    for name in ALLOWED_FUNCTIONS:
        fn = getattr(np, name)
        declaration = NUMPY_TABLE[fn]
        assert declaration.builtin
        assert isinstance(fn, np.ufunc) or declaration.family.name == "reductions", name
    assert {"sin", "log", "exp", "tanh", "maximum", "power", "sum", "prod", "mean", "max",
            "min", "std", "var"} <= ALLOWED_FUNCTIONS
    assert not {"floor", "sign", "reshape", "where", "dot", "modf"} & ALLOWED_FUNCTIONS
    assert not {name for name in ALLOWED_FUNCTIONS if getattr(np, name) in NONDIFF}


# --------------------------------------------------------------------------- refusals

REFUSED = [
    # (source, words the message must contain, offset of the offending construct)
    ("x.real", ["attribute access", "x.real"], 2),
    ("np.sin(x)", ["attribute access", "write sin(...)"], 3),
    ("x + numpy.exp(x)", ["attribute access", "write exp(...)"], 10),
    ("__import__('os')", ["'_'", "__import__"], 0),
    ("x + y._secret", ["'_'", "_secret"], 6),
    ("(lambda: 0)()", ["lambda"], 1),
    ("[c for c in 'ab']", ["comprehension"], 0),
    ("sum(x for x in y)", ["comprehension"], 3),
    ("x[0]", ["subscript"], 0),
    ("f'{x}'", ["f-string"], 0),
    ("'abc' * 2", ["string"], 0),
    ("x + b'1'", ["string"], 4),
    ("x < 1", ["comparison"], 2),
    ("(x) <= y", ["comparison"], 4),
    ("x and y", ["boolean", "and"], 2),
    ("x or y", ["boolean", "or"], 2),
    ("not x", ["not"], 0),
    ("x if y else 1", ["conditional"], 2),
    ("sin(*x)", ["starred"], 4),
    ("(y := 2) * y", ["assignment expression"], 1),
    ("sum(x, dtype=1)", ["keyword argument 'dtype'", "axis= and keepdims="], 7),
    ("sum(x, out=x)", ["keyword argument 'out'"], 7),
    ("sum(x, **k)", ["'**'"], 7),
    ("sin(x, axis=0)", ["no keyword arguments"], 7),
    ("cumsum(x, keepdims=True)", ["does not take keepdims="], 10),
    ("sum(x, axis=y)", ["axis=", "integer"], 12),
    ("sum(x, axis=1.5)", ["axis=", "integer"], 12),
    ("sum(x, keepdims=1)", ["keepdims=", "True or False"], 16),
    ("sum(x, 0, axis=1)", ["given twice"], 10),
    ("sin(x, y)", ["sin takes 1 positional argument", "got 2"], 7),
    ("clip(x, 0, 1, x)", ["clip takes", "got 4"], 14),
    ("sum()", ["sum takes 1 to 2 positional arguments"], 0),
    ("x1(2) + x1", ["'x1' is a variable", "x1*("], 0),
    ("sin + 1", ["function 'sin' used as a variable"], 0),
    ("2 * mean", ["function 'mean' used as a variable"], 4),
    ("pi(2)", ["constant"], 0),
    ("exec", ["Python built-in"], 0),
    ("open('x')", ["unknown function 'open'", "built-in", "sin"], 0),
    ("2 + eval('1')", ["unknown function 'eval'"], 4),
    ("x + open", ["Python built-in"], 4),
    ("sin(x)(y)", ["named directly"], 0),
    ("(x + y)(2)", ["named directly"], 0),
    ("1j * x", ["complex"], 0),
    ("x + True", ["True"], 4),
    ("None", ["None"], 0),
    ("x ^ 2", ["'^'", "x**2"], 2),
    ("(x) << 1", ["'<<'"], 4),
    ("x & y", ["'&'"], 2),
    ("~x", ["'~'"], 0),
    ("[x, y]", ["list"], 0),
    ("(x, y)", ["tuple"], 0),
    ("{x: y}", ["dict"], 0),
    ("x = 1", ["assignment"], 0),
    ("x += 1", ["assignment"], 0),
    ("import os", ["import"], 0),
    ("x; y", ["only one expression"], 3),
    ("x\n+ y", ["only one expression", "parentheses"], 2),
    ("", ["empty"], 0),
    ("   \n ", ["empty"], 0),
    ("0x" + "f" * 2000, ["too large"], 0),
    ("x + \x00", ["'\\x00'"], 4),
    ("é + é.real", ["attribute access"], 6),  # offsets count characters, not bytes
]


@pytest.mark.parametrize("source, words, offset", REFUSED, ids=[r[0][:30] for r in REFUSED])
def test_refused_construct_is_named_and_located(source, words, offset):
    err = _refusal(source)
    for word in words:
        assert word in err.message, (word, err.message)
    assert err.offset == offset, (err.offset, str(err))
    assert err.source == source
    assert isinstance(err, DualadError) and isinstance(err, ValueError)


def test_non_string_source_is_a_type_error():
    with pytest.raises(InvalidInputError, match="str"):
        parse_expression(3.0)


# --------------------------------------------------------------------------- security

ATTACKS = [
    "__import__('os').system('echo hi')",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "(lambda: 0)()",
    "[c for c in 'ab']",
    "open('x')",
    "eval('1')",
    "exec('print(1)')",
    "exec",
    "getattr(x, 'y')",
    "compile('1', 'f', 'eval')",
    "globals()",
    "sin.__call__(1)",
    "sum.__globals__",
    "x.__class__",
    "breakpoint()",
    "__builtins__",
    "sin(x, __import__('os'))",
]


@contextlib.contextmanager
def _nothing_may_run(calls: list):
    """Replace the doors out of the sandbox with recorders for the duration of a parse."""
    real_compile = builtins.compile

    def recorder(name):
        def record(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called")
        return record

    def ast_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse itself compiles to an AST only
            calls.append("compile")
            raise AssertionError("compile was called")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        for name in ("eval", "exec", "open", "breakpoint", "input"):
            mp.setattr(builtins, name, recorder(name))
        mp.setattr(builtins, "compile", ast_only_compile)
        mp.setattr(os, "system", recorder("os.system"))
        yield


@pytest.mark.parametrize("source", ATTACKS)
def test_attacks_are_refused_and_nothing_runs(source):
    calls: list = []
    with _nothing_may_run(calls), contextlib.suppress(ExpressionError):
        parse_expression(source)
        calls.append("accepted")
    assert calls == []


def test_evaluation_uses_no_eval_exec_or_compile():
    f = parse_expression("sum(log(x) * x, axis=0, keepdims=True) + pi")
    calls: list = []
    with _nothing_may_run(calls):
        value = f(A)
    assert calls == []
    np.testing.assert_allclose(value, np.sum(np.log(A) * A, axis=0, keepdims=True) + np.pi)


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize("source, offset, words", [
    ("log(x1 + ", 3, "never closed"),
    ("x1 ** * 2", 6, "invalid syntax"),
    ("x1 +", 4, "ends too early"),
    ("(x1 +\n * 2)", 7, "invalid syntax"),
    ("x1 x2", 3, "'*' between them"),
    ("  x1 +* 1", 6, "invalid syntax"),
])
def test_syntax_error_caret_points_at_the_column(source, offset, words):
    err = _refusal(source)
    assert err.offset == offset
    assert words in err.message and "syntax error" in err.message
    message, line, caret = str(err).splitlines()
    line_start = source.rfind("\n", 0, offset) + 1
    column = offset - line_start
    assert f"column {column}" in message
    assert line.strip() == source[line_start:].split("\n")[0].strip()
    assert caret.index("^") == 2 + column  # both lines are indented by two spaces


def test_error_text_for_a_long_line_is_cut_around_the_caret():
    source = "x + " * 200 + "y.real + z"
    err = _refusal(source)
    _, line, caret = str(err).splitlines()
    assert len(line) < 100
    assert line[caret.index("^"):].startswith("real")


@pytest.mark.parametrize("name, suggestion", [
    ("ln", "'log'"), ("sine", "'sin'"), ("sqr", "'square'"), ("tanhh", "'tanh'"),
    ("avg", "'mean'"), ("sigmoid", "1/(1 + exp(-x))"),
])
def test_unknown_function_suggests_the_close_name(name, suggestion):
    err = _refusal(f"2 * {name}(x)")
    assert f"unknown function '{name}'" in err.message
    assert suggestion in err.message.split(":", 1)[1].split(",")[0]
    assert err.offset == 4


def test_unknown_function_without_close_match_lists_the_allowed_ones():
    err = _refusal("frobnicate(x)")
    assert "unknown function 'frobnicate'" in err.message
    assert "sin" in err.message and "sum" in err.message and "logaddexp" in err.message


def test_evaluation_failures_are_expression_errors_at_the_place():
    with pytest.raises(ExpressionError) as excinfo:
        parse_expression("x + sum(x, axis=1)")(np.ones(3))
    assert excinfo.value.offset == 4 and "AxisError" in excinfo.value.message
    assert excinfo.value.source == "x + sum(x, axis=1)"
    with pytest.raises(ExpressionError, match="ZeroDivisionError"):
        parse_expression("x + 1/0")(1.0)


# --------------------------------------------------------------------------- limits


def test_too_long_is_refused():
    err = _refusal("x" * (MAX_LENGTH + 1))
    assert "too long" in err.message


@pytest.mark.parametrize("source", [
    "-" * 5000 + "x",
    "(" * 250 + "x" + ")" * 250,
    "x" + "**x" * (MAX_DEPTH + 1),
    "+".join(["x"] * 4000),
    "sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
    "x" + "+(x" * (MAX_DEPTH + 20) + ")" * (MAX_DEPTH + 20),
])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(source):
    err = _refusal(source)
    assert "nested too deeply" in err.message or "nested parentheses" in err.message


def test_too_deep_points_at_the_first_level_beyond_the_limit():
    err = _refusal("sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    assert err.offset == 4 * MAX_DEPTH and f"more than {MAX_DEPTH} levels" in err.message


def test_long_chains_and_redundant_parentheses_are_not_nesting():
    terms = 600  # well past MAX_DEPTH; parsed, built and evaluated in loops
    f = parse_expression(" + ".join(f"x*{i}" for i in range(terms)) + " - " + "(" * 150 +
                         "x" + ")" * 150)
    expected = sum(range(terms)) - 1.0
    assert float(f(1.0)) == expected
    assert float(dualad.grad(f)(1.0)) == expected


def test_nesting_at_the_limit_still_works():
    source = "sin(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
    f = parse_expression(source)
    expected = 0.5
    for _ in range(MAX_DEPTH - 1):
        expected = np.sin(expected)
    assert float(f(0.5)) == pytest.approx(expected, rel=1e-14)
    assert float(dualad.grad(f)(0.5)) == pytest.approx(
        central_differences(f, (0.5,))[0], rel=1e-6)


def test_huge_integer_powers_are_refused_quickly():
    with pytest.raises(ExpressionError, match="too large"):
        parse_expression("9**9**9")()
    with pytest.raises(ExpressionError, match="too large"):
        parse_expression("(2**4000) * (2**4000)")()
    assert parse_expression("2**1000")() == 2**1000


# --------------------------------------------------------------------------- Hypothesis

_NAMESPACE_FUNCTIONS = ("sin", "cos", "tanh", "exp", "log", "sqrt", "arctan", "abs",
                        "absolute", "maximum", "hypot", "sum", "mean", "max")
_LEAVES = st.one_of(
    st.sampled_from(["x", "y", "pi", "e"]),
    st.integers(0, 5).map(str),
    st.floats(0.1, 4.0, allow_nan=False).map(repr),
)


def _combine(children):
    unary = st.builds(lambda f, a: f"{f}({a})",
                      st.sampled_from(["sin", "cos", "tanh", "exp", "log", "sqrt", "arctan",
                                       "abs", "absolute", "-", "+"]), children)
    binary = st.builds(lambda a, op, b: f"{a} {op} {b}", children,
                       st.sampled_from(["+", "-", "*", "/"]), children)
    # Float exponents only: Python would build huge exact integers from 5**3**3**3.
    power = st.builds(lambda a, k: f"{a} ** {k}", children,
                      st.sampled_from(["2.0", "0.5", "-1.0", "y", "(-x)"]))
    calls = st.builds(lambda f, a, b: f"{f}({a}, {b})",
                      st.sampled_from(["maximum", "hypot"]), children, children)
    reductions = st.builds(lambda f, a, kw: f"{f}({a}{kw})",
                           st.sampled_from(["sum", "mean", "max"]), children,
                           st.sampled_from(["", ", axis=-1", ", keepdims=True"]))
    grouped = children.map(lambda a: f"({a})")
    return st.one_of(unary, binary, power, calls, reductions, grouped)


EXPRESSIONS = st.recursive(_LEAVES, _combine, max_leaves=12)


def _python_reference(source: str, x, y):
    namespace = {name: getattr(np, name) for name in _NAMESPACE_FUNCTIONS}
    namespace.update(pi=np.pi, e=np.e, x=x, y=y)
    return eval(source, {"__builtins__": {}}, namespace)  # the test's reference only


@settings(max_examples=min(60, settings.default.max_examples))
@given(source=EXPRESSIONS, shape=st.sampled_from([(), (3,), (2, 3)]))
def test_random_expressions_evaluate_like_python(source, shape):
    x = np.linspace(0.3, 1.7, int(np.prod(shape))).reshape(shape)
    y = np.linspace(-1.1, 0.9, int(np.prod(shape))).reshape(shape)
    f = parse_expression(source)
    assert set(f.variables) <= {"x", "y"}
    with np.errstate(all="ignore"):
        try:
            expected = _python_reference(source, x, y)
        except (ArithmeticError, ValueError, TypeError):
            with pytest.raises(ExpressionError):
                f.call(**{name: {"x": x, "y": y}[name] for name in f.variables})
            return
        got = f.call(**{name: {"x": x, "y": y}[name] for name in f.variables})
    np.testing.assert_array_equal(got, expected)


_TOKENS = st.sampled_from([*"xy12 .+-*/%@()[]{},:;=<>!^&|~'\"#\\\n\t_e", "sin", "sum",
                           "axis=", "keepdims=", "True", "lambda", "**", "pi", "__import__",
                           "if", "else", "for", "in", "not", "1e5", "j", "é", "\0"])


@settings(max_examples=min(100, settings.default.max_examples))
@given(source=st.lists(_TOKENS, max_size=30).map("".join))
def test_any_text_gives_an_expression_or_an_expression_error(source):
    # Property: whatever the text, parsing and evaluating raise nothing but ExpressionError
    # and print no parser warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            f = parse_expression(source)
        except ExpressionError as err:
            assert err.message and err.source == source
            assert err.offset is None or 0 <= err.offset <= len(source)
            assert str(err).startswith(err.message)
            return
    with np.errstate(all="ignore"), contextlib.suppress(ExpressionError):
        f(*[A for _ in f.variables])


def test_expression_type_is_exported_for_annotations():
    assert isinstance(parse_expression("x"), Expression)
