"""A second person for large money (maker-checker).

An order quoted above its account's "approval above" threshold is saved as awaiting_approval
and nothing is sent (placement.py). Another user with the operator or admin role approves or
rejects it, with a comment; whoever placed it never decides it. Approving re-quotes first: a
price above the one the approver saw puts the order back to "awaiting approval" at the new
price. A request nobody decided within ENERGYDASH_APPROVAL_EXPIRY_HOURS expires.

Exactly once: approving is one conditional UPDATE awaiting_approval -> draft (with the price the
approver saw as a guard), under the account's row lock where the budget and the token's cap are
checked again. Only the request whose UPDATE matched sends the order; a second approver clicking
at the same moment changes nothing and is told so. Rejection and expiry are the same kind of
UPDATE, to failed: nothing was sent, so nothing was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.core.roles import can_operate
from energydash.lib.tron import format_trx
from energydash.orders.limits import limit_violation
from energydash.orders.models import Order, Status
from energydash.orders.placement import _lock_limits, _send, check_cap
from energydash.orders.spec import OrderSpec, PlacementRefused, check_spec, estimate_cost
from energydash.orders.transitions import transition
from energydash.providers.base import ProviderError
from energydash.providers.registry import adapter_for

COMMENT_MAX = 500
LABEL = "approval"


class ApprovalRefused(Exception):
    """The decision is refused; the message says why and that nothing was sent."""


@dataclass(frozen=True)
class Approval:
    done: bool  # False: someone else decided this order first (nothing was changed)
    requoted: bool = False  # the price rose: it is awaiting approval again at the new price

    def __bool__(self) -> bool:
        return self.done


def expires_at(order: Order) -> datetime | None:
    if order.approval_requested_at is None:
        return None
    return order.approval_requested_at + timedelta(hours=settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS)


def is_maker(order: Order, user: Any) -> bool:
    return order.placed_by_id is not None and order.placed_by_id == getattr(user, "pk", None)


def can_decide(order: Order, user: Any) -> bool:
    """Whether `user` may approve or reject this order now (the page shows the buttons)."""
    return (
        order.status == Status.AWAITING_APPROVAL and can_operate(user) and not is_maker(order, user)
    )


def _check_decider(order: Order, user: Any, comment: str) -> str:
    if not can_operate(user):
        raise ApprovalRefused("Approving or rejecting an order needs the operator or admin role.")
    if is_maker(order, user):
        raise ApprovalRefused(
            "You placed this order, so you cannot decide it: another operator or admin must "
            "approve or reject it. Nothing was sent."
        )
    comment = (comment or "").strip()[:COMMENT_MAX]
    if not comment:
        raise ApprovalRefused("Write a comment with your decision. Nothing was sent.")
    if order.status != Status.AWAITING_APPROVAL:
        raise ApprovalRefused(
            f"This order is not awaiting approval (it is {order.get_status_display().lower()}); "
            "nothing was changed."
        )
    return comment


def reject(order: Order, user: Any, comment: str) -> bool:
    """Refuse the order: failed, nothing sent. False: someone else decided it first."""
    comment = _check_decider(order, user, comment)
    with transaction.atomic():
        done = transition(
            order,
            Status.FAILED,
            expected=Status.AWAITING_APPROVAL,
            message=f"Rejected: {comment}",
            actor=user,
            label=LABEL,
            last_error=f"Rejected by {user.get_username()}: {comment}. Nothing was sent, so "
            "nothing was charged.",
        )
        if done:
            AuditEvent.record(
                "order.approval_rejected",
                order,
                actor=user,
                details={"comment": comment, "quoted_cost_sun": order.quoted_cost_sun},
            )
    return done


def approve(
    order: Order,
    user: Any,
    comment: str,
    seen_cost_sun: int | None,
    *,
    client: httpx.Client | None = None,
) -> Approval:
    """Approve and send once. `seen_cost_sun` is the price the approver saw and approves."""
    comment = _check_decider(order, user, comment)
    if expire(order):
        raise ApprovalRefused(
            f"This approval request expired ({settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS} h "
            "without a decision); nothing was sent. Place the order again if it is still wanted."
        )
    if seen_cost_sun is None or seen_cost_sun != order.quoted_cost_sun:
        raise ApprovalRefused(
            "The price awaiting approval changed since you opened the page; read it again. "
            "Nothing was sent."
        )
    spec = OrderSpec(
        account=order.account,
        kind=order.kind,
        receive_address=order.receive_address,
        energy=order.energy,
        period=order.period or "1H",
        activate=order.activate,
        to_address=order.to_address,
    )
    try:
        spec = check_spec(spec)
        adapter = adapter_for(spec.account.credentials(), client)
    except PlacementRefused as exc:
        raise ApprovalRefused(f"{exc} Nothing was sent.") from None
    try:
        try:
            estimate, quote = estimate_cost(spec, adapter)
        except PlacementRefused as exc:
            raise ApprovalRefused(f"{exc} Nothing was sent.") from None
        except ProviderError as exc:
            raise ApprovalRefused(
                f"{order.account.name} could not quote it now ({exc}); nothing was sent. "
                "Try again later."
            ) from None
        if estimate > seen_cost_sun:
            return _requote(order, user, seen_cost_sun, estimate)
        if not _claim(order, user, comment, seen_cost_sun, estimate):
            return Approval(done=False)
        _send(order, spec, adapter, user, order.placed_via)
    finally:
        adapter.close()
    return Approval(done=True)


def _requote(order: Order, user: Any, seen: int, estimate: int) -> Approval:
    """The price rose above what was to be approved: ask again, at the new price."""
    message = (
        f"Re-quoted at approval: the price rose from {format_trx(seen)} to "
        f"{format_trx(estimate)} TRX; it needs approval again at the new price. Nothing was sent."
    )
    done = transition(
        order,
        Status.AWAITING_APPROVAL,
        expected=Status.AWAITING_APPROVAL,
        guard={"quoted_cost_sun": seen},
        message=message,
        actor=user,
        label=LABEL,
        quoted_cost_sun=estimate,
        approval_requested_at=timezone.now(),
    )
    if done:
        AuditEvent.record(
            "order.approval_requoted",
            order,
            actor=user,
            details={"seen_cost_sun": seen, "quoted_cost_sun": estimate},
        )
    return Approval(done=done, requoted=done)


def _claim(order: Order, user: Any, comment: str, seen: int, estimate: int) -> bool:
    """awaiting_approval -> draft, once, with the account's limits and the token's cap checked
    again under their locks (an order awaiting approval reserved no budget)."""
    with transaction.atomic():
        account = _lock_limits(order.account)
        reason = limit_violation(account, estimate)
        try:
            if not reason:
                check_cap(order.placed_via, estimate)
        except PlacementRefused as exc:
            reason = str(exc)
        if reason:
            raise ApprovalRefused(f"{reason} Nothing was sent; it still awaits approval.")
        now = timezone.now()
        done = transition(
            order,
            Status.DRAFT,
            expected=Status.AWAITING_APPROVAL,
            guard={"quoted_cost_sun": seen},
            message=f"Approved at {format_trx(estimate)} TRX: {comment}",
            actor=user,
            label=LABEL,
            quoted_cost_sun=estimate,
            approved_by=user,
            approved_at=now,
        )
        if done:
            AuditEvent.record(
                "order.approved",
                order,
                actor=user,
                details={"comment": comment, "seen_cost_sun": seen, "quoted_cost_sun": estimate},
            )
    return done


def expire(order: Order, now: datetime | None = None) -> bool:
    """Fail an awaiting order whose request is older than the expiry. True when it expired."""
    ends = expires_at(order)
    now = now or timezone.now()
    if order.status != Status.AWAITING_APPROVAL or ends is None or now < ends:
        return False
    hours = settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS
    with transaction.atomic():
        done = transition(
            order,
            Status.FAILED,
            expected=Status.AWAITING_APPROVAL,
            guard={"approval_requested_at": order.approval_requested_at},
            message=f"Approval expired: nobody decided it within {hours} h.",
            label=LABEL,
            last_error=f"Nobody approved it within {hours} h; nothing was sent, so nothing "
            "was charged.",
        )
        if done:
            AuditEvent.record(
                "order.approval_expired", order, actor_label=LABEL, details={"hours": hours}
            )
    return done


def expire_due(now: datetime | None = None) -> int:
    """Expire every awaiting order past its time (the schedule's task); returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS)
    due = Order.objects.filter(
        status=Status.AWAITING_APPROVAL, approval_requested_at__lt=cutoff
    ).select_related("account")
    return sum(expire(order, now) for order in due)
