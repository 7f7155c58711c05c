"""Spend limits: checked before any provider call, with the numbers in the refusal."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders.models import SPEND_STATUSES, Order
from energydash.orders.money import SPEND
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
