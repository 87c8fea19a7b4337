"""Hostile inputs through the HTTP API and the CLI: each was a 500 or slipped through once; each must be a 4xx
JSON error naming the field."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.cli.main import main
from engine.runtime.runtime import Runtime
from engine.store.models import Comment, Instance
from tests.support.http import PASSWORD, log_in
from tests.support.shipped import answered

START = "/api/v1/processes/sample_approval/instances"

Send = Callable[..., Any]


@pytest.fixture
def send(client: FlaskClient) -> Send:
    """`send(method, path, body=…)` as haiyun: `body` is sent as the raw JSON text it is (no re-encoding)."""
    token = client.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).json["token"]

    def call(method: str, path: str, body: str | None = None) -> Any:
        return client.open(path, method=method, data=body, content_type="application/json" if body else None,
                           headers={"Authorization": f"Bearer {token}"})

    return call


def refused(reply: Any, status: int, path: str) -> dict[str, Any]:
    """The reply is a JSON error with that status whose `fields` names `path`."""
    assert reply.status_code == status, reply.get_data(as_text=True)[:500]
    assert reply.is_json and set(reply.json) == {"error", "message", "fields"}
    assert path in reply.json["fields"], reply.json["fields"]
    return reply.json


def count(runtime: Runtime, model: Any) -> int:
    with runtime.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_a_case_with_an_issued_document_is_shown(runtime: Runtime, send: Send) -> None:
    instance, _ = answered(runtime)
    reply = send("GET", f"/api/v1/instances/{instance}")
    assert reply.status_code == 200, reply.json
    [document] = reply.json["documents"]
    assert document["name"] == "qysq_answer" and datetime.fromisoformat(document["issued_at"]).tzinfo is not None


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_refused_and_start_nothing(runtime: Runtime, send: Send, number: str) -> None:
    error = refused(send("POST", START, '{"data": {"title": "非有限数", "amount": ' + number + "}}"),
                    422, "/data/amount")
    assert error["error"] == "validation_failed"
    assert count(runtime, Instance) == 0
    case = send("POST", START, '{"data": {"title": "消息", "amount": 1}}').json["id"]
    refused(send("POST", f"/api/v1/instances/{case}/messages", '{"name": "m", "payload": {"x": [' + number + "]}}"),
            422, "/payload/x/0")
    assert count(runtime, Instance) == 1


@pytest.mark.parametrize("moment", ["2026-01-01T08:00:00", "9999-12-31T23:59:59-14:00", "not a time", 5])
def test_a_cursor_with_a_naive_or_unusable_time_is_a_bad_request(send: Send, moment: Any) -> None:
    forged = cursor(moment, "00000000-0000-0000-0000-000000000000")
    error = refused(send("GET", f"/api/v1/tasks?cursor={forged}"), 400, "cursor")
    assert error["error"] == "bad_request"
    bilingual(error["fields"]["cursor"])


@pytest.mark.parametrize("forged", ["%%%", "bm90IGpzb24", "W10", "WzEsMl0", cursor(1, 2), cursor(None, 2**70)])
def test_a_damaged_cursor_is_told_in_both_languages_without_the_parsers_words(send: Send, forged: str) -> None:
    error = refused(send("GET", f"/api/v1/tasks?cursor={forged}"), 400, "cursor")
    bilingual(error["fields"]["cursor"])


def bilingual(messages: list[str]) -> None:
    """Each message says it in Chinese, then in English in brackets — no parser's or library's own words."""
    assert messages and all(re.fullmatch(r"[^()]*[\u4e00-\u9fff][^()]* \([^\u4e00-\u9fff]+\)", m) for m in messages), \
        messages


@pytest.mark.parametrize(("name", "moment"), [("started_to", "9999-12-31T23:59:59-14:00"),
                                              ("started_from", "0001-01-01T00:00:00+14:00")])
def test_extreme_times_in_list_filters_are_refused(send: Send, name: str, moment: str) -> None:
    refused(send("GET", f"/api/v1/instances?{name}={moment.replace('+', '%2B')}"), 422, f"/{name}")
    refused(send("GET", f"/api/v1/tasks?due_before={moment.replace('+', '%2B')}"), 422, "/due_before")


def test_json_nested_a_thousand_deep_is_refused(runtime: Runtime, send: Send) -> None:
    deep = "[" * 1000 + "]" * 1000
    error = refused(send("POST", START, '{"data": {"title": "嵌套", "amount": 1, "deep": ' + deep + "}}"),
                    422, "/data/deep" + "/0" * 62)  # the 65th container: root, data, deep, then 62 arrays
    assert len(error["fields"]) == 1
    assert count(runtime, Instance) == 0


def test_an_integer_of_5001_digits_is_refused(runtime: Runtime, send: Send) -> None:
    refused(send("POST", START, '{"data": {"title": "大数", "amount": ' + "9" * 5001 + "}}"), 422, "/data/amount")
    assert count(runtime, Instance) == 0


def test_a_lone_surrogate_is_refused(runtime: Runtime, send: Send) -> None:
    refused(send("POST", START, r'{"data": {"title": "半个\ud800字符", "amount": 1}}'), 422, "/data/title")
    case = send("POST", START, r'{"data": {"title": "完整\ud83d\ude00字符", "amount": 1}}')
    assert case.status_code == 201 and count(runtime, Instance) == 1  # a proper pair is one character
    comments = f"/api/v1/instances/{case.json['id']}/comments"
    refused(send("POST", comments, r'{"body": "\udfff"}'), 422, "/body")
    refused(send("POST", comments, r'{"body": "x", "\udfff": 1}'), 422, r"/\udfff")
    assert count(runtime, Comment) == 0


def test_a_page_post_without_csrf_token_is_a_bad_request(client: FlaskClient) -> None:
    log_in(client, "haiyun")
    error = refused(client.post("/logout", headers={"Accept": "application/json"}), 400, "/csrf_token")
    assert error["error"] == "bad_request"
    page = client.post("/logout", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 400 and page.mimetype == "text/html" and "CSRF" in page.get_data(as_text=True)
    missing = client.post("/no-such-page", headers={"Accept": "text/html"})  # an error page on any post
    assert missing.status_code == 404 and "haiyun" in missing.get_data(as_text=True)
    assert client.get("/services").status_code == 200  # still logged in: the refused post changed nothing


def test_cli_data_that_is_not_plain_json_exits_1(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    for data, path in [("not json", "--data"), ('{"title": "x", "amount": NaN}', "/amount"),
                       ('{"title": "x", "amount": 1', "--data")]:
        result = CliRunner().invoke(main, ["start", "sample_approval", "--data", data, "--as", "haiyun"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert path in result.stderr and "Traceback" not in result.output
    assert count(runtime, Instance) == 0


def test_a_json_body_over_two_megabytes_is_refused_before_it_is_parsed(send: Send) -> None:
    body = '{"data": {"title": "大", "amount": 1, "pad": "' + "x" * (2 * 2**20) + '"}}'
    reply = send("POST", START, body)
    assert reply.status_code == 413 and reply.json["error"] == "upload_too_large"


def test_a_body_that_is_not_json_is_refused_not_read_as_no_data(client: FlaskClient) -> None:
    token = client.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).json["token"]
    reply = client.post(START, data="data=1", content_type="application/x-www-form-urlencoded",
                        headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 415 and reply.json["error"] == "unsupported_media_type"
