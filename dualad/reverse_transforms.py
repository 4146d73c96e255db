"""The reverse-mode transforms, with JAX's signatures: ``vjp``, ``grad``, ``value_and_grad``,
``jacrev``, and, forward over reverse, ``hessian`` and ``hvp``.

Each call opens its own tape with a fresh tag (so nested transforms of either mode never
confuse their derivatives), runs the function once on tape arrays, and pulls cotangents back
through :func:`dualad.reverse.backward`, many rows at once for ``jacrev``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import registry
from .errors import (
    InvalidInputError,
    NonScalarOutputError,
    PerturbationConfusionError,
    ShapeMismatchError,
)
from .forward import stack_objects
from .reverse import Tape, TapeArray, backward
from .transforms import (
    _arg_paths,
    _argnums,
    _as_input,
    _chunks,
    _finish,
    _split_aux,
    _strip_level,
    jacfwd,
    jvp,
)
from .tree import flatten, unflatten

# --------------------------------------------------------------------------- recording


class _Recording:
    """``fun`` run once on a fresh tape: its inputs, outputs and the tape behind them."""

    __slots__ = ("tape", "inputs", "in_tree", "out_tree", "out_primals", "out_indices", "aux")

    def __init__(self, fun: Callable[..., Any], args: Sequence[Any], numbers: tuple[int, ...],
                 tuple_argnums: bool, has_aux: bool) -> None:
        chosen = tuple(args[i] for i in numbers)
        leaves, self.in_tree = flatten(chosen if tuple_argnums else chosen[0])
        paths = _arg_paths(chosen, numbers)
        self.tape = tape = Tape()
        self.inputs = [tape.variable(_as_input(x, where)) for x, where in zip(leaves, paths)]
        traced = unflatten(self.in_tree, self.inputs)
        call_args = list(args)
        if tuple_argnums:
            for i, value in zip(numbers, traced):
                call_args[i] = value
        else:
            call_args[numbers[0]] = traced
        self._read_outputs(fun(*call_args), has_aux)

    @classmethod
    def of_output(cls, tape: Tape, inputs: list, in_tree: Any, out: Any,
                  has_aux: bool) -> _Recording:
        """A recording of a function that has already run on ``inputs``."""
        rec = object.__new__(cls)
        rec.tape, rec.inputs, rec.in_tree = tape, inputs, in_tree
        rec._read_outputs(out, has_aux)
        return rec

    def _read_outputs(self, out: Any, has_aux: bool) -> None:
        tape = self.tape
        self.aux = None
        if has_aux:
            out, aux = _split_aux(out)
            self.aux = _strip_level(aux, tape.tag)
        out_leaves, self.out_tree = flatten(out)
        self.out_primals = []
        self.out_indices = []
        for i, leaf in enumerate(out_leaves):
            value, index = _read(leaf, tape, f"output {i}")
            self.out_primals.append(value)
            self.out_indices.append(index)

    def pull(self, seeds: list[Any], k: int) -> list[Any]:
        """Cotangents ``(k,) + x.shape`` of every input for output cotangents ``seeds``
        (one per output leaf, ``(k,) + out.shape``, or None)."""
        pairs = [(index, seed) for index, seed in zip(self.out_indices, seeds)
                 if index is not None and seed is not None]
        wanted = [x.index for x in self.inputs]
        cts = backward(self.tape, pairs, wanted, k) if pairs else [None] * len(wanted)
        return [_zeros(x.primal, k) if ct is None else ct for ct, x in zip(cts, self.inputs)]


def _read(leaf: Any, tape: Tape, where: str) -> tuple[Any, int | None]:
    """An output leaf's primal and its variable on ``tape`` (None for a constant)."""
    if isinstance(leaf, np.ndarray) and leaf.dtype == object:
        leaf = stack_objects(leaf)
    if type(leaf) is TapeArray and leaf.tag == tape.tag:
        return leaf.primal, leaf.index
    if registry.is_traced(leaf):
        if leaf.tag > tape.tag:
            raise PerturbationConfusionError(
                f"{where} is a traced value of a transform that already returned (tag "
                f"{leaf.tag}): a value leaked out of an inner transform, e.g. through a "
                f"global variable. Return it from the inner transform instead."
            )
        return leaf, None
    try:
        value = np.asarray(leaf)
    except Exception:  # noqa: BLE001 - report any unreadable output the same way
        value = np.asarray(None)
    if value.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{where} of the function is a {type(leaf).__name__}, not an array or number: "
            f"only arrays can be differentiated"
        )
    return value, None


def _zeros(x: Any, k: int) -> Any:
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    return np.zeros((k, *np.shape(x)), dtype=dtype)


def _as_cotangent(ct: Any, out: Any, where: str) -> Any:
    """A user's cotangent for an output, checked against its shape and dtype."""
    expected = tuple(np.shape(out))
    if registry.is_traced(ct):
        if tuple(np.shape(ct)) != expected:
            raise ShapeMismatchError(
                f"the cotangent for {where} has shape {np.shape(ct)}, but the output has "
                f"shape {expected}: pass an array of shape {expected}"
            )
        return ct
    try:
        ct = np.asarray(ct)
    except Exception:  # noqa: BLE001
        ct = np.asarray(None)
    if ct.dtype.kind != "f":
        raise ShapeMismatchError(
            f"the cotangent for {where} has dtype {ct.dtype}; cotangents must be floating "
            f"point arrays of the output's shape {expected} (write np.asarray(u, dtype=float))"
        )
    if ct.shape != expected:
        raise ShapeMismatchError(
            f"the cotangent for {where} has shape {ct.shape}, but the output has shape "
            f"{expected}: pass an array of shape {expected}"
        )
    dtype = out.dtype if getattr(out, "dtype", None) is not None and out.dtype.kind == "f" \
        else np.float64
    return ct.astype(dtype, copy=False)


# --------------------------------------------------------------------------- vjp


class Pullback:
    """The vector-Jacobian product function that :func:`vjp` returns.

    Call it with a cotangent of the output's structure and shapes; it returns a tuple with
    one cotangent per primal argument. It may be called any number of times; the tape it
    holds is freed with it.
    """

    __slots__ = ("_recording", "_n_args")

    def __init__(self, recording: _Recording, n_args: int) -> None:
        self._recording = recording
        self._n_args = n_args

    def __call__(self, cotangent: Any) -> tuple[Any, ...]:
        rec = self._recording
        leaves, tree = flatten(cotangent)
        if tree != rec.out_tree:
            raise ShapeMismatchError(
                f"the cotangent must have the structure of the function's output, "
                f"{_describe(rec.out_tree)}; got {_describe(tree)}"
            )
        seeds = [_as_cotangent(ct, out, f"output {i}")[None]
                 for i, (ct, out) in enumerate(zip(leaves, rec.out_primals))]
        cts = rec.pull(seeds, 1)
        return unflatten(rec.in_tree, [_finish(ct[0]) for ct in cts])

    def __repr__(self) -> str:
        return f"<dualad pullback over {self._recording.tape!r}>"


def _describe(tree: Any) -> str:
    """A pytree structure in words: ``a tuple of (an array, a list of (an array))``."""
    if tree.kind == "leaf":
        return "an array"
    if tree.kind == "none":
        return "None"
    if tree.kind == "dict":
        inner = ", ".join(f"{key!r}: {_describe(c)}" for key, c in zip(tree.keys, tree.children))
        return f"a dict {{{inner}}}"
    inner = ", ".join(_describe(c) for c in tree.children)
    return f"a {tree.kind} of ({inner})"


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluate ``fun`` at ``primals`` and return its vector-Jacobian product function.

    Parameters
    ----------
    fun : callable
        Ordinary NumPy code; arguments and results may be arrays, numbers, or nested
        tuples, lists and dicts of them.
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
    rec = _Recording(fun, primals, numbers, True, has_aux)
    out = unflatten(rec.out_tree, [_finish(p) for p in rec.out_primals])
    pullback = Pullback(rec, len(primals))
    return (out, pullback, rec.aux) if has_aux else (out, pullback)


# --------------------------------------------------------------------------- grad


def value_and_grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
) -> Callable[..., Any]:
    """``fun`` and its gradient, in one evaluation and one backward pass.

    ``fun`` must return a scalar (a 0-d array or a number).

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

    def value_and_gradient(*args: Any) -> Any:
        if not has_aux and argnums.__class__ is int and -len(args) <= argnums < len(args) \
                and args[argnums].__class__ in _FLAT_LEAVES:
            return _value_and_grad_flat(fun, args, argnums)
        numbers = _argnums(argnums, len(args))
        rec = _Recording(fun, args, numbers, isinstance(argnums, (tuple, list)), has_aux)
        return _value_and_grad_of(rec, has_aux)

    return value_and_gradient


_FLAT_LEAVES = frozenset((np.ndarray, float, int, np.float64, np.float32))


def _value_and_grad_flat(fun: Callable[..., Any], args: Sequence[Any], argnum: int) -> Any:
    """``value_and_grad`` of one array argument, without pytree bookkeeping when the
    function returns one scalar tape array (the common case)."""
    argnum %= len(args)
    tape = Tape()
    x = tape.variable(_as_input(args[argnum], f"argument {argnum + 1}"))
    call_args = list(args)
    call_args[argnum] = x
    out = fun(*call_args)
    if out.__class__ is TapeArray and out.tag == tape.tag and out.primal.shape == ():
        value = out.primal
        seed = np.ones((1,), dtype=value.dtype)
        ct = backward(tape, [(out.index, seed)], [x.index], 1)[0]
        gradient = _zeros(x.primal, 1)[0] if ct is None else ct[0]
        return _finish(value), _finish(gradient)
    rec = _Recording.of_output(tape, [x], flatten(x)[1], out, False)
    return _value_and_grad_of(rec, False)


def _value_and_grad_of(rec: _Recording, has_aux: bool) -> Any:
    """The value and gradient of a recorded scalar function."""
    value = _scalar_output(rec)
    seed = np.ones((1,), dtype=value.dtype if value.dtype.kind == "f" else np.float64)
    cts = rec.pull([seed], 1)
    gradient = unflatten(rec.in_tree, [_finish(ct[0]) for ct in cts])
    value = _finish(value)
    return ((value, rec.aux), gradient) if has_aux else (value, gradient)


def _scalar_output(rec: _Recording) -> Any:
    if len(rec.out_primals) != 1 or rec.out_tree.kind != "leaf":
        raise NonScalarOutputError(
            f"grad needs a function with one scalar output; this one returned "
            f"{len(rec.out_primals)} arrays in a {rec.out_tree.kind}. Use dualad.jacrev for "
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
    return value


def grad(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
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
    value_and_gradient = value_and_grad(fun, argnums, has_aux)

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
        numbers = _argnums(argnums, len(args))
        rec = _Recording(fun, args, numbers, isinstance(argnums, (tuple, list)), has_aux)
        jac_leaves = []
        for j, out in enumerate(rec.out_primals):
            jac_leaves.append(_jacobian_of_output(rec, j, out, chunk_size))
        jac = unflatten(rec.out_tree, jac_leaves)
        return (jac, rec.aux) if has_aux else jac

    return jacobian


def _jacobian_of_output(rec: _Recording, j: int, out: Any, chunk_size: int | None) -> Any:
    """The Jacobian blocks of output leaf ``j``: its rows pulled back in chunks."""
    out_shape = tuple(np.shape(out))
    m = int(np.prod(out_shape, dtype=np.int64))
    dtype = out.dtype if getattr(out, "dtype", None) is not None and out.dtype.kind == "f" \
        else np.float64
    chunks = _chunks(m, chunk_size, np.dtype(dtype).itemsize)
    parts: list[list[Any]] = []
    for start, stop in chunks:
        k = stop - start
        seed = np.zeros((k, m), dtype=dtype)
        seed[np.arange(k), np.arange(start, stop)] = 1
        seeds = [None] * len(rec.out_primals)
        seeds[j] = seed.reshape((k, *out_shape))
        parts.append(rec.pull(seeds, k))
    blocks = []
    for i, x in enumerate(rec.inputs):
        rows = [chunk[i] for chunk in parts]
        stacked = rows[0] if len(rows) == 1 else np.concatenate(rows, axis=0)
        blocks.append(_finish(np.reshape(stacked, out_shape + tuple(np.shape(x.primal)))))
    return unflatten(rec.in_tree, blocks)


# --------------------------------------------------------------------------- second order


def hessian(
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
) -> Callable[..., Any]:
    """The Hessian of ``fun``: ``jacfwd(jacrev(fun))``, forward over reverse, as in JAX.

    For a scalar ``fun`` of ``x`` the result has shape ``x.shape + x.shape``; in general
    ``out.shape + in.shape + in.shape``, nested like the arguments for tuple ``argnums``.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> dualad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    return jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)


def hvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
    """The Hessian-vector product H·v of a scalar ``fun``, without forming H.

    Forward over reverse: one ``jvp`` of the gradient, about the cost of a few gradient
    evaluations whatever the dimension. ``primals`` and ``tangents`` are tuples (or lists)
    of the same structure; the result is ``sum_j H[i, j] v_j`` for each argument ``i``, a
    single array when there is one argument and a tuple otherwise.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> f = lambda x: np.sum(x ** 3)
    >>> dualad.hvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    array([6., 0.])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise InvalidInputError(
            "hvp(fun, primals, tangents): primals and tangents must be tuples or lists of "
            "arguments, e.g. hvp(f, (x,), (v,))"
        )
    argnums: Any = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(fun, argnums=argnums), tuple(primals), tuple(tangents))[1]


__all__ = ["Pullback", "grad", "hessian", "hvp", "jacrev", "value_and_grad", "vjp"]
