"""A two-layer tanh chain and a gradient derived by hand, with one mistake in it.

y2 = w_y tanh(w_h tanh(w_h h0)) with h0 = 0.5. ``buggy_grad`` is a backward pass written by
hand, with adjoints named ``d<variable>``; it uses ``1 - h2_raw**2`` where the derivative of
tanh is ``1 - tanh(h2_raw)**2``. The documentation's examples run on this file:

    dualad trace docs/examples/tanh_chain.py:loss --at w_h=2 w_y=40 --mode reverse
    dualad check docs/examples/tanh_chain.py:loss docs/examples/tanh_chain.py:buggy_grad \
        --at w_h=2 w_y=40
"""

import numpy as np


def loss(w_h, w_y):
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    y2 = w_y * h2
    return y2


def buggy_grad(w_h, w_y):
    """d loss / d (w_h, w_y) by hand: each adjoint ``dv`` is d y2 / d v."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dw_y = h2
    dh2 = w_y
    dh2_raw = (1 - h2_raw**2) * dh2  # the mistake: 1 - tanh(h2_raw)**2 = 1 - h2**2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1_raw**2) * dh1  # the same mistake
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    return dw_h, dw_y


def fixed_grad(w_h, w_y):
    """The same backward pass with the derivative of tanh written as 1 - h**2."""
    h0 = 0.5
    h1 = np.tanh(w_h * h0)
    h2 = np.tanh(w_h * h1)
    dw_y = h2
    dh2 = w_y
    dh2_raw = (1 - h2**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1**2) * dh1
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    return dw_h, dw_y
