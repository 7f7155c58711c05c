"""One polling pass over open orders, safe with any number of workers running it at once.

Each order is claimed with a conditional UPDATE (a short lease on `claimed_until`); a worker that
loses the race skips the order. Orders are looked at soon after placing, then less and less often.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from energydash.orders.models import POLLABLE, Order, Status
from energydash.orders.services import apply_state, reconcile
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Adapter, ProviderError
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")

LABEL = "task:poll_orders"
LEASE = timedelta(minutes=2)
# Seconds to wait before the next look, by how many looks were made already.
BACKOFF = (5, 5, 10, 15, 30, 60, 120, 300)
# A draft older than this was interrupted between being saved and being sent (or not).
DRAFT_GRACE = timedelta(minutes=2)


@dataclass
class PassResult:
    checked: int = 0
    changed: int = 0


def next_delay(poll_count: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(poll_count, len(BACKOFF) - 1)])


def due_orders(now: datetime, limit: int) -> list[int]:
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    pollable = Q(status__in=POLLABLE, next_poll_at__lte=now)
    stale_draft = Q(status=Status.DRAFT, created__lt=now - DRAFT_GRACE)
    return list(
        Order.objects.filter(unclaimed & (pollable | stale_draft))
        .order_by("next_poll_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def claim(pk: int, now: datetime) -> bool:
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(
        Order.objects.filter(unclaimed, pk=pk, status__in=(*POLLABLE, Status.DRAFT)).update(
            claimed_until=now + LEASE
        )
    )


def poll_pass(
    *, now: datetime | None = None, client: httpx.Client | None = None, limit: int = 200
) -> PassResult:
    now = now or timezone.now()
    result = PassResult()
    adapters: dict[int, Adapter] = {}
    try:
        for pk in due_orders(now, limit):
            if not claim(pk, now):
                continue  # another worker has it
            order = Order.objects.select_related("account").get(pk=pk)
            result.checked += 1
            try:
                adapter = adapters.get(order.account_id)
                if adapter is None:
                    adapter = adapters[order.account_id] = adapter_for(
                        order.account.credentials(), client
                    )
                if process(order, adapter, now):
                    result.changed += 1
            except Exception:
                logger.exception("polling order %s failed", order.code)
            finally:
                release(order, now)
    finally:
        for adapter in adapters.values():
            adapter.close()
    return result


def release(order: Order, now: datetime) -> None:
    Order.objects.filter(pk=order.pk).update(
        claimed_until=None,
        poll_count=F("poll_count") + 1,
        next_poll_at=now + next_delay(order.poll_count),
    )
    # Final and needs_review orders keep a next_poll_at, but their status keeps them out of
    # the partial index and the due query.


def process(order: Order, adapter: Adapter, now: datetime) -> bool:
    stuck_after = timedelta(minutes=settings.ENERGYDASH_ORDER_STUCK_MINUTES)
    if order.status == Status.DRAFT:
        moved = transition(
            order,
            Status.UNKNOWN,
            label=LABEL,
            message="Placement was interrupted after the order was saved; it may or may not "
            "have reached the provider.",
        )
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
    if order.is_final or now - order.created < stuck_after:
        return False
    minutes = int((now - order.created).total_seconds() // 60)
    return transition(
        order,
        Status.NEEDS_REVIEW,
        label=LABEL,
        message=f"Still {order.get_status_display().lower()} after {minutes} minutes; "
        "check it at the provider.",
    )
