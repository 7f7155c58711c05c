"""Money figures, aggregated in SQL: spend totals, order counts, daily cost and price per provider.

Everything over days reads the order rollups (balances/rollups.py), never the orders table, so a
dashboard costs the same at ten thousand orders as at a million.

Spend counts the orders whose money is (or may be) gone (orders.models.SPENDING), at their final
cost or, while that is unknown, at the quoted cost. Days are calendar days in settings.TIME_ZONE.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from energydash.balances.models import DailyOrderRollup, HourlyOrderRollup
from energydash.balances.ranges import Range, local_tz, today
from energydash.balances.rollups import bucket_of
from energydash.orders.models import BOUGHT_STATUSES, OPEN, SPEND_STATUSES, Kind, Order, Status
from energydash.orders.money import SPEND
from energydash.providers.models import Provider

RUNWAY_WINDOW_DAYS = 7
BURN = Cast("energy", BigIntegerField()) * F("burn_sun_per_energy")
BOUGHT = Q(status__in=BOUGHT_STATUSES)


def spending() -> QuerySet[Order]:
    """The orders that may count in spend (each counts SPEND: 0 for refused ones)."""
    return Order.objects.filter(status__in=SPEND_STATUSES)


def sum_or_zero(expression, condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=condition), 0, output_field=BigIntegerField())


@dataclass
class ProviderTotals:
    provider: str
    label: str
    today_sun: int = 0
    week_sun: int = 0
    month_sun: int = 0
    energy: int = 0  # energy bought in the last 30 days
    energy_cost_sun: int = 0  # what that energy cost
    burn_sun: int = 0  # what burning TRX for it would have cost

    @property
    def average_price(self) -> Decimal | None:
        """Sun per energy over the last 30 days."""
        if not self.energy:
            return None
        return (Decimal(self.energy_cost_sun) / self.energy).quantize(Decimal("0.01"))

    @property
    def savings_sun(self) -> int:
        return self.burn_sun - self.energy_cost_sun

    def add(self, other: ProviderTotals) -> None:
        for name in ("today_sun", "week_sun", "month_sun", "energy", "energy_cost_sun", "burn_sun"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Totals:
    providers: list[ProviderTotals] = field(default_factory=list)
    overall: ProviderTotals = field(default_factory=lambda: ProviderTotals("", "All providers"))


def spend_totals(now: datetime | None = None) -> Totals:
    """Spend today / 7 days / 30 days, energy, price and savings per provider: one query over
    the daily rollups (about 30 days x accounts x statuses rows, whatever the number of orders)."""
    day = today() if now is None else now.astimezone(local_tz()).date()
    starts = {n: day - timedelta(days=n - 1) for n in (1, 7, 30)}
    energy_rows = Q(kind=Kind.ENERGY)
    bought = energy_rows & BOUGHT
    rows = (
        DailyOrderRollup.objects.filter(day__gte=starts[30], status__in=SPEND_STATUSES)
        .values("account__provider")
        .annotate(
            today_sun=sum_or_zero("spend_sun", Q(day__gte=starts[1])),
            week_sun=sum_or_zero("spend_sun", Q(day__gte=starts[7])),
            month_sun=sum_or_zero("spend_sun"),
            energy_bought=sum_or_zero("energy", bought),
            # Everything energy orders kept, the ones that delivered nothing included: the price
            # of the energy that arrived.
            energy_cost_sun=sum_or_zero("spend_sun", energy_rows),
            burn_total=sum_or_zero("burn_sun", bought),
        )
        .order_by()
    )
    by_provider = {row.pop("account__provider"): row for row in rows}
    for row in by_provider.values():
        row["energy"] = row.pop("energy_bought")
        row["burn_sun"] = row.pop("burn_total")
    totals = Totals()
    for value, label in Provider.choices:
        line = ProviderTotals(value, label, **by_provider.get(value, {}))
        totals.providers.append(line)
        totals.overall.add(line)
    return totals


@dataclass(frozen=True)
class OrderCounts:
    open: int
    unknown: int
    needs_review: int


def order_counts() -> OrderCounts:
    """Open / unknown / needs-review counts from the small partial index on open statuses."""
    rows = (
        Order.objects.filter(status__in=OPEN)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("status", "n")
    )
    by_status = dict(rows)
    return OrderCounts(
        open=sum(by_status.values()),
        unknown=by_status.get(Status.UNKNOWN, 0),
        needs_review=by_status.get(Status.NEEDS_REVIEW, 0),
    )


def daily_spend_by_account(now: datetime | None = None) -> dict[int, Decimal]:
    """Average spend per day over the trailing 7 x 24 hours, per account id.

    Whole local hours come from the hourly rollups; the part of an hour at the window's start
    from the orders themselves (at most one hour of them, through the created index).
    """
    since = (now or timezone.now()) - timedelta(days=RUNWAY_WINDOW_DAYS)
    hour_start, _ = bucket_of(since)
    first_full = hour_start if hour_start == since else hour_start + timedelta(hours=1)
    totals: dict[int, int] = defaultdict(int)
    rollups = (
        HourlyOrderRollup.objects.filter(hour_start__gte=first_full, status__in=SPEND_STATUSES)
        .values("account_id")
        .annotate(total=sum_or_zero("spend_sun"))
        .order_by()
    )
    edge = (
        spending()
        .filter(created__gte=since, created__lt=first_full)
        .values("account_id")
        .annotate(total=sum_or_zero(SPEND))
        .order_by()
    )
    for row in [*rollups, *edge]:
        totals[row["account_id"]] += row["total"]
    return {pk: Decimal(total) / RUNWAY_WINDOW_DAYS for pk, total in totals.items()}


def runway_days(balance_sun: int | None, daily_spend_sun: Decimal | None) -> Decimal | None:
    """Days the balance lasts at the daily spend; None when either is unknown or spend is zero."""
    if balance_sun is None or not daily_spend_sun or daily_spend_sun <= 0:
        return None
    days = Decimal(max(balance_sun, 0)) / daily_spend_sun
    return days.quantize(Decimal("0.1"))


@dataclass
class Series:
    buckets: list[datetime]
    values: dict[str, list[int | Decimal | None]]  # provider label -> one value per bucket


def _rollup_rows(chart_range: Range, buckets: list[datetime], **filters: object) -> QuerySet:
    """Rollup rows of the range, grouped by bucket (local hour or local day) and provider."""
    if chart_range.hourly:
        rows = HourlyOrderRollup.objects.filter(hour_start__gte=buckets[0], **filters)
        return rows.values("hour_start", "account__provider").order_by()
    first_day = buckets[0].astimezone(local_tz()).date()
    rows = DailyOrderRollup.objects.filter(day__gte=first_day, **filters)
    return rows.values("day", "account__provider").order_by()


def _key(chart_range: Range, row: dict) -> object:
    return row["hour_start"].timestamp() if chart_range.hourly else row["day"]


def _keys(chart_range: Range, now: datetime | None) -> tuple[list[datetime], list[object]]:
    buckets = chart_range.buckets(now)
    keys = [b.timestamp() if chart_range.hourly else b.date() for b in buckets]
    return buckets, keys


def cost_per_bucket(chart_range: Range, now: datetime | None = None) -> Series:
    """Spend per day (per hour for 24 h) and provider: one query over the rollups."""
    buckets, keys = _keys(chart_range, now)
    rows = _rollup_rows(chart_range, buckets, status__in=SPEND_STATUSES).annotate(
        total=sum_or_zero("spend_sun")
    )
    found = {(_key(chart_range, r), r["account__provider"]): r["total"] for r in rows}
    values = {
        label: [found.get((key, value), 0) for key in keys] for value, label in Provider.choices
    }
    return Series(buckets, values)


def price_per_bucket(chart_range: Range, now: datetime | None = None) -> Series:
    """Average sun per energy per day (hour) and provider; None where nothing was bought."""
    buckets, keys = _keys(chart_range, now)
    rows = _rollup_rows(chart_range, buckets, status__in=SPEND_STATUSES, kind=Kind.ENERGY).annotate(
        cost_total=sum_or_zero("spend_sun"), energy_total=sum_or_zero("energy", BOUGHT)
    )
    found = {
        (_key(chart_range, r), r["account__provider"]): (
            (Decimal(r["cost_total"]) / r["energy_total"]).quantize(Decimal("0.001"))
            if r["energy_total"]
            else None
        )
        for r in rows
    }
    values = {label: [found.get((key, value)) for key in keys] for value, label in Provider.choices}
    return Series(buckets, values)
