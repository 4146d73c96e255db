"""Dask arrays larger than memory: the time and peak memory of ``jvp`` and ``grad`` of an
elementwise chain, against Dask computing the chain alone.

Usage (from the repository root)::

    python -m benchmarks.dask_scale --out benchmarks/results   # 2^31 elements, minutes
    python -m benchmarks.dask_scale --quick                    # 2^20 elements (the tests)

``x`` is a lazy Dask array of uniform random numbers (chunks of 2^23 float64, 64 MiB),
never held whole; ``f(x) = sin(x) exp(-x^2) + tanh(x) x`` elementwise. Each measurement
runs in a fresh Python process (so that its peak resident memory, ``ru_maxrss``, is its own)
with Dask's threaded scheduler on two workers, and reduces what it computes to numbers
(``sum``), since the results are as large as ``x``:

- *f*: ``f(x).sum()``, Dask alone;
- *jvp*: the value and the tangent along ones, ``(y.sum(), y_dot.sum())``;
- *grad*: ``grad(lambda x: np.sum(f(x)))(x).sum()``.

The results of the three are checked against each other (the value of ``jvp`` against
*f*'s, the tangent's sum against the gradient's, which are equal for a tangent of ones).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHUNK = 2**23
FULL_N = 2**31
QUICK_N = 2**20

_CHILD = """
import json, resource, sys, time
import numpy as np, dask, dask.array as da, dualad
n, chunk, what = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
f = lambda x: np.sin(x) * np.exp(-x * x) + np.tanh(x) * x
x = da.random.default_rng(0).random(n, chunks=min(n, chunk))
start = time.perf_counter()
with dask.config.set(scheduler="threads", num_workers=2):
    if what == "f":
        result = [float(f(x).sum().compute())]
    elif what == "jvp":
        y, y_dot = dualad.jvp(f, (x,), (da.ones_like(x),))
        result = [float(v) for v in da.compute(y.sum(), y_dot.sum())]
    else:
        result = [float(dualad.grad(lambda x: np.sum(f(x)))(x).sum().compute())]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "result": result}))
"""


def measure(n: int, what: str) -> dict:
    """One measurement in a fresh process: seconds, peak bytes, and the numbers computed."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(CHUNK), what],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dask_scale",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_N} elements")
    parser.add_argument("--out", metavar="DIR", help="write dask_scale.md into DIR")
    args = parser.parse_args(argv)
    n = QUICK_N if args.quick else FULL_N
    rows = {what: measure(n, what) for what in ("f", "jvp", "grad")}
    f, jvp, grad = rows["f"], rows["jvp"], rows["grad"]
    agree = (abs(jvp["result"][0] - f["result"][0]) <= 1e-9 * abs(f["result"][0])
             and abs(jvp["result"][1] - grad["result"][0]) <= 1e-9 * abs(grad["result"][0]))
    gib = 2**30
    lines = [
        "# dualad on Dask arrays larger than memory",
        "",
        f"`python -m benchmarks.dask_scale{' --quick' if args.quick else ''}"
        f"{f' --out {args.out}' if args.out else ''}`",
        "",
        f"- **n**: {n} float64 ({n * 8 / gib:.3g} GiB per array), chunks of {CHUNK}",
        f"- **machine**: {os.cpu_count()} cores; Dask's threaded scheduler, two workers",
        "",
        "| computation | time | time / f | peak resident memory |",
        "|---|---:|---:|---:|",
    ]
    for what, row in rows.items():
        lines.append(f"| {what} | {row['seconds']:.1f} s | {row['seconds'] / f['seconds']:.2f}x "
                     f"| {row['peak'] / gib:.2f} GiB |")
    lines += ["", "The results agree: " + ("yes" if agree else "NO"), ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "dask_scale.md"), "w") as fh:
            fh.write(text)
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
