"""Elementwise primitives: NumPy's ufuncs with float loops, one declaration each.

Rules see tangents already broadcast-safe (``elementwise=True`` pads a lower-rank operand's
tangent to the output's rank), so ``dx * y`` is right for any broadcast pair. Conventions at
kinks follow JAX: ``abs'(0) = 1``, ``maximum``/``minimum`` ties split 0.5/0.5,
``d/dx x**y = 0`` where ``y == 0``, ``d/dy x**y = 0`` where ``x == 0``.

For complex values the rules follow JAX's conventions: a holomorphic rule ``dx * f'(x)``
serves both modes with no conjugate; ``absolute`` and ``conjugate``, which are not
holomorphic, have R-linear rules of their own (see the guide's Complex numbers page).

Each rule forms the derivative from the primals first and touches the tangent once:
``dy * (-out / y)``, not ``-dy * out / y``. The tangent has ``k`` directions (a ``jacfwd``
chunk, a ``jacrev`` batch of cotangents), so every operation on it costs ``k`` times one on
the primal: the second spelling makes three passes over it instead of one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..registry import (
    POSITIVE,
    REALS,
    UNIT,
    Example,
    Family,
    Interval,
    Primitive,
    defnondiff,
    is_array,
    strip,
)
from .complex_parts import via_parts

ELEMENTWISE = Family("elementwise", complex_rules=True)

_UNARY_SHAPES = ((), (3,), (2, 3))
_BINARY_SHAPES = (((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)))


def _examples(ufunc: Any, nin: int) -> tuple[Example, ...]:
    name = ufunc.__name__

    def call(np_: Any, *xs: Any) -> Any:
        return getattr(np_, name)(*xs)

    shapes = _UNARY_SHAPES if nin == 1 else _BINARY_SHAPES
    return tuple(Example(call, s if nin > 1 else (s,)) for s in shapes)


def _complex_examples(ufunc: Any, nin: int, domain: Interval | None = None) -> tuple:
    """Examples of complex arguments, written through their real and imaginary parts."""
    name = ufunc.__name__
    call = via_parts(lambda np_, *zs: getattr(np_, name)(*zs))
    shapes = (((2, 3),) * 2 if nin == 1 else ((2, 3), (2, 3), (3,), (3,)))
    return (Example(call, shapes, domain=domain),)


def _ufunc(ufunc: Any, jvp: Any, domain: Interval = REALS, **kw: Any) -> Primitive:
    """Declare a ufunc primitive: NumPy entry point and (unless ``impl=``) impl are the ufunc.

    An elementwise operation has a diagonal Jacobian, which is its own transpose: each rule
    ``dx -> dx * d out/dx`` serves as the VJP rule ``ct -> ct * d out/dx`` too (the engine sums
    the cotangent of a broadcast operand back to its shape), unless ``vjp=`` is given (a
    non-holomorphic rule for complex values).
    """
    nin = ufunc.nin
    return ELEMENTWISE.defprimitive(
        ufunc.__name__, impl=kw.pop("impl", ufunc), numpy=ufunc, jvp=jvp,
        vjp=kw.pop("vjp", jvp),
        elementwise=True, domain=domain,
        examples=kw.pop("examples", None) or _examples(ufunc, nin), **kw,
    )


def _safe_divide(num: Any, den: Any) -> Any:
    """num / den, with 0 where den == 0 (no warning, no nan)."""
    zero = den == 0
    return np.where(zero, 0.0, num / np.where(zero, 1.0, den))


def _in_dtype_of(factor: Any, out: Any) -> Any:
    """``factor`` (a plain array of constants, such as ``np.where(m, 1.0, -1.0)``) in the
    dtype of ``out``, so that a float32 result keeps a float32 derivative in both modes."""
    dtype = getattr(out, "dtype", None)
    if dtype is None or factor.dtype == dtype:
        return factor
    return factor.astype(dtype)


def _balanced_eq(x: Any, out: Any, other: Any) -> Any:
    """1 where x alone attains out, 0.5 at a tie with other, 0 elsewhere (JAX's rule)."""
    return _in_dtype_of(np.where(x == out, np.where(other == out, 0.5, 1.0), 0.0), out)


# --------------------------------------------------------------------------- arithmetic

add = _ufunc(np.add, (lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: dy),
             formula=("x + y", {"x": "1", "y": "1"}))
subtract = _ufunc(np.subtract, (lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: -dy),
                  formula=("x - y", {"x": "1", "y": "-1"}))

_BLOCK = 1 << 14  # values: 128 KiB of float64, so that a block of each operand stays in cache
_FUSE_FROM = 1 << 16  # values in a tangent; below, the loop costs more than it saves


def _product_jvp(dxs: tuple, x: Any, y: Any, *, out: Any) -> Any:
    """``dx * y + x * dy``, ``multiply``'s two rules at once (the product rule).

    For large plain arrays of one shape the sum is formed block by block, ``x * dy`` in a
    scratch block that stays in cache: one new array instead of three (8 MiB each at 2**20
    values, with their page faults), and the same bits as the two rules added. What it saves
    on the elementwise chain is measured by ``python -m benchmarks.forward``.
    """
    dx, dy = dxs
    arrays = (dx, dy, x, y)
    if not (all(a.__class__ is np.ndarray and a.flags.c_contiguous for a in arrays)
            and dx.size >= _FUSE_FROM and x.shape == y.shape == dx.shape[1:] == dy.shape[1:]
            and x.dtype == y.dtype == dx.dtype == dy.dtype):
        return dx * y + x * dy
    k, n = dx.shape[0], x.size
    total = np.empty(dx.shape, dx.dtype)
    rows, dx_rows, dy_rows = total.reshape(k, n), dx.reshape(k, n), dy.reshape(k, n)
    x_flat, y_flat = x.reshape(n), y.reshape(n)
    scratch = np.empty(_BLOCK, dx.dtype)
    if n < _BLOCK:  # short rows (a jacfwd chunk): blocks of whole rows
        step = _BLOCK // n
        for start in range(0, k, step):
            block = rows[start:start + step]
            part = scratch[: block.size].reshape(block.shape)
            np.multiply(dx_rows[start:start + step], y_flat, out=block)
            np.multiply(x_flat, dy_rows[start:start + step], out=part)
            block += part
        return total
    for i in range(k):  # long rows: blocks along each
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            block, part = rows[i, start:stop], scratch[: stop - start]
            np.multiply(dx_rows[i, start:stop], y_flat[start:stop], out=block)
            np.multiply(x_flat[start:stop], dy_rows[i, start:stop], out=part)
            block += part
    return total


multiply = _ufunc(np.multiply,
                  (lambda dx, x, y, *, out: dx * y, lambda dy, x, y, *, out: x * dy),
                  formula=("x * y", {"x": "y", "y": "x"}), jvp_fused=_product_jvp,
                  examples=_examples(np.multiply, 2) + _complex_examples(np.multiply, 2))
true_divide = _ufunc(
    np.true_divide,
    (lambda dx, x, y, *, out: dx / y, lambda dy, x, y, *, out: dy * (-out / y)),
    formula=("x / y", {"x": "1/y", "y": "-x/y**2"}), domain=POSITIVE,
    examples=_examples(np.true_divide, 2) + _complex_examples(np.true_divide, 2, POSITIVE),
)
negative = _ufunc(np.negative, lambda dx, x, *, out: -dx, formula=("-x", {"x": "-1"}))
positive = _ufunc(np.positive, lambda dx, x, *, out: dx, formula=("+x", {"x": "1"}))
reciprocal = _ufunc(np.reciprocal, lambda dx, x, *, out: dx * (-out * out),
                    formula=("1/x", {"x": "-1/x**2"}), domain=POSITIVE)
square = _ufunc(np.square, lambda dx, x, *, out: 2 * x * dx, formula=("x**2", {"x": "2 x"}))
sqrt = _ufunc(np.sqrt, lambda dx, x, *, out: dx * (0.5 / out),  # inf at 0, as in JAX
              formula=("sqrt(x)", {"x": "1/(2 sqrt(x))"}), domain=POSITIVE,
              examples=_examples(np.sqrt, 1) + _complex_examples(np.sqrt, 1, POSITIVE))
cbrt = _ufunc(np.cbrt, lambda dx, x, *, out: dx / (3 * out * out),
              formula=("cbrt(x)", {"x": "1/(3 cbrt(x)**2)"}),
              domain=Interval(-2, 2, avoid=(0.0,), margin=0.2))


def _abs_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    # |x|' is 1 at 0, as in JAX. For complex z, d|z| = Re(conj(z) dz) / |z|, an R-linear
    # map of dz, and 0 at z == 0 (JAX's choice).
    if x.dtype.kind == "c":
        return np.real(dx * _safe_divide(np.conjugate(x), out))
    return np.where(x >= 0, dx, -dx)


def _abs_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    # the transpose of dz -> Re(a dz) is ct -> ct a (JAX's pairing Re(sum(u * v)))
    if x.dtype.kind == "c":
        return ct * _safe_divide(np.conjugate(x), out)
    return np.where(x >= 0, ct, -ct)


absolute = _ufunc(np.absolute, _abs_jvp, vjp=_abs_vjp,
                  formula=("|x|", {"x": "sign(x)"}),
                  domain=Interval(-2, 2, avoid=(0.0,)),
                  examples=_examples(np.absolute, 1) + _complex_examples(np.absolute, 1))
fabs = _ufunc(np.fabs, lambda dx, x, *, out: np.where(x >= 0, dx, -dx),
              formula=("|x|", {"x": "sign(x)"}), domain=Interval(-2, 2, avoid=(0.0,)))


def _power_impl(x: Any, y: Any) -> Any:
    # x ** 2 as NumPy's operator computes it: np.square, cheaper than np.power.
    if (y.__class__ is int or y.__class__ is float) and y == 2:
        return np.square(x)
    return np.power(x, y)


def _power_dx(dx: Any, x: Any, y: Any, *, out: Any) -> Any:
    # y * x**(y-1), and 0 where y == 0 so that d/dx x**0 is 0 even at x == 0 (JAX's choice).
    if isinstance(y, (int, float)) and not isinstance(y, bool):  # x ** 2, the common case
        if y == 0:
            return dx * 0.0
        if y == 2:
            if (dx.__class__ is np.ndarray or is_array(dx)) and (
                    x.__class__ is np.ndarray or is_array(x)):  # (the same bits compiled)
                product = np.multiply(x, dx)  # one new array, doubled in place
                product *= 2.0
                return product
            return dx * (2 * x)
        return dx * (y * np.power(x, y - 1))
    y_safe = np.where(y == 0, 1.0, y)
    return dx * np.where(y == 0, 0.0, y_safe * np.power(x, y_safe - 1))


def _power_dy(dy: Any, x: Any, y: Any, *, out: Any) -> Any:
    # log(x) * x**y, and 0 where x == 0 (the limit along x**y with y > 0, JAX's choice);
    # in out's dtype when x is a Python number (2.0 ** x of float32 x is float32)
    return dy * (np.log(_in_dtype_of(np.where(x == 0, 1.0, x), out)) * out)


power = _ufunc(
    np.power, (_power_dx, _power_dy), formula=("x**y", {"x": "y x**(y-1)", "y": "log(x) x**y"}),
    domain=POSITIVE, impl=_power_impl,
    examples=_examples(np.power, 2) + _complex_examples(np.power, 2, POSITIVE) + (
        Example(lambda np_, x: x ** 2 + x ** 3.5 - x ** 1 + 2.0 ** x, ((2, 3),)),
        Example(lambda np_, x: x ** 0, (), make=lambda rng: (np.array([0.0, 1.5]),)),
        # JAX returns nan here (0 ** 0 with an array exponent); dualad the finite limit 0.
        Example(lambda np_, x: np_.power(x, np_.array([0.0, 2.0])), (),
                make=lambda rng: (np.array([0.0, 1.5]),), finite_differences=True,
                second_order=False),
    ),
)
float_power = _ufunc(np.float_power, (_power_dx, _power_dy),
                     formula=("x**y in float64", {"x": "y x**(y-1)", "y": "log(x) x**y"}),
                     domain=POSITIVE)


remainder = _ufunc(
    np.remainder,
    (lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: dy * -np.floor_divide(x, y)),
    formula=("x mod y (sign of y)", {"x": "1", "y": "-floor(x/y)"}),
    domain=Interval(0.3, 2.5, avoid=(1.0, 2.0)),
    examples=(Example(lambda np_, x, y: np_.remainder(x, y), make=lambda rng: (
        rng.uniform(0.2, 5, (2, 3)) * rng.choice([-1, 1], (2, 3)),
        rng.uniform(0.7, 0.9, (3,)) * rng.choice([-1, 1], (3,)))),),
)
fmod = _ufunc(
    np.fmod,
    (lambda dx, x, y, *, out: dx, lambda dy, x, y, *, out: dy * -np.trunc(x / y)),
    doc="C fmod (sign of x); d/dx = 1, d/dy = -trunc(x/y)",
    examples=(Example(lambda np_, x, y: np_.fmod(x, y), make=lambda rng: (
        rng.uniform(0.2, 5, (2, 3)) * rng.choice([-1, 1], (2, 3)),
        rng.uniform(0.7, 0.9, (3,)) * rng.choice([-1, 1], (3,)))),),
)

# --------------------------------------------------------------------------- exp and log

# ln 2 and ln 10 as Python floats, which keep a float32 derivative float32 (NumPy's scalars
# would promote it to float64)
_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))

exp = _ufunc(np.exp, lambda dx, x, *, out: dx * out, formula=("e**x", {"x": "e**x"}),
             examples=_examples(np.exp, 1) + _complex_examples(np.exp, 1))
exp2 = _ufunc(np.exp2, lambda dx, x, *, out: dx * (out * _LN2), formula=("2**x", {"x": "ln2 2**x"}))
expm1 = _ufunc(np.expm1, lambda dx, x, *, out: dx * (out + 1), formula=("e**x - 1", {"x": "e**x"}))
log = _ufunc(np.log, lambda dx, x, *, out: dx / x, formula=("ln x", {"x": "1/x"}), domain=POSITIVE,
             examples=_examples(np.log, 1) + _complex_examples(np.log, 1, POSITIVE))
log2 = _ufunc(np.log2, lambda dx, x, *, out: dx / (x * _LN2),
              formula=("log2 x", {"x": "1/(x ln2)"}), domain=POSITIVE)
log10 = _ufunc(np.log10, lambda dx, x, *, out: dx / (x * _LN10),
               formula=("log10 x", {"x": "1/(x ln10)"}), domain=POSITIVE)
log1p = _ufunc(np.log1p, lambda dx, x, *, out: dx / (1 + x), formula=("ln(1+x)", {"x": "1/(1+x)"}),
               domain=Interval(-0.5, 2))
logaddexp = _ufunc(
    np.logaddexp,
    (lambda dx, x, y, *, out: dx * np.exp(x - out), lambda dy, x, y, *, out: dy * np.exp(y - out)),
    formula=("ln(e**x + e**y)", {"x": "e**(x-out)", "y": "e**(y-out)"}),
)
logaddexp2 = _ufunc(
    np.logaddexp2,
    (lambda dx, x, y, *, out: dx * np.exp2(x - out),
     lambda dy, x, y, *, out: dy * np.exp2(y - out)),
    formula=("log2(2**x + 2**y)", {"x": "2**(x-out)", "y": "2**(y-out)"}),
)

# --------------------------------------------------------------------------- trigonometric

sin = _ufunc(np.sin, lambda dx, x, *, out: dx * np.cos(x), formula=("sin x", {"x": "cos x"}))
cos = _ufunc(np.cos, lambda dx, x, *, out: dx * -np.sin(x), formula=("cos x", {"x": "-sin x"}))
tan = _ufunc(np.tan, lambda dx, x, *, out: dx * (1 + out * out),
             formula=("tan x", {"x": "1 + tan**2 x"}), domain=Interval(-1.2, 1.2),
             examples=_examples(np.tan, 1) + _complex_examples(np.tan, 1, Interval(-1.2, 1.2)))
arcsin = _ufunc(np.arcsin, lambda dx, x, *, out: dx / np.sqrt(1 - x * x),
                formula=("arcsin x", {"x": "1/sqrt(1-x**2)"}), domain=UNIT,
                examples=_examples(np.arcsin, 1) + _complex_examples(np.arcsin, 1, UNIT))
arccos = _ufunc(np.arccos, lambda dx, x, *, out: dx / -np.sqrt(1 - x * x),
                formula=("arccos x", {"x": "-1/sqrt(1-x**2)"}), domain=UNIT)
arctan = _ufunc(np.arctan, lambda dx, x, *, out: dx / (1 + x * x),
                formula=("arctan x", {"x": "1/(1+x**2)"}))
arctan2 = _ufunc(
    np.arctan2,
    (lambda dx, y, x, *, out: dx * (x / (x * x + y * y)),
     lambda dy, y, x, *, out: dy * (-y / (x * x + y * y))),
    formula=("arctan2(y, x)", {"y": "x/(x**2+y**2)", "x": "-y/(x**2+y**2)"}),
    domain=Interval(-2, 2, avoid=(0.0,), margin=0.2),
)
hypot = _ufunc(
    np.hypot,
    (lambda dx, x, y, *, out: dx * _safe_divide(x, out),
     lambda dy, x, y, *, out: dy * _safe_divide(y, out)),
    formula=("sqrt(x**2+y**2)", {"x": "x/out", "y": "y/out"}),
    domain=Interval(-2, 2, avoid=(0.0,)),
)
sinh = _ufunc(np.sinh, lambda dx, x, *, out: dx * np.cosh(x), formula=("sinh x", {"x": "cosh x"}))
cosh = _ufunc(np.cosh, lambda dx, x, *, out: dx * np.sinh(x), formula=("cosh x", {"x": "sinh x"}))
tanh = _ufunc(np.tanh, lambda dx, x, *, out: dx * (1 - out * out),
              formula=("tanh x", {"x": "1 - tanh**2 x"}))
arcsinh = _ufunc(np.arcsinh, lambda dx, x, *, out: dx / np.sqrt(x * x + 1),
                 formula=("arcsinh x", {"x": "1/sqrt(x**2+1)"}))
# sqrt(x - 1) sqrt(x + 1), not sqrt(x**2 - 1): the same for real x > 1, and on arccosh's
# branch for complex x
arccosh = _ufunc(np.arccosh, lambda dx, x, *, out: dx / (np.sqrt(x - 1) * np.sqrt(x + 1)),
                 formula=("arccosh x", {"x": "1/sqrt(x**2-1)"}), domain=Interval(1.2, 3),
                 examples=(_examples(np.arccosh, 1)
                           + _complex_examples(np.arccosh, 1, Interval(1.2, 3))))
arctanh = _ufunc(np.arctanh, lambda dx, x, *, out: dx / (1 - x * x),
                 formula=("arctanh x", {"x": "1/(1-x**2)"}), domain=UNIT)
_TO_RADIANS = ("x pi/180", {"x": "pi/180"})
_TO_DEGREES = ("x 180/pi", {"x": "180/pi"})
deg2rad = _ufunc(np.deg2rad, lambda dx, x, *, out: np.deg2rad(dx), formula=_TO_RADIANS)
rad2deg = _ufunc(np.rad2deg, lambda dx, x, *, out: np.rad2deg(dx), formula=_TO_DEGREES)
radians = _ufunc(np.radians, lambda dx, x, *, out: np.radians(dx), formula=_TO_RADIANS)
degrees = _ufunc(np.degrees, lambda dx, x, *, out: np.degrees(dx), formula=_TO_DEGREES)

# --------------------------------------------------------------------------- comparisons of values

maximum = _ufunc(
    np.maximum,
    (lambda dx, x, y, *, out: dx * _balanced_eq(x, out, y),
     lambda dy, x, y, *, out: dy * _balanced_eq(y, out, x)),
    doc="max(x, y); derivative of the larger, split 0.5/0.5 at ties (JAX)",
    examples=_examples(np.maximum, 2) + _complex_examples(np.maximum, 2),
)
minimum = _ufunc(
    np.minimum,
    (lambda dx, x, y, *, out: dx * _balanced_eq(x, out, y),
     lambda dy, x, y, *, out: dy * _balanced_eq(y, out, x)),
    doc="min(x, y); derivative of the smaller, split 0.5/0.5 at ties (JAX)",
)
fmax = _ufunc(
    np.fmax,
    (lambda dx, x, y, *, out: dx * _balanced_eq(x, out, y),
     lambda dy, x, y, *, out: dy * _balanced_eq(y, out, x)),
    doc="max(x, y) ignoring nan; derivative of the larger, 0.5/0.5 at ties",
)
fmin = _ufunc(
    np.fmin,
    (lambda dx, x, y, *, out: dx * _balanced_eq(x, out, y),
     lambda dy, x, y, *, out: dy * _balanced_eq(y, out, x)),
    doc="min(x, y) ignoring nan; derivative of the smaller, 0.5/0.5 at ties",
)
copysign = _ufunc(
    np.copysign,
    (lambda dx, x, y, *, out: dx * _in_dtype_of(
        np.where(np.signbit(x) == np.signbit(y), 1.0, -1.0), out), None),
    doc="|x| with the sign of y; d/dx = +-1, not differentiable in y (piecewise constant)",
    domain=Interval(-2, 2, avoid=(0.0,)),
    examples=(Example(lambda np_, x: np_.copysign(x, np_.array([1.0, -1.0, -2.0])), ((3,),)),),
)
ldexp = _ufunc(
    np.ldexp, (lambda dx, x, n, *, out: np.ldexp(dx, n), None),
    doc="x * 2**n for integer n; d/dx = 2**n",
    examples=(Example(lambda np_, x: np_.ldexp(x, np_.array([1, -2, 3])), ((2, 3),)),),
)

# --------------------------------------------------------------------------- multiple outputs


def _modf_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    return dx, None


def _modf_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    # x_bar = frac_bar (the integral part is piecewise constant)
    return ct[0]


modf = ELEMENTWISE.defprimitive(
    "modf", impl=np.modf, numpy=np.modf, jvp=_modf_jvp, vjp=_modf_vjp, elementwise=True,
    multiple_results=True,
    domain=Interval(-3, 3, avoid=(-2.0, -1.0, 0.0, 1.0, 2.0)),
    examples=(Example(lambda np_, x: np_.modf(x)[0], ((2, 3),)),),
    doc="fractional and integral parts; d frac/dx = 1, d int/dx = 0",
)


def _frexp_jvp(dx: Any, x: Any, *, out: Any) -> Any:
    return np.ldexp(dx, -out[1]), None


def _frexp_vjp(ct: Any, x: Any, *, out: Any) -> Any:
    # x_bar = mantissa_bar * 2**-exponent
    return np.ldexp(ct[0], -out[1])


frexp = ELEMENTWISE.defprimitive(
    "frexp", impl=np.frexp, numpy=np.frexp, jvp=_frexp_jvp, vjp=_frexp_vjp, elementwise=True,
    multiple_results=True, domain=Interval(0.3, 6, avoid=(0.5, 1.0, 2.0, 4.0)),
    examples=(Example(lambda np_, x: np_.frexp(x)[0], ((2, 3),)),),
    doc="mantissa and exponent; d mantissa/dx = 2**-exponent",
)

# --------------------------------------------------------------------------- casts



def _cast(t: Any, dtype: Any) -> Any:
    """``t`` in ``dtype``; a complex value cast to a real dtype keeps its real part, as
    NumPy's and JAX's casts do, so the rule is the cast itself (an R-linear map)."""
    if np.dtype(dtype).kind != "c" and t.dtype.kind == "c":
        t = np.real(t)
    return t.astype(dtype)


astype = ELEMENTWISE.defprimitive(
    "astype", impl=lambda x, *, dtype: _cast(x, dtype),
    jvp=lambda dx, x, *, out, dtype: _cast(dx, dtype),
    vjp=lambda ct, x, *, out, dtype: _cast(ct, x.dtype), elementwise=True,
    examples=(Example(lambda np_, x: (x * 1.0).astype(np_.float32).astype(np_.float64) * 2,
                      ((2, 3),), rtol=1e-5, atol=1e-6),),
    doc="cast to another float or complex dtype; d/dx = 1 (the real part into a real dtype)",
)
# conj is R-linear and not holomorphic: its own transpose under JAX's pairing Re(sum(u * v))
conjugate = _ufunc(np.conjugate, lambda dx, x, *, out: np.conjugate(dx),
                   examples=_examples(np.conjugate, 1) + _complex_examples(np.conjugate, 1),
                   doc="complex conjugate; d conj(x) = conj(dx) (the identity for reals)")

# --------------------------------------------------------------------------- i0
# NumPy writes np.i0 as a Python function (dispatched through __array_function__); dualad's
# rule is written with primitives, so every order follows. (np.sinc is in sinc.py.)


def _i1(x: Any) -> Any:
    """I1(x) = (1 / 2 pi) * integral of cos t exp(x cos t) over a period, by the trapezoidal
    rule, which converges geometrically for a periodic analytic integrand: N points leave an
    error near exp(-N**2 / 2|x|), so N = max(64, sqrt(100 |x|)) keeps it below 1e-21."""
    largest = np.max(np.abs(strip(x)), initial=0.0)
    # the decision is the integer n (for dualad.compile, a guard that holds for |x| < 40)
    n = int(np.maximum(64.0, np.ceil(np.sqrt(np.multiply(100.0, largest, dtype=np.float64)))))
    cos = np.cos(2.0 * np.pi * np.arange(n) / n).astype(np.result_type(x, np.float32))
    return np.mean(cos * np.exp(np.multiply.outer(x, cos)), axis=-1)


i0 = ELEMENTWISE.defprimitive(
    "i0", impl=np.i0, numpy=np.i0, split_args=lambda x: ((x,), {}),
    jvp=lambda dx, x, *, out: dx * _i1(x), vjp=lambda ct, x, *, out: ct * _i1(x),
    examples=(Example(lambda np_, x: np_.i0(x), ((2, 3),), domain=Interval(-4, 4)),
              Example(lambda np_, x: np_.i0(x * 10.0), ((3,),))),
    doc="np.i0, the modified Bessel function of order 0; d/dx = I1(x)",
)


# --------------------------------------------------------------------------- not differentiable

# sign(z) = z / |z| for complex z is not piecewise constant: refused there, not zeroed
defnondiff(np.sign, why="piecewise constant: derivative 0 where it exists (JAX's convention)",
           complex_instead="z / np.abs(z)")
defnondiff(
    np.floor, np.ceil, np.trunc, np.rint, np.floor_divide, np.signbit, np.heaviside,
    np.spacing, np.nextafter, np.isnan, np.isfinite, np.isinf, np.isnat,
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.round, np.around, np.fix, np.isclose, np.allclose, np.array_equal, np.isreal,
    np.iscomplex, np.isrealobj, np.iscomplexobj, np.isscalar,
    why="piecewise constant: derivative 0 where it exists (JAX's convention)",
)
