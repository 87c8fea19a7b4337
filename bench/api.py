"""API benchmark: the sample approval process driven over real HTTP against `tongban serve` on SQLite.

One client, keep-alive: start → complete "submit" (applicant) → the clerk's inbox (to learn the
task id) → complete "approve" (clerk); prints per-request medians and p95, the whole instance's
median and instances per second.  Then, in the same run, the same life cycle in process
(bench/engine.py's runtime API on a fresh SQLite file, taking turns with the SpiffWorkflow floor),
and each request's median beside its step's: what the HTTP layer adds (token check, parsing,
validation of the body, serializing the response, the server) is their difference.

    python bench/api.py [-n 300] [--warmup 20] [--port 5077]
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/api.py`
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from typing import Any

from bench.engine import (
    APPROVE,
    FLOOR,
    START,
    SUBMIT,
    floor_steps,
    measure,
    p95,
    prepare_database,
    sqlite_database,
    tongban_steps,
)

ROOT = Path(__file__).resolve().parent.parent
TONGBAN = (sys.executable, "-c", "from api.cli import main; main()")
REQUESTS = ("start", "complete submit", "inbox (clerk)", "complete approve", "whole instance")
#: each request beside the in-process step it drives (bench/engine.py's rows); the inbox has none
IN_PROCESS = {"start": "start", "complete submit": "complete submit", "complete approve": "complete approve",
              "three steps": "life cycle"}
IN_PROCESS_NAME = "in process"


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.token: str | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[Any, float]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        t0 = time.perf_counter_ns()
        self.conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        reply = self.conn.getresponse()
        data = json.loads(reply.read() or b"null")
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if reply.status >= 400:
            raise RuntimeError(f"{method} {path}: {reply.status} {data}")
        return data, elapsed


def serve(home: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    env = {**os.environ, "TONGBAN_INSTANCE": str(home), "TONGBAN_PROCESSES": str(ROOT / "processes"),
           "TONGBAN_FORMS": str(ROOT / "forms")}
    demo = subprocess.run([*TONGBAN, "demo"], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    passwords = {parts[0]: parts[-1] for line in demo.splitlines() if len(parts := line.split()) == 4}
    server = subprocess.Popen([*TONGBAN, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/v1/openapi.json")
            break
        except OSError:
            time.sleep(0.1)
    return server, passwords


def log_in(port: int, username: str, password: str) -> Client:
    client = Client(port)
    client.token = client.call("POST", "/api/v1/auth/token", {"username": username, "password": password})[0]["token"]
    return client


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--instances", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as home:
        server, passwords = serve(Path(home), args.port)
        try:
            applicant, clerk = log_in(args.port, "haiyun", passwords["haiyun"]), log_in(
                args.port, "window", passwords["window"])
            timings: dict[str, list[float]] = {r: [] for r in REQUESTS}
            begun = time.perf_counter()
            for i in range(args.warmup + args.instances):
                if i == args.warmup:
                    begun = time.perf_counter()
                started, t_start = applicant.call("POST", "/api/v1/processes/sample_approval/instances",
                                                  {"data": START})
                _, t_submit = applicant.call("POST", f"/api/v1/tasks/{started['open_tasks'][0]['id']}/complete",
                                             {"data": SUBMIT})
                page, t_inbox = clerk.call("GET", "/api/v1/tasks?scope=candidate&sort=-created&limit=1")
                _, t_approve = clerk.call("POST", f"/api/v1/tasks/{page['items'][0]['id']}/complete",
                                          {"data": APPROVE})
                if i >= args.warmup:
                    parts = (t_start, t_submit, t_inbox, t_approve)
                    for name, value in zip(REQUESTS, (*parts, sum(parts)), strict=True):
                        timings[name].append(value)
            wall = time.perf_counter() - begun
        finally:
            server.terminate()
            server.wait()
    timings["three steps"] = [t - i for t, i in zip(timings["whole instance"], timings["inbox (clerk)"], strict=True)]
    print(f"tongban serve on SQLite, {args.instances} instances, 1 client, keep-alive")
    for name in REQUESTS:
        print(f"  {name:18} median {statistics.median(timings[name]):7.2f} ms   p95 {p95(timings[name]):7.2f} ms")
    print(f"  instances/s        {args.instances / wall:7.1f}")
    compare(timings, in_process(args.instances, args.warmup))


def in_process(instances: int, warmup: int) -> dict[str, dict[str, list[float]]]:
    """bench/engine.py's SQLite life cycle, taking turns with the floor, in this run (after the server stopped)."""
    with sqlite_database() as db:
        return measure(instances, warmup, {FLOOR: floor_steps(), IN_PROCESS_NAME: tongban_steps(prepare_database(db))})


def compare(http: dict[str, list[float]], engine: dict[str, dict[str, list[float]]]) -> None:
    """Each request's median beside its step's in process, their ratio, and the floor measured with the latter."""
    floor = statistics.median(engine[FLOOR]["life cycle"])
    print(f"\nsame run, in process (bench/engine.py on SQLite; floor {floor:.3f} ms measured alongside)")
    print(f"  {'':18} {'HTTP ms':>9} {'in process':>11} {'HTTP / in process':>18} {'added ms':>9}")
    for request, step in IN_PROCESS.items():
        over, under = statistics.median(http[request]), statistics.median(engine[IN_PROCESS_NAME][step])
        print(f"  {request:18} {over:9.2f} {under:11.2f} {over / under:17.2f}× {over - under:9.2f}")
    life = statistics.median(engine[IN_PROCESS_NAME]["life cycle"])
    print(f"  in-process life cycle / floor = {life / floor:.2f}×; "
          f"whole instance over HTTP / floor = {statistics.median(http['whole instance']) / floor:.2f}×")

if __name__ == "__main__":
    main()
