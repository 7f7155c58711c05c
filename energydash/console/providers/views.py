from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from energydash.console.http import HtmxHttpRequest
from energydash.orders.scorecards import Scorecard, scorecards
from energydash.providers.models import ProviderAccount

# The windows offered on the page; ?hours= takes any whole number of hours in range.
WINDOWS = (1, 24, 24 * 7, 24 * 30)
MAX_HOURS = 24 * 366


def _hours(raw: str | None) -> tuple[int, str]:
    """The window asked for, or the default and why the value was not used."""
    default = settings.ENERGYDASH_SCORECARD_WINDOW_HOURS
    if raw is None or raw == "":
        return default, ""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:7]) <= MAX_HOURS:
        return default, gettext(
            "The window must be a whole number of hours from 1 to %(max)s; "
            "showing the last %(default)s h."
        ) % {"max": MAX_HOURS, "default": default}
    return int(text), ""


@require_GET
def account_list(request: HtmxHttpRequest) -> HttpResponse:
    accounts = list(ProviderAccount.objects.select_related("balance_state"))
    hours, problem = _hours(request.GET.get("hours"))
    since = timezone.now() - timedelta(hours=hours)
    cards = scorecards(since)
    rows = [(a, cards.get(a.pk) or Scorecard(account_id=a.pk, since=since)) for a in accounts]
    return render(
        request,
        "providers/list.html",
        {
            "accounts": accounts,
            "scorecards": rows,
            "hours": hours,
            "windows": WINDOWS,
            "window_problem": problem,
        },
    )
