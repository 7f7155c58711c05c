"""The ledger's interval sums come from one set-based statement (no subquery per reading), and
give exactly what the per-reading correlated sums gave, on varied data: late refunds, accepted
then failed orders, unknown and in-review orders, orders exactly on a reading's time, two
readings at one instant, flat heartbeat readings and a rounding tolerance."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from energydash.balances import intervals, ledger
from energydash.balances.models import BalanceSnapshot
from energydash.orders.models import Order, Status
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
TRX = 1_000_000


def _reference_sql() -> str:
    """The statement the ledger used before (five correlated sums per reading): the reference."""
    table = Order._meta.db_table

    def order_sum(expression: str, when: str, condition: str) -> str:
        return (
            f"(SELECT {expression} FROM {table} o WHERE o.account_id = r.account_id"
            f" AND o.{when} > r.prev_at AND o.{when} <= r.taken_at AND {condition})"
        )

    cost, charged, possible = intervals.COST_SQL, intervals.CHARGED_SQL, intervals.POSSIBLE_SQL
    columns = ", ".join(
        [
            order_sum(f"COALESCE(SUM({cost}), 0)", "submitted_at", charged),
            order_sum("COUNT(*)", "submitted_at", charged),
            order_sum(f"COALESCE(SUM({cost}), 0)", "submitted_at", possible),
            order_sum("COUNT(*)", "submitted_at", possible),
            order_sum(f"COALESCE(SUM({intervals.REFUND_SQL}), 0)", "finished_at", "1 = 1"),
        ]
    )
    return (
        f"SELECT r.id, {columns} FROM (SELECT s.id, s.account_id, s.taken_at, "
        "LAG(s.id) OVER w AS prev_id, LAG(s.taken_at) OVER w AS prev_at "
        f"FROM {BalanceSnapshot._meta.db_table} s WHERE s.account_id = %s "
        "WINDOW w AS (ORDER BY s.taken_at, s.id)) r WHERE r.prev_id IS NOT NULL "
        "ORDER BY r.taken_at, r.id"
    )


def _reference(account) -> dict[int, tuple[int, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(_reference_sql(), [account.pk])
        return {row[0]: tuple(int(v) for v in row[1:]) for row in cursor.fetchall()}


def _seed(account, rng: random.Random, minutes: int = 2 * 24 * 60) -> None:
    statuses = [
        Status.COMPLETED,
        Status.COMPLETED,
        Status.REFUNDED,
        Status.FAILED,
        Status.UNKNOWN,
        Status.NEEDS_REVIEW,
        Status.SUBMITTED,
        Status.DELEGATING,
        Status.DRAFT,
    ]
    balance = 5_000 * TRX
    snapshots, t = [], 0
    while t < minutes:
        t += rng.choice([1, 3, 7, 30, 90])
        balance += rng.randint(-40, 40) * TRX + rng.choice([0, 0, 3, -7_000])
        snapshots.append(
            BalanceSnapshot(
                account=account,
                balance_sun=balance,
                taken_at=T0 + timedelta(minutes=t),
                source="refresh",
            )
        )
        if rng.random() < 0.1:  # two readings at the same instant
            snapshots.append(
                BalanceSnapshot(
                    account=account,
                    balance_sun=balance,
                    taken_at=T0 + timedelta(minutes=t),
                    source="order",
                )
            )
    BalanceSnapshot.objects.bulk_create(snapshots)
    times = [s.taken_at for s in snapshots]
    for _ in range(150):
        status = rng.choice(statuses)
        sent = T0 + timedelta(seconds=rng.randint(-3600, minutes * 60 + 3600))
        if rng.random() < 0.15:  # exactly on a reading
            sent = rng.choice(times)
        o = order(
            account,
            cost_sun=rng.choice([None, 0, 3_250_000, 6_510_000]),
            quoted_cost_sun=rng.choice([3_000_000, 6_000_000]),
            status=status,
            created=sent - timedelta(seconds=rng.randint(0, 30)),
        )
        fields = {
            "submitted_at": None if status == Status.DRAFT else sent,
            "provider_ref": rng.choice(["", "P-1"]) if status == Status.FAILED else "P-2",
            "refund_sun": rng.choice([None, 0, 1_000_000, 3_250_000]),
        }
        if status in (Status.COMPLETED, Status.REFUNDED, Status.FAILED):
            late = rng.choice([1, 60, 3 * 24 * 3600])  # late refunds land days later
            fields["finished_at"] = sent + timedelta(seconds=late)
            if rng.random() < 0.1:
                fields["finished_at"] = rng.choice(times)
        Order.objects.filter(pk=o.pk).update(**fields)


@pytest.mark.parametrize("seed", [1, 2])
def test_interval_sums_equal_the_per_reading_sums(itrx_account, tronzap_account, seed):
    rng = random.Random(seed)
    _seed(itrx_account, rng)
    _seed(tronzap_account, rng)  # another account's orders must not leak in
    expected = _reference(itrx_account)
    assert len(expected) > 50
    ends = BalanceSnapshot.objects.filter(account=itrx_account).values_list("taken_at", flat=True)
    got = {
        iv.end_id: (
            iv.charges_sun
            - sum(m.amount_sun * (1 if m.role == "charged" else -1) for m in iv.moved_charges),
            iv.charged_count - sum(1 if m.role == "charged" else -1 for m in iv.moved_charges),
            iv.possible_sun,
            iv.possible_count,
            iv.refunds_sun,
        )
        for iv in intervals.build_intervals(itrx_account, ends)
    }
    # The set-based sums equal the reference once the charges the span rules moved between
    # intervals (place_charges_in_span, place_charges_after_give_up) are put back.
    assert got == expected
    assert any(v[4] for v in got.values()) and any(v[2] for v in got.values())


def test_the_daily_summary_is_unchanged_with_a_tolerance(itrx_account, settings):
    """Day figures (opening, closing, top-ups, discrepancies, timing) from the new sums equal
    the ones computed from the reference sums, with a rounding tolerance set."""
    itrx_account.ledger_tolerance_sun = 5
    itrx_account.save(update_fields=["ledger_tolerance_sun"])
    _seed(itrx_account, random.Random(3))
    now = T0 + timedelta(days=2, hours=2)
    reference = _reference(itrx_account)
    original = intervals._fetch_intervals

    def fetch_with_reference(account, lo, hi):
        rows = original(account, lo, hi)
        for iv in rows:
            sums = reference[iv.end_id]
            iv.charges_sun, iv.charged_count, iv.possible_sun, iv.possible_count = sums[:4]
            iv.refunds_sun = sums[4]
            iv.residual_sun = iv.change_sun + iv.charges_sun - iv.refunds_sun
        return rows

    got = ledger.daily_summary(itrx_account, 5, now=now)
    intervals._fetch_intervals = fetch_with_reference
    try:
        expected = ledger.daily_summary(itrx_account, 5, now=now)
    finally:
        intervals._fetch_intervals = original
    assert [vars(d) for d in got] == [vars(d) for d in expected]
    assert any(d.discrepancies_sun for d in got) and any(d.topups_sun for d in got)


def test_one_statement_without_a_subquery_per_reading(itrx_account):
    _seed(itrx_account, random.Random(4), minutes=600)
    ends = BalanceSnapshot.objects.filter(account=itrx_account).values_list("taken_at", flat=True)
    with CaptureQueriesContext(connection) as queries:
        intervals.build_intervals(itrx_account, ends)
    statement = next(q["sql"] for q in queries.captured_queries if "LAG(" in q["sql"])
    # Three range reads of the account's orders: sent, finished, and late refunds heard.
    assert statement.count(f"FROM {Order._meta.db_table}") == 3
    assert "o.account_id = r.account_id" not in statement
