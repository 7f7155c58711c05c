"""Saved views of the orders list (a named filter per person) and actions on selected rows.

Saved views store the list's query string, filters checked by the list's own form (only its
fields, sort and page size are kept), one person's own: others' views are never listed, used or
deleted. Bulk actions take the codes of the rows ticked on one page (at most the largest page):

- export: the selected orders as the orders CSV (same columns as the full export);
- not placed: the review decision "not placed" on each selected needs-review order, by exactly
  the path one order's review takes (orders/review.py mark_not_placed: the operator role, the
  evidence refusal, an admin's written reason and sudo mode against evidence), each order in its
  own transaction, with a result per row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from energydash.console.balances.exports import EXPORT_ORDER, selected_order_lines
from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.filters import OrderFilterForm
from energydash.core.roles import ADMIN, can_operate, has_role
from energydash.core.second_factor import sudo_refusal
from energydash.orders.models import Order, SavedView, Status
from energydash.orders.paging import PAGE_SIZES, SORTS
from energydash.orders.review import ReviewRefused, charge_signs, mark_not_placed

MAX_VIEWS = 50
MAX_SELECTED = max(PAGE_SIZES)


def _clean_query(raw: str) -> tuple[str, str]:
    """The list's filters from a query string, as kept for a saved view, or a problem."""
    params = QueryDict(raw[:1000])
    form = OrderFilterForm(params)
    if not form.is_valid():
        return "", gettext("These filters are not valid, so they were not saved.")
    kept = QueryDict(mutable=True)
    for name in form.fields:
        for value in params.getlist(name):
            if value:
                kept.appendlist(name, value)
    if params.get("sort") in SORTS:
        kept["sort"] = params["sort"]
    if params.get("size", "").isdigit() and int(params["size"]) in PAGE_SIZES:
        kept["size"] = params["size"]
    return kept.urlencode(), ""


@require_POST
def view_save(request: HtmxHttpRequest) -> HttpResponse:
    name = " ".join((request.POST.get("name") or "").split())
    query, problem = _clean_query(request.POST.get("query") or "")
    back = f"{reverse('orders:list')}?{query}" if query else reverse("orders:list")
    if not name or len(name) > 60:
        problem = problem or gettext(
            "Give the view a name of 1 to 60 characters; nothing was saved."
        )
    elif SavedView.objects.filter(user=request.user).count() >= MAX_VIEWS:
        problem = gettext(
            "You have %(count)s saved views; delete one first. Nothing was saved."
        ) % {"count": MAX_VIEWS}
    if problem:
        messages.error(request, problem)
        return redirect(back)
    try:
        with transaction.atomic():
            SavedView.objects.create(user=request.user, name=name, query=query)
    except IntegrityError:
        messages.error(
            request,
            gettext("You already have a view named “%(name)s”; nothing was saved.")
            % {"name": name},
        )
        return redirect(back)
    messages.success(request, gettext("Saved the view “%(name)s”.") % {"name": name})
    return redirect(back)


@require_POST
def view_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, user=request.user)  # never another's
    view.delete()
    messages.success(request, gettext("Deleted the view “%(name)s”.") % {"name": view.name})
    return redirect("orders:list")


@dataclass
class RowResult:
    order: Order
    done: bool
    words: str


def _selected(request: HtmxHttpRequest) -> list[Order] | None:
    raw = request.POST.getlist("order")
    if not raw or len(raw) > MAX_SELECTED:
        return None
    try:
        codes = {uuid.UUID(c) for c in raw}
    except ValueError:
        return None
    orders = list(
        Order.objects.filter(code__in=codes).select_related("account").order_by(*EXPORT_ORDER)
    )
    return orders if len(orders) == len(codes) else None


@require_POST
def bulk_action(request: HtmxHttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    orders = _selected(request)
    if orders is None:
        return HttpResponseBadRequest(
            gettext("Select 1 to %(max)s orders of the list; nothing was done.")
            % {"max": MAX_SELECTED},
            content_type="text/plain; charset=utf-8",
        )
    if action == "export":
        return _export(orders)
    if action == "not_placed":
        return _not_placed(request, orders)
    return HttpResponseBadRequest("Unknown action; nothing was done.", content_type="text/plain")


def _export(orders: list[Order]) -> StreamingHttpResponse:
    lines = selected_order_lines(Order.objects.filter(pk__in=[o.pk for o in orders]))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="orders-selected-{stamp}.csv"'
    return response


def _not_placed(request: HtmxHttpRequest, orders: list[Order]) -> HttpResponse:
    if not can_operate(request.user):
        raise PermissionDenied(gettext("Placing and reviewing orders needs the operator role."))
    comment = (request.POST.get("comment") or "").strip()[:500]
    # As on one order's page: "not placed" against evidence of a charge is an admin's decision
    # in sudo mode; ask before deciding any of them (nothing is changed on the way).
    if has_role(request.user, ADMIN) and any(
        o.status == Status.NEEDS_REVIEW and charge_signs(o) for o in orders
    ):
        if refused := sudo_refusal(request, next_url=reverse("orders:list")):
            return refused
    results = []
    for order in orders:
        results.append(_decide(order, request.user, comment))
    return render(request, "orders/bulk_result.html", {"results": results})


def _decide(order: Order, user: object, comment: str) -> RowResult:
    if order.status != Status.NEEDS_REVIEW:
        return RowResult(order, False, gettext("Not waiting for review; nothing was changed."))
    try:
        with transaction.atomic():
            decision = mark_not_placed(order, user, comment)
    except ReviewRefused as exc:
        return RowResult(order, False, str(exc))
    if not decision:
        return RowResult(
            order, False, gettext("Someone else changed this order first; nothing was changed.")
        )
    return RowResult(order, True, gettext("Marked not placed."))
