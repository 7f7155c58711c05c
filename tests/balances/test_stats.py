from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from energydash.balances import stats
from energydash.balances.ranges import RANGES, parse_range
from energydash.orders.models import Status
from tests.balances.factories import order

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def test_daily_cost_is_grouped_by_calendar_day_in_the_operators_time_zone(
    settings, itrx_account, netts_account
):
    settings.TIME_ZONE = "Asia/Shanghai"
    order(itrx_account, cost_sun=1, created=datetime(2026, 3, 8, 23, 30, tzinfo=SHANGHAI))
    order(itrx_account, cost_sun=2, created=datetime(2026, 3, 9, 0, 30, tzinfo=SHANGHAI))
    order(itrx_account, cost_sun=4, created=datetime(2026, 3, 9, 7, 0, tzinfo=SHANGHAI))
    order(netts_account, cost_sun=8, created=datetime(2026, 3, 9, 1, 0, tzinfo=SHANGHAI))
    series = stats.cost_per_bucket(RANGES["7d"], NOW)
    assert [b.date().isoformat() for b in series.buckets][-3:] == [
        "2026-03-08",
        "2026-03-09",
        "2026-03-10",
    ]
    assert series.values["itrx.io"][-3:] == [1, 6, 0]
    assert series.values["Netts"][-3:] == [0, 8, 0]
    assert len(series.buckets) == 7


def test_the_24_hour_range_has_24_hourly_buckets(settings, itrx_account):
    settings.TIME_ZONE = "Asia/Shanghai"
    order(itrx_account, cost_sun=5, created=NOW - timedelta(minutes=30))
    order(itrx_account, cost_sun=7, created=NOW - timedelta(hours=30))  # outside
    series = stats.cost_per_bucket(RANGES["24h"], NOW)
    assert len(series.buckets) == 24
    assert series.values["itrx.io"][-1] == 0 and series.values["itrx.io"][-2] == 5
    assert sum(series.values["itrx.io"]) == 5


def test_unknown_orders_count_at_their_quoted_cost_and_failed_ones_not_at_all(itrx_account):
    order(itrx_account, cost_sun=None, quoted_cost_sun=9, status=Status.UNKNOWN, created=NOW)
    order(itrx_account, cost_sun=100, status=Status.FAILED, created=NOW)
    order(itrx_account, cost_sun=100, status=Status.REFUNDED, created=NOW)
    series = stats.cost_per_bucket(RANGES["7d"], NOW)
    assert sum(series.values["itrx.io"]) == 9


def test_average_price_is_cost_over_energy_per_day_and_provider(settings, tronzap_account):
    settings.TIME_ZONE = "Asia/Shanghai"
    order(tronzap_account, cost_sun=5_230_000, energy=100_000, created=NOW - timedelta(hours=1))
    order(tronzap_account, cost_sun=3_000_000, energy=50_000, created=NOW - timedelta(hours=2))
    order(tronzap_account, cost_sun=1_400_000, energy=None, kind="activation", created=NOW)
    series = stats.price_per_bucket(RANGES["7d"], NOW)
    assert series.values["TronZap"][-1] == Decimal("54.867")
    assert series.values["TronZap"][:-1] == [None] * 6
    assert series.values["itrx.io"] == [None] * 7


def test_runway_is_balance_over_the_trailing_weekly_average(itrx_account):
    order(itrx_account, cost_sun=14_000_000, created=NOW - timedelta(days=3))
    order(itrx_account, cost_sun=99_000_000, created=NOW - timedelta(days=8))
    daily = stats.daily_spend_by_account(NOW)[itrx_account.pk]
    assert daily == 2_000_000
    assert stats.runway_days(5_000_000, daily) == Decimal("2.5")
    assert stats.runway_days(5_000_000, None) is None
    assert stats.runway_days(None, daily) is None
    assert stats.runway_days(-1, daily) == 0


def test_an_unknown_range_is_the_default_30_days():
    assert parse_range("forever").key == "30d"
    assert parse_range(None).key == "30d"
    assert parse_range("90d").days == 90
