"""Bad input gives a clear dualad error: the right type, and a message naming the culprit.

Each case states the built-in exception a NumPy/JAX user would catch, the dualad class when
there is one, and fragments the message must contain.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualad
from dualad import (
    ConversionError,
    DualadError,
    InvalidArgumentError,
    InvalidInputError,
    NonScalarOutputError,
    PerturbationConfusionError,
    RegistrationError,
    ShapeMismatchError,
    SingularMatrixError,
    UnsupportedPrimitiveError,
)
from dualad.registry import Family

X = np.array([1.0, 2.0, 3.0])
Y = np.array([[1.0, 2.0], [3.0, 4.0]])
f2 = lambda x, y: np.sum(x) * np.sum(y)


def _leak_from_inner_jvp():
    store = []

    def outer(x):
        dualad.jvp(lambda y: store.append(x * y) or y, (1.0,), (1.0,))
        return store[0]

    return dualad.jvp(outer, (2.0,), (1.0,))


# (id, call, built-in type, dualad type or None, message fragments)
def _fill_plain_buffer(x):
    out = np.zeros(3)
    out[0] = x[0]  # NumPy converts with float(): dualad's error, not NumPy's ValueError
    return out


def _fill_plain_slice(x):
    out = np.zeros(3)
    out[1:] = x[1:]
    return out.sum()


CASES = [
    ("tangent-shape", lambda: dualad.jvp(f2, (X, Y), (np.ones(3), np.ones(3))),
     ValueError, ShapeMismatchError, ["argument 2", "(3,)", "(2, 2)"]),
    ("tangent-shape-first", lambda: dualad.jvp(f2, (X, Y), (np.ones(4), np.ones((2, 2)))),
     ValueError, ShapeMismatchError, ["argument 1", "(4,)", "(3,)"]),
    ("tangent-shape-scalar", lambda: dualad.jvp(np.sin, (1.0,), (np.ones(2),)),
     ValueError, ShapeMismatchError, ["argument 1"]),
    ("tangent-shape-in-dict",
     lambda: dualad.jvp(lambda p: p["w"] * 2, ({"w": X},), ({"w": np.ones(2)},)),
     ValueError, ShapeMismatchError, ["argument 1['w']", "(2,)", "(3,)"]),
    ("tangent-int-dtype", lambda: dualad.jvp(np.sin, (X,), (np.ones(3, dtype=int),)),
     ValueError, ShapeMismatchError, ["argument 1", "dtype", "int"]),
    ("tangent-bool-dtype", lambda: dualad.jvp(np.sin, (X,), (np.ones(3, dtype=bool),)),
     ValueError, ShapeMismatchError, ["argument 1", "dtype", "bool"]),
    ("tangent-str", lambda: dualad.jvp(np.sin, (X,), ("abc",)),
     ValueError, ShapeMismatchError, ["argument 1"]),
    ("tangent-count", lambda: dualad.jvp(f2, (X, Y), (np.ones(3),)),
     ValueError, ShapeMismatchError, ["structure"]),
    ("tangent-tuple-vs-list",
     lambda: dualad.jvp(lambda a: a[0] + a[1], ([X, X],), ((np.ones(3), np.ones(3)),)),
     ValueError, ShapeMismatchError, ["structure"]),
    ("tangent-dict-keys",
     lambda: dualad.jvp(lambda p: p["a"], ({"a": X},), ({"b": np.ones(3)},)),
     ValueError, ShapeMismatchError, ["structure"]),
    ("primals-not-a-tuple", lambda: dualad.jvp(np.sin, X, X),
     TypeError, None, ["tuples or lists", "jvp(f, (x,), (v,))"]),
    ("argnums-too-large", lambda: dualad.jacfwd(f2, argnums=2)(X, Y),
     ValueError, None, ["argnums=2", "2 positional"]),
    ("argnums-too-negative", lambda: dualad.jacfwd(f2, argnums=-3)(X, Y),
     ValueError, None, ["argnums=-3"]),
    ("argnums-tuple-out-of-range", lambda: dualad.jacfwd(f2, argnums=(0, 5))(X, Y),
     ValueError, None, ["argnums=(0, 5)"]),
    ("argnums-not-int", lambda: dualad.jacfwd(f2, argnums=(0.5,))(X, Y),
     ValueError, None, ["argnums"]),
    ("output-string-jvp", lambda: dualad.jvp(lambda x: "hello", (X,), (X,)),
     TypeError, None, ["str", "output"]),
    ("output-string-jacfwd", lambda: dualad.jacfwd(lambda x: "hello")(X),
     TypeError, None, ["str", "output"]),
    ("output-object", lambda: dualad.jacfwd(lambda x: object())(X),
     TypeError, None, ["object", "output"]),
    ("output-string-in-tuple", lambda: dualad.jacfwd(lambda x: (x, "s"))(X),
     TypeError, None, ["output 1", "str"]),
    ("complex-tangent-of-real-jvp", lambda: dualad.jvp(np.sin, (X,), (X + 1j,)),
     ValueError, ShapeMismatchError, ["argument 1", "complex"]),
    ("complex-input-jacfwd", lambda: dualad.jacfwd(np.sin, argnums=1)(X, X + 1j),
     TypeError, InvalidInputError, ["argument 2", "complex", "holomorphic=True"]),
    ("string-input", lambda: dualad.jacfwd(lambda s: s)(np.array(["a", "b"])),
     TypeError, None, ["argument 1", "dtype"]),
    ("has-aux-not-a-pair", lambda: dualad.jvp(lambda x: x, (X,), (X,), has_aux=True),
     TypeError, None, ["has_aux", "pair"]),
    ("has-aux-triple", lambda: dualad.jacfwd(lambda x: (x, x, x), has_aux=True)(X),
     TypeError, None, ["has_aux", "pair"]),
    ("dual-as-index-of-dual", lambda: dualad.jvp(lambda x: x[x[0]], (X,), (X,)),
     (TypeError, IndexError, NotImplementedError), DualadError, ["index", "dualad.primal"]),
    ("dual-vector-as-index-of-plain", lambda: dualad.jvp(lambda x: Y[0][x - 1], (X,), (X,)),
     TypeError, ConversionError, ["derivative"]),
    ("chunk-size-0", lambda: dualad.jacfwd(np.sin, chunk_size=0)(X),
     ValueError, None, ["chunk_size", "0"]),
    ("chunk-size-negative", lambda: dualad.jacfwd(np.sin, chunk_size=-2)(X),
     ValueError, None, ["chunk_size", "-2"]),
    ("chunk-size-float", lambda: dualad.jacfwd(np.sin, chunk_size=1.5)(X),
     ValueError, None, ["chunk_size", "1.5"]),
    ("dual-constructor-shape", lambda: dualad.Dual(X, np.ones(3)),
     ValueError, None, ["(k,)", "(3,)"]),
    ("perturbation-leak", _leak_from_inner_jvp,
     ValueError, PerturbationConfusionError, ["output 0", "leaked"]),
    ("unsupported-function", lambda: dualad.jacfwd(np.unwrap)(X),
     NotImplementedError, UnsupportedPrimitiveError, ["np.unwrap", "defprimitive"]),
    ("unsupported-kwarg", lambda: dualad.jacfwd(lambda x: np.sum(x, where=x > 1))(X),
     NotImplementedError, UnsupportedPrimitiveError, ["np.sum", "where"]),
    ("out-argument", lambda: dualad.jacfwd(lambda x: np.sin(x, out=np.empty(3)))(X),
     NotImplementedError, UnsupportedPrimitiveError, ["np.sin", "out="]),
    ("float-of-dual", lambda: dualad.jacfwd(lambda x: float(x[0]))(X),
     TypeError, ConversionError, ["float()", "dualad.primal"]),
    ("active-into-plain-buffer", lambda: dualad.jacfwd(_fill_plain_buffer)(X),
     TypeError, ConversionError, ["out[key] = value", "np.zeros_like(x)"]),
    ("active-into-plain-buffer-slice", lambda: dualad.grad(_fill_plain_slice)(X),
     TypeError, ConversionError, ["out[key] = value", "np.zeros_like(x)"]),
    ("inplace-sort", lambda: dualad.jacfwd(lambda x: x.sort())(X),
     NotImplementedError, UnsupportedPrimitiveError, ["np.sort"]),
]

PARAMS = [pytest.param(*case[1:], id=case[0]) for case in CASES]


@pytest.mark.parametrize("call, builtin, dualad_type, fragments", PARAMS)
def test_bad_input_raises_a_clear_error(call, builtin, dualad_type, fragments):
    with pytest.raises(builtin) as excinfo:
        call()
    if dualad_type is not None:
        assert isinstance(excinfo.value, dualad_type), repr(excinfo.value)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.parametrize("call, builtin, dualad_type, fragments", PARAMS)
def test_every_deliberate_error_is_a_dualad_error(call, builtin, dualad_type, fragments):
    # ``except dualad.DualadError`` must catch everything dualad raises on purpose, while
    # ``except ValueError``/``TypeError`` keeps working for code written against NumPy/JAX.
    with pytest.raises(DualadError) as excinfo:
        call()
    assert isinstance(excinfo.value, builtin)


ERROR_CLASSES = [
    (UnsupportedPrimitiveError, NotImplementedError),
    (ConversionError, TypeError),
    (RegistrationError, ValueError),
    (NonScalarOutputError, TypeError),
    (PerturbationConfusionError, ValueError),
    (ShapeMismatchError, ValueError),
    (InvalidArgumentError, ValueError),
    (InvalidInputError, TypeError),
    (SingularMatrixError, np.linalg.LinAlgError),
    (dualad.CompileError, TypeError),
    (dualad.GuardError, ValueError),
    (dualad.ValueDependentError, ValueError),
]


@pytest.mark.parametrize("cls, builtin", ERROR_CLASSES)
def test_error_hierarchy(cls, builtin):
    assert issubclass(cls, DualadError) and issubclass(cls, builtin)
    assert getattr(dualad, cls.__name__) is cls


def test_every_public_error_class_is_tested():
    public = {name for name in dualad.__all__ if name.endswith("Error") and name != "DualadError"}
    tested = {cls.__name__ for cls, _ in ERROR_CLASSES}
    assert public == tested


def test_dual_as_index_into_plain_array_never_returns():
    # NumPy calls __index__ (which raises) and then replaces it with its own IndexError;
    # either way nothing is computed from the bare primal.
    with pytest.raises((IndexError, DualadError)):
        dualad.jvp(lambda x: Y[0][x[0] - 1], (X,), (X,))


def test_function_returning_none_behaves_like_jax():
    # None is an empty pytree in JAX: jax.jvp(lambda x: None, ...) == (None, None).
    assert dualad.jvp(lambda x: None, (X,), (X,)) == (None, None)
    assert dualad.jacfwd(lambda x: None)(X) is None


def test_registration_errors():
    with pytest.raises(RegistrationError, match="exactly one of jvp= and jvp_all="):
        dualad.defprimitive("user_no_rule", impl=np.sin)
    with pytest.raises(RegistrationError, match="already registered"):
        dualad.defprimitive("sin", impl=np.sin, jvp=lambda dx, x, *, out: dx,
                            vjp=lambda ct, x, *, out: ct)
    with pytest.raises(RegistrationError, match="np.cos"):
        dualad.defprimitive("user_cos_again", impl=np.cos, numpy=np.cos,
                            jvp=lambda dx, x, *, out: dx, vjp=lambda ct, x, *, out: ct)
    with pytest.raises(RegistrationError, match="2 jvp rules"):
        dualad.defprimitive("user_arity", impl=np.sin, nin=1,
                            jvp=(lambda dx, x, *, out: dx, lambda dx, x, *, out: dx))
    # dualad's own primitives declare both rules (a user's JVP rule alone is transposed)
    own = Family("errors_own")
    with pytest.raises(RegistrationError, match="needs vjp= next to jvp="):
        own.defprimitive("user_forward_only", impl=np.sin, jvp=lambda dx, x, *, out: dx)
    with pytest.raises(RegistrationError, match="2 jvp rules but 1 vjp rules"):
        dualad.defprimitive("user_vjp_arity", impl=np.multiply,
                            jvp=(lambda dx, x, y, *, out: dx * y, lambda dy, x, y, *, out: x * dy),
                            vjp=lambda ct, x, y, *, out: ct * y)
    with pytest.raises(RegistrationError, match="argument 2 is differentiable in one mode"):
        dualad.defprimitive("user_vjp_none", impl=np.multiply,
                            jvp=(lambda dx, x, y, *, out: dx * y, None),
                            vjp=(lambda ct, x, y, *, out: ct * y, lambda ct, x, y, *, out: x))
    with pytest.raises(RegistrationError, match="needs vjp_all="):
        own.defprimitive("user_all_forward_only", impl=np.add,
                            jvp_all=lambda dxs, x, y, *, out: dxs[0])
    with pytest.raises(RegistrationError, match="jvp_fused= goes beside jvp= rules"):
        dualad.defprimitive("user_fused_unary", impl=np.sin, jvp=lambda dx, x, *, out: dx,
                            vjp=lambda ct, x, *, out: ct, elementwise=True,
                            jvp_fused=lambda dxs, x, *, out: dxs[0])
    with pytest.raises(RegistrationError, match="two differentiable arguments"):
        dualad.defprimitive("user_fused_half", impl=np.copysign, elementwise=True,
                            jvp=(lambda dx, x, y, *, out: dx, None),
                            vjp=(lambda ct, x, y, *, out: ct, None),
                            jvp_fused=lambda dxs, x, y, *, out: dxs[0])
    assert not any(name in dualad.REGISTRY for name in (
        "user_no_rule", "user_cos_again", "user_arity", "user_forward_only",
        "user_vjp_arity", "user_vjp_none", "user_all_forward_only", "user_fused_unary",
        "user_fused_half"))
