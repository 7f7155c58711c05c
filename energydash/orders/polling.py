"""One polling pass over open orders, safe with any number of workers running it at once.

Due orders are claimed a few at a time with one conditional UPDATE (a short lease on
`claimed_until`), so each is looked at by one worker; an order another worker holds is skipped.
Orders are looked at soon after placing, then less and less often. What one look at one order
does is tracking.py.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from energydash.core import logcontext
from energydash.orders.models import POLLABLE, Order, Status
from energydash.orders.schedule import Schedule, next_delay
from energydash.orders.tracking import DRAFT_GRACE, process, record_failure
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")

LEASE = timedelta(minutes=2)


# When an order is looked at next (by its age, provider and whether its last look changed it)
# is orders/schedule.py: next_delay is re-exported here for the callers that know it from here.
@dataclass
class PassResult:
    checked: int = 0
    changed: int = 0


def _due(now: datetime) -> Q:
    """Open orders whose next look is due, and drafts left behind by an interrupted placement,
    that no live lease holds."""
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pollable = Q(status__in=POLLABLE, next_poll_at__lte=now)
    # An approved order (orders/approvals.py) starts sending at its approval, not its creation.
    stale_draft = Q(status=Status.DRAFT, created__lt=now - DRAFT_GRACE) & (
        Q(approved_at__isnull=True) | Q(approved_at__lt=now - DRAFT_GRACE)
    )
    return unclaimed & (pollable | stale_draft)


def claim_due(now: datetime, size: int) -> list[int]:
    """Claim up to `size` due orders, soonest first, in one UPDATE; their ids.

    The pick is the `_due` query itself. On PostgreSQL it locks what it picks (`FOR UPDATE SKIP
    LOCKED`): a row another pass holds is skipped, and a row another pass changed since this
    statement began is re-checked against `_due` on its new version before it is taken, so
    however many passes in however many processes run this at once, each order is claimed by
    one of them. SQLite has one writer. One statement per chunk instead of a select, a claim
    per order and a transaction around each (issue 9: poller throughput).
    """
    if size <= 0:
        return []
    table = connection.ops.quote_name(Order._meta.db_table)
    pick = Order.objects.filter(_due(now)).order_by("next_poll_at", "id").values("pk")[:size]
    with _lease_transaction(), connection.cursor() as cursor:
        until = connection.ops.adapt_datetimefield_value(now + LEASE)
        if connection.vendor == "postgresql":
            # The pick in a CTE, so it runs once: as an `IN (subquery)` PostgreSQL may re-run it
            # per row, and SKIP LOCKED then skips the rows this very UPDATE has locked and picks
            # more, claiming far beyond the LIMIT.
            pick_sql, params = pick.select_for_update(skip_locked=True).query.sql_with_params()
            sql = (
                f"WITH picked (id) AS ({pick_sql}) UPDATE {table} SET claimed_until = %s "
                f"FROM picked WHERE {table}.id = picked.id RETURNING {table}.id"
            )
            cursor.execute(sql, [*params, until])
        else:
            pick_sql, params = pick.query.sql_with_params()
            sql = f"UPDATE {table} SET claimed_until = %s WHERE id IN ({pick_sql}) RETURNING id"
            cursor.execute(sql, [until, *params])
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def _lease_transaction() -> Iterator[None]:
    """A transaction for lease bookkeeping that commits without waiting for the WAL flush
    (PostgreSQL): see _lease_write."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def _lease_write(rows: QuerySet[Order], **values: Any) -> int:
    """UPDATE the lease/schedule columns without waiting for the WAL flush (PostgreSQL).

    A claim or a release is bookkeeping, not money: a database crash that lost one only means
    a lease that expires or a look that comes early. Visibility and row locking are unchanged
    (the conditional UPDATE still decides who holds an order), but each one no longer waits
    for an fsync. Inside a caller's transaction (tests) the caller's settings stay untouched.
    """
    with _lease_transaction():
        return rows.update(**values)


# Orders a polling thread claims at once: one claim, one read and one release per chunk instead
# of per order. Small, so a chunk's last order waits for at most a few looks of the first, and
# concurrent workers still share the due orders.
CHUNK = 4


def poll_pass(
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    limit: int = 200,
    concurrency: int | None = None,
    workers: Workers | None = None,
) -> PassResult:
    """Look once at every due order (up to `limit`), `concurrency` at a time.

    Each thread claims a few due orders at a time (claim_due: one conditional UPDATE), looks at
    them one after the other and releases them with their next look scheduled, so any number of
    passes in any number of processes still look at each order once. Provider calls wait on the
    network, not the CPU: threads give concurrency x the throughput of one at the same provider
    latency. `workers`: threads kept across passes (a loop's, see Workers); without them the pass
    starts its own and ends them. Inside a transaction (tests) the pass runs in the calling
    thread, where the transaction's rows are visible.
    """
    now = now or timezone.now()
    if concurrency is None:
        concurrency = workers.size if workers else settings.ENERGYDASH_POLL_CONCURRENCY
    result = PassResult()
    credentials = _Credentials()
    # The due orders now (an index scan of the open orders): the chunks are sized from it.
    expected = Order.objects.filter(_due(now)).order_by()[:limit].count()
    budget = _Budget(expected, 1 if connection.in_atomic_block else concurrency)
    if not expected:
        return result
    if concurrency <= 1 or connection.in_atomic_block:
        _poll_chunks(budget, now, client, credentials, result)
        return result
    lock = threading.Lock()

    def work() -> None:
        mine = PassResult()
        try:
            _poll_chunks(budget, now, client, credentials, mine)
        except Exception:  # a database error: the leases expire, a later pass retries
            logger.exception("a polling thread failed")
            connection.close()  # a broken connection is not kept for the next pass
        finally:
            with lock:
                result.checked += mine.checked
                result.changed += mine.changed

    threads = min(concurrency, expected)
    if workers is not None:
        workers.run(work, threads)
        return result
    with Workers(threads) as own:
        own.run(work, threads)
    return result


class Workers:
    """Polling threads kept from pass to pass, each with its own database connection.

    A pass used to start its threads and close each one's connection at its end: a loop then
    opened about one PostgreSQL connection (a backend process) per look, most of a look's CPU on
    this machine (issue 23). A loop (tasks.poll_loop, `poll_orders --loop`) keeps one Workers for
    its run; each thread keeps its connection until the Workers end (a failed job closes it).
    """

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], threading.Semaphore] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, job: Callable[[], None], count: int) -> None:
        """Run `job` in `count` threads at once (count <= size) and wait for all of them; each
        runs in a copy of the caller's context (the task's request_id is in its log lines)."""
        count = min(count, self.size)
        while len(self._threads) < count:
            thread = threading.Thread(
                target=self._serve, name=f"poll-{len(self._threads)}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        done = threading.Semaphore(0)
        for _ in range(count):
            context = contextvars.copy_context()
            self._jobs.put((lambda context=context: context.run(job), done))
        for _ in range(count):
            done.acquire()

    def _serve(self) -> None:
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                try:
                    job()
                except Exception:
                    logger.exception("a polling thread failed")
                finally:
                    done.release()
        finally:
            connection.close()  # this thread's own connection

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()


class _Budget:
    """How many due orders this pass still expects to claim, and how many to claim at once.

    Chunks shrink as the pass nears its end (never below one order), so the last few due
    orders are spread over the threads instead of waiting in one thread's chunk: with 12 due
    orders and 4 threads, each thread claims 3 and all 4 look at once.
    """

    def __init__(self, expected: int, concurrency: int) -> None:
        self._left = expected
        self._threads = max(1, concurrency)
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            size = min(self._left, max(1, min(CHUNK, self._left // self._threads)))
            self._left -= size
            return size


def _poll_chunks(
    budget: _Budget,
    now: datetime,
    client: httpx.Client | None,
    credentials: _Credentials,
    result: PassResult,
) -> None:
    """Claim, look at and release chunks of due orders until none is due or the budget is spent."""
    while size := budget.take():
        pks = claim_due(now, size)
        if not pks:
            return
        orders = list(
            Order.objects.select_related("account")
            .filter(pk__in=pks)
            .order_by("next_poll_at", "id")
        )
        looked: list[Order] = []
        changed: set[int] = set()
        try:
            for order in orders:
                looked.append(order)
                before = result.changed
                with logcontext.bind_order(order):
                    _look(order, now, client, credentials, result)
                if result.changed != before:
                    changed.add(order.pk)
        finally:
            release(orders, looked, now, changed)


class _Credentials:
    """Each account's credentials decrypted once per pass, shared by the pass's threads."""

    def __init__(self) -> None:
        self._by_account: dict[int, Any] = {}
        self._lock = threading.Lock()

    def get(self, order: Order) -> Any:
        with self._lock:
            found = self._by_account.get(order.account_id)
            if found is None:
                found = self._by_account[order.account_id] = order.account.credentials()
            return found


def _look(
    order: Order,
    now: datetime,
    client: httpx.Client | None,
    credentials: _Credentials,
    result: PassResult,
) -> None:
    """One look at one claimed order; never raises (a failure is counted on the order)."""
    result.checked += 1
    try:
        # One adapter per order: adapters keep per-call state (exchanges); the HTTP client
        # under them is shared (providers/http.py), so making one costs next to nothing.
        adapter = adapter_for(credentials.get(order), client)
        try:
            if process(order, adapter, now):
                result.changed += 1
        finally:
            adapter.close()
    except Exception as exc:  # before process() (e.g. no adapter): still counted
        logger.exception("polling order %s failed", order.code)
        try:
            if record_failure(order, exc, now):
                result.changed += 1
        except Exception:  # the database itself: the release still runs, a later pass retries
            logger.exception("could not record the failure of order %s", order.code)


def release(
    claimed: list[Order], looked: list[Order], now: datetime, changed: set[int] | None = None
) -> None:
    """End the lease of a chunk in one UPDATE: the orders looked at are due again by the
    schedule (schedule.next_delay: age, provider, and whether this look changed them) and
    counted; any not reached (an error stopped the chunk) stay due as they were. An order whose
    next look was moved while it was held (a callback: "look again now") keeps that time.
    """
    seen = {order.pk for order in looked}
    changed = changed or set()
    if looked:
        schedule = Schedule.from_settings()
        due_again = Case(
            *(
                # Only if nobody moved its next look meanwhile: a callback (or the chain) that
                # said "look again now" during this look keeps its earlier time.
                When(
                    pk=order.pk,
                    next_poll_at=order.next_poll_at,
                    then=Value(
                        now
                        + next_delay(
                            now - order.started_at,
                            order.account.provider,
                            changed=order.pk in changed,
                            schedule=schedule,
                        )
                    ),
                )
                for order in looked
            ),
            default=F("next_poll_at"),
        )
        _lease_write(
            Order.objects.filter(pk__in=seen),
            claimed_until=None,
            poll_count=F("poll_count") + 1,
            next_poll_at=due_again,
        )
    rest = [order.pk for order in claimed if order.pk not in seen]
    if rest:
        _lease_write(Order.objects.filter(pk__in=rest), claimed_until=None)
    # Final and needs_review orders keep a next_poll_at, but their status keeps them out of
    # the partial index and the due query.
