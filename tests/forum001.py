"""The forum thread on a tanh network, as NumPy code, with the thread's own variable names.

y2 = w_y tanh(w_h tanh(w_h h0)) at w_h = 2, w_y = 40, h0 = 0.5; autograd says
dy2/dw_h = 8.1888 and dy2/dw_y = 0.9093. The thread derived both by hand twice, forward
(``analytic``: tangents ``d<x>_dwh``) and backward (``backward``: adjoints ``d<x>``), using
``1 - raw**2`` where ``1 - tanh(raw)**2`` belongs. Used as a module by the tests and as a
file target by the command-line tests (``tests/forum001.py:loss``).
"""

from __future__ import annotations

import numpy as np


def loss(w_h, w_y):
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    y2 = w_y * h2
    return y2


def analytic(w_h, w_y):
    """The thread's "analytic method": tangents along w_h, named d<x>_dwh (buggy)."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    dh1raw_dwh = h0
    dh1_dwh = (1 - h1_raw**2) * dh1raw_dwh
    dh2raw_dwh = h1 + w_h * dh1_dwh
    dh2_dwh = (1 - h2_raw**2) * dh2raw_dwh
    dy2_dwh = w_y * dh2_dwh
    return dy2_dwh, np.tanh(h2_raw)


def backward(w_h, w_y):
    """The thread's backward pass over the computational graph: adjoints d<x> (buggy)."""
    h0 = 0.5
    h1_raw = w_h * h0
    h1 = np.tanh(h1_raw)
    h2_raw = w_h * h1
    h2 = np.tanh(h2_raw)
    dy2 = 1  # noqa: F841 - the thread writes it; its name is matched to y2_bar
    dw_y = h2 * 1
    dh2 = w_y * 1
    dh2_raw = (1 - h2_raw**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1_raw**2) * dh1
    dw_h = h1 * dh2_raw + h0 * dh1_raw
    return dw_h, dw_y


def fixed(w_h, w_y):
    """The backward pass with 1 - tanh(raw)**2 = 1 - h**2."""
    h0 = 0.5
    h1 = np.tanh(w_h * h0)
    h2 = np.tanh(w_h * h1)
    dh2 = w_y
    dh2_raw = (1 - h2**2) * dh2
    dh1 = w_h * dh2_raw
    dh1_raw = (1 - h1**2) * dh1
    return h1 * dh2_raw + h0 * dh1_raw, h2


def raises(w_h, w_y):
    return w_h / undefined_name  # noqa: F821 - a user's mistake, for the error tests


def log_of(x):
    return np.log(x)
