"""The engine's layers hold: import-linter's contracts in pyproject.toml (engine/__init__.py lists the order)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.repo import REPO

LINT = "import sys; from importlinter.cli import lint_imports_command; sys.argv[0] = 'lint-imports'; " \
       "sys.exit(lint_imports_command())"


def test_each_engine_package_imports_only_the_layers_below_it_and_never_the_web() -> None:
    lint = subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "Contracts: 2 kept, 0 broken." in lint.stdout, lint.stdout
