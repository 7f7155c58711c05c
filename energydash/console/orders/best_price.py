"""The console's "best price" choice: route the order like the API does, with failover.

GET shows the routing plan (accounts in the order they would be tried, with the reasons others
cannot take it) and a one-time token; POST routes once per token, so a double click or a
browser retry cannot buy twice.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.forms import OrderRequestForm
from energydash.console.orders.views import operator_required
from energydash.orders.models import Kind, Order, Status
from energydash.orders.routing import Route, RouteRequest, candidates, route_order


def _request(form: OrderRequestForm) -> RouteRequest:
    data = form.cleaned_data
    return RouteRequest(
        receive_address=data["receive_address"],
        energy=data["energy"],
        period=data.get("period") or "1H",
        activate=bool(data.get("activate")),
    )


@require_http_methods(["GET", "POST"])
@operator_required
def best_price(request: HtmxHttpRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    form = OrderRequestForm(source)
    if not form.is_valid() or form.cleaned_data["kind"] != Kind.ENERGY:
        messages.error(
            request,
            gettext("Best-price routing is for energy rentals: check the request and try again."),
        )
        return redirect("orders:new")
    wanted = _request(form)
    token = source.get("token", "")
    if request.method == "POST" and token:
        route, _same = route_order(
            f"console:{token[:64]}", wanted, via="console", actor=request.user, wait_seconds=30
        )
        if route.order_id:
            _routed_messages(request, route, gettext("best price"))
            return redirect("orders:detail", code=route.order.code)
        messages.error(request, route.problem or gettext("No account could take this order."))
    rows = candidates(wanted)
    context = {"form": form, "rows": rows, "token": uuid.uuid4().hex, "wanted": wanted}
    return render(request, "orders/best_price.html", context)


def _routed_messages(request: HtmxHttpRequest, route: Route, how: str) -> None:
    account = route.order.account.name
    if route.status == Route.Status.PLACED:
        messages.success(
            request, gettext("Placed at %(account)s (%(how)s).") % {"account": account, "how": how}
        )
    elif route.status == Route.Status.AWAITING:
        messages.warning(
            request,
            gettext(
                "Above %(account)s's approval threshold: saved, nothing was sent. "
                "Another operator or admin must approve it."
            )
            % {"account": account},
        )
    else:
        messages.warning(
            request,
            gettext("Not placed as hoped: %(problem)s") % {"problem": route.order.last_error},
        )


@require_POST
@operator_required
def retry_elsewhere(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """A failed order's "Try the next cheapest account": the same request routed like any
    best-price order (limits, approvals, failover), never to the account that failed it.

    The form's one-time token is the route's key (a new idempotency key, not the failed
    order's): a double click or a browser retry of the same form routes once.
    """
    failed = get_object_or_404(Order.objects.select_related("account"), code=code)
    token = request.POST.get("token", "")
    if failed.status != Status.FAILED or not token:
        messages.error(request, gettext("Only a failed order can be tried at another account."))
        return redirect("orders:detail", code=failed.code)
    wanted = RouteRequest(
        receive_address=failed.receive_address,
        energy=failed.energy,
        period=failed.period or "1H",
        activate=failed.activate,
        kind=failed.kind,
        to_address=failed.to_address,
    )
    route, same = route_order(
        f"console-retry:{token[:64]}",
        wanted,
        via="console",
        actor=request.user,
        wait_seconds=30,
        exclude=frozenset({failed.account_id}),
    )
    if not same:
        messages.error(request, gettext("This retry form was already used for another order."))
        return redirect("orders:detail", code=failed.code)
    if route.order_id:
        _routed_messages(
            request,
            route,
            gettext("next cheapest after %(account)s") % {"account": failed.account.name},
        )
        return redirect("orders:detail", code=route.order.code)
    messages.error(request, route.problem or gettext("No other account can take it."))
    return redirect("orders:detail", code=failed.code)
