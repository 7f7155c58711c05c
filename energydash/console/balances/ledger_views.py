"""The ledger pages: intervals between balance readings per account, and a daily summary."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from energydash.balances import ledger
from energydash.balances.models import LedgerFlag
from energydash.lib.zones import zone_label
from energydash.providers.models import ProviderAccount

DAY_CHOICES = (7, 14, 31, 90)


@require_GET
def ledger_view(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    page, intervals = ledger.intervals_page(account, request.GET.get("page"))
    flags = LedgerFlag.objects.filter(account=account).select_related("alert")[:10]
    # By default the intervals that moved money, each run of unchanged ones folded into one
    # row; ?show=all lists every interval.
    show_all = request.GET.get("show") == "all"
    context = {
        "account": account,
        "page": page,
        "rows": intervals if show_all else ledger.fold_unchanged(intervals),
        "show_all": show_all,
        "flags": flags,
        "time_zone": zone_label(timezone.get_current_timezone_name()),
    }
    return render(request, "balances/ledger.html", context)


@require_GET
def ledger_daily_view(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    try:
        days = int(request.GET.get("days", 14))
    except ValueError:
        days = 14
    if days not in DAY_CHOICES:
        days = 14
    context = {
        "account": account,
        "days": ledger.daily_summary(account, days),
        "day_count": days,
        "day_choices": DAY_CHOICES,
        "time_zone": zone_label(timezone.get_current_timezone_name()),
    }
    return render(request, "balances/ledger_daily.html", context)
