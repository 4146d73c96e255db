# %% [markdown]
# # A backward pass written by hand, every line checked
#
# A notebook computes a small network's gradient by hand in NumPy, one named derivative per
# line (`d_Z`, `d_B`, `d_R`, ...), and validates it with PyTorch. The network: a 2 x 2
# "valid" correlation of X (3 x 3) with W (2 x 2), ReLU, a weighted sum with H, a sigmoid and
# a squared error,
#
#     A = X * W (correlation),  R = relu(A),  B = sum(R * H),  Z = sigmoid(B),  L = (Z - Y)^2.
#
# Here dualad differentiates the notebook's forward pass *as written*, scalar indexing,
# `np.array` of scalars and `np.clip` included, and checks every hand-computed `d_` value
# against its adjoints.
#
# ## The notebook's code
#
# As written (the NumPy part; PyTorch comes later):

# %%
import numpy as np

import dualad


##########################################
#      Define some helper functions
##########################################
def relu(x):
    return np.clip(x, 0, np.inf)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def l2_loss(x, y):
    return (x - y) ** 2


def display(x, name):
    print(f'\n{name}: \n    {x}')

# %%
#############################
#        Foward
#############################
X = np.array([[1, 2, 3],
              [4, 5, 6],
              [7, 8, 9]])
W = np.array([[0.1, -0.1],
              [0.2, 0.01]])
H = np.array([0.05, -0.2, 0.2, 0.5])

Y = np.array([1.])

A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]

A = np.array([[A00, A01], [A10, A11]])
R = relu(A)
B = (R.reshape(-1) * H).sum()
Z = sigmoid(B)
L = l2_loss(Z, Y).sum()

display(A, 'A')
display(B, 'B')
display(Z, 'Z')
display(L, 'L')

# %%
#############################
#        Backward
#############################
d_L = 1
d_Z = d_L * 2 * (Z - Y)
d_B = d_Z * sigmoid(B) * (1 - sigmoid(B))
d_T0 = d_T1 = d_T2 = d_T3 = d_B * 1

d_H0 = d_T0 * R[0, 0]
d_H1 = d_T1 * R[0, 1]
d_H2 = d_T2 * R[1, 0]
d_H3 = d_T3 * R[1, 1]
d_H = np.concatenate((d_H0, d_H1, d_H2, d_H3))

d_R00 = d_T0 * H[0]
d_R01 = d_T1 * H[1]
d_R10 = d_T2 * H[2]
d_R11 = d_T3 * H[3]
d_R = np.concatenate((d_R00, d_R01, d_R10, d_R11))

d_A00 = d_R00 * (1 if A00 > 0 else 0)
d_A01 = d_R01 * (1 if A01 > 0 else 0)
d_A10 = d_R10 * (1 if A10 > 0 else 0)
d_A11 = d_R11 * (1 if A11 > 0 else 0)
d_A = np.concatenate((d_A00, d_A01, d_A10, d_A11))

d_U0_00 = d_A00 * 1
d_U1_00 = d_A01 * 1
d_U2_00 = d_A10 * 1
d_U3_00 = d_A11 * 1
d_U_00 = np.concatenate((d_U0_00, d_U1_00, d_U2_00, d_U3_00))

d_W00 = d_U0_00 * X[0, 0] + d_U1_00 * X[0, 1] + d_U2_00 * X[1, 0] + d_U3_00 * X[1, 1]

display(d_Z, 'd_Z')
display(d_B, 'd_B')
display(d_R, 'd_R')
display(d_H, 'd_H')
display(d_A, 'd_A')
display(d_W00, 'd_W[0, 0]')

# %% [markdown]
# The numbers the notebook printed, checked:

# %%
assert np.allclose(A, [[0.75, 0.96], [1.38, 1.59]], rtol=0, atol=1e-15)
assert abs(B - 0.9165000000000001) < 1e-15 and abs(Z - 0.7143284201512767) < 1e-15
assert abs(L - 0.08160825153326548) < 1e-16
printed = {  # name: (value, what the notebook printed)
    "d_Z": (d_Z, [-0.57134316]), "d_B": (d_B, [-0.11659019]),
    "d_R": (d_R, [-0.00582951, 0.02331804, -0.02331804, -0.05829509]),
    "d_H": (d_H, [-0.08744264, -0.11192658, -0.16089446, -0.1853784]),
    "d_A": (d_A, [-0.00582951, 0.02331804, -0.02331804, -0.05829509]),
    "d_U_00": (d_U_00, [-0.00582951, 0.02331804, -0.02331804, -0.05829509]),
    "d_W[0, 0]": (d_W00, [-0.34394105]),
}
for name, (value, shown) in printed.items():
    assert np.allclose(value, shown, rtol=0, atol=5e-9), name  # 8 printed decimals

# %% [markdown]
# ## The forward pass, differentiated as written
#
# To differentiate the forward pass, its lines go into a function of the parameters W and H,
# unchanged. dualad runs it on arrays that carry derivatives: `W[0, 0]` is a scalar of such
# an array, `np.array([[A00, A01], [A10, A11]])` collects four of them, `np.clip` and the
# comparisons work on them. One reverse pass gives dL/dW and dL/dH:

# %%
def forward(W, H):
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]

    A = np.array([[A00, A01], [A10, A11]])
    R = relu(A)
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)
    L = l2_loss(Z, Y).sum()
    return L


dL_dW, dL_dH = dualad.grad(forward, argnums=(0, 1))(W, H)
display(dL_dW, 'd_W')
display(dL_dH, 'd_H')
assert abs(dL_dW[0, 0] - d_W00[0]) < 1e-16  # the hand-computed entry

# %% [markdown]
# PyTorch, which the notebook used for validation, printed its values in float32. They agree
# with dualad's float64 values to float32 rounding (within 1e-7):

# %%
torch_printed = {
    "B": (B, 0.9164999723434448), "Z": (Z, 0.714328408241272), "L": (L, 0.08160825818777084),
    "d_Z": (d_Z, -0.571343183517456), "d_B": (d_B, -0.11659019440412521),
    "d_R": (d_R, [-0.00582951, 0.02331804, -0.02331804, -0.0582951]),
    "d_H": (dL_dH, [-0.08744264, -0.11192659, -0.16089447, -0.18537842]),
    "d_A": (d_A, [-0.00582951, 0.02331804, -0.02331804, -0.0582951]),
    "d_W": (dL_dW, [[-0.34394106, -0.40806568], [-0.5363149, -0.6004395]]),
}
for name, (value, shown) in torch_printed.items():
    assert np.allclose(value, shown, rtol=0, atol=1e-7), name
print("PyTorch's printed values: all within 1e-7 of dualad's")

# %% [markdown]
# ## Every `d_` against dualad's adjoints
#
# `dualad.trace` records the same evaluation step by step and keeps the adjoint
# (dL/d variable) of every step, named after the local variable that holds it. The hand
# derivation's `d_A00` is the adjoint of `A00`, and so on:

# %%
t = dualad.trace(forward, W, H)
adjoint = {s.name: t.adjoints[s.id] for s in t.steps if s.name}
print("named steps:", ", ".join(adjoint))

pairs = [("d_Z", d_Z, "Z"), ("d_B", d_B, "B"), ("d_A00", d_A00, "A00"), ("d_A01", d_A01, "A01"),
         ("d_A10", d_A10, "A10"), ("d_A11", d_A11, "A11"), ("d_H", d_H, "H"),
         ("d_W00", d_W00, "W")]
print(f"{'by hand':58} dualad")
for hand_name, hand_value, name in pairs:
    reference, label = adjoint[name], f"{name}_bar"
    if name == "W":
        reference, label = reference[0, 0], "W_bar[0, 0]"
    assert np.allclose(hand_value, reference, rtol=1e-14, atol=1e-17), hand_name
    print(f"{hand_name:7} {np.array2string(np.ravel(hand_value), precision=8):50} "
          f"{label:13} {np.array2string(np.ravel(reference), precision=8)}")

# %% [markdown]
# The remaining `d_` values name nothing the forward pass names: `d_T0..d_T3` are the
# adjoints of the products R_i H_i inside the sum (all d_B), `d_U0_00..d_U3_00` those of the
# products inside A00..A11 (d_A). And R? `relu(A)` applies NumPy's `clip` to the 2 x 2 array
# of A's scalars; for positive entries it returns the scalars themselves, so R holds A00..A11
# and d_R is d_A, which is what the hand derivation finds (relu' = 1 where A > 0):

# %%
assert all(np.allclose(d, d_B) for d in (d_T0, d_T1, d_T2, d_T3))
assert np.array_equal(d_R, d_A) and np.array_equal(d_U_00, d_A)
R_bar = np.array([adjoint[name] for name in ("A00", "A01", "A10", "A11")])
assert np.allclose(d_R, R_bar, rtol=1e-14, atol=0)

# %% [markdown]
# ## `dualad.compare`: the whole gradient, and the first wrong line
#
# The notebook computes only dL/dW[0, 0]; the other three entries follow the same pattern
# (each W[k, l] meets the 2 x 2 window of X at offset (k, l)). As a function of the point,
# with the notebook's lines up to `d_A`:

# %%
def hand_backward(W, H):
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]
    R = relu(np.array([[A00, A01], [A10, A11]]))
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)

    d_Z = 1 * 2 * (Z - Y)
    d_B = d_Z * sigmoid(B) * (1 - sigmoid(B))
    d_H = d_B * R.reshape(-1)
    d_A00 = d_B * H[0] * (1 if A00 > 0 else 0)
    d_A01 = d_B * H[1] * (1 if A01 > 0 else 0)
    d_A10 = d_B * H[2] * (1 if A10 > 0 else 0)
    d_A11 = d_B * H[3] * (1 if A11 > 0 else 0)
    d_A = np.concatenate((d_A00, d_A01, d_A10, d_A11)).reshape(2, 2)
    d_W = np.array([[np.sum(d_A * X[k:k + 2, l:l + 2]) for l in range(2)] for k in range(2)])
    return d_W, d_H


report = dualad.compare(forward, hand_backward, W, H)
print(report)
assert report.agrees and report["W"].verdict.startswith("agrees to float64 rounding")

# %% [markdown]
# The branch `1 if A01 > 0 else 0` matters only where ReLU cuts. Moving W[0, 1] to -0.5
# makes A01 = -0.24 negative: the hand derivation takes the other branch, dualad's ReLU
# passes no derivative through that entry, and they still agree.

# %%
W_cut = np.array([[0.1, -0.5], [0.2, 0.01]])
report = dualad.compare(forward, hand_backward, W_cut, H)
print(report["W"].verdict, "|", report["H"].verdict)
assert report.agrees
dW_cut, dH_cut = dualad.grad(forward, argnums=(0, 1))(W_cut, H)
assert dH_cut[1] == 0  # H[1] multiplies relu(A01) = 0

# %% [markdown]
# Had the derivation slipped, say dropping the sigmoid's `(1 - sigmoid(B))` factor, `compare`
# would say which line: the first intermediate whose value differs from dualad's adjoint of
# the variable it is named after.

# %%
def slipped_backward(W, H):
    A00 = X[0, 0] * W[0, 0] + X[0, 1] * W[0, 1] + X[1, 0] * W[1, 0] + X[1, 1] * W[1, 1]
    A01 = X[0, 1] * W[0, 0] + X[0, 2] * W[0, 1] + X[1, 1] * W[1, 0] + X[1, 2] * W[1, 1]
    A10 = X[1, 0] * W[0, 0] + X[1, 1] * W[0, 1] + X[2, 0] * W[1, 0] + X[2, 1] * W[1, 1]
    A11 = X[1, 1] * W[0, 0] + X[1, 2] * W[0, 1] + X[2, 1] * W[1, 0] + X[2, 2] * W[1, 1]
    R = relu(np.array([[A00, A01], [A10, A11]]))
    B = (R.reshape(-1) * H).sum()
    Z = sigmoid(B)

    d_Z = 1 * 2 * (Z - Y)
    d_B = d_Z * sigmoid(B)  # the slip
    d_H = d_B * R.reshape(-1)
    d_A = (d_B * H * (R.reshape(-1) > 0)).reshape(2, 2)
    d_W = np.array([[np.sum(d_A * X[k:k + 2, l:l + 2]) for l in range(2)] for k in range(2)])
    return d_W, d_H


report = dualad.compare(forward, slipped_backward, W, H)
print(report.mismatches[0])
assert not report.agrees and report.mismatches[0].manual_name == "d_B"
