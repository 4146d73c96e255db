"""The user-facing transforms, with JAX's signatures: ``jvp`` and ``jacfwd``.

Only these functions touch the engines; pytrees (tuples, lists, dicts) are flattened here
and nowhere else. Each call draws a fresh tag, so nested transforms never confuse their
perturbations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import registry
from .errors import (
    InvalidArgumentError,
    InvalidInputError,
    PerturbationConfusionError,
    ShapeMismatchError,
    UnsupportedPrimitiveError,
)
from .forward import Dual, stack_objects
from .tree import flatten, unflatten

DEFAULT_CHUNK_BYTES = 2**20
"""``jacfwd`` seeds at most this many bytes of input tangent per pass (1 MiB) unless
``chunk_size`` says otherwise (``jacrev`` likewise for its cotangent rows). Tangents of
that size stay in the cache and below the allocator's ``mmap`` sizes; larger ones were
measured slower (Rosenbrock's n = 1024 Jacobian: 17 ms at 128 MiB, 11 ms at 1 MiB)."""


# --------------------------------------------------------------------------- inputs


def _leaf_paths(tree: Any, prefix: str) -> list[str]:
    """Human names of a pytree's leaves: ``argument 1``, ``argument 2['W']``, ..."""
    if tree is None:
        return []
    if isinstance(tree, (tuple, list)):
        return [p for i, child in enumerate(tree) for p in _leaf_paths(child, f"{prefix}[{i}]")]
    if isinstance(tree, dict):
        return [p for key in sorted(tree) for p in _leaf_paths(tree[key], f"{prefix}[{key!r}]")]
    return [prefix]


def _arg_paths(args: Sequence[Any], numbers: Sequence[int]) -> list[str]:
    return [p for i, a in zip(numbers, args) for p in _leaf_paths(a, f"argument {i + 1}")]


def _as_input(x: Any, where: str) -> Any:
    """``x`` as a float array to differentiate at: integers and booleans become float64."""
    if registry.is_traced(x):
        return x
    if isinstance(x, np.ndarray) and x.dtype == object:
        x = stack_objects(x)
        if registry.is_traced(x):
            return x
    try:
        a = np.asarray(x)
    except Exception as exc:  # an input NumPy cannot read at all
        raise InvalidInputError(f"{where} is not an array of numbers: {exc}") from None
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind == "c":
        raise UnsupportedPrimitiveError(
            f"{where} is complex: dualad differentiates real functions only. Pass the real "
            f"and imaginary parts as separate real arguments."
        )
    raise InvalidInputError(
        f"{where} has dtype {a.dtype}, not numbers: it cannot be differentiated"
    )


def _as_tangent(t: Any, x: Any, where: str) -> Any:
    if registry.is_traced(t):
        if np.shape(t) != x.shape:
            raise ShapeMismatchError(
                f"the tangent for {where} has shape {np.shape(t)}, but the primal has "
                f"shape {x.shape}"
            )
        return t
    t = np.asarray(t)
    if t.dtype.kind != "f":
        raise ShapeMismatchError(
            f"the tangent for {where} has dtype {t.dtype}; tangents must be floating point "
            f"(write np.asarray(v, dtype=float))"
        )
    if t.shape != x.shape:
        raise ShapeMismatchError(
            f"the tangent for {where} has shape {t.shape}, but the primal has shape "
            f"{x.shape}: they must be equal"
        )
    dtype = x.dtype if isinstance(x, (np.ndarray, Dual)) else t.dtype
    return t.astype(dtype, copy=False)


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    for i in numbers:
        if not isinstance(i, (int, np.integer)) or not -nargs <= i < nargs:
            raise InvalidArgumentError(
                f"argnums={argnums!r} is out of range: the function was called with "
                f"{nargs} positional argument(s)"
            )
    chosen = tuple(int(i) % nargs for i in numbers)
    if len(set(chosen)) != len(chosen):
        raise InvalidArgumentError(
            f"argnums={argnums!r} names an argument twice: each argument can be "
            f"differentiated once (JAX refuses this too)"
        )
    return chosen


# --------------------------------------------------------------------------- outputs


def _read(leaf: Any, tag: int, k: int, where: str) -> tuple[Any, Any]:
    """The primal and tangent (``(k,) + shape``) of one output leaf at level ``tag``."""
    if isinstance(leaf, np.ndarray) and leaf.dtype == object:
        leaf = stack_objects(leaf)
    if isinstance(leaf, Dual) and leaf.tag == tag:
        return leaf.primal, leaf.tangent
    if registry.is_traced(leaf):
        if leaf.tag > tag:
            raise PerturbationConfusionError(
                f"{where} is a traced value of a transform that already returned (tag "
                f"{leaf.tag}): a value leaked out of an inner transform, e.g. through a "
                f"global variable. Return it from the inner transform instead."
            )
        return leaf, np.zeros((k,) + np.shape(leaf))
    try:
        a = np.asarray(leaf)
    except Exception:  # noqa: BLE001 - report any unreadable output the same way
        a = np.asarray(None)
    if a.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{where} of the function is a {type(leaf).__name__}, not an array or number: "
            f"only arrays can be differentiated"
        )
    return a, np.zeros((k,) + a.shape, dtype=a.dtype if a.dtype.kind == "f" else np.float64)


def _finish(x: Any) -> Any:
    """A result for the user: plain 0-d arrays become NumPy floats."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return x[()]
    return x


def _strip_level(tree: Any, tag: int) -> Any:
    """``tree`` with this level's traced values replaced by their primals (``has_aux``)."""
    leaves, treedef = flatten(tree)
    return unflatten(
        treedef, [leaf.primal if registry.is_traced(leaf) and leaf.tag == tag else leaf
                  for leaf in leaves]
    )


def _split_aux(out: Any) -> tuple[Any, Any]:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise InvalidInputError(
            "with has_aux=True the function must return a pair (output, aux)"
        )
    return out[0], out[1]


# --------------------------------------------------------------------------- jvp


def jvp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    has_aux: bool = False,
) -> tuple[Any, ...]:
    """Evaluate ``fun`` and its Jacobian-vector product at ``primals`` along ``tangents``.

    Parameters
    ----------
    fun : callable
        Ordinary NumPy code; arguments and results may be arrays, Python numbers, or nested
        tuples, lists and dicts of them.
    primals : tuple or list
        The arguments to evaluate at.
    tangents : tuple or list
        Directions, of the same structure and shapes as ``primals``.
    has_aux : bool
        ``fun`` returns ``(output, aux)``; ``aux`` is returned undifferentiated.

    Returns
    -------
    (primals_out, tangents_out) or (primals_out, tangents_out, aux)

    Raises
    ------
    ShapeMismatchError
        When tangents do not match the primals' structure, shapes, or are not floats.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> y, dy = dualad.jvp(lambda x: np.sin(x) * x, (np.array([0.0, 1.0]),),
    ...                    (np.array([1.0, 1.0]),))
    >>> dy.round(4)
    array([0.    , 1.3818])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise InvalidInputError(
            "jvp(fun, primals, tangents): primals and tangents must be tuples or lists of "
            "arguments, e.g. jvp(f, (x,), (v,))"
        )
    fast = _jvp_flat(fun, primals, tangents, has_aux)
    if fast is not None:
        return fast
    p_leaves, p_tree = flatten(tuple(primals))
    t_leaves, t_tree = flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ShapeMismatchError(
            "jvp: tangents must have the same structure as primals (the same nesting of "
            f"tuples, lists and dicts); got {len(p_leaves)} primal and {len(t_leaves)} "
            "tangent arrays"
        )
    paths = _arg_paths(primals, range(len(primals)))
    tag = registry.new_tag()
    inputs = []
    for p, t, where in zip(p_leaves, t_leaves, paths):
        p = _as_input(p, where)
        t = _as_tangent(t, p, where)
        inputs.append(Dual._make(p, t[None], tag))
    out = fun(*unflatten(p_tree, inputs))
    aux = None
    if has_aux:
        out, aux = _split_aux(out)
    primals_out, tangents_out = _jvp_outputs(out, tag)
    if has_aux:
        return primals_out, tangents_out, _strip_level(aux, tag)
    return primals_out, tangents_out


_FLAT_LEAVES = frozenset((np.ndarray, float, int, np.float64, np.float32))


def _jvp_flat(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
              has_aux: bool) -> tuple[Any, ...] | None:
    """``jvp`` without pytree bookkeeping, for the common call on flat arrays and numbers
    returning one dual array; None when the general path is needed."""
    if has_aux or len(primals) != len(tangents):
        return None
    for p, t in zip(primals, tangents):
        if type(p) not in _FLAT_LEAVES or type(t) not in _FLAT_LEAVES:
            return None
    tag = registry.new_tag()
    inputs = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        where = f"argument {i + 1}"
        p = _as_input(p, where)
        inputs.append(Dual._make(p, _as_tangent(t, p, where)[None], tag))
    out = fun(*inputs)
    if type(out) is Dual and out.tag == tag:
        return _finish(out.primal), _finish(out.tangent[0])
    return _jvp_outputs(out, tag)


def _jvp_outputs(out: Any, tag: int) -> tuple[Any, Any]:
    """Primal and tangent pytrees of ``fun``'s result at level ``tag`` (one direction)."""
    out_leaves, out_tree = flatten(out)
    pairs = [_read(leaf, tag, 1, f"output {i}") for i, leaf in enumerate(out_leaves)]
    return (unflatten(out_tree, [_finish(p) for p, _ in pairs]),
            unflatten(out_tree, [_finish(t[0]) for _, t in pairs]))


# --------------------------------------------------------------------------- jacfwd


def _chunks(n: int, chunk_size: int | None, itemsize: int) -> list[tuple[int, int]]:
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_BYTES // max(1, itemsize * n))
    elif not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InvalidArgumentError(
            f"chunk_size must be a positive integer, got {chunk_size!r}"
        )
    if n == 0:
        return [(0, 0)]
    return [(start, min(n, start + chunk_size)) for start in range(0, n, chunk_size)]


def _seed(leaves: list[Any], start: int, stop: int, tag: int) -> list[Dual]:
    """Duals whose tangents are the unit directions ``start .. stop-1`` of all inputs."""
    k = stop - start
    seeded = []
    offset = 0
    for x in leaves:
        size = int(x.size)
        dtype = x.dtype if x.dtype.kind == "f" else np.float64
        tangent = np.zeros((k, size), dtype=dtype)
        lo, hi = max(start, offset), min(stop, offset + size)
        if lo < hi:
            rows = np.arange(lo, hi)
            tangent[rows - start, rows - offset] = 1
        seeded.append(Dual._make(x, tangent.reshape((k,) + x.shape), tag))
        offset += size
    return seeded


def _assemble(tangents: Any, out_shape: tuple, in_leaves: list, in_tree: Any) -> Any:
    """Jacobian blocks of shape ``out.shape + in.shape`` from tangents ``(n,) + out.shape``."""
    jac = np.moveaxis(tangents, 0, -1)
    blocks, offset = [], 0
    for x in in_leaves:
        size = int(x.size)
        block = np.reshape(jac[..., offset:offset + size], out_shape + x.shape)
        blocks.append(_finish(block))
        offset += size
    return unflatten(in_tree, blocks)


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    chunk_size: int | None = None,
) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by forward mode, many columns per pass.

    Each pass seeds ``k`` unit directions at once (the tangent's leading axis), so every
    NumPy call carries ``k`` Jacobian columns. ``chunk_size`` bounds ``k``; by default all
    ``n`` columns go in one pass unless the seed tangent would exceed
    ``DEFAULT_CHUNK_BYTES``. The result is the same for every chunk size.

    Parameters
    ----------
    fun : callable
    argnums : int or tuple of ints
        Which positional arguments to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(output, aux)``; the Jacobian function then returns
        ``(jacobian, aux)``.
    chunk_size : int, optional
        Directions per pass.

    Returns
    -------
    callable
        Takes ``fun``'s arguments; returns, for each output leaf, Jacobians of shape
        ``out.shape + in.shape`` arranged like the arguments (a tuple for tuple argnums).

    Examples
    --------
    >>> import numpy as np, dualad
    >>> J = dualad.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    >>> J
    array([[2., 0.],
           [0., 4.]])
    """

    def jacobian(*args: Any) -> Any:
        numbers = _argnums(argnums, len(args))
        chosen = tuple(args[i] for i in numbers)
        dyn = chosen if isinstance(argnums, (tuple, list)) else chosen[0]
        leaves, tree = flatten(dyn)
        paths = _arg_paths(chosen, numbers)
        leaves = [_as_input(x, where) for x, where in zip(leaves, paths)]
        n = sum(int(x.size) for x in leaves)
        itemsize = max((np.dtype(x.dtype).itemsize for x in leaves), default=8)
        collected: list[list[Any]] = []
        aux = out_tree = out_primals = None
        for start, stop in _chunks(n, chunk_size, itemsize):
            tag = registry.new_tag()
            seeded = unflatten(tree, _seed(leaves, start, stop, tag))
            call_args = list(args)
            if isinstance(argnums, (tuple, list)):
                for i, value in zip(numbers, seeded):
                    call_args[i] = value
            else:
                call_args[numbers[0]] = seeded
            out = fun(*call_args)
            if has_aux:
                out, aux_here = _split_aux(out)
                aux = _strip_level(aux_here, tag) if aux is None else aux
            out_leaves, out_tree = flatten(out)
            pairs = [_read(leaf, tag, stop - start, f"output {i}")
                     for i, leaf in enumerate(out_leaves)]
            out_primals = [p for p, _ in pairs]
            collected.append([t for _, t in pairs])
        jac_leaves = []
        for j, primal_out in enumerate(out_primals):
            parts = [chunk[j] for chunk in collected]
            tangents = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
            jac_leaves.append(_assemble(tangents, np.shape(primal_out), leaves, tree))
        jac = unflatten(out_tree, jac_leaves)
        return (jac, aux) if has_aux else jac

    return jacobian
