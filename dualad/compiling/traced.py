"""The traced array: a NumPy array that records every operation performed on it.

:func:`dualad.compile` calls the function once with :class:`Traced` arguments. A traced array
holds a real value and runs every NumPy call on it (ufuncs, NumPy functions, operators,
indexing, methods), so the recording computes exactly what the eager call computes; each call
is also appended to the :class:`~dualad.compiling.recorder.Recording` as an operation on slots.
The engines see a traced array as a plain array (its level is below every transform's), so
the primal operations of a ``grad`` and the VJP rules of its backward pass are recorded alike.

Each decision Python takes on a value becomes a *guard*: ``bool()`` (an ``if`` or ``while``
on a comparison), ``int()``, ``float()``, ``complex()``, ``operator.index`` (a traced value
used as a Python index), ``.item()``, ``.tolist()``; and the shape of a result that depends on
values (boolean masks, ``nonzero``, ``unique``, integer arrays given to shape-making
functions). Conversions that would keep a value without a guard (``np.asarray``) raise.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import registry
from .._callers import scipy_caller
from ..errors import CompileError
from .recorder import Info, Op, Recording, Ref, user_line


class _State:
    recording: Recording | None = None


STATE = _State()


def recording() -> Recording | None:
    """The recording in progress, or None."""
    return STATE.recording


class Traced:
    """An array whose NumPy operations are recorded (see the module's description).

    Users meet one only inside a function given to :func:`dualad.compile`, where it behaves
    like the array it holds.
    """

    __slots__ = ("value", "slot", "rec", "__weakref__")
    __array_priority__ = 500  # below active arrays', so that a Dual's operators take over
    __hash__ = None  # type: ignore[assignment]  # like ndarray

    def __init__(self, value: Any, slot: int, rec: Recording) -> None:
        self.value = value
        self.slot = slot
        self.rec = rec

    # -- NumPy protocols ----------------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            result = _record_ufunc(ufunc, inputs)
            if result is not _GENERAL:
                return result
        if _has_active(inputs) or _has_active(kwargs.get("out") or ()):
            return NotImplemented
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        fresh = method == "__call__" and not kwargs
        return record_call(fn, inputs, kwargs, fresh=fresh)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if types.__class__ is not tuple or types != _ONLY_TRACED:
            for kind in types:
                if registry.is_active_type(kind):
                    return NotImplemented
        if func in STATIC_FUNCTIONS:  # np.shape(x), np.ndim(x): the engines ask often
            if not kwargs and len(args) == 1 and args[0].__class__ is Traced:
                return func(args[0].value)
            return func(*unwrap_values(args), **unwrap_values(kwargs))
        return record_call(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise CompileError(conversion_message(self, "np.asarray/np.array"))

    # -- attributes that do not depend on values ----------------------------------------
    # the value's (an ndarray or a NumPy scalar: both have them), read without a Python frame
    shape = property(operator.attrgetter("value.shape"), doc="The value's shape.")
    ndim = property(operator.attrgetter("value.ndim"), doc="The value's number of axes.")
    size = property(operator.attrgetter("value.size"), doc="The value's number of elements.")
    dtype = property(operator.attrgetter("value.dtype"), doc="The value's dtype.")

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def strides(self) -> tuple[int, ...]:
        return self.value.strides

    @property
    def flags(self) -> Any:
        return self.value.flags

    # -- attributes and methods that make arrays: recorded ------------------------------
    @property
    def T(self) -> Any:
        return record_attr(self, "T")

    @property
    def mT(self) -> Any:
        return record_attr(self, "mT")

    @property
    def real(self) -> Any:
        return record_attr(self, "real")

    @property
    def imag(self) -> Any:
        return record_attr(self, "imag")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        if not callable(attribute):
            raise CompileError(
                f"the attribute .{name} of a traced array at {user_line()} is not supported "
                f"inside dualad.compile: it would keep this call's values in the program."
            )
        return _Method(self, name)

    def __getitem__(self, key: Any) -> Any:
        return record_item(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        rec = _live(self)
        key_value, key_template, _ = unwrap(key)
        value_value, value_template, _ = unwrap(value)
        self.value[key_value] = value_value
        rec.ops.append(Op("setitem", None, (Ref(self.slot), key_template, value_template), {},
                          writes=self.slot))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __contains__(self, item: Any) -> bool:
        return bool(np.any(self == item))

    # -- decisions on values: guards ----------------------------------------------------
    def __bool__(self) -> bool:
        return guard_value(self, bool, "bool")

    def __int__(self) -> int:
        return guard_value(self, int, "int")

    def __float__(self) -> float:
        return guard_value(self, float, "float")

    def __complex__(self) -> complex:
        return guard_value(self, complex, "complex")

    def __index__(self) -> int:
        return guard_value(self, operator.index, "index")

    def __round__(self, ndigits: int | None = None) -> Any:
        if ndigits is None:
            return guard_value(self, round, "round")
        return np.round(self, ndigits)

    def item(self, *args: Any) -> Any:
        """The value as a Python number: a guard (the program checks it at each call)."""
        if args:
            return self[args if len(args) > 1 else args[0]].item()
        return guard_value(self, lambda v: v.item(), "item")

    def tolist(self) -> Any:
        """The values as Python numbers: a guard (the program checks them at each call)."""
        return guard_value(self, lambda v: np.asarray(v).tolist(), "tolist")

    def __repr__(self) -> str:
        return f"Traced({self.value!r}, slot={self.slot})"

    # copy.copy and copy.deepcopy of an ndarray keep its memory layout (a.copy(order="K")),
    # which decides the order of a later sum's additions
    def __copy__(self) -> Any:
        return self.copy(order="K")

    def __deepcopy__(self, memo: dict) -> Any:
        return self.copy(order="K")

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise CompileError(conversion_message(self, "pickle"))

    # for the engines' groups of views: the memory the value shows, to compare (not recorded)
    def _dualad_memory(self) -> Any:
        return self.value

    # for the tape: a traced constant it keeps is copied, as a writeable array would be
    # (C-ordered, as the tape's copies of ndarrays are: the layout decides BLAS's path; a NumPy
    # scalar is kept as it is, as the tape keeps it)
    def _dualad_frozen(self) -> Any:
        if self.value.__class__ is not np.ndarray:
            return self
        return record_call(np.copy, (self,), {"order": "C"}, fresh=True, protective=True)


class _Method:
    """A bound ndarray method of a traced array: calling it records the call."""

    __slots__ = ("owner", "name")

    def __init__(self, owner: Traced, name: str) -> None:
        self.owner = owner
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner, name = self.owner, self.name
        rec = _live(owner)
        values, templates, _ = unwrap(args)
        kw_values, kw_templates, _ = unwrap(kwargs)
        result = getattr(owner.value, name)(*values, **kw_values)
        writes = owner.slot if name in MUTATING_METHODS else None
        op = Op("method", name, (Ref(owner.slot), *templates), kw_templates, writes=writes)
        rec.ops.append(op)
        if name in MUTATING_METHODS:
            return result
        return finish_op(rec, op, result, args, kwargs, "." + name)


_ONLY_TRACED = (Traced,)
"""The ``types`` NumPy passes to ``__array_function__`` when traced arrays are the only
overriding arguments (no active value among them)."""


# --------------------------------------------------------------------------- operators


SCALAR_OPERATORS = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
    np.true_divide: operator.truediv, np.floor_divide: operator.floordiv,
    np.remainder: operator.mod, np.power: operator.pow, np.absolute: operator.abs,
}
"""Python's operators on NumPy scalars run NumPy's scalar arithmetic, not the ufuncs, and the
two differ in the last bit (complex products and absolute values, powers): an operator on
traced scalars is recorded as the operator, so that the program computes what NumPy did."""


def _on_scalars(*operands: Any) -> bool:
    """True when no operand is an array: Python's operator runs NumPy's scalar arithmetic."""
    for x in operands:
        if x.__class__ is Traced:
            x = x.value
        if not isinstance(x, (np.generic, int, float, complex)):
            return False
    return True


def _binary(ufunc: Any, reflected: bool = False) -> Any:
    def op(self: Traced, other: Any) -> Any:
        if registry.is_active(other):
            return NotImplemented
        operands = (other, self) if reflected else (self, other)
        if self.value.__class__ is not np.ndarray and ufunc in SCALAR_OPERATORS \
                and _on_scalars(self, other):
            return record_call(SCALAR_OPERATORS[ufunc], operands, {})
        result = _record_ufunc(ufunc, operands)  # what NumPy's dispatch would come to
        return ufunc(*operands) if result is _GENERAL else result
    return op


def _inplace(ufunc: Any) -> Any:
    def op(self: Traced, other: Any) -> Any:
        if registry.is_active(other):
            return NotImplemented
        if self.value.__class__ is not np.ndarray:  # a NumPy scalar: += makes a new one
            return _binary(ufunc)(self, other)
        rec = STATE.recording
        cls = other.__class__
        if rec is not None and self.rec is rec and (cls is float or cls is int or (
                cls is Traced and other.rec is rec)):  # the common case, as the general
            # path records it: NumPy passes out= as a tuple
            value, template = (other.value, Ref(other.slot)) if cls is Traced \
                else (other, other)
            ufunc(self.value, value, out=self.value)
            rec.ops.append(Op("call", ufunc, (Ref(self.slot), template),
                              {"out": (Ref(self.slot),)}, writes=self.slot))
            return self
        ufunc(self, other, out=self)
        return self
    return op


def _unary(ufunc: Any) -> Any:
    def op(self: Traced) -> Any:
        if ufunc in SCALAR_OPERATORS and _on_scalars(self):
            return record_call(SCALAR_OPERATORS[ufunc], (self,), {})
        return ufunc(self)
    return op


for _name, _ufunc in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                      ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                      ("and", np.bitwise_and), ("or", np.bitwise_or),
                      ("xor", np.bitwise_xor), ("lshift", np.left_shift),
                      ("rshift", np.right_shift), ("divmod", np.divmod)):
    setattr(Traced, f"__{_name}__", _binary(_ufunc))
    setattr(Traced, f"__r{_name}__", _binary(_ufunc, reflected=True))
    if _name != "divmod":
        setattr(Traced, f"__i{_name}__", _inplace(_ufunc))


def _fast_power(self: Traced, exponent: Any) -> Any:
    """The ufunc ndarray's ``**`` calls: for a float or complex array, ``x ** 2`` is
    ``np.square(x)``, ``x ** -1`` ``np.reciprocal(x)`` (Python ints) and ``x ** 0.5``
    ``np.sqrt(x)`` (a Python float), which differ from ``np.power`` in the last bit for complex
    values; None for the other cases (``np.power``)."""
    if self.value.__class__ is not np.ndarray or self.value.dtype.kind not in "fc":
        return None  # NumPy scalars compute ** with np.power
    cls = exponent.__class__
    if cls is int:
        return np.square if exponent == 2 else np.reciprocal if exponent == -1 else None
    return np.sqrt if cls is float and exponent == 0.5 else None


def _pow(self: Traced, exponent: Any) -> Any:
    if registry.is_active(exponent):
        return NotImplemented
    if _on_scalars(self, exponent):
        return record_call(operator.pow, (self, exponent), {})
    fast = _fast_power(self, exponent)
    return np.power(self, exponent) if fast is None else fast(self)


def _ipow(self: Traced, exponent: Any) -> Any:
    if registry.is_active(exponent):
        return NotImplemented
    if self.value.__class__ is not np.ndarray:  # a NumPy scalar: **= makes a new one
        return _pow(self, exponent)
    fast = _fast_power(self, exponent)
    if fast is None:
        return _inplace(np.power)(self, exponent)
    fast(self, out=self)
    return self


Traced.__pow__ = _pow  # type: ignore[method-assign]
Traced.__ipow__ = _ipow  # type: ignore[method-assign]
for _name, _ufunc in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                      ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
    setattr(Traced, f"__{_name}__", _binary(_ufunc))
for _name, _ufunc in (("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                      ("invert", np.invert)):
    setattr(Traced, f"__{_name}__", _unary(_ufunc))
del _name, _ufunc


# --------------------------------------------------------------------------- recording

STATIC_FUNCTIONS = frozenset((
    np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj,
    np.may_share_memory, np.shares_memory, np.min_scalar_type, np.broadcast_shapes,
))
"""NumPy functions whose result depends on shapes and dtypes only: run, not recorded."""

MUTATING_METHODS = frozenset(("sort", "fill", "put", "partition", "resize", "itemset",
                              "setfield", "setflags"))
"""ndarray methods that write into the array."""

VALUE_SHAPED = frozenset((
    np.nonzero, np.argwhere, np.flatnonzero, np.unique, np.unique_all, np.unique_counts,
    np.unique_inverse, np.unique_values, np.compress, np.extract, np.trim_zeros,
    np.intersect1d, np.union1d, np.setdiff1d, np.setxor1d, np.histogram,
    np.histogram_bin_edges, np.histogram2d, np.histogramdd, np.bincount,
))
"""NumPy functions the shape of whose result depends on the values of their arguments."""

VALUE_DTYPED = frozenset((
    np.linalg.eig, np.linalg.eigvals, np.roots, np.real_if_close, np.emath.sqrt,
    np.emath.log, np.emath.log2, np.emath.log10, np.emath.logn, np.emath.power,
    np.emath.arccos, np.emath.arcsin, np.emath.arctanh,
))
"""NumPy functions whose result is real or complex depending on the values of their arguments
(``np.linalg.eig`` of a matrix with real eigenvalues is real): the program checks which."""

_SHAPE_STATIC = frozenset((np.where, np.take, np.take_along_axis, np.choose, np.select,
                           np.searchsorted, np.digitize, np.put_along_axis, np.copy,
                           np.logical_not, np.sum, np.any, np.all, np.count_nonzero,
                           np.cumsum, np.zeros_like, np.ones_like, np.empty_like,
                           np.full_like, np.isin, np.concatenate, np.stack, np.argsort,
                           np.sort, np.clip, np.broadcast_to, np.reshape, np.transpose,
                           np.ravel, np.squeeze, np.expand_dims, np.moveaxis, np.swapaxes,
                           np.atleast_1d, np.atleast_2d, np.atleast_3d, np.asarray,
                           *SCALAR_OPERATORS.values()))
"""Functions of integer or boolean arrays whose result's shape never depends on values
(the others get a shape guard, see :func:`_needs_shape_guard`)."""


def _has_active(items: Any) -> bool:
    for x in items:
        if registry.is_active(x):
            return True
        if x.__class__ in (list, tuple) and _has_active(x):
            return True
    return False


def _live(x: Traced) -> Recording:
    rec = x.rec
    if rec.closed or STATE.recording is not rec:
        raise CompileError(
            f"a traced array of a dualad.compile recording that has finished was used at "
            f"{user_line()} (kept in a global variable, a list or an attribute during the "
            f"recording). Return the value from the compiled function instead."
        )
    return rec


def unwrap(obj: Any) -> tuple[Any, Any, bool]:
    """``obj``'s value (traced arrays replaced by what they hold), its template (replaced by
    :class:`Ref`) and whether it held any traced array."""
    cls = obj.__class__
    if cls is Traced:
        _live(obj)
        return obj.value, Ref(obj.slot), True
    if cls is tuple or cls is list:
        values, templates, found = [], [], False
        for item in obj:
            v, t, f = unwrap(item)
            values.append(v)
            templates.append(t)
            found = found or f
        if not found:
            return obj, obj, False
        return cls(values), cls(templates), True
    if cls is dict:
        values, templates, found = {}, {}, False
        for key, item in obj.items():
            v, t, f = unwrap(item)
            values[key] = v
            templates[key] = t
            found = found or f
        return (values, templates, True) if found else (obj, obj, False)
    if cls is slice and (obj.start.__class__ is Traced or obj.stop.__class__ is Traced
                         or obj.step.__class__ is Traced):
        # the bounds make the result's shape (x[:n]): NumPy reads them with __index__, a
        # decision on their values that the program checks (a guard per traced bound)
        bounds = slice(*(guard_value(p, operator.index, "index") if p.__class__ is Traced
                         else p for p in (obj.start, obj.stop, obj.step)))
        return bounds, bounds, True
    if cls is np.ndarray and not obj.dtype.hasobject:
        rec = STATE.recording
        if rec is not None:
            rec.note_constant(obj)
            rec.constant_ops.add(len(rec.ops))  # the operation about to be appended
        return obj, obj, False
    if cls is np.ndarray:
        raise CompileError(
            f"an object array of traced values (np.array([a, b]) of traced numbers) at "
            f"{user_line()}: write np.stack([a, b]) (or np.array of plain numbers) inside "
            f"dualad.compile."
        )
    return obj, obj, False


def unwrap_values(obj: Any) -> Any:
    return unwrap(obj)[0]


_GENERAL = object()
"""What :func:`_record_ufunc` returns for a call it leaves to the general path."""


def _record_ufunc(ufunc: Any, inputs: tuple) -> Any:
    """The common case of a ufunc call, recorded without the general unwrapping: every
    operand a live traced array or a Python float or int, no keyword arguments, one result.
    ``_GENERAL`` for any other call."""
    rec = STATE.recording
    if rec is None or ufunc.nout != 1:
        return _GENERAL
    values = []
    templates = []
    for x in inputs:
        cls = x.__class__
        if cls is Traced:
            if x.rec is not rec:
                return _GENERAL  # a finished recording's value: the general path says so
            values.append(x.value)
            templates.append(Ref(x.slot))
        elif cls is float or cls is int or (isinstance(x, np.generic)
                                            and x.__class__ is not np.bool_):
            values.append(x)
            templates.append(x)
        else:
            return _GENERAL
    result = ufunc(*values)  # an ndarray or a NumPy scalar
    slot = rec.next_slot  # (Recording.new_slot, inlined: this runs for most operations)
    rec.next_slot = slot + 1
    rec.info[slot] = Info.of(result)
    rec.ops.append(Op("call", ufunc, tuple(templates), {}, slot, fresh=True))
    return Traced(result, slot, rec)


_SCALARS = frozenset((int, float, bool, complex, str, type(None), type(Ellipsis)))
"""Classes of operands kept in a template as they are."""


def _unwrap_items(items: Any) -> tuple[tuple, tuple]:
    """The values and templates of a call's positional arguments (see :func:`unwrap`)."""
    values = []
    templates = []
    for x in items:
        cls = x.__class__
        if cls is Traced:
            _live(x)
            values.append(x.value)
            templates.append(Ref(x.slot))
        elif cls in _SCALARS:
            values.append(x)
            templates.append(x)
        else:
            value, template, _ = unwrap(x)
            values.append(value)
            templates.append(template)
    return tuple(values), tuple(templates)


def record_call(fn: Any, args: Any, kwargs: dict, *, fresh: bool = False,
                protective: bool = False) -> Any:
    """Run ``fn`` on the values of ``args`` and ``kwargs`` and record the call."""
    rec = STATE.recording
    values, templates = _unwrap_items(args)
    if kwargs:
        kw_values, kw_templates, _ = unwrap(kwargs)
    else:
        kw_values, kw_templates = kwargs, {}
    if rec is None:
        raise CompileError(
            f"{registry.numpy_name(fn)} of a traced array after its dualad.compile recording "
            f"finished, at {user_line()}: return the value from the compiled function instead."
        )
    result = fn(*values, **kw_values)
    out = kwargs.get("out")
    writes = None
    if out is not None:
        target = out[0] if out.__class__ is tuple else out
        if target.__class__ is not Traced:
            raise CompileError(
                f"{registry.numpy_name(fn)}(..., out=...) writes a traced result into a plain "
                f"array at {user_line()}: the program could not see it. Assign the result "
                f"instead, or make the buffer from a traced value (np.zeros_like(x))."
            )
        writes = target.slot
    op = Op("call", fn, templates, kw_templates, writes=writes, fresh=fresh)
    if protective:
        op.check = "protective"
    rec.ops.append(op)
    if writes is not None:
        return out
    return finish_op(rec, op, result, args, kwargs, fn)


def record_attr(x: Traced, name: str) -> Any:
    rec = _live(x)
    op = Op("attr", name, (Ref(x.slot),), {})
    rec.ops.append(op)
    return finish_op(rec, op, getattr(x.value, name), (x,), {}, "." + name)


_BASIC_KEYS = frozenset((int, type(None), type(Ellipsis)))


def _basic_key(key: Any) -> bool:
    """True for a key of plain ints, slices of plain ints, None and Ellipsis: it indexes
    without a traced value and its result is a view."""
    for k in key if key.__class__ is tuple else (key,):
        cls = k.__class__
        if cls is slice:
            if not (k.start.__class__ in _BASIC_KEYS and k.stop.__class__ in _BASIC_KEYS
                    and k.step.__class__ in _BASIC_KEYS):
                return False
        elif cls not in _BASIC_KEYS:
            return False
    return True


def record_item(x: Traced, key: Any) -> Any:
    rec = _live(x)
    if _basic_key(key):
        value = x.value[key]
        op = Op("getitem", None, (Ref(x.slot), key), {})
        op.view = value.__class__ is np.ndarray
        rec.ops.append(op)
        op.outs, wrapped = _wrap(rec, value)
        return wrapped
    key_value, key_template, traced_key = unwrap(key)
    op = Op("getitem", None, (Ref(x.slot), key_template), {})
    rec.ops.append(op)
    value = x.value[key_value]
    op.view = value.__class__ is np.ndarray and value.base is not None \
        and np.may_share_memory(value, x.value)
    result = finish_op(rec, op, value, (), {}, "[]")
    if traced_key and _key_has_mask_or_indices(key_value):
        _shape_guard(rec, result)
    return result


def _key_has_mask_or_indices(key: Any) -> bool:
    items = key if key.__class__ is tuple else (key,)
    return any(isinstance(k, (np.ndarray, list)) or (isinstance(k, np.generic)
                                                      and k.dtype == bool) for k in items)


def finish_op(rec: Recording, op: Op, result: Any, args: Any, kwargs: dict, fn: Any) -> Any:
    """Give the result of ``op`` slots (traced arrays), and guard its shape if it may depend
    on values."""
    op.outs, wrapped = _wrap(rec, result)
    if fn.__class__ is str:  # a method: fn is ".name"
        if fn in (".nonzero", ".compress") or _needs_shape_guard(None, args, kwargs):
            _shape_guard(rec, wrapped)
        return wrapped
    if fn in VALUE_DTYPED:
        _complex_guard(wrapped)
    if (fn in VALUE_SHAPED and args and args[0].__class__ is Traced) or (
            not isinstance(fn, (np.ufunc, str)) and fn is not None
            and _needs_shape_guard(fn, args, kwargs)):
        _shape_guard(rec, wrapped)
    return wrapped


def _needs_shape_guard(fn: Any, args: Any, kwargs: dict) -> bool:
    """True when an integer or boolean traced array reaches a function that may make a
    shape from its values (``np.repeat(x, counts)``, ``np.split(x, indices)``)."""
    if fn in _SHAPE_STATIC:
        return False
    for x in (*args, *kwargs.values()):
        items = x if x.__class__ in (list, tuple) else (x,)
        for item in items:
            if item.__class__ is Traced and item.dtype.kind in "biu":
                return True
    return False


def _wrap(rec: Recording, result: Any) -> tuple[Any, Any]:
    cls = result.__class__
    if cls is np.ndarray or isinstance(result, (np.generic, bool, int, float, complex)):
        python_number = cls is bool or cls is int or cls is float or cls is complex
        if python_number:
            result = np.asarray(result)[()]
        slot = rec.new_slot(result)
        if python_number:
            rec.python_scalars.add(slot)
        return slot, Traced(result, slot, rec)
    if isinstance(result, (tuple, list)):  # unpacked in the program (np.split's list too)
        parts = [_wrap(rec, item) for item in result]
        outs = tuple(p[0] for p in parts)
        items = [p[1] for p in parts]
        wrapped = cls(*items) if hasattr(cls, "_fields") else cls(items)
        return outs, wrapped
    if result is None:
        return None, None
    raise CompileError(
        f"a NumPy call at {user_line()} returned a {cls.__name__}, which dualad.compile "
        f"cannot record."
    )


def _shape_guard(rec: Recording, wrapped: Any) -> None:
    parts = wrapped if isinstance(wrapped, tuple) else (wrapped,)
    line = user_line()
    for part in parts:
        if part.__class__ is Traced:
            rec.ops.append(Op("guard", None, (Ref(part.slot),), {}, check="shape",
                              expected=part.shape, line=line))


def _complex_guard(wrapped: Any) -> None:
    """Guard that each part of a result is complex (or real) as at the recording."""
    for part in wrapped if isinstance(wrapped, tuple) else (wrapped,):
        if part.__class__ is Traced:
            guard_value(record_call(np.iscomplexobj, (part,), {}), bool, "bool")


def guard_value(x: Traced, convert: Any, what: str) -> Any:
    """``convert(x.value)``, with a guard that the program checks at each call."""
    rec = _live(x)
    value = convert(x.value)
    rec.ops.append(Op("guard", what, (Ref(x.slot),), {}, check="value", expected=value,
                      line=user_line()))
    return value


def conversion_message(x: Traced, what: str) -> str:
    """Why converting a traced array is refused, naming the caller where there is one."""
    scipy_function = scipy_caller()
    if scipy_function:
        return (
            f"{scipy_function} calls {what} on its arguments at {user_line()}: SciPy's own "
            f"code runs on plain numbers, which dualad.compile cannot record (a later call "
            f"would replay this call's values). Call {scipy_function} outside the compiled "
            f"function (compile the code before and after it separately), or call the "
            f"function without dualad.compile."
        )
    where = f"{what} of a traced array at {user_line()}"
    return (
        f"{where}: inside dualad.compile that would keep this call's values in the program "
        f"(a later call with other values would replay them). Keep the array as it is "
        f"(NumPy functions accept traced arrays), write np.stack([...]) instead of "
        f"np.array([...]) of traced values, or call the function without dualad.compile."
    )


registry.register_array_type(Traced, registry.ArrayKind(
    memory=Traced._dualad_memory, frozen=Traced._dualad_frozen,
    shares_memory=lambda a, b: bool(np.may_share_memory(a.value, b.value)),
    copy=lambda x, order: x.copy(order=order), ufunc_methods=True, in_place=True))
