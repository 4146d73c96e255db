"""The list of supported NumPy functions (docs/supported.md), generated from the registry.

``python -m dualad._docs`` prints it; a test checks that the page holds exactly this text,
so the documentation cannot fall behind the registry.
"""

from __future__ import annotations

from .registry import NONDIFF, REGISTRY, load_optional_families, numpy_name

_FAMILIES = {  # Family.name -> title, in the order the README lists them
    "elementwise": "Elementwise (ufuncs)",
    "reductions": "Reductions and sorting",
    "differences": "Differences and products of vectors",
    "shape": "Shape, joining and splitting",
    "indexing": "Indexing and selection",
    "products": "Products",
    "linalg": "Linear algebra",
    "complex_parts": "Parts of complex numbers",
    "fft": "Fourier transforms",
    "functional": "Functions applied piecewise or along an axis",
    "special": "scipy.special (with SciPy installed)",
}


# Primitives without a NumPy function of their own: user-facing spelling, or None when they
# only serve other declarations (norm2 behind np.linalg.norm, ...).
_SPELLED = {"getitem": "`d[key]`", "astype": "`d.astype`", "setitem": "`d[key] = v`"}
_UFUNC_METHODS = ("reduce", "accumulate", "at")
"""Declarations named ``"ufunc.method"`` (``"logaddexp.reduce"``) are spelled ``np.`` + name."""


def _names(entry: object) -> list[str]:
    numpy = getattr(entry, "numpy", ())
    if numpy:
        return [f"`{numpy_name(fn)}`" for fn in numpy]
    if entry.name.rpartition(".")[2] in _UFUNC_METHODS:  # type: ignore[attr-defined]
        return [f"`np.{entry.name}`"]  # type: ignore[attr-defined]
    spelled = _SPELLED.get(entry.name)  # type: ignore[attr-defined]
    return [spelled] if spelled else []


def supported_markdown() -> str:
    """Markdown: per family, the NumPy callables with derivative rules; then NONDIFF.

    >>> "`np.sin`" in supported_markdown()
    True
    """
    load_optional_families()  # scipy.special's family, when SciPy is installed
    by_family: dict[str, list[str]] = {}
    for entry in REGISTRY.values():
        if not entry.builtin:
            continue
        if entry.family.name not in _FAMILIES:
            raise KeyError(f"family {entry.family.name!r} of {entry.name!r} has no title in "
                           f"dualad._docs._FAMILIES")
        by_family.setdefault(entry.family.name, []).extend(_names(entry))
    lines = []
    for family, title in _FAMILIES.items():
        names = sorted(set(by_family.get(family, [])))
        if names:
            lines.append(f"- **{title}**: " + ", ".join(names))
    nondiff = sorted({f"`{numpy_name(fn)}`" for fn in NONDIFF})
    lines.append("- **Not differentiable** (derivative 0; they return plain arrays): "
                 + ", ".join(nondiff))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(supported_markdown())
