"""A provider's "insufficient balance" that the known balance contradicts (issue 19).

A refusal normally means nothing was charged. But a provider that takes the money and creates
no order answers exactly that way; when the last balance energydash knows covers the order, the
refusal is doubted on the order (`Order.doubt`) instead of being repeated as "nothing charged".
"""

from __future__ import annotations

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.models import Order
from energydash.providers.base import ProviderError

FUNDS_WORDS = ("insufficient", "not enough balance", "balance is not enough")


def refusal_doubt(order: Order, exc: ProviderError) -> str:
    """Why the refusal's "nothing was charged" is in doubt, in words; "" when it is not."""
    text = f"{exc.message} {exc.code or ''}".lower()
    cost = order.quoted_cost_sun
    if cost is None or not any(words in text for words in FUNDS_WORDS):
        return ""
    balance = hooks.known_balances([order.account]).get(order.account_id)
    if balance is None or balance < cost:
        return ""
    name = order.account.get_provider_display()
    return (
        f"{name} says the balance is insufficient, but the account's last known balance, "
        f"{format_trx(balance)} TRX, covers this order's {format_trx(cost)} TRX. The provider "
        "may have taken money without creating an order: check the account's ledger for a "
        "discrepancy at this time."
    )
