"""Forward mode: the dual array and its NumPy protocols.

A :class:`Dual` holds a primal array and a tangent with one extra leading axis for the
directions, ``tangent.shape == (k,) + primal.shape``, so every NumPy call carries ``k``
Jacobian columns at once. NumPy hands ufuncs to ``__array_ufunc__`` and functions to
``__array_function__``; both look the callable up in the registry and apply its rules.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import registry
from ._batch import pad_tangent
from .errors import ConversionError, ShapeMismatchError, UnsupportedPrimitiveError
from .registry import NONDIFF, NUMPY_TABLE, Composite, Primitive, apply, strip, unsupported

# ufunc methods other than __call__ that have a meaning for dual arrays, as NumPy functions
# with the ufunc method's default axis.
_UFUNC_METHODS: dict[tuple[Any, str], tuple[Any, Any]] = {
    (np.add, "reduce"): (np.sum, 0),
    (np.multiply, "reduce"): (np.prod, 0),
    (np.maximum, "reduce"): (np.max, 0),
    (np.minimum, "reduce"): (np.min, 0),
    (np.add, "accumulate"): (np.cumsum, 0),
    (np.multiply, "accumulate"): (np.cumprod, 0),
}


class Dual:
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
    __array_priority__ = 1000
    __hash__ = None  # type: ignore[assignment]  # like ndarray: mutable-looking, unhashable

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

    # -- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        collect = False
        for x in inputs:
            kind = type(x)
            if kind is np.ndarray:
                collect = collect or x.dtype.hasobject
            elif kind not in _FAST_TYPES and not _known(x):
                return NotImplemented
        if collect:
            inputs = tuple(map(_collect_objects, inputs))
        if kwargs:
            if kwargs.pop("out", None) is not None:
                raise _out_error(ufunc)
        if method != "__call__":
            return _ufunc_method(ufunc, method, inputs, kwargs)
        return _call_ufunc(ufunc, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        for kind in types:
            if kind is not Dual and not issubclass(kind, (np.ndarray, *registry.traced_types())):
                return NotImplemented
        return call_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # A scalar dual may sit in an object array (np.array([[d00, d01], [d10, d11]]), as
        # seed 004 writes); dualad turns such arrays back into dual arrays when they meet a
        # NumPy function. Anything numeric would drop the tangent, so it raises.
        # np.array(d) asks for a copy (copy=True); list elements and np.asarray do not.
        if self.ndim == 0 and copy is not True and (dtype is None or np.dtype(dtype) == object):
            holder = np.empty((), dtype=object)
            holder[()] = self
            return holder
        raise ConversionError(
            "np.asarray/np.array of a dual array would drop its derivative. Keep the value "
            "as it is (NumPy functions accept dual arrays), or write dualad.primal(x) if "
            "you want the values only."
        )

    # -- ndarray attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The primal's shape."""
        return self.primal.shape

    @property
    def ndim(self) -> int:
        """The primal's number of dimensions."""
        return self.primal.ndim

    @property
    def size(self) -> int:
        """The primal's number of elements."""
        return self.primal.size

    @property
    def dtype(self) -> np.dtype:
        """The primal's dtype."""
        return self.primal.dtype

    @property
    def T(self) -> Dual:
        """The transpose, like ``ndarray.T``."""
        return np.transpose(self)

    @property
    def mT(self) -> Dual:
        """Transpose of the last two axes, like ``ndarray.mT``."""
        return np.swapaxes(self, -1, -2)

    @property
    def real(self) -> Dual:
        """The real part: the dual array itself (dualad is real-valued)."""
        return self

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.primal.shape[0]

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.primal.shape[0]))

    def __repr__(self) -> str:
        primal = np.array2string(np.asarray(strip(self)), separator=", ", threshold=20)
        tangent = np.array2string(np.asarray(strip(self.tangent)), separator=", ", threshold=20)
        return f"Dual(primal={primal},\n     tangent={tangent}, tag={self.tag})"

    def __str__(self) -> str:
        return f"Dual({strip(self)}, tangent={strip(self.tangent)})"

    # -- conversions that would drop the tangent ----------------------------------------
    def __float__(self) -> float:
        raise _conversion_error("float()")

    def __int__(self) -> int:
        raise _conversion_error("int()")

    def __complex__(self) -> complex:
        raise _conversion_error("complex()")

    def __index__(self) -> int:
        raise _conversion_error("use as an index")

    def __bool__(self) -> bool:
        return bool(strip(self))

    def item(self, *args: Any) -> Any:
        """Refused: a Python number cannot carry the derivative."""
        raise _conversion_error(".item()")

    def tolist(self) -> Any:
        """Refused: Python numbers cannot carry the derivative."""
        raise _conversion_error(".tolist()")

    def astype(self, dtype: Any, copy: bool = True) -> Dual:
        """Cast to another float dtype; integer or boolean casts raise."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise ConversionError(
                f"d.astype({dtype}) would drop the derivative (only float dtypes keep it). "
                f"Use np.floor/np.round (derivative 0) or dualad.primal(d).astype(...)."
            )
        return _astype(self, dtype=dtype)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise UnsupportedPrimitiveError(
            "dual arrays are immutable: assigning into one in place is not supported. "
            "Build the new array instead, e.g. with np.where(mask, value, d), "
            "np.concatenate or np.stack."
        )

    # -- indexing and methods -----------------------------------------------------------
    def __getitem__(self, key: Any) -> Dual:
        # Basic keys (ints and slices) index the tangent behind its direction axis directly;
        # everything else goes through the getitem primitive.
        kind = type(key)
        if kind is int or kind is slice:
            part = Dual._make(self.primal[key], self.tangent[:, key], self.tag)
            basic = True
        else:
            key = as_key(key)
            part = _getitem(self, key=key)
            basic = is_basic(key)
        if basic and type(part) is Dual and part.ndim:
            # NumPy would return a view: in-place operators on it would not reach self
            part._view = True
        return part

    def reshape(self, *shape: Any, order: str = "C") -> Dual:
        """Like ``ndarray.reshape``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes: Any) -> Dual:
        """Like ``ndarray.transpose``."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def flatten(self, order: str = "C") -> Dual:
        """A flat copy, like ``ndarray.flatten``."""
        return np.ravel(self, order=order)

    def ravel(self, order: str = "C") -> Dual:
        """Like ``ndarray.ravel``."""
        return np.ravel(self, order=order)

    def copy(self, order: str = "C") -> Dual:
        """A copy (dual arrays are immutable, so this is the array itself)."""
        return self

    def squeeze(self, axis: Any = None) -> Dual:
        """Like ``ndarray.squeeze``."""
        return np.squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Dual:
        """Like ``ndarray.swapaxes``."""
        return np.swapaxes(self, axis1, axis2)

    def dot(self, other: Any) -> Dual:
        """Like ``ndarray.dot``."""
        return np.dot(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Dual:  # noqa: A002 - NumPy's names
        """Like ``ndarray.clip``."""
        return np.clip(self, min, max)

    def conj(self) -> Dual:
        """The complex conjugate: the array itself (dualad is real-valued)."""
        return self

    conjugate = conj

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Dual:
        """Like ``ndarray.diagonal``."""
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Dual:
        """Like ``ndarray.trace``."""
        return np.trace(self, offset, axis1, axis2)

    def repeat(self, repeats: Any, axis: Any = None) -> Dual:
        """Like ``ndarray.repeat``."""
        return np.repeat(self, repeats, axis=axis)

    def take(self, indices: Any, axis: Any = None) -> Dual:
        """Like ``ndarray.take``."""
        return np.take(self, indices, axis=axis)

    def compress(self, condition: Any, axis: Any = None) -> Dual:
        """Like ``ndarray.compress``."""
        return np.compress(condition, self, axis=axis)

    def round(self, decimals: int = 0) -> np.ndarray:
        """Rounded primal values (derivative 0): a plain array."""
        return np.round(self, decimals)

    def argsort(self, axis: int = -1, kind: Any = None) -> np.ndarray:
        """Like ``ndarray.argsort``: a plain integer array."""
        return np.argsort(self, axis=axis, kind=kind)

    def sort(self, axis: int = -1) -> None:
        """Refused: in-place sort; write ``d = np.sort(d)``."""
        raise UnsupportedPrimitiveError(
            "d.sort() sorts in place, which dual arrays do not support: write d = np.sort(d)"
        )

    def nonzero(self) -> tuple[np.ndarray, ...]:
        """Like ``ndarray.nonzero``: plain index arrays."""
        return np.nonzero(self)


def _reduction_method(fn: Any, doc: str) -> Any:
    def method(self: Dual, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)

    method.__name__ = fn.__name__
    method.__doc__ = doc
    return method


for _fn in (np.sum, np.mean, np.prod, np.std, np.var, np.max, np.min, np.cumsum,
            np.cumprod, np.argmax, np.argmin, np.all, np.any, np.ptp):
    _name = {"amax": "max", "amin": "min"}.get(_fn.__name__, _fn.__name__)
    setattr(Dual, _name, _reduction_method(_fn, f"Like ``ndarray.{_name}``."))


def _binary(ufunc: Any, reflected: bool = False) -> Any:
    def op(self: Dual, other: Any) -> Any:
        if type(other) is np.ndarray and other.dtype.hasobject:
            other = stack_objects(other)
        inputs = (other, self) if reflected else (self, other)
        prim = NUMPY_TABLE.get(ufunc)
        if prim.__class__ is Primitive and prim.elementwise:  # operators' hot path
            return _elementwise(prim, inputs)
        return _call_ufunc(ufunc, inputs, _NO_PARAMS)
    return op


def _unary(ufunc: Any) -> Any:
    def op(self: Dual) -> Any:
        return _call_ufunc(ufunc, (self,), {})
    return op


for _dunder, _ufunc in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
    "matmul": np.matmul,
}.items():
    setattr(Dual, f"__{_dunder}__", _binary(_ufunc))
    setattr(Dual, f"__r{_dunder}__", _binary(_ufunc, reflected=True))
for _dunder, _ufunc in {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal,
}.items():
    setattr(Dual, f"__{_dunder}__", _binary(_ufunc))
for _dunder, _ufunc in {"neg": np.negative, "pos": np.positive, "abs": np.absolute}.items():
    setattr(Dual, f"__{_dunder}__", _unary(_ufunc))


def _inplace(ufunc: Any) -> Any:
    def op(self: Dual, other: Any) -> Any:
        # NumPy updates the array every name refers to (y = x; y += 1 changes x). A dual
        # array's buffers may be shared with its inputs, so instead the Dual object takes the
        # result's contents: every alias sees the update, no buffer is overwritten.
        if getattr(self, "_view", False):
            raise UnsupportedPrimitiveError(
                f"in-place {ufunc.__name__} on a slice of a dual array (v = d[i]; v += ...) "
                f"would not update d as NumPy does. Write v = v + ... for a new array, or "
                f"rebuild d with np.where / np.concatenate."
            )
        result = _call_ufunc(ufunc, (self, _collect_objects(other)), {})
        if type(result) is not Dual:
            return result
        self.primal, self.tangent, self.tag = result.primal, result.tangent, result.tag
        return self
    return op


for _dunder, _ufunc in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
}.items():
    setattr(Dual, f"__i{_dunder}__", _inplace(_ufunc))


def _divmod(self: Dual, other: Any) -> tuple[Any, Any]:
    return np.floor_divide(self, other), np.remainder(self, other)


def _rdivmod(self: Dual, other: Any) -> tuple[Any, Any]:
    return np.floor_divide(other, self), np.remainder(other, self)


Dual.__divmod__ = _divmod  # type: ignore[attr-defined]
Dual.__rdivmod__ = _rdivmod  # type: ignore[attr-defined]

registry.register_traced_type(Dual)
_FAST_TYPES = frozenset((Dual, float, int, np.float64, np.float32))


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
            raise _not_differentiable(prim, i)
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
            raise _not_differentiable(prim, i)
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
    rule_a, rule_b = prim.jvp
    total = None
    if a_active:
        if rule_a is None:
            raise _not_differentiable(prim, 0)
        da = a.tangent
        k = da.shape[0]
        total = rule_a(pad_tangent(da, out_ndim) if da.ndim <= out_ndim else da, pa, pb, out=out)
    if b_active:
        if rule_b is None:
            raise _not_differentiable(prim, 1)
        db = b.tangent
        k = db.shape[0]
        part = rule_b(pad_tangent(db, out_ndim) if db.ndim <= out_ndim else db, pa, pb, out=out)
        total = part if total is None else total + part
    if total.shape[1:] != out.shape or total.dtype is not out.dtype:
        return _wrap(out, total, tag, k)
    return Dual._make(out, total, tag)


def _sum_rules(prim: Primitive, primals: list, tangents: list, out: Any, params: dict) -> Any:
    """Add up the per-argument JVP contributions (tuples of them for several results)."""
    total = None
    out_ndim = getattr(out[0], "ndim", 0) if prim.elementwise else -1
    for i, rule in enumerate(prim.jvp):
        dx = tangents[i]
        if dx is None:
            continue
        if rule is None:
            raise _not_differentiable(prim, i)
        if dx.ndim <= out_ndim:
            dx = pad_tangent(dx, out_ndim)
        part = rule(dx, *primals, out=out, **params)
        total = part if total is None else tuple(
            a if b is None else b if a is None else a + b for a, b in zip(total, part)
        )
    return total


def _not_differentiable(prim: Primitive, i: int) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{prim.name} is not differentiable in its argument {i + 1}: pass a constant there "
        f"(dualad.primal(x) if the derivative is meant to be zero)."
    )


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


_PLAIN_TYPES = frozenset((np.ndarray, float, int, bool, np.float64, np.float32, np.int64))


def _known(x: Any) -> bool:
    return type(x) in _PLAIN_TYPES or isinstance(
        x, (np.ndarray, np.generic, numbers.Number, list, tuple, *registry.traced_types())
    ) or x is None


def _collect_objects(x: Any) -> Any:
    """An object array holding scalar duals (``np.array([d0, d1])``) as one dual array."""
    if type(x) is np.ndarray and x.dtype.hasobject:
        return stack_objects(x)
    return x


def stack_objects(x: np.ndarray) -> Any:
    """Turn an object array of scalar dual numbers and plain numbers into one dual array.

    >>> import numpy as np, dualad
    >>> d = dualad.Dual(2.0, [1.0])
    >>> a = stack_objects(np.array([d, 3.0], dtype=object))
    >>> a.primal, a.tangent
    (array([2., 3.]), array([[1., 0.]]))
    """
    items = list(x.flat)
    if not any(map(registry.is_traced, items)):
        return x
    return np.reshape(np.stack(items), x.shape)


def _ufunc_method(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    entry = _UFUNC_METHODS.get((ufunc, method))
    if entry is not None and len(inputs) == 1:
        fn, default_axis = entry
        kwargs.setdefault("axis", default_axis)
        return call_function(fn, inputs, kwargs)
    if method == "outer" and len(inputs) == 2 and ufunc in NUMPY_TABLE and not kwargs:
        a, b = inputs
        a = np.reshape(a, np.shape(a) + (1,) * np.ndim(b))
        return _call_ufunc(ufunc, (a, b), {})
    if ufunc in NONDIFF:
        return getattr(ufunc, method)(*map(strip, inputs), **kwargs)
    raise UnsupportedPrimitiveError(
        f"np.{ufunc.__name__}.{method} is not supported on dual arrays. Supported ufunc "
        f"methods: np.add/np.multiply/np.maximum/np.minimum .reduce, np.add/np.multiply "
        f".accumulate and .outer of differentiable binary ufuncs. For np.add.at, build the "
        f"result without in-place updates (e.g. with np.bincount-free sums or np.where)."
    )


_NO_PARAMS: dict[str, Any] = {}


def _call_ufunc(ufunc: Any, inputs: tuple, kwargs: dict) -> Any:
    prim = NUMPY_TABLE.get(ufunc)
    if kwargs:
        _check_ufunc_kwargs(ufunc, kwargs)
    if prim.__class__ is Primitive:
        if prim.elementwise and not prim.multiple_results:
            return _elementwise(prim, inputs)
        return apply(prim, inputs, _NO_PARAMS)
    if prim is None:
        if ufunc in NONDIFF:
            return ufunc(*map(strip, inputs), **kwargs)
        raise unsupported(ufunc)
    if isinstance(prim, Composite):
        return prim.impl(*inputs)
    return apply(prim, inputs, {})


def _check_ufunc_kwargs(ufunc: Any, kwargs: dict) -> None:
    if kwargs.get("out") is not None:
        raise _out_error(ufunc)
    dtype = kwargs.get("dtype")
    extra = {k: v for k, v in kwargs.items() if v is not None and k not in ("out", "dtype")}
    if extra or (dtype is not None and np.dtype(dtype).kind != "f"):
        raise UnsupportedPrimitiveError(
            f"np.{ufunc.__name__} on dual arrays does not support the arguments "
            f"{sorted(extra) or ['dtype=' + str(dtype)]}; call it with the arrays only."
        )


def call_function(func: Any, args: Any, kwargs: dict) -> Any:
    """Dispatch a NumPy function called with traced arguments to its declaration."""
    if kwargs.get("out") is not None:
        raise _out_error(func)
    entry = NUMPY_TABLE.get(func)
    if entry is None:
        if func in NONDIFF:
            return func(*strip(tuple(args)), **{k: strip(v) for k, v in kwargs.items()})
        raise unsupported(func)
    if any(type(x) is np.ndarray and x.dtype.hasobject for x in args):
        args = tuple(map(_collect_objects, args))
    if isinstance(entry, Composite):
        return entry.impl(*args, **kwargs)
    try:
        xs, params = entry.bind(*args, **kwargs)
    except TypeError as exc:
        raise UnsupportedPrimitiveError(
            f"{registry.numpy_name(func)} on dual arrays: {exc}. dualad supports the "
            f"arguments of its documented signature only."
        ) from None
    return apply(entry, xs, params)


def _out_error(fn: Any) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{registry.numpy_name(fn)}(..., out=...) would write a dual result into a plain "
        f"array and drop its derivative. Assign the result instead: y = "
        f"{registry.numpy_name(fn)}(...); for in-place operators write x = x + d rather than "
        f"x += d when x is a plain array."
    )


def _conversion_error(what: str) -> ConversionError:
    return ConversionError(
        f"{what} of a dual array would drop its derivative. Keep computing with NumPy "
        f"functions (np.sin instead of math.sin, np.where instead of Python branches on "
        f"values), or take dualad.primal(x) if you want the values only."
    )


def primal(x: Any) -> Any:
    """The values of ``x`` without any derivative (through every nesting level).

    >>> import numpy as np, dualad
    >>> dualad.primal(dualad.Dual(np.array([1.0, 2.0]), np.ones((1, 2))))
    array([1., 2.])
    """
    return strip(x)


# The primitives behind indexing and astype live with their families; imported last
# because the families only need the registry.
from .primitives.elementwise import astype as _astype  # noqa: E402
from .primitives.indexing import as_key, is_basic  # noqa: E402
from .primitives.indexing import getitem as _getitem  # noqa: E402

__all__ = ["Dual", "primal", "call_function", "stack_objects"]
