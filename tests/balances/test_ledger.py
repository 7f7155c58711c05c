"""The ledger: intervals between balance readings explained by orders, or flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from energydash.balances import ledger
from energydash.balances.models import BalanceSnapshot
from energydash.orders.models import Order, Status
from tests.balances.factories import order

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRX = 1_000_000


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def reading(account, minutes: float, balance_trx: float, source: str = "refresh"):
    return BalanceSnapshot.objects.create(
        account=account, balance_sun=int(balance_trx * TRX), taken_at=at(minutes), source=source
    )


def placed(account, minutes: float, cost_trx: float, status: str = Status.COMPLETED, **extra):
    o = order(account, cost_sun=int(cost_trx * TRX), status=status, created=at(minutes - 0.01))
    fields = {"submitted_at": at(minutes), **extra}
    if status in (Status.COMPLETED, Status.REFUNDED, Status.FAILED) and "finished_at" not in extra:
        fields["finished_at"] = at(minutes + 1)
    Order.objects.filter(pk=o.pk).update(**fields)
    return Order.objects.get(pk=o.pk)


def kinds(account, since=None) -> list[tuple[str, int]]:
    ends = BalanceSnapshot.objects.filter(account=account).values_list("taken_at", flat=True)
    return [(iv.kind, iv.residual_sun) for iv in ledger.build_intervals(account, ends)]


# --- unexplained_decrease_sun -------------------------------------------------------------


def test_no_reading_after_since_is_no_evidence(itrx_account):
    reading(itrx_account, 0, 100)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) is None


def test_no_readings_at_all_is_no_evidence(itrx_account):
    assert ledger.unexplained_decrease_sun(itrx_account, at(0)) is None


def test_flat_balance_since_is_zero(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 100)
    assert ledger.unexplained_decrease_sun(itrx_account, at(5)) == 0


def test_charge_without_order_is_counted_in_straddling_interval(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 96)
    # since lies inside the interval: that interval overlaps, so its decrease counts.
    assert ledger.unexplained_decrease_sun(itrx_account, at(5)) == 4 * TRX


def test_confirmed_charge_explains_the_decrease(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 0


def test_unknown_order_does_not_explain_its_own_charge(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.UNKNOWN)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(3)) == 4 * TRX


def test_until_bounds_the_intervals(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 98)  # 2 TRX gone
    reading(itrx_account, 20, 98)
    reading(itrx_account, 30, 95)  # 3 TRX gone, after until
    assert ledger.unexplained_decrease_sun(itrx_account, at(1), at(15)) == 2 * TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 5 * TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(12), at(15)) == 0


def test_top_ups_do_not_offset_decreases(itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 90)
    reading(itrx_account, 20, 90)
    reading(itrx_account, 30, 200)  # a deposit later does not hide the 10 TRX
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 10 * TRX


def test_other_accounts_do_not_count(itrx_account, tronzap_account):
    reading(itrx_account, 0, 100)
    placed(tronzap_account, 3, 4)
    reading(itrx_account, 10, 96)
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 4 * TRX


# --- interval classification --------------------------------------------------------------


def test_an_order_snapshot_explains_its_charge(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4)
    reading(itrx_account, 3.001, 96, source="order")  # recorded right after submitted_at
    reading(itrx_account, 10, 96)
    assert kinds(itrx_account) == [("explained", 0), ("explained", 0)]


def test_a_deposit_is_a_top_up(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 596)  # 500 in, 4 out
    (iv,) = ledger.build_intervals(itrx_account, [at(10)])
    assert (iv.kind, iv.topup_sun, iv.charges_sun, iv.explained_sun) == (
        "topup",
        500 * TRX,
        4 * TRX,
        -4 * TRX,
    )


def test_money_gone_without_an_order_is_a_discrepancy(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 90)  # 6 TRX more than the order
    (iv,) = ledger.build_intervals(itrx_account, [at(10)])
    assert (iv.kind, iv.discrepancy_sun, iv.decrease_sun) == ("discrepancy", 6 * TRX, 6 * TRX)


def test_unknown_orders_are_possible_charges_shown_apart(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.UNKNOWN)
    placed(itrx_account, 4, 2, status=Status.NEEDS_REVIEW)
    reading(itrx_account, 10, 96)  # one of them (4 TRX) was charged
    (iv,) = ledger.build_intervals(itrx_account, [at(10)])
    assert (iv.kind, iv.possible_sun, iv.possible_count, iv.charges_sun) == (
        "possible",
        6 * TRX,
        2,
        0,
    )
    assert iv.discrepancy_sun == 0 and iv.decrease_sun == 4 * TRX


def test_a_decrease_beyond_the_possible_charges_is_a_discrepancy(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.UNKNOWN)
    reading(itrx_account, 10, 90)
    (iv,) = ledger.build_intervals(itrx_account, [at(10)])
    assert (iv.kind, iv.discrepancy_sun) == ("discrepancy", 6 * TRX)


def test_failed_orders_the_provider_refused_charge_nothing(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.FAILED)  # no provider id: refused / not placed
    reading(itrx_account, 10, 100)
    assert kinds(itrx_account) == [("explained", 0)]


def test_a_refund_counts_when_recorded(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.REFUNDED, refund_sun=4 * TRX, finished_at=at(15))
    reading(itrx_account, 10, 96)
    reading(itrx_account, 20, 100)
    assert kinds(itrx_account) == [("explained", 0), ("explained", 0)]


def test_an_accepted_then_failed_order_keeps_its_money_unless_a_refund_is_stated(itrx_account):
    """As orders/money.py counts it: failed after acceptance without a refund figure is kept
    (itrx 0/43); with the provider's refund figure, that figure comes back at finished_at."""
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.FAILED, provider_ref="abc", finished_at=at(15))
    placed(itrx_account, 4, 2, status=Status.FAILED, provider_ref="def", finished_at=at(15))
    Order.objects.filter(provider_ref="def").update(refund_sun=2 * TRX)
    reading(itrx_account, 10, 94)
    reading(itrx_account, 20, 96)
    assert kinds(itrx_account) == [("explained", 0), ("explained", 0)]


def test_a_refund_read_before_it_was_recorded_is_timing_not_a_discrepancy(itrx_account):
    reading(itrx_account, 0, 100)
    placed(itrx_account, 3, 4, status=Status.REFUNDED, refund_sun=4 * TRX, finished_at=at(25))
    reading(itrx_account, 10, 96)
    reading(itrx_account, 20, 100)  # the provider refunded; the poll records it at 25
    reading(itrx_account, 30, 100)
    assert kinds(itrx_account) == [
        ("explained", 0),
        ("timing", 4 * TRX),
        ("timing", -4 * TRX),
    ]
    assert ledger.unexplained_decrease_sun(itrx_account, at(1)) == 0


def test_a_flat_heartbeat_row_does_not_change_the_verdicts(itrx_account):
    from energydash.balances.services import record_balance

    record_balance(itrx_account, 100 * TRX, source="refresh", taken_at=at(0))
    placed(itrx_account, 3, 4)
    record_balance(itrx_account, 96 * TRX, source="order", taken_at=at(3.001))
    for minute in (5, 10, 15, 20):  # flat readings: the newest row slides forward
        record_balance(itrx_account, 96 * TRX, source="refresh", taken_at=at(minute))
    assert BalanceSnapshot.objects.filter(account=itrx_account).count() == 3
    assert [k for k, _ in kinds(itrx_account)] == ["explained", "explained"]


# --- daily summary -------------------------------------------------------------------------


def test_the_daily_summary_adds_up_per_local_day(itrx_account, settings):
    from django.utils import timezone

    settings.TIME_ZONE = "UTC"
    timezone.activate("UTC")
    reading(itrx_account, -60 * 24, 50)  # the day before: opening of the first day
    reading(itrx_account, 0, 100)  # +50 top-up on the 10th
    placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 96)
    reading(itrx_account, 20, 93)  # 3 TRX discrepancy
    placed(itrx_account, 60 * 24 + 5, 2, status=Status.UNKNOWN)
    reading(itrx_account, 60 * 24 + 10, 91)  # the 11th: possibly charged
    days = ledger.daily_summary(itrx_account, 3, now=at(60 * 24 + 30))
    by_day = {d.day.isoformat(): d for d in days}
    assert list(by_day) == ["2026-03-11", "2026-03-10", "2026-03-09"]
    tenth = by_day["2026-03-10"]
    assert (tenth.opening_sun, tenth.closing_sun) == (50 * TRX, 93 * TRX)
    assert (tenth.charges_sun, tenth.refunds_sun) == (4 * TRX, 0)
    assert (tenth.topups_sun, tenth.discrepancies_sun, tenth.intervals) == (50 * TRX, 3 * TRX, 3)
    eleventh = by_day["2026-03-11"]
    assert (eleventh.opening_sun, eleventh.closing_sun) == (93 * TRX, 91 * TRX)
    assert (eleventh.possible_sun, eleventh.discrepancies_sun) == (2 * TRX, 0)
    ninth = by_day["2026-03-09"]
    assert (ninth.opening_sun, ninth.closing_sun, ninth.intervals) == (None, 50 * TRX, 0)


# --- pages ---------------------------------------------------------------------------------


def test_the_ledger_page_shows_each_verdict_with_orders_linked(viewer_client, itrx_account):
    reading(itrx_account, 0, 100)
    o = placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 96)
    reading(itrx_account, 20, 596)
    reading(itrx_account, 30, 590)
    html = viewer_client.get(f"/ledger/{itrx_account.code}/").content.decode()
    assert html.count('data-kind="explained"') == 1
    assert html.count('data-kind="topup"') == 1
    assert html.count('data-kind="discrepancy"') == 1
    assert f"/orders/{o.code}/" in html
    assert "6.000000 TRX unaccounted for" in html
    # newest first
    assert html.index('data-kind="discrepancy"') < html.index('data-kind="explained"')


def test_the_daily_page_and_links(viewer_client, itrx_account):
    reading(itrx_account, 0, 100)
    reading(itrx_account, 10, 96)
    response = viewer_client.get(f"/ledger/{itrx_account.code}/daily/?days=31")
    assert response.status_code == 200
    assert response.content.decode().count("<tr data-day=") == 31
    assert viewer_client.get(f"/ledger/{itrx_account.code}/daily/?days=x").status_code == 200
    ledger_link = f"/ledger/{itrx_account.code}/"
    assert ledger_link in viewer_client.get("/").content.decode()
    assert ledger_link in viewer_client.get("/providers/").content.decode()


def test_the_ledger_needs_a_login(client, itrx_account):
    response = client.get(f"/ledger/{itrx_account.code}/")
    assert response.status_code == 302


def test_the_ledger_schedules_are_created_once(db):
    from django_q.models import Schedule

    from energydash.balances import ledger_checks, schedules

    assert schedules.ensure_schedules()[1:] == [
        ledger_checks.LEDGER_SCHEDULE,
        ledger_checks.SUMMARY_SCHEDULE,
        schedules.RENOTIFY_ALERTS,
    ]
    schedules.ensure_schedules()
    check = Schedule.objects.get(name=ledger_checks.LEDGER_SCHEDULE)
    assert check.func == "energydash.balances.ledger_checks.check_ledger"
    daily = Schedule.objects.get(name=ledger_checks.SUMMARY_SCHEDULE)
    assert daily.schedule_type == Schedule.DAILY
    assert daily.next_run.astimezone(ledger_checks.ITRX_ZONE).hour == 1  # 01:00 at itrx (UTC+8)


def test_the_summary_runs_at_one_in_the_morning_utc_plus_8():
    from energydash.balances.ledger_checks import next_summary_run

    assert next_summary_run(datetime(2026, 3, 10, 16, 30, tzinfo=UTC)) == datetime(
        2026, 3, 10, 17, 0, tzinfo=UTC
    )
    assert next_summary_run(datetime(2026, 3, 10, 17, 0, tzinfo=UTC)) == datetime(
        2026, 3, 11, 17, 0, tzinfo=UTC
    )


# --- the page: only intervals that moved money, unchanged runs folded (issue 25, item 2) ----


def _heartbeats(account, minutes: list[float], balance_trx: float) -> None:
    for minute in minutes:
        reading(account, minute, balance_trx, source="heartbeat")


def test_the_ledger_folds_unchanged_readings_into_one_row(viewer_client, itrx_account, settings):
    from django.utils import timezone

    settings.TIME_ZONE = "UTC"
    timezone.activate("UTC")
    reading(itrx_account, 0, 100)
    o = placed(itrx_account, 3, 4)
    reading(itrx_account, 10, 96)
    _heartbeats(itrx_account, [70 + 60 * i for i in range(12)], 96)  # 13:10 .. 00:10 next day
    reading(itrx_account, 60 * 12 + 20, 90)  # 6 TRX gone without an order
    html = viewer_client.get(f"/ledger/{itrx_account.code}/").content.decode()
    assert html.count('data-kind="unchanged"') == 1
    assert "12 unchanged readings, 12:10–00:10" in html
    assert "2026-03-10 12:10:00 – 03-11 00:10:00" in html
    assert html.count('data-kind="explained"') == 1
    assert html.count('data-kind="discrepancy"') == 1
    assert f"/orders/{o.code}/" in html
    # newest first: the discrepancy, then the quiet run, then the order's interval
    assert (
        html.index('data-kind="discrepancy"')
        < html.index('data-kind="unchanged"')
        < html.index('data-kind="explained"')
    )
    # the toggle lists every interval, none folded
    every = viewer_client.get(f"/ledger/{itrx_account.code}/?show=all").content.decode()
    assert every.count('data-kind="unchanged"') == 0
    assert every.count('data-kind="explained"') == 13
    assert "Show only intervals that moved money" in every
    assert "?show=all" in html


def test_intervals_with_money_moving_are_never_folded(itrx_account):
    reading(itrx_account, 0, 100)
    _heartbeats(itrx_account, [60, 120], 100)
    placed(itrx_account, 125, 4, status=Status.COMPLETED)
    reading(itrx_account, 130, 100)  # charged 4 and a 4 top-up: the balance did not change
    _heartbeats(itrx_account, [190], 100)
    ends = BalanceSnapshot.objects.filter(account=itrx_account).values_list("taken_at", flat=True)
    intervals = ledger.build_intervals(itrx_account, ends)
    ledger.attach_orders(itrx_account, intervals)
    rows = ledger.fold_unchanged(intervals)
    assert [row.kind for row in rows] == ["unchanged", "topup", "unchanged"]
    assert [getattr(row, "readings", None) for row in rows] == [2, None, 1]
    assert (rows[0].started_at, rows[0].ended_at) == (at(0), at(120))


def test_the_ledger_dates_are_one_short_line_in_the_console_zone(
    viewer_client, itrx_account, settings
):
    from django.utils import timezone

    settings.TIME_ZONE = "Asia/Shanghai"
    timezone.activate("Asia/Shanghai")
    reading(itrx_account, 0, 100)  # 20:00 in Shanghai
    reading(itrx_account, 60 * 5, 96)  # 01:00 the next day
    html = viewer_client.get(f"/ledger/{itrx_account.code}/").content.decode()
    assert "2026-03-10 20:00:00 – 03-11 01:00:00" in html
    assert "Asia/Shanghai, UTC+08:00" in html
