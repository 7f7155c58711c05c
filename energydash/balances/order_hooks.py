"""balances' side of orders.hooks: the money work order code hands up, registered at start-up.

BalancesConfig.ready() calls connect(). Orders never import balances; these handlers are how
an order change still moves the rollups in its own transaction, how a balance an order answer
carried is recorded, and how reconciliation and routing read the ledger and the balances.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from energydash.balances import cost_alerts, evidence, ledger_days, rollups
from energydash.balances.models import ORDER, AccountBalanceState, Alert, AlertKind
from energydash.balances.services import record_balance
from energydash.orders import hooks
from energydash.orders.models import Order
from energydash.providers.models import ProviderAccount


def record_order_balance(
    account: ProviderAccount, balance_sun: int, asked_at: datetime | None = None
) -> None:
    """A balance a provider reported with an order (itrx answers with the balance after it);
    asked_at is when that order's request left (a stale answer stays off the history)."""
    record_balance(account, balance_sun, source=ORDER, asked_at=asked_at)


def known_balances(accounts: Collection[ProviderAccount]) -> dict[int, int]:
    """Each account's balance as last recorded: one query for all, no provider call."""
    rows = AccountBalanceState.objects.filter(
        account__in=accounts, balance_sun__isnull=False
    ).values_list("account_id", "balance_sun")
    return dict(rows)


def order_changed(order: Order, from_status: str, to_status: str, fields: Collection[str]) -> None:
    """An order's transition matched: the rollups and the ledger's days follow, in its
    transaction."""
    rollups.on_order_changed(order, from_status, to_status, fields)
    ledger_days.on_order_changed(order, from_status, to_status, fields)


def watch_alert(subject: str, words: str, cap_sun: int) -> None:
    """A watch rule skipped for the price (orders/watch.py, once per episode): into the inbox
    and the alert channels, as a disabled webhook is; not about one account."""
    Alert.objects.create(
        account=None,
        kind=AlertKind.WATCH_PRICE_CAP,
        threshold_sun=cap_sun,
        problem=words[:300],
        subject=subject[:200],
        delivery_error="not e-mailed: sent to the alert channels and shown in the inbox",
    )


def connect() -> None:
    hooks.order_changed.register(order_changed)
    hooks.balance_reported.register(record_order_balance)
    hooks.balance_evidence.register(evidence.balance_evidence)
    hooks.summary_evidence.register(evidence.summary_evidence)
    hooks.review_evidence.register(evidence.review_facts)
    hooks.known_balances.register(known_balances)
    hooks.cost_overrun.register(cost_alerts.cost_overrun)
    hooks.watch_alert.register(watch_alert)
