"""CSV exports, streamed row by row so a year of orders never sits in memory at once."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from energydash.balances.forms import OrderFilterForm
from energydash.balances.ranges import local_tz
from energydash.balances.stats import COST, spending, sum_or_zero
from energydash.lib.tron import format_trx
from energydash.orders.models import Order

CHUNK = 2000
ORDER_COLUMNS = [
    ("created", "created"),
    ("code", "code"),
    ("account__name", "account"),
    ("account__provider", "provider"),
    ("kind", "kind"),
    ("status", "status"),
    ("receive_address", "receive_address"),
    ("energy", "energy"),
    ("period", "period"),
    ("quoted_cost_sun", "quoted_cost_sun"),
    ("cost_sun", "cost_sun"),
    ("unit_price_sun", "unit_price_sun"),
    ("burn_sun_per_energy", "burn_sun_per_energy"),
    ("refund_sun", "refund_sun"),
    ("provider_ref", "provider_ref"),
    ("reference", "reference"),
    ("placed_via", "placed_via"),
]


class InvalidFilters(ValueError):
    def __init__(self, form: OrderFilterForm) -> None:
        self.form = form
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        super().__init__(errors)


def filtered_orders(params: Mapping[str, Any], queryset: QuerySet | None = None) -> QuerySet:
    """The orders the list shows for these GET params; raises InvalidFilters on a bad filter
    (an export must never silently widen to more rows than the operator asked for)."""
    form = OrderFilterForm(params)
    if not form.is_valid():
        raise InvalidFilters(form)
    return form.filter(Order.objects.all() if queryset is None else queryset)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(local_tz()).isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # keep spreadsheets from evaluating a name as a formula
    return "" if value is None else value


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_cell(v) for v in row])


def order_rows(params: Mapping[str, Any]) -> Iterator[str]:
    fields = [f for f, _ in ORDER_COLUMNS]
    orders = filtered_orders(params).order_by("created", "id").values_list(*fields)
    return csv_lines([h for _, h in ORDER_COLUMNS], orders.iterator(chunk_size=CHUNK))


def daily_cost_rows(params: Mapping[str, Any]) -> Iterator[str]:
    """Spend per local calendar day and account (one grouped query), with the list's filters."""
    rows = (
        filtered_orders(params, spending())
        .annotate(day=TruncDate("created", tzinfo=local_tz()))
        .values("day", "account__name", "account__provider")
        .annotate(
            order_count=Count("id"),
            energy_total=sum_or_zero("energy"),
            cost_total=sum_or_zero(COST),
        )
        .order_by("day", "account__name")
        .values_list(
            "day", "account__name", "account__provider", "order_count", "energy_total", "cost_total"
        )
    )
    header = ["date", "account", "provider", "orders", "energy", "cost_sun", "cost_trx"]
    return csv_lines(
        header,
        ((*row, format_trx(row[-1]).replace(",", "")) for row in rows.iterator(chunk_size=CHUNK)),
    )
