"""Pytrees, as in JAX: nested containers of arrays flattened to a list of leaves and rebuilt.

The nodes are tuples, lists, dicts, named tuples, ``None`` (a node without children) and the
types registered with :func:`register_pytree_node` or :func:`register_dataclass`; everything
else is a leaf. Every transform flattens its arguments and results here, and nowhere else.

Dict keys are visited in sorted order, as in JAX (an ``OrderedDict`` in its own order, and
rebuilt as one; a ``defaultdict`` keeps its factory). Keys that cannot be compared with each
other (``{1: x, "a": y}``, which JAX refuses) are ordered numbers first, then by the name of
their type, each group in its own order: the same order for every dict with those keys, so
arguments, tangents, cotangents and results agree.

Dataclasses are not nodes until registered, as in JAX: registering says which fields are
differentiated and which are fixed (``field(metadata=dict(static=True))``), and that the class
can be rebuilt from its fields. An unregistered one reaching a transform is refused with the
line to add (:func:`unregistered_message`).
"""

from __future__ import annotations

import dataclasses
import numbers
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from .errors import DualadError, InvalidInputError, RegistrationError, ShapeMismatchError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, eq=False)
class TreeDef:
    """The structure of a pytree: a node kind, its keys and its children's structures.

    ``kind`` is one of ``"leaf"``, ``"none"``, ``"tuple"``, ``"list"``, ``"dict"``,
    ``"namedtuple"`` and ``"custom"`` (a registered type, ``node_type``, whose flatten
    function returned ``aux``).
    """

    kind: str
    children: tuple[TreeDef, ...] = ()
    keys: tuple[Any, ...] = ()
    node_type: Any = None
    aux: Any = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeDef):
            return NotImplemented
        return (self.kind == other.kind and self.node_type is other.node_type
                and self.keys == other.keys and _same_aux(self.aux, other.aux)
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.node_type, self.keys, self.children))

    def __repr__(self) -> str:
        return f"TreeDef({self._spec()})"

    def _spec(self) -> str:
        """The structure with ``*`` for each leaf, as JAX prints it: ``[*, {'a': *}]``."""
        kind = self.kind
        if kind in ("leaf", "none"):
            return "*" if kind == "leaf" else "None"
        inner = [child._spec() for child in self.children]
        if kind == "tuple":
            return f"({', '.join(inner)}{',' if len(inner) == 1 else ''})"
        if kind == "list":
            return f"[{', '.join(inner)}]"
        if kind == "dict":
            items = ", ".join(f"{key!r}: {c}" for key, c in zip(self.keys, inner))
            name = "" if self.node_type is None else self.node_type.__name__
            return f"{name}{{{items}}}"
        aux = f"[{self.aux!r}]" if kind == "custom" else ""
        return f"{self.node_type.__qualname__}{aux}({', '.join(inner)})"

    @property
    def num_leaves(self) -> int:
        """The number of leaves of a tree of this structure."""
        if self.kind == "leaf":
            return 1
        return sum(child.num_leaves for child in self.children)


def _same_aux(a: Any, b: Any) -> bool:
    """Aux data are equal (as JAX compares them, with ``==``; arrays there compare unequal
    unless they are the same object)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an aux whose == is not a truth value (an array)
        return False


LEAF = TreeDef("leaf")
NONE = TreeDef("none")


# --------------------------------------------------------------------------- registration


@dataclasses.dataclass(frozen=True)
class _Node:
    """How to take a registered type apart and build it again, and name its children."""

    flatten: Callable[[Any], tuple[Iterable[Any], Any]]
    unflatten: Callable[[Any, Iterable[Any]], Any]
    names: Callable[[Any, Any, int], list[str]]  # (value, aux, n) -> path suffixes


_REGISTERED: dict[type, _Node] = {}
_BUILT_IN = (tuple, list, dict, type(None), float, int, complex, bool, str)
_PLAIN_LEAVES = frozenset((np.ndarray, float, int, np.float64, np.float32))
"""Leaf types checked first: most of a tree's values are arrays and numbers."""


def register_pytree_node(
    nodetype: type[T],
    flatten_func: Callable[[T], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], T],
    flatten_with_keys_func: Callable[[T], tuple[Iterable[tuple[Any, Any]], Any]] | None = None,
) -> None:
    """Make ``nodetype`` a pytree node, as ``jax.tree_util.register_pytree_node`` does.

    Its instances can then be arguments, tangents, cotangents and results of every
    transform, and Jacobians are arranged like them.

    Parameters
    ----------
    nodetype : type
        The class (instances of subclasses are not nodes, as in JAX).
    flatten_func : callable
        ``flatten_func(x) -> (children, aux_data)``: the children (arrays or pytrees) and
        whatever else is needed to rebuild ``x``, compared with ``==``.
    unflatten_func : callable
        ``unflatten_func(aux_data, children) -> x``. The children it receives may be active
        values (or, in a Jacobian, trees of blocks), so it should only store them.
    flatten_with_keys_func : callable, optional
        ``(((key, child), ...), aux_data)``; only ``str(key)`` is used, to name the child in
        error messages (JAX's ``GetAttrKey("w")`` prints ``.w``).

    Raises
    ------
    RegistrationError
        When ``nodetype`` is not a class, is already a node, or a function is not callable.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> class Point:
    ...     def __init__(self, x, y):
    ...         self.x, self.y = x, y
    >>> dualad.register_pytree_node(Point, lambda p: ((p.x, p.y), None),
    ...                             lambda aux, xy: Point(*xy))
    >>> g = dualad.grad(lambda p: p.x * p.y ** 2)(Point(3.0, 2.0))
    >>> float(g.x), float(g.y)
    (4.0, 12.0)
    """
    _check_registration(nodetype, "register_pytree_node", flatten_func, unflatten_func,
                        flatten_with_keys_func)
    if flatten_with_keys_func is None:
        def names(value: Any, aux: Any, n: int) -> list[str]:
            return [f"[<flat index {i}>]" for i in range(n)]
    else:
        def names(value: Any, aux: Any, n: int) -> list[str]:
            return [str(key) for key, _ in flatten_with_keys_func(value)[0]]
    _REGISTERED[nodetype] = _Node(flatten_func, unflatten_func, names)


def _check_registration(nodetype: Any, who: str, *functions: Any) -> None:
    if not isinstance(nodetype, type):
        raise RegistrationError(f"{who}: nodetype must be a class, got {nodetype!r}")
    if nodetype in _BUILT_IN or issubclass(nodetype, (np.ndarray, np.generic)):
        raise RegistrationError(
            f"{who}: {nodetype.__qualname__} is built into dualad's pytrees "
            f"(as a node or as an array leaf) and cannot be registered"
        )
    if nodetype in _REGISTERED:
        raise RegistrationError(
            f"{who}: {nodetype.__qualname__} is already registered as a pytree "
            f"node; register each type once (JAX refuses a second registration too)"
        )
    for function in functions:
        if function is not None and not callable(function):
            raise RegistrationError(
                f"{who}({nodetype.__qualname__}, ...): {function!r} is not "
                f"callable; pass flatten_func(x) -> (children, aux_data) and "
                f"unflatten_func(aux_data, children) -> x"
            )


def register_dataclass(
    nodetype: type[T],
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
    drop_fields: Sequence[str] = (),
) -> type[T]:
    """Make a dataclass a pytree node, as ``jax.tree_util.register_dataclass`` does.

    ``data_fields`` are its children (differentiated); ``meta_fields`` are kept as they are
    (a name, a number of layers, a function). Without them, every field is data except
    those declared ``field(metadata=dict(static=True))``. The class is rebuilt by calling it
    with the fields as keywords. Returns ``nodetype``, so it can be used as a decorator.

    Parameters
    ----------
    nodetype : type
        A dataclass (or, with both field lists given, any class built by keyword arguments).
    data_fields, meta_fields : sequence of str, optional
        Both or neither; together they name every field of ``__init__``.
    drop_fields : sequence of str
        Fields of ``__init__`` left out of both (they take their defaults when rebuilt).

    Raises
    ------
    RegistrationError
        When the fields do not add up, or ``nodetype`` cannot be registered.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> from dataclasses import dataclass, field
    >>> @dualad.register_dataclass
    ... @dataclass
    ... class Layer:
    ...     w: np.ndarray
    ...     b: float
    ...     activation: str = field(default="tanh", metadata=dict(static=True))
    >>> g = dualad.grad(lambda p: np.sum(p.w) * p.b)(Layer(np.ones(2), 3.0))
    >>> g
    Layer(w=array([3., 3.]), b=np.float64(2.0), activation='tanh')
    """
    _check_registration(nodetype, "register_dataclass")
    data, meta = _dataclass_fields(nodetype, data_fields, meta_fields, drop_fields)

    def flatten_func(x: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        return tuple(getattr(x, name) for name in data), tuple(getattr(x, n) for n in meta)

    def unflatten_func(aux: tuple[Any, ...], children: Iterable[Any]) -> Any:
        return nodetype(**dict(zip(meta, aux)), **dict(zip(data, children)))

    def names(value: Any, aux: Any, n: int) -> list[str]:
        return [f".{name}" for name in data]

    _REGISTERED[nodetype] = _Node(flatten_func, unflatten_func, names)
    return nodetype


def _dataclass_fields(nodetype: Any, data_fields: Sequence[str] | None,
                      meta_fields: Sequence[str] | None,
                      drop_fields: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The data and meta fields of a class being registered, checked as JAX checks them."""
    is_dataclass = isinstance(nodetype, type) and dataclasses.is_dataclass(nodetype)
    if (data_fields is None) != (meta_fields is None):
        raise RegistrationError(
            "register_dataclass: give both data_fields and meta_fields, or neither"
        )
    if data_fields is None:
        if not is_dataclass:
            raise RegistrationError(
                f"register_dataclass: {nodetype!r} is not a dataclass; decorate it with "
                f"@dataclasses.dataclass first, or give data_fields and meta_fields"
            )
        fields = [f for f in dataclasses.fields(nodetype) if f.name not in drop_fields]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
    data, meta = tuple(data_fields), tuple(meta_fields or ())
    if set(data) & set(meta):
        raise RegistrationError(
            f"register_dataclass: fields {sorted(set(data) & set(meta))} are both data and "
            f"meta fields"
        )
    if is_dataclass:
        init = {f.name for f in dataclasses.fields(nodetype) if f.init} - set(drop_fields)
        missing, unknown = init - set(data) - set(meta), (set(data) | set(meta)) - init
        if missing or unknown:
            raise RegistrationError(
                f"register_dataclass({nodetype.__qualname__}): data_fields and meta_fields "
                f"must name every field of __init__ once"
                + (f"; missing {sorted(missing)} (drop_fields leaves fields out)"
                   if missing else "")
                + (f"; not fields of __init__: {sorted(unknown)}" if unknown else "")
            )
    return data, meta


def unregistered_message(cls: type, where: str) -> str:
    """The error for an instance of an unregistered dataclass found at ``where``."""
    name = cls.__qualname__
    return (
        f"{where} is {_a(name)}, a dataclass that dualad does not look inside: register it "
        f"with @dualad.register_dataclass above @dataclass (fields that are not arrays "
        f"are marked field(metadata=dict(static=True))), or with "
        f"dualad.register_pytree_node({name}, flatten, unflatten), as JAX requires too"
    )


# --------------------------------------------------------------------------- flatten


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of ``tree`` in order, and its structure.

    >>> leaves, treedef = flatten({"b": [1, 2], "a": (3,)})
    >>> leaves
    [3, 1, 2]
    >>> unflatten(treedef, [30, 10, 20])
    {'a': (30,), 'b': [10, 20]}
    """
    leaves: list[Any] = []
    treedef = _flatten_into(tree, leaves, None, "")
    return leaves, treedef


def leaf_paths(tree: Any, prefix: str) -> list[str]:
    """Human names of a pytree's leaves, in the order of :func:`flatten`.

    >>> leaf_paths({"W": 1, "b": (2, 3)}, "argument 2")
    ["argument 2['W']", "argument 2['b'][0]", "argument 2['b'][1]"]
    """
    return flatten_with_paths(tree, prefix)[1]


def flatten_with_paths(tree: Any, prefix: str) -> tuple[list[Any], list[str], TreeDef]:
    """:func:`flatten`, with the human name of each leaf (``prefix['h'].w``).

    >>> flatten_with_paths([1, {"a": 2}], "y")
    ([1, 2], ['y[0]', "y[1]['a']"], TreeDef([*, {'a': *}]))
    """
    leaves: list[Any] = []
    paths: list[str] = []
    treedef = _flatten_into(tree, leaves, paths, prefix)
    return leaves, paths, treedef


def _flatten_into(tree: Any, leaves: list[Any], paths: list[str] | None,
                  prefix: str) -> TreeDef:
    cls = tree.__class__
    if cls in _PLAIN_LEAVES:
        leaves.append(tree)
        if paths is not None:
            paths.append(prefix)
        return LEAF
    node = _REGISTERED.get(cls)
    if node is not None:
        children, aux = _custom_children(node, tree)
        names = node.names(tree, aux, len(children)) if paths is not None else None
        return TreeDef("custom", _subtrees(children, names, leaves, paths, prefix),
                       node_type=cls, aux=aux)
    if tree is None:
        return NONE
    if isinstance(tree, tuple):
        if hasattr(tree, "_fields"):
            names = [f".{name}" for name in tree._fields] if paths is not None else None
            return TreeDef("namedtuple", _subtrees(tree, names, leaves, paths, prefix),
                           node_type=cls)
        return TreeDef("tuple", _subtrees(tree, _indices(tree, paths), leaves, paths, prefix))
    if isinstance(tree, list):
        return TreeDef("list", _subtrees(tree, _indices(tree, paths), leaves, paths, prefix))
    if isinstance(tree, dict):
        # as in JAX, an OrderedDict keeps its order and type, a defaultdict its factory
        ordered = isinstance(tree, OrderedDict)
        keys = tuple(tree) if ordered else sorted_keys(tree)
        node_type = OrderedDict if ordered else defaultdict if isinstance(tree, defaultdict) \
            else None
        names = [f"[{key!r}]" for key in keys] if paths is not None else None
        return TreeDef("dict", _subtrees([tree[key] for key in keys], names, leaves, paths,
                                         prefix), keys=keys, node_type=node_type,
                       aux=getattr(tree, "default_factory", None))
    leaves.append(tree)
    if paths is not None:
        paths.append(prefix)
    return LEAF


def _indices(children: Sequence[Any], paths: list[str] | None) -> list[str] | None:
    return [f"[{i}]" for i in range(len(children))] if paths is not None else None


def _subtrees(children: Iterable[Any], names: list[str] | None, leaves: list[Any],
              paths: list[str] | None, prefix: str) -> tuple[TreeDef, ...]:
    if names is None:
        return tuple([_flatten_into(child, leaves, None, "") for child in children])
    return tuple([_flatten_into(child, leaves, paths, prefix + name)
                  for child, name in zip(children, names, strict=True)])


def _custom_children(node: _Node, tree: Any) -> tuple[tuple[Any, ...], Any]:
    """A registered node's children and aux data, or a clear error naming its type."""
    result = node.flatten(tree)
    name = tree.__class__.__qualname__
    if not (isinstance(result, tuple) and len(result) == 2):
        raise InvalidInputError(
            f"the flatten function registered for {name} returned {type(result).__name__}, "
            f"not a pair (children, aux_data)"
        )
    try:
        children = tuple(result[0])
    except TypeError:
        raise InvalidInputError(
            f"the flatten function registered for {name} returned children of type "
            f"{type(result[0]).__name__}, not a sequence"
        ) from None
    return children, result[1]


def sorted_keys(d: dict[Any, Any]) -> tuple[Any, ...]:
    """The keys of ``d`` in pytree order: sorted, as in JAX; keys that cannot be compared
    with each other go numbers first, then grouped by type name, each group sorted (or, if
    its members cannot be compared either, ordered by ``repr``).

    >>> sorted_keys({"b": 1, "a": 2})
    ('a', 'b')
    >>> sorted_keys({"a": 1, 2: 2, 1.5: 3, (0,): 4})
    (1.5, 2, 'a', (0,))
    """
    try:
        return tuple(sorted(d))
    except TypeError:
        pass
    groups: dict[tuple[int, str], list[Any]] = {}
    for key in d:
        if isinstance(key, numbers.Real):
            group = (0, "")
        else:
            group = (1, f"{type(key).__module__}.{type(key).__qualname__}")
        groups.setdefault(group, []).append(key)
    ordered: list[Any] = []
    for group in sorted(groups):
        try:
            ordered.extend(sorted(groups[group]))
        except TypeError:
            ordered.extend(sorted(groups[group], key=repr))
    return tuple(ordered)


# --------------------------------------------------------------------------- unflatten


def unflatten(treedef: TreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a tree of structure ``treedef`` from ``leaves`` (an iterable)."""
    return _build(treedef, iter(leaves))


def _build(treedef: TreeDef, leaves: Any) -> Any:
    kind = treedef.kind
    if kind == "leaf":
        return next(leaves)
    if kind == "none":
        return None
    children = [_build(child, leaves) for child in treedef.children]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "namedtuple":
        return treedef.node_type(*children)
    if kind == "custom":
        return _rebuild(treedef, tuple(children))
    if treedef.node_type is defaultdict:
        return defaultdict(treedef.aux, zip(treedef.keys, children))
    return (treedef.node_type or dict)(zip(treedef.keys, children))


def _rebuild(treedef: TreeDef, children: tuple[Any, ...]) -> Any:
    """A registered node from its children, or dualad's error with what the node was."""
    try:
        return _REGISTERED[treedef.node_type].unflatten(treedef.aux, children)
    except DualadError as exc:  # a conversion of an active child, most likely
        raise type(exc)(
            f"{exc} This happened while rebuilding a {treedef.node_type.__qualname__} from its "
            f"children, which are active arrays inside a transform (and Jacobian blocks "
            f"after it): its unflatten function (or, for a dataclass, __init__ and "
            f"__post_init__) should store them without converting or checking them, as "
            f"JAX requires too."
        ) from exc


def is_node(x: Any) -> bool:
    """Whether ``x`` is a pytree node (it has children or is None), not a leaf."""
    return x is None or isinstance(x, (tuple, list, dict)) or x.__class__ in _REGISTERED


def describe(treedef: TreeDef) -> str:
    """A pytree structure in words: ``a tuple of (an array, a list of (an array))``.

    >>> describe(flatten({"a": (1, None)})[1])
    "a dict {'a': a tuple of (an array, None)}"
    """
    kind = treedef.kind
    if kind == "leaf":
        return "an array"
    if kind == "none":
        return "None"
    if kind == "dict":
        inner = ", ".join(f"{key!r}: {describe(c)}"
                          for key, c in zip(treedef.keys, treedef.children))
        return f"{_a((treedef.node_type or dict).__name__)} {{{inner}}}"
    inner = ", ".join(describe(c) for c in treedef.children)
    if kind in ("namedtuple", "custom"):
        aux = "" if treedef.aux is None or treedef.aux == () else f"[{treedef.aux!r}]"
        return f"{_a(treedef.node_type.__qualname__)}{aux} of ({inner})"
    return f"a {kind} of ({inner})"


def _a(name: str) -> str:
    """``name`` with its indefinite article."""
    return f"{'an' if name[:1] in tuple('AEIOUaeiou') else 'a'} {name}"


# --------------------------------------------------------------------------- public helpers


def tree_flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of a pytree, in order, and its structure (``jax.tree_util.tree_flatten``).

    Dict keys are visited in sorted order; see the module's notes for keys that cannot be
    compared.

    Examples
    --------
    >>> import dualad
    >>> leaves, treedef = dualad.tree_flatten({"b": [1.0, 2.0], "a": (3.0, None)})
    >>> leaves
    [3.0, 1.0, 2.0]
    >>> dualad.tree_unflatten(treedef, [30.0, 10.0, 20.0])
    {'a': (30.0, None), 'b': [10.0, 20.0]}
    """
    return flatten(tree)


def tree_unflatten(treedef: TreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree of structure ``treedef`` (from :func:`tree_flatten`) from ``leaves``.

    Raises
    ------
    ShapeMismatchError
        When the number of leaves is not the structure's.

    Examples
    --------
    >>> import dualad
    >>> leaves, treedef = dualad.tree_flatten((1.0, [2.0]))
    >>> dualad.tree_unflatten(treedef, [-1.0, -2.0])
    (-1.0, [-2.0])
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ShapeMismatchError(
            f"tree_unflatten: the structure {describe(treedef)} has {treedef.num_leaves} "
            f"leaves, but {len(leaves)} were given"
        )
    return unflatten(treedef, leaves)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``f`` to every leaf of ``tree`` (and the matching leaves of ``rest``), as
    ``jax.tree_util.tree_map`` does; the result has ``tree``'s structure.

    Handy for tangents and cotangents of a registered type, and for updates of parameters
    by their gradients.

    Raises
    ------
    ShapeMismatchError
        When a tree of ``rest`` does not have ``tree``'s structure.

    Examples
    --------
    >>> import numpy as np, dualad
    >>> params = {"w": np.array([1.0, 2.0]), "b": 0.5}
    >>> grads = dualad.grad(lambda p: np.sum(p["w"] ** 2) + p["b"])(params)
    >>> dualad.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    {'b': np.float64(0.4), 'w': array([0.8, 1.6])}
    """
    leaves, treedef = flatten(tree)
    others = []
    for i, other in enumerate(rest):
        other_leaves, other_def = flatten(other)
        if other_def != treedef:
            raise ShapeMismatchError(
                f"tree_map: tree {i + 2} is {describe(other_def)}, but the first tree is "
                f"{describe(treedef)}; they must have the same structure"
            )
        others.append(other_leaves)
    return unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])
