"""GET /api/v1/supervision/heatmap, its page and its exports: supervisors only, bad filters as 422 with the field,
CSV and Excel with both languages in the headers, and the operations in the OpenAPI document."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from openpyxl import load_workbook

from engine.runtime.runtime import Runtime
from tests.support.heatmap import heat_cases, qysq_version
from tests.support.http import bearer, log_in

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def test_the_json_answer(client: FlaskClient, runtime: Runtime) -> None:
    heat_cases(runtime)
    version = qysq_version(runtime)
    query = {"version": version, **MARCH, "street": "street_ynl"}
    answer = client.get("/api/v1/supervision/heatmap", query_string=query, headers=bearer(client, "inspector"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["cases"], body["street"], body["start"], body["end"]) == (3, "street_ynl", "2026-03-01", "2026-03-31")
    handle = next(e for e in body["elements"] if e["element_id"] == "handle")
    assert (handle["closed"], handle["open"], handle["median"], handle["breaches"]) == (2, 1, 7 * 3600, 1)
    assert {"code": "street_bdq", "name": "八大峡街道"} in body["streets"]
    flow = next(f for f in body["flows"] if f["flow_id"] == "f_kind_request")
    assert (flow["cases"], flow["share"], flow["source_name"], flow["target_name"]) == (3, 1.0, "咨询还是诉求？",
                                                                                           "建议承办单位")
    listed = client.get("/api/v1/supervision/heatmap/versions", headers=bearer(client, "dispatcher")).json
    assert any(v["id"] == version and v["cases"] == 7 for v in listed)


def test_who_may_ask_and_bad_filters(client: FlaskClient, runtime: Runtime) -> None:
    heat_cases(runtime)
    version = qysq_version(runtime)
    for user in ("haiyun", "window"):
        headers = bearer(client, user)
        assert client.get("/api/v1/supervision/heatmap", query_string={"version": version},
                          headers=headers).status_code == 403
        assert client.get("/api/v1/supervision/heatmap/versions", headers=headers).status_code == 403
    headers = bearer(client, "admin")
    assert client.get("/api/v1/supervision/heatmap", query_string={"version": 999999},
                      headers=headers).status_code == 404
    for query, field in (({}, "version"), ({"version": "x"}, "version"), ({"version": version, "from": "3月"}, "from"),
                         ({"version": version, "from": "2026-03-31", "to": "2026-03-01"}, "to"),
                         ({"version": version, "street": "s" * 65}, "street")):
        answer = client.get("/api/v1/supervision/heatmap", query_string=query, headers=headers)
        assert answer.status_code == 422, (query, answer.json)
        assert field in str(answer.json["fields"]), answer.json
    assert client.get("/api/v1/supervision/heatmap", query_string={"version": version}).status_code == 401


def test_the_page_and_its_exports(client: FlaskClient, runtime: Runtime) -> None:
    heat_cases(runtime)
    version = qysq_version(runtime)
    log_in(client, "haiyun")
    assert client.get("/supervision/heatmap").status_code == 403
    assert client.get(f"/supervision/heatmap/diagram?version={version}").status_code == 403
    assert client.get(f"/supervision/heatmap/export.csv?version={version}").status_code == 403
    log_in(client, "dispatcher")
    page = client.get("/supervision/heatmap", query_string={"version": version, **MARCH}).get_data(as_text=True)
    assert 'id="heat-tasks"' in page and "7.6 小时" in page and "所选期间办件数：7" in page
    assert client.get("/supervision/heatmap", query_string={"version": version, "from": "nope"}).status_code == 422
    xml = client.get(f"/supervision/heatmap/diagram?version={version}")
    assert xml.mimetype == "application/xml" and b'id="qysq_request"' in xml.data
    exported = client.get("/supervision/heatmap/export.csv", query_string={"version": version, **MARCH})
    assert exported.headers["Content-Disposition"].endswith(".csv") and "qysq_request_v1_20260301" in \
        exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["环节 Step", "元素 Element", "类型 Kind", "已结束 Closed", "在办 Open"]
    handle = next(r for r in rows if len(r) > 1 and r[1] == "handle")
    assert handle[2:9] == ["办理 task", "5", "1", "3.0", "7.6", "2", "1"]
    assert ["连线 Flow", "名称 Name", "从 From", "到 To", "办件数 Cases", "占比 Share"] in rows
    book = load_workbook(io.BytesIO(client.get("/supervision/heatmap/export.xlsx",
                                               query_string={"version": version, **MARCH}).data))
    assert book.sheetnames == ["环节用时 Time per step", "连线占比 Share per flow"]
    assert book.worksheets[0]["A1"].value == "环节 Step"


def test_documented(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    heat = paths["/api/v1/supervision/heatmap"]["get"]
    assert heat["operationId"] == "getHeatMap" and {"200", "401", "403", "404", "422"} <= set(heat["responses"])
    assert {p["name"] for p in heat["parameters"]} == {"version", "from", "to", "street"}
    assert "/api/v1/supervision/heatmap/versions" in paths
