"""Money figures, aggregated in SQL: spend totals, order counts, daily cost and price per provider.

Spend counts the orders whose money is (or may be) gone (orders.models.SPENDING), at their final
cost or, while that is unknown, at the quoted cost. Days are calendar days in settings.TIME_ZONE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncHour
from django.utils import timezone

from energydash.balances.ranges import Range, local_midnight, local_tz, today
from energydash.orders.models import OPEN, SPENDING, Kind, Order, Status
from energydash.providers.models import Provider

RUNWAY_WINDOW_DAYS = 7
COST = Coalesce(F("cost_sun"), F("quoted_cost_sun"))
BURN = Cast("energy", BigIntegerField()) * F("burn_sun_per_energy")


def spending() -> QuerySet[Order]:
    return Order.objects.filter(status__in=SPENDING)


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
    """Spend today / 7 days / 30 days, energy, price and savings per provider: one query."""
    day = today() if now is None else now.astimezone(local_tz()).date()
    starts = {n: local_midnight(day - timedelta(days=n - 1)) for n in (1, 7, 30)}
    energy_orders = Q(kind=Kind.ENERGY, energy__isnull=False, created__gte=starts[30])
    rows = (
        spending()
        .filter(created__gte=starts[30])
        .values("account__provider")
        .annotate(
            today_sun=sum_or_zero(COST, Q(created__gte=starts[1])),
            week_sun=sum_or_zero(COST, Q(created__gte=starts[7])),
            month_sun=sum_or_zero(COST),
            energy_bought=sum_or_zero("energy", energy_orders),
            energy_cost_sun=sum_or_zero(COST, energy_orders),
            burn_sun=sum_or_zero(BURN, energy_orders),
        )
    )
    # "energy_bought", not "energy": an annotation named like a field would shadow it in BURN.
    by_provider = {row.pop("account__provider"): row for row in rows}
    for row in by_provider.values():
        row["energy"] = row.pop("energy_bought")
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
    counts = Order.objects.aggregate(
        open=Count("id", filter=Q(status__in=OPEN)),
        unknown=Count("id", filter=Q(status=Status.UNKNOWN)),
        needs_review=Count("id", filter=Q(status=Status.NEEDS_REVIEW)),
    )
    return OrderCounts(**counts)


def daily_spend_by_account(now: datetime | None = None) -> dict[int, Decimal]:
    """Average spend per day over the trailing 7 x 24 hours, per account id (one query)."""
    since = (now or timezone.now()) - timedelta(days=RUNWAY_WINDOW_DAYS)
    rows = (
        spending().filter(created__gte=since).values("account_id").annotate(total=sum_or_zero(COST))
    )
    return {row["account_id"]: Decimal(row["total"]) / RUNWAY_WINDOW_DAYS for row in rows}


def runway_days(balance_sun: int | None, daily_spend_sun: Decimal | None) -> Decimal | None:
    """Days the balance lasts at the daily spend; None when either is unknown or spend is zero."""
    if balance_sun is None or not daily_spend_sun or daily_spend_sun <= 0:
        return None
    days = Decimal(max(balance_sun, 0)) / daily_spend_sun
    return days.quantize(Decimal("0.1"))


def _bucket(chart_range: Range) -> TruncHour | TruncDate:
    if chart_range.hourly:
        return TruncHour("created", tzinfo=local_tz())
    return TruncDate("created", tzinfo=local_tz())


def _bucket_key(value: object) -> object:
    """SQL buckets are dates (daily) or aware datetimes (hourly); compare hourly ones as UTC."""
    return value.timestamp() if isinstance(value, datetime) else value


def _keys(chart_range: Range, now: datetime | None) -> tuple[list[datetime], list[object]]:
    buckets = chart_range.buckets(now)
    keys = [b.timestamp() if chart_range.hourly else b.date() for b in buckets]
    return buckets, keys


@dataclass
class Series:
    buckets: list[datetime]
    values: dict[str, list[int | Decimal | None]]  # provider label -> one value per bucket


def cost_per_bucket(chart_range: Range, now: datetime | None = None) -> Series:
    """Spend per day (per hour for 24 h) and provider: one SQL query grouped by both."""
    buckets, keys = _keys(chart_range, now)
    rows = (
        spending()
        .filter(created__gte=buckets[0])
        .annotate(bucket=_bucket(chart_range))
        .values("bucket", "account__provider")
        .annotate(total=sum_or_zero(COST))
    )
    found = {(_bucket_key(r["bucket"]), r["account__provider"]): r["total"] for r in rows}
    values = {
        label: [found.get((key, value), 0) for key in keys] for value, label in Provider.choices
    }
    return Series(buckets, values)


def price_per_bucket(chart_range: Range, now: datetime | None = None) -> Series:
    """Average sun per energy per day (hour) and provider; None where nothing was bought."""
    buckets, keys = _keys(chart_range, now)
    rows = (
        spending()
        .filter(created__gte=buckets[0], kind=Kind.ENERGY, energy__gt=0)
        .annotate(bucket=_bucket(chart_range))
        .values("bucket", "account__provider")
        .annotate(cost_total=sum_or_zero(COST), energy_total=sum_or_zero("energy"))
    )
    found = {
        (_bucket_key(r["bucket"]), r["account__provider"]): (
            (Decimal(r["cost_total"]) / r["energy_total"]).quantize(Decimal("0.001"))
            if r["energy_total"]
            else None
        )
        for r in rows
    }
    values = {label: [found.get((key, value)) for key in keys] for value, label in Provider.choices}
    return Series(buckets, values)
