"""The orders list's query: filters, search, sort, keyset page and totals, all index-friendly.

Search (one box) matches any part (start, middle or end) of the receive address, our reference,
the provider's order id and the order code's hex: energydash.orders.search (trigram indexes on
PostgreSQL; a scan with INSTR on SQLite, fine at `make run` scale). A search needs 4 characters.

Totals (count, TRX spent, energy) of the filtered rows come from the daily rollups when the
filters are ones the rollups keep (status, account, provider, kind, dates), plus the drafts
(which the rollups leave out) counted from the open-status index: exact at any size.
With a search or an address they are counted by reading at most TOTALS_CAP + 1 matching rows
(`SELECT COUNT(*) FROM (... LIMIT cap + 1)`: the query stops there, whatever the table's size)
and summed from the matching rows only when there are at most TOTALS_CAP of them; otherwise
the count shows as "10,000+" and the sums are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from energydash.balances.models import DailyOrderRollup
from energydash.console.orders.filters import OrderFilterForm, filter_by_order_fields
from energydash.orders import search
from energydash.orders.models import BOUGHT_STATUSES, SPEND_STATUSES, UNSENT, Order
from energydash.orders.money import SPEND
from energydash.orders.paging import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_SORT,
    PAGE_SIZES,
    SORTS,
    BadCursor,
    Sort,
    encode,
    keyset_page,
)

TOTALS_CAP = 10_000
MIN_SEARCH = search.MIN_SEARCH


def filter_orders(form: OrderFilterForm, queryset: QuerySet) -> QuerySet:
    """The form's filters plus its search box (the form must be valid)."""
    queryset = form.filter(queryset)
    text = form.cleaned_data.get("q") or ""
    return queryset.filter(search.search_q(text)) if text else queryset


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
    # Counted over a LIMIT subquery: the scan stops at cap + 1 rows (no semi-join over the
    # whole table, no full count); summed only when the matching rows are known to be few.
    count = queryset.order_by().values("pk")[: TOTALS_CAP + 1].count()
    if count > TOTALS_CAP:
        return Totals(TOTALS_CAP, True, None, None)
    figures = (
        queryset.order_by()
        .filter(status__in=SPEND_STATUSES)
        .aggregate(
            spent=Coalesce(Sum(SPEND), 0),
            energy=Coalesce(Sum("energy", filter=Q(status__in=BOUGHT_STATUSES)), 0),
        )
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
    if sort.name == DEFAULT_SORT and not page.has_previous and not context["cursor_error"]:
        # Page 1, newest first: new orders are added at the top without a reload (newer()).
        since = page.previous_cursor or encode(sort, timezone.now(), 0)
        context["newer_query"] = with_(before=since)
    if page.has_next:
        context["next_query"] = with_(after=page.next_cursor)
    if page.has_previous:
        context["previous_query"] = with_(before=page.previous_cursor)
        context["first_query"] = with_()
    return {**context, **links}


def newer(params: Any) -> dict[str, Any] | None:
    """Orders newer than the list's first row (the `before` cursor), for the list's poll.

    Only for the first page of the default order (newest first) with valid filters; None
    otherwise, and the poll stops. The same filters as the list, then one index range on
    (created, id) above the cursor: at most a page of rows, the ones just above it, newest
    first; the next poll starts from the newest of them.
    """
    form = OrderFilterForm(params)
    sort = SORTS[DEFAULT_SORT]
    if (params.get("sort") or DEFAULT_SORT) != DEFAULT_SORT or params.get("after"):
        return None
    if not params.get("before") or not form.is_valid():
        return None
    size = _int(params.get("size"), DEFAULT_PAGE_SIZE)
    size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
    orders = filter_orders(form, Order.objects.select_related("account", "placed_by"))
    try:
        page = keyset_page(orders, sort, before=params["before"], size=size)
    except BadCursor:
        return None
    since = page.previous_cursor or params["before"]
    with_ = _links(params, sort, size)["with_cursor"]
    return {"rows": page.rows, "newer_query": with_(before=since)}


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
