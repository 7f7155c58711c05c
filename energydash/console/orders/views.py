from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from energydash.console.http import HtmxHttpRequest
from energydash.console.orders import listing
from energydash.console.orders.forms import (
    ENERGY_PRESETS,
    OrderRequestForm,
    PlaceOrderForm,
    ReviewDecisionForm,
    address_error,
)
from energydash.console.templatetags.money import trx
from energydash.core.ratelimit import quote_refusal
from energydash.core.roles import ADMIN, can_operate, has_role
from energydash.core.second_factor import sudo_refusal
from energydash.orders import chain_evidence, hooks
from energydash.orders import quotes as quote_service
from energydash.orders.approvals import ApprovalRefused, approve, can_decide, expires_at, reject
from energydash.orders.models import Kind, Order, SavedView, Status
from energydash.orders.placement import place_order
from energydash.orders.review import (
    ReopenRefused,
    ReviewRefused,
    can_reopen,
    charge_signs,
    mark_not_placed,
    mark_placed,
    reopen,
)
from energydash.orders.review_check import CHECKABLE, check_now
from energydash.orders.spec import PlacementRefused
from energydash.providers.models import ProviderAccount


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_operate(request.user):
            raise PermissionDenied(gettext("Placing and reviewing orders needs the operator role."))
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def order_list(request: HtmxHttpRequest) -> HttpResponse:
    # Keyset pages, search, sort, page size and totals: console/orders/listing.py.
    context = {
        **listing.list_context(request.GET),
        "attention": Order.objects.filter(status__in=(Status.UNKNOWN, Status.NEEDS_REVIEW)).count(),
        "awaiting": Order.objects.filter(status=Status.AWAITING_APPROVAL).count(),
        "can_operate": can_operate(request.user),
        "saved_views": SavedView.objects.filter(user=request.user),
    }
    template = "orders/list.html#results" if request.htmx else "orders/list.html"
    return render(request, template, context)


@require_GET
def order_newer(request: HtmxHttpRequest) -> HttpResponse:
    """The orders list's poll: rows newer than its first row, added at the top (the poll
    element comes back with the newest row's cursor). 204 when there is nothing new; 286 stops
    the poll where it does not apply (another sort, a later page, bad filters or cursor)."""
    context = listing.newer(request.GET)
    if context is None:
        return HttpResponseStopPolling()
    if not context["rows"]:
        return HttpResponse(status=204)
    return render(request, "orders/list.html#newer", context)


@require_GET
def order_row(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("account"), code=code)
    response = render(request, "orders/list.html#row", {"order": order})
    if order.is_final or order.waits_for_person:
        # 286 tells htmx to stop polling this row; the final row is still swapped in.
        return HttpResponseStopPolling(response.content)
    return response


@require_GET
def order_detail(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("account", "placed_by"), code=code)
    context = {
        "order": order,
        "events": order.events.select_related("actor"),
        "review_form": ReviewDecisionForm(),
        "can_operate": can_operate(request.user),
        "can_reopen": can_reopen(order, request.user),
        "can_decide": can_decide(order, request.user),
        "approval_expires_at": expires_at(order),
        # A fresh one-time key per page: "Try the next cheapest account" routes once per form.
        "retry_token": uuid.uuid4().hex,
    }
    if request.htmx and request.htmx.target == "order-live":
        # The page polls itself while the order is open, like the list rows; 286 stops it.
        response = render(request, "orders/detail.html#live", context)
        if order.is_final or order.waits_for_person:
            return HttpResponseStopPolling(response.content)
        return response
    return render(request, "orders/detail.html", {**context, **_evidence(order)})


def _evidence(order: Order) -> dict[str, Any]:
    """The facts reconciliation weighs, for an order in doubt: read once per full page view
    from what is recorded (the self-refreshing part of the page does not ask again), and no
    provider call; "Check now" asks the provider."""
    if order.status not in CHECKABLE:
        return {}
    return {
        "facts": hooks.review_evidence(order),
        "chain": chain_evidence.review_facts(order),
        "lookups": list(order.events.filter(kind="exchange").order_by("-id")[:3]),
    }


@require_POST
@operator_required
def order_check(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """Check now: a fresh balance reading, the provider's lookup and itrx's summary."""
    order = get_object_or_404(Order.objects.select_related("account"), code=code)
    try:
        words = check_now(order, request.user)
    except Exception as exc:  # unreadable credentials, an unexpected answer: said, not a 500
        messages.error(
            request,
            gettext("The check could not be made (%(problem)s); nothing was changed.")
            % {"problem": exc},
        )
        return redirect("orders:detail", code=order.code)
    messages.info(request, words)
    return redirect("orders:detail", code=order.code)


@require_POST
def order_reopen(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """An admin sends a wrongly decided order back to review, with a reason (audited)."""
    if not has_role(request.user, ADMIN):
        raise PermissionDenied(gettext("Only an admin can reopen a decided order."))
    order = get_object_or_404(Order.objects.select_related("account"), code=code)
    reason = (request.POST.get("reason") or "").strip()[:500]
    try:
        done = reopen(order, request.user, reason)
    except ReopenRefused as exc:
        messages.error(request, gettext("%(problem)s Nothing was changed.") % {"problem": exc})
        return redirect("orders:detail", code=order.code)
    if done:
        messages.success(
            request, gettext("Order %(code)s is back in review.") % {"code": order.short_code}
        )
    else:
        messages.error(
            request, gettext("Someone else changed this order first; nothing was changed.")
        )
    return redirect("orders:detail", code=order.code)


@require_POST
@operator_required
def order_approval(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """Approve (and send) or reject an order awaiting approval; never by whoever placed it."""
    order = get_object_or_404(Order.objects.select_related("account"), code=code)
    decision = request.POST.get("decision")
    comment = request.POST.get("comment") or ""
    try:
        if decision == "approve":
            try:
                seen = int(request.POST.get("seen_cost_sun") or "")
            except ValueError:
                seen = None
            result = approve(order, request.user, comment, seen)
            done, requoted = result.done, result.requoted
        elif decision == "reject":
            done, requoted = reject(order, request.user, comment), False
        else:
            raise ApprovalRefused(gettext("Choose approve or reject. Nothing was changed."))
    except ApprovalRefused as exc:
        messages.error(request, str(exc))
        return redirect("orders:detail", code=order.code)
    if requoted:
        messages.warning(
            request,
            gettext(
                "The price rose to %(amount)s TRX since approval was asked; nothing was sent. "
                "It needs approval again at the new price."
            )
            % {"amount": trx(order.quoted_cost_sun)},
        )
    elif not done:
        messages.error(
            request, gettext("Someone else decided this order first; nothing more was sent.")
        )
    elif decision == "reject":
        messages.success(
            request,
            gettext("Order %(code)s rejected; nothing was sent.") % {"code": order.short_code},
        )
    else:
        order.refresh_from_db()
        _announce(request, order)
    return redirect("orders:detail", code=order.code)


@require_POST
@operator_required
def order_review(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("account"), code=code)
    form = ReviewDecisionForm(request.POST)
    if order.status != Status.NEEDS_REVIEW:
        messages.error(
            request, gettext("This order is not waiting for review; nothing was changed.")
        )
        return redirect("orders:detail", code=order.code)
    if not form.is_valid():
        context = {
            "order": order,
            "events": order.events.select_related("actor"),
            "review_form": form,
            "can_operate": True,
            **_evidence(order),
        }
        return render(request, "orders/detail.html", context)
    data = form.cleaned_data
    # "Not placed" against evidence of a charge (only an admin's call: others are refused below)
    # needs sudo mode; the form is on the order's page, which re-authentication returns to.
    against = data["decision"] == "not_placed" and has_role(request.user, ADMIN)
    if against and charge_signs(order):
        detail = reverse("orders:detail", kwargs={"code": order.code})
        if refused := sudo_refusal(request, next_url=detail):
            return refused
    try:
        if data["decision"] == "placed":
            decision = mark_placed(
                order, request.user, data["provider_ref"], data.get("cost_trx"), data["comment"]
            )
        else:
            decision = mark_not_placed(order, request.user, data["comment"])
    except ReviewRefused as exc:
        messages.error(request, str(exc))
        return redirect("orders:detail", code=order.code)
    if decision:
        found = f" {decision.found}" if decision.found else ""
        now = gettext("Order %(code)s is now %(status)s.") % {
            "code": order.short_code,
            "status": order.get_status_display().lower(),
        }
        messages.success(request, f"{now}{found}")
    else:
        messages.error(
            request, gettext("Someone else changed this order first; nothing was changed.")
        )
    return redirect("orders:detail", code=order.code)


@require_GET
def order_new(request: HtmxHttpRequest) -> HttpResponse:
    form = OrderRequestForm(request.GET or None)
    accounts = list(ProviderAccount.objects.filter(enabled=True))
    rows = []
    refusal = ""
    if form.is_bound and form.is_valid():
        refusal = quote_refusal(request.user)  # per-user limit: each fetch calls every provider
        if not refusal:
            rows = quote_service.compare([form.spec_for(a) for a in accounts])
    context = {
        "form": form,
        "rows": rows,
        "quote_refusal": refusal,
        "can_operate": can_operate(request.user),
        "has_accounts": bool(accounts),
        **_quote_context(form, rows),
    }
    if request.htmx and request.htmx.target == "quotes":
        return render(request, "orders/new.html#quotes", context)  # 200: htmx swaps only 2xx
    return render(request, "orders/new.html", context, status=429 if refusal else 200)


@require_GET
def validate_address(request: HtmxHttpRequest) -> HttpResponse:
    value = (request.GET.get("receive_address") or request.GET.get("to_address") or "").strip()
    problem = address_error(value) if value else ""
    return render(request, "orders/new.html#address-feedback", {"problem": problem, "value": value})


@require_GET
@operator_required
def order_confirm(request: HtmxHttpRequest) -> HttpResponse:
    form = PlaceOrderForm(request.GET)
    if not form.is_valid():
        messages.error(
            request, gettext("Choose a provider account from the quotes before reviewing.")
        )
        return redirect(f"{reverse('orders:new')}?{request.GET.urlencode()}")
    [row] = quote_service.compare([form.spec_for(form.cleaned_data["account"])])
    context = {"form": form, "row": row, "token": uuid.uuid4().hex, **_quote_context(form, [row])}
    return render(request, "orders/confirm.html", context)


@require_POST
@operator_required
def order_place(request: HtmxHttpRequest) -> HttpResponse:
    form = PlaceOrderForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "orders/confirm.html",
            {"form": form, "row": None, "token": request.POST.get("token", "")},
        )
    data = form.cleaned_data
    try:
        order = place_order(
            form.spec_for(data["account"]),
            actor=request.user,
            via="console",
            idempotency_key=data.get("token") or None,
            confirmed_cost_sun=data.get("confirmed_cost_sun"),
        )
    except PlacementRefused as exc:
        [row] = quote_service.compare([form.spec_for(data["account"])])
        context = {
            "form": form,
            "row": row,
            "token": uuid.uuid4().hex,
            "refusal": str(exc),
            **_quote_context(form, [row]),
        }
        return render(request, "orders/confirm.html", context)
    _announce(request, order)
    return redirect("orders:detail", code=order.code)


def _announce(request: HtmxHttpRequest, order: Order) -> None:
    if getattr(order, "replayed", False):
        messages.info(
            request,
            gettext(
                "This order form was already submitted; this is the order it placed. Nothing "
                "more was sent to the provider."
            ),
        )
        return
    if order.status == Status.AWAITING_APPROVAL:
        messages.warning(
            request,
            gettext(
                "%(amount)s TRX is above %(account)s's approval threshold: the order is saved "
                "and nothing was sent. Another operator or admin must approve it on this page."
            )
            % {"amount": trx(order.quoted_cost_sun), "account": order.account.name},
        )
    elif order.status == Status.FAILED:
        messages.error(
            request, gettext("The order failed: %(problem)s") % {"problem": order.last_error}
        )
    elif order.status == Status.NEEDS_REVIEW:
        messages.warning(
            request,
            gettext(
                "The provider's answer was lost and it cannot be looked up: "
                "this order needs review before anything else is sent."
            ),
        )
    elif order.status == Status.UNKNOWN:
        messages.warning(
            request,
            gettext("The provider's answer was lost; reconciling. %(problem)s")
            % {"problem": order.last_error},
        )
    else:
        cost = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
        messages.success(
            request,
            gettext("Order placed with %(account)s: %(amount)s TRX.")
            % {"account": order.account.name, "amount": trx(cost)},
        )


def _quote_context(form: OrderRequestForm, rows: list[quote_service.QuoteRow]) -> dict[str, Any]:
    """What the quotes table and the confirm page need besides the rows themselves.

    A collection order is priced on an estimate of the energy it will use, so its figures are
    shown as "up to"; Review is offered only when at least one account can take the order.
    """
    data = getattr(form, "cleaned_data", None) or {}
    return {
        "energy_presets": ENERGY_PRESETS,
        "can_review": any(row.available for row in rows),
        "is_estimate": data.get("kind") == Kind.COLLECTION,
        "request_energy": data.get("energy"),
        "kind_label": Kind(data["kind"]).label if data.get("kind") in Kind.values else "",
    }
