"""The ``dualad`` command: ``dualad trace`` and ``dualad check``.

``dualad trace TARGET --at NAME=VALUE ...`` prints the forward primal trace, the forward
tangent trace and the reverse adjoint trace of an expression or a Python function, in the
form of the AD lecture's tables (Baydin et al. 2018, Tables 2 and 3). ``dualad check``
compares a gradient derived by hand with dualad's, or checks dualad's own derivatives
against finite differences. A mistake of the user's is printed as one message, without a
traceback, and the command exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import numbers
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..checking import GradientCheckError, check_grads, compare
from ..errors import DualadError
from ..traced import TracedArray
from ..traces.build import trace
from ..traces.formats import FORMATS, MODES, render, write_graph
from ..transforms.reverse import vjp
from ..tree import flatten, tree_map
from .targets import (
    CommandLineError,
    Target,
    bind_values,
    exception_text,
    given_inputs,
    load_target,
    parse_values,
    shorten,
)

DESCRIPTION = ("Automatic differentiation on the command line: 'dualad trace' prints the "
               "forward primal, forward tangent and reverse adjoint traces of a function at a "
               "point, as the AD lecture's tables; 'dualad check' compares a gradient derived "
               "by hand with dualad's, or checks dualad's derivatives against finite "
               "differences.")


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors raised, so that they are printed like ours."""

    def error(self, message: str) -> Any:
        if "--expression" in message and "expected one argument" in message:
            message += "; for a TEXT that starts with '-', write --expression=TEXT"
        raise CommandLineError(f"{message} ({_see(self.prog)})")


def _see(prog: str) -> str:
    """Where to read more: ``see dualad --help`` or ``see dualad trace --help``."""
    return f"see {prog} --help"


def _version() -> str:
    """dualad's version, from its one source: the package's ``__version__``.

    Read from the loaded package when asked: the package (the public API, above every
    layer) is always imported before its ``cli`` and is not imported from below."""
    return str(sys.modules["dualad"].__version__)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dualad", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print dualad's version and exit")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND",
                                parser_class=_Parser,
                                help="one of these; dualad COMMAND --help shows its options")
    _trace_parser(sub)
    _check_parser(sub)
    return parser


def _trace_parser(sub: Any) -> None:
    trace = sub.add_parser("trace", help="print the primal, tangent and adjoint traces",
                           description="Print the forward primal, forward tangent and reverse "
                                       "adjoint traces of TARGET at a point.")
    trace.add_argument("target", nargs="?", metavar="TARGET",
                       help='an expression ("log(x1) + x1*x2 - sin(x2)"), '
                            "path/to/file.py:function or package.module:function")
    _expression_argument(trace, "instead of TARGET")
    _point_arguments(trace)
    trace.add_argument("--wrt", metavar="NAME", help="the input whose tangent is seeded with "
                                                     "1 (default: the first)")
    trace.add_argument("--direction", nargs="+", default=None, metavar="NAME=VALUE",
                       help="an arbitrary tangent seed instead of --wrt (inputs left out: 0)")
    trace.add_argument("--mode", choices=MODES, default="both",
                       help="forward: primal and tangent traces; reverse: primal and adjoint "
                            "traces; both (default)")
    trace.add_argument("--format", choices=tuple(FORMATS), default="text",
                       help=f"{', '.join(FORMATS)} (default text); dot is the computational "
                            f"graph for Graphviz")
    trace.add_argument("--digits", type=int, default=3, metavar="N",
                       help="decimals shown, 0 to 17 (default 3)")
    trace.add_argument("--output", "-o", metavar="FILE",
                       help="write to FILE instead of printing; with --format dot, "
                            ".svg/.png/.pdf are rendered by Graphviz")


def _check_parser(sub: Any) -> None:
    check = sub.add_parser("check", help="compare a hand-derived gradient with dualad's",
                           description="With GRAD: compare GRAD(...) (a gradient derived by "
                                       "hand) with dualad's gradient of TARGET. Without: "
                                       "check dualad's forward and reverse derivatives of "
                                       "TARGET against central differences. Exit status 0 "
                                       "when they agree, 1 when they differ.")
    check.add_argument("target", nargs="?", metavar="TARGET",
                       help="the function: path/to/file.py:f or module:f (or an expression)")
    check.add_argument("grad", nargs="?", metavar="GRAD",
                       help="the hand-derived gradient: file.py:grad_f")
    _expression_argument(check, "instead of TARGET; a GRAD given with it is read as an "
                                "expression too")
    _point_arguments(check)


def _expression_argument(parser: argparse.ArgumentParser, where: str) -> None:
    parser.add_argument("--expression", "-e", metavar="TEXT",
                        help=f"an expression, {where}: TEXT is only ever parsed as a formula, "
                             "never imported or run (safe for untrusted text; write "
                             "-e=TEXT or --expression=TEXT when TEXT starts with '-')")


def _point_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE",
                        help="the point: x1=2, x=[1,2,3], W=@weights.npy")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dualad`` command; returns the exit status.

    A mistake prints one ``dualad: error: ...`` line and returns 2; Ctrl-C returns 130.

    >>> main(["trace", "x1 * x2", "--at", "x1=3", "x2=4", "--mode", "reverse"])
    ... # doctest: +ELLIPSIS
    f = x1 * x2 ...
    0
    """
    with _printable_streams():
        try:
            parser = _parser()
            args = _parse(parser, argv)
            if args is None:  # --help or --version: printed
                return 0
            if args.command is None:  # `dualad` alone: what it can do
                print(parser.format_help(), end="", file=sys.stderr)
                return 2
            run = _trace if args.command == "trace" else _check
            return run(args)
        except DualadError as err:  # CommandLineError, an expression's syntax, a function...
            print(f"dualad: error: {err}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # the reader (``| head``) stopped early: not an error
            _discard_stdout()
            return 0
        except KeyboardInterrupt:  # Ctrl-C, wherever it landed (the user's code included)
            print("dualad: interrupted", file=sys.stderr)
            return 130


def _parse(parser: argparse.ArgumentParser,
           argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The parsed command line; None after --help or --version, which argparse prints."""
    try:
        args, unknown = parser.parse_known_args(argv)
    except SystemExit as done:  # only --help and --version exit: mistakes raise instead
        if done.code not in (0, None):
            raise
        return None
    if unknown:  # found by the command's parser: its help is the one to read
        prog = "dualad" if args.command is None else f"dualad {args.command}"
        raise CommandLineError(f"unrecognized arguments: {' '.join(unknown)} ({_see(prog)})")
    return args


@contextlib.contextmanager
def _printable_streams() -> Iterator[None]:
    """stdout and stderr write what their encoding cannot (``ψ`` in ASCII) as ``\\u03c8``."""
    changed = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors in (None, "backslashreplace") or not hasattr(stream, "reconfigure"):
            continue
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(errors="backslashreplace")
            changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that what is left in its buffer cannot fail at exit."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)


def _emit(text: str) -> None:
    """Print ``text`` on stdout, a failure to write (a full disk) reported as a mistake."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        _discard_stdout()
        raise CommandLineError(f"cannot write to standard output ({err.strerror or err}); "
                               f"write to a file with --output FILE") from None


def _target_texts(args: argparse.Namespace) -> tuple[str, str | None]:
    """TARGET (or --expression TEXT) and, for ``check``, GRAD (the positional after TARGET,
    or the only one with --expression)."""
    grad = getattr(args, "grad", None)
    if args.expression is None:
        if args.target is None:
            raise CommandLineError(f"no TARGET: give one, or --expression TEXT "
                                   f"({_see('dualad ' + args.command)})")
        return args.target, grad
    if args.command == "trace" and args.target is not None:
        raise CommandLineError(f"give either TARGET ({args.target!r}) or --expression TEXT, "
                               f"not both")
    if grad is not None:
        raise CommandLineError(f"with --expression TEXT, give at most one more argument "
                               f"(GRAD), not {args.target!r} and {grad!r}")
    return args.expression, args.target


# --------------------------------------------------------------------------- trace


def _trace(args: argparse.Namespace) -> int:

    text, _ = _target_texts(args)
    if args.output:
        _check_output_path(args.output, args.format)
    target = load_target(text, expression_only=args.expression is not None)
    values = parse_values(args.at)
    point = bind_values(target, values)
    names = given_inputs(target, values)
    direction = None
    if args.direction is not None:
        seeds = parse_values(args.direction, "--direction")
        bind_values(target, {**dict(zip(names, point)), **seeds})  # names must be inputs
        direction = {n: seeds.get(n, 0.0) for n in names}
    if args.wrt is not None and args.wrt not in names:
        raise CommandLineError(f"--wrt {args.wrt}: not an input ({', '.join(names)})")
    if args.digits < 0 or args.digits > 17:
        raise CommandLineError("--digits must be between 0 and 17")
    with np.errstate(all="ignore"):  # non-finite values are reported after the trace
        result = _run_user_function(
            target, lambda f: trace(f, *point, wrt=args.wrt, direction=direction, names=names,
                                    function=target.text, local_names=not target.is_expression))
    text = render(result, args.format, mode=args.mode, digits=args.digits)
    if args.output:
        _write_output(text, args.output, args.format)
    else:
        _emit(text)
    return _report_non_finite(result)


def _check_output_path(output: str, fmt: str) -> None:
    """Refuse an --output that cannot be a new file before any work is done."""
    path = Path(output)
    example = path / f"trace{FORMATS[fmt].extensions[0]}"
    if path.is_dir():
        raise CommandLineError(f"--output {output}: is a directory; give a file name such as "
                               f"{example}")
    if output.endswith(("/", os.sep)):
        raise CommandLineError(f"--output {output}: names a directory, which does not exist; "
                               f"give a file name such as {example}")
    if not path.parent.is_dir():
        raise CommandLineError(f"--output {output}: the directory {path.parent} does not "
                               f"exist; create it first (mkdir -p {path.parent}) or name a "
                               f"file in an existing directory")


def _write_output(text: str, output: str, fmt: str) -> None:
    """``text`` into the file ``output`` (rendered by Graphviz for a dot image)."""

    try:
        if fmt == "dot" and Path(output).suffix.lower() in (".svg", ".png", ".pdf"):
            write_graph(text, output)
        else:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
    except OSError as err:
        raise CommandLineError(f"--output {output}: cannot write the file "
                               f"({err.strerror or err}); name another file") from None


def _report_non_finite(result: Any) -> int:
    bad = [s.label for s in result.steps
           if not (np.all(np.isfinite(s.primal)) and np.all(np.isfinite(s.tangent)))]
    bad += [result.step(a.target).label + "_bar" for a in result.adjoint_steps
            if not np.all(np.isfinite(a.value))]
    if not bad:
        return 0
    print(f"dualad: error: non-finite values (nan or inf) in {', '.join(dict.fromkeys(bad))}; "
          f"the trace above shows where they first appear", file=sys.stderr)
    return 2


def _call_by_name(target: Target, names: tuple[str, ...]) -> Callable[..., Any]:
    """``target.function`` taking the given inputs positionally (the rest keep defaults)."""
    if target.is_expression:
        return target.function

    @functools.wraps(target.function)
    def call(*values: Any) -> Any:
        return target.function(**dict(zip(names, values)))

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
    if isinstance(value, (np.ndarray, np.generic, TracedArray)):
        return value.dtype.kind in "biuf"
    return isinstance(value, numbers.Real)


def _describe(value: Any) -> str:
    if isinstance(value, (str, bytes)):
        return f"a {type(value).__name__} ({shorten(repr(value))})"
    if isinstance(value, (np.ndarray, np.generic, TracedArray)):
        return f"an array of {value.dtype}"
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _run_user_function(target: Target, run: Callable[[Callable[..., Any]], Any],
                       names: tuple[str, ...] | None = None,
                       passthrough: tuple[type[Exception], ...] = ()) -> Any:
    """``run(f)``, where an error raised inside the user's code is shown as theirs."""
    f = _returning_numbers(target, _call_by_name(target, names if names is not None
                                                 else target.inputs))
    try:
        return run(f)
    except (CommandLineError, KeyboardInterrupt, *passthrough):
        raise
    except BaseException as err:  # noqa: BLE001 - the user's function failed: show its error
        raise CommandLineError(_user_error(target, err)) from None


def _attributed(target: Target, f: Callable[..., Any]) -> Callable[..., Any]:
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


# --------------------------------------------------------------------------- check


def _check(args: argparse.Namespace) -> int:

    target_text, grad_text = _target_texts(args)
    only = args.expression is not None
    target = load_target(target_text, expression_only=only)
    values = parse_values(args.at)
    point = bind_values(target, values)
    names = given_inputs(target, values)
    manual = None if grad_text is None else load_target(grad_text, expression_only=only)
    with np.errstate(all="ignore"):  # reported by _require_finite
        _run_user_function(target, lambda f: _require_finite(target, f, point, names), names)
    if manual is None:
        try:
            report = _run_user_function(
                target, lambda f: check_grads(f, tuple(point), order=2), names,
                passthrough=(GradientCheckError,))
        except GradientCheckError as err:
            _emit(str(err))
            return 1
        _emit(str(report))
        return 0
    manual_f = _attributed(manual, _call_by_name(manual, names))
    comparison = _run_user_function(
        target, lambda f: compare(f, manual_f, *point), names)
    _emit(str(comparison))
    return 0 if comparison.agrees else 1


def _require_finite(target: Target, f: Callable[..., Any], point: Sequence[np.ndarray],
                    names: tuple[str, ...]) -> None:
    """Refuse a point where ``f`` or its gradient (reverse mode, outputs seeded with ones) is
    nan or inf: a derivative check there would compare non-numbers and say nothing."""

    value, pullback = vjp(f, *point)
    problems = []
    leaves, _ = flatten(value)
    if not all(np.all(np.isfinite(leaf)) for leaf in leaves):
        problems.append(f"its value is {_non_finite_text(leaves)}")
    gradient = pullback(tree_map(lambda leaf: np.ones(np.shape(leaf)), value))
    bad = [(n, g) for n, g in zip(names, gradient) if not np.all(np.isfinite(g))]
    if bad:
        problems.append(f"dualad's derivative for {', '.join(n for n, _ in bad)} is "
                        f"{_non_finite_text([g for _, g in bad])}")
    if problems:
        raise CommandLineError(
            f"{target.text} is not finite at this point ({'; '.join(problems)}); a check "
            f"needs finite numbers: choose another --at point (dualad trace shows where nan "
            f"or inf first appear)")


def _non_finite_text(arrays: Sequence[Any]) -> str:
    """``inf``, ``nan``, ... for a single number; how many elements, for arrays."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    bad = values[~np.isfinite(values)]
    if values.size == 1:
        return str(bad[0])
    kinds = " and ".join(k for k, m in (("nan", np.isnan(bad)), ("inf", np.isinf(bad)))
                         if m.any())
    return f"{kinds} in {bad.size} of {values.size} elements"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
