"""Creating an order: charge, activate and record in one transaction, or do nothing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from energydash.sandbox import faults
from energydash.sandbox.callbacks import refusal
from energydash.sandbox.chain_state import record_delegation
from energydash.sandbox.models import SandboxAccount, SandboxAddress, SandboxCallback, SandboxOrder


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
        if order.callback_url:
            # A URL outside this console's own callback endpoint is recorded, never called.
            refused = refusal(order.callback_url)
            SandboxCallback.objects.create(
                order=order,
                url=order.callback_url,
                next_attempt_at=None if refused else order.delegated_at(),
                last_error=refused,
            )
    return order
