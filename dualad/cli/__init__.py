"""The ``dualad`` command (:mod:`.main`): what it differentiates (:mod:`.targets`) and the safe
expression language of its targets (:mod:`.expression`)."""

from .main import main

__all__ = ["main"]
