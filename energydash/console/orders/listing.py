"""The orders list's query: filters, search, sort, keyset page and totals, all index-friendly.

Search (one box) matches, by prefix, the receive address, our reference and the provider's order
id, and the order code by prefix of its hex (the 8 characters the console shows, or all of it).
Prefix, not substring: `LIKE 'abc%'` walks an index (PostgreSQL: the address has a
varchar_pattern_ops index, reference and provider_ref have Django's `_like` ones; SQLite: a binary
range, see prefix_q), where `%abc%` would read every row. A search needs 4 characters.

Totals (count, TRX spent, energy) of the filtered rows come from the daily rollups when the
filters are ones the rollups keep (status, account, provider, kind, dates), plus the drafts
(which the rollups leave out) counted from the open-status index: exact at any size.
With a search or an address they are summed from the matching rows when there are at most
TOTALS_CAP of them, otherwise the count shows as "10,000+" and the sums are left out.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from energydash.balances.models import DailyOrderRollup
from energydash.console.orders.filters import OrderFilterForm, filter_by_order_fields
from energydash.orders.models import BOUGHT_STATUSES, SPEND_STATUSES, UNSENT, Order
from energydash.orders.money import SPEND
from energydash.orders.paging import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    PAGE_SIZES,
    SORTS,
    BadCursor,
    Sort,
    keyset_page,
)

TOTALS_CAP = 10_000
MIN_SEARCH = 4
_HEX = re.compile(r"[0-9a-f]{4,32}")
_TOP = "\U0010ffff"  # above every character: the end of a prefix range in binary order


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, in a form the database answers from an index."""
    if connection.vendor == "sqlite":
        # SQLite's LIKE is case-insensitive and skips the index; a binary range does not.
        return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + _TOP})
    return Q(**{f"{field}__startswith": prefix})


def code_q(text: str) -> Q | None:
    """Order codes starting with these hex digits (dashes ignored), as a range on the code."""
    digits = text.lower().replace("-", "")
    if not _HEX.fullmatch(digits):
        return None
    low = uuid.UUID(digits.ljust(32, "0"))
    high = uuid.UUID(digits.ljust(32, "f"))
    return Q(code__gte=low, code__lte=high)


def search_q(text: str) -> Q:
    query = prefix_q("receive_address", text) | prefix_q("reference", text)
    query |= prefix_q("provider_ref", text)
    code = code_q(text)
    return query | code if code is not None else query


def filter_orders(form: OrderFilterForm, queryset: QuerySet) -> QuerySet:
    """The form's filters plus its search box (the form must be valid)."""
    queryset = form.filter(queryset)
    text = form.cleaned_data.get("q") or ""
    return queryset.filter(search_q(text)) if text else queryset


@dataclass(frozen=True)
class Totals:
    count: int
    capped: bool  # more than TOTALS_CAP rows and no rollup for them: count is a floor
    spent_sun: int | None  # orders that are or may be charged: final cost, else quoted
    energy: int | None


def totals(form: OrderFilterForm, queryset: QuerySet) -> Totals:
    data = form.cleaned_data
    # The rollups keep no delivery column: a delivery filter is counted from the orders.
    if not data.get("q") and not data.get("address") and not data.get("delivery"):
        # The rollups keep sent orders; drafts (the few being sent right now) and orders
        # awaiting approval are counted from the open-status index. They spend nothing yet, so
        # only the count changes.
        rolled = _rollup_totals(data)
        drafts = queryset.filter(status__in=UNSENT).order_by().count()
        return Totals(rolled.count + drafts, False, rolled.spent_sun, rolled.energy)
    capped = queryset.order_by().values("pk")[: TOTALS_CAP + 1]
    count = Order.objects.filter(pk__in=capped).count()
    if count > TOTALS_CAP:
        return Totals(TOTALS_CAP, True, None, None)
    figures = Order.objects.filter(pk__in=capped, status__in=SPEND_STATUSES).aggregate(
        spent=Coalesce(Sum(SPEND), 0),
        energy=Coalesce(Sum("energy", filter=Q(status__in=BOUGHT_STATUSES)), 0),
    )
    return Totals(count, False, figures["spent"], figures["energy"])


def rollup_rows(data: dict[str, Any]) -> QuerySet:
    """Daily rollup rows matching the filters the rollups keep (not address or search)."""
    rows = filter_by_order_fields(DailyOrderRollup.objects.all(), data)
    if data.get("date_from"):
        rows = rows.filter(day__gte=data["date_from"])
    if data.get("date_to"):
        rows = rows.filter(day__lte=data["date_to"])
    return rows


def _rollup_totals(data: dict[str, Any]) -> Totals:
    rows = rollup_rows(data)
    figures = rows.aggregate(
        count=Coalesce(Sum("orders"), 0),
        spent=Coalesce(Sum("spend_sun", filter=Q(status__in=SPEND_STATUSES)), 0),
        energy=Coalesce(Sum("energy", filter=Q(status__in=BOUGHT_STATUSES)), 0),
        rows=Count("id"),
    )
    return Totals(figures["count"], False, figures["spent"], figures["energy"])


def list_context(params: Any) -> dict[str, Any]:
    """Everything templates/orders/list.html shows for these GET params.

    Invalid filters show their errors and no rows (never "all orders" by surprise).
    """
    form = OrderFilterForm(params or None)
    sort = SORTS.get(params.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    size = _int(params.get("size"), DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    context: dict[str, Any] = {
        "form": form,
        "sort": sort,
        "sorts": SORTS,
        "size": size,
        "page_sizes": PAGE_SIZES,
        "page": None,
        "totals": None,
        "cursor_error": "",
    }
    if form.is_bound and not form.is_valid():
        links = _links(params, sort, size)
        links.pop("with_cursor")
        return {**context, **links}
    if not form.is_bound:
        form = OrderFilterForm({})
        form.is_valid()
        context["form"] = OrderFilterForm()
    orders = filter_orders(form, Order.objects.select_related("account", "placed_by"))
    try:
        page = keyset_page(
            orders,
            sort,
            after=params.get("after") or "",
            before=params.get("before") or "",
            size=size,
        )
    except BadCursor as exc:
        context["cursor_error"] = str(exc)
        page = keyset_page(orders, sort, size=size)
    context["page"] = page
    context["totals"] = totals(form, orders)
    links = _links(params, sort, size)
    with_ = links.pop("with_cursor")
    if page.has_next:
        context["next_query"] = with_(after=page.next_cursor)
    if page.has_previous:
        context["previous_query"] = with_(before=page.previous_cursor)
        context["first_query"] = with_()
    return {**context, **links}


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def _links(params: Any, sort: Sort, size: int) -> dict[str, Any]:
    """Query strings for the pager and the sortable headers (filters kept, cursor dropped)."""
    base = params.copy()
    for name in ("after", "before", "page"):
        base.pop(name, None)
    filters = base.copy()
    for name in ("sort", "size"):
        filters.pop(name, None)

    def with_(**values: Any) -> str:
        query = base.copy()
        for key, value in values.items():
            query[key] = value
        return query.urlencode()

    flips = {}
    for column in ("created", "cost", "energy"):
        current = sort.name.lstrip("-") == column
        flips[column] = with_(sort=column if current and sort.descending else f"-{column}")
    return {
        "query": base.urlencode(),
        "filter_query": filters.urlencode(),
        "sort_links": flips,
        "size_links": {n: with_(size=n) for n in PAGE_SIZES},
        "with_cursor": with_,
    }
