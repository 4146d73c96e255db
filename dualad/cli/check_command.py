"""``dualad check``: compare a gradient derived by hand with dualad's, or check dualad's own
derivatives against finite differences (:func:`dualad.checking.compare` and
:func:`dualad.checking.check_grads`, whose settings are its options)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..checking import GradientCheckError, check_grads, compare
from ..transforms.reverse import vjp
from ..tree import flatten, tree_map
from .arguments import Command, expression_argument, point_argument, target_texts
from .calling import attributed, run_user_function
from .point import Point, calling, point_of
from .streams import emit
from .targets import CommandLineError, Target, load_target, parse_values

_MODES = {"forward": ("fwd",), "reverse": ("rev",), "both": ("fwd", "rev")}
_DIFFERENCE_OPTIONS = ("order", "mode", "atol", "rtol", "eps", "seed")


def _tolerance(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text!r}")
    return value


def _step(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text!r}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def _order(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 (first derivatives), 2 (also second "
                                         f"derivatives) or more, not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``dualad check``."""
    parser.add_argument("target", nargs="?", metavar="TARGET",
                        help="the function: path/to/file.py:f or module:f (or an expression)")
    parser.add_argument("grad", nargs="?", metavar="GRAD",
                        help="the hand-derived gradient: file.py:grad_f, returning one array "
                             "per input (a tuple), or a dict keyed by parameter name")
    expression_argument(parser, "instead of TARGET; a GRAD given with it is read as an "
                                "expression too")
    point_argument(parser)
    parser.add_argument("--wrt", nargs="+", metavar="NAME",
                        help="the inputs differentiated (default: all); GRAD returns their "
                             "gradients only, the other inputs keep their values")
    group = parser.add_argument_group(
        "checking against finite differences (without GRAD)",
        "the settings of dualad.check_grads; by default they depend on the dtype")
    group.add_argument("--order", type=_order, metavar="N",
                       help="1: first derivatives; 2 (default): also second derivatives; "
                            "3 and more nest further")
    group.add_argument("--mode", choices=tuple(_MODES),
                       help="forward: check JVPs; reverse: check VJPs; both (default)")
    group.add_argument("--atol", type=_tolerance, metavar="X",
                       help="absolute tolerance (default 1e-6 in float64)")
    group.add_argument("--rtol", type=_tolerance, metavar="X",
                       help="relative tolerance (default 1e-6 in float64)")
    group.add_argument("--eps", type=_step, metavar="H",
                       help="base step of the central differences; an element x moves by "
                            "H * max(1, |x|) (default: eps ** (1/3) of the dtype, 6.1e-6 "
                            "in float64)")
    group.add_argument("--seed", type=int, metavar="N",
                       help="seed of the random directions and cotangents (default 0)")


def run(args: argparse.Namespace) -> int:
    """Check as ``args`` ask; 0 when the derivatives agree, 1 when they differ."""
    target_text, grad_text = target_texts(args)
    if grad_text is not None:
        _refuse_difference_options(args)
    only = args.expression is not None
    target = load_target(target_text, expression_only=only)
    point = point_of(target, parse_values(args.at))
    wrt = _wrt(args.wrt, point.names)
    manual = None if grad_text is None else load_target(grad_text, expression_only=only)
    with np.errstate(all="ignore"):  # reported by _require_finite
        run_user_function(target, calling(target, point),
                          lambda f: _require_finite(target, f, point.leaves, point.names))
    if manual is None:
        return _check_against_differences(args, target, point, wrt)
    manual_f = attributed(manual, _manual_gradient(manual, point, whole=wrt is None))
    argnums = None if wrt is None else tuple(point.names.index(n) for n in wrt)
    comparison = run_user_function(
        target, calling(target, point),
        lambda f: compare(f, manual_f, *point.leaves, argnums=argnums))
    emit(str(comparison))
    return 0 if comparison.agrees else 1


COMMAND = Command(
    help="compare a hand-derived gradient with dualad's",
    description="With GRAD: compare GRAD(...) (a gradient derived by hand) with dualad's "
                "gradient of TARGET. Without: check dualad's forward and reverse derivatives "
                "of TARGET against central differences. Exit status 0 when they agree, 1 "
                "when they differ.",
    add_arguments=add_arguments, run=run)


def _refuse_difference_options(args: argparse.Namespace) -> None:
    given = [name for name in _DIFFERENCE_OPTIONS if getattr(args, name) is not None]
    if given:
        raise CommandLineError(f"--{given[0]} is a setting of the check against finite "
                               f"differences, which runs without GRAD; a comparison with "
                               f"GRAD judges by floating-point rounding alone")


def _wrt(names: Sequence[str] | None, inputs: tuple[str, ...]) -> tuple[str, ...] | None:
    if names is None:
        return None
    for name in names:
        if name not in inputs:
            raise CommandLineError(f"--wrt {name}: not an input ({', '.join(inputs)})")
    if len(set(names)) != len(names):
        raise CommandLineError(f"--wrt {' '.join(names)}: an input is named twice")
    return tuple(names)


def _check_against_differences(args: argparse.Namespace, target: Target, point: Point,
                               wrt: tuple[str, ...] | None) -> int:
    chosen = point.names if wrt is None else wrt
    values = tuple(point.leaves[point.names.index(n)] for n in chosen)
    settings = {"order": 2 if args.order is None else args.order,
                "modes": _MODES[args.mode or "both"], "atol": args.atol, "rtol": args.rtol,
                "eps": args.eps, "seed": 0 if args.seed is None else args.seed}
    try:
        report = run_user_function(target, calling(target, point, chosen),
                                   lambda f: check_grads(f, values, **settings),
                                   passthrough=(GradientCheckError,))
    except GradientCheckError as err:
        emit(str(err))
        return 1
    emit(str(report))
    return 0


def _manual_gradient(manual: Target, point: Point, whole: bool) -> Callable[..., Any]:
    """GRAD as a function of the point's leaves; with ``whole`` (every input differentiated)
    and dict parameters, its result is flattened into one array per leaf as well."""
    if manual.is_expression:
        return manual.function
    call = calling(manual, point)
    if not (whole and point.has_dicts):
        return call

    def leaves(*values: Any) -> Any:
        gradient = call(*values)
        names = [name for name, _ in point.arguments]
        if isinstance(gradient, dict) and set(gradient) == set(names):
            per_argument = [gradient[n] for n in names]
        elif len(names) == 1:
            per_argument = [gradient]
        elif isinstance(gradient, (tuple, list)) and len(gradient) == len(names):
            per_argument = list(gradient)
        else:
            return gradient  # compare says what it expected
        flat = [leaf for n, g in zip(names, per_argument) for leaf in point.leaves_of(g, n)]
        return flat[0] if len(flat) == 1 else tuple(flat)

    return leaves


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
    """``inf``, ``nan``, ... for a single number; how many elements, for arrays.

    >>> _non_finite_text([np.array([1.0, np.nan, np.inf])])
    'nan and inf in 2 of 3 elements'
    """
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])
    bad = values[~np.isfinite(values)]
    if values.size == 1:
        return str(bad[0])
    kinds = " and ".join(k for k, m in (("nan", np.isnan(bad)), ("inf", np.isinf(bad)))
                         if m.any())
    return f"{kinds} in {bad.size} of {values.size} elements"
