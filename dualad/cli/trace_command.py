"""``dualad trace``: the forward primal, forward tangent and reverse adjoint traces of a
function at a point, as the AD lecture's tables (Baydin et al. 2018, Tables 2 and 3)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..traces.build import trace
from ..traces.formats import (
    FORMATS,
    GRAPH_SUFFIXES,
    MAX_DIGITS,
    MODES,
    format_for_file,
    render,
    write_graph,
)
from .arguments import Command, expression_argument, point_argument, target_texts
from .calling import run_user_function
from .point import calling, point_of
from .streams import emit
from .targets import CommandLineError, load_target, parse_values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``dualad trace``."""
    parser.add_argument("target", nargs="?", metavar="TARGET",
                        help='an expression ("log(x1) + x1*x2 - sin(x2)"), '
                             "path/to/file.py:function or package.module:function (a NumPy "
                             "ufunc such as numpy:tanh takes x, or x1 and x2)")
    expression_argument(parser, "instead of TARGET")
    point_argument(parser)
    parser.add_argument("--wrt", metavar="NAME", help="the input whose tangent is seeded "
                                                      "with 1 (default: the first)")
    parser.add_argument("--direction", nargs="+", default=None, metavar="NAME=VALUE",
                        help="an arbitrary tangent seed instead of --wrt (inputs left out: "
                             "0)")
    parser.add_argument("--mode", choices=MODES, default="both",
                        help="forward: primal and tangent traces; reverse: primal and "
                             "adjoint traces; both (default)")
    parser.add_argument("--format", choices=tuple(FORMATS), default=None,
                        help=f"one of {', '.join(FORMATS)}; dot is the computational graph "
                             f"for Graphviz, python the derivative program in NumPy "
                             f"(default: the one --output's extension names "
                             f"({_extensions()}), else text)")
    parser.add_argument("--digits", type=int, default=3, metavar="N",
                        help=f"decimals shown, 0 to {MAX_DIGITS} (default 3)")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write to FILE instead of printing; in the format its extension "
                             "names unless --format says otherwise; with --format dot, "
                             ".svg, .png and .pdf are rendered by Graphviz")


def run(args: argparse.Namespace) -> int:
    """Print (or write to --output) the traces that ``args`` ask for; the exit status."""
    text, _ = target_texts(args)
    fmt = _format(args.format, args.output)
    if args.output:
        _check_output_path(args.output, fmt)
    target = load_target(text, expression_only=args.expression is not None)
    point = point_of(target, parse_values(args.at))
    direction = None
    if args.direction is not None:
        direction = _direction(parse_values(args.direction, "--direction"), point.names)
    if args.wrt is not None and args.wrt not in point.names:
        raise CommandLineError(f"--wrt {args.wrt}: not an input ({', '.join(point.names)})")
    if not 0 <= args.digits <= MAX_DIGITS:
        raise CommandLineError(f"--digits must be between 0 and {MAX_DIGITS}")
    with np.errstate(all="ignore"):  # non-finite values are reported after the trace
        result = run_user_function(
            target, calling(target, point),
            lambda f: trace(f, *point.leaves, wrt=args.wrt, direction=direction,
                            names=point.names, function=target.text,
                            local_names=not target.is_expression))
    output = render(result, fmt, mode=args.mode, digits=args.digits)
    if args.output:
        _write_output(output, args.output, fmt)
    else:
        emit(output)
    return _report_non_finite(result)


COMMAND = Command(
    help="print the primal, tangent and adjoint traces",
    description="Print the forward primal, forward tangent and reverse adjoint traces of "
                "TARGET at a point.",
    add_arguments=add_arguments, run=run)


def _extensions() -> str:
    return ", ".join(e for f in FORMATS.values() for e in f.extensions)


def _format(fmt: str | None, output: str | None) -> str:
    """--format, else the format --output's extension names, else text (also for a file
    without an extension, such as /dev/stdout)."""
    if fmt is not None:
        return fmt
    if not output or not Path(output).suffix:
        return "text"
    named = format_for_file(output)
    if named is not None:
        return named
    raise CommandLineError(f"--output {output}: the extension {Path(output).suffix} names no "
                           f"format; name "
                           f"the file with one of {_extensions()}, or give --format "
                           f"{{{','.join(FORMATS)}}}")


def _direction(seeds: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The tangent seed of every input (0 for those left out); the names must be inputs."""
    unknown = [n for n in seeds if n not in names]
    if unknown:
        raise CommandLineError(f"--direction {unknown[0]}: not an input "
                               f"({', '.join(names)})")
    if any(isinstance(seed, dict) for seed in seeds.values()):
        raise CommandLineError("--direction: give each entry of a dict as its own input "
                               f"({', '.join(names)})")
    return {n: seeds.get(n, 0.0) for n in names}


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
    """``text`` into the file ``output`` (a graph through write_graph, which renders images
    with Graphviz)."""
    try:
        if fmt == "dot" and Path(output).suffix.lower() in GRAPH_SUFFIXES:
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
