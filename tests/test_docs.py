"""The README and docs/ stay true: every example in them runs, and what they say about the
project agrees with the project.

- ```` ```python ```` blocks run (as doctests when they start with ``>>>``), one namespace per
  page, so a page reads top to bottom;
- ```` ```console ```` blocks run each ``$ dualad ...`` command and compare its output with the
  text shown (``...`` on a line of its own stands for any lines);
- ```` ```bash ```` blocks are commands to copy (installs, long benchmark runs): each command
  is checked to be valid (the extra exists, the benchmark takes those options), and the
  README's two set-up commands are checked against ``.ci/run`` and the console examples;
- file targets (``docs/examples/tanh_chain.py:loss``) exist, the supported list is the
  registry's, the API page covers ``dualad.__all__``, the design page names every subpackage.

The site build itself (``mkdocs build --strict``) is tests/test_docs_build.py.
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import dualad
from dualad._docs import supported_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
IDS = [str(p.relative_to(ROOT)) for p in PAGES]

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    tomllib = pytest.importorskip("tomli")

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def _commands(block: str) -> list[str]:
    """The commands of a ```bash block: one per line, comments and blank lines left out."""
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


# --------------------------------------------------------------------------- python blocks

_FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
_FLOAT = re.compile(r"(?<![\w.])[-+]?\d+\.(\d*)(?:e[-+]?\d+)?(?![\w.])", flags=re.I)


class _NumberChecker(doctest.OutputChecker):
    """pytest's NUMBER option for these doctests: a float shown with d decimals (0.462)
    matches any output that rounds to it, so examples show what a reader needs and do not
    break on the last bits of a BLAS."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        if super().check_output(want, got, optionflags):
            return True
        wanted, found = list(_FLOAT.finditer(want)), list(_FLOAT.finditer(got))
        if len(wanted) != len(found):
            return False
        pieces, end = [], 0
        for w, g in zip(wanted, found):
            close = abs(float(w.group()) - float(g.group())) <= 0.5 * 10.0 ** -len(w.group(1))
            pieces += [got[end:g.start()], w.group() if close else g.group()]
            end = g.end()
        return super().check_output(want, "".join(pieces) + got[end:], optionflags)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_python_examples_run(page):
    namespace: dict = {}
    for block in _blocks(page.read_text(), "python"):
        if block.lstrip().startswith(">>>"):
            parser = doctest.DocTestParser()
            test = parser.get_doctest(block, namespace, page.name, str(page), 0)
            runner = doctest.DocTestRunner(checker=_NumberChecker(), optionflags=_FLAGS)
            runner.run(test, clear_globs=False)
            namespace.update(test.globs)  # a DocTest works on a copy: later blocks see it
            assert runner.failures == 0, f"{page.name} doctest failed:\n{block}"
        else:
            exec(compile(block, str(page), "exec"), namespace)  # noqa: S102


# --------------------------------------------------------------------------- console blocks


def _sessions(page: Path) -> list[tuple[str, str]]:
    """(command, expected output) for each ``$ `` line of the page's console blocks."""
    sessions = []
    for block in _blocks(page.read_text(), "console"):
        parts = re.split(r"^\$ (.*)\n", block, flags=re.M)
        assert parts[0].strip() == "", f"{page.name}: a console block starts with '$ '"
        sessions += list(zip(parts[1::2], parts[2::2]))
    return sessions


SESSIONS = [(page, command, expected) for page in PAGES for command, expected in _sessions(page)]


def _expected_status(expected: str) -> int:
    """What the shown output implies: a usage mistake exits 2, differing gradients 1."""
    if expected.startswith("dualad: error"):
        return 2
    return 1 if re.search(r"^\S+: differs", expected, flags=re.M) else 0


def _run(command: str) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    assert argv[0] in {"dualad", "python"}, f"console examples run dualad or python: {command}"
    argv = [sys.executable, "-m", "dualad", *argv[1:]] if argv[0] == "dualad" else \
        [sys.executable, *argv[1:]]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"})


@pytest.mark.parametrize(("page", "command", "expected"), SESSIONS,
                         ids=[f"{p.name}: {c[:50]}" for p, c, _ in SESSIONS])
def test_console_examples_run(page, command, expected):
    done = _run(command)
    output = "\n".join(line.rstrip() for line in (done.stdout + done.stderr).splitlines())
    want = "\n".join(line.rstrip() for line in expected.strip("\n").splitlines())
    checker = doctest.OutputChecker()
    assert checker.check_output(want + "\n", output + "\n", doctest.ELLIPSIS), (
        f"{page.name}: `{command}` printed\n{output}\n\ninstead of\n{want}"
    )
    assert done.returncode == _expected_status(want), done.stderr
    assert "Traceback" not in output


def test_console_examples_exist():
    """The parser above finds the README's trace and the traces and checking pages' runs."""
    commands = [c for _, c, _ in SESSIONS]
    assert any(c.startswith("dualad trace") for c in commands)
    assert any(c.startswith("dualad check") for c in commands)


# --------------------------------------------------------------------------- bash blocks

BENCHMARK = re.compile(r"python -m (benchmarks\.\w+)((?: \S+)*)$")
INSTALL = re.compile(r'pip install -e "\.\[([\w,]+)\]"$')
README_SETUP = re.compile(r"python3 -m venv \.venv && \. \.venv/bin/activate && (.*)$")


def _extras(command: str) -> set[str]:
    found = re.search(r'pip install -e "?\.(?:\[([\w,]+)\])?"?', command)
    assert found, command
    return set(filter(None, (found.group(1) or "").split(",")))


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_shell_commands_are_valid(page):
    """Commands too slow for the suite (installs, full benchmark runs) still name options
    and extras that exist."""
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    for block in _blocks(page.read_text(), "bash"):
        for command in _commands(block):
            if README_SETUP.match(command):
                continue  # the README's two set-up commands: see the tests below
            if INSTALL.match(command) or command.startswith("pip install -e"):
                assert _extras(command) <= extras, command
            elif match := BENCHMARK.match(command):
                module, args = match.group(1), match.group(2).split()
                assert importlib.util.find_spec(module), command
                usage = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT,
                                       capture_output=True, text=True, timeout=120).stdout
                for option in (a for a in args if a.startswith("-")):
                    assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", usage), \
                        f"{page.name}: {module} has no option {option}"
            elif command.startswith("mkdocs "):
                assert command.split()[1] in {"serve", "build"}, command
            else:
                pytest.fail(f"{page.name}: no check for the shell command {command!r}")


def _readme_setup() -> list[str]:
    first = _blocks(README.read_text(), "bash")[0]
    commands = _commands(first)
    assert len(commands) == 2 and all(README_SETUP.match(c) for c in commands), (
        "the README's first code block holds its two set-up commands"
    )
    return [README_SETUP.match(c).group(1) for c in commands]


def test_readme_setup_commands_come_first():
    text = README.read_text()
    assert text.index("```bash") < text.index("```python") < text.index("```console")
    assert text.index("```bash") < text.index("\n## ", text.index("## Two commands") + 1)


def test_readme_trace_command_is_an_example_that_runs():
    """The first command's trace is shown, with its output, in a console block (run above)."""
    install, run = _readme_setup()[0].split(" && ", 1)
    assert install == "pip install -e ."
    assert run in [c for p, c, _ in SESSIONS if p == README]


def test_readme_test_command_is_what_ci_runs():
    if not (ROOT / ".ci" / "run").exists():
        pytest.skip("no .ci/run: an unpacked sdist, not a clone")
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    assert ci[-1] == _readme_setup()[1], ".ci/run runs the README's test command"
    assert "pytest" in ci[-1] and "ruff check ." in ci[-1]


def test_the_test_command_installs_the_docs_tools():
    """The docs build test must run in CI, so the extras CI installs include the docs'."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    installed = set()
    todo = list(_extras(_readme_setup()[1]))
    while todo:
        extra = todo.pop()
        installed.add(extra)
        for requirement in extras[extra]:
            if nested := re.fullmatch(r"dualad\[([\w,]+)\]", requirement):
                todo += [e for e in nested.group(1).split(",") if e not in installed]
    assert "docs" in installed


def test_readme_python_version_agrees_with_requires_python():
    low = re.fullmatch(r">=(3\.\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    said = re.findall(r"Python (3\.\d+)", README.read_text().split("## A 30-second tour")[0])
    assert said == [low], f"README says Python {said}, pyproject requires >={low}"
    assert f"Python {low} or newer" in README.read_text()


# --------------------------------------------------------------------------- what pages say


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_file_targets_exist(page):
    """Every FILE.py:NAME a page mentions exists, or is a placeholder under path/to/."""
    for path, name in re.findall(r"([\w./-]+\.py):(\w+)", page.read_text()):
        if path.startswith("path/to/"):
            continue
        file = ROOT / path
        assert file.is_file(), f"{page.name} names {path}, which does not exist"
        assert re.search(rf"^def {name}\(", file.read_text(), flags=re.M), \
            f"{page.name} names {path}:{name}, which is not defined there"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_pages_speak_to_users(page):
    """No internal labels or history of how figures were obtained."""
    text = page.read_text()
    for pattern in [r"\bseed \d{3}\b", r"\bseed\d{3}\b", r"\bissue \d+\b", r"previous runs?",
                    r"before the pinning", r"forum\d{3}"]:
        assert not re.search(pattern, text, flags=re.I), f"{page.name}: {pattern}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.parent == DOCS],
                         ids=lambda p: p.name)
def test_relative_links_resolve(page):
    """(mkdocs build --strict checks anchors too; this runs without the docs extra.)"""
    prose = re.sub(r"^```.*?^```|`[^`\n]*`", "", page.read_text(), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", prose):
        if not re.match(r"https?://|mailto:", target):
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_example_files_shown_are_the_files():
    """A page that shows a function of docs/examples/ shows it as the file has it."""
    examples = {path: path.read_text() for path in (DOCS / "examples").glob("*.py")}
    shown = 0
    for page in PAGES:
        for block in _blocks(page.read_text(), "python"):
            for function in re.findall(r"^def \w+\(.*?(?=^\S|\Z)", block, flags=re.S | re.M):
                if any(re.search(rf"^{re.escape(function.split('(')[0])}\(", text, flags=re.M)
                       for text in examples.values()):
                    assert any(function.strip() in text for text in examples.values()), \
                        f"{page.name} shows {function.split(':')[0]} unlike docs/examples/"
                    shown += 1
    assert shown >= 2


def test_supported_list_matches_registry():
    text = (DOCS / "supported.md").read_text()
    block = text.split("<!-- supported-start -->\n")[1].split("<!-- supported-end -->")[0]
    assert block.strip() == supported_markdown().strip(), (
        "docs/supported.md is out of date: run `python -m dualad._docs` and paste it"
    )


def test_api_page_covers_the_public_api():
    documented = re.findall(r"^::: dualad\.(\w+)$", (DOCS / "api.md").read_text(), flags=re.M)
    assert sorted(documented) == sorted(dualad.__all__)
    assert len(documented) == len(set(documented))


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text().split("\nnav:\n")[1]
    listed = set(re.findall(r"^\s+- (?:[^:\n]+: )?([\w/.-]+\.md)$", nav, flags=re.M))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert listed == pages


def test_design_page_names_every_subpackage_and_engine_module():
    text = (DOCS / "design.md").read_text()
    package = ROOT / "dualad"
    names = [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()]
    names += [p.name for p in package.glob("*.py") if not p.name.startswith("__")]
    missing = [name for name in names if name not in text]
    assert not missing, f"docs/design.md does not describe {missing}"
