"""Recording what a placing request came back with; the order never stays a draft.

Accepted: the provider's values are vetted, then stored (an answer that cannot be trusted sends
the order to review, since the provider may have charged). Refused: failed, nothing charged.
Lost or unreadable: `unknown`, looked up by our reference at once (reconciliation.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.cost_check import check_charge
from energydash.orders.models import Order, Status
from energydash.orders.reconciliation import reconcile
from energydash.orders.refusal_doubt import refusal_doubt
from energydash.orders.transitions import note, transition
from energydash.orders.vetting import (
    Vetted,
    raw_text,
    recognised_raw_status,
    vet_raw,
    vet_raw_status,
    vet_ref,
    vet_sun,
    vet_tx_hashes,
)
from energydash.providers import base
from energydash.providers.base import Adapter, PlacedOrder, ProviderError

logger = logging.getLogger("energydash.orders")

FIRST_POLL_SECONDS = 2  # then polling.next_delay: every 2-3 s while the order is young


def to_review_after_send(
    order: Order, placed: PlacedOrder, exc: Exception, actor: Any, via: str
) -> None:
    reason = f"its answer could not be recorded ({type(exc).__name__})"
    _leave_draft(
        order,
        Status.NEEDS_REVIEW,
        actor=actor,
        label=via,
        message=(
            f"The provider accepted this order (it may have charged), but {reason}. Its answer "
            f"was: {raw_text(placed.raw)}. Check the provider's dashboard, then mark it placed "
            "or not placed."
        ),
        last_error=f"Accepted by the provider, but {reason}.",
        submitted_at=timezone.now(),
    )


def _leave_draft(order: Order, to_status: str, **kwargs: Any) -> bool:
    """Move an order that this request sent out of `draft`.

    A slow provider can outlast DRAFT_GRACE, and then the poller has already moved the draft on
    (to unknown, or to review): the provider's answer is still the best fact, so it is applied
    to whatever open status the order has now. An order meanwhile concluded "not placed" that
    the provider did accept goes back to review rather than staying failed.
    """
    if transition(order, to_status, expected=Status.DRAFT, **kwargs):
        return True
    current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
    if current in (Status.UNKNOWN, Status.NEEDS_REVIEW):
        order.status = current
        return transition(order, to_status, expected=current, **kwargs)
    if current == Status.FAILED and to_status != Status.FAILED:
        order.status = current
        message = kwargs.pop("message", "")
        return transition(
            order,
            Status.NEEDS_REVIEW,
            expected=current,
            message=(
                "The provider's answer to the placing request arrived after this order was "
                f"closed as failed: {message} Check the provider and decide again."
            ),
            **{k: v for k, v in kwargs.items() if k != "next_poll_at"},
        )
    order.refresh_from_db()
    return False


def vet_placed(order: Order, placed: PlacedOrder) -> Vetted:
    """The placing answer's values that are safe to store, and any problems in words."""
    vetted = Vetted()
    ref = vet_ref(placed.provider_ref, vetted)
    if ref is None and not vetted.problems:
        vetted.problems.append("the provider gave no order id")
    if ref:
        vetted.fields["provider_ref"] = ref
    vetted.fields["raw_status"] = vet_raw_status(placed.raw_status, vetted)
    if placed.status not in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED) or (
        order.account.provider == "tronzap"
        and not recognised_raw_status(order.account.provider, placed.raw_status)
    ):
        # itrx and Netts answer a placement without a status of their own; TronZap sends one.
        vetted.problems.append(
            f"the provider answered with status {raw_text(placed.raw_status, 60)}, which "
            "energydash does not know"
        )
    for name, value in (
        ("cost_sun", placed.cost_sun),
        ("balance_after_sun", placed.balance_after_sun),
    ):
        words = "cost" if name == "cost_sun" else "balance after the order"
        amount = vet_sun(value, vetted, words)
        if amount is not None:
            vetted.fields[name] = amount
    hashes = vet_tx_hashes(placed.tx_hashes, vetted)
    if hashes:
        vetted.fields["tx_hashes"] = hashes
    vet_raw(placed.raw, vetted, order.account.provider)
    return vetted


def record_placed(order: Order, placed: PlacedOrder, actor: Any, via: str) -> None:
    now = timezone.now()
    vetted = vet_placed(order, placed)
    fields: dict[str, Any] = {
        **vetted.fields,
        "submitted_at": now,
        "next_poll_at": now + timedelta(seconds=FIRST_POLL_SECONDS),
    }
    if not vetted.ok:
        reason = vetted.reason()
        _leave_draft(
            order,
            Status.NEEDS_REVIEW,
            actor=actor,
            label=via,
            message=(
                f"The provider accepted this order (it may have charged), but its answer is "
                f"not usable: {reason}. Raw answer: {raw_text(placed.raw)}. Check the provider's "
                "dashboard, then mark it placed (with its order id) or not placed."
            ),
            last_error=f"Provider answer not usable: {reason}."[:1000],
            **fields,
        )
        return
    status = placed.status
    cost = fields.get("cost_sun", order.quoted_cost_sun)
    _leave_draft(
        order,
        status,
        message=(
            f"Accepted by the provider as {fields['provider_ref']}; cost {format_trx(cost)} TRX."
        ),
        actor=actor,
        label=via,
        **fields,
    )
    if "balance_after_sun" in fields:
        # order.created: the draft is saved just before the request leaves (placement._send).
        hooks.balance_reported(order.account, fields["balance_after_sun"], order.created)
    if order.cost_sun is not None:
        check_charge(order, label=via)


def record_placement_failed(
    order: Order, exc: ProviderError, adapter: Adapter, actor: Any, via: str
) -> None:
    if exc.outcome in (base.REJECTED, base.UNAVAILABLE):
        doubt = refusal_doubt(order, exc) if exc.outcome == base.REJECTED else ""
        words = f"{exc.message} {doubt}" if doubt else str(exc)
        _leave_draft(
            order,
            Status.FAILED,
            message=words,
            actor=actor,
            label=via,
            last_error=words,
            doubt=doubt,
        )
        return
    _leave_draft(
        order,
        Status.UNKNOWN,
        message=str(exc),
        actor=actor,
        label=via,
        last_error=str(exc),
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=FIRST_POLL_SECONDS),
    )
    try:
        reconcile(order, adapter, label=via)
    except Exception as failure:  # the poller reconciles it later; the request must not fail
        logger.exception("reconciling order %s right after placing failed", order.code)
        note(
            order,
            f"Looking the order up right away failed ({type(failure).__name__}); the poller "
            "will try again.",
            label=via,
        )
