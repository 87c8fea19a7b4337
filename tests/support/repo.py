"""The repository's own files: its root (`REPO`), the role catalogue, the shipped processes and forms."""

from __future__ import annotations

from pathlib import Path

from engine.definitions.compiler import CompiledProcess, ParsedWorkspace
from engine.definitions.registry import analyse
from engine.definitions.workspace import Files, content_hash, read_tree

REPO = Path(__file__).resolve().parents[2]  # the one place that knows where tests/ sits in the repository
ROLES = (REPO / "processes" / "roles.yaml").read_bytes()


def repo_files() -> Files:
    return read_tree(REPO / "processes", REPO / "forms")


_ANALYSED: dict[str, tuple[ParsedWorkspace, list[CompiledProcess]]] = {}


def analysed_repo() -> tuple[ParsedWorkspace, list[CompiledProcess]]:
    """The shipped processes linted and compiled once per content (not once per test): most tests deploy them."""
    files = repo_files()
    digest = content_hash(files)
    if digest not in _ANALYSED:
        _ANALYSED[digest] = analyse(files)
    return _ANALYSED[digest]


def sample_files() -> Files:
    """Only the sample approval process (with the role catalogue and its forms): deploy tests count versions."""
    return {path: content for path, content in repo_files().items()
            if path == "processes/roles.yaml" or path.startswith(("processes/sample/", "forms/sample_"))}
