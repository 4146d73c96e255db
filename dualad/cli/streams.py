"""Standard output and error for the ``dualad`` command: what cannot be encoded is escaped,
a reader that stops early (``| head``) is no error, and a full disk is reported."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from .targets import CommandLineError


@contextlib.contextmanager
def printable_streams() -> Iterator[None]:
    """stdout and stderr write what their encoding cannot (``ψ`` in ASCII) as ``\\u03c8``.

    >>> with printable_streams():
    ...     print("ok")
    ok
    """
    changed = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors in (None, "backslashreplace") or not hasattr(stream, "reconfigure"):
            continue
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(errors="backslashreplace")
            changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)


def discard_stdout() -> None:
    """Point stdout at /dev/null, so that what is left in its buffer cannot fail at exit."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)


def emit(text: str) -> None:
    """Print ``text`` on stdout, a failure to write (a full disk) reported as a mistake.

    >>> emit("x1_bar = 5.5")
    x1_bar = 5.5
    """
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        discard_stdout()
        raise CommandLineError(f"cannot write to standard output ({err.strerror or err}); "
                               f"write to a file with --output FILE") from None
