""" "Check now" on an order in review: ask the provider and the ledger once, on a person's request.

The order page shows the evidence from what is already recorded (no provider call on a page
view). A person who wants fresher facts presses Check now: one balance refresh, the provider's
lookup (by our reference where the provider has one, else by the provider's id on record), and
itrx's usage summary; the facts go on the timeline in words. A lookup that finds the order
adopts the provider's record, as reconciliation does.
"""

from __future__ import annotations

from typing import Any

import httpx

from energydash.orders import hooks
from energydash.orders.models import Order, Status
from energydash.orders.provider_state import apply_state
from energydash.orders.transitions import note, record_exchanges
from energydash.providers.base import Adapter, ProviderError
from energydash.providers.registry import adapter_for

CHECKABLE = (Status.NEEDS_REVIEW, Status.UNKNOWN)


def check_now(order: Order, user: Any, *, client: httpx.Client | None = None) -> str:
    """Gather the evidence on `order` now; what was found, in words (also on its timeline)."""
    if order.status not in CHECKABLE:
        return "This order is not waiting for review; nothing was checked."
    label = f"check:{user.get_username()}"[:60]
    adapter = adapter_for(order.account.credentials(), client)
    try:
        lookup, moved = _lookup(order, adapter, user, label)
        if moved:
            return lookup
        balance = hooks.balance_evidence(order, adapter)  # refreshes the balance once
        record_exchanges(order, adapter.exchanges, actor=user, label=label)
        summary = hooks.summary_evidence(order, adapter)
    finally:
        adapter.close()
    facts = [lookup, balance.words]
    if summary is not None:
        facts.append(summary.words)
    words = f"Evidence checked by {user.get_username()}: " + "; ".join(facts) + "."
    note(order, words, actor=user, label=label)
    return words


def _lookup(order: Order, adapter: Adapter, user: Any, label: str) -> tuple[str, bool]:
    """(what the provider said, whether the order moved because it has it)."""
    name = order.account.get_provider_display()
    if order.provider_ref:
        by, kwargs = f"id {order.provider_ref}", {"provider_ref": order.provider_ref}
    elif adapter.supports_reference_lookup:
        by, kwargs = f"our reference {order.reference}", {"reference": order.reference}
    else:
        return f"{name} cannot be searched by our reference (check its dashboard)", False
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(**kwargs)
    except ProviderError as exc:
        record_exchanges(order, adapter.exchanges, actor=user, label=label)
        adapter.exchanges.clear()
        if exc.not_found:
            return f"{name} has no order with {by}", False
        return f"{name} could not be asked for the order with {by} ({exc})", False
    record_exchanges(order, adapter.exchanges, actor=user, label=label)
    adapter.exchanges.clear()
    found = f"{name} has the order with {by} ({state.raw_status or state.status})"
    moved = apply_state(
        order,
        state,
        label=label,
        actor=user,
        message=f"Checked by {user.get_username()}: {found}; its record is applied.",
    )
    return found, moved
