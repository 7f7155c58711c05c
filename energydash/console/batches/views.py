"""Console pages for bulk orders: paste or upload, check, plan, confirm, watch, download."""

from __future__ import annotations

import csv
import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from energydash.batches import approvals, services
from energydash.batches.models import Batch
from energydash.console.batches.forms import BatchForm
from energydash.console.http import HtmxHttpRequest
from energydash.console.orders.views import operator_required
from energydash.core.roles import can_operate
from energydash.lib.spreadsheet import neutralise
from energydash.orders.models import POLLABLE, Status


@require_GET
def batch_list(request: HtmxHttpRequest) -> HttpResponse:
    page = Paginator(Batch.objects.select_related("created_by", "token"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request, "batches/list.html", {"page": page, "can_operate": can_operate(request.user)}
    )


@require_http_methods(["GET", "POST"])
@operator_required
def batch_new(request: HtmxHttpRequest) -> HttpResponse:
    form = BatchForm(request.POST or None, request.FILES or None)
    errors: list[services.LineError] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lines, errors = services.parse(data["text"], data["energy"])
        if not errors and lines:
            batch = services.create_batch(
                lines,
                period=data["period"],
                activate=data["activate"],
                max_cost_sun=data["max_cost_trx"],
                via="console:batch",
                actor=request.user,
            )
            services.plan(batch)
            return redirect("batches:detail", code=batch.code)
        if not lines and not errors:
            form.add_error("addresses", gettext("No addresses found."))
    return render(request, "batches/new.html", {"form": form, "line_errors": errors})


# Orders whose status can still move on their own (the poller): the page keeps refreshing while a
# line's order is one of these, so "Submitted" turns "Completed" without a reload.
_MOVING = (Status.DRAFT, *POLLABLE)


def _context(request: HtmxHttpRequest, batch: Batch) -> dict:
    """The summary and the line table: the page and its poll render both from one read."""
    lines = list(batch.lines.select_related("plan_account", "order"))
    return {
        "batch": batch,
        "progress": services.progress(batch),
        "lines": lines,
        "orders_open": any(line.order and line.order.status in _MOVING for line in lines),
        "can_operate": can_operate(request.user),
        "stalled": services.stalled(batch),
        "can_decide": approvals.can_decide(batch, request.user),
    }


@require_GET
def batch_detail(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(Batch, code=code)
    return render(request, "batches/detail.html", _context(request, batch))


@require_GET
def batch_progress(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(Batch, code=code)
    context = _context(request, batch)
    response = render(request, "batches/detail.html#progress", context)
    settled = not batch.active and batch.status != Batch.Status.PLANNED
    if settled and not context["orders_open"]:
        return HttpResponseStopPolling(response.content)  # 286: htmx stops polling, swaps this
    return response


@require_POST
@operator_required
def batch_start(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(Batch, code=code)
    if services.start(batch):
        if batch.status == Batch.Status.AWAITING:
            messages.warning(
                request,
                gettext(
                    "Batch %(code)s's planned total is above the approval threshold: "
                    "nothing is placed until another operator or admin approves it."
                )
                % {"code": batch.short_code},
            )
        else:
            count = batch.lines.count()
            messages.success(
                request,
                ngettext(
                    "Batch %(code)s is queued: %(count)s order.",
                    "Batch %(code)s is queued: %(count)s orders.",
                    count,
                )
                % {"code": batch.short_code, "count": count},
            )
    else:
        messages.error(
            request,
            gettext("This batch is finished, or a worker is running it now; nothing was changed."),
        )
    return redirect("batches:detail", code=batch.code)


@require_POST
@operator_required
def batch_approval(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """Approve (queue) or reject a batch awaiting approval; never by whoever created it."""
    batch = get_object_or_404(Batch, code=code)
    decision = request.POST.get("decision")
    comment = request.POST.get("comment") or ""
    try:
        if decision == "approve":
            try:
                seen = int(request.POST.get("seen_total_sun") or "")
            except ValueError:
                seen = None
            done = approvals.approve(batch, request.user, comment, seen)
        elif decision == "reject":
            done = approvals.reject(batch, request.user, comment)
        else:
            raise approvals.BatchApprovalRefused(
                gettext("Choose approve or reject. Nothing was changed.")
            )
    except approvals.BatchApprovalRefused as exc:
        messages.error(request, str(exc))
        return redirect("batches:detail", code=batch.code)
    if not done:
        messages.error(
            request, gettext("Someone else decided this batch first; nothing was changed.")
        )
    elif decision == "approve":
        messages.success(
            request, gettext("Batch %(code)s approved and queued.") % {"code": batch.short_code}
        )
    else:
        messages.success(
            request,
            gettext("Batch %(code)s rejected; nothing was placed.") % {"code": batch.short_code},
        )
    return redirect("batches:detail", code=batch.code)


@require_POST
@operator_required
def batch_cancel(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    batch = get_object_or_404(Batch, code=code)
    if services.cancel(batch):
        messages.success(
            request,
            gettext(
                "Cancelling: orders already placed stay placed; the rest will not be sent. "
                "Start it again to place the remaining lines."
            ),
        )
    else:
        messages.error(request, gettext("This batch is not running; nothing was changed."))
    return redirect("batches:detail", code=batch.code)


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def batch_results(request: HtmxHttpRequest, code: uuid.UUID) -> StreamingHttpResponse:
    batch = get_object_or_404(Batch, code=code)
    writer = csv.writer(_Echo())
    rows = [services.RESULT_COLUMNS, *services.result_rows(batch)]
    response = StreamingHttpResponse(
        (writer.writerow([neutralise(c) for c in row]) for row in rows), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="batch-{batch.short_code}.csv"'
    return response
