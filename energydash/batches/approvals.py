"""A second person for a large batch: one above ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX (its planned
total) waits in "awaiting approval" before any line is placed (services.start).

Another operator or admin approves or rejects it with a comment; whoever created it never
decides it (API batches have no person behind them: any operator or admin may). Approving
plans the batch again: a total above the one the approver saw keeps it waiting at the new
total. A request older than ENERGYDASH_APPROVAL_EXPIRY_HOURS is cancelled instead. Queueing is
one conditional UPDATE from awaiting, so two approvers clicking at once queue it once.

Each line is still its own order: a line above its account's own threshold waits for approval
as an order too (orders/approvals.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from energydash.batches import services
from energydash.batches.models import Batch
from energydash.core.models import AuditEvent
from energydash.core.roles import can_operate
from energydash.lib.tron import format_trx

COMMENT_MAX = 500


class BatchApprovalRefused(Exception):
    """Refused; the message says why. Nothing was placed."""


def is_maker(batch: Batch, user: Any) -> bool:
    return batch.created_by_id is not None and batch.created_by_id == getattr(user, "pk", None)


def can_decide(batch: Batch, user: Any) -> bool:
    return batch.status == Batch.Status.AWAITING and can_operate(user) and not is_maker(batch, user)


def _check(batch: Batch, user: Any, comment: str) -> str:
    if not can_operate(user):
        raise BatchApprovalRefused("Approving a batch needs the operator or admin role.")
    if is_maker(batch, user):
        raise BatchApprovalRefused(
            "You created this batch, so another operator or admin must approve or reject it. "
            "Nothing was placed."
        )
    comment = (comment or "").strip()[:COMMENT_MAX]
    if not comment:
        raise BatchApprovalRefused("Write a comment with your decision. Nothing was placed.")
    if batch.status != Batch.Status.AWAITING:
        raise BatchApprovalRefused("This batch is not awaiting approval; nothing was changed.")
    return comment


def _expired(batch: Batch) -> bool:
    hours = timedelta(hours=settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS)
    return batch.approval_requested_at is not None and (
        timezone.now() >= batch.approval_requested_at + hours
    )


def reject(batch: Batch, user: Any, comment: str) -> bool:
    comment = _check(batch, user, comment)
    done = Batch.objects.filter(pk=batch.pk, status=Batch.Status.AWAITING).update(
        status=Batch.Status.CANCELLED, finished_at=timezone.now()
    )
    if done:
        AuditEvent.record(
            "batch.approval_rejected", batch, actor=user, details={"comment": comment}
        )
    batch.refresh_from_db()
    return bool(done)


def approve(
    batch: Batch,
    user: Any,
    comment: str,
    seen_total_sun: int | None,
    *,
    client: httpx.Client | None = None,
) -> bool:
    """Queue the batch once. False: someone else decided it first. Raises when refused."""
    comment = _check(batch, user, comment)
    if _expired(batch):
        Batch.objects.filter(pk=batch.pk, status=Batch.Status.AWAITING).update(
            status=Batch.Status.CANCELLED, finished_at=timezone.now()
        )
        AuditEvent.record("batch.approval_expired", batch, actor_label="approval")
        raise BatchApprovalRefused(
            f"This approval request expired ({settings.ENERGYDASH_APPROVAL_EXPIRY_HOURS} h); "
            "the batch is cancelled and nothing was placed. Start it again to ask anew."
        )
    if seen_total_sun is None or seen_total_sun != batch.planned_total_sun:
        raise BatchApprovalRefused(
            "The planned total changed since you opened the page; read it again. Nothing was "
            "placed."
        )
    services.plan(batch, client=client)  # the prices now
    batch.refresh_from_db()
    if batch.planned_total_sun > seen_total_sun:
        Batch.objects.filter(pk=batch.pk, status=Batch.Status.AWAITING).update(
            approval_requested_at=timezone.now()
        )
        AuditEvent.record(
            "batch.approval_requoted",
            batch,
            actor=user,
            details={"seen_total_sun": seen_total_sun, "total_sun": batch.planned_total_sun},
        )
        raise BatchApprovalRefused(
            f"The planned total rose from {format_trx(seen_total_sun)} to "
            f"{format_trx(batch.planned_total_sun)} TRX; it needs approval again at the new "
            "total. Nothing was placed."
        )
    done = services.queue_batch(
        batch, (Batch.Status.AWAITING,), approved_by=user, approved_at=timezone.now()
    )
    if done:
        AuditEvent.record(
            "batch.approved",
            batch,
            actor=user,
            details={"comment": comment, "planned_total_sun": batch.planned_total_sun},
        )
    return done
