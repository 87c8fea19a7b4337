"""The api only translates HTTP into engine calls: who may see what, transactions, where files live and the words
of statuses, kinds and scopes are the engine's (issue "Layers")."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import insert

from api.pages.labels import (
    AUDIT_LABELS,
    EVENT_LABELS,
    ORG_KIND_LABELS,
    OUTCOME_LABELS,
    SCOPE_LABELS,
    STATUS_FILTERS,
    STATUS_LABELS,
)
from api.schemas import InstanceQuery, TaskQuery
from engine.base.clock import now
from engine.base.errors import NotFound, TongbanError
from engine.base.vocabulary import EventKind, InstanceStatus, OrgKind, Outcome
from engine.case import ledger
from engine.cli.main import main
from engine.people.accounts import ORG_KINDS, ensure_org
from engine.people.audit import AuditAction
from engine.runtime.inbox import Scope
from engine.runtime.runtime import Runtime
from engine.store.models import FundAccount, LedgerEntry
from engine.store.storage import LocalStorage
from tests.support.http import bearer, log_in
from tests.support.repo import REPO
from tests.support.uploads import PDF

START = {"title": "分层检查", "amount": 50_000}
FUND = "BDQ-LAYERS"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _api_sources() -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in (REPO / "api").rglob("*.py")}


def test_the_api_opens_no_transaction_checks_no_fund_role_and_places_no_file() -> None:
    found = {path: word for path, text in _api_sources().items()
             for word in (".reading()", ".read()", ".write()", "BlobStore", "may_see_fund", '"blobs"')
             if word in text}
    assert found == {}


# -- funds: one engine call that checks who may see the books -----------------------------------

@pytest.fixture
def fund(runtime: Runtime) -> Runtime:
    """One posting to FUND, written straight to the ledger (how it got there is tests/case/test_ledger.py's)."""
    case = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    with runtime.db.write() as session:
        session.execute(insert(FundAccount).values(fund_code=FUND, source="pledge", balance=Decimal("1200")))
        session.execute(insert(LedgerEntry).values(
            fund_code=FUND, source="pledge", cash=True, direction="credit", amount=Decimal("1200"), purpose=None,
            category=None, instance_id=case.id, task_id="layers-posting", element_id="post", at=now(),
            user_id=None))
    return runtime


def test_fund_balances_are_the_fund_roles_alone(fund: Runtime) -> None:
    for username in ("secretariat", "committee", "admin"):
        rows = ledger.fund_balances(fund.db, fund.actor(username), FUND)
        pledge = next(r for r in rows if r["source"] == "pledge")
        assert (pledge["balance"], pledge["entries"]) == ("1200.00", 1)
    for username in ("haiyun", "window"):  # a fund that exists is not told apart from one that does not
        with pytest.raises(NotFound):
            ledger.fund_balances(fund.db, fund.actor(username), FUND)
    with pytest.raises(NotFound):
        ledger.fund_balances(fund.db, fund.actor("admin"), "NOPE")


def test_the_funds_route_answers_what_the_engine_does(fund: Runtime, client: FlaskClient) -> None:
    reply = client.get(f"/api/v1/funds/{FUND}/balances", headers=bearer(client, "committee"))
    assert reply.status_code == 200
    assert reply.json == {"fund_code": FUND,
                          "balances": ledger.fund_balances(fund.db, fund.actor("committee"), FUND)}
    assert client.get(f"/api/v1/funds/{FUND}/balances", headers=bearer(client, "haiyun")).status_code == 404
    assert client.get("/api/v1/funds/NOPE/balances", headers=bearer(client, "admin")).status_code == 404


# -- blobs: the runtime says where they live ------------------------------------------------------

def test_uploads_go_to_the_runtimes_blob_folder(runtime: Runtime, client: FlaskClient) -> None:
    assert isinstance(runtime.blobs.storage, LocalStorage)  # the default backend, in the runtime's own folder
    assert runtime.blobs.storage.root == runtime.settings.instance_dir / "blobs"
    headers = bearer(client, "haiyun")
    case = client.post("/api/v1/processes/sample_approval/instances", json={"data": START}, headers=headers).json
    stored = client.post(f"/api/v1/instances/{case['id']}/attachments", headers=headers,
                         data={"file": (io.BytesIO(PDF), "同意书.pdf", "application/pdf")},
                         content_type="multipart/form-data").json
    with runtime.blobs.open(stored["sha256"]) as blob:
        assert blob.read() == PDF


# -- the words: statuses, event kinds, inbox scopes, organisation kinds ---------------------------

def test_the_api_validates_statuses_and_scopes_with_the_engines_words() -> None:
    assert InstanceQuery().fields["status"].validate.choices == list(InstanceStatus)
    scope = TaskQuery().fields["scope"]
    assert scope.validate.choices == list(Scope) and scope.load_default == Scope.ALL
    assert TaskQuery().load({"scope": "candidate"})["scope"] == Scope.CANDIDATE


def test_the_cli_offers_the_instance_statuses(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    cli = CliRunner()
    runtime.start("sample_approval", START, runtime.actor("haiyun"))
    assert cli.invoke(main, ["instances", "--status", "running", "--json"]).exit_code == 0
    refused = cli.invoke(main, ["instances", "--status", "runing"])
    assert refused.exit_code == 2 and "running" in refused.output


def test_every_word_the_pages_show_has_a_chinese_and_an_english_label(client: FlaskClient) -> None:
    tables = ((EVENT_LABELS, EventKind), (STATUS_LABELS, InstanceStatus), (SCOPE_LABELS, Scope),
              (OUTCOME_LABELS, Outcome), (AUDIT_LABELS, AuditAction), (ORG_KIND_LABELS, OrgKind))
    assert all(set(labels) == set(enum) for labels, enum in tables)
    assert list(SCOPE_LABELS) == list(Scope)  # the tabs' order
    assert set(STATUS_FILTERS) <= set(STATUS_LABELS)
    with client.application.test_request_context():
        for labels, _enum in tables:
            for word, label in labels.items():
                with force_locale("zh"):
                    zh = str(label)
                with force_locale("en"):
                    en = str(label)
                assert CHINESE.search(zh), (word, zh)
                assert en and not CHINESE.search(en), (word, en)


def test_the_templates_spell_no_status_event_kind_or_scope() -> None:
    words = {*InstanceStatus, *EventKind, *Scope}
    templates = [REPO / "api" / "templates" / "_macros.html", *(REPO / "api" / "templates").glob("cases/*.html"),
                 *(REPO / "api" / "templates").glob("inbox/*.html")]
    found = {(str(t.relative_to(REPO)), w) for t in templates
             for w in re.findall(r"""['"]([a-z_]+)['"]""", t.read_text(encoding="utf-8")) if w in words}
    assert found == set()


def test_the_inbox_tabs_and_case_filters_come_from_the_engine(runtime: Runtime, client: FlaskClient) -> None:
    runtime.start("sample_approval", START, runtime.actor("haiyun"))
    log_in(client, "window")
    page = client.get("/inbox").get_data(as_text=True)
    assert re.findall(r'href="\?scope=(\w+)"', page) == list(Scope)
    assert 'href="?scope=candidate" aria-current="page"' in page  # the default tab
    assert 'href="?scope=all" aria-current="page"' in client.get("/inbox?scope=all").get_data(as_text=True)
    assert 'href="?scope=candidate" aria-current' in client.get("/inbox?scope=nope").get_data(as_text=True)
    english = client.get("/inbox?lang=en").get_data(as_text=True)
    assert "本部门全部" not in english and "可认领" not in english
    cases = client.get("/cases?status=completed").get_data(as_text=True)
    statuses = re.search(r'<select name="status"[^>]*>(.*?)</select>', cases, re.S).group(1)
    assert re.findall(r'<option value="(\w+)"', statuses) == list(STATUS_FILTERS)
    outcomes = re.search(r'<select name="outcome"[^>]*>(.*?)</select>', cases, re.S).group(1)
    assert re.findall(r'<option value="(\w+)"', outcomes) == list(Outcome)
    assert '<option value="completed" selected>' in cases


def _badge_and_history(page: str) -> tuple[tuple[str, str], list[str]]:
    badge = re.search(r'<span class="badge status-(\w+)">([^<]*)</span>', page)
    history = re.search(r'<ol class="history">(.*?)</ol>', page, re.S)
    return badge.groups(), re.findall(r'<span class="what">([^<]+)</span>', history.group(1))


def test_a_case_page_labels_its_status_and_history(runtime: Runtime, client: FlaskClient) -> None:
    case = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    log_in(client, "haiyun")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    badge, history = _badge_and_history(page)
    assert badge == ("running", "办理中") and history[0] == "提交申请" and "待办生成" in history
    assert "上传文件" in page  # a running case takes files
    runtime.terminate(case.id, runtime.actor("admin"))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert _badge_and_history(page)[0] == ("terminated", "已终止") and "上传文件" not in page
    badge, history = _badge_and_history(client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True))
    with client.application.test_request_context(), force_locale("en"):
        ended = {str(EVENT_LABELS[EventKind.TERMINATED]), str(EVENT_LABELS[EventKind.TASK_CANCELLED])}
    assert badge[0] == "terminated" and ended <= set(history)
    assert not CHINESE.search(badge[1] + "".join(history)), (badge, history)


def test_organisation_kinds_are_the_vocabularys(runtime: Runtime) -> None:
    assert tuple(OrgKind) == ORG_KINDS and all(type(k) is str for k in ORG_KINDS)  # plain words for click
    with runtime.db.write() as session, pytest.raises(TongbanError):
        ensure_org(session, "nowhere", "无处", "bureau")
