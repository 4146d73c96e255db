"""Build the notebooks from their sources, ``src/NN_name.py`` -> ``NN_name.ipynb``.

Each notebook is written as a plain Python file in Jupytext's "percent" format (VS Code and
Spyder read it too): a line ``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown cell
whose lines are comments; in code cells, IPython's shell escapes are commented out
(``# !dualad trace ...`` becomes ``!dualad trace ...``). Jupytext reads the sources; the
notebooks keep none of its metadata. Edit the source, then run

    python notebooks/build_notebooks.py                 # every notebook
    python notebooks/build_notebooks.py 02 05           # the ones whose names start so

from the repository root (with ``pip install -e ".[notebooks]"``). The script executes each
notebook top to bottom in a fresh ``python3`` kernel (working directory ``notebooks/``) and
stores it with its outputs, so that it reads on GitHub. Cell ids and metadata are fixed and
timings are not recorded, so rebuilding an unchanged notebook changes only what it measures
(the timings of 06) and the bytes of its images.

``tests/test_notebooks.py`` uses the same functions: it executes every stored notebook,
checks that its cells are the ones its source builds (so the two never drift apart), that
outputs are stored, that no output is longer than a screen, and that every figure drawn has
a title and labelled axes (:data:`FIGURE_CHECK_SETUP`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "src"
CELL_TIMEOUT = 120  # seconds per cell; the slowest (06's timings) takes a few
MAX_OUTPUT_LINES = 60  # "no output longer than a screen"

# Run before the notebook's first cell, in the same kernel, never stored: every figure is
# checked when it is rendered (the inline backend renders each one after its cell).
FIGURE_CHECK_SETUP = """\
from matplotlib.backend_bases import FigureCanvasBase as _Canvas

_figure_problems, _figures_checked = [], [0]
_print_figure = _Canvas.print_figure


def _checked_print_figure(self, *args, **kwargs):
    figure = self.figure
    _figures_checked[0] += 1
    for ax in figure.axes:
        if not (ax.get_title() or figure.get_suptitle()):
            _figure_problems.append(f"figure {_figures_checked[0]}: an axes without a title")
        if not (ax.get_xlabel() and ax.get_ylabel()):
            _figure_problems.append(f"figure {_figures_checked[0]}: an unlabelled axis")
    return _print_figure(self, *args, **kwargs)


_Canvas.print_figure = _checked_print_figure
"""

# Run after the last cell: fails the execution when a figure lacked a title or a label.
FIGURE_CHECK_RESULT = """\
assert not _figure_problems, _figure_problems
print("figures checked:", _figures_checked[0])
"""


NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def read_source(text: str) -> nbformat.NotebookNode:
    """The unexecuted notebook of a percent-format source, read by Jupytext, with fixed cell
    ids and metadata and none of Jupytext's (so that rebuilding changes nothing)."""
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata = nbformat.from_dict(NOTEBOOK_METADATA)  # a copy
    for i, cell in enumerate(nb.cells):
        cell.id, cell.metadata = f"cell-{i:02d}", nbformat.NotebookNode()
    return nb


def parse(text: str) -> list[tuple[str, str]]:
    """Split a percent-format source into ``(cell_type, source)`` pairs.

    Examples
    --------
    >>> parse("# %% [markdown]\\n# # Title\\n#\\n# Text.\\n\\n# %%\\nx = 1\\n")
    [('markdown', '# Title\\n\\nText.'), ('code', 'x = 1')]
    """
    return [(cell.cell_type, cell.source) for cell in read_source(text).cells]


def new_notebook(source: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook of one source file, with fixed cell ids and metadata."""
    return read_source(source.read_text())


def kernel_environment() -> dict[str, str]:
    """The test's environment, with the ``dualad`` command beside this interpreter on PATH
    (``!dualad trace`` cells) and matplotlib left to the kernel's inline backend."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def execute(nb: nbformat.NotebookNode, timeout: int = CELL_TIMEOUT) -> int:
    """Run ``nb`` in place, top to bottom, in a fresh kernel; return the figures drawn.

    Raises ``nbclient.exceptions.CellExecutionError`` on the first cell that fails, or when
    a figure lacks a title or axis labels.
    """
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
    # the checks run as cells of the notebook (nbclient writes each cell back by index) without
    # history, so the notebook's own cells keep execution counts 1, 2, ...; removed afterwards
    setup = nbformat.v4.new_code_cell(FIGURE_CHECK_SETUP)
    result = nbformat.v4.new_code_cell(FIGURE_CHECK_RESULT)
    nb.cells = [setup, *nb.cells, result]
    try:
        with client.setup_kernel(env=kernel_environment()):
            for index, cell in enumerate(nb.cells):
                own = cell is not setup and cell is not result
                client.execute_cell(cell, index, store_history=own)
    finally:
        nb.cells = nb.cells[1:-1]
    _tidy(nb)
    # a print may arrive in several stream messages (older nbclient does not join them)
    printed = "".join(o.get("text", "") for o in result.outputs)
    return int(printed.split()[-1])


def _tidy(nb: nbformat.NotebookNode) -> None:
    """Shell commands (``!dualad ...``) print through a terminal: drop its carriage returns."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = output["text"].replace("\r\n", "\n")


def output_lines(output: dict[str, Any]) -> int:
    """How many lines an output takes on screen (an image counts as one screen's part:
    0 lines; an HTML table as its rows)."""
    if output["output_type"] == "stream":
        return len(output["text"].splitlines())
    data = output.get("data", {})
    if "image/png" in data or "image/svg+xml" in data:
        return 0
    if "text/html" in data:
        return data["text/html"].count("<tr")
    if "text/markdown" in data:
        return len(data["text/markdown"].splitlines())
    if "text/plain" in data:
        return len(data["text/plain"].splitlines())
    return len(output.get("traceback", []))


def build(source: Path) -> Path:
    """Execute the notebook of ``source`` and write it, with outputs, beside this script."""
    nb = new_notebook(source)
    figures = execute(nb)
    target = HERE / f"{source.stem}.ipynb"
    nbformat.write(nb, target)
    print(f"{target.relative_to(HERE.parent)}: {len(nb.cells)} cells, {figures} figures")
    return target


def sources(prefixes: Iterable[str] = ()) -> list[Path]:
    """The source files, all of them or those whose names start with one of ``prefixes``."""
    found = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    prefixes = tuple(prefixes)
    return [p for p in found if not prefixes or p.name.startswith(prefixes)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="name prefixes (02, 05_manual); default all")
    args = parser.parse_args(argv)
    chosen = sources(args.names)
    if not chosen:
        parser.error(f"no source in {SOURCES} starts with {' or '.join(args.names)}")
    for source in chosen:
        build(source)


if __name__ == "__main__":
    main()
