# %% [markdown]
# # A tanh layer's closed-form gradient, against forward and reverse mode
#
# A notebook derives the gradient of a one-layer network by hand and checks it with PyTorch.
# With input I (1 x m), weights W (m x n), target T (1 x n):
#
#     A = I W,   O = tanh(A),   l = (1/n) sum_a (o_a - t_a)^2
#
#     dl/dW = I^T [ (2/n) (O - T) * (1 - tanh^2(A)) ]       (an m x n outer product)
#
# Here the closed form is checked against dualad's forward mode (`jacfwd`, all m n = 50
# columns in one vectorised pass) and reverse mode (`grad`, one backward pass), on the
# notebook's own data.

# %%
import numpy as np

import dualad

np.random.seed(0)
m = 10  # input
n = 5  # output

I = np.random.random_sample((m))
T = np.random.random_sample((n))
W = np.random.random_sample((m, n))
A = I @ W
O = np.tanh(A)
l = np.average((O - T) ** 2)
dl = np.matmul(np.reshape(I, (m, -1)),
               np.reshape((2 / n) * (O - T) * (1 - np.tanh(A) ** 2), (-1, n)))

# %% [markdown]
# The same data as the notebook's (NumPy's legacy generator, seed 0): its printed outputs O.

# %%
print(O)
assert np.allclose(O, [0.99248036, 0.99244429, 0.99889554, 0.99232696, 0.97565233],
                   rtol=0, atol=5e-9)

# %% [markdown]
# ## Forward and reverse mode
#
# The loss as a function of W, written as the notebook's NumPy lines:

# %%
def loss(W):
    A = I @ W
    O = np.tanh(A)
    return np.average((O - T) ** 2)


dl_forward = dualad.jacfwd(loss)(W)  # shape l.shape + W.shape = (m, n)
dl_reverse = dualad.grad(loss)(W)
print(np.allclose(dl, dl_forward))
print(np.allclose(dl, dl_reverse))
assert dl_forward.shape == dl_reverse.shape == (m, n)
assert np.allclose(dl, dl_forward, rtol=1e-13, atol=0)
assert np.allclose(dl, dl_reverse, rtol=1e-13, atol=0)

# %% [markdown]
# `np.allclose` with its default tolerance (1e-5 relative, 1e-8 absolute) says little about
# *how* close. `dualad.compare` measures it and says what the difference means: nothing
# beyond float64 rounding.

# %%
report = dualad.compare(loss, lambda W: dl, W)
print(report)
assert report.agrees and report["W"].verdict.startswith("agrees to float64 rounding")

# %% [markdown]
# ## `torch.nn.Linear` stores the transpose
#
# The notebook's second check uses `torch.nn.Linear(m, n)`, whose weight is n x m
# (y = x A^T), so its gradient is dl/dW transposed. With dualad, differentiate the loss
# written with the transposed weight:

# %%
def loss_linear(weight):  # weight = W^T, as torch.nn.Linear stores it
    O_l = np.tanh(I @ weight.T)
    return np.mean((O_l - T) ** 2)  # torch.nn.MSELoss


dl_l = dualad.grad(loss_linear)(W.T)
print(np.allclose(dl, dl_l.T))
assert dl_l.shape == (n, m) and np.allclose(dl, dl_l.T, rtol=1e-13, atol=0)

# %% [markdown]
# ## A third opinion: JAX
#
# An independent implementation of both modes agrees with dualad's to float64 rounding:

# %%
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def loss_jax(W):
    return jnp.average((jnp.tanh(jnp.asarray(I) @ W) - T) ** 2)


dl_jax = np.asarray(jax.grad(loss_jax)(W))
print("max |dualad - JAX| =", np.abs(dl_reverse - dl_jax).max())
assert np.allclose(dl_reverse, dl_jax, rtol=1e-13, atol=1e-17)

# %% [markdown]
# A remark on the notebook's index notation: W is m x n with rows indexed by inputs, so the
# weight from input b to output a is w_ba, and the formula
# dl/dw = (2/n)(o_a - t_a)(1 - tanh^2(a_a)) i_b is the derivative with respect to w_ba
# (the notebook writes w_ab). The code, `outer(I, ...)`, has it right, as the checks show:
# entry [b, a] of dl is i_b times the factor of output a.

# %%
b, a = 7, 2
factor = (2 / n) * (O[a] - T[a]) * (1 - np.tanh(A[a]) ** 2)
assert np.isclose(dl_reverse[b, a], factor * I[b], rtol=1e-14)
