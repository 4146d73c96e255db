"""The forward-mode transforms, with JAX's signatures: ``jvp`` and ``jacfwd``.

Only these functions (and the reverse-mode ones) touch the engines; pytrees are flattened
here (by :mod:`dualad.tree`). Each call draws a fresh tag, so nested transforms never confuse
their perturbations, and the tag expires when the call returns, so a dual value kept beyond
it (a leaked value) is refused when it comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import registry
from ..axes import zeros
from ..dual import Dual
from ..errors import InvalidInputError, ShapeMismatchError
from ..tree import describe, flatten, unflatten
from ._boundary import (
    arg_paths,
    argnums_tuple,
    as_input,
    call,
    check_holomorphic_inputs,
    check_holomorphic_output,
    chunks,
    dtype_of,
    finish,
    flat_leaf,
    output_leaf,
    output_leaves,
    owned,
    plain_output,
    read_only,
    split_aux,
    strip_level,
    with_arguments,
)
from ._recording import Recording

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
        Ordinary NumPy code; arguments and results may be arrays, Python numbers, or pytrees
        of them: nested tuples, lists, dicts, named tuples and registered types
        (:func:`dualad.register_pytree_node`, :func:`dualad.register_dataclass`).
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
    flat = len(primals) == len(tangents)
    for p, t in zip(primals, tangents):
        if not (flat_leaf(p) and flat_leaf(t)):
            flat = False
            break
    if flat and not has_aux:
        return _jvp_flat(fun, primals, tangents)
    if flat:  # arrays and numbers: no pytree bookkeeping
        p_leaves, t_leaves = primals, tangents
        paths = [f"argument {i + 1}" for i in range(len(primals))]
    else:
        p_leaves, p_tree = flatten(tuple(primals))
        t_leaves, t_tree = flatten(tuple(tangents))
        if p_tree != t_tree:
            raise ShapeMismatchError(
                f"jvp: tangents must have the same structure as primals, {describe(p_tree)}; "
                f"got {describe(t_tree)}"
            )
        paths = arg_paths(primals, range(len(primals)))
    values = [read_only(as_input(p, where)) for p, where in zip(p_leaves, paths)]
    directions = [read_only(_as_tangent(t, p, where)[None])
                  for p, t, where in zip(values, t_leaves, paths)]
    tag = registry.enter_transform("dualad.jvp")
    try:
        inputs = [Dual._make(p, t, tag) for p, t in zip(values, directions)]
        out = call(fun, inputs if flat else unflatten(p_tree, inputs))
        del inputs
        aux = None
        if has_aux:
            out, aux = split_aux(out)
            aux = strip_level(aux, tag)
        primals_out, tangents_out = _jvp_outputs(out, tag)
    finally:
        registry.leave_transform(tag)
    sources = [*p_leaves, *t_leaves]
    primals_out, tangents_out = owned(primals_out, sources), owned(tangents_out, sources)
    if has_aux:
        return primals_out, tangents_out, owned(aux, sources)
    return primals_out, tangents_out


def _jvp_flat(fun: Callable[..., Any], primals: Sequence[Any],
              tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``jvp`` of arrays and numbers, the common call, with as little bookkeeping as the
    general path allows (the same checks, conversions and results)."""
    tag = registry.enter_transform("dualad.jvp")
    try:
        inputs = []
        for i, (p, t) in enumerate(zip(primals, tangents)):
            where = f"argument {i + 1}"
            p = as_input(p, where)
            inputs.append(Dual._make(read_only(p), read_only(_as_tangent(t, p, where)[None]),
                                     tag))
        out = call(fun, inputs)
        del inputs
        if type(out) is Dual and out.tag == tag and out.primal.__class__ is np.ndarray:
            y, dy = finish(out.primal), finish(out.tangent[0])  # the common result
        else:
            y, dy = _jvp_outputs(out, tag)
    finally:
        registry.leave_transform(tag)
    return owned(y, (*primals, *tangents)), owned(dy, (*primals, *tangents))


def _as_tangent(t: Any, x: Any, where: str) -> Any:
    if registry.is_active(t):
        if np.shape(t) != x.shape:
            raise ShapeMismatchError(
                f"the tangent for {where} has shape {np.shape(t)}, but the primal has "
                f"shape {x.shape}"
            )
        return t
    t = t if registry.is_array(t) else np.asarray(t)
    if t.dtype.kind != "f" and not (t.dtype.kind == "c" and x.dtype.kind == "c"):
        raise ShapeMismatchError(
            f"the tangent for {where} has dtype {t.dtype}; tangents must be floating point, "
            f"and complex only for a complex primal (JAX's convention: a tangent has its "
            f"primal's dtype; write np.asarray(v, dtype=float))"
        )
    if t.shape != x.shape:
        raise ShapeMismatchError(
            f"the tangent for {where} has shape {t.shape}, but the primal has shape "
            f"{x.shape}: they must be equal"
        )
    dtype = x.dtype if isinstance(x, (np.ndarray, Dual)) or registry.is_array(x) else t.dtype
    return t if t.dtype == dtype else t.astype(dtype)


def _jvp_outputs(out: Any, tag: int) -> tuple[Any, Any]:
    """Primal and tangent pytrees of ``fun``'s result at level ``tag`` (one direction)."""
    if type(out) is Dual and out.tag == tag and not registry.is_active(out.primal):
        return finish(out.primal), finish(out.tangent[0])  # the common case: one array
    out_leaves, names, out_tree = output_leaves(out)
    pairs = [_read(leaf, tag, 1, where) for leaf, where in zip(out_leaves, names)]
    return (unflatten(out_tree, [finish(p) for p, _ in pairs]),
            unflatten(out_tree, [finish(t[0]) for _, t in pairs]))


def _read(leaf: Any, tag: int, k: int, where: str) -> tuple[Any, Any]:
    """The primal and tangent (``(k,) + shape``) of one output leaf at level ``tag``."""
    leaf = output_leaf(leaf, tag, where)
    if isinstance(leaf, Dual) and leaf.tag == tag:
        return leaf.primal, leaf.tangent
    if registry.is_active(leaf):
        return leaf, zeros(leaf, k)
    a = plain_output(leaf, where)
    return a, zeros(a, k)


# --------------------------------------------------------------------------- jacfwd


MADE_SEEDS_MIN_BYTES = 2**20
"""Under ``dualad.compile``, jacfwd's unit directions (all chunks together) this large are
made by the replayed program at each call, with what the rules derive from them; smaller ones
are the program's constants (cheaper to replay, and their memory is small)."""


def _seed(leaves: list[Any], start: int, stop: int, tag: int) -> list[Dual]:
    """Duals whose tangents are the unit directions ``start .. stop-1`` of all inputs."""
    k = stop - start
    seeded = []
    offset = 0
    n = sum(int(x.size) for x in leaves)
    for x in leaves:
        size = int(x.size)
        dtype = x.dtype if x.dtype.kind in "fc" else np.float64
        if registry.is_array(x) and n * n * np.dtype(dtype).itemsize >= MADE_SEEDS_MIN_BYTES:
            # a traced input (dualad.compile): a seed of its kind is made by the program,
            # and so is what the rules derive from it, where constants would grow as n ** 2
            tangent = np.eye(k, size, start - offset, dtype=dtype, like=x)
        else:
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
        blocks.append(finish(block))
        offset += size
    return unflatten(in_tree, blocks)


def jacfwd(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    chunk_size: int | None = None,
    holomorphic: bool = False,
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
    holomorphic : bool
        ``fun`` is complex-differentiable: its inputs and outputs are complex, and the
        Jacobian is the complex one. Without it, inputs must be real (as in JAX; use
        :func:`jvp` for a non-holomorphic function of complex values).

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
        numbers = argnums_tuple(argnums, len(args))
        tuple_argnums = isinstance(argnums, (tuple, list))
        chosen = tuple(args[i] for i in numbers)
        leaves, tree = flatten(chosen if tuple_argnums else chosen[0])
        paths = arg_paths(chosen, numbers)
        leaves = [read_only(as_input(x, where)) for x, where in zip(leaves, paths)]
        check_holomorphic_inputs(leaves, paths, "jacfwd", holomorphic, False)
        n = sum(int(x.size) for x in leaves)
        itemsize = max((np.dtype(x.dtype).itemsize for x in leaves), default=8)
        parts = chunks(n, chunk_size, itemsize)
        if len(parts) == 1:
            out_primals, out_tree, tangents, aux = _one_pass(fun, args, numbers, tuple_argnums,
                                                             leaves, tree, has_aux, n)
        else:
            out_primals, out_tree, tangents, aux = _pushed(fun, args, numbers, tuple_argnums,
                                                           leaves, has_aux, parts)
        if holomorphic:
            for i, p in enumerate(out_primals):
                check_holomorphic_output(dtype_of(p), f"output {i}", "jacfwd", True)
        jac = unflatten(out_tree, [
            _assemble(t, np.shape(p), leaves, tree) for p, t in zip(out_primals, tangents)])
        if has_aux:
            return jac, owned(aux, [a for a in flatten(args)[0]])
        return jac

    return jacobian


def _one_pass(fun: Callable[..., Any], args: Sequence[Any], numbers: tuple[int, ...],
              tuple_argnums: bool, leaves: list, tree: Any, has_aux: bool,
              n: int) -> tuple[list, Any, list, Any]:
    """Every Jacobian column in one forward pass of ``n`` directions."""
    tag = registry.enter_transform("dualad.jacfwd")
    try:
        call_args = with_arguments(args, numbers, tuple_argnums,
                                   unflatten(tree, _seed(leaves, 0, n, tag)))
        out = call(fun, call_args)
        aux = None
        if has_aux:
            out, aux = split_aux(out)
            aux = strip_level(aux, tag)
        out_leaves, names, out_tree = output_leaves(out)
        pairs = [_read(leaf, tag, n, where) for leaf, where in zip(out_leaves, names)]
    finally:
        registry.leave_transform(tag)
    return [p for p, _ in pairs], out_tree, [t for _, t in pairs], aux


def _pushed(fun: Callable[..., Any], args: Sequence[Any], numbers: tuple[int, ...],
            tuple_argnums: bool, leaves: list, has_aux: bool,
            parts: list[tuple[int, int]]) -> tuple[list, Any, list, Any]:
    """The Jacobian columns in chunks, pushed through one recorded evaluation of ``fun``:
    the function runs once, whatever the number of chunks."""
    rec = Recording(fun, args, numbers, tuple_argnums, has_aux, "dualad.jacfwd")
    collected = []
    for start, stop in parts:
        seeds = [d.tangent for d in _seed(rec.input_primals, start, stop, -1)]
        collected.append(rec.push(seeds, stop - start))
    tangents = [np.concatenate([chunk[j] for chunk in collected], axis=0)
                for j in range(len(rec.out_primals))]
    return rec.out_primals, rec.out_tree, tangents, rec.aux
