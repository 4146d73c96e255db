"""dualad.compile: record a function's NumPy operations once, replay them at NumPy speed.

``traced`` is the array that records, ``recorder`` the records, ``source`` the program as
Python source (and the rewrites that make it cheaper), ``compiled`` the cache of programs and
the public :func:`compile`.
"""

from .compiled import Compiled, compile  # noqa: A004 - dualad.compile, as jax.jit

__all__ = ["Compiled", "compile"]
