"""A small, safe expression language: ``"log(x1) + x1*x2 - sin(x2)"`` -> a callable.

The text is parsed with :func:`ast.parse` and every node is checked against a short list of
allowed constructs (numbers, variables, ``pi`` and ``e``, arithmetic operators and calls of
the NumPy functions dualad differentiates), then turned into a tree of small node objects
that evaluate themselves. Nothing in the text is ever handed to ``eval``, ``exec`` or
``compile``: a construct outside the list (attribute access, subscripts, lambdas, strings,
``__import__``, ...) is refused with an :class:`ExpressionError` that names it and points at
its column.

Evaluation applies Python's operators to the values and calls ``numpy.<name>`` for function
calls, so dualad's active arrays flow through: ``dualad.grad(parse_expression("x*sin(x)"))``
differentiates the formula like any NumPy function.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import inspect
import keyword
import operator
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import introspect
from ..errors import DualadError, InvalidInputError
from ..primitives.reductions import REDUCTIONS
from ..registry import NUMPY_TABLE

__all__ = ["ALLOWED_FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Expression", "ExpressionError",
           "parse_expression"]

MAX_LENGTH = 10_000
"""Longest source text accepted, in characters."""

MAX_DEPTH = 100
"""Deepest nesting of sub-expressions accepted: each call, unary operator and operand nested
on the right is a level; a chain ``a + b + c + ...`` and parentheses add none."""

_MAX_INT_BITS = 4096  # integer arithmetic beyond this is an attack (9**9**9), not a formula
_CONSTANTS = {"pi": np.pi, "e": np.e}
_KEYWORDS = ("axis", "keepdims")
_PYTHON_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))


# --------------------------------------------------------------------------- errors


class ExpressionError(DualadError, ValueError):
    """A mistake in an expression: its syntax, a construct outside the language, a name.

    ``offset`` is the 0-based character offset into ``source`` of the offending construct
    (``None`` when no single place is to blame). ``str(err)`` is the message with its
    position, the source line and a caret under the column.

    >>> err = ExpressionError("unknown function 'ln'", "ln(x)", 0)
    >>> print(err)
    unknown function 'ln' (column 0)
      ln(x)
      ^
    """

    def __init__(self, message: str, source: str | None = None, offset: int | None = None):
        super().__init__(message, source, offset)
        self.message = message
        self.source = source
        self.offset = offset

    def __str__(self) -> str:
        if self.source is None or self.offset is None:
            return self.message
        line, column, text = _locate(self.source, self.offset)
        several = len(_line_starts(self.source.rstrip())) > 1
        where = f"line {line}, column {column}" if several else f"column {column}"
        return "\n".join([f"{self.message} ({where})", *_pointer(text, column)])


def _locate(source: str, offset: int) -> tuple[int, int, str]:
    """(1-based line number, 0-based column, text of that line) of ``offset``."""
    starts = _line_starts(source)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    end = starts[line + 1] if line + 1 < len(starts) else len(source)
    return line + 1, offset - starts[line], source[starts[line]:end].rstrip("\r\n")


def _pointer(text: str, column: int, width: int = 76) -> list[str]:
    """The source line and a caret under ``column``, cut to a window around it if long."""
    start = max(0, min(column - width // 2, len(text) - width))
    shown = text[start:start + width]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + width < len(text) else ""
    # Tabs stay tabs under the caret so that it lines up in a terminal.
    pad = "".join(c if c == "\t" else " " for c in text[start:column])
    return [f"  {prefix}{shown}{suffix}", f"  {' ' * len(prefix)}{pad}^"]


def _line_starts(source: str) -> list[int]:
    # The tokenizer ends lines at \n, \r\n and \r only (not at str.splitlines' \x0c etc.).
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]


# --------------------------------------------------------------------------- functions


_ALIASES = {
    "ln": "log", "lg": "log10", "abs": "absolute", "pow": "power", "mod": "remainder",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
    "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "arctg": "arctan",
    "tg": "tan", "conj": "conjugate", "sqr": "square", "cuberoot": "cbrt",
    "avg": "mean", "stdev": "std", "variance": "var", "product": "prod",
}
"""Common spellings -> NumPy's name. Where NumPy itself defines the spelling as the same
function (``np.abs``, ``np.acos`` in NumPy 2) it is allowed; otherwise it is a suggestion."""

_REWRITES = {
    "sigmoid": "1/(1 + exp(-x))", "logistic": "1/(1 + exp(-x))",
    "softplus": "logaddexp(0, x)", "relu": "maximum(x, 0)",
    "sec": "1/cos(x)", "csc": "1/sin(x)", "cot": "1/tan(x)",
}
"""Functions NumPy does not have, with the formula to write instead."""


def _allowed_table() -> dict[str, Any]:
    """Name -> NumPy callable, for the ufuncs and reductions dualad itself differentiates."""
    table: dict[str, Any] = {}
    for fn, declaration in NUMPY_TABLE.items():
        name = getattr(fn, "__name__", "")
        if not declaration.builtin or getattr(np, name, None) is not fn:
            continue  # user declarations and np.linalg.* are outside the language
        if isinstance(fn, np.ufunc):
            if fn.nout == 1:  # modf/frexp return tuples, which nothing here could use
                table[name] = fn
        elif declaration.family is REDUCTIONS:
            table[name] = fn
    for alias, target in _ALIASES.items():
        if target in table and getattr(np, alias, None) is table[target]:
            table[alias] = table[target]
    return table


_FUNCTIONS = _allowed_table()

ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_FUNCTIONS)
"""The function names an expression may call: NumPy's names of the ufuncs and reductions
registered in dualad (``sin``, ``log``, ``maximum``, ``sum``, ``mean``, ``std``, ...)."""


@dataclass(frozen=True)
class _Signature:
    """What a call may pass: positional parameters (before ``out``/``dtype``) and keywords."""

    params: tuple[str, ...]
    required: int
    keywords: frozenset[str]


_SIGNATURES: dict[str, _Signature] = {}


def _signature(name: str) -> _Signature:
    """The call signature of an allowed function, read from NumPy once and cached."""
    if name not in _SIGNATURES:
        _SIGNATURES[name] = _read_signature(_FUNCTIONS[name])
    return _SIGNATURES[name]


def _read_signature(fn: Any) -> _Signature:
    parameters = introspect.parameters(fn)  # a ufunc's operands: x, or x1, x2
    if parameters is None:
        return _Signature(("a",), 1, frozenset())
    positional = []
    for p in parameters:
        # A positional ``out`` would write into the caller's array: stop before it.
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.name in ("out",
                                                                                    "dtype"):
            break
        positional.append(p)
    required = sum(p.default is p.empty for p in positional)
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return _Signature(tuple(p.name for p in positional), required,
                      frozenset(named.intersection(_KEYWORDS)))


def _unknown_function_message(name: str) -> str:
    """"unknown function 'ln': did you mean 'log'?", or the list of allowed functions."""
    if name in _REWRITES:
        return f"unknown function {name!r}: NumPy has none; write {_REWRITES[name]}"
    close = [_ALIASES[name]] if _ALIASES.get(name) in ALLOWED_FUNCTIONS else []
    close += [c for c in difflib.get_close_matches(name, sorted(ALLOWED_FUNCTIONS), n=3,
                                                   cutoff=0.7) if c not in close]
    if close:
        quoted = [repr(c) for c in close[:3]]
        options = quoted[0] if len(quoted) == 1 else \
            f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        return f"unknown function {name!r}: did you mean {options}?"
    what = " (a Python built-in)" if name in _PYTHON_BUILTINS else ""
    return (f"unknown function {name!r}{what}: an expression can call only these NumPy "
            f"functions (and NumPy's aliases of them, such as abs): "
            f"{', '.join(_canonical_names())}")


def _canonical_names() -> list[str]:
    """ALLOWED_FUNCTIONS without NumPy's second names for the same function (abs, acos)."""
    return sorted(name for name, fn in _FUNCTIONS.items() if fn.__name__ == name)


# --------------------------------------------------------------------------- evaluation


def _power(x: Any, y: Any) -> Any:
    if type(x) is int and type(y) is int and y > 0 and abs(x) > 1 \
            and abs(x).bit_length() * y > _MAX_INT_BITS:
        raise OverflowError(f"the integer {x}**{y} is too large; write a float such as "
                            f"{x}.0 for floating-point arithmetic")
    return x**y


def _multiply(x: Any, y: Any) -> Any:
    if type(x) is int and type(y) is int and x.bit_length() + y.bit_length() > _MAX_INT_BITS:
        raise OverflowError("the integer product is too large; write a float such as 1.0*... "
                            "for floating-point arithmetic")
    return x * y


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: _multiply, ast.Div: operator.truediv,
    ast.Pow: _power, ast.MatMult: operator.matmul, ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _checked(node: _Node, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a failure being reported at ``node``'s place in the text."""
    try:
        return fn(*args, **kwargs)
    except DualadError:
        raise
    except (ArithmeticError, TypeError, ValueError, IndexError) as err:
        raise ExpressionError(f"could not evaluate {node.text!r}: {type(err).__name__}: {err}",
                              offset=node.offset) from err


@dataclass(frozen=True)
class _Node:
    """A validated sub-expression: its text and where it starts in the source."""

    text: str
    offset: int

    def evaluate(self, values: dict[str, Any]) -> Any:  # pragma: no cover - leaves only
        raise NotImplementedError


@dataclass(frozen=True)
class _Const(_Node):
    value: Any

    def evaluate(self, values: dict[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class _Var(_Node):
    name: str

    def evaluate(self, values: dict[str, Any]) -> Any:
        return values[self.name]


@dataclass(frozen=True)
class _Unary(_Node):
    op: Callable[[Any], Any]
    operand: _Node

    def apply(self, operand: Any) -> Any:
        return _checked(self, self.op, operand)


@dataclass(frozen=True)
class _Binary(_Node):
    op: Callable[[Any, Any], Any]
    left: _Node
    right: _Node

    def apply(self, left: Any, right: Any) -> Any:
        return _checked(self, self.op, left, right)


@dataclass(frozen=True)
class _Call(_Node):
    function: Callable[..., Any]
    args: tuple[_Node, ...]
    keywords: tuple[tuple[str, Any], ...]

    def apply(self, *args: Any) -> Any:
        return _checked(self, self.function, *args, **dict(self.keywords))


def _children(node: _Node) -> tuple[_Node, ...]:
    if isinstance(node, _Unary):
        return (node.operand,)
    if isinstance(node, _Binary):
        return (node.left, node.right)
    if isinstance(node, _Call):
        return node.args
    return ()


def _schedule(root: _Node) -> list[Any]:
    """The operations of the tree in the lecture's order: by height, then left to right.

    The lecture numbers ``ln(x1) + x1*x2 - sin(x2)`` as v1 = ln v_-1, v2 = v_-1 * v0,
    v3 = sin v0, v4 = v1 + v2, v5 = v4 - v3: every operation on inputs first, then those
    on their results. Python would compute v1 + v2 before sin v0; any order that computes
    operands first gives the same values. Built with a stack, so long chains are not deep.
    """
    post_order: list[_Node] = []
    stack: list[tuple[_Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            post_order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    height: dict[int, int] = {}
    for node in post_order:
        children = _children(node)
        height[id(node)] = 1 + max(height[id(c)] for c in children) if children else 0
    return sorted((n for n in post_order if _children(n)), key=lambda n: height[id(n)])


# --------------------------------------------------------------------------- the expression


class Expression:
    """A parsed, validated formula; call it with one value per variable.

    Made by :func:`parse_expression`. ``source`` is the text, ``variables`` the variable
    names in order of first appearance; ``expr(*values)`` takes them positionally and
    ``expr.call(**values)`` by name. Its signature lists the variables, so tools that read
    parameter names (``dualad.trace``) name the inputs after them.

    >>> f = parse_expression("x*y + 1")
    >>> f(2.0, 3.0), f.call(y=3.0, x=2.0)
    (7.0, 7.0)
    >>> f
    Expression('x*y + 1', variables=('x', 'y'))
    """

    def __init__(self, source: str, variables: tuple[str, ...], root: _Node):
        self.source = source
        self.variables = variables
        self._root = root
        self._operations = _schedule(root)
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(v, inspect.Parameter.POSITIONAL_OR_KEYWORD) for v in variables])

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.variables):
            raise ExpressionError(
                f"{self.describe()} takes {len(self.variables)} values "
                f"({', '.join(self.variables) or 'none'}), got {len(values)}")
        return self._evaluate(dict(zip(self.variables, values)))

    def call(self, **values: Any) -> Any:
        """Evaluate with the variables given by name.

        >>> round(float(parse_expression("log(x1) + x1*x2").call(x1=1.0, x2=4.0)), 6)
        4.0
        """
        missing = [v for v in self.variables if v not in values]
        unknown = sorted(set(values) - set(self.variables))
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(unknown)}"] if unknown else [])
            raise ExpressionError(f"{self.describe()}: {'; '.join(parts)} (its variables are "
                                  f"{', '.join(self.variables) or 'none'})")
        return self._evaluate(values)

    def _evaluate(self, values: dict[str, Any]) -> Any:
        results: dict[int, Any] = {}

        def value(node: _Node) -> Any:
            return results[id(node)] if id(node) in results else node.evaluate(values)

        try:
            for node in self._operations:
                results[id(node)] = node.apply(*map(value, _children(node)))
            return value(self._root)
        except ExpressionError as err:
            if err.source is None:  # raised by a node, which does not know the text
                err.source = self.source
            raise

    def describe(self) -> str:
        """The formula as ``f(x1, x2) = ...``, shortened when long.

        >>> parse_expression("log(x1) + x1*x2").describe()
        'f(x1, x2) = log(x1) + x1*x2'
        """
        return f"f({', '.join(self.variables)}) = {_shorten(' '.join(self.source.split()))}"

    def __repr__(self) -> str:
        return f"Expression({_shorten(self.source)!r}, variables={self.variables!r})"


def _shorten(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def parse_expression(source: str) -> Expression:
    """Parse and validate a formula over NumPy functions, for evaluation and differentiation.

    Allowed: int and float literals, variable names, the constants ``pi`` and ``e``, the
    operators ``+ - * / ** @ % //`` and unary ``-``/``+``, parentheses, and calls of
    :data:`ALLOWED_FUNCTIONS` by bare name (``sin(x)``, not ``np.sin(x)``) with positional
    arguments and, for reductions, ``axis=`` (an int or tuple of ints) and ``keepdims=``
    (True or False). Everything else is refused before anything runs.

    Parameters
    ----------
    source : str
        The formula, at most :data:`MAX_LENGTH` characters, nested at most
        :data:`MAX_DEPTH` levels.

    Returns
    -------
    Expression
        Callable with one value per variable (in order of first appearance).

    Raises
    ------
    ExpressionError
        For a syntax error, a construct outside the language, an unknown function (with
        the closest allowed name) or a text too long or too deep; ``err.offset`` is the
        offending character's offset and ``str(err)`` points at it.

    Examples
    --------
    >>> import dualad
    >>> f = parse_expression("log(x1) + x1*x2 - sin(x2)")
    >>> f.variables
    ('x1', 'x2')
    >>> round(float(f(2.0, 5.0)), 3)
    11.652
    >>> float(dualad.grad(f)(2.0, 5.0))
    5.5
    >>> parse_expression("ln(x1)")
    Traceback (most recent call last):
    ...
    dualad.cli.expression.ExpressionError: unknown function 'ln': did you mean 'log'? (column 0)
      ln(x1)
      ^
    """
    if not isinstance(source, str):
        raise InvalidInputError(f"parse_expression expects the formula as a str, got "
                                f"{type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(source)} characters; at most "
                              f"{MAX_LENGTH}): split it or write a Python function")
    if not source.strip():
        raise ExpressionError("empty expression: write a formula such as 'log(x1) + x1*x2'",
                              source, 0)
    # The parser refuses leading blanks ("unexpected indent"); parse without them and keep
    # offsets into the text as given.
    lead = len(source) - len(source.lstrip())
    tree = _parse(source, lead)
    positions = _Positions(source, lead)
    _check_depth(tree, positions)
    _check_underscores(tree, positions)
    builder = _Builder(positions, _bare_names(tree))
    root = builder.build(tree)
    return Expression(source, builder.variables(), root)


# --------------------------------------------------------------------------- parsing


class _Positions:
    """Character offsets of AST nodes (whose columns are UTF-8 byte offsets)."""

    def __init__(self, source: str, lead: int = 0):
        self.source = source
        # The parser saw source[lead:]; its line numbers count from there.
        self.starts = [lead + start for start in _line_starts(source[lead:])]

    def at(self, lineno: int, byte_column: int) -> int:
        start = self.starts[lineno - 1]
        end = self.starts[lineno] if lineno < len(self.starts) else len(self.source)
        line = self.source[start:end].encode("utf-8", "surrogatepass")
        return start + len(line[:byte_column].decode("utf-8", "ignore"))

    def start(self, node: Any) -> int:
        return self.at(node.lineno, node.col_offset)

    def end(self, node: Any) -> int:
        return self.at(node.end_lineno, node.end_col_offset)

    def text(self, node: Any) -> str:
        return self.source[self.start(node):self.end(node)]

    def between(self, left: Any, right: Any) -> int:
        """Offset of the operator token between two nodes (skipping ')', spaces, comments)."""
        i, stop = self.end(left), self.start(right)
        while i < stop and (self.source[i] in " \t\f\r\n\\)" or self.source[i] == "#"):
            if self.source[i] == "#":
                while i < stop and self.source[i] not in "\r\n":
                    i += 1
            else:
                i += 1
        return i

    def error(self, node: Any, message: str) -> ExpressionError:
        return ExpressionError(message, self.source, self.start(node))


def _parse(source: str, lead: int) -> ast.expr:
    """The AST of ``source[lead:]``, every parser failure becoming an ExpressionError."""
    text = source[lead:]
    try:
        return _quiet_parse(text, "eval").body
    except SyntaxError as err:
        error = _statement_error(text) or _syntax_error(text, err)
    except (RecursionError, MemoryError):  # Python's parser recurses on long chains too
        error = ExpressionError("the expression is nested too deeply (or is too long a chain "
                                "of operators) for Python's parser: split it into smaller "
                                "expressions", text)
    except (ValueError, UnicodeError) as err:  # NUL bytes, lone surrogates
        error = ExpressionError(f"the expression cannot be read: {err}", text,
                                _first_bad_character(text))
    offset = None if error.offset is None else error.offset + lead
    raise ExpressionError(error.message, source, offset)


def _quiet_parse(text: str, mode: str) -> Any:
    # The parser warns on stderr about "1x" or "'\\d'" before failing or refusing them here;
    # the user gets this module's message instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, mode=mode)


def _first_bad_character(source: str) -> int | None:
    for i, c in enumerate(source):
        if c == "\0" or "\ud800" <= c <= "\udfff":
            return i
    return None


def _syntax_error(source: str, err: SyntaxError) -> ExpressionError:
    message = err.msg or "invalid syntax"
    bad = _first_bad_character(source)
    if bad is not None:
        return ExpressionError(f"the expression contains the character {source[bad]!r}, "
                               f"which is not allowed", source, bad)
    if not err.lineno or not err.offset:  # Python could not say where
        if message != "invalid syntax":
            return ExpressionError(f"syntax error: {message}", source)
        return ExpressionError("syntax error: the expression ends too early (an operand or "
                               "a closing parenthesis is missing)", source,
                               len(source.rstrip()))
    starts = _line_starts(source)
    offset = min(starts[min(err.lineno, len(starts)) - 1] + err.offset - 1, len(source))
    if "forgot a comma" in message or (message == "invalid syntax"
                                       and _side_by_side(source, offset)):
        message = "two terms side by side: write '*' between them for a product"
    elif not source[offset:].strip():
        message = "the expression ends too early (an operand or ')' is missing)"
    return ExpressionError(f"syntax error: {message}", source, offset)


def _side_by_side(source: str, offset: int) -> bool:
    """True for 'x1 x2', '2 x', '(a) b': a term starts where an operator was expected."""
    before = source[:offset].rstrip()
    if not before or offset >= len(source):
        return False
    last_word = re.search(r"\w*$", before).group()
    ends_term = (before[-1].isalnum() or before[-1] in "_)") and not keyword.iskeyword(last_word)
    return ends_term and (source[offset].isalnum() or source[offset] in "_(")


_STATEMENTS = {ast.Assign: "assignments", ast.AugAssign: "assignments",
               ast.AnnAssign: "assignments", ast.Import: "imports", ast.ImportFrom: "imports"}


def _statement_error(source: str) -> ExpressionError | None:
    """The error for statements (``x = 1``, ``import os``, ``a; b``), or None."""
    try:
        body = _quiet_parse(source, "exec").body
    except (SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError):
        return None
    positions = _Positions(source)
    if len(body) > 1:
        return positions.error(body[1], f"only one expression is allowed, found {len(body)} "
                                        f"(separated by ';' or new lines; put a formula that "
                                        f"spans lines in parentheses)")
    if body and not isinstance(body[0], ast.Expr):
        kind = _STATEMENTS.get(type(body[0]), f"statements ({type(body[0]).__name__})")
        return positions.error(body[0], f"{kind} are not allowed: write a single formula "
                                        f"such as 'log(x1) + x1*x2'")
    return None


def _check_depth(tree: ast.expr, positions: _Positions) -> None:
    """Refuse trees nested deeper than MAX_DEPTH, without recursion (no RecursionError).

    The left operand of a binary operator stays at its parent's level: ``a + b + c`` is
    a chain that the builder and the evaluator walk in a loop, not a nesting.
    """
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (more than "
                                  f"{MAX_DEPTH} levels): split it into smaller expressions",
                                  positions.source, positions.start(node))
        for child in ast.iter_child_nodes(node):
            chained = isinstance(node, ast.BinOp) and child is node.left
            stack.append((child, depth + (isinstance(child, ast.expr) and not chained)))


def _check_underscores(tree: ast.expr, positions: _Positions) -> None:
    """Refuse every name starting with '_' (``__import__``, ``__class__``) outright."""
    found = []
    for node in ast.walk(tree):
        name = getattr(node, "id", None) or getattr(node, "attr", None) or \
            (node.arg if isinstance(node, (ast.keyword, ast.arg)) else None)
        if isinstance(name, str) and name.startswith("_"):
            offset = positions.end(node) - len(name) if isinstance(node, ast.Attribute) \
                else positions.start(node)
            found.append((offset, name))
    if found:
        offset, name = min(found)
        raise ExpressionError(f"names starting with '_' are not allowed ({name!r})",
                              positions.source, offset)


def _bare_names(tree: ast.expr) -> frozenset[str]:
    """Names used other than as a called function (to tell the variable in ``x(2) + x``)."""
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return frozenset(n.id for n in ast.walk(tree)
                     if isinstance(n, ast.Name) and id(n) not in callees)


# --------------------------------------------------------------------------- validation

_REFUSED: dict[type, str] = {
    ast.Subscript: "subscripts (x[i]) are not allowed: index arrays before passing them in",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda functions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions (generator expressions) are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed (except as axis=(0, 1))",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred arguments (*args) are not allowed: pass each argument",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_REFUSED_OPERATORS: dict[type, str] = {
    ast.BitXor: "'^' is bitwise xor, not a power: write x**2",
    ast.BitAnd: "the bitwise operator '&' is not allowed",
    ast.BitOr: "the bitwise operator '|' is not allowed",
    ast.LShift: "the bitwise operator '<<' is not allowed",
    ast.RShift: "the bitwise operator '>>' is not allowed",
    ast.Invert: "the bitwise operator '~' is not allowed: write -x for the negation",
    ast.Not: "'not' is not allowed (boolean operators are not differentiable)",
}


class _Builder:
    """Turns a checked AST into evaluation nodes, refusing what is outside the language."""

    def __init__(self, positions: _Positions, bare: frozenset[str]):
        self.positions = positions
        self.bare = bare
        self.names: list[tuple[int, str]] = []

    def variables(self) -> tuple[str, ...]:
        """Variable names in order of first appearance in the text."""
        return tuple(dict.fromkeys(name for _, name in sorted(self.names)))

    def build(self, node: ast.expr) -> _Node:
        method = getattr(self, f"_build_{type(node).__name__}", None)
        if method is None:
            message = _REFUSED.get(type(node), f"{type(node).__name__} is not allowed")
            raise self.positions.error(node, message)
        return method(node)

    def _where(self, node: ast.AST) -> tuple[str, int]:
        return self.positions.text(node), self.positions.start(node)

    def _build_Constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.positions.error(node, f"{value!r} is not allowed here (True and False "
                                             f"only as keepdims=True/False)")
        if isinstance(value, complex):
            raise self.positions.error(node, "complex numbers are not supported: expressions "
                                             "are real-valued")
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            raise self.positions.error(node, "this integer literal is too large")
        if not isinstance(value, (int, float)):
            raise self.positions.error(node, "strings are not allowed: an expression is a "
                                             "formula of numbers and variables")
        return _Const(*self._where(node), value)

    def _build_Name(self, node: ast.Name) -> _Node:
        name = node.id
        if name in _CONSTANTS:
            return _Const(*self._where(node), _CONSTANTS[name])
        if name in ALLOWED_FUNCTIONS:
            raise self.positions.error(node, f"function {name!r} used as a variable: call it, "
                                             f"e.g. {name}(x), or rename the variable")
        if name in _PYTHON_BUILTINS:
            raise self.positions.error(node, f"{name!r} is a Python built-in, not a variable: "
                                             f"choose another name")
        self.names.append((self.positions.start(node), name))
        return _Var(*self._where(node), name)

    def _build_UnaryOp(self, node: ast.UnaryOp) -> _Node:
        if type(node.op) not in _UNARY:
            raise self.positions.error(node, _REFUSED_OPERATORS[type(node.op)])
        return _Unary(*self._where(node), _UNARY[type(node.op)], self.build(node.operand))

    def _build_BinOp(self, node: ast.BinOp) -> _Node:
        chain: list[ast.BinOp] = []  # a + b + c + ... built in a loop, as it is evaluated
        left: ast.expr = node
        while isinstance(left, ast.BinOp):
            chain.append(left)
            left = left.left
        built = self.build(left)
        for link in reversed(chain):
            if type(link.op) not in _BINARY:
                raise ExpressionError(_REFUSED_OPERATORS[type(link.op)], self.positions.source,
                                      self.positions.between(link.left, link.right))
            built = _Binary(*self._where(link), _BINARY[type(link.op)], built,
                            self.build(link.right))
        return built

    def _build_Compare(self, node: ast.Compare) -> _Node:
        raise ExpressionError("comparisons (<, ==, ...) are not allowed: an expression is a "
                              "formula, not a condition", self.positions.source,
                              self.positions.between(node.left, node.comparators[0]))

    def _build_BoolOp(self, node: ast.BoolOp) -> _Node:
        word = "and" if isinstance(node.op, ast.And) else "or"
        raise ExpressionError(f"boolean operators ({word!r}) are not allowed",
                              self.positions.source,
                              self.positions.between(node.values[0], node.values[1]))

    def _build_IfExp(self, node: ast.IfExp) -> _Node:
        raise ExpressionError("conditional expressions (a if c else b) are not allowed",
                              self.positions.source, self.positions.between(node.body, node.test))

    def _build_Attribute(self, node: ast.Attribute) -> _Node:
        offset = self.positions.end(node) - len(node.attr)
        text = _shorten(self.positions.text(node), 40)
        hint = f": write {node.attr}(...)" if node.attr in ALLOWED_FUNCTIONS else ""
        raise ExpressionError(f"attribute access ({text!r}) is not allowed{hint}",
                              self.positions.source, offset)

    def _build_Call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name):
            self.build(node.func)  # refuses attributes, lambdas, ... with their own message
            raise self.positions.error(node, "only functions named directly can be called, "
                                             "e.g. sin(x)")
        name = node.func.id
        self._check_callable(node.func)
        signature = _signature(name)
        self._check_arity(node, name, signature)
        keywords = tuple(self._keyword(k, name, signature, len(node.args))
                         for k in node.keywords)
        args = tuple(self.build(arg) for arg in node.args)
        return _Call(*self._where(node), _FUNCTIONS[name], args, keywords)

    def _check_callable(self, func: ast.Name) -> None:
        name = func.id
        if name in ALLOWED_FUNCTIONS:
            return
        if name in _CONSTANTS:
            message = f"{name!r} is a constant, not a function: write {name}*(...)"
        elif name in self.bare:
            message = f"{name!r} is a variable, not a function: write {name}*(...) for a product"
        else:
            message = _unknown_function_message(name)
        raise self.positions.error(func, message)

    def _check_arity(self, node: ast.Call, name: str, signature: _Signature) -> None:
        count, most = len(node.args), len(signature.params)
        if signature.required <= count <= most:
            return
        expected = str(most) if signature.required == most else \
            f"{signature.required} to {most}"
        plural = "" if expected == "1" else "s"
        message = (f"{name} takes {expected} positional argument{plural} "
                   f"({', '.join(signature.params)}), got {count}")
        raise self.positions.error(node.args[most] if count > most else node, message)

    def _keyword(self, kw: ast.keyword, name: str, signature: _Signature,
                 count: int) -> tuple[str, Any]:
        if kw.arg is None:
            raise self.positions.error(kw, "'**' arguments are not allowed")
        if kw.arg not in _KEYWORDS:
            raise self.positions.error(kw, f"keyword argument {kw.arg!r} is not allowed: only "
                                           f"axis= and keepdims= (for reductions such as sum)")
        if not signature.keywords:
            raise self.positions.error(kw, f"{name} takes no keyword arguments (axis= and "
                                           f"keepdims= are for reductions such as sum)")
        if kw.arg not in signature.keywords:
            raise self.positions.error(kw, f"{name} does not take {kw.arg}=")
        if kw.arg in signature.params[:count]:
            raise self.positions.error(kw, f"{name}: {kw.arg} is given twice (positionally "
                                           f"and as {kw.arg}=)")
        return kw.arg, self._keyword_value(kw)

    def _keyword_value(self, kw: ast.keyword) -> Any:
        value = _literal(kw.value)
        if kw.arg == "keepdims" and isinstance(value, bool):
            return value
        if kw.arg == "axis" and _is_axis(value):
            return value
        hint = "True or False" if kw.arg == "keepdims" else \
            "an integer or a tuple of integers, e.g. axis=0 or axis=(0, 1)"
        raise self.positions.error(kw.value, f"{kw.arg}= must be {hint}, written literally")


def _literal(node: ast.expr) -> Any:
    """The value of a literal int, -int, bool or tuple of ints; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, ast.Tuple):
        items = tuple(_literal(item) for item in node.elts)
        return items if all(type(i) is int for i in items) else None
    return None


def _is_axis(value: Any) -> bool:
    return type(value) is int or (isinstance(value, tuple) and all(type(v) is int for v in value))

