# %% [markdown]
# # "PyTorch autograd not matching my derivatives": finding the wrong line
#
# A forum thread: a two-step tanh recurrence,
#
#     h1_raw = w_h * h0,  h1 = tanh(h1_raw),  h2_raw = w_h * h1,  h2 = tanh(h2_raw),  y2 = w_y * h2
#
# with h0 = 0.5, w_h = 2, w_y = 40. Autograd says dy2/dw_h = 8.1888 and dy2/dw_y = 0.9093;
# the poster's chain rule, written out by hand twice (forward and backward), says
# dy2/dw_h = -40.2153. A reply guessed that "the analytic formula for the derivative of
# tanh() is incorrect". Here dualad shows *which line* is wrong, in the poster's own variable
# names.

# %%
import numpy as np

import dualad


def y2_of(w_h, w_y):
    """The thread's equations, in its order and with its names."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    y2 = w_y * h2
    return y2


dwh, dwy = dualad.grad(y2_of, argnums=(0, 1))(2.0, 40.0)
print(f"dualad: dy2/dw_h = {dwh:.4f}, dy2/dw_y = {dwy:.4f}")
# autograd's tensor(8.1888) and tensor(0.9093)
assert abs(dwh - 8.1888) < 5e-5 and abs(dwy - 0.9093) < 5e-5

# %% [markdown]
# ## The hand derivation, as posted
#
# The thread's code with PyTorch taken out. The poster read the intermediates from float32
# tensors with `.item()`; `float(np.float32(...))` does the same. Then both derivations, as
# posted: the chain rule forward ("analytic method"), and a backward pass over the
# computation graph (CS231n style).

# %%
w_h, w_y, h0 = 2.0, 40.0, 0.5
h1_raw = float(np.float32(w_h) * np.float32(h0))  # H1_raw.item()
h1 = float(np.tanh(np.float32(h1_raw)))  # H1.detach().item()
h2_raw = float(np.float32(w_h) * np.float32(h1))
h2 = float(np.tanh(np.float32(h2_raw)))

# analytic method for derivatives
dh0_dwh = 0  # because H0 is constant for w_h
dh1raw_dwh = h0 + w_h * dh0_dwh
dh1_dwh = (1 - h1_raw**2) * dh1raw_dwh
dh2raw_dwh = h1 + w_h * dh1_dwh
dh2_dwh = (1 - h2_raw**2) * dh2raw_dwh
dwy_dwh = 0
dy2_dwh = h2 * dwy_dwh + w_y * dh2_dwh

dh2_dwy = 0
dy2_dwy = h2 + w_y * dh2_dwy

# backward pass over computation graph
dy2 = 1
dw_y = h2 * 1
dh2 = w_y * 1
dh2_raw = (1 - h2_raw**2) * dh2
dh1 = w_h * dh2_raw
dh1_raw = (1 - h1_raw**2) * dh1
dw_h = h1 * dh2_raw + h0 * dh1_raw

print(f"{dwh:.4f}", "<>", dy2_dwh, "<>", dw_h)
print(f"{dwy:.4f}", "<>", dy2_dwy, "<>", dw_y)

# %% [markdown]
# The thread's numbers: -40.21530288726289 to the last digit; dy2/dw_y = h2 to one float32
# unit in the last place (NumPy's float32 tanh rounds differently from PyTorch's, which
# gave 0.9092516899108887).

# %%
assert dy2_dwh == dw_h == -40.21530288726289
assert abs(dy2_dwy - 0.9092516899108887) <= np.spacing(np.float32(0.9))
assert abs(dy2_dwy - dwy) < 1e-7  # dy2/dw_y was right, to float32 rounding

# %% [markdown]
# ## The trace, in the poster's names
#
# `dualad.trace` runs `y2_of` once and records every step under the local variable that
# holds it. The adjoint trace at the bottom is the backward pass the poster wrote by hand,
# computed by dualad's rules: `h2_raw_bar` is the poster's `dh2_raw`, and so on.

# %%
t = dualad.trace(y2_of, 2.0, 40.0)
print(t)
assert abs(t.gradient["w_h"] - 8.1888) < 5e-5 and abs(t.gradient["w_y"] - 0.9093) < 5e-5

# %% [markdown]
# ## Side by side
#
# Each line of the hand-written backward pass next to the adjoint trace's line for the same
# variable (where a variable is used twice, like w_h, its adjoint adds both contributions):

# %%
step_id = {s.label: s.id for s in t.steps}


def adjoint_line(name):
    """dualad's rule for name_bar (its contributions added) and its value."""
    rules = [a.rule for a in t.adjoint_steps if a.target == step_id[name]]
    return f"{name}_bar = {' + '.join(rules)}", float(t.adjoints[step_id[name]])


hand = [  # the forum's backward pass: each line and the value it computed above
    ("dw_y = h2 * 1", dw_y, "w_y"),
    ("dh2 = w_y * 1", dh2, "h2"),
    ("dh2_raw = (1 - h2_raw**2) * dh2", dh2_raw, "h2_raw"),
    ("dh1 = w_h * dh2_raw", dh1, "h1"),
    ("dh1_raw = (1 - h1_raw**2) * dh1", dh1_raw, "h1_raw"),
    ("dw_h = h1 * dh2_raw + h0 * dh1_raw", dw_h, "w_h"),
]
print(f"{'by hand (forum)':42} {'value':>8}   {'dualad (adjoint trace)':46} {'value':>7}")
for line, value, name in hand:
    rule, reference = adjoint_line(name)
    flag = "" if np.isclose(value, reference) else "  <- differs"
    print(f"{line:42} {value + 0.0:8.4g}   {rule:46} {reference:7.4g}{flag}")  # + 0.0: no -0

# %% [markdown]
# The first line that differs is `dh2_raw`: the hand derivation multiplies by
# `1 - h2_raw**2`, dualad by `1 - tanh(h2_raw)**2`. The derivative of tanh at `h2_raw` is
# 1 - tanh²(h2_raw) = 1 - h2², not 1 - h2_raw². Every later line inherits the error; the same
# slip in `dh1_raw` makes it 0 (1 - h1_raw² = 1 - 1²).
#
# ## `dualad.compare` finds it without the table
#
# `dualad.compare(f, manual_grad, *args)` evaluates dualad's gradient in float64, judges the
# hand-derived one with floating point in mind, and, when the hand function names its
# intermediates after `f`'s (`dh2_raw` for the adjoint of `h2_raw`, `dh1_dwh` for the
# tangent of `h1` along `w_h`), names the first one that differs. It calls the derivation at
# the point, so the derivation becomes a function of (w_h, w_y): the thread's lines, indented,
# in float64.

# %%
def forum_backward(w_h, w_y):
    """The thread's backward pass over the computation graph: (dw_h, dw_y)."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dy2 = 1
    dw_y = h2 * 1
    dh2 = w_y * 1
    dh2_raw = (1 - h2_raw**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1_raw**2) * dh1
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    return dw_h, dw_y


report = dualad.compare(y2_of, forum_backward, 2.0, 40.0)
print(report)
assert not report.agrees and report["w_y"].agrees
assert report["w_h"].verdict.startswith("differs")
assert report.mismatches[0].manual_name == "dh2_raw"
first = report.mismatches[0]
assert abs(first.manual - (-52.8)) < 0.05 and abs(first.dualad - 6.93) < 5e-3

# %% [markdown]
# The forward derivation has the same slip, one line earlier in its own order: `dh1_dwh`,
# the tangent of h1 along w_h, is 0 instead of (1 - tanh²(1)) · 0.5 = 0.21.

# %%
def forum_forward(w_h, w_y):
    """The thread's analytic method: (dy2/dw_h, dy2/dw_y) by the chain rule, forward."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dh0_dwh = 0
    dh1raw_dwh = h0 + w_h * dh0_dwh
    dh1_dwh = (1 - h1_raw**2) * dh1raw_dwh
    dh2raw_dwh = h1 + w_h * dh1_dwh
    dh2_dwh = (1 - h2_raw**2) * dh2raw_dwh
    dwy_dwh = 0
    dy2_dwh = h2 * dwy_dwh + w_y * dh2_dwh
    dh2_dwy = 0
    dy2_dwy = h2 + w_y * dh2_dwy
    return dy2_dwh, dy2_dwy


report = dualad.compare(y2_of, forum_forward, 2.0, 40.0)
print(report.mismatches[0])
assert report.mismatches[0].manual_name == "dh1_dwh" and report.mismatches[0].kind == "tangent"
assert report.mismatches[0].manual == 0 and abs(report.mismatches[0].dualad - 0.21) < 5e-3

# %% [markdown]
# ## The correction
#
# The poster's fix replaces `1 - raw**2` by `1 - tanh(raw)**2`, written `1 - h**2`. Now both
# derivatives agree with dualad's to float64 rounding:

# %%
def fixed_backward(w_h, w_y):
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dw_y = h2 * 1
    dh2 = w_y * 1
    dh2_raw = (1 - h2**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1**2) * dh1
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    return dw_h, dw_y


report = dualad.compare(y2_of, fixed_backward, 2.0, 40.0)
print(report)
assert report.agrees and round(fixed_backward(2.0, 40.0)[0], 4) == 8.1888
