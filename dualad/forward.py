"""Forward mode: the dual array.

A :class:`Dual` holds a primal array and a tangent with one extra leading axis for the
directions, ``tangent.shape == (k,) + primal.shape``, so every NumPy call carries ``k``
Jacobian columns at once. The NumPy protocols are :class:`~dualad._traced.TracedArray`'s;
this module applies a primitive's JVP rules at a dual array's level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import registry
from ._batch import pad_tangent
from ._traced import _NO_PARAMS, TracedArray, not_differentiable, primal, stack_objects
from .errors import ShapeMismatchError
from .registry import Primitive, apply, strip


class Dual(TracedArray):
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

    __slots__ = ("primal", "tangent", "tag", "_view")

    def __init__(self, primal: Any, tangent: Any, tag: int | None = None) -> None:
        primal = primal if registry.is_traced(primal) else np.asarray(primal)
        tangent = tangent if registry.is_traced(tangent) else np.asarray(tangent)
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
        primals = [x.primal if type(x) is Dual and x.tag == tag else x for x in xs]
        out = prim.impl(*primals, **params)
        if prim.jvp is not None and not prim.multiple_results:
            return _apply_rules(prim, xs, primals, out, params, tag)
        tangents = [x.tangent if type(x) is Dual and x.tag == tag else None for x in xs]
        k = next(t.shape[0] for t in tangents if t is not None)
        if prim.jvp_all is not None:
            tangent = prim.jvp_all(tuple(tangents), *primals, out=out, **params)
        else:
            tangent = _sum_rules(prim, primals, tangents, out, params)
        if not prim.multiple_results:
            return _wrap(out, tangent, tag, k)
        results = [_wrap(o, t, tag, k) for o, t in zip(out, tangent)]
        if hasattr(out, "_fields"):  # keep NumPy's named results (eigh, slogdet, svd)
            return type(out)(*results)
        return tuple(results) if isinstance(out, tuple) else results

    def _index_basic(self, key: Any) -> Dual:
        # an int or slice indexes the tangent behind its direction axis directly
        return Dual._make(self.primal[key], self.tangent[:, key], self.tag)

    def __repr__(self) -> str:
        primal = np.array2string(np.asarray(strip(self)), separator=", ", threshold=20)
        tangent = np.array2string(np.asarray(strip(self.tangent)), separator=", ", threshold=20)
        return f"Dual(primal={primal},\n     tangent={tangent}, tag={self.tag})"

    def __str__(self) -> str:
        return f"Dual({strip(self)}, tangent={strip(self.tangent)})"




# --------------------------------------------------------------------------- engine helpers


def _apply_rules(prim: Primitive, xs: Any, primals: list, out: Any, params: dict,
                 tag: int) -> Any:
    """The hot path: per-argument rules, one result. Contributions of nonzero tangents add."""
    out_ndim = getattr(out, "ndim", 0) if prim.elementwise else -1
    rules = prim.jvp
    total = None
    k = 0
    for i, x in enumerate(xs):
        if type(x) is not Dual or x.tag != tag:
            continue
        dx = x.tangent
        k = dx.shape[0]
        rule = rules[i]
        if rule is None:
            raise not_differentiable(prim, i)
        if dx.ndim <= out_ndim:
            dx = pad_tangent(dx, out_ndim)
        part = rule(dx, *primals, out=out, **params)
        total = part if total is None else total + part
    return _wrap(out, total, tag, k)


def _elementwise(prim: Primitive, xs: tuple) -> Any:
    """The hot path of ufuncs and operators: ``registry.apply`` and ``_apply_rules`` fused.

    Falls back to ``registry.apply`` when a traced value of another kind (reverse mode)
    takes part, so that the highest level still does the work.
    """
    tag = -1
    for x in xs:
        if type(x) is Dual:
            if x.tag > tag:
                tag = x.tag
        elif type(x) not in _FAST_TYPES and registry.is_traced(x):
            return apply(prim, xs, _NO_PARAMS)
    if tag < 0:
        return prim.impl(*xs)
    if len(xs) == 1:  # unary ufuncs: no bookkeeping at all
        x = xs[0]
        primal = x.primal
        out = prim.impl(primal)
        rule = prim.jvp[0]
        tangent = rule(x.tangent, primal, out=out)
        if tangent.shape[1:] != out.shape or tangent.dtype is not out.dtype:
            return _wrap(out, tangent, tag, x.tangent.shape[0])
        return Dual._make(out, tangent, tag)
    if len(xs) == 2:  # binary ufuncs and operators
        return _binary_rules(prim, xs[0], xs[1], tag)
    active = []
    primals = []
    for i, x in enumerate(xs):
        if type(x) is Dual and x.tag == tag:
            active.append(i)
            primals.append(x.primal)
        else:
            primals.append(x)
    out = prim.impl(*primals)
    out_ndim = out.ndim
    rules = prim.jvp
    total = None
    for i in active:
        dx = xs[i].tangent
        rule = rules[i]
        if rule is None:
            raise not_differentiable(prim, i)
        if dx.ndim <= out_ndim:
            dx = pad_tangent(dx, out_ndim)
        part = rule(dx, *primals, out=out)
        total = part if total is None else total + part
    if total.shape[1:] != out.shape or total.dtype is not out.dtype:
        return _wrap(out, total, tag, xs[active[0]].tangent.shape[0])
    return Dual._make(out, total, tag)


def _binary_rules(prim: Primitive, a: Any, b: Any, tag: int) -> Any:
    """``_elementwise`` for two arguments, without lists: the common ``x * y``, ``x + 1``."""
    a_active = type(a) is Dual and a.tag == tag
    b_active = type(b) is Dual and b.tag == tag
    pa = a.primal if a_active else a
    pb = b.primal if b_active else b
    out = prim.impl(pa, pb)
    out_ndim = out.ndim
    if a_active and b_active and prim.jvp_fused is not None:
        da, db = a.tangent, b.tangent
        total = prim.jvp_fused((pad_tangent(da, out_ndim) if da.ndim <= out_ndim else da,
                                pad_tangent(db, out_ndim) if db.ndim <= out_ndim else db),
                               pa, pb, out=out)
        if total.shape[1:] != out.shape or total.dtype is not out.dtype:
            return _wrap(out, total, tag, da.shape[0])
        return Dual._make(out, total, tag)
    rule_a, rule_b = prim.jvp
    total = None
    if a_active:
        if rule_a is None:
            raise not_differentiable(prim, 0)
        da = a.tangent
        k = da.shape[0]
        total = rule_a(pad_tangent(da, out_ndim) if da.ndim <= out_ndim else da, pa, pb, out=out)
    if b_active:
        if rule_b is None:
            raise not_differentiable(prim, 1)
        db = b.tangent
        k = db.shape[0]
        part = rule_b(pad_tangent(db, out_ndim) if db.ndim <= out_ndim else db, pa, pb, out=out)
        total = part if total is None else _accumulate(total, part, a.tangent)
    if total.shape[1:] != out.shape or total.dtype is not out.dtype:
        return _wrap(out, total, tag, k)
    return Dual._make(out, total, tag)


def _accumulate(total: Any, part: Any, alias: Any) -> Any:
    """``total + part``, in place when ``total`` is a new array of the result's shape.

    A rule may return its input tangent itself (``add``'s does), so ``total`` is only
    written to when it is not that tangent; a new array saves a large allocation (for 2**20
    values: 8 MiB and about 2000 page faults).
    """
    if (total.__class__ is np.ndarray and part.__class__ is np.ndarray
            and total is not alias and total.base is None and total.shape == part.shape
            and total.dtype == np.result_type(total, part)):
        total += part
        return total
    return total + part


def _sum_rules(prim: Primitive, primals: list, tangents: list, out: Any, params: dict) -> Any:
    """Add up the per-argument JVP contributions (tuples of them for several results)."""
    total = None
    out_ndim = getattr(out[0], "ndim", 0) if prim.elementwise else -1
    for i, rule in enumerate(prim.jvp):
        dx = tangents[i]
        if dx is None:
            continue
        if rule is None:
            raise not_differentiable(prim, i)
        if dx.ndim <= out_ndim:
            dx = pad_tangent(dx, out_ndim)
        part = rule(dx, *primals, out=out, **params)
        total = part if total is None else tuple(
            a if b is None else b if a is None else a + b for a, b in zip(total, part)
        )
    return total


def _wrap(out: Any, tangent: Any, tag: int, k: int) -> Any:
    """Package a primitive's output as a Dual, or return it plain when it has no tangent."""
    if tangent is None:
        return out
    shape = getattr(out, "shape", None)
    if shape is None:  # a Python number from a user's impl
        out = np.asarray(out)
        shape = out.shape
    if tangent.shape != (k, *shape):
        tangent = np.broadcast_to(tangent, (k, *shape))
    if tangent.dtype is not out.dtype and tangent.dtype != out.dtype:
        if out.dtype.kind not in "fc":
            return out  # integer or boolean results carry no derivative
        if not registry.is_traced(tangent):
            tangent = tangent.astype(out.dtype, copy=False)
    return Dual._make(out, tangent, tag)


registry.register_traced_type(Dual)
Dual._elementwise = staticmethod(_elementwise)  # type: ignore[method-assign]
Dual._fast_types = _FAST_TYPES = frozenset((Dual, float, int, np.float64, np.float32))

__all__ = ["Dual", "primal", "stack_objects"]
