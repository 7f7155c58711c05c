"""Verifying deliveries on chain: one pass over the orders whose look is due.

Due: a completed energy, collection or activation order not yet looked at (delivery_status
blank), or any order whose delivery_next_check_at has come. Each is claimed with one
conditional UPDATE (its next look moved a lease ahead), so however many passes run, one
looks; the verdict is then written conditionally again (delivery_look.write). Looks run
`concurrency` at a time in threads, each with its own reader over one shared HTTP client; every
reader draws on the chain reader's request budget, which all processes share (chain/budget.py).

What a look decides, and from what: delivery_rules.py. README "Delivery on chain".
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from energydash.chain.reader import ChainReader
from energydash.orders.delivery_look import EARLY_FIRST, EARLY_STATUSES, EARLY_WINDOW, look
from energydash.orders.models import Delivery, Kind, Order, Status

logger = logging.getLogger("energydash.orders")

LEASE = timedelta(minutes=2)


@dataclass
class PassResult:
    checked: int = 0
    changed: int = 0
    calls: int = 0
    by_order: dict[int, int] = field(default_factory=dict)  # node requests per order looked at


def state_of(order: Order) -> str | None:
    """The delivery status to show: the verdict, "pending" for an energy, collection or
    activation order not yet looked at that may still deliver, None for an order that delivers
    nothing."""
    if order.delivery_status == Delivery.PENDING and order.status in NOT_DELIVERING:
        return None  # watched before done (an early look), then it failed: nothing to deliver
    if order.delivery_status:
        return order.delivery_status
    if order.kind in DELIVERING_KINDS and order.status not in NOT_DELIVERING:
        return Delivery.PENDING
    return None


NOT_DELIVERING = (Status.FAILED, Status.REFUNDED)
DELIVERING_KINDS = (Kind.ENERGY, Kind.COLLECTION, Kind.ACTIVATION)


def _due(now: datetime) -> Q:
    unstarted = Q(
        status=Status.COMPLETED,
        delivery_status="",
        kind__in=DELIVERING_KINDS,
    )
    due = unstarted | Q(delivery_next_check_at__lte=now)
    if early_looks():
        # Sent, not yet reported done: watched from a few seconds after sending (early looks).
        due |= Q(
            status__in=EARLY_STATUSES,
            kind=Kind.ENERGY,
            delivery_status="",
            created__lte=now - EARLY_FIRST,
            created__gt=now - EARLY_WINDOW,
        )
    return due


def early_looks() -> bool:
    return settings.ENERGYDASH_DELIVERY_EARLY_LOOKS and bool(settings.ENERGYDASH_TRON_API_URL)


def due_ids(now: datetime, limit: int) -> list[int]:
    return list(
        Order.objects.filter(_due(now))
        # Orders not yet looked at (no next look) first: the ones whose done was just recorded.
        .order_by(F("delivery_next_check_at").asc(nulls_first=True), "id")
        .values_list("pk", flat=True)[:limit]
    )


def claim(pk: int, now: datetime) -> Order | None:
    """The order, if this pass got it: its next look moves a lease ahead in one UPDATE
    conditional on what was read, so a second pass reading the same row claims nothing."""
    order = Order.objects.select_related("account").filter(pk=pk).first()
    if order is None:
        return None
    rows = Order.objects.filter(pk=pk, delivery_looks=order.delivery_looks)
    if order.delivery_status == "":
        early = order.status in EARLY_STATUSES and order.kind == Kind.ENERGY and early_looks()
        if order.status != Status.COMPLETED and not early:
            return None
        got = rows.filter(delivery_status="").update(
            delivery_status=Delivery.PENDING, delivery_next_check_at=now + LEASE
        )
        order.delivery_status = Delivery.PENDING
    else:
        if order.delivery_next_check_at is None or order.delivery_next_check_at > now:
            return None
        got = rows.filter(delivery_next_check_at=order.delivery_next_check_at).update(
            delivery_next_check_at=now + LEASE
        )
    return order if got else None


def verify_pass(
    *,
    now: datetime | None = None,
    limit: int = 200,
    concurrency: int | None = None,
    client: httpx.Client | None = None,
) -> PassResult:
    """Look once at every due order (up to `limit`)."""
    now = now or timezone.now()
    concurrency = concurrency or settings.ENERGYDASH_DELIVERY_CONCURRENCY
    pks = due_ids(now, limit)
    result = PassResult()
    if not pks:
        return result
    own_client = client is None
    http = client or httpx.Client(timeout=10.0)
    lock = threading.Lock()

    def one(pk: int) -> None:
        try:
            order = claim(pk, now)
            if order is None:
                return
            reader = ChainReader.from_settings(client=http)
            changed, calls = look(order, reader, now)
            with lock:
                result.checked += 1
                result.changed += int(changed)
                result.calls += calls
                result.by_order[pk] = calls
        except Exception:  # a database error: the lease runs out and a later pass looks again
            logger.exception("verifying the delivery of order %s failed", pk)

    def threaded(pk: int) -> None:
        try:
            one(pk)
        finally:
            connection.close()

    try:
        if concurrency <= 1 or connection.in_atomic_block or len(pks) == 1:
            for pk in pks:  # inside a transaction (tests): its rows are visible to this thread
                one(pk)
        else:
            with ThreadPoolExecutor(max_workers=min(concurrency, len(pks))) as pool:
                list(pool.map(threaded, pks))
    finally:
        if own_client:
            http.close()
    return result
