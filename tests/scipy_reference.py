"""Cross-checks of dualad.scipy against jax.scipy: both modes, and second order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from dualad import hessian, jacfwd, jacrev
from tests.reference import _run, assert_tree_close


def check_both_modes(ours: Callable[..., Any], theirs: Callable[..., Any], arrays: tuple,
                     rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """``jacfwd`` and ``jacrev`` of ``ours`` equal ``jax.jacfwd`` of ``theirs`` (float64),
    with respect to every argument; the values are SciPy's and checked elsewhere."""
    argnums = tuple(range(len(arrays)))
    expected = jax.tree_util.tree_map(np.asarray, _run(jax.jacfwd(theirs, argnums), arrays))
    assert_tree_close(jacfwd(ours, argnums=argnums)(*arrays), expected, rtol, atol, "jacfwd")
    assert_tree_close(jacrev(ours, argnums=argnums)(*arrays), expected, rtol, atol, "jacrev")


def check_hessian(ours: Callable[..., Any], theirs: Callable[..., Any], x: np.ndarray,
                  rtol: float = 1e-9, atol: float = 1e-11) -> None:
    """``dualad.hessian`` and ``jacrev(jacrev(...))`` of a scalar function equal JAX's."""
    expected = np.asarray(_run(jax.hessian(theirs), (x,)))
    assert_tree_close(hessian(ours)(x), expected, rtol, atol, "hessian")
    assert_tree_close(jacrev(jacrev(ours))(x), expected, rtol, atol, "jacrev(jacrev)")
