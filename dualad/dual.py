"""Forward mode: the dual array.

A :class:`Dual` holds a primal array and a tangent with one extra leading axis for the
directions, ``tangent.shape == (k,) + primal.shape``, so every NumPy call carries ``k``
Jacobian columns at once. The NumPy protocols are :class:`~dualad.active.ActiveArray`'s;
this module applies a primitive's JVP rules at a dual array's level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import registry
from ._rule_checks import check_complex, check_rule_result, check_rule_results, is_complex
from .active import (
    _NO_PARAMS,
    ActiveArray,
    check_constant,
    link_if_view,
    link_view,
    not_differentiable,
    primal,
    stack_objects,
    stale_class,
)
from .axes import pad_tangent
from .errors import ShapeMismatchError
from .registry import Primitive, apply, strip


class Dual(ActiveArray):
    """An array of dual numbers: ``primal`` and ``tangent`` (directions on axis 0).

    Dual arrays flow through ordinary NumPy code: ufuncs, most NumPy functions, operators,
    indexing and the usual ndarray methods return dual arrays. Comparisons return plain
    boolean arrays of the primal, so data-dependent control flow works.

    Parameters
    ----------
    primal : array_like
        The values.
    tangent : array_like
        Derivatives, shape ``(k,) + primal.shape`` for ``k`` directions.
    tag : int, optional
        The transform this dual number belongs to; a fresh one by default.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> d = dualad.Dual(np.array([1.0, 2.0]), np.array([[1.0, 1.0]]))
    >>> y = np.sin(d) * 2
    >>> y.primal.round(3), y.tangent.round(3)
    (array([1.683, 1.819]), array([[ 1.081, -0.832]]))
    """

    __slots__ = ("primal", "tangent", "tag", "_views", "__weakref__")
    _contents = ("primal", "tangent", "tag")

    def __init__(self, primal: Any, tangent: Any, tag: int | None = None) -> None:
        primal = primal if registry.is_active(primal) else np.asarray(primal)
        tangent = tangent if registry.is_active(tangent) else np.asarray(tangent)
        if tangent.dtype.kind == "c" and primal.dtype.kind != "c":
            raise ShapeMismatchError(
                f"a Dual's tangent has the primal's dtype (JAX's convention): a real primal "
                f"of dtype {primal.dtype} takes real tangents, not {tangent.dtype}"
            )
        if primal.dtype.kind == "c" and tangent.dtype.kind != "c":
            tangent = tangent.astype(primal.dtype)
        if np.ndim(tangent) != np.ndim(primal) + 1 or np.shape(tangent)[1:] != np.shape(primal):
            raise ShapeMismatchError(
                f"a Dual's tangent must have shape (k,) + primal.shape = (k,) + "
                f"{np.shape(primal)}, got {np.shape(tangent)}"
            )
        self.primal = primal
        self.tangent = tangent
        self.tag = registry.new_tag() if tag is None else tag

    # -- construction without checks, for the engine's hot path
    @classmethod
    def _make(cls, primal: Any, tangent: Any, tag: int) -> Dual:
        d = object.__new__(cls)
        d.primal = primal
        d.tangent = tangent
        d.tag = tag
        return d

    # -- the engine ---------------------------------------------------------------------
    @staticmethod
    def _dualad_apply(prim: Primitive, xs: Any, params: dict[str, Any], tag: int) -> Any:
        """Apply ``prim`` at level ``tag``: values of other levels are constants here."""
        primals = []
        tangents = []
        k = 0
        for x in xs:
            if type(x) is Dual and x.tag == tag:
                primals.append(x.primal)
                tangents.append(x.tangent)
                k = x.tangent.shape[0]
            else:
                primals.append(x)
                tangents.append(None)
        out = prim.impl(*primals, **params)
        if not prim.complex_rules:
            check_complex(prim, primals, out)
        result = package(prim, out, tangent_of(prim, primals, tangents, out, params), tag, k)
        if not prim.elementwise:  # NumPy may have returned a view of an input
            for part in (result if prim.multiple_results else (result,)):
                link_if_view(part, xs, tag)
        return result

    def _index_basic(self, key: Any) -> Dual:
        # an int or slice indexes the tangent behind its direction axis directly; NumPy
        # returns a view
        part = Dual._make(self.primal[key], self.tangent[:, key], self.tag)
        if part.primal.ndim:
            link_view(part, self)
        return part

    def __repr__(self) -> str:
        primal = np.array2string(np.asarray(strip(self)), separator=", ", threshold=20)
        tangent = np.array2string(np.asarray(strip(self.tangent)), separator=", ", threshold=20)
        return f"Dual(primal={primal},\n     tangent={tangent}, tag={self.tag})"

    def __str__(self) -> str:
        return f"Dual({strip(self)}, tangent={strip(self.tangent)})"




# --------------------------------------------------------------------------- engine helpers


def tangent_of(prim: Primitive, primals: Any, tangents: Any, out: Any, params: dict) -> Any:
    """The tangent of ``out = prim(*primals, **params)`` from the inputs' ``tangents``.

    ``tangents`` holds one ``(k,) + shape`` array per argument, ``None`` for a constant; the
    result is the sum of the rules' contributions (a tuple of them, ``None`` where a result
    gets none, for several results), not yet fitted to ``out``: see :func:`fit_tangent`.
    This is the one place where per-argument JVP rules are summed; the elementwise hot paths
    below are its specialisations for one and two arguments.
    """
    if prim.jvp_all is not None:
        total = prim.jvp_all(tuple(tangents), *primals, out=out, **params)
        if prim.checked and prim.multiple_results:
            check_rule_results(prim, "jvp", total, len(out))
        elif total is None and prim.checked:
            k = next(t.shape[0] for t in tangents if t is not None)
            check_rule_result(prim, "jvp", None, total, (k, *np.shape(out)))
        return total
    out_ndim = (getattr(out[0] if prim.multiple_results else out, "ndim", 0)
                if prim.elementwise else -1)
    rules = prim.jvp
    total = None
    for i, dx in enumerate(tangents):
        if dx is None:
            continue
        rule = rules[i]
        if rule is None:
            raise not_differentiable(prim, i)
        if dx.ndim <= out_ndim:
            dx = pad_tangent(dx, out_ndim)
        part = rule(dx, *primals, out=out, **params)
        if part is None and prim.checked and not prim.multiple_results:
            check_rule_result(prim, "jvp", i, part, (dx.shape[0], *np.shape(out)))
        if prim.multiple_results:
            if prim.checked:
                check_rule_results(prim, "jvp", part, len(out))
            total = part if total is None else tuple(
                a if b is None else b if a is None else a + b for a, b in zip(total, part))
        else:
            total = part if total is None else total + part
    return total


def fit_tangent(prim: Primitive, out: Any, tangent: Any, k: int) -> Any:
    """``tangent`` as ``(k,) + out.shape`` in ``out``'s dtype, or None when ``out`` carries no
    derivative (an integer or boolean result). A user's rule must return exactly that shape;
    dualad's own may return one that broadcasts to it."""
    shape = getattr(out, "shape", None)
    if shape is None:  # a Python number from a user's impl
        out = np.asarray(out)
        shape = out.shape
    kind = out.dtype.kind
    if kind != "f" and kind != "c":
        return None  # integer or boolean results carry no derivative
    if kind == "f" and is_complex(tangent):
        raise ShapeMismatchError(
            f"primitive {prim.name!r}: its jvp rule returned complex tangents for a real "
            f"result; tangents have the result's dtype (JAX's convention), so a real-valued "
            f"function of complex values takes the real part in its rule (np.real)"
        )
    if prim.checked:
        check_rule_result(prim, "jvp", None, tangent, (k, *shape),
                          broadcast="up" if prim.elementwise else None)
    if tangent.shape != (k, *shape):
        tangent = np.broadcast_to(tangent, (k, *shape))
    if tangent.dtype is not out.dtype and tangent.dtype != out.dtype \
            and not registry.is_active(tangent):
        tangent = tangent.astype(out.dtype, copy=False)
    return tangent


def package(prim: Primitive, out: Any, tangent: Any, tag: int, k: int) -> Any:
    """A primitive's output(s) as Duals at level ``tag`` (plain where no derivative)."""
    if not prim.multiple_results:
        return _wrap(prim, out, tangent, tag, k)
    if tangent is None:
        tangent = (None,) * len(out)
    results = [_wrap(prim, o, t, tag, k) for o, t in zip(out, tangent)]
    if hasattr(out, "_fields"):  # keep NumPy's named results (eigh, slogdet, svd)
        return type(out)(*results)
    return tuple(results) if isinstance(out, tuple) else results


def _wrap(prim: Primitive, out: Any, tangent: Any, tag: int, k: int) -> Any:
    """One output as a Dual, or plain when it has no tangent."""
    if tangent is None:
        return out
    tangent = fit_tangent(prim, out, tangent, k)
    if tangent is None:
        return out
    return Dual._make(out if getattr(out, "shape", None) is not None else np.asarray(out),
                      tangent, tag)


def _elementwise(prim: Primitive, xs: tuple) -> Any:
    """The hot path of ufuncs and operators: ``registry.apply`` and ``tangent_of`` fused.

    Falls back to ``registry.apply`` when an active value of another kind (reverse mode)
    takes part, so that the highest level still does the work.
    """
    # The level scan is written out here and in tape._elementwise on purpose: it runs on
    # every operation, and a shared helper would add a call to each.
    try:
        tag = -1
        for x in xs:
            kind = x.__class__
            if kind is Dual:
                if x.tag > tag:
                    tag = x.tag
            elif kind is not np.ndarray and kind not in _FAST_TYPES:
                if registry.is_active(x):
                    return apply(prim, xs, _NO_PARAMS)
                check_constant(x, prim)
        if tag < 0:
            return prim.impl(*xs)
        if len(xs) == 1:  # unary ufuncs: no bookkeeping at all
            x = xs[0]
            primal = x.primal
            out = prim.impl(primal)
            if not prim.complex_rules:
                check_complex(prim, (primal,), out)
            tangent = prim.jvp[0](x.tangent, primal, out=out)
            if prim.checked or tangent.shape[1:] != out.shape or tangent.dtype is not out.dtype:
                return _wrap(prim, out, tangent, tag, x.tangent.shape[0])
            return Dual._make(out, tangent, tag)
        if len(xs) == 2:  # binary ufuncs and operators
            return _binary_rules(prim, xs[0], xs[1], tag)
        return Dual._dualad_apply(prim, xs, _NO_PARAMS, tag)
    except registry.LIBRARY_ERRORS as error:
        converted = registry.elementwise_library_error(prim, xs, error)
        if converted is None:
            raise
        raise converted from error


def _binary_rules(prim: Primitive, a: Any, b: Any, tag: int) -> Any:
    """``_elementwise`` for two arguments, without lists: the common ``x * y``, ``x + 1``."""
    a_active = type(a) is Dual and a.tag == tag
    b_active = type(b) is Dual and b.tag == tag
    pa = a.primal if a_active else a
    pb = b.primal if b_active else b
    out = prim.impl(pa, pb)
    if not prim.complex_rules:
        check_complex(prim, (pa, pb), out)
    da = a.tangent if a_active else None
    db = b.tangent if b_active else None
    total = binary_tangent(prim, pa, pb, da, db, out)
    if prim.checked or total.shape[1:] != out.shape or total.dtype is not out.dtype:
        return _wrap(prim, out, total, tag, (db if da is None else da).shape[0])
    return Dual._make(out, total, tag)


def binary_tangent(prim: Primitive, pa: Any, pb: Any, da: Any, db: Any, out: Any) -> Any:
    """The tangent of ``out = prim(pa, pb)``, an elementwise primitive of two arguments,
    from their tangents (``None`` for a constant): :func:`tangent_of` for the common case,
    with the fused rule where both have tangents and sums formed in place in new arrays."""
    out_ndim = out.ndim
    if da is not None and db is not None and prim.jvp_fused is not None:
        return prim.jvp_fused((pad_tangent(da, out_ndim) if da.ndim <= out_ndim else da,
                               pad_tangent(db, out_ndim) if db.ndim <= out_ndim else db),
                              pa, pb, out=out)
    rule_a, rule_b = prim.jvp
    total = None
    if da is not None:
        if rule_a is None:
            raise not_differentiable(prim, 0)
        total = rule_a(pad_tangent(da, out_ndim) if da.ndim <= out_ndim else da, pa, pb, out=out)
    if db is not None:
        if rule_b is None:
            raise not_differentiable(prim, 1)
        part = rule_b(pad_tangent(db, out_ndim) if db.ndim <= out_ndim else db, pa, pb, out=out)
        if total is None:
            total = part
        elif prim.checked:
            k = db.shape[0]
            check_rule_result(prim, "jvp", 0, total, (k, *out.shape), broadcast="up")
            check_rule_result(prim, "jvp", 1, part, (k, *out.shape), broadcast="up")
            total = total + part
        else:
            total = _accumulate(total, part, da)
    return total


def _accumulate(total: Any, part: Any, alias: Any) -> Any:
    """``total + part``, in place when ``total`` is a new array of the result's shape.

    A rule may return its input tangent itself (``add``'s does), so ``total`` is only
    written to when it is not that tangent; a new array saves a large allocation (for 2**20
    values: 8 MiB and about 2000 page faults). Only dualad's own rules get here: a user's
    rule might return an array it keeps.
    """
    # (dualad.compile's traced arrays take the same path: the result's layout decides the
    # order of a later sum's additions)
    held, added = _held(total), _held(part)
    if (held.__class__ is np.ndarray and added.__class__ is np.ndarray
            and (part.__class__ is np.ndarray or registry.is_array(total))
            and total is not alias and held.base is None and held.shape == added.shape
            and held.dtype == np.result_type(held, added)):
        total += part
        return total
    return total + part


def _held(x: Any) -> Any:
    """The ndarray an array of a registered kind holds (for its flags), else ``x``."""
    return registry.array_kind(x).memory(x) if registry.is_array(x) else x


registry.register_active_type(Dual)
Dual._stale_class = stale_class(Dual)
Dual._elementwise = staticmethod(_elementwise)  # type: ignore[method-assign]
Dual._fast_types = _FAST_TYPES = frozenset((Dual, float, int, np.float64, np.float32))

__all__ = ["Dual", "primal", "stack_objects"]
