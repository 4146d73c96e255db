"""``odeint`` with SciPy's signature, differentiable in ``y0`` and ``args``.

The solution of ``dy/dt = func(y, t, *args)`` is one primitive (not registered with NumPy:
it is called through this function). Its derivative rules solve ODEs too:

- forward mode integrates the *forward sensitivities* with SciPy's ``odeint``: for each
  direction ``(dy0, dargs)``, ``S(t) = dy(t)`` follows ``S' = J_y f . S + J_args f . dargs``
  with ``S(0) = dy0``; the user's ``func``, evaluated once on dual arrays, gives ``J . S``
  for every direction at once, and the augmented state ``[y, S]`` is solved with the same
  tolerances;
- reverse mode uses the *adjoint method* (as ``jax.experimental.ode.odeint`` does): the
  adjoint ``a`` and the parameters' adjoint follow ``a' = -a . J_y f`` and
  ``a_args' = -a . J_args f``, integrated backwards from each time point to the one before
  (beside ``y``), where that point's cotangent is added; ``a . J`` comes from one reverse
  pass of ``func`` on a tape for every cotangent at once, so the cost does not grow with the
  number of inputs.

Both rules call the primitive again on the augmented system, so derivatives of any order
work (each order enlarges the system). A time grid that is active raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.integrate

from ..dual import Dual
from ..errors import UnsupportedPrimitiveError
from ..registry import Family, Primitive, apply, is_active, strip
from ..tape import Tape, TapeArray, backward

__all__ = ["odeint"]

_OPTIONS = ("rtol", "atol", "tcrit", "h0", "hmax", "hmin", "ixpr", "mxstep", "mxhnil",
            "mxordn", "mxords", "printmessg", "tfirst", "ml", "mu", "Dfun", "col_deriv")


def odeint(func: Any, y0: Any, t: Any, args: tuple = (), Dfun: Any = None, col_deriv: int = 0,
           full_output: int = 0, ml: Any = None, mu: Any = None, rtol: Any = None,
           atol: Any = None, tcrit: Any = None, h0: float = 0.0, hmax: float = 0.0,
           hmin: float = 0.0, ixpr: int = 0, mxstep: int = 0, mxhnil: int = 0,
           mxordn: int = 12, mxords: int = 5, printmessg: int = 0, tfirst: bool = False) -> Any:
    """Solve ``dy/dt = func(y, t, *args)`` at the times ``t``, like ``scipy.integrate.odeint``.

    ``y0`` and the entries of ``args`` may be active (``func`` must then be written with
    NumPy, as for any function dualad differentiates); the times ``t`` may not.
    ``full_output`` is refused for active arguments (its diagnostics have no derivative).

    Examples
    --------
    >>> import numpy as np, dualad
    >>> from dualad.scipy.integrate import odeint
    >>> def decay(k):  # y' = -k y, y(0) = 1: y(1) = exp(-k)
    ...     return odeint(lambda y, t, k: -k * y, np.array([1.0]), [0.0, 1.0], args=(k,),
    ...                   rtol=1e-10, atol=1e-12)[-1, 0]
    >>> bool(np.isclose(dualad.grad(decay)(0.5), -np.exp(-0.5)))
    True
    """
    args = args if isinstance(args, tuple) else (args,)
    options = {name: value for name, value in dict(
        Dfun=Dfun, col_deriv=col_deriv, ml=ml, mu=mu, rtol=rtol, atol=atol, tcrit=tcrit,
        h0=h0, hmax=hmax, hmin=hmin, ixpr=ixpr, mxstep=mxstep, mxhnil=mxhnil, mxordn=mxordn,
        mxords=mxords, printmessg=printmessg, tfirst=tfirst).items()}
    if is_active(t) or (isinstance(t, (list, tuple)) and any(map(is_active, t))):
        raise UnsupportedPrimitiveError(
            "scipy.integrate.odeint (dualad.scipy.integrate.odeint): the derivative with "
            "respect to the time points t is not supported; pass them as plain numbers "
            "(dualad.primal(t)), or rescale time with a parameter of func (y' = T f(y, s T) "
            "on s in [0, 1]) to differentiate a duration.")
    if not (is_active(y0) or any(map(is_active, args))):
        return scipy.integrate.odeint(func, y0, t, args, full_output=full_output, **options)
    if full_output:
        raise UnsupportedPrimitiveError(
            "scipy.integrate.odeint(..., full_output=1) with active arguments: the solver's "
            "diagnostics have no derivative. Call it without full_output.")
    y0 = y0 if is_active(y0) else np.asarray(y0, dtype=np.float64)
    if np.ndim(y0) != 1:
        y0 = np.reshape(y0, (-1,))
    rhs = _swap(func) if tfirst else func
    options = {**options, "tfirst": False, "Dfun": None, "col_deriv": 0}
    return apply(ODEINT, (y0, *args), {"func": rhs, "t": np.asarray(t, dtype=np.float64),
                                       "options": options})


def _swap(func: Any) -> Any:
    return lambda y, t, *args: func(t, y, *args)


def _impl(y0: Any, *args: Any, func: Any, t: np.ndarray, options: dict) -> Any:
    if is_active(y0) or any(map(is_active, args)):  # an outer transform's values
        return apply(ODEINT, (y0, *args), {"func": func, "t": t, "options": options})
    return scipy.integrate.odeint(func, y0, t, args, **options)


def _state(value: Any, n: int) -> Any:
    """What ``func`` returned (an array, or a list of numbers and active scalars) as a
    vector of ``n`` entries."""
    if isinstance(value, (list, tuple)):
        value = np.stack([np.reshape(v, ()) for v in value])
    return np.reshape(value, (n,))


def _augmented(func: Any, n: int, k: int, seeded: tuple[bool, ...]) -> Any:
    """The right-hand side of ``[y, S]`` for ``k`` directions; its arguments are the
    original ``args`` followed by the tangents of those marked in ``seeded``."""
    count = len(seeded)

    def rhs(z: Any, t: Any, *rest: Any) -> Any:
        args, dargs = rest[:count], iter(rest[count:])
        y = Dual(z[:n], np.reshape(z[n:], (k, n)))
        tag = y.tag
        args = tuple(Dual(a, next(dargs), tag) if s else a for a, s in zip(args, seeded))
        out = _state(func(y, t, *args), n)
        if isinstance(out, Dual) and out.tag == tag:
            value, tangent = out.primal, out.tangent
        else:  # func does not depend on y or the seeded args
            value, tangent = out, np.zeros((k, n))
        return np.concatenate([value, np.reshape(tangent, (-1,))])

    return rhs


def _pushforward(y0: Any, args: tuple, dy0: Any, dargs: tuple, func: Any, t: np.ndarray,
                 options: dict) -> Any:
    """The tangents ``(k, len(t), n)`` of the solution in the directions ``dy0``, ``dargs``
    (``None`` for a constant)."""
    n = np.shape(y0)[0]
    k = next(np.shape(d)[0] for d in (dy0, *dargs) if d is not None)
    seeded = tuple(d is not None for d in dargs)
    dy0 = np.zeros((k, n)) if dy0 is None else dy0
    z0 = np.concatenate([y0, np.reshape(dy0, (-1,))])
    extra = tuple(d for d in dargs if d is not None)
    z = apply(ODEINT, (z0, *args, *extra), {"func": _augmented(func, n, k, seeded), "t": t,
                                            "options": options})
    return np.transpose(np.reshape(z[:, n:], (len(t), k, n)), (1, 0, 2))


def _jvp_all(dxs: tuple, y0: Any, *args: Any, out: Any, func: Any, t: np.ndarray,
             options: dict) -> Any:
    return _pushforward(y0, args, dxs[0], dxs[1:], func, t, options)


def _wanted(args: tuple) -> list[bool]:
    """Which ``args`` can carry a derivative: real arrays and numbers."""
    wanted = []
    for a in args:
        values = strip(a)
        wanted.append(isinstance(values, (np.ndarray, float, np.floating))
                      and np.asarray(values).dtype.kind == "f")
    return wanted


def _pullback_rhs(func: Any, n: int, k: int, shapes: list) -> Any:
    """The adjoint system, for ``k`` cotangents at once: the state is ``[y, a, a_args]``
    with ``y' = f``, ``a' = -a . J_y f`` and ``a_args' = -a . J_args f`` (``shapes``: the
    shape of each arg's adjoint, None for an arg without one)."""
    sizes = [n, k * n] + [k * int(np.prod(s)) for s in shapes if s is not None]

    def rhs(z: Any, t: Any, *args: Any) -> Any:
        y, a = z[:n], np.reshape(z[n:n + k * n], (k, n))
        tape = Tape()
        y_var = tape.variable(y)
        arg_vars = [tape.variable(x) if s is not None else x for x, s in zip(args, shapes)]
        try:
            out = _state(func(y_var, t, *arg_vars), n)
        finally:
            tape.close()
        wanted = [y_var, *(v for v, s in zip(arg_vars, shapes) if s is not None)]
        if isinstance(out, TapeArray) and out.tag == tape.tag:
            value = out.primal
            cts = backward(tape, [(out.index, a)], [v.index for v in wanted], k)
        else:  # f depends on neither y nor the args
            value, cts = out, [None] * len(wanted)
        parts = [value] + [np.reshape(-ct, (-1,)) if ct is not None else np.zeros(size)
                           for ct, size in zip(cts, sizes[1:])]
        return np.concatenate(parts)

    return rhs


def _vjp_all(ct: Any, y0: Any, *args: Any, out: Any, func: Any, t: np.ndarray,
             options: dict) -> tuple:
    """The adjoint method (as JAX's odeint): the adjoint state is integrated backwards from
    each time point to the one before, where that point's cotangent is added; its cost does
    not grow with the number of inputs."""
    n, k = np.shape(y0)[0], np.shape(ct)[0]
    shapes = [np.shape(a) if w else None for a, w in zip(args, _wanted(args))]
    rhs = _pullback_rhs(func, n, k, shapes)
    a = ct[:, -1]
    a_args = [np.zeros((k, *s)) for s in shapes if s is not None]
    for i in range(len(t) - 1, 0, -1):
        z0 = np.concatenate([out[i], np.reshape(a, (-1,)),
                             *(np.reshape(b, (-1,)) for b in a_args)])
        z = apply(ODEINT, (z0, *args), {"func": rhs, "t": t[i - 1:i + 1][::-1],
                                         "options": options})[-1]
        a = np.reshape(z[n:n + k * n], (k, n)) + ct[:, i - 1]
        start, a_args = n + k * n, list(a_args)
        for j, b in enumerate(a_args):
            size = int(np.prod(np.shape(b)))
            a_args[j] = np.reshape(z[start:start + size], np.shape(b))
            start += size
    adjoints = iter(a_args)
    return (a, *(next(adjoints) if s is not None else None for s in shapes))


ODEINT = Primitive(
    name="scipy.integrate.odeint", impl=_impl, jvp=None, jvp_all=_jvp_all, vjp=None,
    vjp_all=_vjp_all, numpy=(), split_args=None, elementwise=False, multiple_results=False,
    nin=None, domain=None, examples=(), family=Family("scipy"), checked=False,
    doc="y(t) solving y' = func(y, t, *args); d/dy0 and d/dargs by forward sensitivities "
        "(jvp) and the adjoint method (vjp)",
)
"""The primitive behind :func:`odeint`; it is not in the registry, since no NumPy callable
dispatches to it (its rules are tested by tests/test_scipy_integrate.py)."""
