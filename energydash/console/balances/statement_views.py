"""Monthly statement per provider account: a printable page and a CSV (balances.statements)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_GET

from energydash.balances.statements import Statement, monthly_statement, recent_months
from energydash.lib.spreadsheet import neutralise
from energydash.lib.tron import exact_trx
from energydash.lib.zones import zone_label
from energydash.providers.models import ProviderAccount

# (label, Statement attribute) in the order the page and the CSV show them; the CSV keeps the
# English label, the page translates it.
LINES = (
    (gettext_noop("Opening balance"), "opening_sun"),
    (gettext_noop("Top-ups"), "topups_sun"),
    (gettext_noop("Charges"), "charges_sun"),
    (gettext_noop("Refunds"), "refunds_sun"),
    (gettext_noop("Kept (charges - refunds)"), "kept_sun"),
    (gettext_noop("Discrepancies"), "discrepancies_sun"),
    (gettext_noop("Other (rounding, timing, unresolved orders)"), "other_sun"),
    (gettext_noop("Closing balance"), "closing_sun"),
)


def _month(raw: str | None) -> tuple[date, str]:
    """The month asked for as YYYY-MM, or this month and why the value was not used."""
    this = timezone.localdate().replace(day=1)
    text = (raw or "").strip()
    if not text:
        return this, ""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        chosen = date(int(year), int(month), 1)
    except ValueError:
        return this, gettext("The month must look like 2026-11; showing this month.")
    if chosen > this:
        return this, gettext("That month has not begun; showing this month.")
    return chosen, ""


@require_GET
def statement_view(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    month, problem = _month(request.GET.get("month"))
    statement = monthly_statement(account, month)
    context = {
        "account": account,
        "statement": statement,
        "lines": [(gettext(label), getattr(statement, attr)) for label, attr in LINES],
        "months": recent_months(),
        "problem": problem,
        "time_zone": zone_label(timezone.get_current_timezone_name(), statement.start),
    }
    return render(request, "balances/statement.html", context)


def statement_csv_rows(st: Statement) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["account", "month", "line", "trx", "sun"])
    name = neutralise(st.account.name)
    month = st.month.strftime("%Y-%m")
    for label, attr in LINES:
        sun = getattr(st, attr)
        writer.writerow([name, month, label, exact_trx(sun) or "", "" if sun is None else sun])
    writer.writerow([name, month, "Orders charged", "", st.orders])
    writer.writerow([name, month, "Unresolved orders", "", st.unresolved_orders])
    return buffer.getvalue()


@require_GET
def statement_csv(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    month, problem = _month(request.GET.get("month"))
    if problem and request.GET.get("month"):
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    statement = monthly_statement(account, month)
    response = HttpResponse(statement_csv_rows(statement), content_type="text/csv; charset=utf-8")
    filename = f"statement-{account.code}-{month:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
