"""The rules a trace prints, read from each primitive's one-line docstring.

Every primitive is declared once, with a docstring giving its derivative
(``"ln x; d/dx = 1/x"``, ``"x * y; d/dx = y, d/dy = x"``). A trace line substitutes the
operands' labels into it: ``v1 = ln v_-1``, ``v1_dot = v_-1_dot / v_-1``,
``v_-1_bar = v1_bar / v_-1``. Primitives whose docstring is not of that form (reductions,
products, shape operations) are written in the lecture's general notation instead:
``v4 = sum(v3)``, ``v4_dot = dv4/dv3 * v3_dot``, ``v3_bar = v4_bar * dv4/dv3``. Only the text
comes from here; every number in a trace comes from the engines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ..registry import Primitive

_LETTERS = ("x", "y", "n")


@dataclass(frozen=True)
class Formula:
    """A primitive's docstring split into a primal template and one partial per argument.

    ``primal`` uses the letters of ``letters`` (argument 0, 1, ... in order) and ``out``.
    """

    primal: str
    letters: tuple[str, ...]
    partials: tuple[str, ...]


@cache
def formula(prim: Primitive) -> Formula | None:
    """The :class:`Formula` of ``prim``, or None when its docstring does not give one.

    >>> from dualad.primitives.elementwise import multiply, sin
    >>> formula(multiply)
    Formula(primal='x * y', letters=('x', 'y'), partials=('y', 'x'))
    >>> formula(sin).partials
    ('cos x',)
    """
    primal, sep, rest = (prim.doc or "").partition(";")
    if not sep:
        return None
    partials = dict(re.findall(r"d/d([a-z]) = (.*?)(?=, d/d[a-z] = |$)", rest.strip()))
    partials = {k: _first_clause(v) for k, v in partials.items()}
    letters = sorted(partials, key=lambda k: _first_use(primal, k))
    if not letters or any(_first_use(primal, k) < 0 for k in letters):
        return None
    if any(k not in _LETTERS for k in letters) or any(v is None for v in partials.values()):
        return None
    return Formula(primal.strip(), tuple(letters), tuple(partials[k] for k in letters))


def _first_use(text: str, letter: str) -> int:
    match = re.search(rf"\b{letter}\b", text)
    return match.start() if match else -1


def _first_clause(text: str) -> str | None:
    """``"sign(x), 1 at 0 as in JAX"`` -> ``"sign(x)"``: up to the first top-level comma."""
    depth = 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            text = text[:i]
            break
    text = text.strip()
    return text if text and re.fullmatch(r"[\w\s.+\-*/()|]*", text) else None


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
