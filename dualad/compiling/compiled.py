"""``dualad.compile``: record a function's NumPy operations once, replay them at NumPy speed.

The first call with arguments of a given structure, shapes and dtypes runs the function on
traced arrays (:mod:`dualad.compiling.traced`) and keeps the straight-line program of the
NumPy calls it made, derivative rules included; later calls with arguments of the same kind run
that program (:mod:`dualad.compiling.source`) with no dispatch, tape or tracing. A guard that
fails (the function would take another branch) makes the call record again, or raise with
``strict=True``.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import registry
from ..errors import CompileError, GuardError, InvalidInputError
from ..introspect import positional_names
from ..tree import LEAF, TreeDef, flatten, sorted_keys, unflatten
from .randomness import GENERATORS, GLOBAL, draws, generator_state
from .recorder import Op, Recording, fingerprint, map_leaves
from .source import (
    GuardFailure,
    Namer,
    compile_program,
    constants_source,
    program_source,
    same,
    simplify,
)
from .traced import STATE, Traced, unwrap

KEPT_BYTES = 1 << 20
"""Arguments of a recording up to this size are kept, so that ``.source`` can record again
with the user's variable names; larger ones are kept by weak reference only."""

MAX_VARIANTS = 8
"""Programs kept for one kind of arguments (one per combination of decisions met)."""


class Program:
    """One recording, ready to replay: its operations, outputs and (once built) its code."""

    def __init__(self, rec: Recording, outputs: list[int | None], constants: list[Any],
                 out_tree: TreeDef, input_names: Callable[[], dict[int, str]]) -> None:
        self.rec = rec
        self.outputs = outputs
        self.constants = constants
        self.out_tree = out_tree
        self._input_names = input_names
        """The inputs' names for the source, worked out when the source is first written."""
        self._ops: list[Op] | None = None
        self.guards: list[Op] = []
        self.as_tuple = bool(outputs) and None not in outputs \
            and out_tree == tuple_treedef(len(outputs))
        """The program returns a tuple of its outputs (a jvp's pair), as the caller gets it."""
        self.one = out_tree is LEAF and outputs[0] is not None
        """The program returns its one output."""
        self.single = self.one or self.as_tuple
        """The program returns the result as it is (no list, no tree to build)."""
        self._function: Callable[..., Any] | None = None
        self.bindings: list[tuple[Any, Any, Any, int]] = []
        self.named = False
        """The user's variable names were read (a second recording, for the source)."""
        self._text: str | None = None
        self._namer: Namer | None = None

    @property
    def ops(self) -> list[Op]:
        """The operations replayed (simplified at the first replay, not at the recording)."""
        if self._ops is None:
            self._ops = simplify(self.rec, [o for o in self.outputs if o is not None])
            self.guards = [op for op in self._ops if op.kind == "guard"]
        return self._ops

    @property
    def n_ops(self) -> int:
        """The number of NumPy operations replayed (guards not counted)."""
        return len(self.ops) - len(self.guards)

    def _build(self) -> Callable[..., Any]:
        namer = Namer(self.rec, self._input_names())
        ops = self.ops
        text = program_source(self.rec, ops, self.outputs, namer, single=self.one,
                              as_tuple=self.as_tuple)
        self._namer, self._text = namer, text
        self._function = compile_program(text, namer, len(self.guards))
        return self._function

    def run(self, arrays: list[Any]) -> Any:
        """The outputs for these input leaves, or a GuardFailure."""
        function = self._function or self._build()
        for holder, name, kept, print_ in self.bindings:
            if not _unchanged(holder.cell_contents if name is None else holder.get(name),
                              kept, print_):
                return REBOUND
        leaves = function(*arrays)
        if self.single or leaves.__class__ is GuardFailure:
            return leaves
        if self.constants:
            leaves = [_fresh(c) if o is None else leaf
                      for o, c, leaf in zip(self.outputs, self.constants, leaves)]
        if self.out_tree is LEAF:
            return leaves[0]
        return unflatten(self.out_tree, leaves)

    @property
    def source(self) -> str:
        """The program as Python source that runs with NumPy alone."""
        if self._text is None:
            self._function = None
            self._build()
        header = ["import numpy as np"]
        if "operator." in self._text:
            header.append("import operator")
        if "scipy." in self._text:
            header.append("import scipy.special")
        constants = constants_source(self._namer)
        if "base64" in constants:
            header.insert(0, "import base64")
        helpers = "" if "_same(" not in self._text and "_FAILED" not in self._text else (
            "class GuardFailure:\n"
            "    def __init__(self, index):\n        self.index = index\n\n\n"
            f"_FAILED = [GuardFailure(i) for i in range({len(self.guards)})]\n\n\n"
            "def _same(a, b):\n    return a == b or (a != a and b != b)\n")
        parts = ["\n".join(header), helpers, constants, self._text]
        return "\n\n".join(p.strip("\n") for p in parts if p) + "\n"

    def guard_message(self, failure: GuardFailure) -> str:
        if failure is REBOUND:
            names = ", ".join(name or "a variable of an enclosing function"
                              for _, name, _, _ in self.bindings)
            return (f"an array the function reads from outside ({names}) was rebound or "
                    f"written into since the recording. With strict=False it records again; "
                    f"pass the array as an argument to avoid that.")
        op = self.guards[failure.index]
        what = {"bool": "a branch (bool of a traced value)", "int": "int() of a traced value",
                "float": "float() of a traced value", "index": "a traced value used as an "
                "index", "item": ".item()", "tolist": ".tolist()", "complex": "complex()",
                "round": "round()"}.get(op.fn, "the shape of a result that depends on values")
        return (f"the compiled function took another decision than at its recording: "
                f"{what} at {op.line} (recorded: {op.expected!r}). With strict=False it "
                f"records again for these values.")


REBOUND = GuardFailure(-1)
"""The failure of a replay whose function reads a global (or enclosing) name that now refers
to another array than at the recording."""


def bindings(fun: Any) -> list[tuple[Any, Any, Any, int]]:
    """Where ``fun`` and the functions it wraps or calls by name find arrays they do not
    receive as arguments: ``(globals, name, array, fingerprint)`` or ``(cell, None, array,
    fingerprint)`` for each global or enclosing variable that holds an ndarray, so that a
    replay can check that the names still refer to the arrays the recording read, with the
    same values."""
    found: list[tuple[Any, Any, Any, int]] = []
    seen: set[int] = set()
    stack = [fun]
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        f = getattr(f, "__func__", f)
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None:
            stack.append(wrapped)
        code = getattr(f, "__code__", None)
        if code is None or getattr(f, "__module__", None) == "numpy" or \
                str(getattr(f, "__module__", None)).startswith("numpy."):
            continue
        module_globals = f.__globals__
        own = not str(module_globals.get("__name__", "")).startswith("dualad.")
        for name in code.co_names if own else ():
            obj = module_globals.get(name)
            if _watched(obj):
                found.append((module_globals, name, obj, _token(obj)))
            elif callable(obj) and hasattr(obj, "__code__"):
                stack.append(obj)
        for cell in f.__closure__ or ():
            try:
                obj = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if _watched(obj):
                if own:
                    found.append((cell, None, obj, _token(obj)))
            elif callable(obj):
                stack.append(obj)
    return found


_NUMBERS = (bool, int, float, complex, np.generic)


def _watched(obj: Any) -> bool:
    """Values read from outside that a replay checks: arrays, numbers, random generators."""
    return obj.__class__ is np.ndarray or isinstance(obj, _WATCHED)


_WATCHED = (*_NUMBERS, *GENERATORS)




def _token(obj: Any) -> Any:
    if obj.__class__ is np.ndarray:
        return fingerprint(obj)
    if isinstance(obj, GENERATORS):
        return generator_state(obj)
    return obj


def _unchanged(current: Any, kept: Any, token: Any) -> bool:
    """The name still refers to ``kept`` with the values it had (an equal number will do);
    a generator is kept as it is, since the recording refused functions that draw from it."""
    if current is not kept:
        return current.__class__ is kept.__class__ and isinstance(kept, _NUMBERS) \
            and same(current, kept)
    return kept.__class__ is not np.ndarray or fingerprint(kept) == token


def snapshot(rec: Recording) -> None:
    """Replace the writeable plain arrays the operations read by read-only copies: a program
    reads the values they had at the recording, as ``jax.jit`` does (arrays that change are
    passed as arguments)."""
    copies = {id(array): kept for array, kept in rec.constants.values()
              if array.flags.writeable}
    rec.constants = {}
    def copied(leaf: Any) -> Any:
        return copies.get(id(leaf), leaf) if leaf.__class__ is np.ndarray else leaf

    if copies:
        ops = rec.ops
        for op in (ops[i] for i in sorted(rec.constant_ops) if i < len(ops)):
            op.args = map_leaves(op.args, copied)
            op.kwargs = map_leaves(op.kwargs, copied)


def _weak(leaf: Any) -> Any:
    """A weak reference to an array (the caller's, not to be kept alive), a value else."""
    return weakref.ref(leaf) if leaf.__class__ is np.ndarray else leaf


def _fresh(constant: Any) -> Any:
    return constant.copy() if isinstance(constant, np.ndarray) else constant


class Compiled:
    """A function compiled by :func:`compile`: call it as the function itself."""

    def __init__(self, fun: Callable[..., Any], strict: bool) -> None:
        self.fun = fun
        self.strict = strict
        self._programs: dict[Any, list[Program]] = {}
        self._flat: dict[tuple, Program] = {}
        self._recorded_with: tuple[TreeDef, list[Any]] | None = None
        self._last_key: tuple | None = None
        self._last_function: Callable[..., Any] | None = None
        """Shapes and dtypes of positional ndarray arguments -> the program recorded last."""
        self.program: Program | None = None
        self.recordings = 0
        functools.update_wrapper(self, fun)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs:  # the common case: arrays only, as positional arguments
            key = []
            for a in args:
                if a.__class__ is not np.ndarray:
                    break
                key.append(a.shape)
                key.append(a.dtype)
            else:
                key = tuple(key)
                if key == self._last_key and STATE.recording is None:
                    # the last program: one output, nothing read from outside
                    result = self._last_function(*args)
                    if result.__class__ is not GuardFailure:
                        return result
                program = self._flat.get(key)
                if program is not None and STATE.recording is None:
                    result = program.run(args)
                    if result.__class__ is not GuardFailure:
                        self.program = program
                        if program.single and not program.bindings:
                            self._last_key, self._last_function = key, program._function
                        return result
        return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        if STATE.recording is not None:  # inside another recording: its operations are ours
            return self.fun(*args, **kwargs)
        if not kwargs and all(a.__class__ is np.ndarray for a in args):
            leaves, treedef = list(args), positional_treedef(len(args))
        else:
            leaves, treedef = flatten((args, kwargs))
        key: list[Any] = [treedef]
        arrays = []
        for leaf in leaves:
            cls = leaf.__class__
            if cls is np.ndarray:
                if leaf.dtype.hasobject:
                    return self.fun(*args, **kwargs)  # object arrays of active scalars
                key.append((leaf.shape, leaf.dtype.str))
                arrays.append(leaf)
            elif isinstance(leaf, np.generic):
                key.append((None, leaf.dtype.str))
                arrays.append(leaf)
            elif registry.is_active(leaf) or registry.is_array(leaf):
                return self.fun(*args, **kwargs)  # grad(compile(f)): differentiate f itself
            else:
                try:
                    hash(leaf)
                except TypeError:
                    raise InvalidInputError(
                        f"dualad.compile: an argument leaf of type {cls.__name__} is neither "
                        f"an array nor a hashable value (Python numbers, strings and None "
                        f"are part of the cache key)") from None
                key.append((cls, leaf))
        cache_key = tuple(key)
        variants = self._programs.setdefault(cache_key, [])
        failed = None
        for program in variants:
            result = program.run(arrays)
            if result.__class__ is not GuardFailure:
                self.program = program
                return result
            failed = program.guard_message(result)
        if failed is not None and self.strict:
            raise GuardError(failed)
        program, result = record(self.fun, args, kwargs, leaves, treedef)
        self.recordings += 1
        self._last_key = None
        small = sum(getattr(leaf, "nbytes", 0) for leaf in leaves) <= KEPT_BYTES
        self._recorded_with = (treedef, [leaf if small else _weak(leaf) for leaf in leaves])
        variants.insert(0, program)
        del variants[MAX_VARIANTS:]
        self.program = program
        if not kwargs and all(a.__class__ is np.ndarray and not a.dtype.hasobject
                              for a in args):
            self._flat[tuple(x for a in args for x in (a.shape, a.dtype))] = program
        return result

    @property
    def source(self) -> str:
        """The Python source of the program of the last call (see :func:`compile`)."""
        if self.program is None:
            raise CompileError("the compiled function has not been called yet: call it "
                               "once, then read .source")
        if not self.program.named and self._recorded_with is not None:
            treedef, refs = self._recorded_with
            leaves = [ref() if isinstance(ref, weakref.ref) else ref for ref in refs]
            if all(leaf is not None for leaf in leaves):  # the arrays are still alive
                args, kwargs = unflatten(treedef, leaves)
                named, _ = record(self.fun, args, kwargs, leaves, treedef, names=True)
                if len(named.ops) == len(self.program.ops):
                    self.program.rec.names.update(named.rec.names)
                    self.program.named = True
                    self.program._text = None
        return self.program.source


def compile(fun: Callable[..., Any], *, strict: bool = False) -> Compiled:  # noqa: A001
    """Record ``fun``'s NumPy operations at its first call and replay them afterwards.

    ``fun`` is any function of arrays, transformed ones included: ``compile(grad(f))``,
    ``compile(jacfwd(f))``, ``compile(lambda x, v: jvp(f, (x,), (v,)))``. The first call
    with arguments of a given structure, shapes and dtypes runs ``fun`` and records the
    NumPy calls it makes (the primal operations and the derivative rules alike) as a
    straight-line program; later calls with arguments of the same kind replay it. Python
    numbers, strings and None among the arguments are part of the cache key.

    Every decision ``fun`` takes on a value (an ``if`` on a comparison, ``int()``,
    ``float()``, ``len()`` of a mask's result, a shape that depends on values) becomes a
    *guard* that the replay checks; when one fails, the call records again (a compiled
    function keeps up to 8 programs per kind of arguments), or raises
    :class:`~dualad.GuardError` naming the line with ``strict=True``.

    Parameters
    ----------
    fun : callable
        A function of arrays and pytrees of arrays.
    strict : bool
        Raise instead of recording again when a guard fails.

    Returns
    -------
    Compiled
        Called like ``fun``; ``.source`` is the program of the last call as Python source,
        ``.program.n_ops`` its number of operations, ``.recordings`` how often it recorded.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> def rosenbrock(x):
    ...     return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    >>> g = dualad.compile(dualad.grad(rosenbrock))
    >>> g(np.array([1.0, 2.0, 3.0]))
    array([-400., 1002., -200.])
    >>> g(np.array([0.5, 0.5, 0.5]))  # replayed
    array([-51.,  -1.,  50.])
    >>> g.recordings
    1
    """
    if not callable(fun):
        raise InvalidInputError(f"dualad.compile needs a function, got {type(fun).__name__}")
    return Compiled(fun, strict)


def record(fun: Callable[..., Any], args: tuple, kwargs: dict, leaves: list[Any],
           treedef: TreeDef, names: bool = False) -> tuple[Program, Any]:
    """Run ``fun`` on traced arguments; the program and the call's result."""
    rec = Recording()
    traced_leaves = []
    for leaf in leaves:
        if leaf.__class__ is np.ndarray or isinstance(leaf, np.generic):
            slot = rec.new_slot(leaf)
            rec.inputs.append(slot)
            traced_leaves.append(Traced(leaf, slot, rec))
        else:
            traced_leaves.append(leaf)
    if not kwargs and treedef is positional_treedef(len(args)):
        traced_args, traced_kwargs = tuple(traced_leaves), {}
    else:
        traced_args, traced_kwargs = unflatten(treedef, traced_leaves)
    found = bindings(fun)
    global_random = GLOBAL.read()
    previous = STATE.recording
    STATE.recording = rec
    try:
        if names:
            out = _watching_locals(fun, rec, traced_args, traced_kwargs)
        else:
            out = fun(*traced_args, **traced_kwargs)
        out_leaves, out_tree = _flatten_result(out)
        outputs: list[int | None] = []
        constants: list[Any] = []
        results = []
        for i, leaf in enumerate(out_leaves):
            if leaf.__class__ is Traced:
                value = unwrap(leaf)[0]
                outputs.append(leaf.slot)
                constants.append(None)
                results.append(value)
            elif registry.is_active(leaf):
                raise CompileError(
                    f"output {i + 1} of the compiled function is an active value of a "
                    f"dualad transform that is still running (a leaked value): return "
                    f"derivatives from inside the transform")
            else:
                outputs.append(None)
                constants.append(leaf)
                results.append(leaf)
        if draws([(obj, token) for _, _, obj, token in found
                  if isinstance(obj, GENERATORS)], global_random):
            raise CompileError(
                "the function draws random numbers (from np.random or a generator it reads "
                "from outside): a replay would repeat this call's draws. Draw them outside "
                "and pass them as an argument.")
        changed = rec.changed_constants()
        if changed:
            raise CompileError(
                f"the function wrote into a plain array (shape {changed[0].shape}, dtype "
                f"{changed[0].dtype}) after a NumPy operation on traced values read it: a "
                f"replay would read the new values there. Write into a copy "
                f"(buffer = buffer.copy()) or build a new array instead.")
    finally:
        STATE.recording = previous
        rec.closed = True
    arity = _arity(args, kwargs)

    def input_names() -> dict[int, str]:
        return _input_names(rec, arity, parameter_names(fun))
    program = Program(rec, outputs, constants, out_tree, input_names)
    program.bindings = found
    snapshot(rec)
    result = results[0] if out_tree is LEAF else unflatten(out_tree, results)
    return program, result


def _flatten_result(out: Any) -> tuple[list[Any], TreeDef]:
    """``flatten(out)``, quicker for one traced array or a tuple of them (a jvp's pair)."""
    if out.__class__ is Traced:
        return [out], LEAF
    if out.__class__ is tuple and all(item.__class__ is Traced for item in out):
        return list(out), tuple_treedef(len(out))
    return flatten(out)


@functools.lru_cache(maxsize=64)
def tuple_treedef(n: int) -> TreeDef:
    """The structure of a tuple of ``n`` arrays."""
    return flatten((np.empty(0),) * n)[1]


@functools.lru_cache(maxsize=64)
def positional_treedef(n: int) -> TreeDef:
    """The structure of ``(args, {})`` for ``n`` array arguments (the common call)."""
    return flatten(((np.empty(0),) * n, {}))[1]


@functools.lru_cache(maxsize=256)
def parameter_names(fun: Callable[..., Any]) -> tuple[str, ...]:
    """``fun``'s positional parameters, or those of the function a transform of dualad
    wraps."""
    params = positional_names(fun)
    if not params:  # a transform's wrapper: the parameters of the function it transforms
        user_functions = _user_functions(fun)
        params = positional_names(user_functions[0]) if user_functions else ()
    return params


def _arity(args: tuple, kwargs: dict) -> list[tuple[Any, list[bool]]]:
    """Each argument's key (position or keyword) and, for each of its leaves, whether it is
    an array (an input of the program)."""
    arity: list[tuple[Any, list[bool]]] = []
    for key, arg in (*enumerate(args), *((k, kwargs[k]) for k in sorted_keys(kwargs))):
        if arg.__class__ is np.ndarray:
            arity.append((key, [True]))
        else:
            arity.append((key, [leaf.__class__ is np.ndarray or isinstance(leaf, np.generic)
                                for leaf in flatten(arg)[0]]))
    return arity


def _input_names(rec: Recording, arity: list[tuple[Any, list[bool]]],
                 params: tuple[str, ...]) -> dict[int, str]:
    """The inputs' names: the parameter's name for an array argument, ``name_k`` for the
    leaves of a pytree argument, ``a<k>`` where the parameter is unknown."""
    leaf_names: list[str] = []
    for key, arrays in arity:
        if key.__class__ is int:
            base = params[key] if key < len(params) else f"a{key}"
        else:
            base = str(key)
        n = len(arrays)
        leaf_names += [base if n == 1 else f"{base}_{k}"
                       for k, array in enumerate(arrays) if array]
    if len(leaf_names) != len(rec.inputs):
        return {}
    return dict(zip(rec.inputs, leaf_names))


def _user_codes(fun: Any) -> set[Any]:
    """The code objects of the user's functions that ``fun`` is or wraps (through dualad's
    transforms, which keep the function they transform in a closure)."""
    return {f.__code__ for f in _user_functions(fun)}


def _user_functions(fun: Any) -> list[Any]:
    """The user's functions that ``fun`` is or wraps, outermost first."""
    found: list[Any] = []
    seen: set[int] = set()
    stack = [fun]
    while stack:
        f = stack.pop(0)
        if id(f) in seen:
            continue
        seen.add(id(f))
        f = getattr(f, "__func__", f)
        if getattr(f, "__wrapped__", None) is not None:
            stack.append(f.__wrapped__)
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        module = str(f.__globals__.get("__name__", ""))
        if not module.startswith(("dualad.", "numpy")):
            found.append(f)
        for cell in f.__closure__ or ():
            try:
                obj = cell.cell_contents
            except ValueError:
                continue
            if callable(obj):
                stack.append(obj)
    return found


def _watching_locals(fun: Any, rec: Recording, args: tuple, kwargs: dict) -> Any:
    """``fun(*args, **kwargs)``, naming slots after the local variables of the user's
    functions that hold them (read at each line and at return)."""
    codes = _user_codes(fun)

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        return on_local if frame.f_code in codes else None

    def on_local(frame: Any, event: str, arg: Any) -> Any:
        if event in ("line", "return"):
            _name_locals(rec, frame)
        return on_local

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return fun(*args, **kwargs)
    finally:
        sys.settrace(previous)


def _name_locals(rec: Recording, frame: Any) -> None:
    for name, value in frame.f_locals.items():
        while registry.is_active(value):
            value = value.primal
        if value.__class__ is Traced and value.rec is rec and value.slot not in rec.names \
                and value.slot not in rec.inputs and not name.startswith("_"):
            rec.names[value.slot] = name
