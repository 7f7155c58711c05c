"""One polling pass over open orders, safe with any number of workers running it at once.

Each order is claimed with a conditional UPDATE (a short lease on `claimed_until`); a worker that
loses the race skips the order. Orders are looked at soon after placing, then less and less often.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from energydash.orders.models import FINAL, POLLABLE, Order, Status
from energydash.orders.services import apply_state, reconcile
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Adapter, ProviderError
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")

LABEL = "task:poll_orders"
LEASE = timedelta(minutes=2)
# Seconds to wait before the next look, by the order's age: most orders settle within a minute
# or two of placing, so a young order is looked at every 2-3 s and a provider's change shows
# within a few seconds (issue 9: <= 10 s p95); an order still open after minutes backs off to
# every 8 s, and goes to review after ENERGYDASH_ORDER_STUCK_MINUTES.
SCHEDULE = (
    (timedelta(minutes=1), 2),
    (timedelta(minutes=5), 3),
    (timedelta(minutes=15), 5),
)
SLOWEST = 8
# A draft older than this was interrupted between being saved and being sent (or not).
DRAFT_GRACE = timedelta(minutes=2)
# Unexpected errors in a row before an order goes to review instead of being retried again.
MAX_FAILURES = 5
FAILURE_PREFIX = "Processing failed"


@dataclass
class PassResult:
    checked: int = 0
    changed: int = 0


def next_delay(age: timedelta) -> timedelta:
    """How long until the next look at an order this old (created to now)."""
    for younger_than, seconds in SCHEDULE:
        if age < younger_than:
            return timedelta(seconds=seconds)
    return timedelta(seconds=SLOWEST)


def due_orders(now: datetime, limit: int) -> list[int]:
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pollable = Q(status__in=POLLABLE, next_poll_at__lte=now)
    stale_draft = Q(status=Status.DRAFT, created__lt=now - DRAFT_GRACE)
    return list(
        Order.objects.filter(unclaimed & (pollable | stale_draft))
        .order_by("next_poll_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def claim(pk: int, now: datetime) -> bool:
    # Still due, not only unclaimed: a pass that listed the order before another pass looked at
    # it and released it (next_poll_at moved on) must not look at it again in the same round.
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pollable = Q(status__in=POLLABLE, next_poll_at__lte=now)
    stale_draft = Q(status=Status.DRAFT, created__lt=now - DRAFT_GRACE)
    due = Order.objects.filter(unclaimed, pollable | stale_draft, pk=pk)
    return bool(_lease_write(due, claimed_until=now + LEASE))


def _lease_write(rows: QuerySet[Order], **values: Any) -> int:
    """UPDATE the lease/schedule columns without waiting for the WAL flush (PostgreSQL).

    A claim or a release is bookkeeping, not money: a database crash that lost one only means
    a lease that expires or a look that comes early. Visibility and row locking are unchanged
    (the conditional UPDATE still decides who holds an order), but each one no longer waits
    for an fsync: two of them per look were most of a poll's own cost (issue 9, throughput).
    Inside a caller's transaction (tests) the caller's settings stay untouched.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return rows.update(**values)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return rows.update(**values)


def poll_pass(
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    limit: int = 200,
    concurrency: int | None = None,
) -> PassResult:
    """Look once at every due order (up to `limit`), `concurrency` at a time.

    The orders are claimed one by one with the conditional UPDATE (claim), in the thread that
    then polls it, so any number of passes in any number of processes still look at each order
    once. Provider calls wait on the network, not the CPU: threads give concurrency x the
    throughput of one at the same provider latency. Inside a transaction (tests) the pass runs
    in the calling thread, where the transaction's rows are visible.
    """
    now = now or timezone.now()
    if concurrency is None:
        concurrency = settings.ENERGYDASH_POLL_CONCURRENCY
    pks = due_orders(now, limit)
    result = PassResult()
    credentials = _Credentials()
    if concurrency <= 1 or len(pks) <= 1 or connection.in_atomic_block:
        for pk in pks:
            _poll_one(pk, now, client, credentials, result)
        return result
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for pk in pks:
        todo.put(pk)
    lock = threading.Lock()

    def work() -> None:
        mine = PassResult()
        try:
            while True:
                try:
                    pk = todo.get_nowait()
                except queue.Empty:
                    break
                try:
                    _poll_one(pk, now, client, credentials, mine)
                except Exception:  # a database error: the lease expires, a later pass retries
                    logger.exception("polling order id %s failed", pk)
        finally:
            connection.close()  # this thread's own connection
            with lock:
                result.checked += mine.checked
                result.changed += mine.changed

    threads = [
        threading.Thread(target=work, name=f"poll-{i}", daemon=True)
        for i in range(min(concurrency, len(pks)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


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


def _poll_one(
    pk: int,
    now: datetime,
    client: httpx.Client | None,
    credentials: _Credentials,
    result: PassResult,
) -> None:
    if not claim(pk, now):
        return  # another worker has it
    order = Order.objects.select_related("account").get(pk=pk)
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
        if record_failure(order, exc, now):
            result.changed += 1
    finally:
        release(order, now)


def release(order: Order, now: datetime) -> None:
    _lease_write(
        Order.objects.filter(pk=order.pk),
        claimed_until=None,
        poll_count=F("poll_count") + 1,
        next_poll_at=now + next_delay(now - order.created),
    )
    # Final and needs_review orders keep a next_poll_at, but their status keeps them out of
    # the partial index and the due query.


def process(order: Order, adapter: Adapter, now: datetime) -> bool:
    """Look at one claimed order once; True when it changed. Never raises.

    The per-order entry point of every polling loop. An exception (a bug, an answer no adapter
    can read, a database refusal) is recorded on the order's timeline with the raw exchanges;
    after MAX_FAILURES of them in a row the order goes to needs_review with the error, so a
    charged order is never retried silently forever.
    """
    adapter.exchanges.clear()
    try:
        return _process(order, adapter, now)
    except Exception as exc:
        logger.exception("processing order %s failed", order.code)
        try:
            record_exchanges(order, adapter.exchanges, label=LABEL)
        except Exception:
            logger.exception("could not record the exchanges of order %s", order.code)
        return record_failure(order, exc, now)


def record_failure(order: Order, exc: Exception, now: datetime) -> bool:
    """Count one failed look at the order; True when that moved it (out of draft, to review).

    A draft past DRAFT_GRACE leaves draft even when nothing else works, so an interrupted
    placement is never invisible. Failures are counted from the timeline: the run of
    "Processing failed" notes since anything else happened to the order.
    """
    order.refresh_from_db()
    moved = False
    if order.status == Status.DRAFT and now - order.created >= DRAFT_GRACE:
        moved = _draft_to_unknown(order)
    error = f"{type(exc).__name__}: {str(exc)[:300]}"
    failures = consecutive_failures(order) + 1
    if order.status in FINAL or order.status == Status.NEEDS_REVIEW:
        note(order, f"{FAILURE_PREFIX} ({error}).", label=LABEL)
        return moved
    if failures >= MAX_FAILURES:
        return (
            transition(
                order,
                Status.NEEDS_REVIEW,
                label=LABEL,
                last_error=f"Processing failed {failures} times: {error}",
                message=(
                    f"{FAILURE_PREFIX} {failures} times in a row; last error: {error}. "
                    "energydash stops retrying: check the order at the provider, then mark it "
                    "placed or not placed."
                ),
            )
            or moved
        )
    note(
        order,
        f"{FAILURE_PREFIX} ({failures} of {MAX_FAILURES} before review): {error}.",
        label=LABEL,
    )
    return moved


def consecutive_failures(order: Order) -> int:
    """Failure notes since the order's last other event (a state change, an exchange, ...)."""
    events = order.events.order_by("-created", "-id").values_list("kind", "message")
    count = 0
    for kind, message in events[: MAX_FAILURES * 3]:
        if kind == "exchange":
            continue  # the failing pass's own raw exchanges
        if kind == "note" and message.startswith(FAILURE_PREFIX):
            count += 1
            continue
        break
    return count


def _draft_to_unknown(order: Order) -> bool:
    return transition(
        order,
        Status.UNKNOWN,
        expected=Status.DRAFT,
        label=LABEL,
        message="Placement was interrupted after the order was saved; it may or may not "
        "have reached the provider.",
        submitted_at=order.submitted_at or order.created,
    )


def _process(order: Order, adapter: Adapter, now: datetime) -> bool:
    stuck_after = timedelta(minutes=settings.ENERGYDASH_ORDER_STUCK_MINUTES)
    if order.status == Status.DRAFT:
        moved = _draft_to_unknown(order)
        return reconcile(order, adapter, label=LABEL, now=now) or moved
    if order.status == Status.UNKNOWN:
        if reconcile(order, adapter, label=LABEL, now=now):
            return True
        return _flag_if_stuck(order, now, stuck_after)
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(provider_ref=order.provider_ref, reference=order.reference)
    except ProviderError as exc:
        record_exchanges(order, adapter.exchanges, label=LABEL)
        note(order, f"Status check failed: {exc}", label=LABEL)
        return _flag_if_stuck(order, now, stuck_after)
    changed = apply_state(order, state, label=LABEL)
    if changed:
        record_exchanges(order, adapter.exchanges, label=LABEL)
    stuck = _flag_if_stuck(order, now, stuck_after)
    return changed or stuck


def _flag_if_stuck(order: Order, now: datetime, stuck_after: timedelta) -> bool:
    if order.is_final or now - order.created < stuck_after:
        return False
    minutes = int((now - order.created).total_seconds() // 60)
    return transition(
        order,
        Status.NEEDS_REVIEW,
        label=LABEL,
        message=f"Still {order.get_status_display().lower()} after {minutes} minutes; "
        "check it at the provider.",
    )
