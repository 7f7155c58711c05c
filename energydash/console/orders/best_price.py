"""The console's "best price" choice: route the order like the API does, with failover.

GET shows the routing plan (accounts in the order they would be tried, with the reasons others
cannot take it) and a one-time token; POST routes once per token, so a double click or a
browser retry cannot buy twice.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.forms import OrderRequestForm
from energydash.console.orders.views import operator_required
from energydash.orders.models import Kind
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
            if route.status == Route.Status.PLACED:
                messages.success(
                    request,
                    gettext("Placed at %(account)s (best price).")
                    % {"account": route.order.account.name},
                )
            elif route.status == Route.Status.AWAITING:
                messages.warning(
                    request,
                    gettext(
                        "Above %(account)s's approval threshold: saved, nothing was sent. "
                        "Another operator or admin must approve it."
                    )
                    % {"account": route.order.account.name},
                )
            else:
                messages.warning(
                    request,
                    gettext("Not placed as hoped: %(problem)s")
                    % {"problem": route.order.last_error},
                )
            return redirect("orders:detail", code=route.order.code)
        messages.error(request, route.problem or gettext("No account could take this order."))
    rows = candidates(wanted)
    context = {"form": form, "rows": rows, "token": uuid.uuid4().hex, "wanted": wanted}
    return render(request, "orders/best_price.html", context)
