"""The dashboard's per-account rows and page context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from energydash.balances import chartdata, stats
from energydash.balances.models import AccountBalanceState
from energydash.balances.ranges import RANGES, Range
from energydash.lib.zones import zone_label
from energydash.orders.models import DELIVERY_FAILED, Order
from energydash.providers.models import ProviderAccount

SEED_VIA = "sandbox-seed"  # Order.placed_via of generated sandbox history

OK, LOW, ERROR, UNREAD = "ok", "low", "error", "no balance yet"
# The state column in words; the codes above stay the page's identifiers (CSS classes, tests).
STATUS_LABELS = {
    OK: pgettext_lazy("balance state", "ok"),
    LOW: pgettext_lazy("balance state", "low"),
    ERROR: pgettext_lazy("balance state", "error"),
    UNREAD: _("no balance yet"),
}


@dataclass(frozen=True)
class AccountRow:
    account: ProviderAccount
    state: AccountBalanceState | None
    runway: Decimal | None
    daily_spend_sun: Decimal | None

    @property
    def balance_sun(self) -> int | None:
        return self.state.balance_sun if self.state else None

    @property
    def as_of(self) -> datetime | None:
        return self.state.as_of if self.state else None

    @property
    def error(self) -> str:
        if self.account.credentials_problem:  # known without asking the provider
            return self.account.credentials_problem
        return self.state.last_error if self.state else ""

    @property
    def runway_text(self) -> str:
        if self.balance_sun is None:
            return "—"
        if self.runway is None:
            return gettext("no recent spend")
        return gettext("%(days)s days") % {"days": formats.number_format(self.runway)}

    @property
    def status(self) -> str:
        if self.error:
            return ERROR
        if self.balance_sun is None:
            return UNREAD
        if self.balance_sun < self.account.low_balance_threshold_sun:
            return LOW
        return OK

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


def account_rows(now: datetime | None = None) -> list[AccountRow]:
    spend = stats.daily_spend_by_account(now)
    accounts = ProviderAccount.objects.select_related("balance_state").order_by("-enabled", "name")
    rows = []
    for account in accounts:
        state = getattr(account, "balance_state", None)
        daily = spend.get(account.pk)
        balance = state.balance_sun if state else None
        rows.append(AccountRow(account, state, stats.runway_days(balance, daily), daily))
    return rows


def includes_seed() -> bool:
    return Order.objects.filter(placed_via=SEED_VIA).exists()


def orders_url(status: str) -> str:
    return f"{reverse('orders:list')}?status={status}"


def chart_context(chart_range: Range, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    accounts = ProviderAccount.objects.filter(enabled=True).order_by("name")
    return {
        "range": chart_range,
        "ranges": RANGES.values(),
        "balance_charts": [
            chartdata.balance_chart(a, chart_range, now, chartdata.DASHBOARD_BALANCE_BUCKETS)
            for a in accounts
        ],
        "cost_chart": chartdata.cost_chart(chart_range, now),
        "price_chart": chartdata.price_chart(chart_range, now),
        "includes_seed": includes_seed(),
    }


def delivery_failures() -> int:
    """Orders the chain shows short, missing or reclaimed early (the partial delivery index)."""
    return Order.objects.filter(delivery_status__in=DELIVERY_FAILED).count()


def delivery_failed_url() -> str:
    return f"{reverse('orders:list')}?delivery=failed"


def page_context(chart_range: Range) -> dict[str, Any]:
    now = timezone.now()
    counts = stats.order_counts()
    return {
        "time_zone": zone_label(settings.TIME_ZONE),
        "rows": account_rows(now),
        "totals": stats.spend_totals(now),
        "counts": counts,
        "count_links": [
            (pgettext_lazy("orders", "open"), counts.open, orders_url("open")),
            (pgettext_lazy("orders", "unknown"), counts.unknown, orders_url("unknown")),
            (
                pgettext_lazy("orders", "needs review"),
                counts.needs_review,
                orders_url("needs_review"),
            ),
            (_("delivery failed on chain"), delivery_failures(), delivery_failed_url()),
        ],
        **chart_context(chart_range, now),
    }
