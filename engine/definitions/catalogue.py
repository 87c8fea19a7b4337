"""The role catalogue (processes/roles.yaml): which lane names mean which role."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROLES_FILE = "roles.yaml"


@dataclass(frozen=True)
class Role:
    code: str
    zh: str
    en: str
    org_kind: str
    org: str | None = None
    lanes: tuple[str, ...] = field(default_factory=tuple)

    def names(self) -> set[str]:
        return {self.code, self.zh, self.en, *self.lanes}


class RoleCatalogue:
    def __init__(self, roles: dict[str, Role]) -> None:
        self.roles = roles
        self._by_lane = {name: role for role in roles.values() for name in role.names()}

    @classmethod
    def from_folder(cls, processes_dir: Path) -> RoleCatalogue:
        """The catalogue of a processes/ tree on disk (`roles.yaml` at its top)."""
        return cls.from_yaml((processes_dir / "roles.yaml").read_bytes())

    @classmethod
    def from_yaml(cls, text: str | bytes) -> RoleCatalogue:
        raw = yaml.safe_load(text) or {}
        roles = {
            code: Role(
                code=code,
                zh=spec["zh"],
                en=spec["en"],
                org_kind=spec["org_kind"],
                org=spec.get("org"),
                lanes=tuple(spec.get("lanes", ())),
            )
            for code, spec in (raw.get("roles") or {}).items()
        }
        return cls(roles)

    def role_for_lane(self, lane: str | None) -> Role | None:
        return self._by_lane.get(lane.strip()) if lane else None

    def __contains__(self, code: str) -> bool:
        return code in self.roles
