"""The database readings /metrics reports at scrape time (core/metrics.py registers this).

Every figure here is a state, read from the database when Prometheus scrapes, so any web process
answers the same thing and no process holds a stale copy. A few aggregate queries, each on an
indexed column or a small table: a scrape costs milliseconds, not a scan of the order history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, Max, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from energydash.balances.models import AccountBalanceState, LedgerFlag
from energydash.balances.stats import daily_spend_by_account, runway_days
from energydash.batches.models import BatchLine
from energydash.core import ops
from energydash.orders.models import OPEN, POLLABLE, Order, Status
from energydash.providers.models import ProviderAccount

SUN_PER_TRX = 1_000_000


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then else 0.0


def collect() -> Iterable[Metric]:
    now = timezone.now()
    accounts = {a.pk: a for a in ProviderAccount.objects.all()}

    open_orders = GaugeMetricFamily(
        "energydash_open_orders",
        "Orders not final yet (draft, submitted, delegating, unknown, needs_review).",
        labels=["provider", "account", "status"],
    )
    rows = (
        Order.objects.filter(status__in=OPEN)
        .values("account_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        account = accounts.get(row["account_id"])
        if account is not None:
            open_orders.add_metric([account.provider, account.name, row["status"]], row["n"])
    yield open_orders

    in_flight = [s for s in OPEN if s != Status.NEEDS_REVIEW]
    oldest = Order.objects.filter(status__in=in_flight).aggregate(t=Min("created"))["t"]
    yield GaugeMetricFamily(
        "energydash_oldest_open_order_age_seconds",
        "Age of the oldest order still in flight (needs_review excluded: see the next one).",
        value=_age(now, oldest),
    )
    review = Order.objects.filter(status=Status.NEEDS_REVIEW).aggregate(
        n=Count("id"), t=Min("updated")
    )
    yield GaugeMetricFamily(
        "energydash_needs_review_orders", "Orders waiting for a person.", value=review["n"]
    )
    yield GaugeMetricFamily(
        "energydash_needs_review_oldest_age_seconds",
        "How long the longest-waiting needs_review order has waited (since its last change).",
        value=_age(now, review["t"]),
    )
    due = Order.objects.filter(status__in=POLLABLE, next_poll_at__lte=now).aggregate(
        t=Min("next_poll_at")
    )["t"]
    yield GaugeMetricFamily(
        "energydash_polling_lag_seconds",
        "How far behind its schedule the most overdue poll is (0: every poll on time).",
        value=_age(now, due),
    )

    balance = GaugeMetricFamily(
        "energydash_account_balance_trx",
        "Last known balance of each enabled account, in TRX.",
        labels=["provider", "account"],
    )
    threshold = GaugeMetricFamily(
        "energydash_account_low_balance_threshold_trx",
        "The account's low-balance threshold, in TRX.",
        labels=["provider", "account"],
    )
    runway = GaugeMetricFamily(
        "energydash_account_runway_days",
        "Days the balance lasts at the last 7 days' average spend (absent: no spend).",
        labels=["provider", "account"],
    )
    spend = daily_spend_by_account(now)
    states = {s.account_id: s for s in AccountBalanceState.objects.all()}
    for account in accounts.values():
        if not account.enabled:
            continue
        labels = [account.provider, account.name]
        threshold.add_metric(labels, account.low_balance_threshold_sun / SUN_PER_TRX)
        state = states.get(account.pk)
        sun = state.balance_sun if state else None
        if sun is None:
            continue
        balance.add_metric(labels, sun / SUN_PER_TRX)
        days = runway_days(sun, spend.get(account.pk))
        if days is not None:
            runway.add_metric(labels, float(days))
    yield balance
    yield threshold
    yield runway

    flags = GaugeMetricFamily(
        "energydash_ledger_discrepancies",
        "Ledger findings ever recorded (discrepancies, itrx summary mismatches); a rise is new.",
        labels=["provider", "account", "kind"],
    )
    found = {
        (row["account_id"], row["kind"]): row["n"]
        for row in LedgerFlag.objects.values("account_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    }
    # Every enabled account reports every kind, 0 included: a first finding is then a rise
    # Prometheus sees (a series that first appears at 1 shows no increase).
    for account in accounts.values():
        for kind in LedgerFlag.Kind.values:
            n = found.get((account.pk, kind), 0)
            if account.enabled or n:
                flags.add_metric([account.provider, account.name, kind], n)
    yield flags

    yield GaugeMetricFamily(
        "energydash_batch_lines_pending",
        "Bulk-order lines not placed yet.",
        value=BatchLine.objects.filter(status=BatchLine.Status.PENDING).count(),
    )

    seen = ops.last_worker_activity()
    yield GaugeMetricFamily(
        "energydash_worker_last_seen_timestamp_seconds",
        "When a background worker was last seen (a live cluster, or its newest finished task).",
        value=seen.timestamp() if seen else 0.0,
    )
    yield GaugeMetricFamily(
        "energydash_worker_last_seen_age_seconds",
        "Seconds since a background worker was last seen (+Inf: never).",
        value=_age(now, seen) if seen else math.inf,
    )
    from django_q.models import Failure

    failed_recent = Failure.objects.aggregate(t=Max("stopped"))["t"]
    yield GaugeMetricFamily(
        "energydash_task_last_failure_timestamp_seconds",
        "When a background task last failed (0: none kept).",
        value=failed_recent.timestamp() if failed_recent else 0.0,
    )
