"""Service tasks on real workers: each attempt of each call is made exactly once across two workers, the
transient failure retried after its back-off by a `run_service` job, the reply kept."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask
from tests.integration.cluster import Cluster, wait_for
from tests.integration.conftest import CONFIGURED
from tests.support.services import POST, FakeSystem, deploy_call
from tests.support.steps import begin

pytestmark = pytest.mark.skipif(not CONFIGURED, reason="needs TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL")

N = 50


def test_every_attempt_is_made_once_and_a_503_is_retried_by_a_service_job(runtime: Runtime,
                                                                          cluster: Cluster) -> None:
    fake = FakeSystem(busy_at_first=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cluster.env.update(TONGBAN_SERVICE_ENDPOINTS=json.dumps(
            {"licences": f"http://127.0.0.1:{server.server_port}/licences"}), TONGBAN_SERVICE_BACKOFF="1")
        for name in ("w1", "w2"):
            cluster.worker(name)
        cluster.beat("beat")
        deploy_call(runtime, "http_post", POST)
        instances = [begin(runtime, "t_service", {"company": f"企业{i}"}).id for i in range(N)]

        def reviews() -> int:
            with runtime.db.read() as s:
                return s.scalar(select(func.count(HumanTask.id)).where(HumanTask.element_id == "review"))

        assert wait_for(lambda: reviews() == N, timeout=90), f"{reviews()} of {N} calls went through"
    finally:
        server.shutdown()
        server.server_close()
    per_key = Counter(request["key"] for request in fake.seen)
    assert len(per_key) == N and set(per_key.values()) == {2}, Counter(per_key.values())  # 503, then 200
    assert sorted(request["body"]["company"] for request in fake.seen) == sorted(
        f"企业{i}" for i in range(N) for _ in range(2))
    assert "tongban.run_service" in cluster.log("w1") + cluster.log("w2")
    admin = runtime.actor("admin")
    assert all(runtime.instance(i, admin, detail=True).data["reply"] == {"ok": True} for i in instances)
