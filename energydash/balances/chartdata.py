"""What the chart templates draw: geometry from lib.charts plus a data table for each chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from energydash.balances import balance_rollups
from energydash.balances.models import BalanceSnapshot
from energydash.balances.ranges import Range, local_tz, row_datetime
from energydash.balances.stats import cost_per_bucket, price_per_bucket
from energydash.lib import charts
from energydash.lib.l10n import localize_digits
from energydash.lib.tron import SUN_PER_TRX, format_trx
from energydash.providers.models import Provider, ProviderAccount

# Colour is never the only cue: each provider also has its own dash and fill pattern.
STYLES = {
    Provider.ITRX.label: {"color": "#0b5fff", "dash": "", "pattern": "solid"},
    Provider.TRONZAP.label: {"color": "#b54708", "dash": "7 4", "pattern": "hatch"},
    Provider.NETTS.label: {"color": "#1f7a3a", "dash": "2 3", "pattern": "dots"},
}
ACCOUNT_STYLE = {"color": "#0b5fff", "dash": "", "pattern": "solid"}
MAX_POINTS = 240  # more would not be visible at the chart's width
BALANCE_BUCKETS = MAX_POINTS // 3  # low, high and last reading of each
# The dashboard draws one small balance chart per account: fewer buckets, the same shape.
DASHBOARD_BALANCE_BUCKETS = 40


@dataclass
class ChartView:
    slug: str  # unique per page: SVG ids and pattern ids are derived from it
    kind: str  # "line" or "bars"
    title: str
    unit: str
    chart: charts.Chart
    legend: list[dict] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def _style(self, name: str) -> dict:
        return next((item for item in self.legend if item["name"] == name), ACCOUNT_STYLE)

    @property
    def styled_lines(self) -> list[dict]:
        return [{"line": line, **self._style(line.name)} for line in self.chart.lines]

    @property
    def styled_bars(self) -> list[dict]:
        return [{"bar": bar, **self._style(bar.series)} for bar in self.chart.bars]

    @property
    def point_count(self) -> int:
        return sum(len(line.markers) for line in self.chart.lines)


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(local_tz()):%Y-%m-%d %H:%M}"


def _day(moment: datetime, hourly: bool) -> str:
    local = moment.astimezone(local_tz())
    return f"{local:%Y-%m-%d %H:00}" if hourly else f"{local:%Y-%m-%d}"


def balance_points(
    account: ProviderAccount, start: datetime, end: datetime, buckets: int = BALANCE_BUCKETS
) -> list[tuple[datetime, int]]:
    """The balance held at `start`, then per time bucket its lowest, highest and last reading.

    Downsampled in SQL (window functions over the (account, taken_at) index range), so a
    90-day history of 5-minute readings never comes into Python: at most 3 rows per bucket do.
    """
    points = _opening(account, start)
    width = max((end - start).total_seconds() / buckets, 1.0)
    ops = connection.ops
    table = ops.quote_name(BalanceSnapshot._meta.db_table)
    if connection.vendor == "postgresql":
        bucket = "FLOOR(EXTRACT(EPOCH FROM (taken_at - %s)) / %s)"
    else:
        bucket = "CAST((julianday(taken_at) - julianday(%s)) * 86400.0 / %s AS INTEGER)"
    sql = (
        "SELECT taken_at, balance_sun FROM ("
        " SELECT id, taken_at, balance_sun,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY balance_sun, taken_at, id) AS low,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY balance_sun DESC, taken_at, id) AS high,"
        "  ROW_NUMBER() OVER (PARTITION BY b ORDER BY taken_at DESC, id DESC) AS last"
        f" FROM (SELECT id, taken_at, balance_sun, {bucket} AS b FROM {table}"
        "  WHERE account_id = %s AND taken_at >= %s AND taken_at <= %s) readings"
        ") ranked WHERE low = 1 OR high = 1 OR last = 1 ORDER BY taken_at, id"
    )
    start_value = ops.adapt_datetimefield_value(start)
    params = [start_value, width, account.pk, start_value, ops.adapt_datetimefield_value(end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    points += [(row_datetime(taken_at), balance) for taken_at, balance in rows]
    return points


def balance_points_from_hours(
    account: ProviderAccount, start: datetime, end: datetime, buckets: int = BALANCE_BUCKETS
) -> list[tuple[datetime, int]]:
    """As balance_points, from the hourly balance rollups: buckets of whole hours from `start`
    (a local midnight for the 7/30/90-day charts), so the page reads ~24 rows per account and
    day however often balances are read (balance_rollups.py)."""
    return _opening(account, start) + balance_rollups.rollup_points(account.pk, start, end, buckets)


def _opening(account: ProviderAccount, start: datetime) -> list[tuple[datetime, int]]:
    """The balance held at `start` (the last reading before it), as the chart's first point."""
    history = BalanceSnapshot.objects.filter(account=account, taken_at__lt=start)
    before = history.order_by("-taken_at", "-id").values_list("balance_sun", flat=True).first()
    return [(start, before)] if before is not None else []


def balance_chart(
    account: ProviderAccount,
    chart_range: Range,
    now: datetime | None = None,
    buckets: int = BALANCE_BUCKETS,
) -> ChartView:
    now = now or timezone.now()
    start = chart_range.start(now)
    if chart_range.hourly:
        points = balance_points(account, start, now, buckets)  # a day of snapshots is small
    else:
        points = balance_points_from_hours(account, start, now, buckets)

    def describe(name: str, at: datetime, value: charts.Number) -> str:
        return gettext("%(name)s: %(amount)s TRX at %(time)s") % {
            "name": name,
            "amount": localize_digits(format_trx(int(value), 2)),
            "time": _local(at),
        }

    chart = charts.line_chart(
        {account.name: points},
        start,
        now,
        local_tz(),
        unit=SUN_PER_TRX,
        step=True,
        title=describe,
        max_points=MAX_POINTS,
    )
    view = ChartView(
        slug=f"balance-{account.code}",
        kind="line",
        title=gettext("Balance of %(account)s") % {"account": account.name},
        unit=pgettext("chart unit", "TRX"),
        chart=chart,
        legend=[{"name": account.name, **ACCOUNT_STYLE}],
        columns=[gettext("Time"), gettext("Balance (TRX)")],
    )
    view.rows = [[_local(at), localize_digits(format_trx(int(v), 2))] for at, v in points]
    return view


def cost_chart(chart_range: Range, now: datetime | None = None) -> ChartView:
    series = cost_per_bucket(chart_range, now)

    def describe(name: str, at: datetime, value: charts.Number) -> str:
        return gettext("%(name)s: %(amount)s TRX on %(day)s") % {
            "name": name,
            "amount": localize_digits(format_trx(int(value), 2)),
            "day": _day(at, chart_range.hourly),
        }

    chart = charts.bar_chart(
        series.buckets,
        series.values,
        local_tz(),
        unit=SUN_PER_TRX,
        hourly=chart_range.hourly,
        title=describe,
    )
    names = list(series.values)
    view = ChartView(
        slug="cost",
        kind="bars",
        title=gettext("Cost per hour by provider")
        if chart_range.hourly
        else gettext("Cost per day by provider"),
        unit=pgettext("chart unit", "TRX"),
        chart=chart,
        legend=[{"name": n, **STYLES[n]} for n in names],
        columns=[
            gettext("Period"),
            *[f"{n} (TRX)" for n in names],
            gettext("Total (TRX)"),
        ],
    )
    for i, bucket in enumerate(series.buckets):
        values = [int(series.values[n][i] or 0) for n in names]
        view.rows.append(
            [_day(bucket, chart_range.hourly)]
            + [localize_digits(format_trx(v, 2)) for v in values]
            + [localize_digits(format_trx(sum(values), 2))]
        )
    return view


def price_chart(chart_range: Range, now: datetime | None = None) -> ChartView:
    series = price_per_bucket(chart_range, now)
    half = timedelta(minutes=30) if chart_range.hourly else timedelta(hours=12)
    points = {
        name: [
            (bucket + half, value)
            for bucket, value in zip(series.buckets, values, strict=True)
            if value is not None
        ]
        for name, values in series.values.items()
    }

    def describe(name: str, at: datetime, value: charts.Number) -> str:
        day = _day(at - half, chart_range.hourly)
        return gettext("%(name)s: %(price)s sun per energy on %(day)s") % {
            "name": name,
            "price": charts.format_number(value),
            "day": day,
        }

    end = series.buckets[-1] + 2 * half
    chart = charts.line_chart(
        points, series.buckets[0], end, local_tz(), include_zero=False, title=describe
    )
    names = list(series.values)
    per_energy = gettext("sun/energy")
    view = ChartView(
        slug="price",
        kind="line",
        title=gettext("Average price by provider"),
        unit=gettext("sun per energy"),
        chart=chart,
        legend=[{"name": n, **STYLES[n]} for n in names],
        columns=[gettext("Period"), *[f"{n} ({per_energy})" for n in names]],
    )
    for i, bucket in enumerate(series.buckets):
        cells = [series.values[n][i] for n in names]
        if any(c is not None for c in cells):
            view.rows.append(
                [_day(bucket, chart_range.hourly)]
                + ["—" if c is None else charts.format_number(Decimal(c)) for c in cells]
            )
    return view
