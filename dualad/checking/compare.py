"""A gradient derived by hand against dualad's: :func:`compare` says whether the numbers agree
with dualad's to floating-point rounding (float64, or float32 when they were computed in
float32) and, if not, which argument and which elements differ, and which intermediate of the
hand derivation is the first to differ.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError, ShapeMismatchError
from ..transforms._boundary import argnums_tuple as _argnums
from ..transforms.reverse import grad
from ._numbers import (
    _AGREE_FACTOR,
    _TIERS,
    _TINY,
    _eps,
    _Errors,
    _errors,
    _format_index,
    _least_precise,
    _parameter_names,
)
from .diagnose import first_mismatches

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
    mismatches: tuple[Any, ...] = ()  # diagnose.Mismatch: where a derivation goes wrong

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
      values are float32 or were computed from float32 arguments (a hand-derived gradient
      in float32 is typically off by ~1e-9 absolute, one float32 unit in the last place).
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
    >>> def buggy(w_h, w_y):   # 1 - raw**2 where 1 - tanh(raw)**2 belongs
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
    (``comparison.mismatches``, see :func:`dualad.checking.diagnose.first_mismatches`):

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
    and :func:`~dualad.checking.diagnose.first_mismatches` still watch ``fun``'s own frame."""

    @functools.wraps(fun)
    def call(*args: Any) -> Any:
        return fun(*(_fresh(a) for a in args))

    return call


def _fresh(value: Any) -> Any:
    """``value`` with every NumPy array in it copied (in tuples, lists and dicts too), so that
    a function updating its arguments in place changes neither the caller's arrays nor what
    the next call gets. Active values and numbers are immutable and passed as they are."""
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


__all__ = ["ArgumentComparison", "Comparison", "compare"]
