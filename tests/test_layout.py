"""The tests' own layout (issue 11, point 5): no test module imports another — what tests share lives in
tests/support or a conftest.py — and the folders of tests/ mirror the engine's packages (checks of the whole
repository, such as this one, sit at the top)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.repo import REPO

TESTS = REPO / "tests"
OTHER_FOLDERS = {"api", "browser", "integration", "support"}  # the HTTP API and pages, the two slow suites, helpers


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, dotted and absolute: `from a.b import c` counts as a.b and as a.b.c."""
    package = module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {f"{path.relative_to(REPO)} imports {name}"
                 for path in TESTS.rglob("*.py")
                 for name in imported_modules(path)
                 if name.startswith("tests.") and is_test_module(name)}
    assert sorted(offenders) == []  # move what is shared into tests/support (or a conftest.py fixture)


def test_the_folders_of_tests_mirror_the_engine_packages() -> None:
    engine = {p.parent.name for p in (REPO / "engine").glob("*/__init__.py")}
    folders = {p.parent.relative_to(TESTS).parts[0] for p in TESTS.rglob("*.py") if p.parent != TESTS}
    assert sorted(folders - engine - OTHER_FOLDERS) == []  # a folder of tests names an engine package
    missing = sorted(str(d.relative_to(REPO)) for d in {p.parent for p in TESTS.rglob("*.py")}
                     if not (d / "__init__.py").exists())
    assert missing == []  # packages all: test modules in different folders may share a file name
