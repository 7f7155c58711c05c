"""A person's decision on an order in needs_review: placed (with the provider's id) or not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.lib.tron import trx_to_sun
from energydash.orders.models import Order, Status
from energydash.orders.transitions import transition


def mark_placed(
    order: Order, user: Any, provider_ref: str, cost_trx: Decimal | None, comment: str
) -> bool:
    """The provider has it: track it from now on by the id the operator read off the dashboard."""
    fields: dict[str, Any] = {
        "provider_ref": provider_ref,
        "next_poll_at": timezone.now(),
        "poll_count": 0,
        "last_error": "",
    }
    if cost_trx is not None:
        fields["cost_sun"] = trx_to_sun(cost_trx)
    message = f"Marked as placed by {user.get_username()} (provider order {provider_ref})."
    done = transition(
        order,
        Status.SUBMITTED,
        expected=Status.NEEDS_REVIEW,
        actor=user,
        message=_with(message, comment),
        **fields,
    )
    if done:
        AuditEvent.record(
            "order.marked_placed",
            order,
            actor=user,
            details={
                "provider_ref": provider_ref,
                "cost_sun": fields.get("cost_sun"),
                "comment": comment,
            },
        )
    return done


def mark_not_placed(order: Order, user: Any, comment: str) -> bool:
    message = f"Marked as not placed by {user.get_username()}: nothing was charged."
    done = transition(
        order,
        Status.FAILED,
        expected=Status.NEEDS_REVIEW,
        actor=user,
        message=_with(message, comment),
        last_error="Not placed (decided on review).",
    )
    if done:
        AuditEvent.record(
            "order.marked_not_placed", order, actor=user, details={"comment": comment}
        )
    return done


def _with(message: str, comment: str) -> str:
    return f"{message} {comment.strip()}" if comment.strip() else message
