"""The demo district (DOMAIN.md): organisations and one user per role, for `tongban demo` and scenarios.

The district's own organisations come from processes/organisations.yaml, the list forms offer; only the
demo enterprises and the platform's operators are named here.
"""

from __future__ import annotations

from pathlib import Path

from engine.definitions.organisations import ORGANISATIONS_PATH, OrganisationList, load_organisations

OrgRow = tuple[str, str, str, str | None]

#: Organisations of the demo that are not the district's: two enterprises and the platform's operators.
DEMO_ENTERPRISES: list[OrgRow] = [
    ("ent_haiyun", "青岛海韵科技有限公司", "enterprise", "91370202MA3C4XY01E"),
    ("ent_fushan", "青岛浮山湾贸易有限公司", "enterprise", "91370202MA3D5ABC23"),
    ("platform", "楼宇通办平台运维", "department", None),
]
#: The repository's organisation list, beside engine/ (absent when only the packages are installed)
SHIPPED_ORGANISATIONS = Path(__file__).resolve().parents[2] / ORGANISATIONS_PATH


def demo_orgs(organisations: OrganisationList | None) -> list[OrgRow]:
    """Demo enterprises and platform, then the district's organisations `(code, name, kind, credit code)`."""
    return [*DEMO_ENTERPRISES, *((o.code, o.zh, o.kind.value, None) for o in organisations or ())]


#: What tests, benchmarks and scenarios without a list of their own seed: the demo's and the shipped list's.
DEMO_ORGS = demo_orgs(load_organisations(SHIPPED_ORGANISATIONS.read_bytes())
                      if SHIPPED_ORGANISATIONS.is_file() else None)

#: One demo user per role, in the organisation the role belongs to.
DEMO_USERS = [
    ("haiyun", "ent_haiyun", ["applicant"]),
    ("fushan", "ent_fushan", ["applicant"]),
    ("window", "xzsp", ["window_clerk"]),
    ("huifang", "xzsp", ["rating_followup"]),
    ("street", "street_bdq", ["street_staff"]),
    ("street_xgzl", "street_xgzl", ["street_staff"]),
    ("zhujian", "zhujian", ["reviewer_zhujian"]),
    ("xiaofang", "xiaofang", ["reviewer_xiaofang"]),
    ("shichang", "shichang", ["reviewer_shichang"]),
    ("weijian", "weijian", ["reviewer_weijian"]),
    ("yancao", "yancao", ["reviewer_yancao"]),
    ("chengguan", "chengguan", ["reviewer_chengguan"]),
    ("dispatcher", "qyfw", ["dispatcher"]),
    ("handler", "chengguan", ["handler"]),
    ("secretariat", "street_bdq", ["fund_secretariat"]),
    ("streetfinance", "street_bdq", ["street_finance"]),
    ("committee", "street_bdq", ["fund_committee"]),
    ("partycommittee", "street_bdq", ["party_committee"]),
    ("streetparty", "street_bdq", ["street_party_committee"]),
    ("inspector", "duchashi", ["inspection_office"]),
    ("designer", "platform", ["designer"]),
    ("admin", "platform", ["admin"]),
]
