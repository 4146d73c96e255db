# %% [markdown]
# # Forward or reverse mode? Measured
#
# A Jacobian of f: R^n -> R^m can be built from n forward passes (one column each, a
# Jacobian-vector product) or from m reverse passes (one row each, a vector-Jacobian
# product). Counting passes, forward mode wins when the inputs are few (n < m) and reverse
# mode when the outputs are few (m < n): a gradient (m = 1) costs one reverse pass, whatever
# n is. That is why machine learning, with one loss and millions of parameters, runs on
# reverse mode.
#
# dualad adds a twist: `jacfwd` does not loop over the n columns but pushes all of them
# through every NumPy call at once (a tangent of shape `(n,) + x.shape`), and `jacrev` pulls
# all m rows back at once. The Python overhead is then paid once per operation, not once per
# column, while the arithmetic still grows with n (or m). This notebook measures the three
# ways on small sizes, in a few seconds:
#
# - **jacfwd**: forward mode, every column in one vectorised pass;
# - **jacrev**: reverse mode, every row in one vectorised backward pass;
# - **column loop**: the textbook way, one `dualad.jvp` per column.

# %%
import timeit

import matplotlib.pyplot as plt
import numpy as np

import dualad


def seconds(fn, budget=0.02, repeat=3):
    """The best time of one call of fn, over a few repeats of about `budget` seconds each."""
    timer = timeit.Timer(fn)
    fn()  # warm up
    number = max(1, int(budget / max(timer.timeit(1), 1e-7)))
    return min(timer.repeat(repeat, number)) / number


def column_loop(f, x):
    """The Jacobian one forward pass (one column) at a time."""
    columns = [dualad.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)]
    return np.stack(columns, axis=-1)

# %% [markdown]
# Three shapes of problem, each at growing size:
#
# 1. **R^n -> R**, a loss: Rosenbrock's function of n variables;
# 2. **R^n -> R^n**, a layer: tanh(V x) with a fixed n x n matrix V;
# 3. **R^4 -> R^m**, a model fitted to m data points: a damped oscillation with 4 parameters,
#    evaluated at m times.

# %%
rng = np.random.default_rng(0)


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def make_layer(n):
    V = rng.normal(size=(n, n)) / np.sqrt(n)
    return lambda x: np.tanh(V @ x)


def make_model(m):
    t = np.linspace(0, 10, m)
    return lambda p: p[0] * np.exp(-p[1] * t) * np.sin(p[2] * t + p[3])


problems = {  # name: (the function for a size, the point for a size)
    "R^n -> R (Rosenbrock)": (lambda n: rosenbrock, lambda n: rng.normal(size=n)),
    "R^n -> R^n (tanh(V x))": (make_layer, lambda n: rng.normal(size=n)),
    "R^4 -> R^m (4-parameter model)": (make_model, lambda m: np.array([1.0, 0.3, 2.0, 0.1])),
}
sizes = [4, 16, 64, 256, 1024]
loop_limit = 256  # the column loop's n passes take too long beyond n = 256

# %%
results = {}
for name, (make, point) in problems.items():
    rows = []
    for size in sizes:
        f, x = make(size), point(size)
        J_fwd, J_rev = dualad.jacfwd(f)(x), dualad.jacrev(f)(x)
        assert np.allclose(J_fwd, J_rev, rtol=1e-12, atol=1e-12)  # both modes, one Jacobian
        loop = np.nan
        if x.size <= loop_limit:
            assert np.allclose(column_loop(f, x), J_fwd, rtol=1e-12, atol=1e-12)
            loop = seconds(lambda: column_loop(f, x))
        forward = seconds(lambda: dualad.jacfwd(f)(x))
        reverse = seconds(lambda: dualad.jacrev(f)(x))
        rows.append((forward, reverse, loop))
    results[name] = np.array(rows)
    print(name)
    for size, (fwd, rev, loop) in zip(sizes, rows):
        print(f"   size {size:5d}:  jacfwd {fwd * 1e3:8.3f} ms   jacrev {rev * 1e3:8.3f} ms"
              f"   column loop {loop * 1e3:8.3f} ms")

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
for ax, (name, times) in zip(axes, results.items()):
    for column, label, marker in zip(times.T, ["jacfwd", "jacrev", "column loop (n x jvp)"], "os^"):
        ax.loglog(sizes, column, marker=marker, label=label)
    ax.set(title=name, xlabel="m (outputs)" if "R^4" in name else "n (inputs)",
           ylabel="time per Jacobian (s)")
    ax.grid(True, which="major", alpha=0.3)
axes[0].legend()
fig.suptitle("dualad's Jacobians: forward mode, reverse mode and the column loop (this machine)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What the plot says
#
# - **A gradient (R^n -> R): reverse mode.** `jacrev` costs about the same at n = 4 and at
#   n = 1024: one backward pass. The column loop costs n forward passes and grows linearly
#   from the start. `jacfwd` hides its n columns inside NumPy calls, so it keeps up at small
#   n, then its n x n tangents make it grow like n^2.
# - **Square (R^n -> R^n): either.** Both need n passes' worth of arithmetic (n^3
#   multiply-adds through V x, which takes over from n = 256 on); both do it in one
#   vectorised pass. Constant factors decide, and they are close.
# - **Few inputs, many outputs (R^4 -> R^m): forward mode.** `jacfwd` carries 4 tangents
#   whatever m is; `jacrev` pulls back m rows, and grows with m.
# - **The column loop is a mental model, not a method.** Each of its passes pays Python's
#   overhead on every operation again, which vectorising the columns removes; it catches up
#   only where arithmetic dwarfs that overhead (the square case from n = 256 on, where all
#   three do the same n^3 multiply-adds).
#
# The rule of thumb: count inputs and outputs, and differentiate from the smaller side
# (`jacfwd` when n <= m, `jacrev` or `grad` when m < n). For second derivatives,
# `dualad.hessian` is forward over reverse (`jacfwd(jacrev(f))`), the usual best choice.
#
# The timings above are from a small run in this notebook, on whatever machine executed it
# last; the guide's Performance page (docs/performance.md) has the benchmark's careful numbers, including
# the comparison with JAX and autograd.

# %% [markdown]
# ## The full benchmark
#
# `python -m benchmarks.forward_vs_reverse --out benchmarks/results` sweeps the same
# workloads (and the sigmoid network of notebook 03) up to n = 2^14 (2^20 for the elementwise chain), with
# JAX, autograd and central differences beside dualad, and draws the lecture's slopes:
#
# ![forward against reverse mode, time against n](../benchmarks/results/forward_vs_reverse.png)
