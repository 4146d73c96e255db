"""The README stays true: its code runs, and its list of supported functions is the registry's."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

from dualad._docs import supported_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_supported_list_matches_registry():
    text = README.read_text()
    block = text.split("<!-- supported-start -->\n")[1].split("<!-- supported-end -->")[0]
    assert block.strip() == supported_markdown().strip(), (
        "README's supported list is out of date: run `python -m dualad._docs` and paste it"
    )


def test_readme_python_examples_run():
    namespace: dict = {}
    for block in _python_blocks(README.read_text()):
        if block.lstrip().startswith(">>>"):
            parser = doctest.DocTestParser()
            test = parser.get_doctest(block, namespace, "README", str(README), 0)
            runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.failures == 0, f"README doctest failed:\n{block}"
        else:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
