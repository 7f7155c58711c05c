"""The money view: dashboard, charts, manual refresh, alerts list and CSV exports."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from energydash.balances import channels, chartdata, dashboard, passes
from energydash.balances.models import MANUAL, Alert
from energydash.balances.ranges import Range, parse_range
from energydash.balances.tasks import queue_alert_pass
from energydash.console.balances import exports
from energydash.console.http import HtmxHttpRequest
from energydash.core.roles import can_operate
from energydash.core.second_factor import sudo_required
from energydash.providers.models import ProviderAccount


def _partial(request: HtmxHttpRequest) -> bool:
    """An HTMX swap, not a history restore (which needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
def dashboard_view(request: HtmxHttpRequest) -> HttpResponse:
    chart_range = parse_range(request.GET.get("range"))
    if _partial(request):
        context = dashboard.chart_context(chart_range)
        return render(request, "balances/dashboard.html#charts", context)
    context = {**dashboard.page_context(chart_range), "can_refresh": can_operate(request.user)}
    return render(request, "balances/dashboard.html", context)


@require_POST
def refresh_view(request: HtmxHttpRequest) -> HttpResponse:
    if not can_operate(request.user):
        raise PermissionDenied(gettext("Refreshing balances needs the operator role."))
    code = request.POST.get("account")
    accounts = ProviderAccount.objects.filter(enabled=True)
    if code:
        try:
            accounts = accounts.filter(code=uuid.UUID(code))
        except ValueError:  # not an account code at all: say so, refresh nothing
            return HttpResponseBadRequest(gettext("There is no provider account with that code."))
    results = [passes.refresh(a, source=MANUAL) for a in accounts]
    queue_alert_pass("manual refresh")
    if _partial(request):
        context = {"rows": dashboard.account_rows(), "can_refresh": True, "results": results}
        return render(request, "balances/dashboard.html#accounts", context)
    for result in results:
        level = messages.ERROR if result.error else messages.SUCCESS
        messages.add_message(request, level, result.line)
    return redirect("home")


CHARTS = {"cost": chartdata.cost_chart, "price": chartdata.price_chart}


@require_GET
def chart_view(request: HtmxHttpRequest, kind: str) -> HttpResponse:
    if kind not in CHARTS:
        raise Http404(gettext("There is no chart called %(kind)r.") % {"kind": kind})
    chart_range = parse_range(request.GET.get("range"))
    view = CHARTS[kind](chart_range, timezone.now())
    return _render_chart(request, view, chart_range)


@require_GET
def balance_chart_view(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    chart_range = parse_range(request.GET.get("range"))
    view = chartdata.balance_chart(account, chart_range, timezone.now())
    return _render_chart(request, view, chart_range)


def _render_chart(
    request: HtmxHttpRequest, view: chartdata.ChartView, chart_range: Range
) -> HttpResponse:
    context = {
        "view": view,
        "range": chart_range,
        "ranges": dashboard.RANGES.values(),
        "includes_seed": dashboard.includes_seed(),
    }
    template = "balances/chart.html#chart" if _partial(request) else "balances/chart.html"
    return render(request, template, context)


ALERT_STATES = ("open", "acknowledged", "resolved", "all")
ALERT_STATE_LABELS = {
    "open": pgettext_lazy("alerts", "Open"),
    "acknowledged": pgettext_lazy("alerts", "Acknowledged"),
    "resolved": pgettext_lazy("alerts", "Resolved"),
    "all": pgettext_lazy("alerts", "All"),
}


@require_GET
def alert_list(request: HtmxHttpRequest) -> HttpResponse:
    """The inbox: every alert with its state; operators acknowledge and resolve them."""
    state = request.GET.get("state", "all")
    state = state if state in ALERT_STATES else "all"
    alerts = Alert.objects.select_related("account", "acknowledged_by", "resolved_by")
    if state == "open":
        alerts = alerts.filter(acknowledged_at__isnull=True, resolved_at__isnull=True)
    elif state == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False, resolved_at__isnull=True)
    elif state == "resolved":
        alerts = alerts.filter(resolved_at__isnull=False)
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": [{"code": s, "label": ALERT_STATE_LABELS[s]} for s in ALERT_STATES],
        "state_label": ALERT_STATE_LABELS[state],
        "can_operate": can_operate(request.user),
    }
    return render(request, "balances/alerts.html", context)


@require_POST
def alert_action(request: HtmxHttpRequest, pk: int, action: str) -> HttpResponse:
    if not can_operate(request.user):
        raise PermissionDenied(gettext("Only operators and admins acknowledge or resolve alerts."))
    alert = get_object_or_404(Alert, pk=pk)
    if action == "acknowledge":
        done = channels.acknowledge(alert, request.user)
        if done:
            words = gettext("Alert “%(subject)s” acknowledged: no more reminders.")
        else:
            words = gettext("Alert “%(subject)s” was already acknowledged or resolved.")
    elif action == "resolve":
        done = channels.resolve(alert, request.user)
        if done:
            words = gettext("Alert “%(subject)s” resolved.")
        else:
            words = gettext("Alert “%(subject)s” was already resolved.")
    else:
        raise Http404("unknown action")
    (messages.success if done else messages.info)(request, words % {"subject": alert.subject})
    state = request.POST.get("state", "all")
    return redirect(
        f"{reverse('balances:alerts')}?state={state if state in ALERT_STATES else 'all'}"
    )


def _csv(
    request: HtmxHttpRequest, rows_for: Callable[[QueryDict], Iterator[str]], filename: str
) -> HttpResponse:
    try:
        lines = rows_for(request.GET)
    except exports.InvalidFilters as exc:
        return HttpResponseBadRequest(
            gettext("Invalid filters: %(problem)s") % {"problem": exc}, content_type="text/plain"
        )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


@require_GET
@sudo_required  # every order the filters match, possibly all of them: sudo mode first
def orders_csv(request: HtmxHttpRequest) -> HttpResponse:
    return _csv(request, exports.order_rows, "orders")


@require_GET
def daily_cost_csv(request: HtmxHttpRequest) -> HttpResponse:
    return _csv(request, exports.daily_cost_rows, "daily-cost")
