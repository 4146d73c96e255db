# %% [markdown]
# # Automatic differentiation, the lecture redone with dualad
#
# This notebook follows the COMP4901Y lecture *Automatic Differentiation* (after Baydin et al.,
# [*Automatic differentiation in machine learning: a survey*](https://arxiv.org/abs/1502.05767),
# JMLR 2018) step by step, with each claim computed and each number on the slides checked by an
# `assert`:
#
# 1. numerical differentiation and the choice of the step size h,
# 2. symbolic differentiation and expression swell,
# 3. forward mode: the primal and tangent traces of f(x1, x2) = ln(x1) + x1 x2 - sin(x2),
# 4. one Jacobian column per forward pass, or all at once,
# 5. reverse mode: the adjoint trace,
# 6. the backward pass of a linear layer, dL/dX = dL/dY W^T and dL/dW = X^T dL/dY.
#
# dualad differentiates ordinary NumPy code, so every function below is plain NumPy.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy

import dualad


def f(x1, x2):
    """The lecture's running example."""
    return np.log(x1) + x1 * x2 - np.sin(x2)

# %% [markdown]
# ## 1. Numerical differentiation: the step-size trade-off
#
# The forward difference (f(x + h e_i) - f(x)) / h approximates df/dx_i. Its **truncation
# error** comes from h not being zero and shrinks like h (like h^2 for the central difference
# (f(x + h) - f(x - h)) / 2h). Its **rounding error** comes from subtracting two nearly equal
# floating-point numbers and grows like eps |f| / h, with eps = 2.2e-16 in float64. We
# measure both against the exact derivative, which dualad's forward mode gives without any
# step: df/dx1 at (2, 5) is 1/x1 + x2 = 5.5.

# %%
_, exact = dualad.jvp(f, (2.0, 5.0), (1.0, 0.0))  # one forward pass along x1
assert exact == 5.5  # 1/2 + 5, exactly

eps = np.finfo(float).eps
h = np.logspace(-16, 0, 161)
forward_error = np.abs((f(2.0 + h, 5.0) - f(2.0, 5.0)) / h - exact)
central_error = np.abs((f(2.0 + h, 5.0) - f(2.0 - h, 5.0)) / (2 * h) - exact)
best_forward, best_central = h[forward_error.argmin()], h[central_error.argmin()]
print(f"forward difference: smallest error {forward_error.min():.1e} at h = {best_forward:.1e}")
print(f"central difference: smallest error {central_error.min():.1e} at h = {best_central:.1e}")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(h, forward_error, label="forward difference")
ax.loglog(h, central_error, label="central difference")
# the two error models: |f''| h / 2 and |f'''| h^2 / 6 (f'' = -1/x1^2, f''' = 2/x1^3), eps |f| / h
ax.loglog(h, h / 8, "k--", lw=0.8, label="truncation ~ h/8 (forward)")
ax.loglog(h, h**2 / 24, "k-.", lw=0.8, label="truncation ~ h²/24 (central)")
ax.loglog(h, eps * abs(f(2.0, 5.0)) / h, "k:", lw=1, label="rounding ~ eps |f| / h")
ax.axvline(np.sqrt(eps), color="C0", lw=0.6)
ax.axvline(eps ** (1 / 3), color="C1", lw=0.6)
ax.text(np.sqrt(eps), 2e-13, " √eps", color="C0")
ax.text(eps ** (1 / 3), 2e-13, " eps^(1/3)", color="C1")
ax.text(1e-14, 1e-10, "rounding\nerror wins", ha="center")
ax.text(1e-2, 1e-10, "truncation\nerror wins", ha="center")
ax.set(xlabel="step size h", ylabel="|difference quotient - exact df/dx1|",
       title="Finite differences of f at (2, 5) against dualad's exact 5.5", ylim=(1e-13, 10))
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# Both curves are V-shaped: to the right of the minimum the truncation error falls with h
# (slope 1, or 2 for the central difference), to the left the rounding error grows as 1/h.
# The best step is near sqrt(eps) = 1.5e-8 for the forward difference (error about 1e-8, half
# the digits lost) and near eps^(1/3) = 6e-6 for the central one. The exact derivative has
# no such trade-off.

# %%
assert 1e-9 < best_forward < 1e-6 and forward_error.min() < 1e-7
assert 1e-7 < best_central < 1e-4 and central_error.min() < 1e-9
at = np.searchsorted(h, 0.1)  # truncation region: the models predict the error
assert abs(forward_error[at] / (h[at] / 8) - 1) < 0.05
assert abs(central_error[at] / (h[at] ** 2 / 24) - 1) < 0.01
assert forward_error[np.searchsorted(h, 1e-14)] > 1e-2  # rounding region: no digit left

# %% [markdown]
# ## 2. Symbolic differentiation and expression swell
#
# The lecture iterates the logistic map l_{n+1} = 4 l_n (1 - l_n), l_1 = x, and
# differentiates l_n symbolically. SymPy rebuilds the lecture's table: l_n, the derivative as
# the rules produce it, and its simplified form.

# %%
x = sympy.symbols("x")
l_n = [x]
for _ in range(7):
    l_n.append(4 * l_n[-1] * (1 - l_n[-1]))
derivatives = [sympy.diff(l, x) for l in l_n]

for n in range(1, 5):
    print(f"n = {n}:  l_n = {sympy.factor(l_n[n - 1])}")
    print(f"       d/dx l_n = {derivatives[n - 1]}")
    print(f"       simplified = {sympy.factor(derivatives[n - 1])}\n")

# %% [markdown]
# The table's columns, checked: SymPy's l_n and simplified derivatives are the slide's (SymPy
# factors the polynomials that the slide writes expanded).

# %%
lecture_l = [x, 4 * x * (1 - x), 16 * x * (1 - x) * (1 - 2 * x) ** 2,
             64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x**2) ** 2]
lecture_dl = [1, 4 - 8 * x, 16 * (1 - 10 * x + 24 * x**2 - 16 * x**3),
              64 * (1 - 42 * x + 504 * x**2 - 2640 * x**3 + 7040 * x**4 - 9984 * x**5
                    + 7168 * x**6 - 2048 * x**7)]
for n in range(4):
    assert sympy.expand(l_n[n] - lecture_l[n]) == 0
    assert sympy.expand(derivatives[n] - lecture_dl[n]) == 0

# %% [markdown]
# The unsimplified derivative grows about three-fold with each iteration, because l_n appears
# twice in 4 l_n (1 - l_n) and the product rule copies both factors. A program does not copy:
# it computes l_n once and uses it twice. dualad's forward mode runs that program on dual
# numbers, so each iteration costs the same three operations (and their tangents) however
# deep it is. `dualad.trace` counts them.

# %%
def logistic(x, n):
    l = x
    for _ in range(n - 1):
        l = 4 * l * (1 - l)
    return l


ns = np.arange(1, 9)
sympy_size = [sympy.count_ops(d) for d in derivatives]
program_size = [len(dualad.trace(lambda x, n=n: logistic(x, n), 0.3).steps) - 1 for n in ns]
for n, s, p in zip(ns, sympy_size, program_size):
    print(f"n = {n}:  SymPy d/dx l_n has {s:5d} operations;  the traced program {p:2d}")

# dualad's derivative is the table's derivative, at every depth
for n in ns:
    _, tangent = dualad.jvp(lambda x, n=n: logistic(x, n), (0.3,), (1.0,))
    assert abs(tangent - float(derivatives[n - 1].subs(x, 0.3))) < 1e-9
assert program_size == [3 * (n - 1) for n in ns]
assert sympy_size[:4] == [0, 2, 21, 82] and sympy_size[-1] > 5000

# %%
fig, ax = plt.subplots(figsize=(6, 4))
# from n = 2 on (l_1 = x has no operation at all)
ax.semilogy(ns[1:], sympy_size[1:], "o-", label="SymPy: operations in d/dx l_n")
ax.semilogy(ns[1:], program_size[1:], "s-", label="dualad: operations in the trace")
ax.set(xlabel="n (iterations of the logistic map)", ylabel="number of operations",
       title="Expression swell: symbolic derivative vs dual numbers")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Forward mode: primal and tangent traces
#
# Forward mode evaluates the function one elementary operation at a time (the **primal
# trace** v_-1, v0, v1, ...) and carries beside each value its derivative along a chosen
# direction (the **tangent trace**, v_i_dot = dv_i/dx1 for the seed x1_dot = 1, x2_dot = 0).
# `dualad trace` prints both tables from the formula, numbered as on the slides:

# %%
# !dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 --mode forward

# %% [markdown]
# Note sin 5 = -0.959: the slide's table drops the minus sign (its next line, 10.693 + 0.959,
# uses the right value).
#
# From Python, `dualad.trace` records any function. Written one elementary operation per
# line, in the slides' order, it gives the same steps, which we check one by one:

# %%
def f_steps(x1, x2):
    v1 = np.log(x1)
    v2 = x1 * x2
    v3 = np.sin(x2)
    v4 = v1 + v2
    v5 = v4 - v3
    return v5


t = dualad.trace(f_steps, 2.0, 5.0, local_names=False)
for s in t.steps:  # each step holds its primal and its tangent (one per seeded direction)
    print(f"{s.label:>4} = {s.expression:10} = {float(s.primal):7.3f}   "
          f"tangent {float(np.squeeze(s.tangent)):.3f}")

# %%
expected = {  # the slides' primal and tangent traces
    1: ("ln v_-1", 0.693, 0.5), 2: ("v_-1 * v0", 10.0, 5.0), 3: ("sin v0", -0.959, 0.0),
    4: ("v1 + v2", 10.693, 5.5), 5: ("v4 - v3", 11.652, 5.5),
}
for i, (expression, value, tangent) in expected.items():
    step = t.step(i)
    assert step.expression == expression
    assert abs(step.primal - value) < 5e-4 and abs(np.squeeze(step.tangent) - tangent) < 5e-4
y, y_dot = dualad.jvp(f, (2.0, 5.0), (1.0, 0.0))  # the same without the records
assert abs(y - 11.652) < 1e-3 and y_dot == 5.5

# %% [markdown]
# ## 4. The Jacobian: one column per forward pass, or all at once
#
# A forward pass seeded with the unit vector e_i gives column i of the Jacobian, so n passes
# give an m x n Jacobian. For f itself (m = 1) the two passes give df/dx1 = 5.5 and
# df/dx2 = x1 - cos(x2) = 1.716. For a map R^3 -> R^3, three passes:

# %%
def F(x):
    x1, x2, x3 = x
    return np.stack([np.log(x1) + x1 * x2 - np.sin(x2), x1 * x3**2, np.exp(x2 - x3)])


a = np.array([2.0, 5.0, 0.5])
columns = [dualad.jvp(F, (a,), (e,))[1] for e in np.eye(3)]  # one pass per column
J_by_columns = np.stack(columns, axis=1)
J = dualad.jacfwd(F)(a)  # every column in one vectorised pass
print(J)

x1, x2, x3 = a
J_exact = np.array([[1 / x1 + x2, x1 - np.cos(x2), 0],
                    [x3**2, 0, 2 * x1 * x3],
                    [0, np.exp(x2 - x3), -np.exp(x2 - x3)]])
assert np.allclose(J_by_columns, J_exact, rtol=1e-14) and np.allclose(J, J_exact, rtol=1e-14)
assert abs(J[0, 0] - 5.5) < 1e-15 and abs(J[0, 1] - 1.716) < 5e-4

# %% [markdown]
# `jacfwd` does not loop over the columns: its dual array carries a tangent with a leading
# axis of directions (shape `(3,) + x.shape` here), so every NumPy call computes all three
# columns at once. Notebook 06 measures when this beats the loop, and when reverse mode wins.
#
# ## 5. Reverse mode: the adjoint trace
#
# Reverse mode runs the primal trace first, then propagates **adjoints**
# v_i_bar = dy/dv_i from the output back to the inputs. Where a variable feeds several others
# (v_-1 feeds v1 and v2; v0 feeds v2 and v3) its adjoint accumulates one contribution per
# use, the multivariable chain rule. One reverse pass gives the whole gradient:

# %%
print(t.render(mode="reverse"))

# %%
# the slides' adjoint trace, in the order the reverse pass computes it
assert [round(float(a.value), 3) for a in t.adjoint_steps] == [1, -1, 1, 1, -0.284, 5, 1.716, 5.5]
assert [a.accumulates for a in t.adjoint_steps][-2:] == [True, True]  # v0_bar, v_-1_bar
dx1, dx2 = dualad.grad(f, argnums=(0, 1))(2.0, 5.0)
assert dx1 == 5.5 and abs(dx2 - 1.716) < 5e-4
assert abs(dx2 - (2 - np.cos(5))) < 1e-15  # x1 - cos(x2)

# %% [markdown]
# ## 6. The backward pass of a linear layer
#
# For Y = X W with X of shape B x H1 and W of shape H1 x H2, the lecture derives, without
# forming the Jacobians dY/dX and dY/dW,
#
#     dL/dX = dL/dY W^T        dL/dW = X^T dL/dY
#
# and checks them on a network whose second layer is 512 x 512, batch 64. Same shapes here:
# a ReLU output as the input X, the layer, and a head that turns Y into a scalar loss L
# (tanh where the slide's network has a ReLU, so that finite differences can check it below;
# the identities do not depend on it). dualad
# differentiates L with respect to X and W in one reverse pass; dL/dY comes from the head.

# %%
rng = np.random.default_rng(4901)
B, H1, H2 = 64, 512, 512
X = np.maximum(rng.normal(size=(B, H1)), 0)  # the fc2 input: a ReLU output
W = rng.normal(size=(H1, H2)) / np.sqrt(H1)
W3 = rng.normal(size=(H2, 10)) / np.sqrt(H2)


def head(Y):
    """tanh, a 512 x 10 layer and a mean: the rest of the network after Y."""
    return np.sum(np.tanh(Y) @ W3) / B


def loss(X, W):
    return head(X @ W)


dL_dX, dL_dW = dualad.grad(loss, argnums=(0, 1))(X, W)
dL_dY = dualad.grad(head)(X @ W)
print("Shape of X:", X.shape, " dL/dX:", dL_dX.shape)
print("Shape of W:", W.shape, " dL/dW:", dL_dW.shape)
print("Shape of Y:", (X @ W).shape, " dL/dY:", dL_dY.shape)
diff1 = np.sum(np.abs(dL_dX - dL_dY @ W.T))
diff2 = np.sum(np.abs(dL_dW - X.T @ dL_dY))
print("Check dL/dX = dL/dY W^T, diff1 =", diff1)
print("Check dL/dW = X^T dL/dY, diff2 =", diff2)
assert diff1 == 0.0 and diff2 == 0.0  # as on the slide: the same products, bit for bit

# %% [markdown]
# The differences are exactly 0.0, as on the slide: dualad's reverse rule for `X @ W` *is*
# these two products. That they are the derivative is a separate question, which a
# directional finite difference answers (the central difference, at its best step size from
# section 1):

# %%
dX, dW = rng.normal(size=X.shape), rng.normal(size=W.shape)
step = 1e-5
numeric = (loss(X + step * dX, W + step * dW) - loss(X - step * dX, W - step * dW)) / (2 * step)
analytic = np.sum(dL_dX * dX) + np.sum(dL_dW * dW)
print(f"directional derivative: finite difference {numeric:.8f}, dualad {analytic:.8f}")
assert abs(numeric - analytic) < 1e-6 * abs(analytic)
