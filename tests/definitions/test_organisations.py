"""One list of the district's organisations (processes/organisations.yaml): forms offer it with `x-options`,
tasks route to it, versions hash it, the database is synced from it."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import pytest

from engine.base.errors import FormInvalid
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.compiler import ParsedWorkspace
from engine.definitions.organisations import ORGANISATIONS_PATH, load_organisations, organisations_in
from engine.definitions.registry import deploy, validate
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.organisations import APPLY, SHIPPED, SITE, STREETS, routed
from tests.support.repo import REPO, ROLES, repo_files
from tests.support.steps import begin, only_task
from tests.support.workspaces import OPEN, workspace


# -- the list itself -----------------------------------------------------------------------------
def test_the_shipped_list_has_the_ten_streets_of_shinan_with_their_codes() -> None:
    listed = load_organisations(SHIPPED)
    assert {o.code: o.zh for o in listed.tagged("street")} == STREETS
    assert all(o.kind == "office" and o.en for o in listed.tagged("street"))
    assert "renshe" in {o.code for o in listed.tagged("handling_unit")}  # 人社局 for hiring and talent requests
    assert {"zhujian", "xiaofang", "shichang", "weijian", "yancao", "chengguan", "xzsp"} <= {
        o.code for o in listed.tagged("department")}


def test_every_code_in_use_is_listed() -> None:
    """roles.yaml `org:`, the demo users' organisations and every literal candidateOrg name listed codes."""
    listed = load_organisations(SHIPPED)
    demo_only = {code for code, *_ in DEMO_ORGS} - {o.code for o in listed}
    assert demo_only == {"ent_haiyun", "ent_fushan", "platform"}
    catalogue = RoleCatalogue.from_yaml(ROLES)
    assert {r.org for r in catalogue.roles.values() if r.org} - {o.code for o in listed} == set()
    assert {org for _, org, _ in DEMO_USERS} - {code for code, *_ in DEMO_ORGS} == set()
    assert not [p for p in validate(repo_files()) if "organisation list" in p.message]


@pytest.mark.parametrize("content, why", [
    (b"organisations: [a, b]", "needs an `organisations:` mapping"),
    (b"organisations:\n  Street-1: {zh: x, en: x, kind: office}", "lower-case letters"),
    (b"organisations:\n  s1: {zh: x, kind: office}", "needs text zh, en and kind"),
    (b"organisations:\n  s1: {zh: x, en: x, kind: enterprise}", "kind must be one of office, department"),
    (b"organisations:\n  s1: {zh: x, en: x, kind: office, tags: street}", "tags must be a list"),
    (b"organisations: {s1: [", "not valid YAML"),
])
def test_a_malformed_list_is_a_validate_error_on_the_file(content: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        load_organisations(content)
    problems = validate(routed(extra={ORGANISATIONS_PATH: content}))
    assert any(p.file == ORGANISATIONS_PATH and why in p.message for p in problems), problems


# -- x-options ---------------------------------------------------------------------------------------
def test_x_options_offers_every_organisation_with_the_tag_at_any_depth() -> None:
    form = ParsedWorkspace(routed()).forms["t_apply.json"]
    street = form.schema["properties"]["address"]["properties"]["street_office"]
    assert [(o["const"], o["title"]) for o in street["oneOf"]] == list(STREETS.items())
    assert street["oneOf"][0]["x-title-en"] == "Badaxia Subdistrict"  # the English name, for the pages
    units = form.schema["properties"]["units"]["items"]["oneOf"]
    assert {"renshe", "street_bdq", "xzsp"} <= {o["const"] for o in units} and "qyfw" not in {o["const"] for o in units}
    assert form.errors({"address": {"street_office": "street_zhl"}, "units": ["renshe"]}) == {}
    errors = form.errors({"address": {"street_office": "八大峡街道"}, "units": ["qyfw"]})
    assert set(errors) == {"/address/street_office", "/units/0"}


@pytest.mark.parametrize("field, why", [
    ({"type": "string", "x-options": "nowhere"}, "unknown organisation tag 'nowhere' at "
                                                 "/properties/address/properties/street_office"),
    ({"type": "integer", "x-options": "street"}, "needs a string field"),
    ({"type": "string", "x-options": "street", "enum": ["八大峡街道"]}, "drop the copied oneOf/enum"),
])
def test_a_wrong_x_options_is_a_validate_error_naming_the_form_and_the_path(field: dict[str, Any], why: str) -> None:
    apply = json.loads(json.dumps(APPLY))
    apply["properties"]["address"]["properties"]["street_office"] = field
    problems = validate(routed(apply))
    assert any(p.file == "forms/t_apply.json" and "t_apply.json" in p.message and why in p.message
               for p in problems), [str(p) for p in problems]


def test_x_options_without_a_list_is_a_validate_error() -> None:
    problems = validate(routed(with_list=False))
    assert any(p.file == "forms/t_apply.json" and "no organisation list" in p.message for p in problems)


# -- versions ----------------------------------------------------------------------------------------
def test_the_list_is_part_of_a_version_whose_forms_offer_it_and_not_of_others(runtime: Runtime) -> None:
    ws = ParsedWorkspace(repo_files())
    assert ORGANISATIONS_PATH not in ws.bundle("sample_approval")  # its forms offer no organisation
    files = routed()
    assert ORGANISATIONS_PATH in ParsedWorkspace(files).bundle("t_orgs")
    [first] = deploy(runtime.db, files)
    renamed = SHIPPED.replace("珠海路街道".encode(), "珠海路街道办事处".encode())
    [second] = deploy(runtime.db, {**files, ORGANISATIONS_PATH: renamed})
    assert (first.version, second.version, second.created) == (1, 2, True)  # the street's new name is new content
    [same] = deploy(runtime.db, {**files, ORGANISATIONS_PATH: renamed})
    assert not same.created


# -- routing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("street", sorted(STREETS))
def test_every_street_offered_routes_the_site_check_to_an_organisation_that_exists(
        runtime: Runtime, street: str) -> None:
    deploy(runtime.db, routed())
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), f"staff_{street}", street, ["street_staff"])
    case = begin(runtime, "t_orgs", {"address": {"street_office": street}})
    task = only_task(runtime, f"staff_{street}", case.id)
    assert (task.element_id, task.org) == ("site", street)
    other = "street_xgzl" if street != "street_xgzl" else "street"  # a street_staff user of another street
    assert [t for t in runtime.tasks(runtime.actor(other)) if t.instance_id == case.id] == []


def test_a_street_not_in_the_list_is_refused_naming_the_field(runtime: Runtime) -> None:
    deploy(runtime.db, routed())
    with pytest.raises(FormInvalid) as refused:
        begin(runtime, "t_orgs", {"address": {"street_office": "street_laoshan"}})
    assert list(refused.value.fields) == ["/address/street_office"]


# -- lint: fixed organisations must be listed ----------------------------------------------------------
def test_a_role_org_or_a_quoted_candidate_org_outside_the_list_is_an_error() -> None:
    roles = ROLES.replace(b"org: duchashi", b"org: duchashi_old")
    site = user("site", "现场核查", "t_site.json", candidateOrg="'street_laoshan'")
    body = render([start(form="t_site.json"), site, end()], flows(("start", "site"), ("site", "end")))
    files = workspace({"t.bpmn": bpmn("t_lit", body, {"申请人": ["start"], "街道": ["site"]})},
                      {"t_site.json": OPEN}, key="t_lit", extra={ORGANISATIONS_PATH: SHIPPED})
    files["processes/roles.yaml"] = roles
    problems = validate(files)
    assert any(p.file == "processes/roles.yaml" and "'duchashi_old'" in p.message for p in problems)
    assert any(p.element_id == "site" and "'street_laoshan'" in p.message for p in problems)
    del files[ORGANISATIONS_PATH]  # without a list there is nothing to check against
    assert not [p for p in validate(files) if "organisation list" in p.message]


# -- documents print names -----------------------------------------------------------------------------
def test_documents_print_the_name_of_an_organisation_code(runtime: Runtime) -> None:
    documents = ("receipt:\n  title: 受理通知书\n  office: 市南区行政审批服务局\n"
                 "  body: '{{ org_name(address.street_office) }}：已受理'\n").encode()
    files = routed(extra={"processes/t/documents.yaml": documents})
    ws = ParsedWorkspace(files)
    [template] = ws.compile(ws.manifests[0]).documents.values()
    assert template.render({"address": {"street_office": "street_jml"}}) == "金门路街道：已受理"
    assert template.render({"address": {"street_office": "street_x"}}) == "street_x：已受理"  # unknown: the code
    without = {**files, "forms/t_apply.json": json.dumps(SITE).encode()}  # no x-options: the template alone pulls
    assert ORGANISATIONS_PATH in ParsedWorkspace(without).bundle("t_orgs")  # the list into the version


# -- the shipped forms ---------------------------------------------------------------------------------
def _lists(node: Any, pointer: str = "") -> list[tuple[str, list[str]]]:
    """(pointer, values) of every enum / oneOf-of-consts in a raw form file."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            found.append((pointer, [str(v) for v in node["enum"]]))
        if isinstance(node.get("oneOf"), list):
            found.append((pointer, [str(o.get("const")) for o in node["oneOf"] if isinstance(o, dict)]))
        for key, value in node.items():
            found += _lists(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _lists(value, f"{pointer}/{i}")
    return found


def test_no_shipped_form_carries_its_own_copy_of_the_district_list() -> None:
    assert _copies("forms/") == []
    forms = ParsedWorkspace(repo_files()).forms
    for form in ("zzs_apply.json", "yyyz_apply.json"):
        offered = {o.get("const") for _, o in _options(forms[form].schema)}
        assert set(STREETS) <= offered, form


def _copies(prefix: str) -> list[str]:
    """`form/pointer: values` of every list in a form under `prefix` holding two or more of the district's
    organisations (by code or by name) — a copy the form should take from the list instead."""
    listed = load_organisations(SHIPPED)
    names = {o.code for o in listed} | {o.zh for o in listed} | {o.zh + "办事处" for o in listed.tagged("street")}
    return [f"{path}{pointer}: {sorted(set(values) & names)}" for path, content in sorted(repo_files().items())
            if path.startswith(prefix) and not path.endswith(".ui.json")
            for pointer, values in _lists(json.loads(content)) if len(set(values) & names) >= 2]


@pytest.mark.parametrize("service", ["yyyz_", "qysq_", "lyjj_"])
def test_the_yyyz_qysq_and_lyjj_forms_keep_no_copy_of_the_list(service: str) -> None:
    assert _copies(f"forms/{service}") == []


@pytest.mark.parametrize("form, pointer, tag", [
    ("yyyz_apply.json", "/properties/street", "street"),
    ("qysq_request.json", "/properties/building", "building"),
    ("qysq_dispatch.json", "/properties/lead_unit", "handling_unit"),
    ("qysq_dispatch.json", "/properties/assisting_units/items", "handling_unit"),
    ("lyjj_pledge.json", "/properties/street", "street"),
    ("lyjj_proposal.json", "/properties/street", "street"),
])
def test_the_service_forms_offer_every_organisation_of_their_tag(form: str, pointer: str, tag: str) -> None:
    field = ParsedWorkspace(repo_files()).forms[form].schema
    for part in pointer.split("/")[1:]:
        field = field[part]
    listed = load_organisations(SHIPPED)
    assert [(o["const"], o["title"]) for o in field["oneOf"]] == [(o.code, o.zh) for o in listed.tagged(tag)]


def test_the_shipped_buildings_are_offices_of_their_own() -> None:
    """Each building stands for its 楼宇服务站: an office `tongban orgs sync` creates, offered by QYSQ."""
    buildings = load_organisations(SHIPPED).tagged("building")
    assert len(buildings) >= 7 and all(o.code.startswith("bld_") and o.kind == "office" and o.en for o in buildings)
    assert {"bld_huarun", "bld_wtc", "bld_hisense", "bld_ifc", "bld_mixc", "bld_boc", "bld_yinzuo"} <= {
        o.code for o in buildings}  # the seven buildings the request form named before


def test_the_fund_office_table_names_the_office_of_every_listed_street() -> None:
    """lyjj_fund_office (processes/lyjj_c/fund_office.dmn) prints a fund's issuing office: one rule per street of
    the list, named after it — a street added to the list without a rule would leave its fund unnamed."""
    table = ElementTree.fromstring((REPO / "processes" / "lyjj_c" / "fund_office.dmn").read_bytes())
    ns = {"dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/"}
    [decision] = [d for d in table.findall("dmn:decision", ns) if d.get("id") == "lyjj_fund_office"]
    rules = {}
    for rule in decision.iterfind(".//dmn:rule", ns):
        street, *offices = (t.text.strip().strip('"') for t in rule.iterfind(".//dmn:text", ns))
        rules[street] = tuple(offices)
    assert rules == {o.code: (o.zh + "楼宇发展基金秘书处", o.zh + "办事处")
                     for o in load_organisations(SHIPPED).tagged("street")}


def _options(node: Any) -> list[tuple[str, dict[str, Any]]]:
    out = []
    if isinstance(node, dict):
        out += [("", o) for o in node.get("oneOf", []) if isinstance(o, dict)]
        for value in node.values():
            out += _options(value)
    elif isinstance(node, list):
        for value in node:
            out += _options(value)
    return out


def test_organisations_in_reads_a_bundle() -> None:
    assert organisations_in({}) is None
    assert "street_zhl" in organisations_in({ORGANISATIONS_PATH: SHIPPED})
