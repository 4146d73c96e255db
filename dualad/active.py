"""The NumPy surface shared by forward- and reverse-mode arrays.

An active array (a forward-mode :class:`~dualad.dual.Dual`, a reverse-mode
:class:`~dualad.tape.TapeArray`) takes part in ordinary NumPy code: NumPy hands ufuncs to
``__array_ufunc__`` and functions to ``__array_function__``, and both look the callable up in
the registry. Operators, indexing, the usual ndarray methods and the conversions that would
drop a derivative (and therefore raise) are written here once; each engine subclasses
:class:`ActiveArray` and supplies how a primitive is applied at its level
(``_dualad_apply``), its hot path for elementwise ufuncs (``_elementwise``) and fast basic
indexing.

An active array is a *handle* on values that are never written to. In-place operators
(``x += y``) give the handle new contents, so every name that refers to it sees the update,
as with NumPy; a copy (``x.copy()``, ``np.copy``, ``copy.deepcopy``) is a new handle. Where
NumPy would return a view (basic slices, ``reshape``, ``.T``, ...), the handles are linked in
a *group of views*. An in-place update of one member makes every other live member whose memory
NumPy would share *stale*: its class becomes a subclass that raises as soon as it is used,
because NumPy would show it the update and dualad cannot. ``A += A.T`` therefore works (the
view is a temporary), while ``v = A.T; A += 1; v + 1`` raises at ``v + 1``.
"""

from __future__ import annotations

import numbers
import weakref
from typing import Any

import numpy as np

from . import registry
from ._callers import (
    assigning,
    buffer_error,
    called_from_scipy,
    conversion_message,
    converted_by,
    numpy_caller,
    scipy_caller,
)
from ._rule_checks import is_complex
from .errors import ConversionError, InvalidInputError, UnsupportedPrimitiveError
from .registry import (
    NONDIFF,
    NONDIFF_REAL_ONLY,
    NUMPY_TABLE,
    REGISTRY,
    Composite,
    Primitive,
    apply,
    strip,
    unsupported,
)
from .tree import tree_map

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



class ActiveArray:
    """Base of arrays that carry a derivative: NumPy protocols, operators and methods.

    Subclasses define ``primal`` and ``tag`` (slots, listed with the rest of their contents
    in ``_contents``), a ``_views`` and a ``__weakref__`` slot, ``_dualad_apply``,
    ``_elementwise``, ``_fast_types`` (the argument types their hot path handles) and may
    refine ``_index_basic``.
    """

    __slots__ = ()
    _contents: tuple[str, ...] = ()
    _stale = False
    _stale_class: type | None = None
    __array_priority__ = 1000
    __hash__ = None  # type: ignore[assignment]  # like ndarray: mutable-looking, unhashable
    _fast_types: frozenset = frozenset()

    @staticmethod
    def _elementwise(prim: Primitive, xs: tuple) -> Any:
        """Apply an elementwise primitive (overridden by each engine's hot path)."""
        return apply(prim, xs, _NO_PARAMS)

    def _index_basic(self, key: Any) -> Any:
        """``self[key]`` for an int or slice key (an engine may do it without the primitive)."""
        return apply(REGISTRY["getitem"], (self,), {"key": key})

    def _assign(self, result: Any) -> None:
        """Take the contents of ``result`` (an array of the same kind): in-place operators.

        The handle leaves its group of views: its new values are its own.
        """
        for name in self._contents:
            setattr(self, name, getattr(result, name))
        self._views = None

    def _handle(self) -> Any:
        """A new handle on the same values and derivative (what a copy is, for values that
        are never written to)."""
        if self._stale:
            raise self.stale_error()
        twin = object.__new__(type(self))
        for name in self._contents:
            setattr(twin, name, getattr(self, name))
        return twin

    # -- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        collect = False
        fast_types = self._fast_types
        for x in inputs:
            kind = type(x)
            if kind is np.ndarray:
                collect = collect or x.dtype.hasobject
            elif kind is list or kind is tuple:
                collect = True  # (a list holding active values is stacked below)
            elif kind not in fast_types:
                if not _known(x):
                    return NotImplemented
                check_constant(x, ufunc)
        if collect:
            inputs = tuple(map(_as_operand, inputs))
        if kwargs:
            if kwargs.pop("out", None) is not None:
                raise _out_error(ufunc)
        if method != "__call__":
            return _ufunc_method(ufunc, method, inputs, kwargs, self._elementwise)
        return _call_ufunc(ufunc, inputs, kwargs, self._elementwise)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        for kind in types:
            if not issubclass(kind, (np.ndarray, ActiveArray, *registry.array_types())):
                return NotImplemented
        return call_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # A scalar dual may sit in an object array (np.array([[d00, d01], [d10, d11]]), as
        # hand-written code builds matrices of scalars); dualad turns such arrays back into
        # dual arrays when they meet a NumPy function. Anything numeric would drop the
        # tangent, so it raises.
        # np.array(d) asks for a copy (copy=True); list elements and np.asarray do not.
        # SciPy never computes with object arrays: a 0-d value it converts is refused too
        # (the check looks at the calling frame only, so the object-array path stays cheap).
        if self.ndim == 0 and copy is not True and (dtype is None or np.dtype(dtype) == object) \
                and not called_from_scipy():
            holder = np.empty((), dtype=object)
            holder[()] = self
            return holder
        scipy_function = scipy_caller()
        if scipy_function is not None:
            raise ConversionError(conversion_message(scipy_function, "np.asarray"))
        caller = numpy_caller()
        if caller is not None:
            raise ConversionError(converted_by(*caller))
        if assigning():
            raise buffer_error()
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
    def T(self) -> Any:
        """The transpose, like ``ndarray.T``."""
        return np.transpose(self)

    @property
    def mT(self) -> Any:
        """Transpose of the last two axes, like ``ndarray.mT``."""
        return np.swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        """The real part, like ``ndarray.real`` (the array itself when it is real)."""
        if self.dtype.kind != "c":
            return self
        return np.real(self)

    @property
    def imag(self) -> Any:
        """The imaginary part, like ``ndarray.imag``: zeros without a derivative for a real
        array (like NumPy's)."""
        if self.dtype.kind != "c":
            return np.zeros(self.shape, dtype=self.dtype)
        return np.imag(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.primal.shape[0]

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.primal.shape[0]))

    # -- conversions that would drop the tangent ----------------------------------------
    def __float__(self) -> float:
        caller = numpy_caller()
        if caller is not None:
            raise ConversionError(converted_by(*caller))
        if assigning():
            raise buffer_error()
        raise _conversion_error("float()")

    def __int__(self) -> int:
        if assigning():
            raise buffer_error()
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

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        """Cast to another float dtype; integer or boolean casts raise."""
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            raise ConversionError(
                f"d.astype({dtype}) would drop the derivative (only float and complex dtypes "
                f"keep it). "
                f"Use np.floor/np.round (derivative 0) or dualad.primal(d).astype(...)."
            )
        return apply(REGISTRY["astype"], (self,), {"dtype": dtype})

    def __setitem__(self, key: Any, value: Any) -> None:
        # out[key] = value gives the handle new contents, x with x[key] replaced (the
        # setitem primitive), as an in-place operator does. out[1:] += v runs as
        # t = out[1:]; t += v; out[1:] = t: the update of the view t made out stale, and
        # writing t back where it came from brings out up to date again.
        if self._stale and not _write_back(self, key, value):
            raise self.stale_error()
        setitem = REGISTRY["setitem"]
        xs, params = setitem.split_args(self, key, _as_value(value))
        result = apply(setitem, xs, params)
        if type(result) is not type(self):
            raise UnsupportedPrimitiveError(
                "x[key] = value on an active array: the value is active in another "
                "transform, so x cannot hold it for every name that refers to x. Build the "
                "array inside that transform (x = np.zeros_like(value), then assign)."
            )
        leave_views(self, "x[key] = ...")
        self._assign(result)

    # -- indexing and methods -----------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        kind = type(key)
        if kind is int or kind is slice:
            return self._index_basic(key)
        getitem = REGISTRY["getitem"]
        xs, params = getitem.split_args(self, key)
        return apply(getitem, xs, params)

    def reshape(self, *shape: Any, order: str = "C") -> Any:
        """Like ``ndarray.reshape``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes: Any) -> Any:
        """Like ``ndarray.transpose``."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def flatten(self, order: str = "C") -> Any:
        """A flat copy, like ``ndarray.flatten``."""
        return np.ravel(self, order=order).copy()

    def ravel(self, order: str = "C") -> Any:
        """Like ``ndarray.ravel``."""
        return np.ravel(self, order=order)

    def copy(self, order: str = "C") -> Any:
        """A copy, like ``ndarray.copy``: in-place operators on either leave the other as it
        was. The derivative is the identity's."""
        return self._handle()

    def view(self, dtype: Any = None, type: Any = None) -> Any:  # noqa: A002 - NumPy's names
        """A view, like ``ndarray.view()``: the same values; an in-place update of either
        makes the other stale (it raises when used), as NumPy would show it the update."""
        if dtype is not None or type is not None:
            raise UnsupportedPrimitiveError(
                "d.view(dtype) reinterprets the bytes of an active array, which has no "
                "derivative: take dualad.primal(d).view(dtype) for the values."
            )
        twin = self._handle()
        if self.ndim:
            link_view(twin, self)
        return twin

    def __copy__(self) -> Any:
        return self._handle()

    def __deepcopy__(self, memo: dict) -> Any:
        return self._handle()

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise ConversionError(
            f"pickling a {type(self).__name__} would drop its derivative (and, in reverse "
            f"mode, its place on the tape). Pickle dualad.primal(x), the values only, or "
            f"copy it with x.copy() / copy.deepcopy(x), which keep the derivative."
        )

    def squeeze(self, axis: Any = None) -> Any:
        """Like ``ndarray.squeeze``."""
        return np.squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        """Like ``ndarray.swapaxes``."""
        return np.swapaxes(self, axis1, axis2)

    def dot(self, other: Any) -> Any:
        """Like ``ndarray.dot``."""
        return np.dot(self, other)

    def clip(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - NumPy's names
        """Like ``ndarray.clip``."""
        return np.clip(self, min, max)

    def conj(self) -> Any:
        """The complex conjugate, like ``ndarray.conj`` (the array itself when it is real)."""
        if self.dtype.kind != "c":
            return self
        return np.conjugate(self)

    conjugate = conj

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        """Like ``ndarray.diagonal``."""
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        """Like ``ndarray.trace``."""
        return np.trace(self, offset, axis1, axis2)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        """Like ``ndarray.repeat``."""
        return np.repeat(self, repeats, axis=axis)

    def take(self, indices: Any, axis: Any = None) -> Any:
        """Like ``ndarray.take``."""
        return np.take(self, indices, axis=axis)

    def compress(self, condition: Any, axis: Any = None) -> Any:
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

    def partition(self, *args: Any, **kwargs: Any) -> None:
        """Refused: in-place partition; write ``d = np.partition(d, kth)``."""
        raise _inplace_method_error("d.partition(kth)", "d = np.partition(d, kth)")

    def fill(self, value: Any) -> None:
        """Refused: in-place fill; write ``d = np.full_like(d, value)``."""
        raise _inplace_method_error("d.fill(value)", "d = np.full_like(d, value)")

    def put(self, *args: Any, **kwargs: Any) -> None:
        """Refused: in-place put; write ``d = np.where(mask, values, d)``."""
        raise _inplace_method_error("d.put(indices, values)", "d = np.where(mask, values, d)")

    def resize(self, *args: Any, **kwargs: Any) -> None:
        """Refused: in-place resize; write ``d = np.resize``-free code (np.pad, slicing)."""
        raise _inplace_method_error("d.resize(shape)", "d = np.pad(d, ...) or d = d[:n]")

    def nonzero(self) -> tuple[np.ndarray, ...]:
        """Like ``ndarray.nonzero``: plain index arrays."""
        return np.nonzero(self)



def _reduction_method(fn: Any, doc: str) -> Any:
    def method(self: ActiveArray, *args: Any, **kwargs: Any) -> Any:
        return fn(self, *args, **kwargs)

    method.__name__ = fn.__name__
    method.__doc__ = doc
    return method


for _fn in (np.sum, np.mean, np.prod, np.std, np.var, np.max, np.min, np.cumsum,
            np.cumprod, np.argmax, np.argmin, np.all, np.any, np.ptp):
    _name = {"amax": "max", "amin": "min"}.get(_fn.__name__, _fn.__name__)
    setattr(ActiveArray, _name, _reduction_method(_fn, f"Like ``ndarray.{_name}``."))


def _binary(ufunc: Any, reflected: bool = False) -> Any:
    def op(self: ActiveArray, other: Any) -> Any:
        if type(other) is np.ndarray and other.dtype.hasobject or type(other) in (list, tuple):
            other = _as_operand(other)
        inputs = (other, self) if reflected else (self, other)
        prim = NUMPY_TABLE.get(ufunc)
        if prim.__class__ is Primitive and prim.elementwise:  # operators' hot path
            return self._elementwise(prim, inputs)
        return _call_ufunc(ufunc, inputs, _NO_PARAMS, self._elementwise)
    return op


def _unary(ufunc: Any) -> Any:
    def op(self: ActiveArray) -> Any:
        return _call_ufunc(ufunc, (self,), {}, self._elementwise)
    return op


for _dunder, _ufunc in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
    "matmul": np.matmul,
}.items():
    setattr(ActiveArray, f"__{_dunder}__", _binary(_ufunc))
    setattr(ActiveArray, f"__r{_dunder}__", _binary(_ufunc, reflected=True))
for _dunder, _ufunc in {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal,
}.items():
    setattr(ActiveArray, f"__{_dunder}__", _binary(_ufunc))
for _dunder, _ufunc in {"neg": np.negative, "pos": np.positive, "abs": np.absolute}.items():
    setattr(ActiveArray, f"__{_dunder}__", _unary(_ufunc))


_INPLACE_SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
    "pow": "**", "matmul": "@",
}


def _inplace(ufunc: Any, symbol: str) -> Any:
    def op(self: ActiveArray, other: Any) -> Any:
        # NumPy updates the array every name refers to (y = x; y += 1 changes x). An active
        # array's buffers may be shared with its inputs, so instead the handle takes the
        # result's contents: every alias sees the update, no buffer is overwritten.
        result = _call_ufunc(ufunc, (self, _collect_objects(other)), {}, self._elementwise)
        if self.ndim == 0:  # like NumPy's scalars (x[0], np.sum(x)): x += 1 rebinds x
            return result
        if type(result) is not type(self):
            why = "is active in another transform" if registry.is_active(result) \
                else "has no derivative"
            raise UnsupportedPrimitiveError(
                f"x {symbol}= y on an active array: the result {why}, so it cannot update x "
                f"in place for every name that refers to x. Write x = x {symbol} y."
            )
        leave_views(self, f"x {symbol}= ...")
        self._assign(result)
        return self
    return op


for _dunder, _ufunc in {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
}.items():
    setattr(ActiveArray, f"__i{_dunder}__", _inplace(_ufunc, _INPLACE_SYMBOLS[_dunder]))


# --------------------------------------------------------------------------- views

_VIEWS_PRUNE = 32


def link_view(view: ActiveArray, base: ActiveArray) -> None:
    """Record that ``view`` shows ``base``'s values as the NumPy view it mirrors would.

    Both join one *group of views* (a list of weak references shared by its members), created with
    ``base`` as its first member; dead members are pruned as the group grows.
    """
    group = getattr(base, "_views", None)
    if group is None:
        group = base._views = [weakref.ref(base)]
    elif len(group) >= _VIEWS_PRUNE:
        group[:] = [ref for ref in group if ref() is not None]
    group.append(weakref.ref(view))
    view._views = group


def link_if_view(result: Any, inputs: Any, tag: int) -> None:
    """Link ``result`` to the active input (at level ``tag``) whose values it shares, if any:
    the engines call this for every primitive that may return a NumPy view."""
    if not isinstance(result, ActiveArray):
        return
    out = _memory(strip(result))
    if out.__class__ is not np.ndarray or not out.ndim:  # 0-d values act as scalars
        return
    base = out.base
    for x in inputs:
        if isinstance(x, ActiveArray) and x.tag == tag:
            data = _memory(strip(x))
            if out is data or (base is not None and np.may_share_memory(out, data)):
                link_view(result, x)
                return


def _may_share(a: Any, b: Any) -> bool:
    """Whether two arrays may show the same memory (asked of their library for arrays of a
    registered kind: Dask would compute both to answer ``np.may_share_memory``)."""
    if registry.is_array(a) or registry.is_array(b):
        return type(a) is type(b) and registry.array_kind(a).shares_memory(a, b)
    return bool(np.may_share_memory(a, b))


def leave_views(x: ActiveArray, operation: str) -> None:
    """``x`` is about to be updated in place by ``operation``: every other live member of its
    group whose memory NumPy would share becomes stale (raises when used).

    A stale member keeps a record: the operation, which of the two was updated, the handle
    that was and the memory it showed, and the group, so that writing that handle back to
    the same memory (``out[1:] += v``) brings it up to date (:func:`_write_back`). A second
    update makes the record unusable: only one update can be written back.
    """
    group = getattr(x, "_views", None)
    if group is None or group.__class__ is not list:
        return
    data = _innermost(x)
    for ref in group:
        other = ref()
        if other is None or other is x or not _may_share(data, _innermost(other)):
            continue
        if other._stale:
            other._views = other._views[:2] + (None, None, None)
            continue
        other._views = (operation, "base" if group[0]() is x else "view", weakref.ref(x),
                        data, group)
        other.__class__ = other._stale_class


def _write_back(x: ActiveArray, key: Any, value: Any) -> bool:
    """True when ``x[key] = value`` on the stale ``x`` writes back the one view whose update
    made it stale, to the memory that view showed: ``x`` is then up to date again (its class
    restored, its group rejoined)."""
    _, _, culprit, data, group = x._views
    if culprit is None or culprit() is not value:
        return False
    inner = _innermost(x)
    if registry.is_array(inner):  # dualad.compile's traced arrays: compare their memory
        if not _basic(key):
            return False
        memory = registry.array_kind(inner).memory
        inner, data = memory(inner), memory(data)
    try:
        region = inner[key]  # a view for a basic key; a copy (refused) otherwise
    except (IndexError, TypeError, ValueError):
        return False
    if not isinstance(region, np.ndarray) or region.shape != data.shape \
            or region.strides != data.strides \
            or region.__array_interface__["data"][0] != data.__array_interface__["data"][0]:
        return False
    x.__class__ = type(x).__mro__[1]
    x._views = group
    return True


def _memory(x: Any) -> Any:
    """The ndarray whose memory ``x`` shows: for an array of a registered kind (dualad.compile's
    traced arrays), the one it holds, so that its views are linked as an ndarray's are."""
    return registry.array_kind(x).memory(x) if registry.is_array(x) else x


def _basic(key: Any) -> bool:
    items = key if key.__class__ is tuple else (key,)
    return all(item is None or item is Ellipsis or item.__class__ in (int, slice)
               for item in items)


def _as_value(value: Any) -> Any:
    """An assigned value: lists holding active values (``out[:2] = [a, b]``) stacked."""
    if value.__class__ in (list, tuple) and any(map(registry._contains_active, value)):
        return np.stack([_as_value(item) for item in value])
    return _collect_objects(value)


def _innermost(x: Any) -> Any:
    while isinstance(x, ActiveArray):
        x = x.primal
    return x


def stale_class(cls: type) -> type:
    """The class a handle of ``cls`` takes when it goes stale: every use raises."""

    def _dualad_apply(self: Any, prim: Primitive, xs: Any, params: Any, tag: int) -> Any:
        raise self.stale_error()

    def _index_basic(self: Any, key: Any) -> Any:
        raise self.stale_error()

    def stale_error(self: Any) -> UnsupportedPrimitiveError:
        operation, updated = self._views[:2]
        shared = ("the array it is a view of (a slice x[1:] or x[i], x.T, x.reshape(...), "
                  "...)" if updated == "base" else "a view of it (a slice x[1:] or x[i], "
                  "x.T, x.reshape(...), ...), or of the array it is a view of,")
        return UnsupportedPrimitiveError(
            f"this array's values are out of date: {shared} was updated in place ({operation}) "
            f"after the view was taken, and NumPy would show the update here too. dualad "
            f"cannot share an update between two arrays, so it refuses the old values. Take "
            f"the view after the update, or copy before updating (v = x.T.copy()), or write "
            f"the update as x = x + ... (a new array, leaving the view as it was)."
        )

    def describe(self: Any) -> str:
        return f"<stale {cls.__name__}: a view whose values NumPy would have changed>"

    namespace = {"__slots__": (), "_stale": True, "_dualad_apply": _dualad_apply,
                 "_index_basic": _index_basic, "stale_error": stale_error,
                 "__repr__": describe, "__str__": describe, "__bool__": _refuse_bool}
    return type(f"Stale{cls.__name__}", (cls,), namespace)


def _refuse_bool(self: Any) -> bool:
    raise self.stale_error()


# --------------------------------------------------------------------------- constants


def check_constant(x: Any, fn: Any) -> None:
    """Raise for a constant that an active value cannot meet: ndarray subclasses whose own
    semantics dualad would drop (NumPy's memmap and dualad's own subclasses excepted)."""
    if isinstance(x, np.ndarray) and type(x) is not np.ndarray and type(x) is not np.memmap \
            and not registry.is_value_subclass(type(x)):
        raise constant_error(x, fn)


def constant_error(x: Any, fn: Any) -> Exception:
    """The error for a constant ``check_constant`` refuses, naming the function."""
    if isinstance(fn, Primitive):
        name = registry.numpy_name(fn.numpy[0]) if fn.numpy else fn.name
    else:
        name = fn if isinstance(fn, str) else registry.numpy_name(fn)
    if isinstance(x, np.ma.MaskedArray):
        return InvalidInputError(masked_message(f"{name} of an active value and a masked array"))
    return InvalidInputError(subclass_message(type(x), f"{name} of an active value and a"))


def masked_message(what: str) -> str:
    """Why a masked array is refused, and what to write instead."""
    return (
        f"{what}: masked arrays (np.ma) are not supported. dualad would compute with the "
        f"masked entries too and return a derivative for them. Pass the data with the masked "
        f"entries filled (m.filled(value)) and the mask separately, and leave the masked "
        f"entries out with np.where(mask, ..., ...) or a boolean index."
    )


def subclass_message(cls: type, what: str) -> str:
    """Why an ndarray subclass other than np.memmap is refused, and what to write."""
    if issubclass(cls, np.matrix):
        return (f"{what} np.matrix: its * is a matrix product, which dualad would not "
                f"honour. Pass np.asarray(m) and write @ for matrix products.")
    name = f"{cls.__module__}.{cls.__qualname__}"
    return (f"{what} {name}, an ndarray subclass: dualad computes with plain arrays and "
            f"would drop what the subclass adds. Pass np.asarray(value) (or its plain data).")


def _divmod(self: ActiveArray, other: Any) -> tuple[Any, Any]:
    return np.floor_divide(self, other), np.remainder(self, other)


def _rdivmod(self: ActiveArray, other: Any) -> tuple[Any, Any]:
    return np.floor_divide(other, self), np.remainder(other, self)


ActiveArray.__divmod__ = _divmod  # type: ignore[attr-defined]
ActiveArray.__rdivmod__ = _rdivmod  # type: ignore[attr-defined]


_PLAIN_TYPES = frozenset((np.ndarray, float, int, bool, np.float64, np.float32, np.int64))


def _known(x: Any) -> bool:
    return type(x) in _PLAIN_TYPES or isinstance(
        x, (np.ndarray, np.generic, numbers.Number, list, tuple, *registry.active_types(),
            *registry.array_types())
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
    if not any(map(registry.is_active, items)):
        return x
    return np.reshape(np.stack(items), x.shape)


def _ufunc_method(ufunc: Any, method: str, inputs: tuple, kwargs: dict, fast: Any) -> Any:
    entry = _UFUNC_METHODS.get((ufunc, method))
    if entry is not None and len(inputs) == 1:
        fn, default_axis = entry
        kwargs.setdefault("axis", default_axis)
        return call_function(fn, inputs, kwargs)
    if method == "outer" and len(inputs) == 2 and registry.lookup(ufunc) and not kwargs:
        a, b = inputs
        a = np.reshape(a, np.shape(a) + (1,) * np.ndim(b))
        return _call_ufunc(ufunc, (a, b), {}, fast)
    declared = REGISTRY.get(f"{ufunc.__name__}.{method}")  # np.logaddexp.reduce, ...
    if declared is not None:
        return declared(*inputs, **kwargs)
    if ufunc in NONDIFF:
        return getattr(ufunc, method)(*map(strip, inputs), **kwargs)
    raise UnsupportedPrimitiveError(_method_message(ufunc, method))


_METHOD_INSTEAD = {
    ("subtract", "reduce"): "x[0] - np.sum(x[1:], axis=0)",
    ("divide", "reduce"): "x[0] / np.prod(x[1:], axis=0)",
    ("true_divide", "reduce"): "x[0] / np.prod(x[1:], axis=0)",
    ("fmax", "accumulate"): "np.maximum.accumulate(np.where(np.isnan(x), -np.inf, x))",
    ("fmin", "accumulate"): "np.minimum.accumulate(np.where(np.isnan(x), np.inf, x))",
    ("multiply", "at"): "a[indices] *= b, for indices without repeats",
    ("maximum", "at"): "a[indices] = np.maximum(a[indices], b), for indices without repeats",
    ("minimum", "at"): "a[indices] = np.minimum(a[indices], b), for indices without repeats",
}


def _method_message(ufunc: Any, method: str) -> str:
    """Why ``np.<name>.<method>`` is refused, and the NumPy code that does its job."""
    name = ufunc.__name__
    instead = _METHOD_INSTEAD.get((name, method))
    if instead is None and method == "reduceat":
        instead = (f"np.{name}.reduce (or np.sum, np.max, ...) of each part of "
                   f"np.split(x, indices[1:]); for np.add.reduceat, np.bincount(segment, "
                   f"weights=x) with segment = np.cumsum(np.isin(np.arange(n), indices)) - 1")
    if instead is None:
        instead = ("the NumPy function that does the job (np.sum, np.prod, np.max, np.min, "
                   "np.cumsum, np.cumprod, np.logaddexp.reduce, np.maximum.accumulate, "
                   "np.linalg.vector_norm), or a loop over np.split parts")
    return (
        f"{registry.numpy_name(ufunc)}.{method} is not supported on active arrays: it has no "
        f"derivative rule, "
        f"and running it on the values would drop the derivative. Write {instead}. Supported "
        f"ufunc methods: .reduce of add, multiply, maximum, minimum, fmax, fmin, logaddexp, "
        f"logaddexp2, hypot; .accumulate of add, multiply, maximum, minimum, logaddexp, "
        f"logaddexp2; np.add.at and np.subtract.at; .outer of differentiable binary ufuncs."
    )


_NO_PARAMS: dict[str, Any] = {}


def _call_ufunc(ufunc: Any, inputs: tuple, kwargs: dict, fast: Any) -> Any:
    """Apply ``ufunc`` to active inputs; ``fast`` is the calling engine's elementwise path."""
    prim = NUMPY_TABLE.get(ufunc)
    if kwargs:
        _check_ufunc_kwargs(ufunc, kwargs)
    if prim.__class__ is Primitive:
        if prim.elementwise and not prim.multiple_results:
            return fast(prim, inputs)
        return apply(prim, inputs, _NO_PARAMS)
    if prim is None:
        if ufunc in NONDIFF:
            if ufunc in NONDIFF_REAL_ONLY and any(map(is_complex, inputs)):
                raise UnsupportedPrimitiveError(
                    f"{registry.numpy_name(ufunc)} of complex values is not piecewise "
                    f"constant, and dualad would return a zero derivative: write "
                    f"{NONDIFF_REAL_ONLY[ufunc]} instead.")
            return ufunc(*map(strip, inputs), **kwargs)
        prim = registry.lookup(ufunc)  # another library's ufunc: its family, loaded now
        if prim is None:
            raise unsupported(ufunc)
        return _call_ufunc(ufunc, inputs, kwargs, fast)
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
            f"{registry.numpy_name(ufunc)} on dual arrays does not support the arguments "
            f"{sorted(extra) or ['dtype=' + str(dtype)]}; call it with the arrays only."
        )


def call_function(func: Any, args: Any, kwargs: dict) -> Any:
    """Dispatch a NumPy function called with active arguments to its declaration."""
    if kwargs.get("out") is not None:
        raise _out_error(func)
    entry = NUMPY_TABLE.get(func)
    if entry is None:
        if func in NONDIFF:
            return func(*strip(tuple(args)), **{k: strip(v) for k, v in kwargs.items()})
        entry = registry.lookup(func)  # a family declared on first use
    if entry is None:
        if func in _WRITING_FUNCTIONS:
            raise _inplace_method_error(f"{registry.numpy_name(func)}(a, ...)",
                                        "a = np.where(mask, values, a)")
        if func in (np.zeros, np.ones, np.empty, np.full):  # np.zeros(n, like=x)
            raise unsupported(func, f"For a buffer of an active x's kind, write "
                                    f"np.{func.__name__}_like(x, shape=...).")
        raise unsupported(func)
    for arg in (*args, *kwargs.values()):
        if arg.__class__ in (list, tuple):
            for item in arg:
                if item.__class__ is not float and not isinstance(item, ActiveArray):
                    check_constant(item, func)
        elif arg.__class__ is not float and not isinstance(arg, ActiveArray):
            check_constant(arg, func)
    if any(type(x) is np.ndarray and x.dtype.hasobject for x in args):
        args = tuple(map(_collect_objects, args))
    if isinstance(entry, Composite):
        return entry(*args, **kwargs)
    try:
        xs, params = entry.split_args(*args, **kwargs)
    except TypeError as exc:
        raise UnsupportedPrimitiveError(
            f"{registry.numpy_name(func)} on dual arrays: {exc}. dualad supports the "
            f"arguments of its documented signature only."
        ) from None
    xs = tuple(map(_as_operand, xs))
    for name, value in params.items():
        if _holds_active(value):
            raise UnsupportedPrimitiveError(
                f"{registry.numpy_name(func)}: its argument {name}= holds active values "
                f"(dual or tape values in a list or an object array), where dualad takes "
                f"a constant without derivative (indices, a condition, a shape): pass "
                f"dualad.primal(...) of it."
            )
    return apply(entry, xs, params)


def _as_operand(x: Any) -> Any:
    """A differentiable argument given as a list or tuple holding active values
    (``np.concatenate([a, [d]])``, ``np.maximum(x, [d, 0.0])``) or as an object array of
    them, stacked into one active array, as NumPy would make one array of it: left as it
    is, NumPy would make an object array of it and the derivatives would be lost."""
    if x.__class__ in (list, tuple) and registry._contains_active(x):
        return _as_value(x)
    return _collect_objects(x)


def _holds_active(x: Any) -> bool:
    if x.__class__ in (list, tuple):
        return any(map(_holds_active, x)) or registry._contains_active(x)
    if type(x) is np.ndarray and x.dtype.hasobject:
        return any(map(registry.is_active, x.flat))
    return False


_WRITING_FUNCTIONS = frozenset((np.copyto, np.put, np.place, np.putmask, np.fill_diagonal,
                                np.put_along_axis))
"""NumPy functions that write into their first argument."""


def _inplace_method_error(call: str, instead: str) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{call} writes into an array in place, which active arrays do not support (the "
        f"other names for it and its views could not see the change). Build the new array "
        f"instead: {instead}."
    )


def _out_error(fn: Any) -> UnsupportedPrimitiveError:
    return UnsupportedPrimitiveError(
        f"{registry.numpy_name(fn)}(..., out=...) would write a dual result into a plain "
        f"array and drop its derivative. Assign the result instead: y = "
        f"{registry.numpy_name(fn)}(...); for in-place operators write x = x + d rather than "
        f"x += d when x is a plain array."
    )


def _conversion_error(what: str) -> ConversionError:
    scipy_function = scipy_caller()
    if scipy_function is not None:
        return ConversionError(conversion_message(scipy_function, what))
    return ConversionError(
        f"{what} of a dual array would drop its derivative. Keep computing with NumPy "
        f"functions (np.sin instead of math.sin, np.where instead of Python branches on "
        f"values), or take dualad.primal(x) if you want the values only."
    )


def primal(x: Any) -> Any:
    """The values of ``x`` without any derivative (through every nesting level).

    The array is read-only when ``x`` is active: dualad may still need those values (a
    pullback reads them), so write ``dualad.primal(x).copy()`` to change them.

    >>> import numpy as np, dualad
    >>> dualad.primal(dualad.Dual(np.array([1.0, 2.0]), np.ones((1, 2))))
    array([1., 2.])
    """
    values = strip(x)
    if values is not x and isinstance(values, np.ndarray) and values.flags.writeable:
        values = values.view()
        values.setflags(write=False)
    return values


def stop_gradient(x: Any) -> Any:
    """``x`` with its derivative cut: the same values, a zero derivative in every mode and
    at every nesting level (JAX's ``jax.lax.stop_gradient``).

    ``x`` may be an array, a number or a pytree of them (tuples, lists and dicts); each
    leaf becomes :func:`primal` of it.

    >>> import numpy as np, dualad
    >>> float(dualad.grad(lambda x: x * dualad.stop_gradient(x))(3.0))   # d/dx (c x), c = 3
    3.0
    >>> dualad.stop_gradient({"w": 2.0, "b": (1.0,)})
    {'b': (1.0,), 'w': 2.0}
    """
    return tree_map(primal, x)


def not_differentiable(prim: Primitive, i: int) -> UnsupportedPrimitiveError:
    """The error for an active value passed where ``prim`` has no derivative rule."""
    name = registry.numpy_name(prim.numpy[0]) if prim.numpy else prim.name
    return UnsupportedPrimitiveError(
        f"{name} is not differentiable in its argument {i + 1}: pass a constant there "
        f"(dualad.primal(x) if the derivative is meant to be zero)."
    )

