"""Calling the user's function: its errors are shown as its own (with the file and line),
and what it returns must be numbers."""

from __future__ import annotations

import functools
import inspect
import numbers
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..active import ActiveArray
from ..tree import flatten
from .targets import CommandLineError, Target, exception_text, shorten


def run_user_function(target: Target, f: Callable[..., Any],
                      run: Callable[[Callable[..., Any]], Any],
                      passthrough: tuple[type[Exception], ...] = ()) -> Any:
    """``run(f)``, where ``f`` calls ``target`` and an error raised inside the user's code is
    shown as theirs (a :class:`CommandLineError`); ``passthrough`` errors are re-raised.

    >>> from .targets import load_target
    >>> t = load_target("numpy:log")
    >>> run_user_function(t, lambda x: t.call({"x": x}), lambda f: f("a"))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dualad.cli.targets.CommandLineError: numpy:log raised TypeError: ufunc 'log' not supported...
    """
    f = _returning_numbers(target, f)
    try:
        return run(f)
    except (CommandLineError, KeyboardInterrupt, *passthrough):
        raise
    except BaseException as err:  # noqa: BLE001 - the user's function failed: show its error
        raise CommandLineError(_user_error(target, err)) from None


def attributed(target: Target, f: Callable[..., Any]) -> Callable[..., Any]:
    """``f``, whose errors are shown as ``target``'s (GRAD's, inside TARGET's check)."""

    @functools.wraps(f)
    def call(*values: Any) -> Any:
        try:
            return f(*values)
        except (CommandLineError, KeyboardInterrupt):
            raise
        except BaseException as err:  # noqa: BLE001 - the user's function failed
            raise CommandLineError(_user_error(target, err)) from None

    return call


def _returning_numbers(target: Target, f: Callable[..., Any]) -> Callable[..., Any]:
    """``f``, whose result must be numbers: a str or None is the user's mistake, not ours."""
    if target.is_expression:  # a formula always computes numbers
        return f

    @functools.wraps(f)
    def call(*values: Any) -> Any:
        result = f(*values)
        leaves, _ = flatten(result)
        if not leaves:
            raise CommandLineError(f"{target.text} returned {shorten(repr(result))}: nothing "
                                   f"to differentiate; return a number or an array (is a "
                                   f"return statement missing?)")
        for leaf in leaves:
            if not _is_number(leaf):
                raise CommandLineError(f"{target.text} returned {_describe(leaf)}, not a "
                                       f"number or an array of real numbers; return the value "
                                       f"to differentiate")
        return result

    return call


def _is_number(value: Any) -> bool:
    if isinstance(value, (np.ndarray, np.generic, ActiveArray)):
        return value.dtype.kind in "biuf"
    return isinstance(value, numbers.Real)


def _describe(value: Any) -> str:
    if isinstance(value, (str, bytes)):
        return f"a {type(value).__name__} ({shorten(repr(value))})"
    if isinstance(value, (np.ndarray, np.generic, ActiveArray)):
        return f"an array of {value.dtype}"
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _user_error(target: Target, err: BaseException) -> str:
    where = ""
    code = getattr(inspect.unwrap(target.function), "__code__", None)
    if code is not None:
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if f.filename == code.co_filename]
        if frames:
            where = f" at {Path(frames[-1].filename).name}, line {frames[-1].lineno}" \
                    f" ({frames[-1].line})"
    hint = ": a function to differentiate returns its value and must not exit" \
        if isinstance(err, SystemExit) else ""
    return f"{target.text} {exception_text(err)}{where}{hint}"
