"""The NumPy surface dualad claims is registered, and nothing else slips through.

Every function named in the forward-mode issue (and the HIPS autograd surface it sets as the
bar) must be a primitive, a composite, or marked non-differentiable; a NumPy function that is
none of these must raise rather than run on the primal.
"""

from __future__ import annotations

import numpy as np
import pytest

import dualad
from dualad.registry import NONDIFF, NUMPY_TABLE

UFUNCS = """
add subtract multiply divide true_divide floor_divide negative positive power float_power
reciprocal square sqrt cbrt absolute fabs mod remainder fmod exp exp2 expm1 log log2 log10
log1p logaddexp logaddexp2 sin cos tan arcsin arccos arctan arctan2 hypot sinh cosh tanh
arcsinh arccosh arctanh deg2rad rad2deg degrees radians maximum minimum fmax fmin copysign
ldexp matmul sign floor ceil trunc rint less less_equal greater greater_equal equal not_equal
logical_and logical_or logical_xor logical_not isnan isfinite isinf signbit heaviside
""".split()

FUNCTIONS = """
sum mean average prod cumsum cumprod max amax min amin std var dot vdot inner outer tensordot
einsum trace diagonal diag reshape ravel transpose moveaxis swapaxes squeeze expand_dims
broadcast_to atleast_1d atleast_2d concatenate stack hstack vstack split array_split tile
repeat flip roll where take take_along_axis pad clip sort zeros_like ones_like full_like
shape ndim size triu tril kron cross diff gradient rot90 flipud fliplr rollaxis column_stack
dstack append select nan_to_num linspace partition argsort empty_like copy interp polyval
polyfit sinc i0 cov corrcoef unique histogram histogram_bin_edges piecewise apply_along_axis
searchsorted digitize bincount
""".split()

LINALG = "inv solve det slogdet cholesky norm eigh svd pinv lstsq matrix_rank".split()

UFUNC_METHODS = """
add.reduce multiply.reduce maximum.reduce minimum.reduce fmax.reduce fmin.reduce
logaddexp.reduce logaddexp2.reduce hypot.reduce add.accumulate multiply.accumulate
maximum.accumulate minimum.accumulate logaddexp.accumulate logaddexp2.accumulate add.at
subtract.at
""".split()
"""ufunc methods with a derivative: NumPy functions (np.add.reduce is np.sum) or declarations
named after the method."""

NUMPY2 = [name for name in ("vecdot", "matvec", "vecmat") if hasattr(np, name)]


def _claimed():
    for name in UFUNCS + FUNCTIONS + NUMPY2:
        yield f"np.{name}", getattr(np, name)
    for name in LINALG:
        yield f"np.linalg.{name}", getattr(np.linalg, name)


@pytest.mark.parametrize("name, fn", list(_claimed()), ids=[n for n, _ in _claimed()])
def test_claimed_function_is_registered(name, fn):
    assert fn in NUMPY_TABLE or fn in NONDIFF, f"{name}: neither registered nor non-differentiable"


def test_nondiff_and_differentiable_are_disjoint():
    assert not set(NONDIFF) & set(NUMPY_TABLE)


@pytest.mark.parametrize("name", UFUNC_METHODS)
def test_claimed_ufunc_method_is_declared(name):
    ufunc, method = name.split(".")
    d = dualad.Dual(np.arange(1.0, 5.0), np.ones((1, 4)))
    if method == "at":
        assert name in dualad.REGISTRY, f"np.{name} is not declared"
        return
    result = getattr(getattr(np, ufunc), method)(d)
    assert isinstance(result, dualad.Dual), f"np.{name} returned {type(result).__name__}"


@pytest.mark.parametrize("fn", [np.unwrap, np.real_if_close, np.trim_zeros],
                         ids=lambda f: f.__name__)
def test_unregistered_function_raises_naming_it(fn):
    if fn in NUMPY_TABLE or fn in NONDIFF:
        pytest.fail(f"{fn.__name__} is registered; pick another unregistered function")
    d = dualad.Dual(np.arange(4.0), np.ones((1, 4)))
    with pytest.raises(dualad.UnsupportedPrimitiveError, match=fn.__name__):
        fn(d)
