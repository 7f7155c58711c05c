"""Creating an order: charge, activate and record in one transaction, or do nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from energydash.sandbox import faults, money
from energydash.sandbox.callbacks import refusal
from energydash.sandbox.chain_state import record_delegation
from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxCallback, SandboxOrder
from energydash.sandbox.money_models import FAILED_FATES


def place_order(account: SandboxAccount, *, cost_sun: int, **fields: Any) -> SandboxOrder | None:
    """The new order, or None when the balance does not cover cost_sun (nothing changed then;
    account.balance_sun holds the balance seen)."""
    if faults.charges_without_order(account):
        # Fault "charge without an order": the money leaves, no order is recorded, and the
        # caller answers the insufficient-funds refusal as for any None.
        account.charge(cost_sun)
        return None
    with transaction.atomic():
        if not account.charge(cost_sun):
            return None
        if fields.get("activation_sun"):
            SandboxAddress.activate(fields["receive_address"])
        order = SandboxOrder.objects.create(
            account=account, provider=account.provider, cost_sun=cost_sun, **fields
        )
        # What the simulated chain will show once the order completes (its delegated_at).
        record_delegation(order)
        money.plan(order, money.choose_fate(account, order.kind))
        if order.callback_url:
            # A URL outside this console's own callback endpoint is recorded, never called;
            # itrx calls back 40 and 41 only (2.12), so an order ending 0 or 43 gets none.
            refused = refusal(order.callback_url) or _no_callback(order)
            SandboxCallback.objects.create(
                order=order,
                url=order.callback_url,
                next_attempt_at=None if refused else order.delegated_at(),
                last_error=refused,
            )
    return order


def _no_callback(order: SandboxOrder) -> str:
    if order.fate in FAILED_FATES:
        return f"not sent: the order ends {order.get_fate_display()} (callbacks are 40/41 only)"
    return ""
