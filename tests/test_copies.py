"""The tape's copies of large constants reuse memory only when nothing else refers to it.

Reverse mode copies each writeable array it reads (its value at the time of use). Copies of
128 KiB and more are kept and reused for the next copy of the same shape and dtype
(:mod:`dualad._copies`): these tests check that a copy still in use (by a pullback, by a
value the user kept, by a view) is never overwritten, so derivatives stay those of the point
of the call, and that a copy no longer in use is reused.
"""

from __future__ import annotations

import gc

import numpy as np

import dualad
from dualad import _copies
from dualad.tape import frozen

N = 40_000  # 320 KB of float64: above the size from which copies are kept


def test_a_copy_nothing_refers_to_is_reused():
    a = np.ones(N)
    first = frozen(a)
    address = first.ctypes.data
    del first
    gc.collect()
    second = frozen(a * 2.0)
    assert second.ctypes.data == address  # the same memory, written again
    assert not second.flags.writeable and np.all(second == 2.0)


def test_a_kept_pullback_keeps_its_constants():
    w = np.linspace(0.0, 1.0, N)
    x = np.full(N, 0.5)
    f = lambda x: np.sum(np.sin(w * x))  # noqa: E731
    _, first = dualad.vjp(f, x)
    want = np.cos(w * 0.5) * w
    for step in range(3):  # the same shapes again and again: reuse is possible for others
        w *= 1.5  # the caller changes the constant in place before pulling back
        dualad.grad(f)(x)
        dualad.vjp(f, x + step)
    np.testing.assert_allclose(first(1.0)[0], want, rtol=1e-15)


def test_a_value_the_user_keeps_is_not_overwritten():
    kept = []

    def f(x):
        kept.append(dualad.primal(x))  # the tape's copy of the argument
        return np.sum(x * x)

    x = np.arange(N, dtype=float)
    dualad.grad(f)(x)
    dualad.grad(f)(x + 1.0)
    gc.collect()
    dualad.grad(f)(x + 2.0)
    for k, value in enumerate(kept):
        np.testing.assert_array_equal(value, x + k)


def test_a_view_of_a_copy_keeps_it_in_use():
    copy = frozen(np.ones(N))
    view = copy[::2]
    del copy
    gc.collect()
    frozen(np.zeros(N))
    assert np.all(view == 1.0)


def test_gradients_equal_with_and_without_reuse():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N // 8, 8))
    f = lambda t: np.sum(np.tanh(X @ t) ** 2)  # noqa: E731
    t = rng.standard_normal(8)
    first = dualad.grad(f)(t)
    again = [dualad.grad(f)(t) for _ in range(3)]
    read_only = X.copy()
    read_only.flags.writeable = False
    plain = dualad.grad(lambda t: np.sum(np.tanh(read_only @ t) ** 2))(t)
    for g in again:
        np.testing.assert_array_equal(g, first)
    np.testing.assert_array_equal(plain, first)


def test_the_pool_stays_within_its_cap():
    for k in range(12):
        frozen(np.full(_copies.MAX_COPY_BYTES // 8, float(k)))
    assert _copies._kept_bytes <= _copies.MAX_KEPT_BYTES
