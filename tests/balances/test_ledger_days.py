"""The ledger's daily summary is kept per day (balances.ledger_days) and stays exact: after live
changes through the real writers (readings through record_balance, orders through save() and
transitions), the stored days give what the interval computation over the whole range gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from energydash.balances import ledger, ledger_days
from energydash.balances.intervals import TIMING, build_intervals
from energydash.balances.models import BalanceSnapshot, LedgerDay
from energydash.balances.services import record_balance
from energydash.orders.models import Status
from energydash.orders.transitions import transition
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=3, hours=12)
DAYS = 4
TRX = 1_000_000


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _before(account, moment):
    return (
        BalanceSnapshot.objects.filter(account=account, taken_at__lt=moment)
        .order_by("-taken_at", "-id")
        .values_list("balance_sun", flat=True)
        .first()
    )


def whole_range(account) -> list[dict]:
    """The days as the interval computation over the whole range gives them (no stored rows):
    every interval ending in the range, summed per local day of its closing reading."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(NOW)
    first = today - timedelta(days=DAYS - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    ends = BalanceSnapshot.objects.filter(account=account, taken_at__gte=start, taken_at__lte=NOW)
    intervals = build_intervals(account, ends.values_list("taken_at", flat=True))
    days = []
    for i in range(DAYS):
        day = first + timedelta(days=i)
        lo = datetime.combine(day, datetime.min.time(), tzinfo=tz)
        hi = lo + timedelta(days=1)
        its = [iv for iv in intervals if timezone.localdate(iv.ended_at, tz) == day]
        entry = ledger.Day(day)
        entry.opening_sun = its[0].start_balance_sun if its else _before(account, lo)
        entry.closing_sun = its[-1].end_balance_sun if its else _before(account, hi)
        entry.intervals = len(its)
        entry.charges_sun = sum(iv.charges_sun for iv in its)
        entry.possible_sun = sum(iv.possible_sun for iv in its)
        entry.refunds_sun = sum(iv.refunds_sun for iv in its)
        entry.topups_sun = sum(iv.topup_sun for iv in its)
        entry.discrepancies_sun = sum(iv.discrepancy_sun for iv in its)
        entry.timing_sun = sum(iv.residual_sun for iv in its if iv.kind == TIMING)
        days.append(vars(entry))
    return list(reversed(days))


def summary(account) -> list[dict]:
    return [vars(d) for d in ledger.daily_summary(account, DAYS, now=NOW)]


def sent(account, hours: float, cost_trx: int, status: str = Status.COMPLETED, **fields):
    o = order(account, cost_sun=cost_trx * TRX, status=Status.DRAFT, created=at(hours - 0.01))
    transition(o, status, submitted_at=at(hours), provider_ref=f"p{o.pk}", **fields)
    o.refresh_from_db()
    return o


@pytest.fixture
def utc(settings):
    settings.TIME_ZONE = "UTC"
    timezone.activate("UTC")
    yield
    timezone.deactivate()


def test_stored_days_stay_exact_after_live_changes(itrx_account, utc):
    record_balance(itrx_account, 100 * TRX, source="refresh", taken_at=at(1))
    refunded_later = sent(itrx_account, 2, 4, finished_at=at(2.5))
    record_balance(itrx_account, 96 * TRX, source="order", taken_at=at(2.1))
    record_balance(itrx_account, 90 * TRX, source="refresh", taken_at=at(34))  # 6 TRX missing
    in_doubt = sent(itrx_account, 53, 3, status=Status.UNKNOWN)
    record_balance(itrx_account, 87 * TRX, source="refresh", taken_at=at(54))
    record_balance(itrx_account, 87 * TRX, source="refresh", taken_at=at(80))  # today

    before = summary(itrx_account)
    assert before == whole_range(itrx_account)
    assert LedgerDay.objects.filter(account=itrx_account, stale=False).count() == DAYS - 1
    assert summary(itrx_account) == before  # read back from the stored rows

    # The order of the 10th is refunded on the 12th, and the balance shows it.
    transition(refunded_later, Status.REFUNDED, refund_sun=4 * TRX, finished_at=at(55))
    record_balance(itrx_account, 91 * TRX, source="refresh", taken_at=at(56))
    after_refund = summary(itrx_account)
    assert after_refund == whole_range(itrx_account)
    assert after_refund != before

    # The order in doubt turns out never placed: its 3 TRX are now missing money.
    transition(in_doubt, Status.FAILED, provider_ref="", finished_at=at(57))
    after_failure = summary(itrx_account)
    assert after_failure == whole_range(itrx_account)
    assert after_failure != after_refund

    # A reading that arrives late is inserted into the 11th.
    record_balance(itrx_account, 93 * TRX, source="refresh", taken_at=at(30))
    after_late = summary(itrx_account)
    assert after_late == whole_range(itrx_account)
    assert after_late != after_failure


def test_a_changed_tolerance_or_zone_recomputes_the_days(itrx_account, utc, settings):
    record_balance(itrx_account, 100 * TRX, source="refresh", taken_at=at(1))
    record_balance(itrx_account, 99_999_990, source="refresh", taken_at=at(30))
    assert summary(itrx_account)[2]["discrepancies_sun"] == 10
    itrx_account.ledger_tolerance_sun = 10
    itrx_account.save(update_fields=["ledger_tolerance_sun"])
    assert summary(itrx_account)[2]["discrepancies_sun"] == 0
    assert summary(itrx_account) == whole_range(itrx_account)
    timezone.activate("Asia/Shanghai")
    assert summary(itrx_account) == whole_range(itrx_account)


def test_rebuild_writes_every_day_from_the_first_reading(itrx_account, utc):
    record_balance(
        itrx_account, 100 * TRX, source="refresh", taken_at=timezone.now() - timedelta(days=2)
    )
    record_balance(itrx_account, 90 * TRX, source="refresh", taken_at=timezone.now())
    assert ledger_days.rebuild() == 2  # the day before yesterday and yesterday; today is computed
    assert not LedgerDay.objects.filter(stale=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_day_is_not_stored_while_a_writer_holds_the_account(itrx_account, utc):
    """PostgreSQL: a writer in the middle of its transaction holds the account's shared lock; the
    page computes the day without waiting for it (a reader queued for the lock would make other
    writers queue behind it) and stores it once the writer is gone."""
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks: PostgreSQL (SQLite has one writer)")
    import psycopg

    record_balance(itrx_account, 100 * TRX, source="refresh", taken_at=at(1))
    record_balance(itrx_account, 90 * TRX, source="refresh", taken_at=at(30))
    settings_dict = connection.settings_dict
    writer = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
    )
    try:
        writer.execute(
            "SELECT pg_advisory_xact_lock_shared(%s, %s)",
            [ledger_days._LOCK_NAMESPACE, itrx_account.pk],
        )
        assert summary(itrx_account) == whole_range(itrx_account)
        assert not LedgerDay.objects.filter(account=itrx_account).exists()
    finally:
        writer.rollback()
        writer.close()
    assert summary(itrx_account) == whole_range(itrx_account)
    assert LedgerDay.objects.filter(account=itrx_account, stale=False).count() == DAYS - 1
