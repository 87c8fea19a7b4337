"""Fixtures for the fault tests: real worker and beat processes on the broker and database named by
TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL (the root conftest migrates and empties that database)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.runtime.runtime import Runtime
from tests.integration.cluster import Cluster, purge

BROKER_URL = os.environ.get("TONGBAN_TEST_BROKER_URL")
DATABASE_URL = os.environ.get("TONGBAN_TEST_DATABASE_URL")
CONFIGURED = bool(BROKER_URL and DATABASE_URL)
LOG_TAIL = 3000
#: Why a process stopped is at the start of its trouble, not in the tail: these lines are shown first.
ALARM = re.compile(r"CRITICAL|Unrecoverable|shutdown|Traceback")
MAX_ALARMS = 20


@pytest.fixture
def cluster(runtime: Runtime, tmp_path: Path) -> Iterator[Cluster]:
    """An empty job queue and no processes yet; whatever the test started is killed afterwards."""
    assert BROKER_URL and DATABASE_URL
    purge(BROKER_URL)
    with Cluster(DATABASE_URL, BROKER_URL, tmp_path) as running:
        try:
            yield running
        finally:
            for name in running.procs:  # shown by pytest only when the test failed
                log = running.log(name)
                alarms = [line for line in log.splitlines() if ALARM.search(line)][:MAX_ALARMS]
                print(f"--- {name}: first {len(alarms)} critical lines ---", *alarms, sep="\n")
                print(f"--- {name} (last {LOG_TAIL} characters) ---\n{log[-LOG_TAIL:]}")
