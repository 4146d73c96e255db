"""Detect random draws during a recording: a program would repeat the recording's draws.

A function that draws from NumPy's global generator (``np.random.normal``) or from a generator
it reads from outside gets plain arrays whose values a program would keep; :func:`dualad.compile`
refuses it. The recording compares the generators' states before and after the call.

Reading the global generator's state with ``np.random.get_state`` costs about 35 µs (it builds
a 624-word array), more than recording a small function. :class:`GlobalState` reads the same
bytes in under a microsecond: the Mersenne Twister's words and position through the bit
generator's ``ctypes`` interface, and the legacy Gaussian cache (``has_gauss``, ``gauss``) from
the ``RandomState`` object itself, at an offset found once and checked against ``get_state``.
Where any of this cannot be confirmed (another bit generator, another layout), it falls back to
``get_state``.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

GENERATORS = (np.random.Generator, np.random.RandomState)

_MT_BYTES = 624 * 4 + 4
"""The Mersenne Twister's state in C: 624 32-bit words and an int position."""


def generator_state(generator: Any) -> Any:
    """A generator's full state, comparable with ``==`` (arrays as bytes)."""
    state = generator.bit_generator.state if isinstance(generator, np.random.Generator) \
        else generator.get_state(legacy=False)
    return _hashable(state)


def _hashable(state: Any) -> Any:
    if isinstance(state, dict):
        return tuple((key, _hashable(value)) for key, value in state.items())
    if isinstance(state, np.ndarray):
        return state.tobytes()
    return state


class GlobalState:
    """Reads NumPy's global ``RandomState`` cheaply (see the module's description)."""

    def __init__(self) -> None:
        self._owner: Any = None
        self._generator: Any = None
        self._state: Any = None
        """The Mersenne Twister's C state, a ctypes view (None: read with get_state)."""
        self._cache: Any = None
        """The legacy Gaussian cache in the RandomState object, a ctypes view."""

    def read(self) -> Any:
        """The global generator's state, comparable with ``==``.

        >>> state = GlobalState()
        >>> before = state.read()
        >>> before == state.read()
        True
        >>> _ = np.random.random()
        >>> before == state.read()
        False
        """
        legacy = np.random.mtrand._rand
        if legacy is not self._owner or legacy._bit_generator is not self._generator:
            self._locate(legacy)  # (np.random.set_bit_generator replaces the generator)
        if self._state is None:
            return generator_state(legacy)
        return self._state.raw + self._cache.raw

    def _locate(self, legacy: Any) -> None:
        """Find the Gaussian cache in ``legacy``'s memory and confirm it with get_state."""
        bit_generator = getattr(legacy, "_bit_generator", None)
        self._owner, self._generator, self._state, self._cache = legacy, bit_generator, \
            None, None
        if bit_generator.__class__ is not np.random.MT19937:
            return
        state_address = bit_generator.ctypes.state_address
        base = id(legacy)
        words = (ctypes.c_size_t * (type(legacy).__basicsize__ // 8)).from_address(base)
        # the object holds a copy of the bit generator's C struct (its first field: the
        # state's address), then the Gaussian cache: a pointer to that copy, has_gauss, gauss
        for i in range(len(words) - 7):
            if words[i] == state_address and words[i + 5] == base + 8 * i:
                cache_address = base + 8 * (i + 6)
                break
        else:
            return
        if self._confirmed(legacy, state_address, cache_address):
            self._state = (ctypes.c_char * _MT_BYTES).from_address(state_address)
            # has_gauss (an int, then padding) and gauss (a double)
            self._cache = (ctypes.c_char * 16).from_address(cache_address)

    @staticmethod
    def _confirmed(legacy: Any, state_address: int, cache_address: int) -> bool:
        state = legacy.get_state(legacy=False)
        inner = state.get("state", {})
        key, pos = inner.get("key"), inner.get("pos")
        if key is None or pos is None:
            return False
        expected = np.asarray(key, dtype=np.uint32).tobytes() + np.int32(pos).tobytes()
        if ctypes.string_at(state_address, _MT_BYTES) != expected:
            return False
        has_gauss = ctypes.c_int.from_address(cache_address).value
        gauss = ctypes.c_double.from_address(cache_address + 8).value
        return has_gauss == state["has_gauss"] and (not has_gauss or gauss == state["gauss"])


GLOBAL = GlobalState()


def draws(generators: list[tuple[Any, Any]], global_before: Any) -> bool:
    """True when the call drew random numbers from NumPy's global generator (its state was
    ``global_before``) or from one of ``generators`` (``(generator, state before)`` pairs)."""
    if GLOBAL.read() != global_before:
        return True
    return any(generator_state(g) != before for g, before in generators)
