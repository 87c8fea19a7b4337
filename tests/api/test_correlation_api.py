"""POST /api/v1/messages and `tongban correlate`: a message by name and key, administrators and integrations only."""

from __future__ import annotations

import json

from click.testing import CliRunner
from flask.testing import FlaskClient

from engine.cli.main import main
from engine.runtime.runtime import Runtime
from tests.support.correlation import deploy, deploy_signal_partners, waits
from tests.support.http import bearer
from tests.support.steps import begin


def test_the_api_delivers_by_key_and_starts_by_message(client: FlaskClient, runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, "t_corr", {"credit_code": "K1"})
    admin = bearer(client, "admin")
    for who in ("haiyun", "window"):
        assert client.post("/api/v1/messages", json={"name": "permit_issued", "key": "K1"},
                           headers=bearer(client, who)).status_code == 403
    nobody = client.post("/api/v1/messages", json={"name": "permit_issued", "key": "K2"}, headers=admin)
    assert nobody.status_code == 409 and "/key" in nobody.json["fields"]
    for body, path in (({}, "/name"), ({"name": ""}, "/name"), ({"name": "m", "key": ""}, "/key"),
                       ({"name": "m", "key": 3}, "/key"), ({"name": "m", "key": "k\u0000"}, "/key")):
        reply = client.post("/api/v1/messages", json=body, headers=admin)
        assert reply.status_code == 422 and path in reply.json["fields"], (body, reply.json)
    reply = client.post("/api/v1/messages", json={"name": "permit_issued", "key": "K1", "payload": {"n": 1}},
                        headers=admin)
    assert reply.status_code == 200, reply.json
    assert [c["case_number"] for c in reply.json["delivered"]] == [case.case_number] and reply.json["started"] == []
    started = client.post("/api/v1/messages", json={"name": "complaint_filed", "payload": {"credit_code": "K1"}},
                          headers=admin)
    assert started.status_code == 200 and started.json["started"][0]["process_key"] == "t_corr_start"
    bad = client.post("/api/v1/messages", json={"name": "complaint_filed", "payload": ["x"]}, headers=admin)
    assert bad.status_code == 422


def test_the_command_line(cli: CliRunner, runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, "t_corr", {"credit_code": "K1"})
    refused = cli.invoke(main, ["correlate", "permit_issued", "--key", "K1", "--as", "window"])
    assert refused.exit_code == 1 and "administrators" in refused.output
    done = cli.invoke(main, ["correlate", "permit_issued", "--key", "K1", "--as", "admin", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["delivered"][0]["case_number"] == case.case_number and waits(runtime) == set()
    human = cli.invoke(main, ["correlate", "complaint_filed", "--data", '{"credit_code": "K1"}', "--as", "admin"])
    assert human.exit_code == 0 and "发起 (started)" in human.output
    nobody = cli.invoke(main, ["correlate", "permit_issued", "--key", "K1", "--as", "admin"])
    assert nobody.exit_code == 1 and "no case waits" in nobody.output


def test_a_signal_by_the_api_and_the_command_line_reaches_every_waiting_case(
        client: FlaskClient, cli: CliRunner, runtime: Runtime) -> None:
    deploy_signal_partners(runtime)
    waiting = [begin(runtime, "t_sig_wait", {"credit_code": c}) for c in ("K1", "K2")]
    admin = bearer(client, "admin")
    assert client.post("/api/v1/signals", json={"name": "district_alert"},
                       headers=bearer(client, "window")).status_code == 403
    assert client.post("/api/v1/signals", json={"name": ""}, headers=admin).status_code == 422
    reply = client.post("/api/v1/signals", json={"name": "district_alert", "payload": {"level": 2}}, headers=admin)
    assert reply.status_code == 200, reply.json
    assert sorted(c["case_number"] for c in reply.json["delivered"]) == sorted(w.case_number for w in waiting)
    # t_sig_start's signal start event has no form to take the payload: told beside the deliveries, not a 422
    # that would hide them
    [(process, why)] = reply.json["skipped"].items()
    assert reply.json["started"] == [] and process.startswith("process:") and "no form" in why
    again = cli.invoke(main, ["signal", "district_alert", "--as", "admin", "--json"])
    assert again.exit_code == 0, again.output  # nobody waits any more; without a payload the process starts
    assert json.loads(again.stdout)["delivered"] == []
    assert [c["process_key"] for c in json.loads(again.stdout)["started"]] == ["t_sig_start"]
    unheard = cli.invoke(main, ["signal", "nobody_listens", "--as", "admin"])
    assert unheard.exit_code == 0 and "no case waits for the signal" in unheard.output
