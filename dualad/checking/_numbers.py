"""What both checks share: dtypes, difference steps, tolerances, error summaries and
parameter names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..introspect import positional_names

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
    on choosing the step size): truncation, ``h**2 |f'''| / 6``, which shrinks with
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
    names = positional_names(f)
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
