"""What a release needs, checked cheaply: one version, a licence, the typing marker, an sdist
whose tests can run, and README links that work on a package index page.

The full check (build the sdist and the wheel, install each in a fresh virtual environment,
run the sdist's tests and the installed ``dualad`` command) is done by hand before a release;
these tests catch the configuration drifting in between.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import dualad

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(dualad.__file__).resolve().parent

try:
    import tomllib
except ImportError:  # Python 3.10: pytest itself depends on tomli there
    tomllib = pytest.importorskip("tomli")

# The checkout's own files: these tests are about the source tree (a clone or an unpacked
# sdist), not about some other dualad that happens to be installed.
if PACKAGE != ROOT / "dualad":
    pytest.skip(f"dualad is imported from {PACKAGE}, not from this tree's {ROOT / 'dualad'}",
                allow_module_level=True)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


# --------------------------------------------------------------------------- the version


def _version_literal() -> str:
    """``__version__`` as written in dualad/__init__.py, read the way setuptools' ``attr:``
    reads it at build time: statically, without importing dualad (or NumPy)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    values = [ast.literal_eval(node.value) for node in tree.body
              if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)]
    assert len(values) == 1, "dualad/__init__.py must assign __version__ once, to a literal"
    return values[0]


def test_the_version_is_written_once():
    assert "version" not in PROJECT, "pyproject.toml must not repeat the version"
    assert "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dualad.__version__"}
    assert _version_literal() == dualad.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?",
                        dualad.__version__), "not a PEP 440 release version"


def _installed_here() -> importlib.metadata.Distribution | None:
    """The installed distribution of dualad if it was installed from this tree (editable,
    pointing here, or a regular install whose files are the ones imported), else None."""
    try:
        dist = importlib.metadata.distribution("dualad")
    except importlib.metadata.PackageNotFoundError:
        return None
    direct_url = dist.read_text("direct_url.json")
    if direct_url:
        info = json.loads(direct_url)
        if info.get("dir_info", {}).get("editable"):
            source = Path(unquote(urlparse(info["url"]).path)).resolve()
            return dist if source == ROOT else None
    init = Path(dist.locate_file("dualad/__init__.py")).resolve()
    return dist if init == PACKAGE / "__init__.py" else None


def test_installed_metadata_agrees_with_dualad_version():
    dist = _installed_here()
    if dist is None:
        pytest.skip("dualad is not installed from this tree (its metadata would describe "
                    "another checkout)")
    assert dist.version == dualad.__version__, (
        f"the installed metadata says {dist.version}, dualad.__version__ is "
        f"{dualad.__version__}: reinstall (pip install -e .)"
    )


# --------------------------------------------------------------------------- licence, typing


def test_license_is_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "MIT", "PEP 639: license is an SPDX expression string"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the dualad developers" in text
    classifiers = PROJECT["classifiers"]
    assert not [c for c in classifiers if c.startswith("License ::")], \
        "PEP 639 forbids license classifiers beside a license expression"
    requires = [r for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert requires == ["setuptools>=77"], "setuptools supports PEP 639 from version 77"


def test_the_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["dualad"]
    assert "Typing :: Typed" in PROJECT["classifiers"]


def test_python_versions_agree():
    """requires-python and the version classifiers name the same versions."""
    low = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert low, PROJECT["requires-python"]
    minors = sorted(int(m) for c in PROJECT["classifiers"]
                    for m in re.findall(r"^Programming Language :: Python :: 3\.(\d+)$", c))
    assert minors and minors[0] == int(low.group(1))
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py3{minors[0]}"


# --------------------------------------------------------------------------- the sdist

# Every file under these folders goes into the sdist: the tests read or import them
# (tests/conftest.py, forum001.py and reference.py; test_docs reads README.md, docs/ and
# mkdocs.yml; test_notebooks runs notebooks/; test_benchmarks_smoke imports benchmarks/).
SDIST_FOLDERS = ["tests", "docs", "notebooks", "benchmarks"]
SDIST_FILES = ["README.md", "LICENSE", "CHANGELOG.md", "mkdocs.yml"]  # + pyproject.toml


def _tree_files() -> list[str]:
    files = [name for name in SDIST_FILES if (ROOT / name).exists()]
    for folder in SDIST_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__"
                                          for p in parts) and path.suffix != ".pyc":
                files.append("/".join(parts))
    return files


def test_manifest_grafts_what_the_tests_need():
    lines = [line.split("#")[0].split() for line in (ROOT / "MANIFEST.in").read_text()
             .splitlines()]
    grafted = {words[1] for words in lines if words[:1] == ["graft"]}
    included = {w for words in lines if words[:1] == ["include"] for w in words[1:]}
    assert set(SDIST_FOLDERS) <= grafted
    assert set(SDIST_FILES) <= included
    for helper in ["conftest.py", "forum001.py", "reference.py"]:
        assert (ROOT / "tests" / helper).exists()


def test_manifest_selects_every_file_the_tests_need(monkeypatch):
    """MANIFEST.in interpreted by setuptools' own template reader (as ``sdist`` does),
    over this tree's files: every file of tests/, docs/, notebooks/ and benchmarks/ is in."""
    pytest.importorskip("setuptools")
    from setuptools.command.egg_info import FileList

    monkeypatch.chdir(ROOT)  # the reader checks its paths against the working directory
    wanted = _tree_files()
    assert "tests/conftest.py" in wanted and "tests/reference.py" in wanted
    selected = FileList()
    selected.set_allfiles(wanted)
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            selected.process_template_line(line)
    missing = sorted(set(wanted) - set(selected.files))
    assert not missing, f"MANIFEST.in leaves these out of the sdist: {missing}"


def test_the_package_is_only_dualad():
    """The wheel installs dualad alone: tests, notebooks and benchmarks stay in the sdist."""
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["dualad*"]
    assert PROJECT["scripts"] == {"dualad": "dualad.cli.main:main"}


# --------------------------------------------------------------------------- the README


def test_readme_links_work_on_a_package_index_page():
    """A package index shows the README without the repository around it: a relative link
    (docs/sharp-bits.md) or image there is broken. Link to the repository instead."""
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)", text) + re.findall(r'src="([^"]+)"', text)
    assert targets
    relative = [t for t in targets if not re.match(r"https?://|mailto:|#", t)]
    assert not relative, (
        f"relative links in README.md: {relative}; write "
        "https://github.com/dualad/dualad/blob/main/PATH (raw.githubusercontent.com for images)"
    )
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text)
    assert all(i.startswith("https://raw.githubusercontent.com/") for i in images), images


def test_project_urls_name_one_repository():
    urls = PROJECT["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Source", "Changelog"}
    assert all(u.startswith("https://github.com/dualad/dualad") for u in urls.values())
    assert (ROOT / "CHANGELOG.md").read_text().startswith("# Changelog")
    assert f"## [{dualad.__version__}]" in (ROOT / "CHANGELOG.md").read_text(), \
        "CHANGELOG.md has no entry for this version"
