"""Spend limits: checked before any provider call, with the numbers in the refusal."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders.models import SPENDING, Order
from energydash.providers.models import ProviderAccount


def start_of_today(now: datetime | None = None) -> datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    local = (now or timezone.now()).astimezone(tz)
    return datetime.combine(local.date(), time.min, tzinfo=tz)


def spent_today_sun(account: ProviderAccount, now: datetime | None = None) -> int:
    """Money spent or committed today: final cost where known, else the quoted cost."""
    total = Order.objects.filter(
        account=account, status__in=SPENDING, created__gte=start_of_today(now)
    ).aggregate(total=Sum(Coalesce("cost_sun", "quoted_cost_sun", 0)))["total"]
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
