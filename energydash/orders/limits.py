"""Spend limits: checked before any provider call, with the numbers in the refusal."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders.models import SPEND_STATUSES, Order, Status
from energydash.orders.money import SPEND
from energydash.orders.spec import PlacementRefused
from energydash.providers.models import ProviderAccount


def start_of_today(now: datetime | None = None) -> datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    local = (now or timezone.now()).astimezone(tz)
    return datetime.combine(local.date(), time.min, tzinfo=tz)


def spent_today_sun(account: ProviderAccount, now: datetime | None = None) -> int:
    """Money spent or committed today (orders.money.SPEND): what providers kept (cost - refund,
    refunded-in-part and failed-after-charge orders included), and the cost or quoted cost of
    orders still open or unresolved."""
    total = Order.objects.filter(
        account=account, status__in=SPEND_STATUSES, created__gte=start_of_today(now)
    ).aggregate(total=Sum(SPEND))["total"]
    return int(total or 0)


def limit_violation(account: ProviderAccount, cost_sun: int, now: datetime | None = None) -> str:
    """Why an order of cost_sun would break the account's limits, or "" if it would not."""
    if account.max_order_sun is not None and cost_sun > account.max_order_sun:
        return (
            f"This order costs {format_trx(cost_sun)} TRX, above {account.name}'s maximum of "
            f"{format_trx(account.max_order_sun)} TRX per order."
        )
    if account.daily_budget_sun is not None:
        spent = spent_today_sun(account, now)
        if spent + cost_sun > account.daily_budget_sun:
            left = max(account.daily_budget_sun - spent, 0)
            return (
                f"This order costs {format_trx(cost_sun)} TRX but only {format_trx(left)} TRX of "
                f"{account.name}'s daily budget of {format_trx(account.daily_budget_sun)} TRX is "
                f"left today ({format_trx(spent)} TRX spent)."
            )
    return ""


class CapExceeded(PlacementRefused):
    """Refused before sending: the API token's daily spending cap (routing does not fail over:
    every account would break the same cap)."""


def spent_today_via(via: str, now: datetime | None = None) -> int:
    """What orders placed as `via` (an API token: "api:NAME") spent or committed today: their
    spend (orders.money.SPEND), plus the quoted cost of drafts being sent right now. Orders
    awaiting approval reserve nothing: they are counted when approved (under the same lock)."""
    figures = Order.objects.filter(placed_via=via, created__gte=start_of_today(now)).aggregate(
        spend=Sum(SPEND, filter=Q(status__in=SPEND_STATUSES)),
        drafts=Sum("quoted_cost_sun", filter=Q(status=Status.DRAFT)),
    )
    return int(figures["spend"] or 0) + int(figures["drafts"] or 0)


def cap_violation(via: str, cap_sun: int | None, cost_sun: int) -> str:
    """Why an order of cost_sun would break the daily cap of the token placing as `via`."""
    if cap_sun is None:
        return ""
    spent = spent_today_via(via)
    if spent + cost_sun <= cap_sun:
        return ""
    left = max(cap_sun - spent, 0)
    return (
        f"This order costs {format_trx(cost_sun)} TRX but only {format_trx(left)} TRX of the "
        f"API token's daily cap of {format_trx(cap_sun)} TRX is left today "
        f"({format_trx(spent)} TRX spent)."
    )
