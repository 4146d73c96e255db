"""Reading a user's function: the names of its parameters, and its local variables as it runs.

Traces name their inputs after ``f``'s parameters and their steps after ``f``'s locals;
``check_grads`` and ``compare`` name arguments in their reports; the command line matches
``--at x=...`` to parameters; ``diagnose`` reads a hand-written gradient's intermediates.
They all read functions through the two helpers here.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

_NAMED = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
          inspect.Parameter.KEYWORD_ONLY)
_POSITIONAL = _NAMED[:2]


def parameters(f: Callable[..., Any]) -> tuple[inspect.Parameter, ...] | None:
    """The parameters a caller can name, in order (positional ones, then keyword-only ones),
    or None when Python cannot read ``f``'s signature.

    A ufunc's operands are named as NumPy's documentation names them: ``x`` for one,
    ``x1, x2`` for two; its keyword arguments (``out``, ``where``, ...) are not parameters
    of the mathematical function and are left out.

    >>> import numpy as np
    >>> [p.name for p in parameters(lambda w, b=0.0, *, scale=1.0: w)]
    ['w', 'b', 'scale']
    >>> [p.name for p in parameters(np.tanh)], [p.name for p in parameters(np.arctan2)]
    (['x'], ['x1', 'x2'])
    """
    if isinstance(f, np.ufunc):
        names = ("x",) if f.nin == 1 else tuple(f"x{i + 1}" for i in range(f.nin))
        return tuple(inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names)
    try:
        found = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # some builtins and callables have no signature
        return None
    return tuple(p for p in found if p.kind in _NAMED)


def positional_names(f: Callable[..., Any]) -> tuple[str, ...]:
    """The names of ``f``'s positional parameters before any ``*args`` (empty when unknown).

    >>> positional_names(lambda x, y, *rest, z: x)
    ('x', 'y')
    """
    names = []
    for p in parameters(f) or ():
        if p.kind not in _POSITIONAL:
            break
        names.append(p.name)
    return tuple(names)


def run_watching(f: Callable[..., Any], args: Sequence[Any],
                 on_event: Callable[[Any, str], None]) -> Any:
    """``f(*args)``, calling ``on_event(frame, event)`` on each ``"line"`` and ``"return"``
    event of ``f``'s own frames (not of the functions it calls), so that the caller can read
    ``frame.f_locals`` as ``f`` runs. A callable without Python code just runs.

    >>> seen = {}
    >>> def f(x):
    ...     y = 2 * x
    ...     return y + 1
    >>> def remember(frame, event):
    ...     if event == "return":
    ...         seen.update(frame.f_locals)
    >>> run_watching(f, (3,), remember), seen
    (7, {'x': 3, 'y': 6})
    """
    code = getattr(inspect.unwrap(f), "__code__", None)
    if code is None:
        return f(*args)

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        return on_local if frame.f_code is code else None

    def on_local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line" or event == "return":
            on_event(frame, event)
        return on_local

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return f(*args)
    finally:
        sys.settrace(previous)
