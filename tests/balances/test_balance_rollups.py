"""Hourly balance rollups: kept right by record_balance (compaction included), equal to a
rebuild, and the 7/30/90-day balance charts drawn from them show what the snapshots show."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from energydash.balances import balance_rollups
from energydash.balances.chartdata import balance_points, balance_points_from_hours
from energydash.balances.models import BalanceSnapshot, HourlyBalanceRollup
from energydash.balances.ranges import local_midnight
from energydash.balances.services import record_balance

TRX = 1_000_000


def rollup_rows() -> list[tuple]:
    return list(
        HourlyBalanceRollup.objects.order_by("account_id", "hour_start").values_list(
            "account_id",
            "hour_start",
            "readings",
            "low_sun",
            "low_at",
            "high_sun",
            "high_at",
            "last_sun",
            "last_at",
        )
    )


def test_rollups_follow_inserts_and_compaction_and_equal_a_rebuild(settings, itrx_account):
    settings.ENERGYDASH_BALANCE_HEARTBEAT_MINUTES = 90  # slides can carry a row across hours
    start = local_midnight(datetime(2026, 3, 2).date())
    at = start + timedelta(minutes=7)
    # 700 twice: the second slides forward; 700 at +50 min slides the row out of its hour.
    plan = [(0, 900), (20, 700), (40, 700), (95, 700), (130, 800), (131, 650), (200, 650)]
    for minutes, trx in plan:
        record_balance(
            itrx_account, trx * TRX, source="refresh", taken_at=at + timedelta(minutes=minutes)
        )
    live = rollup_rows()
    # Every hour that still holds a reading has a row, and only those.
    hours = {
        balance_rollups.bucket_of(t)[0]
        for t in BalanceSnapshot.objects.values_list("taken_at", flat=True)
    }
    assert {row[1] for row in live} == hours
    assert BalanceSnapshot.objects.count() < len(plan)  # the compaction did move rows
    first_hour = next(row for row in live if row[1] == start)
    assert (first_hour[3], first_hour[5]) == (700 * TRX, 900 * TRX)  # low and high of 00:00
    assert balance_rollups.rebuild() == len(live)
    assert rollup_rows() == live
    call_command("rebuild_rollups", stdout=open("/dev/null", "w"))
    assert rollup_rows() == live


def test_a_slide_that_empties_an_hour_removes_its_row(settings, itrx_account):
    settings.ENERGYDASH_BALANCE_HEARTBEAT_MINUTES = 120
    at = local_midnight(datetime(2026, 3, 2).date()) + timedelta(minutes=50)
    for minutes in (0, 5, 30):  # change point at 00:50, heartbeat row 00:55 slides to 01:20
        record_balance(
            itrx_account, 5 * TRX, source="refresh", taken_at=at + timedelta(minutes=minutes)
        )
    rows = rollup_rows()
    assert [row[2] for row in rows] == [1, 1]  # one reading in each hour
    assert rows[1][8] == at + timedelta(minutes=30)
    balance_rollups.rebuild()
    assert rollup_rows() == rows


def test_charts_from_hours_show_the_same_low_high_and_last_as_the_snapshots(itrx_account):
    rng = random.Random(9)
    start = local_midnight(datetime(2026, 3, 2).date())
    record_balance(itrx_account, 1_000 * TRX, source="refresh", taken_at=start - timedelta(hours=3))
    moment = start + timedelta(seconds=17)
    balance = 1_000 * TRX
    while moment < start + timedelta(days=3):
        if rng.random() < 0.6:  # repeats exercise the compaction
            balance += rng.randint(-50, 50) * TRX
        record_balance(itrx_account, balance, source="refresh", taken_at=moment)
        moment += timedelta(minutes=rng.randint(3, 11), seconds=rng.randint(0, 59))
    end = start + timedelta(days=3)
    for buckets in (8, 24, 72):  # 9 h, 3 h and 1 h buckets: whole hours, as the charts use
        raw = balance_points(itrx_account, start, end, buckets)
        with CaptureQueriesContext(connection) as queries:
            hourly = balance_points_from_hours(itrx_account, start, end, buckets)
        assert hourly == raw
        assert len(queries) == 2  # the reading before the range, then the hourly rows
    assert hourly[0] == (start, 1_000 * TRX)
    assert hourly[-1][1] == balance
