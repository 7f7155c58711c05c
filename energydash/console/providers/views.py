from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import segno
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from energydash.balances.intervals import TOPUP, build_intervals
from energydash.balances.models import AccountBalanceState, BalanceSnapshot
from energydash.balances.stats import daily_spend_by_account, runway_days
from energydash.console.balances.exports import csv_lines
from energydash.console.http import HtmxHttpRequest
from energydash.core.roles import can_operate
from energydash.lib.spreadsheet import neutralise
from energydash.lib.tron import exact_trx
from energydash.orders import prices
from energydash.orders.limits import spent_today_sun
from energydash.orders.models import PriceSample
from energydash.orders.scorecards import Scorecard, scorecards
from energydash.providers.models import ProviderAccount

# The windows offered on the page; ?hours= takes any whole number of hours in range.
WINDOWS = (1, 24, 24 * 7, 24 * 30)
MAX_HOURS = 24 * 366
HISTORY_ROWS = 200  # the history page shows the newest ones; the CSV has them all


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


@dataclass
class Standing:
    """An account's limits, what is left of today's budget, and how long its balance lasts."""

    account: ProviderAccount
    balance_sun: int | None
    spent_today_sun: int
    daily_spend_sun: Decimal | None
    runway_days: Decimal | None

    @property
    def budget_left_sun(self) -> int | None:
        budget = self.account.daily_budget_sun
        return None if budget is None else max(budget - self.spent_today_sun, 0)


def _standings(accounts: list[ProviderAccount]) -> list[Standing]:
    daily = daily_spend_by_account()
    rows = []
    for a in accounts:
        state = getattr(a, "balance_state", None)
        balance = state.balance_sun if state is not None else None
        spend = daily.get(a.pk)
        rows.append(Standing(a, balance, spent_today_sun(a), spend, runway_days(balance, spend)))
    return rows


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
            "standings": _standings(accounts),
            "scorecards": rows,
            "hours": hours,
            "windows": WINDOWS,
            "window_problem": problem,
        },
    )


@require_GET
def price_board(request: HtmxHttpRequest) -> HttpResponse:
    """The prices of the common sizes per account as the scheduled task last read them
    (orders/prices.py; no provider is asked here), as a fragment the providers page loads
    after it is shown (or as a page without JavaScript)."""
    accounts = list(ProviderAccount.objects.order_by("name"))
    columns = [(e, p, prices.PERIOD_LABELS[p]) for e in prices.SIZES for p in prices.PERIODS]
    rows = prices.board(accounts)
    context = {
        "rows": rows,
        "columns": columns,
        "oldest": prices.oldest_read(rows),
        "board_minutes": prices.board_minutes(),
        "sample_minutes": settings.ENERGYDASH_PRICE_SAMPLE_MINUTES,
    }
    template = "providers/_price_board.html" if request.htmx else "providers/prices.html"
    return render(request, template, context)


@require_GET
def price_history(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    samples = PriceSample.objects.filter(account=account).order_by("-taken_at", "-id")
    return render(
        request,
        "providers/price_history.html",
        {
            "account": account,
            "samples": samples[:HISTORY_ROWS],
            "limit": HISTORY_ROWS,
            "sample_minutes": settings.ENERGYDASH_PRICE_SAMPLE_MINUTES,
        },
    )


@require_GET
def price_history_csv(request: HtmxHttpRequest, code: uuid.UUID) -> StreamingHttpResponse:
    account = get_object_or_404(ProviderAccount, code=code)
    samples = (
        PriceSample.objects.filter(account=account)
        .order_by("-taken_at", "-id")
        .values_list("taken_at", "energy", "period", "total_sun")
    )
    name, provider = neutralise(account.name), account.provider
    tz = timezone.get_current_timezone()
    rows = (
        [
            name,
            provider,
            taken_at.astimezone(tz).isoformat(),
            energy,
            period,
            exact_trx(total),
            total,
        ]
        for taken_at, energy, period, total in samples.iterator(chunk_size=2000)
    )
    header = ["account", "provider", "taken_at", "energy", "period", "price_trx", "price_sun"]
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv")
    filename = f"prices-{account.code}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


TOPUP_DAYS = 90
# Where each provider's deposit address comes from, in words for the top-up page.
DEPOSIT_SOURCES = {
    "tronzap": "TronZap's balance answer (/v1/balance, address)",
    "netts": "Netts's account answer (/apiv2/userinfo, user_info.deposit_address)",
}


def qr_svg(address: str) -> str:
    """The address as a QR code, inline SVG drawn on the server (segno): no script, no CDN."""
    code = segno.make(address, error="m")
    return code.svg_inline(scale=5, dark="#000", light="#fff", title=f"QR code of {address}")


@require_GET
def topup_view(request: HtmxHttpRequest, code: uuid.UUID) -> HttpResponse:
    """Top-up help: where to send TRX to this account, and the top-ups the ledger has seen."""
    account = get_object_or_404(ProviderAccount.objects.select_related("balance_state"), code=code)
    state = AccountBalanceState.objects.filter(account=account).first()
    address = state.deposit_address if state is not None else ""
    since = timezone.now() - timedelta(days=TOPUP_DAYS)
    ends = BalanceSnapshot.objects.filter(account=account, taken_at__gt=since)
    topups = [
        iv
        for iv in build_intervals(account, ends.values_list("taken_at", flat=True))
        if iv.kind == TOPUP
    ]
    topups.reverse()
    return render(
        request,
        "providers/topup.html",
        {
            "account": account,
            "address": address,
            # The address is a validated TRON address (providers/results.deposit_address), and
            # segno escapes the title: safe to place as markup.
            "qr": mark_safe(qr_svg(address)) if address else "",  # noqa: S308
            "source": DEPOSIT_SOURCES.get(account.provider, ""),
            "balance_sun": state.balance_sun if state is not None else None,
            "topups": topups,
            "days": TOPUP_DAYS,
            "can_refresh": can_operate(request.user),
        },
    )
