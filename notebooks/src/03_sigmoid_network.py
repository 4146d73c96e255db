# %% [markdown]
# # "Inconsistencies between manual and automatic derivatives": float32 rounding
#
# A notebook asks for help: a network with one hidden layer,
#
#     f(W, U) = 1/sqrt(m) * sum_k  w_k sigmoid(u_k . x)        (m = 10 hidden units, x in R^3)
#
# with hand-derived gradients
#
#     df/dw_k = sigmoid(u_k . x) / sqrt(m)
#     df/du_kN = x_N w_k exp(-u_k . x) / (1 + exp(-u_k . x))^2 / sqrt(m)
#
# compared with PyTorch's autograd. "The derivatives on W coefficients are the same, but on U
# coefficients they are not": the printed difference `du_ad - du_calc` is about 1e-9. Here
# dualad computes both gradients at once and `dualad.compare` says what 1e-9 means.

# %%
import numpy as np

import dualad

m, d = 10, 3

# what the notebook printed (PyTorch, float32)
du_ad = np.array([[-0.06903538, -0.03336043, 0.01319817], [0.0153444, 0.00741498, -0.00293354],
                  [0.04801453, 0.02320239, -0.00917941], [0.00712414, 0.00344265, -0.00136199],
                  [-0.06112475, -0.02953772, 0.01168582], [0.03676222, 0.01776486, -0.0070282],
                  [-0.08028518, -0.03879675, 0.01534891], [-0.00929642, -0.00449237, 0.00177729],
                  [0.03989149, 0.01927703, -0.00762645], [-0.05342617, -0.02581749, 0.01021401]])
du_calc = np.array([[-0.06903539, -0.03336044, 0.01319818], [0.0153444, 0.00741498, -0.00293354],
                    [0.04801453, 0.02320239, -0.00917941], [0.00712414, 0.00344265, -0.00136199],
                    [-0.06112474, -0.02953772, 0.01168582], [0.03676222, 0.01776486, -0.0070282],
                    [-0.08028519, -0.03879676, 0.01534891], [-0.00929642, -0.00449237, 0.00177729],
                    [0.03989148, 0.01927703, -0.00762645], [-0.05342617, -0.02581749, 0.01021401]])
dw_ad = np.array([0.24249876, 0.2841476, 0.08382694, 0.00687479, 0.06238763, 0.20009805,
                  0.14201619, 0.00755101, 0.141299, 0.15766416])
dw_calc = np.array([0.24249874, 0.2841476, 0.08382694, 0.00687479, 0.06238762, 0.20009805,
                    0.14201619, 0.00755101, 0.14129898, 0.15766415])
difference = np.array(  # du_ad - du_calc, as printed
    [[7.4505806e-09, 3.7252903e-09, -1.8626451e-09],
     [-2.7939677e-09, -9.3132257e-10, 6.9849193e-10],
     [0, 0, 0],
     [0, 0, 0],
     [-7.4505806e-09, -1.8626451e-09, 9.3132257e-10],
     [3.7252903e-09, 3.7252903e-09, -9.3132257e-10],
     [7.4505806e-09, 3.7252903e-09, -1.8626451e-09],
     [-9.3132257e-10, -4.6566129e-10, 1.1641532e-10],
     [3.7252903e-09, 3.7252903e-09, -9.3132257e-10],
     [0, 0, 0]], dtype=np.float32)

# %% [markdown]
# ## What 1e-9 is in float32
#
# float32 keeps 24 significant bits: between 0.0625 and 0.125 its numbers are
# 2^-27 = 7.45e-9 apart. Measured in these units (`np.spacing`, one *ulp*), every printed
# difference is 0 to 3 units in the last place of the gradient it belongs to:

# %%
ulps = difference / np.spacing(np.abs(du_ad).astype(np.float32))
print(ulps.astype(int))
assert np.spacing(np.float32(0.08)) == 2.0**-27 and np.max(np.abs(ulps)) <= 3
assert np.array_equal(ulps, np.round(ulps))  # whole units: two float32 numbers subtracted

# %% [markdown]
# ## The network, rebuilt from its printed gradients
#
# The weights came from PyTorch's unseeded random initialisation and were not printed, but
# the printed gradients pin them down as far as the gradients depend on them:
#
# - df/dw_k = sigmoid(u_k . x)/sqrt(m), so dw_ad gives s_k = sigmoid(u_k . x);
# - row k of df/dU is x times w_k s_k (1 - s_k)/sqrt(m): all rows are multiples of x (the
#   printed matrix has rank 1), which gives x's direction and then w_k.
#
# x's length cannot be recovered (only |x| w_k can); we take |x| = 1. Any u_k with the
# right u_k . x will do; we add a random part orthogonal to x.

# %%
_, singular_values, rows = np.linalg.svd(du_ad)
print("singular values of the printed df/dU:", singular_values)
assert singular_values[1] < 1e-7 * singular_values[0]  # rank 1, up to the printed digits

x = rows[0] * np.sign(rows[0, 0])
s = dw_ad * np.sqrt(m)
W = du_ad @ x * np.sqrt(m) / (s * (1 - s))
random = np.random.default_rng(0).normal(size=(m, d))
U = random - np.outer(random @ x, x) + np.outer(np.log(s / (1 - s)), x)
x, W, U = x.astype(np.float32), W.astype(np.float32), U.astype(np.float32)  # as in PyTorch


def net(W, U):
    """SingleLayerNet.forward in NumPy: linear1, sigmoid, linear2, / sqrt(m)."""
    hidden = 1 / (1 + np.exp(-(U @ x)))
    return W @ hidden / np.sqrt(m, dtype=W.dtype)  # sqrt(m) in the weights' precision

# %% [markdown]
# ## Both gradients at once
#
# `argnums=(0, 1)` differentiates with respect to W and U in one reverse pass, like
# `torch.autograd.grad(out, (linear1.weight, linear2.weight))`. In float32, as PyTorch
# computed, dualad reproduces the printed autograd gradients to within 3e-8 (the printed
# digits, and the float32 rounding of the rebuilt weights):

# %%
dw, du = dualad.grad(net, argnums=(0, 1))(W, U)
print(dw.dtype, du.dtype)
print("Matrix of derivatives with respect to coefficients U by automatic differentiation:\n", du)
print("max |dualad - printed autograd|: U", np.abs(du - du_ad).max(),
      " W", np.abs(dw - dw_ad).max())
assert du.dtype == dw.dtype == np.float32
# 3e-8: the printed digits (5e-9) and the float32 rounding of the rebuilt weights
assert np.abs(du - du_ad).max() < 3e-8 and np.abs(dw - dw_ad).max() < 3e-8

# %% [markdown]
# ## The hand formulas, checked
#
# The notebook's "symbolic formulas" cell, as written (its `weights1` is U, `weights2` is W
# as a 1 x m row, `inp` is x as a column), reproduces the printed manual gradients as
# closely:

# %%
def hand_gradients(W, U):
    weights1, weights2, inp = U, W[None, :], x[:, None]
    tmp0 = np.matmul(weights1, inp).squeeze()
    tmp = np.exp(-1 * tmp0)
    dw_calc = (1 / np.sqrt(10)) / (1 + tmp)

    tmp2 = (1 + tmp) * (1 + tmp)
    dtmp2 = weights2 * (1 / np.sqrt(10)) * tmp / tmp2
    du_calc = np.transpose(np.matmul(inp, dtmp2))
    return dw_calc, du_calc


dw_hand, du_hand = hand_gradients(W, U)
assert np.abs(du_hand - du_calc).max() < 3e-8 and np.abs(dw_hand - dw_calc).max() < 3e-8

# %% [markdown]
# And the notebook's `du_ad - du_calc`, redone: dualad's float32 gradient minus the hand
# formulas' (rounded to float32: NumPy 2 promotes them to float64 because of the float64
# scalar `1 / np.sqrt(10)`, the notebook's NumPy 1.15 kept float32). The same picture:
# differences of a few 1e-9, each 0 to 3 units in the last place.

# %%
redone = du - du_hand.astype(np.float32)
print(redone)
assert np.max(np.abs(redone / np.spacing(np.abs(du)))) <= 3

# %% [markdown]
# `dualad.compare` evaluates dualad's gradient in float64 (exactly, from the float32
# weights) and judges the hand-derived one in the precision it was computed in:

# %%
report = dualad.compare(net, hand_gradients, W, U)
print(report)
assert report.agrees
assert report["W"].verdict.startswith("agrees to float32 rounding")
assert report["U"].verdict.startswith("agrees to float32 rounding")

# %% [markdown]
# So the formulas are right; both computations round in float32, at different places, and
# land a few units in the last place apart. In float64 the same formulas agree with dualad to
# float64 rounding, and the 1e-9 disappears:

# %%
report64 = dualad.compare(net, hand_gradients, W.astype(np.float64), U.astype(np.float64))
print(report64["W"].verdict, "|", report64["U"].verdict)
assert report64["W"].verdict.startswith("agrees to float64 rounding")
assert report64["U"].verdict.startswith("agrees to float64 rounding")
