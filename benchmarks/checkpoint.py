"""Checkpointing: the memory and time of ``dualad.grad`` of a deep MLP, with and without.

Usage (from the repository root)::

    python -m benchmarks.checkpoint --out benchmarks/results   # the sweep, a minute or two
    python -m benchmarks.checkpoint --quick                    # tiny sizes (the tests run it)

The loss of a multilayer perceptron of ``depth`` layers (batch 256, width 256), each
``act(h @ W + b)``, for two activations: GELU (tanh form, as in transformers: about ten
intermediate arrays per layer) and ``tanh`` (three). At each depth, ``dualad.grad`` with
respect to the weights: plain, with every layer in ``dualad.checkpoint`` (the tape keeps
each layer's input), and with ``policy=checkpoint_policies.dots_saveable`` (it keeps the
matrix products too). Peak memory is the peak of the bytes allocated during the call, as
``tracemalloc`` counts them (NumPy reports its arrays to it), above what was allocated
before; time is measured apart, without ``tracemalloc``. Every checkpointed gradient is
checked to equal the plain one, bit for bit, before it is measured. One CPU.
"""

from __future__ import annotations

import argparse
import functools
import os
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import dualad
from benchmarks.forward import (
    Config,
    _fmt_time,
    _load,
    _markdown_table,
    load_peers,
    machine_info,
    measure,
    one_core,
)

FULL = Config(quick=False, sample_time=0.05, budget=1.0, min_repeats=3, max_repeats=7,
              tiny_n=0, elementwise_n=0, rosenbrock_sizes=(), jac_n=0)
QUICK = Config(quick=True, sample_time=1e-3, budget=0.01, min_repeats=2, max_repeats=2,
               tiny_n=0, elementwise_n=0, rosenbrock_sizes=(), jac_n=0)
DEPTHS = (10, 25, 50, 100)
QUICK_DEPTHS = (2, 4)
WIDTH, BATCH = 256, 256
QUICK_WIDTH, QUICK_BATCH = 8, 4


def gelu(z: Any) -> Any:
    """GELU, the tanh form. The cube is written ``z * z * z``, as JAX computes ``z ** 3``:
    NumPy's ``z ** 3`` calls the C library's ``pow``, about 100 times the cost of a product
    here, which would make this a benchmark of ``pow``."""
    return 0.5 * z * (1.0 + np.tanh(0.7978845608028654 * (z + 0.044715 * (z * z * z))))


ACTIVATIONS: dict[str, Callable[[Any], Any]] = {"gelu": gelu, "tanh": np.tanh}

METHODS: dict[str, Callable[[Callable], Callable]] = {
    "plain": lambda layer: layer,
    "checkpoint": dualad.checkpoint,
    "checkpoint, dots saved": lambda layer: dualad.checkpoint(
        layer, policy=dualad.checkpoint_policies.dots_saveable),
}


def mlp_loss(activation: Callable[[Any], Any], remat: Callable[[Callable], Callable],
             x: np.ndarray) -> Callable[[list, list], Any]:
    """The loss of the MLP as a function of its weights and biases."""
    layer = remat(lambda h, w, b: activation(h @ w + b))

    def loss(ws: list, bs: list) -> Any:
        h = x
        for w, b in zip(ws, bs):
            h = layer(h, w, b)
        return np.sum(h ** 2) / h.shape[0]

    return loss


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """The peak of the bytes allocated while ``fn`` runs, above those allocated before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, result


@dataclass
class Row:
    activation: str
    depth: int
    method: str
    peak: int
    seconds: float


def run(cfg: Config) -> list[Row]:
    depths = QUICK_DEPTHS if cfg.quick else DEPTHS
    width, batch = (QUICK_WIDTH, QUICK_BATCH) if cfg.quick else (WIDTH, BATCH)
    rows = []
    for name, activation in ACTIVATIONS.items():
        for depth in depths:
            rng = np.random.default_rng(depth)
            ws = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]
            bs = [rng.standard_normal(width) * 0.1 for _ in range(depth)]
            x = rng.standard_normal((batch, width))
            gradients = {method: dualad.grad(mlp_loss(activation, remat, x), argnums=(0, 1))
                         for method, remat in METHODS.items()}
            peaks = {}
            reference = None
            for method, gradient in gradients.items():  # each runs before any is timed
                peaks[method], got = peak_bytes(functools.partial(gradient, ws, bs))
                reference = got if reference is None else reference
                for g, r in zip([*got[0], *got[1]], [*reference[0], *reference[1]]):
                    if not np.array_equal(g, r):
                        raise AssertionError(f"{method} at {name} depth {depth}: the "
                                             f"gradient differs from the plain one")
            for method, gradient in gradients.items():
                timing = measure(functools.partial(gradient, ws, bs), cfg)
                rows.append(Row(name, depth, method, peaks[method], timing.median))
                print(f"<!-- {name} depth {depth} {method}: {peaks[method] / 2**20:.1f} "
                      f"MiB, {_fmt_time(timing.median)} -->", flush=True)
    return rows


def render(rows: list[Row]) -> str:
    table = []
    for row in rows:
        plain = next(r for r in rows if (r.activation, r.depth, r.method)
                     == (row.activation, row.depth, "plain"))
        table.append([row.activation, str(row.depth), row.method,
                      f"{row.peak / 2**20:.1f} MiB", f"{row.peak / plain.peak:.2f}x",
                      _fmt_time(row.seconds), f"{row.seconds / plain.seconds:.2f}x"])
    header = ["activation", "depth", "method", "peak memory", "memory / plain", "time",
              "time / plain"]
    return _markdown_table(header, table) + (
        "\n\nPeak memory: the peak of the bytes allocated during one `dualad.grad` call "
        "(weights and input excluded), by `tracemalloc`; time: the median of several calls, "
        "without it.\n")


def plot(rows: list[Row], path: str) -> str:
    """Peak memory against depth, one line per method and activation."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot not drawn: matplotlib is not importable (pip install -e '.[bench]')"
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for name in ACTIVATIONS:
        for method in METHODS:
            points = [(r.depth, r.peak / 2**20) for r in rows
                      if (r.activation, r.method) == (name, method)]
            depths, peaks = zip(*points)
            ax.plot(depths, peaks, marker="o", label=f"{name}, {method}",
                    linestyle="-" if name == "gelu" else "--")
    ax.set_xlabel("layers")
    ax.set_ylabel("peak memory of grad (MiB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"wrote {path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkpoint",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--out", metavar="DIR", help="write checkpoint.md into DIR")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    with one_core() as threads:
        info = machine_info(load_peers(False)) + [("threads", threads)]
        width, batch = (QUICK_WIDTH, QUICK_BATCH) if cfg.quick else (WIDTH, BATCH)
        head = ("# dualad checkpointing benchmark\n\n`python -m benchmarks.checkpoint"
                + (" --quick" if args.quick else "")
                + (f" --out {args.out}" if args.out else "") + "`\n\n"
                + "\n".join(f"- **{k}**: {v}" for k, v in info)
                + f"\n- **MLP**: batch {batch}, width {width}\n")
        print(head, flush=True)
        rows = run(cfg)
    text = render(rows) + f"\nLoad average at the end of the run: {_load()}\n"
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "checkpoint.md"), "w") as fh:
            fh.write(head + "\n" + text + "\n![peak memory against depth](checkpoint.png)\n")
        print(f"wrote {os.path.join(args.out, 'checkpoint.md')}")
        print(plot(rows, os.path.join(args.out, "checkpoint.png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
