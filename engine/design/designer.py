"""What process designers do from the browser: read and save diagrams, decisions and forms, validate, deploy.

The designer works in a workspace of its own (`Settings.design_workspace()`, by default `instance/workspace/`
with `processes/` and `forms/` inside, filled from TONGBAN_PROCESSES and TONGBAN_FORMS the first time): a save
never writes into the installed code or a working tree's `processes/`, and what it deploys is what it shows.
`tongban validate|deploy <workspace>/processes` read the same files. Diagrams and decision tables are saved as
patches of the file's text (engine/design/xmlmerge.py), so comments and layout outside the edit stay.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select

from engine.base import jsonvalues
from engine.base.errors import Forbidden, FormInvalid, NotFound
from engine.base.problems import Problem
from engine.base.settings import Settings
from engine.base.xmlsafe import UnsafeXml, parse_xml
from engine.definitions.compiler import BPMN_NS, FORM_PROPERTY, properties
from engine.definitions.registry import Deployed, deploy, validate
from engine.definitions.workspace import FORMS, PROCESSES, Files, manifests, read_tree
from engine.design.scenarios import Report, discover, run_bounded
from engine.design.xmlmerge import merge
from engine.people.access import Actor, may_design
from engine.store.db import Database
from engine.store.models import ProcessVersion

#: Diagrams, decision tables and forms; manifests and the role catalogue are changed through review, not here.
EDITABLE = (".bpmn", ".dmn", ".json")
NOT_PARSED = "文件无法解析，未保存 (the file does not parse; not saved)"


def require_designer(actor: Actor) -> None:
    if not may_design(actor):
        raise Forbidden("需要流程设计人员角色 (process designers only)")


def folders(settings: Settings) -> tuple[Path, Path]:
    """The workspace's processes/ and forms/, copied from the installed ones on first use."""
    root = settings.design_workspace()
    targets = (root / "processes", root / "forms")
    for source, target in zip((settings.processes_dir, settings.forms_dir), targets, strict=True):
        if not target.is_dir():
            _copy(source, target, root)
    return targets


def _copy(source: Path, target: Path, workspace_root: Path) -> None:
    """Copy a folder whole or not at all (a second designer copying at the same moment loses the race, harmlessly);
    the workspace itself is skipped when it lies inside the source."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    skip = workspace_root.resolve()

    def ignored(folder: str, names: list[str]) -> list[str]:
        return [n for n in names if (Path(folder) / n).resolve() == skip]

    try:
        if source.is_dir():
            shutil.copytree(source, staging, ignore=ignored, dirs_exist_ok=True)
        os.replace(staging, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def workspace(settings: Settings) -> Files:
    return read_tree(*folders(settings))


def _disk_path(settings: Settings, path: str) -> Path:
    """`processes/…` or `forms/…` to a file inside that folder; anything else (`..`, other suffixes) is not found."""
    for prefix, root in zip((PROCESSES, FORMS), folders(settings), strict=True):
        if path.startswith(prefix) and path.endswith(EDITABLE):
            target = (root / path[len(prefix):]).resolve()
            inside = target.is_relative_to(root.resolve())
            parts = target.relative_to(root.resolve()).parts if inside else ()
            # no scenarios, and no hidden or nameless file (`.json`, the saves' own `.x.tmp` staging names)
            if parts and "scenarios" not in parts and not any(part.startswith(".") for part in parts):
                return target
    raise NotFound(f"不能编辑该文件 (not an editable process or form file: {path!r})")


def read_source(settings: Settings, path: str, actor: Actor) -> str:
    require_designer(actor)
    target = _disk_path(settings, path)
    if not target.is_file():
        raise NotFound(f"文件不存在 (no such file: {path})")
    return target.read_text(encoding="utf-8")


def _well_formed(path: str, content: str) -> None:
    """A file that does not even parse is refused (the editor still holds it); lint problems are not.

    A form is read as strictly as a submitted body (engine/base/jsonvalues.py): NaN, 1e999 or a repeated key
    is no JSON the browser's form renderer reads alike, and a thousand nested arrays were a RecursionError.
    """
    try:
        if path.endswith(".json"):
            jsonvalues.loads(content)
        else:
            parse_xml(content.encode("utf-8"), path)
    except (jsonvalues.MalformedJSON, FormInvalid) as exc:
        details = [f"{where}: {message}" for where, messages in exc.fields.items() for message in messages]
        raise FormInvalid(NOT_PARSED, {"/content": details or [exc.message]}) from None
    except (ValueError, UnsafeXml, etree.XMLSyntaxError) as exc:
        raise FormInvalid(NOT_PARSED, {"/content": [str(exc)]}) from None


def save_source(settings: Settings, path: str, content: str, actor: Actor) -> list[Problem]:
    """Write the file (atomically) and return what `tongban validate` now says about the whole tree.

    Saving with problems is allowed so that no work is lost; deploying is what refuses them.
    """
    require_designer(actor)
    target = _disk_path(settings, path)
    _well_formed(path, content)
    if not path.endswith(".json") and target.is_file():
        content = merge(target.read_text(encoding="utf-8"), content, path)
    problems = validate({**workspace(settings), path: content.encode("utf-8")})
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(content)
    os.replace(temporary, target)
    return problems


def check(settings: Settings, actor: Actor) -> list[Problem]:
    require_designer(actor)
    return validate(workspace(settings))


def deploy_all(db: Database, settings: Settings, actor: Actor) -> list[Deployed]:
    require_designer(actor)
    return deploy(db, workspace(settings), by=actor.username)


@dataclass(frozen=True)
class ProcessSource:
    key: str
    name_zh: str
    name_en: str
    folder: str
    diagrams: list[str]
    #: element id → form file, for showing a task's form beside it in the modeler
    forms: dict[str, str]
    #: the folder's decision tables (.dmn), edited in the DMN table editor
    decisions: list[str] = field(default_factory=list)


def process_sources(settings: Settings, actor: Actor) -> list[ProcessSource]:
    require_designer(actor)
    files = workspace(settings)
    out = []
    for manifest in manifests(files):
        folder = manifest.path.rsplit("/", 1)[0] + "/"
        diagrams = sorted(p for p in files if p.startswith(folder) and p.endswith(".bpmn"))
        forms: dict[str, str] = {}
        for diagram in diagrams:
            for element in parse_xml(files[diagram], diagram).iter(f"{{{BPMN_NS}}}*"):
                form = properties(element).get(FORM_PROPERTY) if element.get("id") else None
                if form:
                    forms[element.get("id")] = FORMS + form
        decisions = sorted(p for p in files if p.startswith(folder) and p.endswith(".dmn"))
        out.append(ProcessSource(manifest.key, manifest.name_zh, manifest.name_en, folder, diagrams, forms, decisions))
    return out


def deployed_versions(db: Database, actor: Actor) -> dict[str, list[ProcessVersion]]:
    """Every deployed version per process key, newest first (running cases stay on theirs)."""
    require_designer(actor)
    out: dict[str, list[ProcessVersion]] = {}
    with db.read() as session:
        query = select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.version.desc())
        for version in session.scalars(query):
            session.expunge(version)
            out.setdefault(version.process_key, []).append(version)
    return out


def run_scenarios(settings: Settings, folder: str, actor: Actor) -> Report:
    """The scenarios of one process folder (`processes/<x>/`), on a throw-away database, with coverage — in a
    child process stopped after `settings.scenario_seconds`, since the files may be saved but never deployed."""
    require_designer(actor)
    root, _ = folders(settings)
    target = (root / folder.removeprefix(PROCESSES)).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_dir():
        raise NotFound(f"流程目录不存在 (no process folder {folder!r})")
    return run_bounded(workspace(settings), discover(target), root, settings.scenario_seconds)
