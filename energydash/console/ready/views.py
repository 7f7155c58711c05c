"""Ready to send in the console: a form on an address, then the check's page, which follows
the worker's progress and gives the answer in words (orders/readiness.py does the work)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseStopPolling

from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.views import operator_required
from energydash.core.roles import can_operate
from energydash.orders.models import ReadyCheck
from energydash.orders.readiness import ReadyRefused, open_check, queue_check

from .forms import ReadyForm


@require_http_methods(["GET", "POST"])
@operator_required
def ready_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = ReadyForm(
            initial={
                "sender": request.GET.get("address", "")[:60],
                "token": uuid.uuid4().hex,
            }
        )
        return render(request, "ready/new.html", {"form": form})
    form = ReadyForm(request.POST)
    if not form.is_valid():
        return render(request, "ready/new.html", {"form": form}, status=422)
    data = form.cleaned_data
    try:
        answer = open_check(
            f"console:{request.user.pk}:{data['token']}",
            data["sender"],
            recipient=data["recipient"] or "",
            usdt=data["usdt"],
            via="console",
            actor=request.user,
        )
    except ReadyRefused as exc:
        form.add_error(None, gettext("%(problem)s; nothing was done.") % {"problem": exc})
        return render(request, "ready/new.html", {"form": form}, status=422)
    if not answer.same_body:
        form.add_error(
            None,
            gettext(
                "This form was already sent for another request; nothing was done. Open it anew."
            ),
        )
        return render(request, "ready/new.html", {"form": form}, status=422)
    if answer.done_here:
        queue_check(answer.check)
    return redirect("ready:detail", pk=answer.check.pk)


@require_GET
def ready_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(
        ReadyCheck.objects.select_related("route__order", "activation_route__order", "actor"),
        pk=pk,
    )
    context = {"check": check, "can_operate": can_operate(request.user)}
    if request.htmx and request.htmx.target == "ready-live":
        response = render(request, "ready/detail.html#live", context)
        return HttpResponseStopPolling(response.content) if check.finished else response
    return render(request, "ready/detail.html", context)
