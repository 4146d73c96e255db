"""The ``dualad`` command. ``dualad demo`` differentiates the lecture's example.

The trace and check commands arrive with their own issue; until then ``demo`` shows forward
mode on f(x1, x2) = ln(x1) + x1 x2 - sin(x2) at (2, 5), the example of the AD lecture
(Baydin et al. 2018, Table 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np

from .reverse_transforms import grad
from .transforms import jacfwd, jvp


def lecture_example(x1: float, x2: float) -> float:
    """f(x1, x2) = ln(x1) + x1 x2 - sin(x2), the lecture's running example.

    >>> round(float(lecture_example(2.0, 5.0)), 3)
    11.652
    """
    return np.log(x1) + x1 * x2 - np.sin(x2)


def _demo(x1: float, x2: float) -> str:
    y, y_dot = jvp(lecture_example, (x1, x2), (1.0, 0.0))
    columns = jacfwd(lecture_example, argnums=(0, 1))(x1, x2)
    x1_bar, x2_bar = grad(lecture_example, argnums=(0, 1))(x1, x2)
    return "\n".join([
        "f(x1, x2) = ln(x1) + x1*x2 - sin(x2)",
        f"at x1 = {x1:g}, x2 = {x2:g}",
        f"  y                  = {y:.3f}",
        f"  jvp along (1, 0):  y_dot = {y_dot:.3f}   (= dy/dx1)",
        f"  jacfwd:            dy/dx1 = {columns[0]:.3f}, dy/dx2 = {columns[1]:.3f}",
        f"  grad (reverse):    x1_bar = {x1_bar:.3f}, x2_bar = {x2_bar:.3f}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dualad`` command; returns the exit status.

    >>> main(["demo"])  # doctest: +ELLIPSIS
    f(x1, x2) = ln(x1) + x1*x2 - sin(x2)
    ...
    0
    """
    parser = argparse.ArgumentParser(prog="dualad", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="forward mode on the lecture's example")
    demo.add_argument("--at", nargs=2, type=float, default=(2.0, 5.0), metavar=("X1", "X2"),
                      help="the point (default: 2 5)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        print(_demo(*args.at))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
