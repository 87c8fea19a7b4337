"""Messages and signals between cases (engine/runtime/routing.py): what a case throws and nobody in it catches
reaches the other cases — a message by name and key, else the processes it starts; a signal every case waiting
for it and every process it starts — each delivery a step of its own case, never lost with the process."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from engine.base import clock
from engine.runtime import routing
from engine.runtime.runtime import Runtime
from engine.store.models import Instance, ThrownEvent
from tests.support.correlation import deploy, deploy_signal_partners, deploy_thrower, waits
from tests.support.steps import begin

CODE, OTHER = "91370202MA3C4XY01E", "91370212MA3C4XY02F"


def _pending(runtime: Runtime) -> list[str]:
    with runtime.db.read() as session:
        return [t.name for t in session.scalars(select(ThrownEvent))]


def test_a_thrown_message_reaches_the_case_waiting_with_its_key_and_a_signal_every_waiting_case(
        runtime: Runtime) -> None:
    deploy(runtime)
    deploy_thrower(runtime)
    deploy_signal_partners(runtime)
    mine, other = begin(runtime, "t_corr", {"credit_code": CODE}), begin(runtime, "t_corr", {"credit_code": OTHER})
    alerted = [begin(runtime, "t_sig_wait", {"credit_code": c}) for c in (CODE, OTHER)]
    sender = begin(runtime, "t_throw", {"credit_code": CODE})
    admin = runtime.actor("admin")
    assert sender.status == "completed"
    assert runtime.instance(mine.id, admin).status == "completed"  # its key: the sender's credit code
    assert runtime.instance(other.id, admin).status == "running"  # another key: not this one's permit
    assert [runtime.instance(a.id, admin).status for a in alerted] == ["completed", "completed"]  # a broadcast
    shown = runtime.instance(mine.id, admin, detail=True)
    assert {"kind": "message_received", "detail": {"message": "permit_issued"}}.items() <= {
        k: v for e in shown.events if e["kind"] == "message_received" for k, v in e.items()}.items()
    [started] = [v for v in runtime.instances(admin) if v.process_key == "t_sig_start"]  # the signal start event
    assert [t.element_id for t in runtime.instance(started.id, admin).open_tasks] == ["review"]
    assert shown.data["permit"] == {"permit_no": "P-" + CODE}  # the payload the sender's message carried
    with runtime.db.read() as session:  # on the record of whoever filed the case that threw it
        assert session.get(Instance, started.id).started_by == session.get(Instance, sender.id).started_by
    assert _pending(runtime) == []  # routed, so gone
    assert (other.id, "permit_issued", OTHER) in waits(runtime)


def test_a_message_nobody_waits_for_starts_the_process_it_starts_and_never_returns_to_its_sender(
        runtime: Runtime) -> None:
    deploy(runtime)
    deploy_thrower(runtime)
    sender = begin(runtime, "t_throw", {"credit_code": CODE})
    admin = runtime.actor("admin")
    # nobody waits for permit_issued and no process starts with it: the sender completes, the message is dropped
    assert sender.status == "completed" and _pending(runtime) == []
    assert [v.process_key for v in runtime.instances(admin)] == ["t_throw"]


def test_a_routing_lost_with_its_process_is_done_by_the_sweep_once_its_lease_ran_out(
        runtime: Runtime, monkeypatch) -> None:
    deploy(runtime)
    deploy_thrower(runtime)
    waiting = begin(runtime, "t_corr", {"credit_code": CODE})
    monkeypatch.setattr(routing, "route", lambda rt, instance_id: 0)  # the process dies right after the commit
    begin(runtime, "t_throw", {"credit_code": CODE})
    monkeypatch.undo()
    admin = runtime.actor("admin")
    assert sorted(_pending(runtime)) == ["district_alert", "permit_issued"]
    assert runtime.instance(waiting.id, admin).status == "running"
    assert routing.sweep(runtime) == 0  # still leased to the routing that died
    clock.travel(runtime.settings.outbox_lease + timedelta(seconds=1))
    assert routing.sweep(runtime) == 2  # the message, and the signal (nobody waits for it: routed to no one)
    assert runtime.instance(waiting.id, admin).status == "completed" and _pending(runtime) == []


def test_a_chain_of_throws_deeper_than_the_bound_is_left_to_the_sweep(runtime: Runtime, monkeypatch) -> None:
    deploy(runtime)
    deploy_thrower(runtime)
    waiting = begin(runtime, "t_corr", {"credit_code": CODE})
    monkeypatch.setattr(routing._depth, "value", routing.MAX_DEPTH, raising=False)  # as if 8 cases deep already
    begin(runtime, "t_throw", {"credit_code": CODE})
    monkeypatch.setattr(routing._depth, "value", 0)
    assert sorted(_pending(runtime)) == ["district_alert", "permit_issued"]
    with runtime.db.write() as session:  # the lease is the sweep's pace
        session.execute(update(ThrownEvent).values(claimed_until=clock.now()))
    assert routing.sweep(runtime) == 2 and runtime.instance(waiting.id, runtime.actor("admin")).status == "completed"
