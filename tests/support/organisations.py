"""A test process routed by the district's organisation list: its start form offers the streets (`x-options`),
its site check goes to the street chosen (`candidateOrg`)."""

from __future__ import annotations

from typing import Any

from engine.definitions.organisations import ORGANISATIONS_PATH
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.repo import REPO
from tests.support.workspaces import workspace

SHIPPED = (REPO / "processes" / "organisations.yaml").read_bytes()
#: interface 3 of the lead's brief: the ten 街道 of 市南区 and their codes
STREETS = {"street_bdq": "八大峡街道", "street_ynl": "云南路街道", "street_zsl": "中山路街道",
           "street_jsl": "江苏路街道", "street_bdg": "八大关街道", "street_zs": "湛山街道",
           "street_xgzl": "香港中路街道", "street_bdh": "八大湖街道", "street_jml": "金门路街道",
           "street_zhl": "珠海路街道"}

APPLY = {"type": "object", "required": ["address"], "properties": {
    "address": {"type": "object", "title": "地址", "required": ["street_office"], "properties": {
        "street_office": {"type": "string", "title": "街道", "x-options": "street"}}},
    "units": {"type": "array", "items": {"type": "string", "x-options": "handling_unit"}}}}
SITE = {"type": "object", "required": ["opinion"], "properties": {"opinion": {"type": "string"}}}


def routed(apply: dict[str, Any] | None = None, with_list: bool = True,
           extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A process whose start form offers the streets and whose site check goes to the street chosen."""
    site = user("site", "现场核查", "t_site.json", candidateOrg="address['street_office']")
    nodes = [start(form="t_apply.json"), site, end()]
    body = render(nodes, flows(("start", "site"), ("site", "end")))
    files = workspace({"t.bpmn": bpmn("t_orgs", body, {"申请人": ["start"], "街道": ["site"]})},
                      {"t_apply.json": apply or APPLY, "t_site.json": SITE}, key="t_orgs")
    if with_list:
        files[ORGANISATIONS_PATH] = SHIPPED
    files.update(extra or {})
    return files
