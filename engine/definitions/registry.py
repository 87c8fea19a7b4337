"""Validate process files and deploy them as content-addressed versions."""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select

from engine.base.clock import now
from engine.base.errors import DefinitionInvalid
from engine.base.problems import Problem, errors_in
from engine.definitions.compiler import CompiledProcess, ParsedWorkspace
from engine.definitions.lint import lint
from engine.definitions.workspace import Files, content_hash
from engine.store.db import Database
from engine.store.models import ProcessVersion


def analyse(files: Files) -> tuple[ParsedWorkspace, list[CompiledProcess]]:
    """Parse, lint and compile every startable process; all problems end up in `ws.problems`."""
    ws = ParsedWorkspace(files)
    lint(ws)
    compiled: list[CompiledProcess] = []
    if errors_in(ws.problems):
        return ws, compiled
    for manifest in ws.manifests:
        try:
            compiled.append(ws.compile(manifest))
        except SpiffWorkflowException as exc:
            ws.problem(manifest.path, getattr(exc, "id", None) or manifest.key, str(exc).rstrip(". "))
    return ws, compiled


def validate(files: Files) -> list[Problem]:
    return analyse(files)[0].problems


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    content_hash: str
    created: bool


def deploy(db: Database, files: Files, by: str | None = None) -> list[Deployed]:
    """A new version per process whose content differs from its latest version; the same content creates nothing."""
    return deploy_analysed(db, analyse(files), by)


def deploy_analysed(db: Database, analysis: tuple[ParsedWorkspace, list[CompiledProcess]],
                    by: str | None = None) -> list[Deployed]:
    """`deploy` of files already analysed (read only here): the test suite analyses the repository's processes
    once and deploys them into each test's fresh database, instead of linting and compiling them per test."""
    ws, compiled = analysis
    errors = errors_in(ws.problems)
    if errors:
        raise DefinitionInvalid(f"{len(errors)} 处错误，未部署 (not deployed: {len(errors)} errors)", errors)
    results: list[Deployed] = []
    with db.write() as session:
        for process in compiled:
            key, digest = process.manifest.key, content_hash(process.files)
            latest = session.execute(
                select(ProcessVersion.version, ProcessVersion.content_hash)
                .where(ProcessVersion.process_key == key).order_by(ProcessVersion.version.desc()).limit(1)
            ).first()
            if latest is not None and latest.content_hash == digest:
                results.append(Deployed(key, latest.version, digest, created=False))
                continue
            # Reverting to older content is a new version too: new cases must start on what was deployed last.
            version = (latest.version if latest else 0) + 1
            session.add(ProcessVersion(
                process_key=key, version=version, content_hash=digest, code=process.manifest.code,
                name_zh=process.manifest.name_zh, name_en=process.manifest.name_en,
                files={p: c.decode("utf-8") for p, c in process.files.items()},
                deployed_at=now(), deployed_by=by,
            ))
            results.append(Deployed(key, version, digest, created=True))
    return results
