"""Bringing an order in line with the provider's record of it (a poll, a callback, a lookup).

Every value the provider sends is vetted first (vetting.py); a record that cannot be trusted
changes no status or money field and sends the order to review with the raw text.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders.cost_check import check_charge
from energydash.orders.models import FINAL, Order, Status
from energydash.orders.transitions import note, transition
from energydash.orders.vetting import (
    Vetted,
    raw_text,
    vet_energy,
    vet_raw,
    vet_raw_status,
    vet_ref,
    vet_status,
    vet_sun,
    vet_tx_hashes,
)
from energydash.providers import base
from energydash.providers.base import OrderState

STATUS_FROM_ADAPTER = {
    base.SUBMITTED: Status.SUBMITTED,
    base.DELEGATING: Status.DELEGATING,
    base.COMPLETED: Status.COMPLETED,
    base.FAILED: Status.FAILED,
    base.REFUNDED: Status.REFUNDED,
}


def vet_state(order: Order, state: OrderState) -> tuple[str | None, Vetted]:
    """The order status the provider's record means (None: not known) and the safe fields."""
    vetted = Vetted()
    provider = order.account.provider
    raw_status = vet_raw_status(state.raw_status, vetted)
    vetted.fields["raw_status"] = raw_status
    status = vet_status(state.status, state.raw_status, provider, vetted)
    ref = vet_ref(state.provider_ref, vetted)
    if ref and not order.provider_ref:
        vetted.fields["provider_ref"] = ref
    cost = vet_sun(state.cost_sun, vetted, "cost")
    if cost is not None:
        vetted.fields["cost_sun"] = cost
    refund = vet_sun(state.refund_sun, vetted, "refund")
    if refund is not None:
        paid = cost if cost is not None else order.cost_sun
        if paid is not None and refund > paid:
            vetted.problems.append(
                f"the refund of {format_trx(refund)} TRX is more than the {format_trx(paid)} TRX "
                "paid"
            )
        else:
            vetted.fields["refund_sun"] = refund
    delivered = vet_energy(state.energy_delivered, vetted)
    if delivered is not None:
        vetted.fields["energy_delivered"] = delivered
    hashes = vet_tx_hashes(state.tx_hashes, vetted)
    if hashes:
        vetted.fields["tx_hashes"] = hashes
    vet_raw(state.raw, vetted, provider)
    return (STATUS_FROM_ADAPTER.get(status) if status else None), vetted


def apply_state(
    order: Order,
    state: OrderState,
    *,
    label: str,
    message: str = "",
    actor: Any = None,
    look_again: bool = False,
) -> bool:
    """Bring the order in line with the provider's record. Final orders never move again.

    `look_again` (a callback): an order the record changes and leaves open is due for a look
    now, set by the same UPDATE that records the change (orders/schedule.py).

    Every value is vetted first; a record with anything odd (unknown status, an amount that is
    NaN, huge or negative, an over-long id, junk transaction ids) changes no status or money
    field to garbage: the order goes to needs_review with the reason and the raw record.
    """
    if order.status in FINAL:
        return False
    to_status, vetted = vet_state(order, state)
    fields = vetted.fields
    if order.status == Status.UNKNOWN and order.submitted_at is None:
        fields["submitted_at"] = timezone.now()
    if not vetted.ok:
        return flag_odd_answer(order, vetted, state.raw, label=label, actor=actor, lead=message)
    kept_cost = _keep_recorded_cost(order, fields)
    changed_fields = {k: v for k, v in fields.items() if getattr(order, k) != v}
    if to_status == order.status and not changed_fields:
        return False
    if to_status == order.status:
        text = message
    else:
        text = message or f"Provider reports {state.raw_status or state.status}."
    text = f"{text} {kept_cost}".strip()
    if look_again and to_status not in FINAL:
        fields["next_poll_at"] = timezone.now()
    done = transition(order, to_status, message=text, actor=actor, label=label, **fields)
    if done and "cost_sun" in changed_fields:
        check_charge(order, label=label)
    return done


def _keep_recorded_cost(order: Order, fields: dict[str, Any]) -> str:
    """A recorded cost is never lowered by a later record (Netts's order_check lists activation
    apart from the cost its placing answer said was paid): what the provider gives back is a
    refund, recorded as such. Returns words for the timeline when a lower figure was ignored."""
    reported = fields.get("cost_sun")
    if reported is None or order.cost_sun is None or reported >= order.cost_sun:
        return ""
    del fields["cost_sun"]
    return (
        f"The provider's record states a cost of {format_trx(reported)} TRX, below the "
        f"{format_trx(order.cost_sun)} TRX recorded before, without a refund: the recorded cost "
        "is kept."
    )


def flag_odd_answer(
    order: Order, vetted: Vetted, raw: Any, *, label: str, actor: Any = None, lead: str = ""
) -> bool:
    """Send an order whose provider record cannot be trusted to review, keeping the safe fields
    (an id, valid transaction ids) and the raw record as text on the timeline."""
    reason = vetted.reason()
    safe = {
        k: v
        for k, v in vetted.fields.items()
        if k in ("provider_ref", "tx_hashes", "submitted_at") and getattr(order, k) != v
    }
    text = (
        f"{lead + ' ' if lead else ''}The provider's answer is not usable: {reason}. Raw answer: "
        f"{raw_text(raw)}. Nothing was taken from it but the safe fields; check the order at "
        "the provider, then mark it placed or not placed."
    )
    if order.status == Status.NEEDS_REVIEW:
        note(order, text, actor=actor, label=label)
        return bool(safe) and transition(order, Status.NEEDS_REVIEW, label=label, **safe)
    return transition(
        order,
        Status.NEEDS_REVIEW,
        message=text,
        actor=actor,
        label=label,
        last_error=f"Provider answer not usable: {reason}."[:1000],
        **safe,
    )
