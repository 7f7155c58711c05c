"""Order rollups: right after every kind of change, equal to a rebuild, exact under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from energydash.balances import rollups, stats
from energydash.balances.models import DailyOrderRollup, HourlyOrderRollup
from energydash.orders.models import Order, Status
from energydash.orders.transitions import transition
from tests.balances.factories import order

KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: local hours are not UTC hours


def snapshot() -> tuple[list[tuple], list[tuple]]:
    fields = ("account_id", "day", "status", "kind", "orders", "cost_sun", "energy", "burn_sun")
    fields += ("spend_sun",)
    hours = sorted(HourlyOrderRollup.objects.values_list("hour_start", *fields))
    days = sorted(DailyOrderRollup.objects.values_list(*fields))
    return hours, days


def test_rollups_follow_creation_transitions_and_deletion_and_equal_a_rebuild(
    settings, itrx_account, netts_account
):
    settings.TIME_ZONE = "Asia/Kolkata"
    at = datetime(2026, 3, 9, 23, 45, tzinfo=KOLKATA)  # 18:15 UTC, in local hour 23:00
    first = order(
        itrx_account, cost_sun=None, quoted_cost_sun=900, status=Status.SUBMITTED, created=at
    )
    order(itrx_account, cost_sun=100, created=at + timedelta(minutes=20))  # next local day
    gone = order(netts_account, cost_sun=5, created=at)
    transition(first, Status.COMPLETED, cost_sun=700)
    gone.delete()
    live = snapshot()

    hour = HourlyOrderRollup.objects.get(
        account=itrx_account, status=Status.COMPLETED, day="2026-03-09"
    )
    assert hour.hour_start == datetime(2026, 3, 9, 23, 0, tzinfo=KOLKATA)
    assert (hour.orders, hour.cost_sun, hour.energy) == (1, 700, 65_000)
    assert hour.burn_sun == 65_000 * 100
    assert not HourlyOrderRollup.objects.filter(status=Status.SUBMITTED).exists()
    assert not DailyOrderRollup.objects.filter(account=netts_account).exists()
    assert DailyOrderRollup.objects.get(account=itrx_account, day="2026-03-10").cost_sun == 100

    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))
    assert snapshot() == live


def test_a_time_zone_change_is_repaired_by_rebuild_rollups(settings, itrx_account):
    settings.TIME_ZONE = "UTC"
    order(itrx_account, cost_sun=42, created=datetime(2026, 3, 9, 20, 0, tzinfo=ZoneInfo("UTC")))
    settings.TIME_ZONE = "Asia/Shanghai"
    rollups.rebuild()
    row = DailyOrderRollup.objects.get()
    assert str(row.day) == "2026-03-10"  # 04:00 in Shanghai


def test_dashboard_figures_read_rollups_and_equal_sums_over_the_orders(
    itrx_account, tronzap_account
):
    now = timezone.now()
    order(itrx_account, cost_sun=1_000, created=now - timedelta(minutes=5))
    order(itrx_account, cost_sun=2_000, created=now - timedelta(days=3))
    order(
        tronzap_account,
        cost_sun=None,
        quoted_cost_sun=400,
        status=Status.UNKNOWN,
        created=now - timedelta(days=1),
    )
    order(tronzap_account, cost_sun=9_999, status=Status.FAILED, created=now)
    with CaptureQueriesContext(connection) as queries:
        totals = stats.spend_totals(now)
    assert len(queries) == 1
    assert "orders_order" not in queries[0]["sql"]  # the rollups, never the orders table
    assert totals.overall.month_sun == 3_400
    assert totals.providers[0].week_sun == 3_000
    spent = sum(
        (o.cost_sun if o.cost_sun is not None else o.quoted_cost_sun)
        for o in Order.objects.filter(status__in=(Status.COMPLETED, Status.UNKNOWN))
    )
    assert totals.overall.month_sun == spent


def test_runway_counts_the_partial_first_hour_from_the_orders(itrx_account):
    now = datetime(2026, 3, 10, 12, 30, tzinfo=ZoneInfo("UTC"))
    order(itrx_account, cost_sun=700, created=now - timedelta(days=7, minutes=10))  # outside
    order(itrx_account, cost_sun=70, created=now - timedelta(days=7) + timedelta(minutes=10))
    order(itrx_account, cost_sun=7, created=now - timedelta(hours=1))
    assert stats.daily_spend_by_account(now)[itrx_account.pk] * 7 == 77


def _race(moves: list[Callable[[], object]]) -> None:
    """Run each move in its own thread, all released at once; any failure fails the test."""
    barrier = threading.Barrier(len(moves))
    errors: list[BaseException] = []

    def run(move: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            assert move()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(move,)) for move in moves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


def _settle_concurrently(orders: list[Order], cost: int) -> None:
    _race([partial(transition, o, Status.COMPLETED, cost_sun=cost) for o in orders])


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_in_one_bucket_are_each_counted_exactly_once(itrx_account):
    at = timezone.now().replace(minute=30)
    placed = [
        order(itrx_account, cost_sun=None, quoted_cost_sun=10, status=Status.SUBMITTED, created=at)
        for _ in range(8)
    ]
    _settle_concurrently(placed, cost=1_000)
    row = DailyOrderRollup.objects.get(account=itrx_account, status=Status.COMPLETED)
    assert (row.orders, row.cost_sun) == (8, 8_000)
    assert not DailyOrderRollup.objects.filter(status=Status.SUBMITTED).exists()
    live = snapshot()
    rollups.rebuild()
    assert snapshot() == live


def test_balance_history_is_downsampled_in_sql_to_each_buckets_low_high_and_last(itrx_account):
    from energydash.balances.chartdata import balance_points
    from energydash.balances.models import BalanceSnapshot

    start = datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))
    readings = [500, 100, 900, 300] * 50  # 200 readings, one a minute
    BalanceSnapshot.objects.bulk_create(
        BalanceSnapshot(
            account=itrx_account,
            balance_sun=v,
            taken_at=start + timedelta(minutes=i),
            source="refresh",
        )
        for i, v in enumerate(readings)
    )
    BalanceSnapshot.objects.create(
        account=itrx_account, balance_sun=42, taken_at=start - timedelta(hours=1), source="refresh"
    )
    with CaptureQueriesContext(connection) as queries:
        points = balance_points(itrx_account, start, start + timedelta(minutes=200), buckets=4)
    assert len(queries) == 2  # the reading before the range, then one downsampling query
    assert points[0] == (start, 42)
    values = [v for _, v in points[1:]]
    assert len(values) <= 4 * 3
    assert values.count(100) >= 4 and values.count(900) >= 4  # each bucket's low and high
    assert points[-1] == (start + timedelta(minutes=199), 300)  # the last reading survives
    assert [at for at, _ in points] == sorted(at for at, _ in points)


def test_a_draft_enters_the_rollups_with_its_first_transition_and_not_before(itrx_account):
    """Saving a draft (the first write of every placement) recomputes nothing; the transition
    that sends it brings it in, and a rebuild agrees at every step."""
    draft = order(itrx_account, cost_sun=None, quoted_cost_sun=800, status=Status.DRAFT)
    with CaptureQueriesContext(connection) as queries:
        order(itrx_account, cost_sun=None, quoted_cost_sun=900, status=Status.DRAFT)
    assert not any("rollup" in q["sql"] for q in queries)
    assert not HourlyOrderRollup.objects.exists() and not DailyOrderRollup.objects.exists()
    rollups.rebuild()
    assert snapshot() == ([], [])

    transition(draft, Status.SUBMITTED, provider_ref="A1")
    row = DailyOrderRollup.objects.get()
    assert (row.status, row.orders, row.cost_sun) == (Status.SUBMITTED, 1, 800)
    live = snapshot()
    rollups.rebuild()
    assert snapshot() == live


@pytest.mark.django_db(transaction=True)
def test_drafts_sent_while_other_orders_of_the_bucket_settle_are_each_counted_once(itrx_account):
    """Arrivals (a draft leaving draft: an added delta) race settlements (a recompute of the
    same hour and day) under the same lock: every order counts once, equal to a rebuild."""
    at = timezone.now().replace(minute=30)
    drafts = [
        order(itrx_account, cost_sun=None, quoted_cost_sun=7, status=Status.DRAFT, created=at)
        for _ in range(6)
    ]
    open_orders = [
        order(itrx_account, cost_sun=None, quoted_cost_sun=10, status=Status.SUBMITTED, created=at)
        for _ in range(6)
    ]
    _race(
        [partial(transition, d, Status.SUBMITTED, provider_ref="x") for d in drafts]
        + [partial(transition, o, Status.COMPLETED, cost_sun=1_000) for o in open_orders]
    )
    sent = DailyOrderRollup.objects.get(account=itrx_account, status=Status.SUBMITTED)
    done = DailyOrderRollup.objects.get(account=itrx_account, status=Status.COMPLETED)
    assert (sent.orders, sent.cost_sun) == (6, 42)
    assert (done.orders, done.cost_sun) == (6, 6_000)
    live = snapshot()
    rollups.rebuild()
    assert snapshot() == live
