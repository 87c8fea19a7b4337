"""The repository's own files: its root (`REPO`), the role catalogue, the shipped processes and forms."""

from __future__ import annotations

from pathlib import Path

from engine.definitions.workspace import Files, read_tree

REPO = Path(__file__).resolve().parents[2]  # the one place that knows where tests/ sits in the repository
ROLES = (REPO / "processes" / "roles.yaml").read_bytes()


def repo_files() -> Files:
    return read_tree(REPO / "processes", REPO / "forms")


def sample_files() -> Files:
    """Only the sample approval process (with the role catalogue and its forms): deploy tests count versions."""
    return {path: content for path, content in repo_files().items()
            if path == "processes/roles.yaml" or path.startswith(("processes/sample/", "forms/sample_"))}
