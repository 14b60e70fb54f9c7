"""What a fresh install relies on: every module imports, and every third-party import is declared.

CI installs into a new venv without system site-packages, so a package that is not declared in
``pyproject.toml`` is missing there and these tests fail, instead of a user's first command.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

import arena

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
OURS = {"arena", "tests", "benchmarks", "scripts"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


CORE = _requirement_names(PYPROJECT["dependencies"])
EXTRAS = {extra: _requirement_names(reqs) for extra, reqs in PYPROJECT["optional-dependencies"].items()}
DISTRIBUTIONS = packages_distributions()


# Import names that differ from their distribution's name, for when the distribution is not installed.
IMPORT_ALIASES = {"PIL": "pillow", "yaml": "pyyaml"}


def _distributions(top_level: str) -> set[str]:
    """The distributions that provide an import name (its known alias or the name itself when not installed)."""
    return {_canonical(d) for d in DISTRIBUTIONS.get(top_level, [IMPORT_ALIASES.get(top_level, top_level)])}


def _third_party_imports(path: Path, *, module_level_only: bool = False) -> dict[str, int]:
    """Top-level names of the third-party modules ``path`` imports, with the first line of each."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if module_level_only else ast.walk(tree)
    found: dict[str, int] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in OURS and top != "__future__":
                found.setdefault(top, node.lineno)
    return found


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_every_third_party_import_is_declared():
    declared = CORE.union(*EXTRAS.values())
    undeclared = [
        f"{path.relative_to(ROOT)}:{line} imports {top} ({', '.join(sorted(_distributions(top)))})"
        for path in _python_files("arena", "benchmarks", "scripts", "tests")
        for top, line in _third_party_imports(path).items()
        if not _distributions(top) & declared
    ]
    assert not undeclared, "declare these in pyproject.toml:\n" + "\n".join(undeclared)


# Modules that import an extra's package when they are imported (the rest import extras lazily, inside
# the function that needs them, so that `pip install arena-selfplay` alone lists, plays and watches games).
EXTRA_MODULES = {
    "arena/trainers/learner.py": "train",
    "arena/trainers/loss.py": "train",
}


def test_module_level_imports_need_only_the_core_dependencies():
    wrong = []
    for path in _python_files("arena"):
        relative = path.relative_to(ROOT).as_posix()
        allowed = CORE | EXTRAS.get(EXTRA_MODULES.get(relative, ""), set())
        for top, line in _third_party_imports(path, module_level_only=True).items():
            if not _distributions(top) & allowed:
                wrong.append(f"{relative}:{line} imports {top} at module level")
    assert not wrong, "import these inside the function that needs them, or list the module in EXTRA_MODULES:\n" + (
        "\n".join(wrong)
    )


def _missing_optional(error: ImportError) -> str | None:
    """The optional extra whose absence explains ``error``, or None when the error is a real defect."""
    name = (error.name or "").split(".")[0]
    if not name or importlib.util.find_spec(name) is not None:
        return None
    for extra, names in EXTRAS.items():
        if _distributions(name) & names and extra not in ("train", "dev"):  # train and dev are always installed
            return extra
    return None


MODULES = sorted(m.name for m in pkgutil.walk_packages(arena.__path__, prefix="arena."))


def test_the_package_walk_finds_every_subpackage():
    for sub in ("core", "envs", "agents", "trainers", "league", "view"):
        assert any(m.startswith(f"arena.{sub}.") for m in MODULES), sub


@pytest.mark.parametrize("module", MODULES)
def test_every_module_imports(module):
    try:
        importlib.import_module(module)
    except ImportError as error:
        extra = _missing_optional(error)
        if extra is None:
            raise
        pytest.skip(f"{module} needs the '{extra}' extra ({error.name} is not installed)")
