"""Context every console page needs: the account notice at the top and the console's zone."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Q
from django.http import HttpRequest

from energydash.balances import channels
from energydash.balances.models import AccountBalanceState
from energydash.core.roles import ADMIN, has_role
from energydash.lib.zones import zone_label

NEW_ORDER_STEPS = ("new", "confirm", "place", "best_price")


def account_notice(request: HttpRequest) -> dict[str, object]:
    """Names of enabled accounts that are low or whose balance refresh is failing.

    One small query per page (one row per troubled account), only for a signed-in user, so an
    operator on any page learns that an account cannot pay before an order fails on it. The
    rule is the dashboard's: a refresh error wins; otherwise balance below threshold is low.
    """
    context: dict[str, object] = {
        "console_time_zone": zone_label(settings.TIME_ZONE),
        # The orders pages the menu counts as "New order" (the rest are "Orders").
        "new_order_steps": NEW_ORDER_STEPS,
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    # The admin-only pages in the menu (the audit trail).
    context["user_is_admin"] = has_role(user, ADMIN)
    # The inbox count in the top bar: alerts nobody acknowledged or resolved (one COUNT).
    context["open_alert_count"] = channels.open_count()
    rows = (
        AccountBalanceState.objects.filter(account__enabled=True)
        .filter(~Q(last_error="") | Q(balance_sun__lt=F("account__low_balance_threshold_sun")))
        .order_by("account__name")
        .values_list("account__name", "last_error")
    )
    failing = [name for name, error in rows if error]
    low = [name for name, error in rows if not error]
    if failing or low:
        context["account_notice"] = {"failing": failing, "low": low}
    return context
