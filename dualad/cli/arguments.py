"""What every ``dualad`` command shares: the :class:`Command` record that ``main.COMMANDS``
lists, the parser that raises its usage errors, and the TARGET, ``--expression`` and ``--at``
arguments."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .targets import CommandLineError


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, its description, the function that adds its
    arguments to its parser, and the function that runs it and returns the exit status."""

    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse with its usage errors raised, so that they are printed like every mistake.

    >>> Parser(prog="dualad trace").parse_args(["--bogus"])
    Traceback (most recent call last):
    ...
    dualad.cli.targets.CommandLineError: unrecognized arguments: --bogus (see dualad trace --help)
    """

    def error(self, message: str) -> Any:
        if "--expression" in message and "expected one argument" in message:
            message += "; for a TEXT that starts with '-', write --expression=TEXT"
        raise CommandLineError(f"{message} ({see(self.prog)})")


def see(prog: str) -> str:
    """Where to read more about ``prog``.

    >>> see("dualad trace")
    'see dualad trace --help'
    """
    return f"see {prog} --help"


def expression_argument(parser: argparse.ArgumentParser, where: str) -> None:
    """``--expression TEXT``, read ``where`` (e.g. "instead of TARGET")."""
    parser.add_argument("--expression", "-e", metavar="TEXT",
                        help=f"an expression, {where}: TEXT is only ever parsed as a formula, "
                             "never imported or run (safe for untrusted text; write "
                             "-e=TEXT or --expression=TEXT when TEXT starts with '-')")


def point_argument(parser: argparse.ArgumentParser) -> None:
    """``--at NAME=VALUE ...``: the point."""
    parser.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE",
                        help='the point: x1=2, x=[1,2,3], W=@weights.npy, or a JSON object '
                             'for a dict parameter, p={"w": [1,2], "b": 0.5} (its entries '
                             'are the inputs p_w and p_b)')


def target_texts(args: argparse.Namespace) -> tuple[str, str | None]:
    """TARGET (or --expression TEXT) and, for ``check``, GRAD (the positional after TARGET,
    or the only one with --expression).

    >>> target_texts(argparse.Namespace(command="trace", target=None, expression="x * y"))
    ('x * y', None)
    """
    grad = getattr(args, "grad", None)
    if args.expression is None:
        if args.target is None:
            raise CommandLineError(f"no TARGET: give one, or --expression TEXT "
                                   f"({see('dualad ' + args.command)})")
        return args.target, grad
    if args.command == "trace" and args.target is not None:
        raise CommandLineError(f"give either TARGET ({args.target!r}) or --expression TEXT, "
                               f"not both")
    if grad is not None:
        raise CommandLineError(f"with --expression TEXT, give at most one more argument "
                               f"(GRAD), not {args.target!r} and {grad!r}")
    return args.expression, args.target
