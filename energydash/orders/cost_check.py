"""After placing, and whenever the recorded cost changes: is the charge above what was allowed?

The charge is compared with the order's quote (less the provider's rounding: Netts and TronZap
state TRX to 0.01), the max_cost_trx of the route that placed it (API, batches: exact, no
rounding allowed), the account's maximum per order and its daily budget (spend today, this
order included). Every path that records a charge calls check_charge: the placing answer, a
poll or callback (provider_state.apply_state), reconciliation and Check now (the same), and a
person's Mark as placed (review.mark_placed, with the provider's figure or a typed one).
Limits are checked before sending against the quote; this catches a provider
that then charges more (Netts activating an address on its own, orders of 300k energy or more
filled above the quoted price). An overrun sets the order's cost_flag once, with one conditional
UPDATE from empty: that UPDATE is the one writer, and only its winner hands the alert to the
money layer (orders.hooks.cost_overrun: one alert e-mail per order, however many pollers,
callbacks and placing answers report the cost at once).
"""

from __future__ import annotations

from django.db import transaction

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.limits import spent_today_sun, start_of_today
from energydash.orders.models import Order, Route
from energydash.orders.transitions import note

# The quote is exact sun; a provider that states TRX to two decimals may round its charge up.
QUOTE_ROUNDING_SUN = {"netts": 10_000, "tronzap": 10_000}


def overrun(order: Order) -> str:
    """Why the order's charge is above what was allowed, in words; "" when it is not."""
    cost = order.cost_sun
    if cost is None:
        return ""
    account = order.account
    reasons = []
    quoted = order.quoted_cost_sun
    if quoted is not None and cost > quoted + QUOTE_ROUNDING_SUN.get(account.provider, 0):
        reasons.append(f"above the quote of {format_trx(quoted)} TRX")
    max_cost = route_max_cost(order)
    if max_cost is not None and cost > max_cost:
        reasons.append(f"above the max_cost_trx of {format_trx(max_cost)} TRX it was sent with")
    if account.max_order_sun is not None and cost > account.max_order_sun:
        reasons.append(
            f"above {account.name}'s maximum of {format_trx(account.max_order_sun)} TRX per order"
        )
    if account.daily_budget_sun is not None and order.created >= start_of_today():
        spent = spent_today_sun(account)
        if spent > account.daily_budget_sun:
            reasons.append(
                f"{account.name} has spent {format_trx(spent)} TRX today, above its daily budget "
                f"of {format_trx(account.daily_budget_sun)} TRX"
            )
    if not reasons:
        return ""
    return f"The provider charged {format_trx(cost)} TRX: {'; '.join(reasons)}."


def route_max_cost(order: Order) -> int | None:
    """The max_cost_trx (in sun) of the route that placed the order (API, batches), if any."""
    if order.pk is None:
        return None
    return (
        Route.objects.filter(attempts__order=order, max_cost_sun__isnull=False)
        .values_list("max_cost_sun", flat=True)
        .first()
    )


def check_charge(order: Order, *, label: str) -> bool:
    """Flag the order and alert once if its charge overran; True when this call flagged it."""
    words = overrun(order)
    if not words:
        return False
    with transaction.atomic():
        claimed = Order.objects.filter(pk=order.pk, cost_flag="").update(cost_flag=words[:500])
        if claimed != 1:
            return False  # flagged (and alerted) before, by this or another worker
        order.cost_flag = words[:500]
        note(order, f"Charge above the limits: {words}", label=label)
        hooks.cost_overrun(order, words)
    return True
