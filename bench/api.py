"""API benchmark: the sample approval process driven over real HTTP against `tongban serve` on SQLite.

One client, keep-alive: start → complete "submit" (applicant) → the clerk's inbox (to learn the
task id) → complete "approve" (clerk); prints per-request medians and p95, the whole instance's
median and instances per second.

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

from bench.engine import APPROVE, START, SUBMIT, p95

ROOT = Path(__file__).resolve().parent.parent
TONGBAN = (sys.executable, "-c", "from api.cli import main; main()")
REQUESTS = ("start", "complete submit", "inbox (clerk)", "complete approve", "whole instance")


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
    print(f"tongban serve on SQLite, {args.instances} instances, 1 client, keep-alive")
    for name in REQUESTS:
        print(f"  {name:18} median {statistics.median(timings[name]):7.2f} ms   p95 {p95(timings[name]):7.2f} ms")
    print(f"  instances/s        {args.instances / wall:7.1f}")


if __name__ == "__main__":
    main()
