"""Refunds that come after an order is final (issue 19, finding 2).

The poller looks at open orders only, so a provider that refunds a completed order later (itrx
status 41 with `refund_amount`; TronZap `refunded`) was never heard, and the ledger filed the
money as a top-up. This pass keeps asking about final, charged orders of providers that can
refund, for a bounded window after they finished (ENERGYDASH_LATE_REFUND_HOURS, per provider),
at a low, slowing rate: first ENERGYDASH_LATE_REFUND_CHECK_MINUTES after the order finished,
then every half of the order's time since finishing (at least that interval, at most
MAX_DELAY), so an order is asked about some twenty times in three days, not every poll.

It runs as its own schedule, apart from the poller, so it never delays a due open order. Each
order is claimed with one conditional UPDATE of `refund_check_at` (which also schedules its
next check), and a refund is written with a conditional UPDATE on the refund it replaces, so
racing passes record it once. The order's status never changes: a final order does not move.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders.models import Order, Status
from energydash.orders.provider_state import vet_state
from energydash.orders.transitions import transition
from energydash.providers.base import ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")

LABEL = "task:late_refunds"
MAX_DELAY = timedelta(hours=6)
BATCH = 100


def check_late_refunds(
    *, now: datetime | None = None, client: httpx.Client | None = None, limit: int = BATCH
) -> int:
    """One pass: ask about final orders due a refund check; how many late refunds it recorded."""
    now = now or timezone.now()
    recorded = 0
    for order in list(due(now)[:limit]):
        if not _claim(order, now):
            continue  # another pass took it
        try:
            recorded += _check(order, client)
        except Exception:  # one order's trouble never stops the pass; asked again later
            logger.exception("late refund check of order %s failed", order.code)
    return recorded


# An order asked early (check_recent) is not asked that way again for this long.
EARLY_GAP = timedelta(minutes=1)
RECENT_LIMIT = 20


def check_recent(
    account: ProviderAccount,
    since: datetime,
    *,
    client: httpx.Client | None = None,
    limit: int = RECENT_LIMIT,
) -> int:
    """Ask now about the account's final, charged, not fully refunded orders that finished
    since `since` (newest first, at most `limit`, each at most once per EARLY_GAP): a rise the
    ledger cannot explain is often a refund energydash has not heard yet, and an uncertain
    order's evidence waits on it (reconciliation asks). How many late refunds it recorded."""
    hours = settings.ENERGYDASH_LATE_REFUND_HOURS.get(account.provider, 0)
    if hours <= 0:
        return 0
    now = timezone.now()
    free = Q(refund_check_at__isnull=True) | Q(refund_check_at__lte=now)
    rows = (
        Order.objects.select_related("account")
        .filter(
            free,
            account=account,
            status__in=(Status.COMPLETED, Status.REFUNDED, Status.FAILED),
            finished_at__gte=max(since, now - timedelta(hours=hours)),
            cost_sun__gt=0,
        )
        .exclude(provider_ref="")
        .exclude(refund_sun__gte=F("cost_sun"))
        .order_by("-finished_at", "-id")[:limit]
    )
    recorded = 0
    for order in list(rows):
        # The claim also puts off the order's regular check by EARLY_GAP at least.
        if not Order.objects.filter(free, pk=order.pk).update(refund_check_at=now + EARLY_GAP):
            continue  # another worker asks about it
        try:
            recorded += _check(order, client)
        except Exception:  # one order's trouble never stops the others; asked again later
            logger.exception("early refund check of order %s failed", order.code)
    return recorded


def due(now: datetime) -> QuerySet[Order]:
    """Final, charged, not fully refunded orders inside their provider's window, due a check."""
    interval = timedelta(minutes=settings.ENERGYDASH_LATE_REFUND_CHECK_MINUTES)
    windows = Q(pk__in=[])
    for provider, hours in settings.ENERGYDASH_LATE_REFUND_HOURS.items():
        if hours > 0:
            accounts = ProviderAccount.objects.filter(provider=provider).values("pk")
            since = now - timedelta(hours=hours)
            windows |= Q(account__in=accounts, finished_at__gte=since)
    # Failed orders with a provider id were accepted (charged) first; refused ones have none.
    charged = Q(status__in=(Status.COMPLETED, Status.REFUNDED, Status.FAILED))
    return (
        Order.objects.select_related("account")
        .filter(windows, charged, cost_sun__gt=0)
        .exclude(provider_ref="")
        .filter(_unchecked_due(now, interval))
        .exclude(refund_sun__gte=F("cost_sun"))
        .order_by("finished_at", "id")
    )


def _unchecked_due(now: datetime, interval: timedelta) -> Q:
    first = Q(refund_check_at__isnull=True, finished_at__lte=now - interval)
    return first | Q(refund_check_at__lte=now)


def next_delay(order: Order, now: datetime) -> timedelta:
    interval = timedelta(minutes=settings.ENERGYDASH_LATE_REFUND_CHECK_MINUTES)
    since = now - (order.finished_at or now)
    return min(MAX_DELAY, max(interval, since / 2))


def _claim(order: Order, now: datetime) -> bool:
    """Take the order for this check and schedule its next one, in one conditional UPDATE."""
    interval = timedelta(minutes=settings.ENERGYDASH_LATE_REFUND_CHECK_MINUTES)
    return bool(
        Order.objects.filter(_unchecked_due(now, interval), pk=order.pk).update(
            refund_check_at=now + next_delay(order, now)
        )
    )


def _check(order: Order, client: httpx.Client | None) -> int:
    adapter = adapter_for(order.account.credentials(), client)
    try:
        state = adapter.get_order(provider_ref=order.provider_ref, reference=order.reference)
    except ProviderError as exc:
        logger.info("late refund check of order %s: %s", order.code, exc)
        return 0
    finally:
        adapter.close()
    _, vetted = vet_state(order, state)
    refund = vetted.fields.get("refund_sun")
    before = order.refund_sun
    if not vetted.ok or refund is None or refund <= (before or 0):
        return 0
    name = order.account.get_provider_display()
    message = (
        f"{name} refunded {format_trx(refund - (before or 0))} TRX after the order was final "
        f"(refund now {format_trx(refund)} of {format_trx(order.cost_sun)} TRX charged; "
        f"it reports {state.raw_status or state.status})."
    )
    done = transition(
        order,
        order.status,
        expected=order.status,
        guard={"refund_sun": before},
        label=LABEL,
        message=message,
        refund_sun=refund,
        # The ledger counts this part at refunded_at (the rest stays at finished_at).
        late_refund_sun=(order.late_refund_sun or 0) + refund - (before or 0),
        refunded_at=timezone.now(),
    )
    return 1 if done else 0
