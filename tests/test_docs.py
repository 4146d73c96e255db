"""The README and docs/ stay true: their code runs, and the README's list of supported
functions is the registry's."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from dualad._docs import supported_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
DOCS = sorted((README.parent / "docs").glob("*.md"))


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_supported_list_matches_registry():
    text = README.read_text()
    block = text.split("<!-- supported-start -->\n")[1].split("<!-- supported-end -->")[0]
    assert block.strip() == supported_markdown().strip(), (
        "README's supported list is out of date: run `python -m dualad._docs` and paste it"
    )


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_python_examples_run(page):
    namespace: dict = {}
    for block in _python_blocks(page.read_text()):
        if block.lstrip().startswith(">>>"):
            parser = doctest.DocTestParser()
            test = parser.get_doctest(block, namespace, page.name, str(page), 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # a DocTest works on a copy: later blocks see it
            assert runner.failures == 0, f"{page.name} doctest failed:\n{block}"
        else:
            exec(compile(block, str(page), "exec"), namespace)  # noqa: S102
