"""Bench line for poller capacity (issue 23), run by `make bench` after scripts/bench_paths.py,
or alone: `.venv/bin/python scripts/bench_poller.py`.

Needs PostgreSQL (BENCH_PG, default postgres://postgres@127.0.0.1:5432); creates or replaces the
database <BENCH_DB>_poller (default ed_bench_poller) and drops it at the end. It serves the
sandbox providers from it with gunicorn (BENCH_SANDBOX_WORKERS processes, 200 ms latency on every
request) and, for each N in BENCH_POLLER_ORDERS (default 1000,10000,50000):

- seeds N open orders: 30 real orders per sandbox provider, placed through the providers and
  looked at once (so they are delegating and stay so: a delegation takes 100,000 s), then
  copied to N rows sharing their provider ids. Their ages are spread evenly over the last
  BENCH_POLLER_AGE_MINUTES (25, inside ENERGYDASH_ORDER_STUCK_MINUTES) and each one's next look
  is spread evenly over its scheduled interval (orders/schedule.py), as in a steady state;
- runs BENCH_POLLERS (4) `poll_loop` processes for BENCH_POLLER_SECONDS (60) each, every one in
  its own process group, killed by group id if it overruns;
- prints the look-lag p95 (time from an order's next_poll_at to the start of the look), the p95
  of lag / the order's interval (<= 1: looked at within its interval), looks/s, and the looks/s
  the schedule asks for at that N.

What the line measures is in docs/benchmarks.md. Never run it against real data.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (scripts/bench.py: the database, server and table helpers)

NAME = "poller"
SIZES = [int(n) for n in os.environ.get("BENCH_POLLER_ORDERS", "1000,10000,50000").split(",")]
PROCESSES = int(os.environ.get("BENCH_POLLERS", "4"))
SECONDS = int(os.environ.get("BENCH_POLLER_SECONDS", "60"))
# Looks in flight the schedule needs: looks/s asked x latency (407/s at 10k x 0.2 s = 82). Four
# processes of 16 threads could never do more than 64 / 0.2 s = 320 looks/s, and the sandbox's
# 3 workers x 16 threads no more than 240 requests/s: both are sized above the need now.
CONCURRENCY = os.environ.get("BENCH_POLLER_CONCURRENCY", "32")
SANDBOX_WORKERS = int(os.environ.get("BENCH_SANDBOX_WORKERS", "3"))
SANDBOX_THREADS = int(os.environ.get("BENCH_SANDBOX_THREADS", "32"))
AGE_MINUTES = int(os.environ.get("BENCH_POLLER_AGE_MINUTES", "25"))
LATENCY_MS = 200
BOOT_SECONDS = 40  # the pollers boot Django before the common start time
PORT = int(os.environ.get("BENCH_POLLER_PORT", "8795"))
# A path: the first poller process writes its cProfile stats there (pstats format).
PROFILE = os.environ.get("BENCH_POLLER_PROFILE", "")

SEED_SCRIPT = """
import json, random, uuid
from datetime import datetime, timedelta, timezone as tz
from django.db import transaction
from energydash.orders.models import Order, POLLABLE, new_reference
from energydash.orders.placement import place_order
from energydash.orders.polling import poll_pass
from energydash.orders.schedule import next_delay
from energydash.orders.spec import OrderSpec
from energydash.providers.models import ProviderAccount
from energydash.sandbox.models import SandboxAccount
from energydash.sandbox.setup import setup_sandbox
from tests.sandbox.helpers import address
setup_sandbox(%(base)r, reset_balances=True)
SandboxAccount.objects.update(latency_ms=0, balance_sun=10**15, delegation_delay_seconds=100_000)
Order.objects.all().delete()
accounts = {}
for account in ProviderAccount.objects.filter(base_url__startswith=%(base)r).order_by("id"):
    accounts.setdefault(account.provider, account)
templates = []
for provider, account in sorted(accounts.items()):
    for n in range(30):
        templates.append(place_order(OrderSpec(
            account=account, kind="energy", receive_address=address(f"poll {provider} {n}"),
            energy=65000, period="1H")).pk)
later = datetime.now(tz.utc) + timedelta(seconds=10)
poll_pass(now=later, limit=1000, concurrency=8)  # each template settles: delegating
Order.objects.filter(pk__in=templates).update(next_poll_at=later + timedelta(seconds=5))
poll_pass(now=later + timedelta(seconds=5), limit=1000, concurrency=8)
rows = list(Order.objects.select_related("account").filter(pk__in=templates,
                                                            status__in=POLLABLE))
start = datetime.fromtimestamp(%(start)f, tz.utc)
rng = random.Random(23)
skip = {"id", "code", "reference", "idempotency_key"}
fields = [f.attname for f in Order._meta.concrete_fields if f.attname not in skip]
made, required = [], 0.0
for i in range(%(orders)d):
    template = rows[i %% len(rows)]
    age = timedelta(seconds=rng.uniform(0, %(age)d * 60))
    delay = next_delay(age, template.account.provider)
    required += 1 / delay.total_seconds()
    values = {f: getattr(template, f) for f in fields}
    values.update(code=uuid.uuid4(), reference=new_reference(), created=start - age,
                  next_poll_at=start + delay * rng.random(), poll_count=0, claimed_until=None,
                  approved_at=None)
    made.append(Order(**values))
with transaction.atomic():
    Order.objects.all().delete()
    for chunk in range(0, len(made), 5000):
        Order.objects.bulk_create(made[chunk:chunk + 5000])
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("ANALYZE orders_order")
# Seeding took a while: the pollers start BOOT s from now, so the schedule moves with them.
from django.db.models import F
begin = max(start, datetime.now(tz.utc) + timedelta(seconds=%(boot)d))
Order.objects.update(created=F("created") + (begin - start),
                     next_poll_at=F("next_poll_at") + (begin - start))
SandboxAccount.objects.update(latency_ms=%(latency)d)
print(json.dumps({"templates": len(rows), "open": Order.objects.filter(
    status__in=POLLABLE).count(), "required": required, "begin": begin.timestamp()}))
"""

POLLER_SCRIPT = """
import json, time
from energydash.orders import polling
from energydash.orders.schedule import next_delay
from energydash.orders.tasks import poll_loop
looks = []
original = polling._look
def look(order, now, client, credentials, result):
    at = time.time()
    # The interval it was scheduled with: its delay at its age when that look was scheduled.
    due_age = order.next_poll_at - order.started_at
    interval = next_delay(due_age - next_delay(due_age, order.account.provider),
                          order.account.provider)
    looks.append((at - order.next_poll_at.timestamp(), interval.total_seconds()))
    return original(order, now, client, credentials, result)
polling._look = look
late = time.time() - %(start)f  # > 0: this process booted after the common start
time.sleep(max(0, -late))
profile = %(profile)r
if profile:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
cpu = time.process_time()
passes, checked, changed = poll_loop(%(seconds)d, idle_sleep=0.2)
cpu = time.process_time() - cpu
if profile:
    profiler.disable()
    profiler.dump_stats(profile)
print(json.dumps({"looks": looks, "passes": passes, "changed": changed, "late": late,
                  "cpu": cpu}))
"""


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


def server_cpu(server: bench.Server) -> float:
    """CPU seconds the sandbox's gunicorn processes have used (master and workers)."""
    pids = [server.proc.pid]
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children")
    pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def run(sandbox: bench.Server, orders: int) -> None:
    base = sandbox.base
    start = time.time() + BOOT_SECONDS
    print(f"seeding {orders:,} open orders...", flush=True)
    values = {
        "base": base,
        "orders": orders,
        "age": AGE_MINUTES,
        "latency": LATENCY_MS,
        "boot": BOOT_SECONDS,
    }
    seeded = json.loads(
        bench.manage(NAME, "shell", "-c", SEED_SCRIPT % {**values, "start": start}).splitlines()[-1]
    )
    start = seeded["begin"]  # seeding 50k takes a while: the schedule starts after it
    if seeded["open"] != orders:
        sys.exit(f"seeded {seeded['open']} open orders, not {orders}")
    scripts = [
        POLLER_SCRIPT % {"start": start, "seconds": SECONDS, "profile": PROFILE if i == 0 else ""}
        for i in range(PROCESSES)
    ]
    env = bench.env_for(NAME, ENERGYDASH_POLL_CONCURRENCY=CONCURRENCY)
    pollers = [
        subprocess.Popen(
            [bench.PY, "manage.py", "shell", "-c", script],
            cwd=bench.ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for script in scripts
    ]
    outputs = []
    sandbox_cpu = server_cpu(sandbox)
    limit = start + SECONDS + 90
    try:
        for poller in pollers:
            out, _ = poller.communicate(timeout=max(1, limit - time.time()))
            outputs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for poller in pollers:
            if poller.poll() is None:
                os.killpg(poller.pid, signal.SIGKILL)
                poller.wait()
    if len(outputs) != PROCESSES:
        sys.exit("a poller did not finish")
    sandbox_cpu = server_cpu(sandbox) - sandbox_cpu
    looks = [look for out in outputs for look in out["looks"]]
    lags = [max(0.0, lag) for lag, _ in looks]
    shares = [max(0.0, lag) / interval for lag, interval in looks]
    bench.record(
        f"poller at {orders:,} open orders, {PROCESSES} processes x {CONCURRENCY} threads, "
        f"{LATENCY_MS} ms sandbox ({SANDBOX_WORKERS} x {SANDBOX_THREADS} threads): "
        "look-lag p95 / interval",
        f"{p95(shares):.2f}",
        "<= 1",
        f"look-lag p95 {p95(lags):.1f} s (median {bench.med(lags):.1f} s, max "
        f"{max(lags):.1f} s); {len(looks) / SECONDS:.0f} looks/s, schedule asks "
        f"{seeded['required']:.0f}/s; {len(looks):,} looks in {SECONDS} s; booted "
        f"{max(0, -max(out['late'] for out in outputs)):.0f} s before the start; "
        f"{1000 * sum(out['cpu'] for out in outputs) / max(1, len(looks)):.1f} ms poller CPU "
        f"per look, {1000 * sandbox_cpu / max(1, len(looks)):.1f} ms sandbox CPU per look "
        "(the simulated providers on the same cores); "
        f"{bench.load_average()}",
    )


def main() -> None:
    print(bench.load_average(), flush=True)
    bench.fresh_database(NAME)
    bench.manage(NAME, "migrate", "--no-input", "-v", "0")
    sandbox = bench.Server(NAME, port=PORT, workers=SANDBOX_WORKERS, threads=SANDBOX_THREADS)
    try:
        for orders in SIZES:
            run(sandbox, orders)
    finally:
        sandbox.stop()
        drop_database()


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{bench.PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench.PREFIX}_{NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
    bench.print_table()
