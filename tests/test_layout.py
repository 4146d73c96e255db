"""The layout is the architecture: every module imports only its own layer or lower ones.

engine (errors, registry, tree, axes, active, dual, tape, sweep, ...) <- primitives <-
transforms (and compiling) <- traces (and sparsity) <- checking <- cli; the package's
``__init__`` is the public API on top.
Every import counts, also one inside a function, so a layer cannot reach up lazily; and the
runtime import graph has no cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dualad"
LAYERS = {"primitives": 1, "transforms": 2, "compiling": 2, "traces": 3, "sparsity": 3,
          "checking": 4, "cli": 5}
"""Subpackage -> layer; every top-level module of dualad is the engine, layer 0."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    """The layer of a dualad module; None for the package itself (the public API)."""
    parts = module.split(".")
    if parts[0] != "dualad":
        return None
    if len(parts) == 1 or parts[1] in ("__init__", "__main__"):
        return None
    return LAYERS.get(parts[1], 0)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported dualad module, line, only for type checking) for every import in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for node in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("dualad"):
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else []
                for name in names or [target]:
                    found.append((name, node.lineno, id(node) in typing_only))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dualad"):
                    found.append((alias.name, node.lineno, id(node) in typing_only))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward(path):
    own = _layer(_module_name(path))
    if own is None:
        return
    for target, line, _ in _imports(path):
        theirs = _layer(target)
        if theirs is None and target != "dualad":
            continue
        assert theirs is not None and theirs <= own, (
            f"{path.relative_to(PACKAGE)}:{line} imports {target}, a higher layer "
            f"({theirs} > {own}; engine 0 <- {LAYERS})"
        )


def test_the_runtime_import_graph_has_no_cycles():
    graph: dict[str, set[str]] = {}
    modules = {_module_name(p) for p in MODULES}
    for path in MODULES:
        edges = set()
        for target, _, typing_only in _imports(path):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]  # from package import name
            if not typing_only and target in modules and target != _module_name(path):
                edges.add(target)
        graph[_module_name(path)] = edges
    # a package imports its submodules to re-export them; that is not a cycle of code
    for name in list(graph):
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_checker_sees_an_upward_import():
    """The layer test can fail: an engine module importing a transform is caught."""
    fake = PACKAGE / "_layout_probe.py"
    assert not fake.exists()
    try:
        fake.write_text("from .transforms import jvp\n")
        (target, line, _), = _imports(fake)
        assert target == "dualad.transforms" and _layer(target) == 2
        assert _layer(_module_name(fake)) == 0
    finally:
        fake.unlink()
