"""Flatten and rebuild nested tuples, lists and dicts of arrays (JAX's pytrees, small).

Leaves are everything that is not a tuple, list or dict. Dict keys are visited in sorted
order, as in JAX. ``None`` is a leaf-free node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TreeDef:
    """The structure of a pytree: a node kind, its keys and its children's structures."""

    kind: str  # "leaf", "none", "tuple", "list", "dict", "namedtuple"
    children: tuple[TreeDef, ...] = ()
    keys: tuple[Any, ...] = ()
    node_type: Any = None


LEAF = TreeDef("leaf")


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """The leaves of ``tree`` in order, and its structure.

    >>> leaves, treedef = flatten({"b": [1, 2], "a": (3,)})
    >>> leaves
    [3, 1, 2]
    >>> unflatten(treedef, [30, 10, 20])
    {'a': (30,), 'b': [10, 20]}
    """
    leaves: list[Any] = []
    treedef = _flatten_into(tree, leaves)
    return leaves, treedef


def _flatten_into(tree: Any, leaves: list[Any]) -> TreeDef:
    if tree is None:
        return TreeDef("none")
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        children = tuple(_flatten_into(child, leaves) for child in tree)
        return TreeDef("namedtuple", children, node_type=type(tree))
    if isinstance(tree, (tuple, list)):
        children = tuple(_flatten_into(child, leaves) for child in tree)
        return TreeDef("tuple" if isinstance(tree, tuple) else "list", children)
    if isinstance(tree, dict):
        keys = tuple(sorted(tree))
        children = tuple(_flatten_into(tree[key], leaves) for key in keys)
        return TreeDef("dict", children, keys=keys)
    leaves.append(tree)
    return LEAF


def unflatten(treedef: TreeDef, leaves: Any) -> Any:
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
    return dict(zip(treedef.keys, children))


def tree_map(fn: Any, tree: Any) -> Any:
    """Apply ``fn`` to every leaf of ``tree``.

    >>> tree_map(lambda x: x * 2, (1, [2, {"a": 3}]))
    (2, [4, {'a': 6}])
    """
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [fn(leaf) for leaf in leaves])
