"""The public, login-free face: `/verify/{code}` (page and API) tells only case number, title, office, date and
whether the paper is still in force (superseded, revoked), and 404 for anything else; `/disclosure/{fund}/{quarter}`
(page, PDF, API) shows the quarter's figures as ¥ amounts with no personal data; unknown funds and bad quarters are
404, never 500."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from engine.case import verification
from engine.runtime.runtime import Runtime
from engine.store.models import Document, Event, Instance
from tests.support.funds import at, deploy_funds, post
from tests.support.shipped import ANSWER, QUESTION, answered

FACE = {"case_number", "title", "office", "issued_on", "issue_date", "standing"}


def _code(runtime: Runtime) -> tuple[str, str]:
    _, case_number = answered(runtime)
    with runtime.db.reading() as conn:
        return conn.execute(select(Document.verification_code)).scalar_one(), case_number


def test_the_verify_api_answers_without_login_with_the_face_of_the_document_only(client: FlaskClient,
                                                                                runtime: Runtime) -> None:
    code, case_number = _code(runtime)
    for typed in (code, verification.display(code), code.lower()):
        reply = client.get(f"/api/v1/verify/{typed}")
        assert reply.status_code == 200 and set(reply.json) == FACE
        assert reply.json["case_number"] == case_number and reply.json["office"] == "市南区企业服务中心"
        assert reply.json["title"] == "诉求答复告知书" and "年" in reply.json["issue_date"]
        assert reply.json["standing"] == {"status": "valid", "since": None, "zh": "本文书现行有效。",
                                          "en": "This document is in force."}
    text = client.get(f"/api/v1/verify/{code}").get_data(as_text=True)
    for private in (QUESTION["enterprise_name"], QUESTION["contact"], QUESTION["mobile"], ANSWER["answer"]):
        assert private not in text


@pytest.mark.parametrize("bad", ["ZZZZZZZZZZZZZZZZ", "ABC", "0000-0000-0000-0000", "%00" * 16, "x" * 5000,
                                 "%E4%B8%AD" * 16, "..%2F..%2Fetc", "' OR 1=1 --"])
def test_unknown_and_malformed_codes_are_404_json_never_500(client: FlaskClient, runtime: Runtime, bad: str) -> None:
    reply = client.get(f"/api/v1/verify/{bad}")
    assert reply.status_code == 404 and reply.json["error"] == "not_found"
    page = client.get(f"/verify/{bad}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    if "%2F" not in bad:  # a slash is another path, which no page has
        assert "未找到该验证码对应的文书" in page.get_data(as_text=True)


def test_the_verify_page_is_public_chinese_first_with_english(client: FlaskClient, runtime: Runtime) -> None:
    code, case_number = _code(runtime)
    page = client.get(f"/verify/{verification.display(code)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and case_number in html and "诉求答复告知书" in html and "市南区企业服务中心" in html
    assert "文书核验" in html and ANSWER["answer"] not in html and QUESTION["contact"] not in html
    assert page.headers["X-Robots-Tag"].startswith("noindex")
    assert "本文书现行有效。" in html
    english = client.get(f"/verify/{code}?lang=en").get_data(as_text=True)
    assert "Document verification" in english and case_number in english and "This document is in force." in english
    typed = client.get(f"/verify?code={code.lower()}")
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/verify/{code.lower()}")
    assert client.get("/verify").status_code == 200


def test_a_document_no_longer_in_force_says_so_on_the_page_and_in_the_api(client: FlaskClient,
                                                                            runtime: Runtime) -> None:
    """A genuine paper of a case revoked after it was issued: 200 (it is genuine) with the revocation and its date,
    in Chinese on the page, in English with ?lang=en, and in the API's `standing`."""
    code, case_number = _code(runtime)
    with runtime.db.writing() as conn:  # the case's licence revoked a day after the notice
        instance_id, issued_at = conn.execute(select(Document.instance_id, Document.issued_at)).one()
        conn.execute(update(Instance).where(Instance.id == instance_id).values(outcome="revoked"))
        conn.execute(insert(Event).values(instance_id=instance_id, at=issued_at + timedelta(days=1),
                                          kind="outcome_set", detail={"outcome": "revoked", "was": "approved"}))
    reply = client.get(f"/api/v1/verify/{code}")
    day = (issued_at + timedelta(days=1)).astimezone(runtime.settings.timezone).date()
    assert reply.status_code == 200 and reply.json["case_number"] == case_number
    assert reply.json["standing"]["status"] == "revoked" and reply.json["standing"]["since"] == day.isoformat()
    page = client.get(f"/verify/{code}?lang=zh").get_data(as_text=True)
    assert f"已于{day.year}年{day.month}月{day.day}日被撤销" in page and 'data-status="revoked"' in page
    english = client.get(f"/verify/{code}?lang=en").get_data(as_text=True)
    assert f"revoked on {day.isoformat()}" in english and "This document is in force." not in english


def test_the_openapi_document_lists_the_public_endpoints_without_security(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/verify/{code}", "/api/v1/disclosure/{fund}", "/api/v1/disclosure/{fund}/{quarter}"):
        assert paths[path]["get"]["security"] == [] and "404" in paths[path]["get"]["responses"]


@pytest.fixture
def fund(runtime: Runtime) -> Runtime:
    deploy_funds(runtime)
    post(runtime, "fund_in", "2026-07-02T10:00:00+08:00", 100000, donor_name="张三")
    post(runtime, "fund_in", "2026-09-30T23:59:00+08:00", 5000, source="in_kind", donor_name="李四")
    post(runtime, "fund_out", "2026-08-03T10:00:00+08:00", 40000, category="facade", project_name="东立面清洗")
    post(runtime, "fund_out", "2026-10-01T00:00:00+08:00", 1000, project_name="电梯维保")
    at("2026-10-15T10:00:00+08:00")
    return runtime


def test_the_disclosure_api_has_decimal_strings_per_source_and_the_quarters(client: FlaskClient,
                                                                           fund: Runtime) -> None:
    assert client.get("/api/v1/disclosure/BDQ-D01").json["quarters"] == [
        {"quarter": "2026Q4", "name": {"zh": "2026年第四季度", "en": "Q4 2026"}},
        {"quarter": "2026Q3", "name": {"zh": "2026年第三季度", "en": "Q3 2026"}}]
    body = client.get("/api/v1/disclosure/BDQ-D01/2026Q3").json
    pledge = next(s for s in body["sources"] if s["source"] == "pledge")
    assert (pledge["opening"], pledge["income"], pledge["spending"], pledge["closing"]) == (
        "0.00", "100000.00", "40000.00", "60000.00")
    assert pledge["projects"][0]["name"] == "东立面清洗" and pledge["projects"][0]["category_name"] == "外立面整治"
    assert pledge["donors"] == [{"name": None, "amount": "100000.00", "contributions": 1}]
    assert body["totals"]["in_kind"]["closing"] == "5000.00" and body["totals"]["cash"]["closing"] == "60000.00"
    assert body["closed"] is True and body["period_start"].startswith("2026-07-01T00:00:00+08:00")
    text = client.get("/api/v1/disclosure/BDQ-D01/2026Q3").get_data(as_text=True)
    assert "张三" not in text and "李四" not in text


@pytest.mark.parametrize("path", ["NO-SUCH/2026Q3", "BDQ-D01/2026Q2", "BDQ-D01/2027Q1", "BDQ-D01/2026Q9",
                                  "BDQ-D01/2026-3", "BDQ-D01/99999Q1", "BDQ-D01/%00", "BDQ-D01/" + "9" * 400,
                                  "NO-SUCH", "%00", "%00/2026Q3", "X" * 300 + "/2026Q3"])
def test_unknown_funds_and_bad_quarters_are_404_never_500(client: FlaskClient, fund: Runtime, path: str) -> None:
    reply = client.get(f"/api/v1/disclosure/{path}")
    assert reply.status_code == 404 and reply.json["error"] == "not_found"
    assert client.get(f"/disclosure/{path}", headers={"Accept": "text/html"}).status_code == 404
    if "/" in path:
        assert client.get(f"/disclosure/{path}.pdf").status_code == 404


def test_the_disclosure_page_and_pdf_show_yuan_amounts_projects_and_no_names(client: FlaskClient, fund: Runtime,
                                                                           tmp_path: Path) -> None:
    page = client.get("/disclosure/BDQ-D01/2026Q3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2026年第三季度" in html and "¥100,000.00" in html and "¥60,000.00" in html
    assert "东立面清洗" in html and "外立面整治" in html and "电梯维保" not in html  # paid on 1 October: Q4
    assert "张三" not in html and "李四" not in html and "匿名捐赠者" in html
    assert "Q3 2026" in client.get("/disclosure/BDQ-D01/2026Q3?lang=en").get_data(as_text=True)
    listing = client.get("/disclosure/BDQ-D01").get_data(as_text=True)
    assert "/disclosure/BDQ-D01/2026Q3" in listing and "/disclosure/BDQ-D01/2026Q4.pdf" in listing
    pdf = client.get("/disclosure/BDQ-D01/2026Q3.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and b"/FontFile3" in pdf.data
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils reads the PDF's text back")
    (tmp_path / "d.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "d.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "2026年第三季度收支公示" in text and "¥100,000.00" in text and "东立面清洗" in text and "外立面整治" in text
    assert "张三" not in text
