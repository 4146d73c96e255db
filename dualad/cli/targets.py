"""What the ``dualad`` command differentiates, and at which point.

A target is an expression (``"log(x1) + x1*x2 - sin(x2)"``), a function in a file
(``path/to/model.py:loss``) or in an importable module (``mypkg.layers:forward``, a NumPy
ufunc such as ``numpy:tanh``). Values are numbers, nested lists (``x=[1,2,3]``), JSON objects
of them for dict parameters (``p={"w": [1,2], "b": 0.5}``) or ``.npy`` files
(``W=@weights.npy``). Every mistake raises :class:`CommandLineError` with a message for a
person; the command prints it and exits with status 2.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import importlib.util
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from ..errors import DualadError
from ..introspect import parameters
from .expression import ExpressionError, parse_expression

_TARGET = re.compile(r"^(?P<where>[^:]+):(?P<name>[A-Za-z_][A-Za-z0-9_.]*)$")

Value = Union[np.ndarray, "dict[str, Value]"]
"""A value given on the command line: a float array, or a dict of values (a JSON object)."""


class CommandLineError(DualadError, ValueError):
    """A mistake in the command line: a bad target, value or name."""


@dataclass(frozen=True)
class Target:
    """A function to differentiate: how to call it and what to call its inputs.

    An expression's ``function`` takes the inputs positionally in the order of ``inputs``;
    a Python function is called by :meth:`call`. ``defaults`` are the parameters the command
    line may leave out; ``positional`` the leading ones that cannot be passed by name (a
    ufunc's ``x``, a ``def f(x, /)``).
    """

    function: Callable[..., Any]
    inputs: tuple[str, ...]
    defaults: frozenset[str]
    text: str
    is_expression: bool
    positional: tuple[str, ...] = ()

    def call(self, arguments: dict[str, Any]) -> Any:
        """``function`` applied to ``arguments`` (by name; the positional ones by position).

        >>> t = load_target("numpy:arctan2")
        >>> t.inputs, float(t.call({"x1": 1.0, "x2": 1.0}))
        (('x1', 'x2'), 0.7853981633974483)
        """
        if self.is_expression:
            return self.function(*(arguments[n] for n in self.inputs))
        given = [n for n in self.positional if n in arguments]
        by_name = {n: v for n, v in arguments.items() if n not in given}
        return self.function(*(arguments[n] for n in given), **by_name)


def load_target(spec: str, expression_only: bool = False) -> Target:
    """The expression or ``file.py:function`` / ``module:function`` named by ``spec``.

    With ``expression_only=True`` the text is only ever parsed as an expression (by
    :func:`dualad.cli.expression.parse_expression`, which runs no code): ``"os:abort"`` or
    ``"model.py:loss"`` is refused as a malformed formula instead of being imported, so
    untrusted text can be passed safely.

    >>> t = load_target("x1 * sin(x2)")
    >>> t.inputs, t.is_expression
    (('x1', 'x2'), True)
    >>> load_target("os:abort", expression_only=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dualad.cli.expression.ExpressionError: assignments are not allowed: ...
    """
    match = None if expression_only else _TARGET.match(spec.strip())
    if match is None:
        return _expression_target(spec, expression_only)
    where, name = match.group("where"), match.group("name")
    module = _load_file(where) if where.endswith(".py") or "/" in where else _import(where)
    return _function_target(module, name, spec)


def _expression_target(spec: str, expression_only: bool) -> Target:
    try:
        expression = parse_expression(spec)
    except ExpressionError as err:
        if expression_only and _TARGET.match(spec.strip()):
            raise ExpressionError(f"{err.message} (read as an expression only: module:function "
                                  f"and file.py:function are never loaded here)",
                                  err.source, err.offset) from None
        raise
    if not expression.variables:
        raise CommandLineError(f"the expression {spec!r} has no variables to differentiate "
                               f"with respect to")
    return Target(expression, tuple(expression.variables), frozenset(), spec, True)


def _load_file(path_text: str) -> Any:
    path = Path(path_text)
    if not path.is_file():
        raise CommandLineError(f"no such file: {path_text}")
    spec = importlib.util.spec_from_file_location(f"_dualad_target_{abs(hash(path))}", path)
    if spec is None or spec.loader is None:
        raise CommandLineError(f"{path_text} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    # Registered under its name while it runs, as an import does: dataclasses (with postponed
    # annotations), typing and pickle look a class's module up in sys.modules.
    sys.modules[spec.name] = module
    try:
        _execute(spec.loader, module, path_text)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    finally:
        with contextlib.suppress(ValueError):  # unless the module took it off itself
            sys.path.remove(folder)
    return module


def _execute(loader: Any, module: Any, path_text: str) -> None:
    try:
        loader.exec_module(module)
    except SyntaxError as err:
        raise CommandLineError(f"{path_text}, line {err.lineno}: syntax error: {err.msg}") \
            from None
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - the user's module failed: show its error
        raise CommandLineError(f"importing {path_text} {_import_error_text(err)}") from None


def _import(name: str) -> Any:
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        raise CommandLineError(f"no module named {err.name!r} (from {name!r}; for a file, "
                               f"write path/to/file.py:function)") from None
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 - the user's module failed: show its error
        raise CommandLineError(f"importing {name} {_import_error_text(err)}") from None


def _function_target(module: Any, name: str, spec: str) -> Target:
    function: Any = module
    for part in name.split("."):
        function = getattr(function, part, None)
    if not callable(function):
        found = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
        close = difflib.get_close_matches(name, found, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (
            f"; its functions are {', '.join(sorted(found))}" if found else "")
        raise CommandLineError(f"{spec.rsplit(':', 1)[0]} has no function {name!r}{hint}")
    params = parameters(function)  # a ufunc's operands are x, or x1, x2, positional-only
    if params is None:
        raise CommandLineError(f"cannot read the parameters of {spec}")
    inputs = tuple(p.name for p in params)
    defaults = frozenset(p.name for p in params if p.default is not p.empty)
    positional = tuple(p.name for p in params if p.kind is p.POSITIONAL_ONLY)
    return Target(function, inputs, defaults, spec, False, positional)


def exception_text(err: BaseException) -> str:
    """What the user's code did, for a message: ``raised ValueError: ...`` or, for
    :class:`SystemExit`, ``called sys.exit(0)`` (a program's way out, not a value)."""
    if isinstance(err, SystemExit):
        return f"called sys.exit({err.code!r})"
    return f"raised {type(err).__name__}: {err}"


def _import_error_text(err: BaseException) -> str:
    hint = (" (put the script part of the file under if __name__ == '__main__':)"
            if isinstance(err, SystemExit) else "")
    return exception_text(err) + hint


# --------------------------------------------------------------------------- values


def parse_values(items: Sequence[str], option: str = "--at") -> dict[str, Value]:
    """``["x1=2", "x=[1,2]", "W=@w.npy"]`` -> a dict of float arrays, in the given order.

    A JSON object (``p={"w": [1, 2], "b": 0.5}``) is a dict of values, for a parameter that
    takes a dict; its keys must be names.

    >>> parse_values(["x1=2", "x=[1, 2.5]"])
    {'x1': array(2.), 'x': array([1. , 2.5])}
    >>> parse_values(['p={"w": [1, 2], "b": 0.5}'])
    {'p': {'w': array([1., 2.]), 'b': array(0.5)}}
    """
    values: dict[str, Value] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise CommandLineError(f"{option} {item!r}: write NAME=VALUE, e.g. x1=2, "
                                   f"x=[1,2,3] or W=@weights.npy")
        if name in values:
            raise CommandLineError(f"{option}: {name} is given twice")
        values[name] = _parse_value(name, text.strip(), option)
    return values


def _parse_value(name: str, text: str, option: str) -> Value:
    if text.startswith("@"):
        return _load_array(name, text[1:], option)
    shown = f"{option} {name}={shorten(text)}"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise _malformed(name, shown) from None
    return _literal_value(name, value, shown)


def _malformed(name: str, shown: str) -> CommandLineError:
    return CommandLineError(
        f"{shown}: not a number or a (nested) list of numbers; write {name}=2, "
        f"{name}=[1,2,3], {name}=[[1,2],[3,4]], {name}={{\"w\": [1,2], \"b\": 0.5}} or "
        f"{name}=@file.npy")


def _literal_value(name: str, value: Any, shown: str) -> Value:
    """A parsed literal as a float array, or a dict of them (a JSON object)."""
    if isinstance(value, dict):
        return _dict_value(name, value, shown)
    if isinstance(value, (str, bytes, bool, set)):
        raise CommandLineError(f"{shown}: not a number or a list of numbers")
    try:
        array = np.asarray(value, dtype=float)
    except OverflowError:  # an integer beyond the floats
        array = np.array(np.inf)
    except (ValueError, TypeError, MemoryError, RecursionError):
        raise _malformed(name, shown) from None
    if not np.all(np.isfinite(array)):  # only overflow gets here: nan and inf are no literals
        raise CommandLineError(f"{shown}: too large for a float (the largest is about "
                               f"1.8e308); write a smaller number such as {name}=1e300")
    return array


def _dict_value(name: str, value: dict[Any, Any], shown: str) -> dict[str, Value]:
    if not value:
        raise CommandLineError(f"{shown}: an empty object holds nothing to differentiate")
    bad = [k for k in value if not (isinstance(k, str) and k.isidentifier())]
    if bad:
        raise CommandLineError(f"{shown}: the key {bad[0]!r} is not a name; a dict's keys "
                               f"must be names such as \"w\" or \"b_1\"")
    return {k: _literal_value(f"{name}_{k}", v, shown) for k, v in value.items()}


def shorten(text: str, width: int = 40) -> str:
    """``text``, or its start and length when it is longer than ``width`` (for messages).

    >>> shorten("1" + "0" * 399)
    '100000000000000000000000000000... (400 characters)'
    """
    return text if len(text) <= width else f"{text[:width - 10]}... ({len(text)} characters)"


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_ADVICE = "give a .npy file (np.save) or a text file of numbers"


def _load_array(name: str, path: str, option: str) -> np.ndarray:
    where = f"{option} {name}=@{path}"
    file = Path(path)
    if file.is_dir():
        raise CommandLineError(f"{where}: is a directory; {_ADVICE}")
    if not file.is_file():
        raise CommandLineError(f"{where}: no such file")
    try:
        array = _read_array(file, where)
    except OSError as err:
        raise CommandLineError(f"{where}: cannot read the file ({err.strerror or err})") \
            from None
    except ValueError as err:  # np.loadtxt: not a table of numbers
        raise CommandLineError(f"{where}: cannot read an array ({err}); {_ADVICE}") from None
    return _real(array, where).astype(float)


def _read_array(file: Path, where: str) -> np.ndarray:
    """The array in ``file``: a .npy file (by its content) or a text file of numbers."""
    with open(file, "rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(0)
        start = fh.read(len(_NPY_MAGIC))
        fh.seek(0)
        if size == 0:
            raise CommandLineError(f"{where}: the file is empty; {_ADVICE}")
        if start == _NPY_MAGIC:
            return _read_npy(fh, size, where)
        if start.startswith(_ZIP_MAGIC):
            raise CommandLineError(f"{where}: a zip archive (an .npz file?), not one array; "
                                   f"save the array itself with np.save('{file.stem}.npy', a)")
        if file.suffix.lower() == ".npy":
            raise CommandLineError(f"{where}: not a .npy file (it does not start with NumPy's "
                                   f"header); save the array with np.save")
    return np.loadtxt(file)


def _read_npy(fh: Any, size: int, where: str) -> np.ndarray:
    """A .npy file's array, its header checked against the file first; pickles are refused."""
    shape, dtype = _npy_header(fh, where)
    _real(np.empty(0, dtype=dtype), where)
    needed = math.prod(shape) * dtype.itemsize
    if size - fh.tell() < needed:
        raise CommandLineError(
            f"{where}: its header promises an array of shape {shape} ({needed} bytes of "
            f"{dtype}) but the file holds {size - fh.tell()} bytes of data; the file is "
            f"truncated or damaged: save the array again with np.save")
    fh.seek(0)
    return np.lib.format.read_array(fh, allow_pickle=False)


def _npy_header(fh: Any, where: str) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version not in ((1, 0), (2, 0)):
            raise CommandLineError(f"{where}: .npy format version {version[0]}.{version[1]} "
                                   f"is not read here; save the array with np.save")
        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read(fh)
    except (ValueError, TypeError, SyntaxError) as err:
        raise CommandLineError(f"{where}: a damaged .npy header ({err}); save the array "
                               f"again with np.save") from None
    if any(n < 0 for n in shape):
        raise CommandLineError(f"{where}: a damaged .npy header (shape {shape}); save the "
                               f"array again with np.save")
    return shape, dtype


def _real(array: np.ndarray, where: str) -> np.ndarray:
    """``array`` when it holds real numbers; pickled Python objects are never loaded."""
    if array.dtype.hasobject:
        raise CommandLineError(f"{where}: holds Python objects (a pickle), which are never "
                               f"loaded; save an array of numbers")
    if array.dtype.kind not in "iuf":
        raise CommandLineError(f"{where}: holds {array.dtype} values, not real numbers")
    return array


def bind_values(target: Target, values: dict[str, Value]) -> list[Value]:
    """The inputs' values in ``target.inputs`` order; every input needs one, no extras.

    >>> bind_values(load_target("x + y"), {"y": np.array(1.0), "x": np.array(2.0)})
    [array(2.), array(1.)]
    >>> bind_values(load_target("x + y*z"), {"x": np.array(1.0)})
    Traceback (most recent call last):
    ...
    dualad.cli.targets.CommandLineError: no values for y, z: add y=... z=... to --at
    """
    unknown = [n for n in values if n not in target.inputs]
    if unknown:
        kind = "variables" if target.is_expression else "parameters"
        raise CommandLineError(
            f"{unknown[0]} is given a value but is not one of the {kind} of {target.text} "
            f"({', '.join(target.inputs)})")
    missing = [n for n in target.inputs if n not in values and n not in target.defaults]
    if missing:
        raise CommandLineError(f"no value{'s' if len(missing) > 1 else ''} for "
                               f"{', '.join(missing)}: add "
                               f"{' '.join(n + '=...' for n in missing)} to --at")
    return [values[n] for n in target.inputs if n in values]


def given_inputs(target: Target, values: dict[str, Value]) -> tuple[str, ...]:
    """The inputs that received a value (the others keep their defaults)."""
    return tuple(n for n in target.inputs if n in values)
