"""The point a command evaluates at, as the flat list of arrays the transforms take.

A dict parameter given as a JSON object (``--at 'p={"w": [1, 2], "b": 0.5}'``) becomes one
input per entry, named ``p_w`` and ``p_b``: the traces show those names, ``--wrt p_w`` and
``--direction p_b=1`` choose them, and the target is called with the dict rebuilt.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .targets import CommandLineError, Target, Value, bind_values, given_inputs

Shape = Any
"""How an argument is rebuilt from its leaves: None for an array, else a dict of shapes."""


@dataclass(frozen=True)
class Point:
    """The given arguments of a target, flattened into named arrays.

    ``names`` and ``leaves`` are the inputs of the transforms; ``arguments`` the target's
    parameters that were given, each with the shape that :meth:`arguments_of` rebuilds.

    >>> from .targets import load_target, parse_values
    >>> def f(x, p):
    ...     return x * p["w"] + p["b"]
    >>> point = point_of(Target(f, ("x", "p"), frozenset(), "f", False),
    ...                  parse_values(["x=2", 'p={"w": 3, "b": 1}']))
    >>> point.names
    ('x', 'p_w', 'p_b')
    >>> point.arguments_of([10.0, 20.0, 30.0])
    {'x': 10.0, 'p': {'w': 20.0, 'b': 30.0}}
    """

    names: tuple[str, ...]
    leaves: tuple[np.ndarray, ...]
    arguments: tuple[tuple[str, Shape], ...]

    @property
    def has_dicts(self) -> bool:
        """Whether an argument is a dict (so leaves and arguments differ)."""
        return any(shape is not None for _, shape in self.arguments)

    def arguments_of(self, leaves: Sequence[Any]) -> dict[str, Any]:
        """The target's arguments by name, the dicts rebuilt from ``leaves``."""
        rest = iter(leaves)
        return {name: _rebuild(shape, rest) for name, shape in self.arguments}

    def leaves_of(self, value: Any, name: str) -> list[Any]:
        """The leaves of the argument ``name``'s value (a gradient shaped like it)."""
        shape = dict(self.arguments)[name]
        return list(_leaves(shape, value, name))


def point_of(target: Target, values: dict[str, Value]) -> Point:
    """The point ``values`` gives ``target`` (every input given once; see :class:`Point`).

    >>> from .targets import load_target, parse_values
    >>> point_of(load_target("x * y"), parse_values(["y=2", "x=1"])).names
    ('x', 'y')
    """
    bound = bind_values(target, values)
    names, leaves, arguments = [], [], []
    for name, value in zip(given_inputs(target, values), bound):
        if isinstance(value, dict) and target.is_expression:
            raise CommandLineError(f"--at {name}: the variables of an expression are numbers "
                                   f"or arrays, not objects")
        flat = _named_leaves(name, value)
        names += [n for n, _ in flat]
        leaves += [leaf for _, leaf in flat]
        arguments.append((name, _shape(value)))
    clash = next((n for n in names if names.count(n) > 1), None)
    if clash is not None:
        raise CommandLineError(f"--at: two inputs are named {clash} (a dict's entry is named "
                               f"after its parameter and key); rename a key or a parameter")
    return Point(tuple(names), tuple(leaves), tuple(arguments))


def calling(target: Target, point: Point,
            names: Sequence[str] | None = None) -> Callable[..., Any]:
    """``target`` as a function of the point's leaves, positionally, named ``point.names``
    (so that check_grads and compare name them); ``names`` picks the leaves it takes, the
    others keeping their values at the point."""
    if target.is_expression and names is None:
        return target.function  # already positional in the order of its variables
    chosen = tuple(point.names if names is None else names)
    where = [point.names.index(n) for n in chosen]

    def call(*values: Any) -> Any:
        leaves = list(point.leaves)
        for i, value in zip(where, values):
            leaves[i] = value
        return target.call(point.arguments_of(leaves))

    if not target.is_expression:
        functools.update_wrapper(call, target.function)  # type: ignore[arg-type]
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in chosen])
    return call


def _named_leaves(name: str, value: Value) -> list[tuple[str, np.ndarray]]:
    if isinstance(value, dict):
        return [pair for key, v in value.items() for pair in _named_leaves(f"{name}_{key}", v)]
    return [(name, value)]


def _shape(value: Value) -> Shape:
    return {k: _shape(v) for k, v in value.items()} if isinstance(value, dict) else None


def _rebuild(shape: Shape, leaves: Iterator[Any]) -> Any:
    if shape is None:
        return next(leaves)
    return {key: _rebuild(sub, leaves) for key, sub in shape.items()}


def _leaves(shape: Shape, value: Any, name: str) -> Iterator[Any]:
    if shape is None:
        yield value
        return
    if not isinstance(value, dict) or set(value) != set(shape):
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise CommandLineError(f"the gradient for {name} must be a dict with the keys "
                               f"{sorted(shape)}, like {name}; got {keys}")
    for key, sub in shape.items():
        yield from _leaves(sub, value[key], f"{name}[{key!r}]")
