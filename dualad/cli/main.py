"""The ``dualad`` command: the table of its subcommands and its one error handler.

Each subcommand lives in its own module (``trace_command``, ``check_command``) as a
:class:`~dualad.cli.arguments.Command`; adding one means writing its module and adding a row
to :data:`COMMANDS`. A mistake of the user's, wherever it is found, is a
:class:`~dualad.errors.DualadError`: :func:`main` prints it as one ``dualad: error: ...``
message, without a traceback, and returns 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import DualadError
from . import check_command, trace_command
from .arguments import Command, Parser, see
from .streams import discard_stdout, printable_streams
from .targets import CommandLineError

COMMANDS: dict[str, Command] = {
    "trace": trace_command.COMMAND,
    "check": check_command.COMMAND,
}
"""Every subcommand by name, in the order ``dualad --help`` lists them."""

DESCRIPTION = ("Automatic differentiation on the command line: 'dualad trace' prints the "
               "forward primal, forward tangent and reverse adjoint traces of a function at a "
               "point, as the AD lecture's tables; 'dualad check' compares a gradient derived "
               "by hand with dualad's, or checks dualad's derivatives against finite "
               "differences.")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dualad`` command; returns the exit status.

    0 for success, 1 when ``dualad check`` finds derivatives that differ, 2 for a mistake
    (printed as one ``dualad: error: ...`` message), 130 for Ctrl-C.

    >>> main(["trace", "x1 * x2", "--at", "x1=3", "x2=4", "--mode", "reverse"])
    ... # doctest: +ELLIPSIS
    f = x1 * x2 ...
    0
    """
    with printable_streams():
        try:
            parser = _parser()
            args = _parse(parser, argv)
            if args is None:  # --help or --version: printed
                return 0
            if args.command is None:  # `dualad` alone: what it can do
                print(parser.format_help(), end="", file=sys.stderr)
                return 2
            return COMMANDS[args.command].run(args)
        except DualadError as err:  # a bad option, expression, value, file, function...
            print(f"dualad: error: {err}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # the reader (``| head``) stopped early: not an error
            discard_stdout()
            return 0
        except KeyboardInterrupt:  # Ctrl-C, wherever it landed (the user's code included)
            print("dualad: interrupted", file=sys.stderr)
            return 130


def _version() -> str:
    """dualad's version, from its one source: the package's ``__version__``.

    Read from the loaded package when asked, not imported: the package (the public API) sits
    above every layer, and is always imported before its ``cli``."""
    return str(sys.modules["dualad"].__version__)


def _parser() -> argparse.ArgumentParser:
    """The parser of ``dualad`` and of each command in :data:`COMMANDS`."""
    parser = Parser(prog="dualad", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print dualad's version and exit")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND",
                                parser_class=Parser,
                                help="one of these; dualad COMMAND --help shows its options")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help,
                                             description=command.description))
    return parser


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
        raise CommandLineError(f"unrecognized arguments: {' '.join(unknown)} ({see(prog)})")
    return args


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
