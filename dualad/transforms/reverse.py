"""The reverse-mode transforms, with JAX's signatures: ``vjp``, ``grad``, ``value_and_grad``
and ``jacrev``.

Each call opens its own tape with a fresh tag (so nested transforms of either mode never
confuse their derivatives), runs the function once on tape arrays, and pulls cotangents back
through :func:`dualad.tape.backward`, many rows at once for ``jacrev``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import registry, storage
from ..axes import zeros
from ..errors import InvalidInputError, NonScalarOutputError, ShapeMismatchError
from ..tape import Tape, TapeArray, backward
from ..tree import LEAF, describe, flatten, unflatten
from ._boundary import (
    arg_paths,
    argnums_tuple,
    as_input,
    call,
    check_holomorphic_inputs,
    check_holomorphic_output,
    chunks,
    copied,
    dtype_of,
    finish,
    flat_leaf,
    owned_array,
    with_arguments,
)
from ._recording import Recording, check_alive


def _as_cotangent(ct: Any, out: Any, where: str) -> Any:
    """A user's cotangent for an output, checked against its shape and dtype."""
    expected = tuple(np.shape(out))
    if registry.is_active(ct):
        if tuple(np.shape(ct)) != expected:
            raise ShapeMismatchError(
                f"the cotangent for {where} has shape {np.shape(ct)}, but the output has "
                f"shape {expected}: pass an array of shape {expected}"
            )
        return ct
    try:
        ct = ct if registry.is_array(ct) else np.asarray(ct)
    except Exception:  # noqa: BLE001
        ct = np.asarray(None)
    out_kind = dtype_of(out).kind
    if ct.dtype.kind != "f" and not (ct.dtype.kind == "c" and out_kind == "c"):
        raise ShapeMismatchError(
            f"the cotangent for {where} has dtype {ct.dtype}; cotangents must be floating "
            f"point arrays of the output's shape {expected}, complex only for a complex "
            f"output (JAX's convention: a cotangent has its output's dtype; write "
            f"np.asarray(u, dtype=float))"
        )
    if ct.shape != expected:
        raise ShapeMismatchError(
            f"the cotangent for {where} has shape {ct.shape}, but the output has shape "
            f"{expected}: pass an array of shape {expected}"
        )
    dtype = out.dtype if getattr(out, "dtype", None) is not None and out.dtype.kind in "fc" \
        else np.float64
    return ct.astype(dtype)  # a copy: rules may return views of it, and results are the caller's


# --------------------------------------------------------------------------- vjp


class Pullback:
    """The vector-Jacobian product function that :func:`vjp` returns.

    Call it with a cotangent of the output's structure and shapes; it returns a tuple with
    one cotangent per primal argument. It may be called any number of times; the tape it
    holds is freed with it.
    """

    __slots__ = ("_recording",)

    def __init__(self, recording: Recording) -> None:
        self._recording = recording

    def __call__(self, cotangent: Any) -> tuple[Any, ...]:
        rec = self._recording
        leaves, tree = flatten(cotangent)
        if tree != rec.out_tree:
            raise ShapeMismatchError(
                f"the cotangent must have the structure of the function's output, "
                f"{describe(rec.out_tree)}; got {describe(tree)}"
            )
        seeds = [_as_cotangent(ct, out, where)[None]
                 for ct, out, where in zip(leaves, rec.out_primals, rec.out_names)]
        cts = rec.pull(seeds, 1)
        for i, ct in enumerate(cts):
            check_alive(ct, f"input {i + 1}'s cotangent", "the pullback returned by dualad.vjp",
                        "vjp")
        return unflatten(rec.in_tree, [finish(owned_array(ct[0])) for ct in cts])

    def __repr__(self) -> str:
        return f"<dualad pullback over {self._recording.tape!r}>"


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate ``fun`` at ``primals`` and return its vector-Jacobian product function.

    Parameters
    ----------
    fun : callable
        Ordinary NumPy code; arguments and results may be arrays, numbers, or pytrees of
        them: nested tuples, lists, dicts, named tuples and registered types
        (:func:`dualad.register_pytree_node`, :func:`dualad.register_dataclass`).
    *primals
        The arguments to evaluate at.
    has_aux : bool
        ``fun`` returns ``(output, aux)``; ``aux`` is returned undifferentiated.

    Returns
    -------
    (primals_out, pullback) or (primals_out, pullback, aux)
        ``pullback(cotangent)`` returns a tuple, one cotangent per primal.

    Raises
    ------
    ShapeMismatchError
        (from the pullback) when a cotangent's structure, shape or dtype does not match.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> y, pullback = dualad.vjp(lambda x, W: W @ x, np.array([1.0, 2.0]), np.eye(2))
    >>> x_bar, W_bar = pullback(np.array([1.0, 0.0]))
    >>> x_bar, W_bar
    (array([1., 0.]), array([[1., 2.],
           [0., 0.]]))
    """
    numbers = tuple(range(len(primals)))
    rec = Recording(fun, primals, numbers, True, has_aux, "dualad.vjp")
    # copies: the pullback reads the recorded values, which the caller may then change
    out = unflatten(rec.out_tree, [finish(copied(p)) for p in rec.out_primals])
    pullback = Pullback(rec)
    if has_aux:
        return out, pullback, _copied(rec.aux)
    return out, pullback


def _copied(tree: Any) -> Any:
    """``tree`` with its arrays copied."""
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [copied(leaf, "C") for leaf in leaves])


# --------------------------------------------------------------------------- grad


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """``fun`` and its gradient, in one evaluation and one backward pass.

    ``fun`` must return a real scalar (a 0-d array or a number), or a complex one with
    ``holomorphic=True`` (see :func:`grad`).

    Returns
    -------
    callable
        Returns ``(value, gradient)``, or ``((value, aux), gradient)`` with ``has_aux``;
        the gradient is shaped like the argument (a tuple for tuple ``argnums``).

    Raises
    ------
    NonScalarOutputError
        When ``fun`` returns anything but one scalar.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> value, g = dualad.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    >>> float(value), g
    (5.0, array([2., 4.]))
    """
    return _value_and_grad(fun, argnums, has_aux, "dualad.value_and_grad", holomorphic)


def _value_and_grad(fun: Callable[..., Any], argnums: int | Sequence[int], has_aux: bool,
                    name: str, holomorphic: bool = False) -> Callable[..., Any]:
    """``value_and_grad`` as the transform ``name`` (``grad`` is one too), for errors."""

    def value_and_gradient(*args: Any) -> Any:
        if not has_aux and not holomorphic and argnums.__class__ is int \
                and -len(args) <= argnums < len(args) \
                and flat_leaf(args[argnums]):
            return _value_and_grad_flat(fun, args, argnums, name)
        numbers = argnums_tuple(argnums, len(args))
        rec = Recording(fun, args, numbers, isinstance(argnums, (tuple, list)), has_aux, name)
        if holomorphic:
            check_holomorphic_inputs(rec.input_primals, arg_paths(args, numbers),
                                     name.removeprefix("dualad."), True, True)
        return _value_and_grad_of(rec, has_aux, holomorphic)

    return value_and_gradient


def _value_and_grad_flat(fun: Callable[..., Any], args: Sequence[Any], argnum: int,
                         name: str) -> Any:
    """``value_and_grad`` of one array argument, without pytree bookkeeping when the
    function returns one scalar tape array (the common case)."""
    argnum %= len(args)
    x0 = as_input(args[argnum], f"argument {argnum + 1}")
    tag = registry.enter_transform(name)
    tape = Tape(tag)
    try:
        x = tape.variable(x0)
        index, primal = x.index, x.primal
        out = call(fun, with_arguments(args, (argnum,), False, x))
        if out.__class__ is TapeArray and out.tag == tag and out.primal.shape == () \
                and not registry.is_active(out.primal) and out.primal.dtype.kind == "f":
            value = out.primal
            seed = np.ones((1,), dtype=value.dtype, like=_library_of(value))
            ct = backward(tape, [(out.index, seed)], [index], 1)[0]
            gradient = zeros(primal, 1)[0] if ct is None else ct[0]
            return finish(value), finish(owned_array(gradient))
        rec = Recording.of_output(tape, [index], [primal], LEAF, out, False)
    finally:
        tape.close()
        registry.leave_transform(tag)
    return _value_and_grad_of(rec, False)


def _value_and_grad_of(rec: Recording, has_aux: bool, holomorphic: bool = False) -> Any:
    """The value and gradient of a recorded scalar function."""
    value = _scalar_output(rec, holomorphic)
    seed = np.ones((1,), dtype=value.dtype, like=_library_of(value))
    cts = rec.pull([seed], 1)
    gradient = unflatten(rec.in_tree, [finish(owned_array(ct[0])) for ct in cts])
    value = finish(value)
    return ((value, rec.aux), gradient) if has_aux else (value, gradient)


def _scalar_output(rec: Recording, holomorphic: bool = False) -> Any:
    if len(rec.out_primals) != 1 or rec.out_tree.kind != "leaf":
        raise NonScalarOutputError(
            f"grad needs a function with one scalar output; this one returned "
            f"{describe(rec.out_tree)}. Use dualad.jacrev for "
            f"the Jacobian, or dualad.vjp(f, x)[1](cotangents) for a vector-Jacobian product."
        )
    value = rec.out_primals[0]
    if np.shape(value) != ():
        raise NonScalarOutputError(
            f"grad needs a scalar output, but the function returned an array of shape "
            f"{np.shape(value)}. Use dualad.jacrev(f) for the Jacobian, "
            f"dualad.vjp(f, x)[1](u) for one vector-Jacobian product, or reduce the output "
            f"first (e.g. np.sum)."
        )
    dtype = getattr(value, "dtype", np.dtype(float))
    if dtype.kind == "c" or holomorphic:
        check_holomorphic_output(dtype, "the output", "grad", holomorphic)
    elif dtype.kind != "f":
        raise InvalidInputError(
            f"grad needs a floating-point output, but the function returned {dtype} values: "
            f"an integer or boolean result has no derivative (JAX refuses this too). Return "
            f"a float (e.g. np.sum(x, dtype=float) or x.astype(float) before reducing) if "
            f"the zero gradient is what you want."
        )
    return value


def grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar function, by reverse mode.

    Parameters
    ----------
    fun : callable
        Returns a scalar (a 0-d array or a number).
    argnums : int or tuple of ints
        Which positional arguments to differentiate with respect to.
    has_aux : bool
        ``fun`` returns ``(value, aux)``; the gradient function returns ``(gradient, aux)``.
    holomorphic : bool
        ``fun`` is complex-differentiable with complex inputs and a complex output; the
        result is the complex derivative ``f'(z)``. Without it the output must be real; a
        complex input ``z = x + iy`` then gets JAX's gradient ``df/dx - i df/dy``
        (``2 conj(z)`` for ``|z|**2``; see the guide's Complex numbers page).

    Returns
    -------
    callable
        Takes ``fun``'s arguments and returns the gradient, shaped like the argument
        (a tuple for tuple ``argnums``).

    Raises
    ------
    NonScalarOutputError
        When ``fun`` returns anything but one scalar.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> f = lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2)
    >>> x1_bar, x2_bar = dualad.grad(f, argnums=(0, 1))(2.0, 5.0)
    >>> float(x1_bar), round(float(x2_bar), 3)
    (5.5, 1.716)
    """
    value_and_gradient = _value_and_grad(fun, argnums, has_aux, "dualad.grad", holomorphic)

    def gradient(*args: Any) -> Any:
        value, g = value_and_gradient(*args)
        return (g, value[1]) if has_aux else g

    return gradient


# --------------------------------------------------------------------------- jacrev


def jacrev(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    chunk_size: int | None = None,
    holomorphic: bool = False,
) -> Callable[..., Any]:
    """The Jacobian of ``fun`` by reverse mode, many rows per backward pass.

    ``fun`` runs once; each backward pass pulls ``k`` unit cotangents back at once (a
    leading batch axis on every cotangent). ``chunk_size`` bounds ``k``; by default all rows
    of an output go in one pass unless the seed would exceed ``DEFAULT_CHUNK_BYTES``. The
    result is the same for every chunk size, and the same as :func:`jacfwd`'s.

    Parameters
    ----------
    fun : callable
    argnums : int or tuple of ints
    has_aux : bool
        ``fun`` returns ``(output, aux)``; the Jacobian function returns ``(jacobian, aux)``.
    chunk_size : int, optional
        Rows per backward pass.
    holomorphic : bool
        ``fun`` is complex-differentiable, with complex inputs and outputs: the result is
        the complex Jacobian. Without it the outputs must be real (as in JAX).

    Returns
    -------
    callable
        Jacobians of shape ``out.shape + in.shape``, arranged like the outputs and, within
        each, like the arguments.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> dualad.jacrev(lambda x: x[::-1] * x)(np.array([1.0, 2.0]))
    array([[2., 1.],
           [2., 1.]])
    """

    def jacobian(*args: Any) -> Any:
        numbers = argnums_tuple(argnums, len(args))
        rec = Recording(fun, args, numbers, isinstance(argnums, (tuple, list)), has_aux,
                        "dualad.jacrev")
        if holomorphic:
            check_holomorphic_inputs(rec.input_primals, arg_paths(args, numbers), "jacrev",
                                     True, True)
        jac_leaves = []
        for j, out in enumerate(rec.out_primals):
            jac_leaves.append(_jacobian_of_output(rec, j, out, chunk_size, holomorphic))
        jac = unflatten(rec.out_tree, jac_leaves)
        return (jac, rec.aux) if has_aux else jac

    return jacobian


def _jacobian_of_output(rec: Recording, j: int, out: Any, chunk_size: int | None,
                        holomorphic: bool = False) -> Any:
    """The Jacobian blocks of output leaf ``j``: its rows pulled back in chunks."""
    out_shape = tuple(np.shape(out))
    m = int(np.prod(out_shape, dtype=np.int64))
    dtype = getattr(out, "dtype", np.dtype(float))
    if dtype.kind == "c" or holomorphic:
        check_holomorphic_output(dtype, f"output {j}", "jacrev", holomorphic)
    elif dtype.kind != "f":
        raise InvalidInputError(
            f"jacrev needs floating-point outputs, but {rec.out_names[j]} has dtype {dtype}: an "
            f"integer or boolean result has no derivative (JAX refuses this too)."
        )
    parts: list[list[Any]] = []
    for start, stop in chunks(m, chunk_size, np.dtype(dtype).itemsize):
        k = stop - start
        seed = np.zeros((k, m), dtype=dtype)
        seed[np.arange(k), np.arange(start, stop)] = 1
        seed = storage.as_library_of(seed, rec.out_primals[j])  # (Dask's for Dask's output)
        seeds = [None] * len(rec.out_primals)
        seeds[j] = seed.reshape((k, *out_shape))
        parts.append(rec.pull(seeds, k))
    blocks = []
    for i, x in enumerate(rec.input_primals):
        rows = [chunk[i] for chunk in parts]
        stacked = rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0)
        blocks.append(finish(owned_array(np.reshape(stacked, out_shape + tuple(np.shape(x))))))
    return unflatten(rec.in_tree, blocks)


def _library_of(value: Any) -> Any:
    """An array of ``value``'s library for NumPy's ``like=`` (a seed of a Dask output is a
    Dask array: NumPy's would make every cotangent after it NumPy's), else an ndarray.

    >>> type(_library_of(np.float64(1.0))).__name__
    'ndarray'
    """
    external = registry.external_value((value,))
    return _NUMPY if external is None else external


_NUMPY = np.empty(0)


__all__ = ["Pullback", "grad", "jacrev", "value_and_grad", "vjp"]

