"""A person's decision on an order in needs_review: placed (with the provider's id) or not;
and an admin's reopening of a decision that was wrong.

Every action is one conditional UPDATE on the status the person saw (transition's `expected`),
so two people deciding at once, or a person and the poller, cannot both apply: the loser changes
nothing and is told so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.core.roles import ADMIN, has_role
from energydash.lib.tron import trx_to_sun
from energydash.orders.models import Order, Status
from energydash.orders.transitions import transition

REVIEW_DECISIONS = ("order.marked_placed", "order.marked_not_placed")


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


class ReopenRefused(Exception):
    """The order cannot be reopened by this user; the message says why."""


def can_reopen(order: Order, user: Any) -> bool:
    """Admins may reopen a decided order: a failed one (e.g. a wrong "not placed", by a person
    or by reconciliation) or one a person marked placed. Operators cannot."""
    return has_role(user, ADMIN) and reopenable(order)


def reopenable(order: Order) -> bool:
    if order.status == Status.FAILED:
        return True
    if order.status in (Status.DRAFT, Status.NEEDS_REVIEW):
        return False
    return AuditEvent.objects.filter(
        action="order.marked_placed", object_code=str(order.code)
    ).exists()


def reopen(order: Order, user: Any, reason: str) -> bool:
    """Send a wrongly decided order back to needs_review, so the usual review actions apply.

    Needs the admin role and a reason; audited and on the order's timeline. False when someone
    else changed the order first (nothing is changed then).
    """
    reason = (reason or "").strip()
    if not has_role(user, ADMIN):
        raise ReopenRefused("Only an admin can reopen a decided order.")
    if not reason:
        raise ReopenRefused("Give the reason for reopening this order.")
    if not reopenable(order):
        raise ReopenRefused(
            f"This order is {order.get_status_display().lower()}: there is no decision to reopen."
        )
    was = order.status
    done = transition(
        order,
        Status.NEEDS_REVIEW,
        expected=was,
        actor=user,
        message=f"Reopened for review by {user.get_username()} (was {was}): {reason}",
        last_error=f"Reopened for review: {reason}",
        finished_at=None,
        claimed_until=None,
    )
    if done:
        AuditEvent.record(
            "order.reopened", order, actor=user, details={"from_status": was, "reason": reason}
        )
    return done


def _with(message: str, comment: str) -> str:
    return f"{message} {comment.strip()}" if comment.strip() else message
