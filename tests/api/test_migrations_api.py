"""POST /api/v1/processes/{key}/migrations: administrators only, the body checked with field paths, a dry run that
writes nothing, and 409 naming each case that cannot move (none moved)."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.runtime.runtime import Runtime
from tests.support.http import bearer
from tests.support.migration import KEY, deploy
from tests.support.steps import begin

URL = f"/api/v1/processes/{KEY}/migrations"


def test_administrators_migrate_with_a_dry_run_first(client: FlaskClient, runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"})
    deploy(runtime, accept="intake")
    admin = bearer(client, "admin")
    for who in ("window", "haiyun", "designer"):
        assert client.post(URL, json={"from_version": 1}, headers=bearer(client, who)).status_code == 403
    assert client.post(URL, json={"from_version": 1}).status_code == 401

    refused = client.post(URL, json={"from_version": 1}, headers=admin)
    assert refused.status_code == 409 and refused.json["error"] == "conflict"
    assert "map it" in refused.json["fields"][f"/cases/{case.case_number}"][0]
    dry = client.post(URL, json={"from_version": 1, "mapping": {"accept": "intake"}, "dry_run": True}, headers=admin)
    assert dry.status_code == 200, dry.json
    [planned] = dry.json["cases"]
    assert planned["outcome"] == "would_move" and planned["moves"][0]["to"] == "intake"
    assert runtime.instance(case.id, runtime.actor("admin")).version == 1

    moved = client.post(URL, json={"from_version": 1, "to_version": 2, "mapping": {"accept": "intake"},
                                   "cases": [case.case_number]}, headers=admin)
    assert moved.status_code == 200 and moved.json["cases"][0]["outcome"] == "moved"
    shown = client.get(f"/api/v1/instances/{case.id}", headers=admin).json
    assert shown["version"] == 2 and [t["element_id"] for t in shown["open_tasks"]] == ["intake"]


def test_a_wrong_body_is_a_422_with_its_path_never_a_500(client: FlaskClient, runtime: Runtime) -> None:
    deploy(runtime)
    deploy(runtime, check=True)
    admin = bearer(client, "admin")
    wrong = [({}, "/from_version"), ({"from_version": "1"}, "/from_version"), ({"from_version": 0}, "/from_version"),
             ({"from_version": 1, "mapping": ["a"]}, "/mapping"), ({"from_version": 1, "cases": "all"}, "/cases"),
             ({"from_version": 1, "cases": [""]}, "/cases/0"), ({"from_version": 1, "mapping": {"accept": "wait"}},
                                                               "/mapping/accept"),
             ({"from_version": 1, "mapping": {"x\u0000": "y"}}, "/mapping"), ({"from_version": 2}, "/to_version"),
             ({"from_version": 1, "to_version": 10**12}, "/to_version"), ({"from_version": 2**31}, "/from_version")]
    for body, path in wrong:
        reply = client.post(URL, json=body, headers=admin)
        assert reply.status_code in (404, 422), (body, reply.status_code, reply.json)
        assert any(f.startswith(path) for f in reply.json["fields"]), (body, reply.json)
    assert client.post("/api/v1/processes/t_none/migrations", json={"from_version": 1},
                       headers=admin).status_code == 404
    assert client.post(URL, json={"from_version": 1, "to_version": 9}, headers=admin).status_code == 404
