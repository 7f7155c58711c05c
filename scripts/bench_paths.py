"""Bench lines for provider calls and bulk orders (issue 23), run by `make bench` after
scripts/bench.py, or alone: `.venv/bin/python scripts/bench_paths.py`.

Needs PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432); creates or replaces the
database <BENCH_DB>_paths (default ed_bench_paths), serves the sandbox providers from it with
gunicorn (BENCH_SANDBOX_WORKERS processes) and measures against it:

- provider calls per routed (API) order and per batch line, counted at the HTTP client;
- a batch of BENCH_BATCH_LINES lines (default 1,000) against a 200 ms sandbox: lines/s, and its
  ratio to the ideal, ENERGYDASH_BATCH_CONCURRENCY / 0.2 s.

What each line measures is in docs/benchmarks.md. Never run it against real data.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (scripts/bench.py: the database, server and table helpers)

NAME = "paths"
LINES = int(os.environ.get("BENCH_BATCH_LINES", "1000"))
CONCURRENCY = int(os.environ.get("BENCH_BATCH_CONCURRENCY", "8"))
LATENCY_MS = 200

CALLS_SCRIPT = """
import json
import httpx
from collections import Counter
from energydash.batches import services
from energydash.orders.routing import RouteRequest, route_order
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.setup import setup_sandbox
from tests.sandbox.helpers import address
setup_sandbox(%(base)r, reset_balances=True)
SandboxAccount.objects.update(latency_ms=0, balance_sun=10**15, delegation_delay_seconds=3600)
calls = Counter()
original = httpx.Client.send
def send(self, request, **kw):
    if "/sandbox/" in request.url.path:
        calls["n"] += 1
    return original(self, request, **kw)
httpx.Client.send = send
out = {}
route_order("warm", RouteRequest(receive_address=address("warm"), energy=65000), via="bench")
calls.clear()
orders = 20
for n in range(orders):
    request = RouteRequest(receive_address=address(f"calls {n}"), energy=65000, period="1H")
    route_order(f"calls-{n}", request, via="api:bench")
out["per_order"] = calls["n"] / orders
calls.clear()
lines = 200
parsed, _ = services.parse("\\n".join(address(f"line {n}") for n in range(lines)), 65000)
batch = services.create_batch(parsed, period="1H", via="bench")
services.plan(batch)
services.start(batch)
services.run_batch(batch.pk)
out["per_line"] = calls["n"] / lines
out["placed"] = batch.lines.filter(status="placed").count()
print(json.dumps(out))
"""

BATCH_SCRIPT = """
import json, time
from energydash.batches import services
from energydash.sandbox.models import SandboxAccount
from tests.sandbox.helpers import address
SandboxAccount.objects.update(latency_ms=%(latency)d)
parsed, _ = services.parse(
    "\\n".join(address(f"bulk {n}") for n in range(%(lines)d)), 65000)
batch = services.create_batch(parsed, period="1H", via="bench")
services.start(batch)
started, cpu = time.perf_counter(), time.process_time()
batch = services.run_batch(batch.pk)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
SandboxAccount.objects.update(latency_ms=0)
figures = services.progress(batch)
print(json.dumps({"seconds": seconds, "cpu": cpu, "status": batch.status, **figures}))
"""


def main() -> None:
    bench.fresh_database(NAME)
    bench.manage(NAME, "migrate", "--no-input", "-v", "0")
    workers = int(os.environ.get("BENCH_SANDBOX_WORKERS", "3"))
    sandbox = bench.Server(NAME, port=8794, workers=workers)
    try:
        measure(sandbox.base)
    finally:
        sandbox.stop()


def measure(base: str) -> None:
    print("measuring provider calls and bulk orders against the sandbox...", flush=True)
    out = json.loads(
        bench.manage(NAME, "shell", "-c", CALLS_SCRIPT % {"base": base}).splitlines()[-1]
    )
    bench.record(
        "provider calls per routed (API) order, 3 accounts",
        f"{out['per_order']:.2f}",
        "<= 4",
        "counted at the HTTP client, after the first order of the process",
    )
    bench.record(
        "provider calls per batch line (plan + run, 200 lines)",
        f"{out['per_line']:.2f}",
        "<= 1.5",
        f"{out['placed']} of 200 placed",
    )
    values = {"latency": LATENCY_MS, "lines": LINES}
    line = bench.manage(
        NAME,
        "shell",
        "-c",
        BATCH_SCRIPT % values,
        ENERGYDASH_BATCH_CONCURRENCY=str(CONCURRENCY),
    ).splitlines()[-1]
    done = json.loads(line)
    rate = done["handled"] / done["seconds"]
    ideal = CONCURRENCY / (LATENCY_MS / 1000)
    bench.record(
        f"batch of {LINES:,} lines, {LATENCY_MS} ms sandbox, concurrency {CONCURRENCY}: "
        "lines/s / ideal",
        f"{rate / ideal:.2f}",
        ">= 0.8",
        f"{rate:.1f} lines/s of {ideal:.0f}; {done['placed']} placed, {done['failed']} failed, "
        f"{done['review']} review, {done['remaining']} pending in {done['seconds']:.1f} s; "
        f"{1000 * done['cpu'] / max(1, done['handled']):.0f} ms CPU per line in the worker; "
        f"{bench.load_average()}",
    )


if __name__ == "__main__":
    main()
    bench.print_table()
