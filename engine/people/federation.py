"""Staff log-in through the district's identity platform (统一身份认证, OpenID Connect): the configured rule
that maps a person's claims to an organisation and roles, and the link from (issuer, subject) to a user.

The HTTP side — redirects, state, nonce, PKCE, the ID token's signature, issuer, audience and expiry — is
api/pages/oidc.py's, with Authlib.  This module is handed claims already verified and decides who they are:

- a person the rule does not map is refused, never given a default organisation or role;
- the rule is applied on *every* login: the user's organisation and roles become what it says now (someone
  who moved department loses the old roles at their next login), and the link records what was set;
- a first login creates the user (no password, so only the identity platform lets them in) — a district's
  staff are thousands and already kept in the platform, so making administrators create each account
  again would only add a second list to keep in step.  With `provision: false` only users an administrator
  linked (`tongban users link`) may log in;
- a login never takes over an existing account whose username matches: only an explicit link does;
- a disabled user stays out, whatever the platform says;
- enterprises are not the identity platform's: a rule mapping to an enterprise is refused (applicants keep
  their tongban accounts; the platform is the government's staff directory).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound, TongbanError
from engine.base.settings import SettingsInvalid
from engine.base.vocabulary import OrgKind
from engine.definitions.catalogue import RoleCatalogue
from engine.people import audit
from engine.people.accounts import checked_email
from engine.people.audit import AuditAction
from engine.people.auth import as_actor, issue_token
from engine.store.db import Database
from engine.store.models import FederatedIdentity, Organisation, User, UserRole

_CLAIM_VALUES = {"oneOf": [{"type": ["string", "integer"]},
                           {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}}]}
_CLAIM_NAME = {"type": "string", "pattern": r"^\S+$"}
MAPPING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rules"],
    "properties": {
        "provision": {"type": "boolean"},
        "username_claim": _CLAIM_NAME,
        "name_claim": _CLAIM_NAME,
        "email_claim": _CLAIM_NAME,
        "rules": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["when", "org", "roles"],
            "properties": {
                "when": {"type": "object", "minProperties": 1, "propertyNames": _CLAIM_NAME,
                         "additionalProperties": _CLAIM_VALUES},
                "org": {"type": "string", "minLength": 1},
                "roles": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            },
        }},
    },
}

#: Usernames the identity platform may hand us: letters (Chinese included), digits and . _ @ -, at most 64.
USERNAME = re.compile(r"[\w.@-]{1,64}")


@dataclass(frozen=True)
class Rule:
    """`when` every named claim has one of the listed values (a list claim such as `groups`: contains one),
    the person belongs to `org` with `roles`."""

    when: Mapping[str, frozenset[str]]
    org: str
    roles: tuple[str, ...]

    def matches(self, claims: Mapping[str, Any]) -> bool:
        return all(accepted & _claim_values(claims.get(name)) for name, accepted in self.when.items())


def _claim_values(value: Any) -> frozenset[str]:
    """A claim as a set of strings: a string or a number is one value, a list its members; anything else none
    (an object or a boolean never matches by accident of its string form)."""
    items = value if isinstance(value, list) else [value]
    return frozenset(str(v) for v in items if isinstance(v, str | int) and not isinstance(v, bool))


@dataclass(frozen=True)
class ClaimMapping:
    """The configured rule (TONGBAN_OIDC_MAPPING): the first rule that matches decides; none matching refuses."""

    rules: tuple[Rule, ...]
    provision: bool = True
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    email_claim: str = "email"

    @classmethod
    def from_yaml(cls, text: str | bytes, source: str = "TONGBAN_OIDC_MAPPING") -> ClaimMapping:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SettingsInvalid(f"{source}：映射规则不是有效的 YAML ({source}: the claim mapping is not valid "
                                  f"YAML: {exc})") from None
        problems = sorted(Draft202012Validator(MAPPING_SCHEMA).iter_errors(raw), key=lambda e: list(e.path))
        if problems:
            where = "; ".join(f"/{'/'.join(str(p) for p in e.path)}: {e.message}" for e in problems)
            raise SettingsInvalid(f"{source}：映射规则有误 ({source}: the claim mapping is invalid: {where})")
        rules = tuple(
            Rule(when={name: _claim_values(values) for name, values in rule["when"].items()},
                 org=rule["org"], roles=tuple(dict.fromkeys(rule["roles"])))
            for rule in raw["rules"])
        options = {k: raw[k] for k in ("provision", "username_claim", "name_claim", "email_claim") if k in raw}
        return cls(rules=rules, **options)

    @classmethod
    def from_file(cls, path: Path) -> ClaimMapping:
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise SettingsInvalid(f"无法读取映射规则文件 TONGBAN_OIDC_MAPPING (cannot read the claim mapping "
                                  f"{path}: {exc.strerror})") from None
        return cls.from_yaml(text, source=str(path))

    def match(self, claims: Mapping[str, Any]) -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(claims)), None)


class LoginRefused(Forbidden):
    """The identity platform vouched for the person, but tongban will not let them in; `reason` says why:
    unmapped, disabled, not_linked, username_taken, bad_claims or misconfigured."""

    code = "login_refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FederatedLogin:
    """What a successful login did: the token for the session, and who it is, with what the rule set."""

    token: str
    expires: datetime
    user_id: int
    username: str
    created: bool
    org: str
    roles: tuple[str, ...]
    previous_org: str | None
    previous_roles: tuple[str, ...]


def federated_login(db: Database, catalogue: RoleCatalogue, mapping: ClaimMapping, issuer: str,
                    claims: Mapping[str, Any], ip: str | None = None) -> FederatedLogin:
    """Verified ID-token claims → a tongban session token, in one transaction (link, user, roles, token and
    the audit entry, method `oidc`); a refusal writes only its own `login_failed` entry."""
    detail = {"method": "oidc", "issuer": issuer, "sub": str(claims.get("sub"))[:255]}
    try:
        return _federated_login(db, catalogue, mapping, issuer, claims, ip, detail)
    except LoginRefused as refused:
        with db.write() as session:
            audit.record(session, AuditAction.LOGIN_FAILED, None, _claimed_name(mapping, claims), ip,
                         {**detail, "reason": refused.reason})
        raise


def _claimed_name(mapping: ClaimMapping, claims: Mapping[str, Any]) -> str | None:
    name = claims.get(mapping.username_claim)
    return name if isinstance(name, str) else None


def _federated_login(db: Database, catalogue: RoleCatalogue, mapping: ClaimMapping, issuer: str,
                     claims: Mapping[str, Any], ip: str | None, detail: dict[str, Any]) -> FederatedLogin:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise LoginRefused("bad_claims", "身份凭证缺少有效的用户标识 (the ID token carries no usable subject)")
    at = now()
    with db.write() as session:
        link = session.scalar(select(FederatedIdentity).where(FederatedIdentity.issuer == issuer,
                                                              FederatedIdentity.subject == subject))
        user = session.get(User, link.user_id) if link is not None else None
        if user is not None and user.disabled:
            raise LoginRefused("disabled", "该账号已停用，请联系管理员 (this account is disabled; ask an "
                                           "administrator)")
        rule = mapping.match(claims)
        if rule is None:
            raise LoginRefused("unmapped", "统一身份认证未授予您本系统的岗位，请联系管理员 (the identity platform "
                                           "gives you no post in tongban; ask an administrator to map your "
                                           "department or group)")
        org = _mapped_org(session, catalogue, rule)
        created = user is None
        if user is None:
            if not mapping.provision:
                raise LoginRefused("not_linked", "您的统一身份认证账号尚未关联本系统用户，请联系管理员 (your "
                                                 "identity-platform account is not linked to a tongban user; ask an "
                                                 "administrator to link it)")
            user = _provision(session, mapping, claims, org)
            link = FederatedIdentity(issuer=issuer, subject=subject, user_id=user.id, created_at=at)
            session.add(link)
        assert link is not None
        previous_roles = tuple(sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id))))
        previous_org = link.last_org if not created else None
        _refresh(session, mapping, claims, user, org, rule.roles)
        link.last_login_at, link.last_org, link.last_roles = at, org.code, sorted(rule.roles)
        token, expires = issue_token(session, user.id, at)
        audit.record(session, AuditAction.LOGIN_SUCCEEDED, as_actor(session, user), user.username, ip,
                     {**detail, "created": created, "org": org.code, "roles": sorted(rule.roles),
                      "previous_org": previous_org, "previous_roles": list(previous_roles)})
        return FederatedLogin(token=token, expires=expires, user_id=user.id, username=user.username,
                              created=created, org=org.code, roles=tuple(sorted(rule.roles)),
                              previous_org=previous_org, previous_roles=previous_roles)


def link_user(session: Session, username: str, issuer: str, subject: str) -> bool:
    """Let the platform's person `subject` log in as the existing user `username` (an account older than the
    platform, or one made ahead of someone's first login); False when that link already exists.  A person
    links to one user and a user to one person, and an enterprise's account to none."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在 (no user {username!r})")
    if session.scalar(select(Organisation.kind).where(Organisation.id == user.org_id)) == OrgKind.ENTERPRISE:
        raise TongbanError(f"企业用户不使用统一身份认证 ({username!r} belongs to an enterprise: the identity "
                           f"platform is for staff only)")
    if not subject.strip() or len(subject) > 255:
        raise FormInvalid("用户标识无效 (the subject must be 1 to 255 characters)", {"/subject": ["invalid"]})
    links = session.scalars(select(FederatedIdentity).where(
        FederatedIdentity.issuer == issuer,
        (FederatedIdentity.subject == subject) | (FederatedIdentity.user_id == user.id))).all()
    if any(link.subject == subject and link.user_id == user.id for link in links):
        return False
    if links:
        raise Conflict(f"该用户或该统一身份认证账号已有关联 ({username!r} or subject {subject!r} is already linked; "
                       f"unlink it first)")
    session.add(FederatedIdentity(issuer=issuer, subject=subject, user_id=user.id, created_at=now()))
    return True


def unlink_user(session: Session, username: str, issuer: str) -> bool:
    """The user no longer logs in through the platform `issuer` (False: it did not); its roles stay as they
    are, and its sessions are the caller's to revoke."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在 (no user {username!r})")
    gone = session.execute(delete(FederatedIdentity).where(FederatedIdentity.issuer == issuer,
                                                           FederatedIdentity.user_id == user.id))
    return bool(gone.rowcount)


def _mapped_org(session: Session, catalogue: RoleCatalogue, rule: Rule) -> Organisation:
    """The rule's organisation, checked against the database and the role catalogue: a rule naming what does
    not exist, an enterprise, or a role of another kind of organisation is the configuration's fault."""
    org = session.scalar(select(Organisation).where(Organisation.code == rule.org))
    problem = None
    if org is None:
        problem = f"no organisation {rule.org!r}"
    elif org.kind == OrgKind.ENTERPRISE:
        problem = f"{rule.org!r} is an enterprise: the identity platform is for staff only"
    else:
        unknown = [r for r in rule.roles if r not in catalogue]
        misplaced = [r for r in rule.roles if r in catalogue and catalogue.roles[r].org_kind != org.kind]
        if unknown:
            problem = f"unknown roles {unknown}"
        elif misplaced:
            problem = f"roles {misplaced} do not belong to a {org.kind} like {rule.org!r}"
    if problem:
        raise LoginRefused("misconfigured", f"统一身份认证映射规则有误，请联系管理员 (the identity platform's "
                                            f"mapping rule is wrong: {problem}; ask an administrator)")
    assert org is not None
    return org


def _provision(session: Session, mapping: ClaimMapping, claims: Mapping[str, Any], org: Organisation) -> User:
    username = claims.get(mapping.username_claim)
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise LoginRefused("bad_claims", f"身份凭证中的用户名 {mapping.username_claim} 缺失或无效 (the ID token's "
                                         f"{mapping.username_claim} claim is missing or not a usable username)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise LoginRefused("username_taken", f"用户名 {username} 已被本系统账号使用，须由管理员关联后才能以统一身份认证"
                                             f"登录 (the username {username} belongs to an existing tongban account; "
                                             f"an administrator must link it before it can log in this way)")
    user = User(username=username, display_name=username, org_id=org.id, password_hash=None, disabled=False,
                created_at=now())
    session.add(user)
    session.flush()
    return user


def _refresh(session: Session, mapping: ClaimMapping, claims: Mapping[str, Any], user: User, org: Organisation,
             roles: tuple[str, ...]) -> None:
    """The user becomes what the rule says now: organisation, roles, and the name and address the platform
    keeps (an address it sends that is no address is ignored, not stored)."""
    user.org_id = org.id
    name = claims.get(mapping.name_claim)
    if isinstance(name, str) and name.strip():
        user.display_name = name.strip()[:100]
    email = claims.get(mapping.email_claim)
    if isinstance(email, str) and email.strip():
        with suppress(FormInvalid):
            user.email = checked_email(email)
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role=r) for r in sorted(roles))
