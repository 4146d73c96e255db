"""Gradient checking: dualad's derivatives against finite differences, and a gradient derived
by hand against dualad's.

:func:`check_grads` is JAX's ``jax.test_util.check_grads``: forward-mode JVPs against central
differences, reverse-mode VJPs against the JVPs and the differences by the dot-product
identity, then the same checks on the derivative functions themselves up to ``order``. It is
for people who write their own primitives: a wrong rule raises :class:`GradientCheckError`
with a report of where and by how much.

:func:`compare` is for people who derive a gradient by hand: it says whether their numbers
agree with dualad's to floating-point rounding (float64, or float32 when they computed in
float32) and, if not, which argument and which elements differ.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._boundary import argnums_tuple as _argnums
from .diagnose import first_mismatches
from .errors import DualadError, InvalidArgumentError, InvalidInputError, ShapeMismatchError
from .reverse_transforms import grad, vjp
from .transforms import jvp
from .tree import TreeDef, flatten, unflatten

_TOLERANCES = {"float16": 5e-2, "float32": 2e-3, "float64": 1e-6}
"""Default atol and rtol of check_grads by dtype. Central differences at the default step
are accurate to about eps ** (2/3) relative (3.7e-11 in float64, 2.4e-5 in float32) times a
factor set by the function's third derivative; these leave room for that factor (JAX uses
1e-5 and 2e-3 with its fixed step 1e-4), while a wrong rule is off by order 1."""

_NOISE_FACTOR = 10.0
"""Central differences cannot be more accurate than the rounding in the two values of f they
subtract: about ``eps |f(x)| / h`` per element. check_grads adds this many times that noise
to the tolerance of each element (it matters where a derivative is small next to a large
value, e.g. a float32 gradient entry of 1000 is known to ~0.02 by differences)."""

_AGREE_FACTOR = 1e3
"""compare: "agrees to <dtype> rounding" when the norm-wise relative error is at most this
many eps of the dtype. See :func:`compare` for why."""

_LOCALIZE_LIMIT = 1000
"""A failed reverse-mode check looks for the wrong elements by differencing each element of
the argument, two evaluations each; beyond this many elements it says so instead."""

_TIERS = (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.float16))
_TINY = float(np.finfo(np.float64).tiny)
_MODE_NAMES = {"fwd": "forward mode (JVP)", "rev": "reverse mode (VJP)"}


# --------------------------------------------------------------------------- dtypes and steps


def _float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` if it is a float dtype, else float64 (what dualad differentiates ints in)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _eps(dtype: Any) -> float:
    return float(np.finfo(_float_dtype(dtype)).eps)


def _least_precise(dtypes: Sequence[Any]) -> np.dtype:
    """The float dtype with the largest eps among ``dtypes`` (float64 if there are none)."""
    return max((_float_dtype(d) for d in dtypes), key=_eps, default=np.dtype(np.float64))


def default_step(dtype: Any = np.float64) -> float:
    """The base step of check_grads' central differences: ``eps ** (1/3)`` of ``dtype``.

    A central difference ``(f(x + h) - f(x - h)) / 2h`` has two errors (the lecture's slide
    on choosing the step size, seed 003): truncation, ``h**2 |f'''| / 6``, which shrinks with
    ``h``, and rounding, about ``eps |f| / h``, which grows as ``h`` shrinks because the two
    values of ``f`` agree in more and more leading digits. Their sum is smallest at
    ``h = (3 eps |f| / |f'''|) ** (1/3)``, that is ``eps ** (1/3)`` when ``f`` and ``f'''``
    are of similar size, and the error there is about ``eps ** (2/3)``: 3.7e-11 relative in
    float64 and 2.4e-5 in float32. check_grads multiplies this base step by
    ``max(1, |x|)`` element by element, because rounding in ``x + h`` is relative to ``|x|``:
    a step below ``x``'s own spacing would not move ``x`` at all.

    Parameters
    ----------
    dtype : dtype, optional
        A float dtype; integer dtypes count as float64, as dualad differentiates them.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> f"{default_step(np.float64):.3g}", f"{default_step(np.float32):.3g}"
    ('6.06e-06', '0.00492')
    """
    return _eps(dtype) ** (1 / 3)


def _default_tolerance(dtype: np.dtype) -> float:
    return _TOLERANCES.get(_float_dtype(dtype).name, _TOLERANCES["float64"])


# --------------------------------------------------------------------------- shared helpers


def _parameter_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    """The names of ``f``'s first ``n`` positional parameters; ``arg<i>`` where unknown."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # builtins and some callables have no signature
        params = []
    names = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break  # *args: the rest are anonymous
        names.append(p.name)
    return tuple(names[i] if i < len(names) else f"arg{i}" for i in range(n))


@dataclass(frozen=True)
class _Errors:
    """How far ``got`` is from ``expected``: the largest absolute error, the same relative to
    the largest ``|expected|`` (norm-wise), and the worst elements (index, expected, got)."""

    max_abs: float
    max_rel: float
    worst: tuple[tuple[tuple[int, ...], float, float], ...]


def _errors(expected: np.ndarray, got: np.ndarray, count: int = 3) -> _Errors:
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    same = (expected == got) | (np.isnan(expected) & np.isnan(got))  # equal infs, both nan
    err = np.where(same, 0.0, np.abs(got - expected))
    ranked = np.where(np.isnan(err), np.inf, err).ravel()
    order = np.argsort(-ranked, kind="stable")[:count]
    worst = tuple(
        (tuple(int(i) for i in np.unravel_index(j, err.shape)), float(expected.flat[j]),
         float(got.flat[j]))
        for j in order if ranked[j] > 0
    )
    max_abs = float(np.max(err, initial=0.0))
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(np.max(finite, initial=0.0))
    return _Errors(max_abs, max_abs / max(scale, _TINY), worst)


def _format_index(index: tuple[int, ...]) -> str:
    return str(index) if len(index) != 1 else f"({index[0]},)"


# --------------------------------------------------------------------------- check_grads: results


class GradientCheckError(DualadError, AssertionError):
    """A derivative that disagrees with its reference in :func:`check_grads`.

    The message is the full report; the attributes hold its parts: ``mode`` ("fwd" or
    "rev"), ``order``, ``function`` (which function was differentiated: ``f`` or, at order
    2, ``x -> jvp(f)(x; v)`` or ``x -> vjp(f)(x)(u)``), ``argument`` (its name),
    ``max_abs_error``, ``max_rel_error``, ``worst`` (``(index, expected, got)`` triples) and
    ``step`` (the finite-difference base step).
    """

    def __init__(self, message: str, *, mode: str, order: int, function: str, argument: str,
                 max_abs_error: float, max_rel_error: float,
                 worst: tuple[tuple[tuple[int, ...], float, float], ...], step: float) -> None:
        super().__init__(message)
        self.mode, self.order, self.function, self.argument = mode, order, function, argument
        self.max_abs_error, self.max_rel_error = max_abs_error, max_rel_error
        self.worst, self.step = worst, step


@dataclass(frozen=True)
class CheckRecord:
    """One check that passed: which derivative, against what, and how close it came.

    ``output`` is the output leaf a JVP check compared (None for the dot-product identity,
    which sums over all outputs); ``step`` the base step h of the differences.
    """

    order: int
    mode: str
    function: str
    argument: str
    output: int | None
    reference: str
    max_abs_error: float
    max_rel_error: float
    step: float
    atol: float
    rtol: float


@dataclass(frozen=True)
class GradCheckReport:
    """What :func:`check_grads` checked, returned when every check passed.

    JAX's ``check_grads`` returns None; this report says what was compared and how close
    each comparison came, and ``str(report)`` prints it as a table. ``max_abs_error`` and
    ``max_rel_error`` are the worst over the checks against central differences.

    Examples
    --------
    >>> import numpy as np
    >>> report = check_grads(lambda x: np.sin(x) * x, (np.array([0.5, 2.0]),), order=1)
    >>> len(report.checks), report.max_rel_error < 1e-8
    (3, True)
    """

    checks: tuple[CheckRecord, ...]
    order: int
    modes: tuple[str, ...]

    def _against_differences(self) -> list[CheckRecord]:
        return [c for c in self.checks if c.reference == "central differences"]

    @property
    def max_abs_error(self) -> float:
        """The largest absolute error of a check against central differences."""
        return max((c.max_abs_error for c in self._against_differences()), default=0.0)

    @property
    def max_rel_error(self) -> float:
        """The largest (norm-wise) relative error of a check against central differences."""
        return max((c.max_rel_error for c in self._against_differences()), default=0.0)

    def __str__(self) -> str:
        head = (f"check_grads passed {len(self.checks)} checks up to order {self.order} "
                f"(modes: {', '.join(self.modes)}); against central differences: max abs "
                f"error {self.max_abs_error:.3g}, max rel error {self.max_rel_error:.3g}")
        width = max([len("function")] + [len(c.function) for c in self.checks])
        named = max([len("argument")] + [len(c.argument) for c in self.checks])
        rows = [f"  {'order':<5}  {'mode':<4}  {'function':<{width}}  {'argument':<{named}}  "
                f"{'output':<6}  {'against':<19}  {'max abs err':>11}  {'max rel err':>11}  "
                f"{'step h':>8}"]
        rows += [f"  {c.order:<5}  {c.mode:<4}  {c.function:<{width}}  {c.argument:<{named}}  "
                 f"{'all' if c.output is None else c.output:<6}  {c.reference:<19}  "
                 f"{c.max_abs_error:>11.3g}  {c.max_rel_error:>11.3g}  {c.step:>8.3g}"
                 for c in self.checks]
        tail = "  (step h is the base step: each element moves by h * max(1, |x|))"
        return "\n".join([head, *rows, tail])


# --------------------------------------------------------------------------- check_grads: set-up


@dataclass
class _Settings:
    names: tuple[str, ...]
    modes: tuple[str, ...]
    order: int
    atol: float | None
    rtol: float | None
    eps: float | None
    rng: np.random.Generator
    records: list[CheckRecord] = field(default_factory=list)

    def tolerances(self, dtype: np.dtype) -> tuple[float, float]:
        tol = _default_tolerance(dtype)
        return (tol if self.atol is None else self.atol, tol if self.rtol is None else self.rtol)

    def step(self, dtype: np.dtype) -> float:
        return default_step(dtype) if self.eps is None else self.eps

    def argument(self, i: int) -> str:
        return f"{self.names[i]!r} (position {i})"


@dataclass
class _Level:
    """One function under check: ``f`` itself or, at order 2, a derivative function."""

    fun: Callable[..., Any]
    args: tuple[np.ndarray, ...]
    order: int
    label: str
    outputs: list[np.ndarray]
    out_tree: TreeDef
    atol: float
    rtol: float
    dtype: np.dtype


@dataclass
class _Probe:
    """Central differences of a level along a random direction in one argument."""

    index: int
    tangent: np.ndarray  # the direction actually moved along, after rounding x +- h d
    differences: list[np.ndarray]  # per output leaf, float64
    noise: list[np.ndarray]  # their rounding noise, _NOISE_FACTOR eps |f| / h, per element
    step: float
    jvp: list[np.ndarray] | None = None  # the JVP along ``tangent``, once computed


def _as_arguments(args: Any) -> tuple[np.ndarray, ...]:
    if not isinstance(args, (tuple, list)) or not args:
        raise InvalidInputError(
            f"check_grads takes the arguments as a non-empty tuple, e.g. check_grads(f, (x,)) "
            f"or check_grads(f, (x, W)); got {type(args).__name__}"
        )
    out = []
    for i, x in enumerate(args):
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"argument {i} of check_grads has dtype {a.dtype}: pass real float arrays "
                f"or numbers (complex and object arrays cannot be checked)"
            )
        out.append(a if a.dtype.kind == "f" else a.astype(np.float64))
    return tuple(out)


def _as_modes(modes: Any) -> tuple[str, ...]:
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in modes if m not in _MODE_NAMES]
    if unknown or not modes:
        raise InvalidArgumentError(
            f"modes={modes!r}: each mode must be 'fwd' or 'rev', e.g. modes=('fwd', 'rev')"
        )
    return tuple(m for m in ("fwd", "rev") if m in modes)


def _as_order(order: Any) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise InvalidArgumentError(
            f"order={order!r}: pass 1 (first derivatives) or 2 (also second derivatives)"
        )
    return int(order)


def _as_positive(value: Any, name: str, allow_zero: bool = True) -> float | None:
    if value is None:
        return None
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgumentError(
            f"{name}={value!r} must be a finite {'non-negative' if allow_zero else 'positive'} "
            f"number, or None for the default of the dtype"
        )
    return float(value)


# --------------------------------------------------------------------------- check_grads


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    *,
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    seed: int = 0,
) -> GradCheckReport:
    """Check dualad's derivatives of ``f`` at ``args`` against finite differences, as JAX's
    ``jax.test_util.check_grads`` does.

    For each argument in turn, along a random direction ``v`` in that argument:

    - ``"fwd"``: the JVP ``J v`` (:func:`dualad.jvp`) equals the central difference
      ``(f(x + h v) - f(x - h v)) / 2h`` element by element, within
      ``|got - expected| <= atol + rtol |expected| + 10 eps |f| / h``, the last term being
      the rounding noise of the difference (a float32 output of 1000 cannot be differenced
      more accurately than ~0.02); and its primal output equals ``f(x)``.
    - ``"rev"``: for a random output cotangent ``u``, the VJP ``J^T u`` (:func:`dualad.vjp`)
      satisfies the dot-product identity ``<J^T u, v> = <u, J v>`` with ``J v`` from central
      differences (the same tolerance, weighted by ``|u|``), and, when ``"fwd"`` is checked
      too, with ``J v`` from the JVP, to ``sqrt(eps)`` of the dtype relative to the sum of
      the absolute terms (both sides are exact up to rounding). On failure it differences
      each element of the argument (up to 1000 elements) to show which cotangent elements
      are wrong.
    - ``order >= 2``: the same checks on the derivative functions ``x -> jvp(f)(x; v)`` and
      ``x -> vjp(f)(x)(u)``, so a wrong second derivative is caught (forward over forward,
      reverse over forward, forward over reverse, reverse over reverse).

    The finite-difference step is chosen from the dtype: each element moves by
    ``h * max(1, |x|)`` with ``h = eps ** (1/3)`` (6.1e-6 in float64, 4.9e-3 in float32),
    the step that balances truncation error ``O(h**2)`` against rounding error ``O(eps / h)``
    (see :func:`default_step`). The difference is divided by the step actually taken after
    ``x + h v`` is rounded to the argument's dtype. The dtype is the least precise of the
    argument and the outputs; default tolerances are 1e-6 (float64) and 2e-3 (float32).

    Parameters
    ----------
    f : callable
        Ordinary NumPy code of positional arguments; it may return an array, a number or a
        tuple, list or dict of them.
    args : tuple
        Arrays or numbers to check at (integers are checked as float64). Every call of
        ``f`` gets fresh copies, so ``f`` may update its arguments in place; the caller's
        arrays are never changed.
    order : int
        1 checks first derivatives; 2 (the default) also second derivatives; 3 and more
        nest further.
    modes : tuple of str
        ``"fwd"``, ``"rev"`` or both.
    atol, rtol : float, optional
        Tolerances, replacing the dtype's default.
    eps : float, optional
        Replaces the base step ``h``; elements still move by ``eps * max(1, |x|)``, so for
        ``|x| <= 1`` it is JAX's absolute step.
    seed : int
        Seed of the random directions and cotangents.

    Returns
    -------
    GradCheckReport
        What was checked and the largest errors; ``str(report)`` prints a table. (JAX
        returns None; a report says more.)

    Raises
    ------
    GradientCheckError
        (an ``AssertionError``) naming the mode, order, function, argument, output, the max
        absolute and relative errors, the worst elements and the step.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> report = check_grads(lambda x, y: np.tanh(x) * y, (np.array([0.5, -1.0]), 2.0))
    >>> print(str(report).splitlines()[0][:60])
    check_grads passed 20 checks up to order 2 (modes: fwd, rev)
    >>> wrong_sin = dualad.defprimitive(
    ...     "wrong_sin_checking_doc", impl=np.sin,
    ...     jvp=lambda dx, x, *, out: -np.cos(x) * dx,     # the sign is wrong
    ...     vjp=lambda ct, x, *, out: -ct * np.cos(x))
    >>> try:
    ...     check_grads(wrong_sin, (0.5,), order=1)
    ... except GradientCheckError as err:
    ...     print(str(err).splitlines()[0])
    check_grads: forward mode (JVP) is wrong at order 1 for argument 'arg0' (position 0)
    """
    args = _as_arguments(args)
    settings = _Settings(
        names=_parameter_names(f, len(args)), modes=_as_modes(modes), order=_as_order(order),
        atol=_as_positive(atol, "atol"), rtol=_as_positive(rtol, "rtol"),
        eps=_as_positive(eps, "eps", allow_zero=False), rng=np.random.default_rng(seed),
    )
    _check_function(f, args, 1, "f", settings)
    return GradCheckReport(tuple(settings.records), settings.order, settings.modes)


def _check_function(fun: Callable[..., Any], args: tuple[np.ndarray, ...], order: int,
                    label: str, s: _Settings) -> None:
    """All checks of one function at one order, then of its derivative functions."""
    level = _level(fun, args, order, label, s)
    probes = [_probe(level, i, s) for i in range(len(args))]
    if "fwd" in s.modes:
        for probe in probes:
            _check_jvp(level, probe, s)
    u = [_unit(s.rng, out.shape).astype(out.dtype if out.dtype.kind == "f" else np.float64)
         for out in level.outputs]
    if "rev" in s.modes:
        _check_vjp(level, probes, u, s)
    if order < s.order:
        _check_derivative_functions(level, probes, u, s)


def _check_derivative_functions(level: _Level, probes: list[_Probe], u: list[np.ndarray],
                                s: _Settings) -> None:
    fun, label, order = level.fun, level.label, level.order + 1
    if "fwd" in s.modes:
        v = tuple(p.tangent for p in probes)
        _check_function(lambda *x: jvp(fun, x, v)[1], level.args, order,
                        f"x -> jvp({label})(x; v)", s)
    if "rev" in s.modes:
        cotangent = unflatten(level.out_tree, u)
        _check_function(lambda *x: vjp(fun, *x)[1](cotangent), level.args, order,
                        f"x -> vjp({label})(x)(u)", s)


def _copies(args: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Fresh copies of the arguments for one evaluation: ``f`` may update its arguments in
    place (``x *= 2``), which must change neither the caller's arrays nor later evaluations."""
    return tuple(a.copy() for a in args)


def _outputs(fun: Callable[..., Any], args: Sequence[Any]) -> tuple[list[np.ndarray], TreeDef]:
    leaves, tree = flatten(fun(*_copies(args)))
    arrays = [np.asarray(leaf) for leaf in leaves]
    for i, a in enumerate(arrays):
        if a.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"output {i} of the checked function has dtype {a.dtype}: check_grads needs "
                f"real arrays or numbers as outputs"
            )
    return arrays, tree


def _level(fun: Callable[..., Any], args: tuple[np.ndarray, ...], order: int, label: str,
           s: _Settings) -> _Level:
    outputs, tree = _outputs(fun, args)
    dtype = _least_precise([x.dtype for x in args] + [o.dtype for o in outputs])
    atol, rtol = s.tolerances(dtype)
    return _Level(fun, args, order, label, outputs, tree, atol, rtol, dtype)


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random normal array scaled to largest magnitude 1."""
    v = rng.standard_normal(shape)
    return v / max(float(np.max(np.abs(v), initial=0.0)), _TINY)


def _central_difference(level: _Level, i: int, direction: np.ndarray,
                        step: float) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """``(f(x + h d) - f(x - h d)) / 2h`` in argument ``i``, its rounding noise, and the
    direction actually moved along: ``x +- h d`` are rounded to the argument's dtype, so the
    true step is their difference (in float32 it differs from ``2 h d`` in the fifth digit)."""
    x = level.args[i]
    plus = np.asarray(x + step * direction).astype(x.dtype)
    minus = np.asarray(x - step * direction).astype(x.dtype)
    tangent = (plus.astype(np.float64) - minus.astype(np.float64)) / (2 * step)
    f_plus = _outputs(level.fun, level.args[:i] + (plus,) + level.args[i + 1:])[0]
    f_minus = _outputs(level.fun, level.args[:i] + (minus,) + level.args[i + 1:])[0]
    differences = [(p.astype(np.float64) - m.astype(np.float64)) / (2 * step)
                   for p, m in zip(f_plus, f_minus)]
    scale = _NOISE_FACTOR * _eps(level.dtype) / (2 * step)
    noise = [scale * (np.abs(p.astype(np.float64)) + np.abs(m.astype(np.float64)))
             for p, m in zip(f_plus, f_minus)]
    return tangent, differences, noise


def _probe(level: _Level, i: int, s: _Settings) -> _Probe:
    x = level.args[i]
    step = s.step(_least_precise([x.dtype] + [o.dtype for o in level.outputs]))
    direction = _unit(s.rng, x.shape) * np.maximum(1.0, np.abs(x.astype(np.float64)))
    tangent, differences, noise = _central_difference(level, i, direction, step)
    return _Probe(i, tangent.astype(x.dtype), differences, noise, step)


# --------------------------------------------------------------------------- check_grads: checks


def _check_jvp(level: _Level, probe: _Probe, s: _Settings) -> None:
    tangents = tuple(probe.tangent if j == probe.index else np.zeros_like(x)
                     for j, x in enumerate(level.args))
    out, out_dot = jvp(level.fun, _copies(level.args), tangents)
    _check_primal(level, probe, [np.asarray(o) for o in flatten(out)[0]], s)
    probe.jvp = [np.asarray(t, dtype=np.float64) for t in flatten(out_dot)[0]]
    for k, (expected, got) in enumerate(zip(probe.differences, probe.jvp)):
        errors = _errors(expected, got)
        if not _close(expected, got, level.atol + probe.noise[k], level.rtol):
            _raise(level, probe, s, "fwd", k, errors,
                   "the JVP along a random direction v against central differences "
                   "(f(x + h v) - f(x - h v)) / 2h", _elementwise_tolerance(level, True))
        s.records.append(_record(level, probe, s, "fwd", k, "central differences", errors))


def _check_primal(level: _Level, probe: _Probe, outputs: list[np.ndarray],
                  s: _Settings) -> None:
    for k, (expected, got) in enumerate(zip(level.outputs, outputs)):
        if not _close(expected, got, level.atol, level.rtol):
            _raise(level, probe, s, "fwd", k, _errors(expected, got),
                   "the primal output of jvp against f(x) (does f draw random numbers?)",
                   _elementwise_tolerance(level, False))


def _elementwise_tolerance(level: _Level, noise: bool) -> str:
    plus = (f" + {_NOISE_FACTOR:g} eps (|f(x + hv)| + |f(x - hv)|) / 2h (rounding in f)"
            if noise else "")
    return (f"|got - expected| <= atol + rtol |expected|{plus} with atol={level.atol:.3g}, "
            f"rtol={level.rtol:.3g}, eps of {level.dtype}")


def _close(expected: np.ndarray, got: np.ndarray, atol: Any, rtol: float) -> bool:
    """``|got - expected| <= atol + rtol |expected|`` everywhere (``atol`` may be an array)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if expected.shape != got.shape:
        return False
    return bool(np.all(np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)))


def _record(level: _Level, probe: _Probe, s: _Settings, mode: str, output: int | None,
            reference: str, errors: _Errors) -> CheckRecord:
    return CheckRecord(level.order, mode, level.label, s.names[probe.index], output,
                       reference, errors.max_abs, errors.max_rel, probe.step, level.atol,
                       level.rtol)


def _check_vjp(level: _Level, probes: list[_Probe], u: list[np.ndarray], s: _Settings) -> None:
    _, pullback = vjp(level.fun, *_copies(level.args))
    cotangents = pullback(unflatten(level.out_tree, u))
    u64 = [np.asarray(c, dtype=np.float64) for c in u]
    for probe, ct in zip(probes, cotangents):
        ct = np.asarray(ct, dtype=np.float64)
        got = float(np.sum(ct * probe.tangent.astype(np.float64)))
        _identity(level, probe, s, u64, ct, got, probe.differences, "central differences")
        if probe.jvp is not None:
            _identity(level, probe, s, u64, ct, got, probe.jvp, "JVP")


def _identity(level: _Level, probe: _Probe, s: _Settings, u: list[np.ndarray],
              ct: np.ndarray, got: float, jv: list[np.ndarray], reference: str) -> None:
    """``<J^T u, v> = <u, J v>``, with ``J v`` from ``reference``."""
    expected = float(sum(np.sum(a * b) for a, b in zip(u, jv)))
    terms = float(sum(np.sum(np.abs(a * b)) for a, b in zip(u, jv)))
    if reference == "JVP":  # both sides exact up to rounding: a tight tolerance
        atol, rtol = 0.0, min(level.rtol, _eps(level.dtype) ** 0.5)
        terms += float(np.sum(np.abs(ct * probe.tangent)))
        tolerance = f"{rtol:.3g} (sqrt(eps) of {level.dtype}) times the sum of |terms|"
    else:  # the elementwise tolerance of the differences, weighted by |u|
        atol = float(sum(np.sum(np.abs(a) * (level.atol + n)) for a, n in zip(u, probe.noise)))
        rtol = level.rtol
        tolerance = ("the elementwise one, " + _elementwise_tolerance(level, True)
                     + ", weighted by |u|")
    error = abs(got - expected)
    errors = _Errors(error, error / max(terms, _TINY), ())
    if not error <= atol + rtol * terms:
        errors = _Errors(errors.max_abs, errors.max_rel, _localize(level, probe, u, ct))
        _raise(level, probe, s, "rev", None, errors,
               f"the dot-product identity <J^T u, v> = <u, J v> with J^T u from the VJP and "
               f"J v from {'the JVP' if reference == 'JVP' else reference}: {got:.6g} against "
               f"{expected:.6g}", tolerance)
    s.records.append(_record(level, probe, s, "rev", None, reference, errors))


def _localize(level: _Level, probe: _Probe, u: list[np.ndarray],
              ct: np.ndarray) -> tuple[tuple[tuple[int, ...], float, float], ...]:
    """The worst elements of the cotangent ``J^T u`` against a central difference of
    ``<u, f(x)>`` in each element of the argument (empty beyond ``_LOCALIZE_LIMIT``)."""
    x = level.args[probe.index]
    if x.size > _LOCALIZE_LIMIT:
        return ()
    reference = np.zeros(x.shape)
    scale = np.maximum(1.0, np.abs(x.astype(np.float64)))
    for j in range(x.size):
        direction = np.zeros(x.shape)
        direction.flat[j] = scale.flat[j]
        tangent, differences, _ = _central_difference(level, probe.index, direction,
                                                      probe.step)
        moved = tangent.flat[j]
        slope = sum(float(np.sum(a * d)) for a, d in zip(u, differences))
        reference.flat[j] = slope / moved if moved else np.nan
    return _errors(reference, ct).worst


def _raise(level: _Level, probe: _Probe, s: _Settings, mode: str, output: int | None,
           errors: _Errors, check: str, tolerance: str) -> None:
    outs = f", output {output}" if output is not None and len(level.outputs) > 1 else ""
    where = (f"check_grads: {_MODE_NAMES[mode]} is wrong at order {level.order} for argument "
             f"{s.argument(probe.index)}{outs}")
    lines = [
        where,
        f"  function checked: {level.label}",
        f"  check: {check}",
        f"  max abs error {errors.max_abs:.3g}, max rel error {errors.max_rel:.3g} "
        f"(tolerance: {tolerance})",
        *_worst_lines(mode, errors, level.args[probe.index].size),
        f"  finite-difference step: h = {probe.step:.3g} * max(1, |x|) per element "
        f"({'eps= as given' if s.eps is not None else 'eps ** (1/3) of the dtype'})",
    ]
    raise GradientCheckError(
        "\n".join(lines), mode=mode, order=level.order, function=level.label,
        argument=s.names[probe.index], max_abs_error=errors.max_abs,
        max_rel_error=errors.max_rel, worst=errors.worst, step=probe.step,
    )


def _worst_lines(mode: str, errors: _Errors, size: int) -> list[str]:
    if mode == "rev" and not errors.worst:
        if size > _LOCALIZE_LIMIT:
            return [f"  (the argument has {size} elements: too many to difference one by one; "
                    f"check a smaller example to see which elements are wrong)"]
        return ["  (differencing element by element finds no element off: the identity fails "
                "only in sum; try another seed or a looser tolerance)"]
    what = ("worst elements of J^T u against central differences of <u, f(x)>"
            if mode == "rev" else "worst elements")
    return [f"  {what} (index: expected, got):"] + [
        f"    {_format_index(i)}: {e:.6g}, {g:.6g}" for i, e, g in errors.worst]


# --------------------------------------------------------------------------- compare: results


@dataclass(frozen=True)
class ArgumentComparison:
    """A hand-derived gradient against dualad's, for one argument.

    ``max_rel_error`` is norm-wise, ``max |manual - dualad| / max |dualad|``: the error
    compared with the gradient's own size. The verdict uses it.
    ``max_elementwise_rel_error`` is ``max |manual - dualad| / |dualad|`` element by element,
    which blows up at entries that are zero or nearly so, where any rounding is a large
    relative error; it is reported, not judged. ``worst`` holds up to three
    ``(index, manual, dualad)`` triples, largest absolute error first. ``level`` is
    "float64", "float32" or "float16" (the rounding it agrees to) or "differs".
    ``manual`` and ``dualad`` hold the two gradients (``dualad``'s in float64).
    """

    name: str
    position: int
    shape: tuple[int, ...]
    dtype: np.dtype
    max_abs_error: float
    max_rel_error: float
    max_elementwise_rel_error: float
    worst: tuple[tuple[tuple[int, ...], float, float], ...]
    level: str
    verdict: str
    manual: np.ndarray = field(repr=False, compare=False)
    dualad: np.ndarray = field(repr=False, compare=False)

    @property
    def agrees(self) -> bool:
        """The manual gradient equals dualad's up to floating-point rounding."""
        return self.level != "differs"

    def __str__(self) -> str:
        lines = [
            f"{self.name}: {self.verdict}",
            f"    max abs error {self.max_abs_error:.6g}, max rel error "
            f"{self.max_rel_error:.6g} (norm-wise, used for the verdict), "
            f"{self.max_elementwise_rel_error:.6g} (elementwise)",
        ]
        if self.worst:
            lines.append("    worst elements (index: manual, dualad, manual - dualad):")
            lines += [f"      {_format_index(i)}: {m:.9g}, {r:.9g}, {m - r:.2g}"
                      for i, m, r in self.worst]
        else:
            lines.append("    every element is equal")
        return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: one :class:`ArgumentComparison` per argument.

    ``comparison.agrees`` is True when every argument agrees; ``comparison["w_h"]`` (or
    ``comparison[0]``) is one argument's comparison; ``str(comparison)`` is a report with
    one block per argument, and Jupyter shows a table (``_repr_markdown_``).

    Examples
    --------
    >>> import numpy as np
    >>> c = compare(lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2, np.array([1.0, 2.0]))
    >>> c.agrees, c["x"].verdict
    (True, 'agrees to float64 rounding: max relative error 0')
    """

    arguments: tuple[ArgumentComparison, ...]
    mismatches: tuple[Any, ...] = ()  # dualad.diagnose.Mismatch: where a derivation goes wrong

    @property
    def agrees(self) -> bool:
        """Every argument's manual gradient agrees with dualad's."""
        return all(a.agrees for a in self.arguments)

    def __getitem__(self, key: str | int) -> ArgumentComparison:
        for a in self.arguments:
            if key == a.name or (isinstance(key, int) and key == a.position):
                return a
        raise KeyError(f"no compared argument {key!r}; there are "
                       f"{[a.name for a in self.arguments]}")

    def _headline(self) -> str:
        differ = [a.name for a in self.arguments if not a.agrees]
        if differ:
            return f"the hand-derived gradient differs from dualad's for {', '.join(differ)}"
        n = len(self.arguments)
        which = {1: "its argument", 2: "both arguments"}.get(n, f"all {n} arguments")
        return f"the hand-derived gradient agrees with dualad's for {which}"

    def __str__(self) -> str:
        return "\n".join([f"compare: {self._headline()} (dualad evaluated in float64)",
                          *map(str, self.arguments), *(f"  {m}" for m in self.mismatches)])

    def _repr_markdown_(self) -> str:
        rows = ["| argument | verdict | max abs error | max rel error (norm-wise) | "
                "max rel error (elementwise) | worst elements (index: manual, dualad, "
                "difference) |",
                "|---|---|---|---|---|---|"]
        for a in self.arguments:
            worst = "<br>".join(f"`{_format_index(i)}`: {m:.9g}, {r:.9g}, {m - r:.2g}"
                                for i, m, r in a.worst) or "all equal"
            rows.append(f"| `{a.name}` | {a.verdict} | {a.max_abs_error:.3g} | "
                        f"{a.max_rel_error:.3g} | {a.max_elementwise_rel_error:.3g} | {worst} |")
        found = "".join(f"\n\n{m}" for m in self.mismatches)
        return f"**compare**: {self._headline()}\n\n" + "\n".join(rows) + found


# --------------------------------------------------------------------------- compare


def compare(
    f: Callable[..., Any],
    manual_grad: Callable[..., Any],
    *args: Any,
    argnums: int | Sequence[int] | None = None,
) -> Comparison:
    """Compare a gradient derived by hand with dualad's, knowing floating point.

    ``manual_grad(*args)`` returns the gradient of the scalar ``f`` with respect to the
    arguments in ``argnums`` (default: all): one array for one argument, otherwise a tuple
    in ``argnums`` order, or a dict keyed by parameter name. The reference is
    ``dualad.grad(f, argnums)`` at the arguments upcast to float64 (exact for float32 data),
    so it is as accurate as possible; the manual values are judged in their own precision.

    Per argument, the verdict is decided by the norm-wise relative error
    ``r = max |manual - dualad| / max |dualad|``:

    - "agrees to float64 rounding" when ``r <= 1000 eps`` (eps = 2.2e-16). Evaluating ``n``
      operations in floating point may be off by about ``n`` unit roundoffs (``eps / 2``)
      times the problem's conditioning (Higham, *Accuracy and Stability of Numerical
      Algorithms*, ch. 3), and both the manual formula and dualad's tape round: 1000 eps
      covers hundreds of operations, while a mistake in a derivation (a sign, a factor, a
      missing term, ``1 - x**2`` for ``1 - tanh(x)**2``) is off by order 1, ten orders of
      magnitude away.
    - "agrees to float32 rounding" when ``r <= 1000 eps32`` (eps32 = 1.2e-7) and the manual
      values are float32 or were computed from float32 arguments (seed 000's hand gradient
      in float32 is off by ~1e-9 absolute, one float32 unit in the last place).
    - "differs: max relative error ... at index ..." otherwise, with the worst element.

    Parameters
    ----------
    f : callable
        Scalar function of positional arguments.
    manual_grad : callable
        Called with the same arguments; returns the hand-derived gradient.
    *args
        The point at which to compare. ``f`` and ``manual_grad`` get fresh copies of its
        arrays on every call (either may update them in place; the caller's are unchanged).
    argnums : int or tuple of ints, optional
        The arguments differentiated; default all.

    Returns
    -------
    Comparison

    Raises
    ------
    ShapeMismatchError
        When ``manual_grad`` returns the wrong number of arrays, a dict with the wrong
        keys, or an array of the wrong shape (naming the argument and its shape).
    NonScalarOutputError
        When ``f`` does not return a scalar.

    Examples
    --------
    >>> import numpy as np
    >>> def f(w_h, w_y):
    ...     h1_raw = w_h * 0.5; h1 = np.tanh(h1_raw); h2_raw = w_h * h1; h2 = np.tanh(h2_raw)
    ...     return w_y * h2
    >>> def buggy(w_h, w_y):   # seed 001: 1 - raw**2 where 1 - tanh(raw)**2 belongs
    ...     h1_raw = w_h * 0.5; h1 = np.tanh(h1_raw); h2_raw = w_h * h1; h2 = np.tanh(h2_raw)
    ...     dh2_raw = (1 - h2_raw**2) * w_y
    ...     return h1 * dh2_raw + 0.5 * (1 - h1_raw**2) * w_h * dh2_raw, h2
    >>> c = compare(f, buggy, 2.0, 40.0)
    >>> c.agrees, c["w_h"].verdict
    (False, 'differs: max relative error 5.9 (manual -40.2153, dualad 8.18881)')
    >>> c["w_y"].verdict
    'agrees to float64 rounding: max relative error 0'

    Where ``manual_grad`` names its intermediates after ``f``'s local variables (``dh2_raw``
    for the adjoint of ``h2_raw``, ``dh1_dwh`` for the tangent of ``h1`` along ``w_h``), a
    differing gradient also reports the first intermediate that differs
    (``comparison.mismatches``, see :func:`dualad.diagnose.first_mismatches`):

    >>> print(c.mismatches[0])  # doctest: +NORMALIZE_WHITESPACE
    the first intermediate that differs is dh2_raw = -52.8: dualad's h2_raw_bar = h2_bar *
    (1 - tanh**2 h2_raw) = 6.93
    """
    numbers = tuple(range(len(args))) if argnums is None else _argnums(argnums, len(args))
    names = _parameter_names(f, len(args))
    f, manual_grad = _on_copies(f), _on_copies(manual_grad)
    reference = grad(f, argnums=numbers)(*(_upcast(a) for a in args))
    manual = _manual_arrays(manual_grad(*args), numbers, names, args)
    precision = _least_precise([np.asarray(a).dtype for a in args])
    arguments = tuple(
        _compare_argument(names[i], i, m, np.asarray(r, dtype=np.float64), precision)
        for i, m, r in zip(numbers, manual, reference)
    )
    if all(a.agrees for a in arguments):
        return Comparison(arguments)
    return Comparison(arguments, tuple(first_mismatches(f, manual_grad, args)))


def _on_copies(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` called on fresh copies of the arrays among its arguments (see :func:`_fresh`).

    ``functools.wraps`` keeps its name, signature and ``__wrapped__``: :func:`dualad.trace`
    and :func:`~dualad.diagnose.first_mismatches` still watch ``fun``'s own frame."""

    @functools.wraps(fun)
    def call(*args: Any) -> Any:
        return fun(*(_fresh(a) for a in args))

    return call


def _fresh(value: Any) -> Any:
    """``value`` with every NumPy array in it copied (in tuples, lists and dicts too), so that
    a function updating its arguments in place changes neither the caller's arrays nor what
    the next call gets. Traced values and numbers are immutable and passed as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_fresh(v) for v in value))
    if type(value) in (tuple, list):
        return type(value)(_fresh(v) for v in value)
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    return value


def _upcast(x: Any) -> Any:
    """float16 and float32 arrays and scalars as float64 (exactly); anything else as is."""
    dtype = getattr(x, "dtype", None)
    if isinstance(x, (np.ndarray, np.generic)) and dtype.kind == "f" and dtype.itemsize < 8:
        return x.astype(np.float64)
    return x


def _manual_list(value: Any, numbers: tuple[int, ...], names: tuple[str, ...]) -> list[Any]:
    """manual_grad's result as one value per differentiated argument, in argnums order."""
    wanted = [names[i] for i in numbers]
    if isinstance(value, dict):
        if set(value) != set(wanted):
            raise ShapeMismatchError(
                f"manual_grad returned a dict with keys {sorted(map(str, value))}, but compare "
                f"differentiates {wanted}: return exactly one entry per argument, keyed by name"
            )
        return [value[name] for name in wanted]
    if len(numbers) == 1:  # one argument: the array itself, or a tuple holding it
        return [value[0] if isinstance(value, tuple) and len(value) == 1 else value]
    if not isinstance(value, (tuple, list)) or len(value) != len(numbers):
        got = f"{len(value)} arrays" if isinstance(value, (tuple, list)) \
            else f"one {type(value).__name__}"
        raise ShapeMismatchError(
            f"manual_grad returned {got}, but compare differentiates {len(numbers)} "
            f"arguments {wanted}: return a tuple of {len(numbers)} arrays in that order, or a "
            f"dict keyed by argument name"
        )
    return list(value)


def _manual_arrays(value: Any, numbers: tuple[int, ...], names: tuple[str, ...],
                   args: Sequence[Any]) -> list[np.ndarray]:
    arrays = []
    for i, m in zip(numbers, _manual_list(value, numbers, names)):
        a = np.asarray(m) if not isinstance(m, (str, bytes)) else np.asarray(None)
        if a.dtype.kind not in "biuf":
            raise InvalidInputError(
                f"manual_grad's gradient for {names[i]!r} is a {type(m).__name__}, not an "
                f"array of numbers"
            )
        expected = np.shape(args[i])
        if a.shape != expected:
            raise ShapeMismatchError(
                f"manual_grad's gradient for {names[i]!r} has shape {a.shape}, but "
                f"{names[i]!r} has shape {expected}: return an array of shape {expected} "
                f"(e.g. grad.reshape({expected}))"
            )
        arrays.append(a)
    return arrays


def _compare_argument(name: str, position: int, manual: np.ndarray, reference: np.ndarray,
                      precision: np.dtype) -> ArgumentComparison:
    m = manual.astype(np.float64)
    errors = _errors(reference, m)
    err = np.abs(m - reference)
    elementwise = float(np.max(err / np.maximum(np.abs(reference), _TINY), initial=0.0))
    if errors.max_abs == 0:
        elementwise = 0.0  # also where both are nan or the same inf
    level = _agreement(errors.max_rel, _least_precise([manual.dtype, precision]))
    if level == "differs":
        verdict = f"differs: max relative error {errors.max_rel:.2g}{_where(errors)}"
    else:
        verdict = f"agrees to {level} rounding: max relative error {errors.max_rel:.2g}"
    return ArgumentComparison(
        name, position, manual.shape, manual.dtype, errors.max_abs, errors.max_rel,
        elementwise, tuple((i, g, e) for i, e, g in errors.worst), level, verdict, manual,
        reference,
    )


def _agreement(rel: float, precision: np.dtype) -> str:
    """The most precise dtype whose rounding explains ``rel``, or "differs".

    Only dtypes at most as precise as the manual computation count: an error of 1e-8 in a
    gradient computed in float64 from float64 data is not rounding but a different formula.
    """
    limit = max(_eps(precision), _eps(np.float64))
    for tier in _TIERS:
        if _eps(tier) <= limit and rel <= _AGREE_FACTOR * _eps(tier):
            return tier.name
    return "differs"


def _where(errors: _Errors) -> str:
    if not errors.worst:
        return ""
    index, dualad, manual = errors.worst[0]
    at = f" at index {_format_index(index)}" if index else ""
    return f"{at} (manual {manual:.6g}, dualad {dualad:.6g})"


__all__ = [
    "ArgumentComparison",
    "CheckRecord",
    "Comparison",
    "GradCheckReport",
    "GradientCheckError",
    "check_grads",
    "compare",
    "default_step",
]
