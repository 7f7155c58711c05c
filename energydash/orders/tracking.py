"""One look at one open order: ask the provider, apply what it says, never raise.

The poller (polling.py) claims due orders and calls process() on each. A draft left behind by
an interrupted placement, or an `unknown` order, is reconciled by our reference; any other open
order is looked up and brought in line with the provider's record. Failures are counted on the
order's timeline, and an order that keeps failing or stays open too long goes to review.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from energydash.orders.models import FINAL, Order, Status
from energydash.orders.provider_state import apply_state
from energydash.orders.reconciliation import reconcile
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Adapter, ProviderError

logger = logging.getLogger("energydash.orders")

LABEL = "task:poll_orders"
# A draft older than this was interrupted between being saved and being sent (or not).
DRAFT_GRACE = timedelta(minutes=2)
# Unexpected errors in a row before an order goes to review instead of being retried again.
MAX_FAILURES = 5
FAILURE_PREFIX = "Processing failed"


def process(order: Order, adapter: Adapter, now: datetime) -> bool:
    """Look at one claimed order once; True when it changed. Never raises.

    The per-order entry point of every polling loop. An exception (a bug, an answer no adapter
    can read, a database refusal) is recorded on the order's timeline with the raw exchanges;
    after MAX_FAILURES of them in a row the order goes to needs_review with the error, so a
    charged order is never retried silently forever.
    """
    adapter.exchanges.clear()
    try:
        return _process(order, adapter, now)
    except Exception as exc:
        logger.exception("processing order %s failed", order.code)
        try:
            record_exchanges(order, adapter.exchanges, label=LABEL)
        except Exception:
            logger.exception("could not record the exchanges of order %s", order.code)
        return record_failure(order, exc, now)


def record_failure(order: Order, exc: Exception, now: datetime) -> bool:
    """Count one failed look at the order; True when that moved it (out of draft, to review).

    A draft past DRAFT_GRACE leaves draft even when nothing else works, so an interrupted
    placement is never invisible. Failures are counted from the timeline: the run of
    "Processing failed" notes since anything else happened to the order.
    """
    order.refresh_from_db()
    moved = False
    if order.status == Status.DRAFT and now - order.started_at >= DRAFT_GRACE:
        moved = _draft_to_unknown(order)
    error = f"{type(exc).__name__}: {str(exc)[:300]}"
    failures = consecutive_failures(order) + 1
    if order.status in FINAL or order.status == Status.NEEDS_REVIEW:
        note(order, f"{FAILURE_PREFIX} ({error}).", label=LABEL)
        return moved
    if failures >= MAX_FAILURES:
        return (
            transition(
                order,
                Status.NEEDS_REVIEW,
                label=LABEL,
                last_error=f"Processing failed {failures} times: {error}",
                message=(
                    f"{FAILURE_PREFIX} {failures} times in a row; last error: {error}. "
                    "energydash stops retrying: check the order at the provider, then mark it "
                    "placed or not placed."
                ),
            )
            or moved
        )
    note(
        order,
        f"{FAILURE_PREFIX} ({failures} of {MAX_FAILURES} before review): {error}.",
        label=LABEL,
    )
    return moved


def consecutive_failures(order: Order) -> int:
    """Failure notes since the order's last other event (a state change, an exchange, ...)."""
    events = order.events.order_by("-created", "-id").values_list("kind", "message")
    count = 0
    for kind, message in events[: MAX_FAILURES * 3]:
        if kind == "exchange":
            continue  # the failing pass's own raw exchanges
        if kind == "note" and message.startswith(FAILURE_PREFIX):
            count += 1
            continue
        break
    return count


def _draft_to_unknown(order: Order) -> bool:
    return transition(
        order,
        Status.UNKNOWN,
        expected=Status.DRAFT,
        label=LABEL,
        message="Placement was interrupted after the order was saved; it may or may not "
        "have reached the provider.",
        submitted_at=order.submitted_at or order.started_at,
    )


def _process(order: Order, adapter: Adapter, now: datetime) -> bool:
    stuck_after = timedelta(minutes=settings.ENERGYDASH_ORDER_STUCK_MINUTES)
    if order.status == Status.DRAFT:
        moved = _draft_to_unknown(order)
        return reconcile(order, adapter, label=LABEL, now=now) or moved
    if order.status == Status.UNKNOWN:
        if reconcile(order, adapter, label=LABEL, now=now):
            return True
        return _flag_if_stuck(order, now, stuck_after)
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(provider_ref=order.provider_ref, reference=order.reference)
    except ProviderError as exc:
        record_exchanges(order, adapter.exchanges, label=LABEL)
        note(order, f"Status check failed: {exc}", label=LABEL)
        return _flag_if_stuck(order, now, stuck_after)
    changed = apply_state(order, state, label=LABEL)
    if changed:
        record_exchanges(order, adapter.exchanges, label=LABEL)
    stuck = _flag_if_stuck(order, now, stuck_after)
    return changed or stuck


def _flag_if_stuck(order: Order, now: datetime, stuck_after: timedelta) -> bool:
    if order.is_final or now - order.started_at < stuck_after:
        return False
    minutes = int((now - order.started_at).total_seconds() // 60)
    return transition(
        order,
        Status.NEEDS_REVIEW,
        label=LABEL,
        message=f"Still {order.get_status_display().lower()} after {minutes} minutes; "
        "check it at the provider.",
    )
