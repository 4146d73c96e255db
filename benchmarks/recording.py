"""What ``dualad.compile``'s first two calls cost, warm and cold, against one eager call.

Usage (from the repository root)::

    python -m benchmarks.recording            # the small problems of the sweep, a few seconds
    python -m benchmarks.recording --quick    # two problems (used by the tests)

For each small problem of :mod:`benchmarks.forward_vs_reverse` and each compiled transform
(``jvp``, ``grad``/``vjp``, ``jacfwd``, ``jacrev``) it times, with the garbage collector off:

- one eager call of the transform (the median of ``timeit`` samples);
- the recording (the first call of a fresh ``dualad.compile`` object) right after eager calls,
  as the forward-vs-reverse sweep meets it (*cold*: the engines ran on ndarrays just before);
- the recording right after another recording (*warm*);
- the second call, which simplifies the program and writes the replay's code (*build*).

The cold and warm recordings differ by the interpreter's state, not by the work done: CPython
specialises the engines' bytecode for the operands it last saw, ndarrays or traced arrays.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import timeit
from collections.abc import Callable, Sequence
from typing import Any

import dualad
from benchmarks.forward_vs_reverse import (
    GRAD,
    JACFWD,
    JACREV,
    JVP,
    Problem,
    _compiled_fun,
    build_dense,
    build_elementwise,
    build_few,
    build_mlp,
    build_rosenbrock,
)

PROBLEMS: dict[str, Callable[[], Problem]] = {
    "rosenbrock n=8": lambda: build_rosenbrock(8),
    "mlp n=8": lambda: build_mlp(8),
    "elementwise n=8": lambda: build_elementwise(8),
    "dense n=8": lambda: build_dense(8),
    "few n=2": lambda: build_few(2, 4),
}
FAMILIES = (JVP, GRAD, JACFWD, JACREV)


def _arguments(family: str, p: Problem) -> tuple:
    extra = (p.v,) if family == JVP else (p.u,) if family == GRAD and not p.scalar else ()
    return (p.x, *extra, *p.consts)


def _timed(fn: Callable[..., Any], args: tuple) -> float:
    """One call's seconds, with the garbage collector off."""
    gc.disable()
    try:
        start = time.perf_counter()
        fn(*args)
        return time.perf_counter() - start
    finally:
        gc.enable()


def measure(family: str, p: Problem, rounds: int) -> dict[str, float]:
    """Seconds: one eager call, the cold and warm recordings and the build (medians).

    >>> row = measure(GRAD, build_rosenbrock(4), rounds=2)
    >>> sorted(row)
    ['build', 'cold', 'eager', 'warm']
    """
    eager_fun = _compiled_fun(family, p)
    args = _arguments(family, p)
    eager = statistics.median(timeit.repeat(lambda: eager_fun(*args), number=50, repeat=5)) / 50
    cold, warm, build = [], [], []
    for _ in range(rounds):
        for _ in range(20):
            eager_fun(*args)
        first, second = (dualad.compile(_compiled_fun(family, p)) for _ in range(2))
        cold.append(_timed(first, args))
        warm.append(_timed(second, args))
        build.append(_timed(second, args))
    return {"eager": eager, "cold": statistics.median(cold), "warm": statistics.median(warm),
            "build": statistics.median(build)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recording",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two problems, few rounds")
    args = parser.parse_args(argv)
    names = list(PROBLEMS)[:2] if args.quick else list(PROBLEMS)
    rounds = 3 if args.quick else 25
    print("| problem | compiled | eager call | recording, cold | recording, warm | build |")
    print("|---|---|---:|---:|---:|---:|")
    for name in names:
        p = PROBLEMS[name]()
        for family in FAMILIES:
            row = measure(family, p, rounds)
            e = row["eager"]
            print(f"| {name} | compile({family}) | {e * 1e6:.0f} µs | {row['cold'] / e:.1f}x | "
                  f"{row['warm'] / e:.1f}x | {row['build'] / e:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
