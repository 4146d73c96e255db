"""Arrays of other libraries as the values under every transform: Dask's (and CuPy's).

An input of such a class is kept as it is (no ``np.asarray``): the engines meet it through
NumPy's protocols (``__array_ufunc__``, ``__array_function__``), so every rule runs in the
array's own library, tangents and cotangents are of its class, and so are the results. A
Dask array stays a lazy graph through ``jvp``, ``grad`` and the others until the caller
computes it. The class is registered with the engines (:func:`dualad.registry.
register_array_type`) the first time an input of it is seen; nothing here imports Dask or
CuPy.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import registry


def _cupy_shares_memory(a: Any, b: Any) -> bool:
    import cupy

    return bool(cupy.shares_memory(a, b))


@contextlib.contextmanager
def _dask_refuses_to_compute() -> Iterator[None]:
    """Dask's fallback for a NumPy function it lacks (a warning, then the whole array
    computed and given to NumPy) raises instead."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*is not implemented by Dask array",
                                category=FutureWarning)
        yield


_KINDS: dict[tuple[str, str], registry.ArrayKind] = {
    ("dask.array.core", "Array"): registry.ArrayKind(  # immutable graphs: kept as they are
        library="dask", guard=_dask_refuses_to_compute, to_numpy="x.compute()",
        copy=lambda x, order: x.copy()),  # (a new handle on the same graph, to write to)
    ("cupy", "ndarray"): registry.ArrayKind(library="cupy", to_numpy="x.get()",
                                            frozen=lambda x: x.copy(),
                                            shares_memory=_cupy_shares_memory,
                                            copy=lambda x, order: x.copy(order=order),
                                            in_place=True),
}
"""(module, class name) of each library's array class -> what the engines need to know."""


def recognise(x: Any) -> bool:
    """Register the class of ``x`` with the engines if it is an array class listed above;
    True if it now is one.

    >>> import numpy as np
    >>> recognise(np.ones(2))      # NumPy's own arrays need nothing
    False
    """
    cls = type(x)
    module = cls.__module__.split(".")[0] if cls.__module__.startswith("cupy") \
        else cls.__module__
    kind = _KINDS.get((module, cls.__qualname__))
    if kind is None:
        return False
    registry.register_array_type(cls, kind)
    return True


def library(x: Any) -> str:
    """The name of the library whose array ``x`` is, for messages (``"dask"``).

    >>> import numpy as np
    >>> library(np.ones(2))
    'numpy'
    """
    return type(x).__module__.split(".")[0]


def like(x: Any, other: Any) -> Any:
    """The NumPy array ``x`` as an array of ``other``'s library, chunked as ``other`` is
    where it is a Dask array of the same shape (Dask's functions want matching chunks).

    >>> import numpy as np
    >>> like([1, 2], np.zeros(2))
    array([1, 2])
    """
    made = np.array(x, like=other)
    chunks = getattr(other, "chunks", None)
    if chunks is not None and made.shape == other.shape and hasattr(made, "rechunk"):
        made = made.rechunk(chunks)
    return made


def as_library_of(x: Any, value: Any) -> Any:
    """The NumPy array ``x`` as an array of ``value``'s library (seen through active values),
    chunked as ``value`` where the shapes match; ``x`` itself where ``value`` is NumPy's. For
    the constants a rule makes (an identity, bins, seeds) next to another library's arrays.

    >>> import numpy as np
    >>> as_library_of(np.arange(2), np.ones(3))  # NumPy's value: x as it is
    array([0, 1])
    """
    external = registry.external_value((value,))
    return x if external is None else like(x, external)


def chunked_as(ct: Any, x: Any) -> Any:
    """The cotangents ``ct`` (``(k,) + x.shape``) chunked as ``x`` is along its axes, where
    both are Dask arrays: a cotangent broadcast from a sum's one chunk would otherwise be one
    chunk of the whole array (all of it in memory at once when computed).

    >>> import numpy as np
    >>> chunked_as(np.ones((1, 3)), np.ones(3)).shape
    (1, 3)
    """
    chunks = getattr(x, "chunks", None)
    if chunks is None or not hasattr(ct, "rechunk") or ct.shape[1:] != x.shape \
            or ct.chunks[1:] == chunks:
        return ct
    return ct.rechunk(ct.chunks[:1] + chunks)


def broadcast_to(a: Any, shape: tuple[int, ...], x: Any) -> Any:
    """``np.broadcast_to(a, shape)`` where ``shape`` is ``(k,) + x.shape``; for Dask arrays
    with ``x``'s chunks made at once (a sum's cotangent broadcast from one element would
    otherwise be one chunk of the whole array, and its rechunking holds it all).

    >>> import numpy as np
    >>> broadcast_to(np.ones((1, 1)), (1, 3), np.ones(3)).shape
    (1, 3)
    """
    chunks = getattr(x, "chunks", None)
    if chunks is None or type(a).__module__.split(".")[0] != "dask":
        return np.broadcast_to(a, shape)
    import dask.array

    return dask.array.broadcast_to(a, shape, chunks=((shape[0],), *chunks))
