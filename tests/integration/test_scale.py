"""bench/scale.py's machinery, for a few seconds: gunicorn web processes, one worker process and the beat on the
test database and broker, clients driving whole `sample_approval` cases over HTTP and a timer case beside them —
every case the clients finished is completed in the database, with its figures there to be read."""

from __future__ import annotations

import pytest

from engine.runtime.runtime import Runtime
from tests.integration.cluster import Cluster, free_port, wait_for
from tests.integration.conftest import CONFIGURED
from tests.integration.load import TIMED, await_ready, completed, drive, finishing, timer_lags, tokens
from tests.support.timers import deploy_timed

pytestmark = pytest.mark.skipif(not CONFIGURED, reason="needs TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL")


def test_clients_drive_whole_cases_through_web_worker_and_beat(runtime: Runtime, cluster: Cluster) -> None:
    deploy_timed(runtime.db, "PT1S")
    issued = tokens(runtime.db, "haiyun", "window")
    port = free_port()
    cluster.web("web", 2, port)
    cluster.worker("worker", 1)
    cluster.beat("beat")
    base_url = f"http://127.0.0.1:{port}"
    assert await_ready(base_url), cluster.log("web")

    load = drive(base_url, issued["haiyun"], issued["window"], clients=3, seconds=6, timer_every=2)

    assert load.failures == []
    assert len(load.cases) >= 3 and load.per_second > 0  # each client finished at least one case
    assert completed(runtime.db, "sample_approval", load.cases) == len(load.cases)
    by_kind = load.timings.by_kind
    assert len(by_kind["start"]) == len(load.cases) and len(by_kind["complete"]) == 2 * len(load.cases)
    assert len(finishing(runtime.db, load.cases)) == len(load.cases)  # every case ended after its last task
    assert all(0 <= s < 30 for s in finishing(runtime.db, load.cases))
    assert load.timer_cases
    assert wait_for(lambda: completed(runtime.db, TIMED, load.timer_cases) == len(load.timer_cases), 30)
    lags = timer_lags(runtime.db, load.timer_cases)
    assert len(lags) == len(load.timer_cases) and all(0 <= lag < 10 for lag in lags)  # each fired once, soon
