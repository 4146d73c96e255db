"""The rules a trace prints, from the formula each primitive declares.

A primitive declares its derivative once, when it is registered, as a
:class:`~dualad.registry.Formula` (``formula=("ln x", {"x": "1/x"})``,
``formula=("x * y", {"x": "y", "y": "x"})``). A trace line substitutes the operands' labels
into it: ``v1 = ln v_-1``, ``v1_dot = v_-1_dot / v_-1``, ``v_-1_bar = v1_bar / v_-1``.
Primitives without one (reductions, products, shape operations) are written in the lecture's
general notation instead: ``v4 = sum(v3)``, ``v4_dot = dv4/dv3 * v3_dot``,
``v3_bar = v4_bar * dv4/dv3``. Only the text comes from here; every number in a trace comes
from the engines.
"""

from __future__ import annotations

import re

from ..registry import Formula, Primitive

__all__ = ["Formula", "formula", "join_terms", "substitute", "tangent_term", "times"]


def formula(prim: Primitive) -> Formula | None:
    """The :class:`Formula` ``prim`` declared, or None.

    >>> from dualad.primitives.elementwise import multiply, sin
    >>> formula(multiply)
    Formula(primal='x * y', letters=('x', 'y'), partials=('y', 'x'))
    >>> formula(sin).partials
    ('cos x',)
    """
    return prim.formula


def substitute(template: str, names: dict[str, str]) -> str:
    """Replace each whole-word letter of ``template`` by its operand's text.

    >>> substitute("x * y", {"x": "v_-1", "y": "v0"})
    'v_-1 * v0'
    """
    if not names:
        return template
    pattern = r"\b(" + "|".join(map(re.escape, names)) + r")\b"
    return re.sub(pattern, lambda m: _atom(names[m.group(1)]), template)


def _atom(text: str) -> str:
    """Parenthesise an operand that is not a single token (``-1`` -> ``(-1)``)."""
    return text if re.fullmatch(r"[\w.']+|v_-\d+", text) else f"({text})"


def times(factor: str, partial: str) -> str:
    """``factor`` times a partial derivative, written as the lecture writes it.

    >>> times("v1_bar", "1/v_-1"), times("v5_bar", "-1"), times("v3_dot", "1 - tanh**2 v2")
    ('v1_bar / v_-1', 'v5_bar * (-1)', 'v3_dot * (1 - tanh**2 v2)')
    """
    if partial.startswith("1/"):
        return f"{factor} / {partial[2:]}"
    return f"{factor} * {partial if _is_product(partial) else f'({partial})'}"


def _is_product(text: str) -> bool:
    """No top-level + or - and no leading sign: safe to the right of ``*``."""
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and char in "+-" and (i == 0 or text[i - 1] not in "*/e(_"):
            return False
    return True


def tangent_term(tangent: str, partial: str) -> str:
    """One argument's term of a tangent rule: ``v_-1_dot / v_-1``, ``v0_dot * cos v0``.

    >>> tangent_term("v4_dot", "1"), tangent_term("v3_dot", "-1")
    ('v4_dot', '-v3_dot')
    """
    if partial == "1":
        return tangent
    if partial == "-1":
        return f"-{tangent}"
    return times(tangent, partial)


def join_terms(terms: list[str]) -> str:
    """``["v4_dot", "-v3_dot"]`` -> ``"v4_dot - v3_dot"``."""
    text = terms[0] if terms else "0"
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text
