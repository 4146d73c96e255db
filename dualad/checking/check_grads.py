"""Gradient checking against finite differences: :func:`check_grads` is JAX's
``jax.test_util.check_grads``: forward-mode JVPs against central differences, reverse-mode
VJPs against the JVPs and the differences by the dot-product identity, then the same checks on
the derivative functions themselves up to ``order``. It is for people who write their own
primitives: a wrong rule raises :class:`GradientCheckError` with a report of where and by how
much.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DualadError, InvalidArgumentError, InvalidInputError
from ..transforms.forward import jvp
from ..transforms.reverse import vjp
from ..tree import TreeDef, flatten, unflatten
from ._numbers import (
    _LOCALIZE_LIMIT,
    _MODE_NAMES,
    _NOISE_FACTOR,
    _TINY,
    _default_tolerance,
    _eps,
    _Errors,
    _errors,
    _format_index,
    _least_precise,
    _parameter_names,
    default_step,
)

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


__all__ = ["CheckRecord", "GradCheckReport", "GradientCheckError", "check_grads"]
