"""Independent references for derivative tests: JAX in float64, and central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

# XLA's backend optimisations cost more than they save for functions run once: compiling
# without them is about five times faster than eager evaluation for second derivatives.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _run(fn: Callable[..., Any], arrays: tuple) -> Any:
    """``fn(*arrays)`` compiled without optimisations; eagerly where shapes depend on values
    (``jnp.bincount`` without ``length``, boolean masks), which ``jax.jit`` cannot trace."""
    args = tuple(map(jnp.asarray, arrays))
    try:
        compiled = jax.jit(fn).lower(*args).compile(FAST_COMPILE)
    except (jax.errors.ConcretizationTypeError, jax.errors.NonConcreteBooleanIndexError,
            jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError):
        return fn(*args)
    return compiled(*args)


def jax_jacobians(call: Callable[..., Any], arrays: tuple, mode: str = "fwd") -> Any:
    """``jax.jacfwd``/``jax.jacrev`` of ``call(jnp, *arrays)`` w.r.t. every array."""
    transform = jax.jacfwd if mode == "fwd" else jax.jacrev
    argnums = tuple(range(len(arrays)))
    jac = _run(transform(lambda *xs: call(jnp, *xs), argnums=argnums), arrays)
    return jax.tree_util.tree_map(np.asarray, jac)


def jax_hessians(call: Callable[..., Any], arrays: tuple) -> Any:
    """Second derivatives, forward over forward, of ``call(jnp, *arrays)``."""
    argnums = tuple(range(len(arrays)))
    f = lambda *xs: call(jnp, *xs)  # noqa: E731
    jac = _run(jax.jacfwd(jax.jacfwd(f, argnums=argnums), argnums=argnums), arrays)
    return jax.tree_util.tree_map(np.asarray, jac)


def central_differences(f: Callable[..., Any], arrays: tuple, eps: float = 1e-6) -> tuple:
    """Jacobians of ``f(*arrays)`` by central differences, shape ``out.shape + in.shape``."""
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in arrays)
    out_shape = np.shape(f(*arrays))
    jacs = []
    for i, a in enumerate(arrays):
        jac = np.zeros(out_shape + a.shape)
        for idx in np.ndindex(a.shape):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            diff = (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps)
            jac[(...,) + idx] = diff
        jacs.append(jac)
    return tuple(jacs)


def assert_tree_close(actual: Any, expected: Any, rtol: float = 1e-10, atol: float = 1e-12,
                      what: str = "") -> None:
    """Leaves of two (tuple/list) trees are close; no dual array may escape a transform."""
    from dualad import Dual

    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), what
        for a, e in zip(actual, expected, strict=True):
            assert_tree_close(a, e, rtol, atol, what)
        return
    assert not isinstance(actual, Dual), f"{what}: a Dual escaped the transform"
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol, err_msg=what)


def assert_pytree_close(actual, expected, rtol=1e-12, atol=1e-12, path="result"):
    """Same pytree structure (dict keys, list vs tuple, lengths), shapes and values; no
    active value escapes a transform."""
    from dualad import Dual, TapeArray

    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: {type(actual).__name__}, expected a dict"
        assert sorted(actual) == sorted(expected), f"{path}: keys {sorted(actual)}"
        for key in expected:
            assert_pytree_close(actual[key], expected[key], rtol, atol, f"{path}[{key!r}]")
        return
    if isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected), (
            f"{path}: {type(actual).__name__}, expected {type(expected).__name__}")
        assert len(actual) == len(expected), f"{path}: length {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_pytree_close(a, e, rtol, atol, f"{path}[{i}]")
        return
    assert not isinstance(actual, (dict, list, tuple)), f"{path}: a container, expected a leaf"
    assert not isinstance(actual, (Dual, TapeArray)), f"{path}: an active value"
    assert np.shape(actual) == np.shape(expected), (
        f"{path}: shape {np.shape(actual)}, expected {np.shape(expected)}")
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected), rtol=rtol,
                               atol=atol, err_msg=path)


