"""``dualad.scipy.enable()``: SciPy's own names send calls with active arguments to dualad.

Nothing changes in a process until it asks: ``enable()`` replaces the covered attributes of
SciPy (module functions such as ``scipy.special.logsumexp``, the methods of the covered
distribution classes such as ``norm_gen.logpdf``) by dispatchers. A dispatcher calls
dualad's version when an argument is active and SciPy's own function, unchanged, otherwise;
``disable()`` puts SciPy's attributes back. The methods are replaced on the classes, so
``from scipy.stats import norm`` done earlier and frozen distributions (``norm(mu, s)``, whose
``logpdf`` calls a new ``norm_gen``) go through them too; a module function imported by name
before ``enable()`` (``from scipy.special import logsumexp``) keeps SciPy's function.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from .. import _callers
from ..registry import is_active

_lock = threading.Lock()
_depth = 0
_saved: list[tuple[Any, str, Any]] = []
"""(owner, attribute, SciPy's own value or _MISSING) for every replaced attribute."""
_MISSING = object()

_MODULE_FUNCTIONS = (
    ("scipy.special", "logsumexp", "dualad.scipy.special"),
    ("scipy.special", "softmax", "dualad.scipy.special"),
    ("scipy.special", "log_softmax", "dualad.scipy.special"),
    ("scipy.special", "polygamma", "dualad.scipy.special"),
    ("scipy.special", "multigammaln", "dualad.scipy.special"),
    ("scipy.optimize", "rosen", "dualad.scipy.optimize"),
    ("scipy.integrate", "odeint", "dualad.scipy.integrate"),
)


def _any_active(values: Any) -> bool:
    for x in values:
        if is_active(x) or (isinstance(x, (list, tuple)) and _any_active(x)):
            return True
    return False


def _function(scipy_fn: Callable[..., Any], ours: Callable[..., Any]) -> Callable[..., Any]:
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if _any_active(args) or _any_active(kwargs.values()):
            return ours(*args, **kwargs)
        return scipy_fn(*args, **kwargs)

    dispatch.__wrapped__ = scipy_fn  # type: ignore[attr-defined]
    dispatch.__doc__ = scipy_fn.__doc__
    dispatch.__name__ = scipy_fn.__name__
    return dispatch


def _method(scipy_fn: Callable[..., Any], pick: Callable[[Any], Any],
            name: str) -> Callable[..., Any]:
    """A method dispatcher: ``pick(self)`` is the dualad object to call ``name`` on (None:
    SciPy's own method, for a subclass dualad does not cover)."""
    def dispatch(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _any_active(args) or _any_active(kwargs.values()):
            ours = pick(self)
            if ours is not None:
                return getattr(ours, name)(*args, **kwargs)
        return scipy_fn(self, *args, **kwargs)

    dispatch.__wrapped__ = scipy_fn  # type: ignore[attr-defined]
    dispatch.__doc__ = scipy_fn.__doc__
    dispatch.__name__ = name
    return dispatch


def _replace(owner: Any, name: str, value: Any) -> None:
    _saved.append((owner, name, owner.__dict__.get(name, _MISSING)
                   if isinstance(owner, type) else getattr(owner, name)))
    setattr(owner, name, value)


def _patch() -> None:
    for module, name, ours in _MODULE_FUNCTIONS:
        scipy_module = importlib.import_module(module)
        ours_fn = getattr(importlib.import_module(ours), name)
        _replace(scipy_module, name, _function(getattr(scipy_module, name), ours_fn))
    import scipy.stats

    from . import stats
    for dist, methods in _callers.DISTRIBUTIONS.items():
        cls = type(getattr(scipy.stats, dist))
        twin = getattr(stats, dist)
        pick = (lambda self, cls=cls, twin=twin: twin if type(self) is cls else None)
        for method in methods:
            _replace(cls, method, _method(getattr(cls, method), pick, method))
    _patch_multivariate_normal(stats)


def _patch_multivariate_normal(stats: Any) -> None:
    """Freezing with active parameters gives dualad's frozen distribution; a frozen SciPy
    distribution evaluated at an active point calls dualad's with its parameters."""
    from scipy.stats._multivariate import multivariate_normal_frozen, multivariate_normal_gen

    twin = stats.multivariate_normal
    _replace(multivariate_normal_gen, "__call__",
             _method(multivariate_normal_gen.__call__, lambda self: twin, "__call__"))
    thaw = (lambda self: twin(self.mean, self.cov, self.allow_singular)
            if type(self) is multivariate_normal_frozen else None)
    for method in ("logpdf", "pdf"):
        _replace(multivariate_normal_frozen, method,
                 _method(getattr(multivariate_normal_frozen, method), thaw, method))


def _unpatch() -> None:
    while _saved:
        owner, name, value = _saved.pop()
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)


class _Enabled:
    """What ``enable()`` returns: ``with dualad.scipy.enable():`` disables on leaving."""

    def __enter__(self) -> _Enabled:
        return self

    def __exit__(self, *exc: Any) -> None:
        disable()

    def __repr__(self) -> str:
        return "<dualad.scipy enabled>"


def enable() -> _Enabled:
    """Let SciPy's own functions differentiate: calls with an active argument go to dualad.

    Covers ``scipy.special.logsumexp``, ``softmax``, ``log_softmax``, ``polygamma``,
    ``multigammaln``,
    ``scipy.optimize.rosen``, ``scipy.integrate.odeint`` and the ``scipy.stats``
    distributions of :mod:`dualad.scipy.stats` (their methods, frozen or not). Calls without
    an active argument run SciPy's own code. Calls nest: each ``enable()`` is undone by one
    ``disable()`` (or by leaving its ``with`` block). The replacement is process-wide, as
    SciPy's attributes are; it is safe with threads, since the plain calls of other threads
    still reach SciPy's code.

    Returns
    -------
    A context manager that calls :func:`disable` on leaving.

    Examples
    --------
    >>> import numpy as np, dualad, dualad.scipy, scipy.special
    >>> with dualad.scipy.enable():
    ...     g = dualad.grad(scipy.special.logsumexp)(np.log([1.0, 3.0]))
    >>> g
    array([0.25, 0.75])
    """
    global _depth
    with _lock:
        if _depth == 0:
            try:
                _patch()
            except BaseException:
                _unpatch()
                raise
            _callers.enabled = True
        _depth += 1
    return _Enabled()


def disable() -> None:
    """Undo one :func:`enable` (SciPy's own attributes come back after the last one).

    >>> import dualad.scipy
    >>> dualad.scipy.disable()  # not enabled: nothing to undo
    """
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth == 0:
            _unpatch()
            _callers.enabled = False


def is_enabled() -> bool:
    """True between :func:`enable` and the matching :func:`disable`.

    >>> import dualad.scipy
    >>> dualad.scipy.is_enabled()
    False
    """
    return _depth > 0
