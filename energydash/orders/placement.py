"""Placing an order, exactly once.

The order row (with our reference) is committed before the provider is called, so whatever
happens next — a refusal, a timeout, a crash — there is a record to reconcile. A placing request
is sent once; what it came back with is recorded by placement_outcome.py: a lost answer makes
the order `unknown`, resolved by looking it up by our reference where the provider allows (itrx,
TronZap) and by a person where it does not (Netts) (reconciliation.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from energydash.core import logcontext, metrics
from energydash.core.models import AuditEvent
from energydash.lib.tron import format_trx
from energydash.orders import hooks
from energydash.orders.limits import CapExceeded, cap_violation, limit_violation
from energydash.orders.models import Kind, Order, Status
from energydash.orders.placement_outcome import (
    record_placed,
    record_placement_failed,
    to_review_after_send,
)
from energydash.orders.signals import send_settled
from energydash.orders.spec import OrderSpec, PlacementRefused, check_spec, estimate_cost
from energydash.orders.transitions import note, record_exchanges
from energydash.providers import base
from energydash.providers.base import Adapter, PlacedOrder, ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import adapter_for

logger = logging.getLogger("energydash.orders")


def callback_url(account: ProviderAccount) -> str | None:
    if account.provider != "itrx" or not settings.ENERGYDASH_PUBLIC_URL:
        return None
    return settings.ENERGYDASH_PUBLIC_URL + reverse("itrx_callback", args=[account.code])


def place_order(
    spec: OrderSpec,
    *,
    actor: Any = None,
    via: str = "console",
    idempotency_key: str | None = None,
    confirmed_cost_sun: int | None = None,
    client: httpx.Client | None = None,
    priced: tuple[int, base.Quote | None] | None = None,
) -> Order:
    """Place one order. Raises PlacementRefused (nothing sent) or returns the order in its state.

    Exactly once: the same idempotency_key always yields the same order, and only the request
    that created that order's draft ever sends it. Every other submit with the key gets the order
    back as it is (possibly still being sent, or even refused) with `order.replayed = True` and
    sends nothing, however the requests interleave.

    `priced` is (total, quote) read from this account for this spec moments ago (routing's
    quote, still fresh): the limits are checked against it and the provider is not asked again.
    """
    existing = _by_key(idempotency_key)
    if existing is not None:
        return existing
    try:
        return _place_new(spec, actor, via, idempotency_key, confirmed_cost_sun, client, priced)
    except PlacementRefused:
        # A concurrent submit of the same form may have won (its draft now counts against the
        # budget, or the price moved meanwhile): that order, not a refusal, is the answer.
        existing = _by_key(idempotency_key)
        if existing is not None:
            return existing
        raise


def _by_key(idempotency_key: str | None) -> Order | None:
    if not idempotency_key:
        return None
    order = Order.objects.select_related("account").filter(idempotency_key=idempotency_key).first()
    if order is not None:
        order.replayed = True
    return order


def _place_new(
    spec: OrderSpec,
    actor: Any,
    via: str,
    idempotency_key: str | None,
    confirmed_cost_sun: int | None,
    client: httpx.Client | None,
    priced: tuple[int, base.Quote | None] | None = None,
) -> Order:
    spec = check_spec(spec)
    if confirmed_cost_sun is not None:
        # The operator saw this cost: a limit it breaks is refused before any provider call.
        reason = limit_violation(spec.account, confirmed_cost_sun)
        if reason:
            raise PlacementRefused(reason)
    adapter = adapter_for(spec.account.credentials(), client)
    try:
        estimate, quote = priced if priced is not None else estimate_cost(spec, adapter)
        if confirmed_cost_sun is not None and estimate > confirmed_cost_sun:
            raise PlacementRefused(
                f"The price rose from {format_trx(confirmed_cost_sun)} to {format_trx(estimate)} "
                "TRX since you confirmed; review the order again."
            )
        order, created = _create_draft(spec, estimate, quote, actor, via, idempotency_key)
        if not created:  # a concurrent submit of the same form created it: that one sends it
            return order
        order.replayed = False
        if order.status == Status.AWAITING_APPROVAL:
            return order  # nothing is sent until a second person approves (approvals.py)
        _send(order, spec, adapter, actor, via)
    finally:
        adapter.close()
    return order


def _create_draft(
    spec: OrderSpec,
    estimate: int,
    quote: base.Quote | None,
    actor: Any,
    via: str,
    idempotency_key: str | None,
) -> tuple[Order, bool]:
    """The draft and whether this call created it. Only its creator may send it."""
    try:
        with transaction.atomic():
            # Lock the account so two placements cannot both fit under the same budget. This
            # also serialises two submits of one form: the second sees the first's committed
            # draft below (PostgreSQL reads committed rows after the lock; SQLite transactions
            # are IMMEDIATE) and the unique key catches any other interleaving.
            # FOR NO KEY UPDATE: it still serialises placements, but unlike FOR UPDATE it does
            # not block the foreign-key checks (FOR KEY SHARE) that committing a rollup or any
            # row pointing at the account makes. With FOR UPDATE, a commit holding a rollup's
            # advisory lock waited for this row while this placement, creating its order, waited
            # for that advisory lock: a deadlock the soak met on PostgreSQL.
            account = _lock_limits(spec.account)
            existing = _by_key(idempotency_key)
            if existing is not None:
                return existing, False
            reason = limit_violation(account, estimate)
            if reason:
                raise PlacementRefused(reason)
            check_cap(via, estimate)
            awaiting = needs_approval(account, estimate)
            order = Order.objects.create(
                account=account,
                kind=spec.kind,
                receive_address=spec.receive_address,
                to_address=spec.to_address,
                energy=spec.energy,
                period=spec.period,
                activate=spec.activate,
                idempotency_key=idempotency_key or None,
                quoted_cost_sun=estimate,
                unit_price_sun=quote.unit_price_sun if quote else None,
                burn_sun_per_energy=settings.ENERGYDASH_BURN_SUN_PER_ENERGY,
                placed_by=actor if getattr(actor, "is_authenticated", False) else None,
                placed_via=via,
                status=Status.AWAITING_APPROVAL if awaiting else Status.DRAFT,
                approval_requested_at=timezone.now() if awaiting else None,
            )
            note(order, f"Created; quoted {format_trx(estimate)} TRX.", actor=actor, label=via)
            if awaiting:
                _ask_for_approval(order, account, actor, via)
    except IntegrityError:
        existing = _by_key(idempotency_key)
        if existing is not None:
            return existing, False
        raise
    return order, True


def needs_approval(account: ProviderAccount, cost_sun: int) -> bool:
    """Above the account's "approval above" threshold: a second person must approve it."""
    return account.approval_above_sun is not None and cost_sun > account.approval_above_sun


def check_cap(via: str, cost_sun: int) -> None:
    """The daily cap of the API token placing as `via`, under that token's row lock (taken
    after the account's, in the caller's transaction): one writer per token, like the budget."""
    reason = cap_violation(via, hooks.spend_cap(via), cost_sun)
    if reason:
        raise CapExceeded(reason)


def _ask_for_approval(order: Order, account: ProviderAccount, actor: Any, via: str) -> None:
    threshold = format_trx(account.approval_above_sun or 0)
    note(
        order,
        f"Awaiting approval: {format_trx(order.quoted_cost_sun or 0)} TRX is above "
        f"{account.name}'s approval threshold of {threshold} TRX. Nothing was sent; another "
        "operator or admin must approve it.",
        actor=actor,
        label=via,
    )
    AuditEvent.record(
        "order.approval_requested",
        order,
        actor=actor,
        actor_label=via if not getattr(actor, "is_authenticated", False) else "",
        details={
            "account": account.name,
            "quoted_cost_sun": order.quoted_cost_sun,
            "approval_above_sun": account.approval_above_sun,
        },
    )
    # Subscribers (the API's order.awaiting_approval webhook) hear of it once it is committed.
    transaction.on_commit(lambda: send_settled(order, Status.AWAITING_APPROVAL))


def _lock_limits(account: ProviderAccount) -> ProviderAccount:
    """Lock the account's row for this transaction and read its limits as they are now.

    One short statement (the limits are all the budget check reads; a whole-model ORM read
    under the lock cost twice as long, on every placement). SQLite needs no row lock: its
    transactions take the write lock when they begin.
    """
    table = connection.ops.quote_name(ProviderAccount._meta.db_table)
    lock = " FOR NO KEY UPDATE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max_order_sun, daily_budget_sun, approval_above_sun FROM {table} "
            f"WHERE id = %s{lock}",
            [account.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise PlacementRefused(f"The account {account.name} no longer exists.")
    account.max_order_sun, account.daily_budget_sun, account.approval_above_sun = row
    return account


def _send(order: Order, spec: OrderSpec, adapter: Adapter, actor: Any, via: str) -> None:
    try:
        with logcontext.bind_order(order):
            _send_once(order, spec, adapter, actor, via)
    finally:
        metrics.count(
            metrics.ORDERS_PLACED,
            provider=spec.account.provider,
            account=spec.account.name,
            kind=order.kind,
            outcome=order.status,
        )


def _send_once(order: Order, spec: OrderSpec, adapter: Adapter, actor: Any, via: str) -> None:
    """Send the draft once and record the outcome. Whatever happens after the request left, the
    order leaves `draft` (a recording failure sends it to review), so it is never stranded."""
    adapter.exchanges.clear()  # keep only the placing exchange on the order's timeline
    try:
        placed = _call_provider(order, spec, adapter)
    except ProviderError as exc:
        _record_safely(order, adapter, actor, via)
        record_placement_failed(order, exc, adapter, actor, via)
    except Exception as exc:  # a bug or an unreadable answer after the request left
        logger.exception("unexpected error placing order %s", order.code)
        _record_safely(order, adapter, actor, via)
        failure = ProviderError(
            base.UNKNOWN,
            f"its answer could not be read ({type(exc).__name__})",
            provider=spec.account.provider,
        )
        record_placement_failed(order, failure, adapter, actor, via)
    else:
        try:
            # The usual case in one transaction: the exchange, the placed state and the audit
            # row commit together (one commit instead of three, issue 9).
            with transaction.atomic():
                record_exchanges(order, adapter.exchanges, actor=actor, label=via)
                record_placed(order, placed, actor, via)
                _audit_placed(order, spec, actor, via)
            return
        except Exception:  # nothing of it was written: record each part on its own below
            logger.exception("recording the placement of order %s failed; retrying", order.code)
        _record_safely(order, adapter, actor, via)
        try:
            record_placed(order, placed, actor, via)
        except Exception as exc:  # the provider accepted it: never leave it in draft
            logger.exception("recording the placement of order %s failed", order.code)
            to_review_after_send(order, placed, exc, actor, via)
    _audit_placed(order, spec, actor, via)


def _audit_placed(order: Order, spec: OrderSpec, actor: Any, via: str) -> None:
    AuditEvent.record(
        "order.placed",
        order,
        actor=actor,
        actor_label=via if not getattr(actor, "is_authenticated", False) else "",
        details={
            "account": spec.account.name,
            "kind": order.kind,
            "address": order.receive_address,
            "energy": order.energy,
            "quoted_cost_sun": order.quoted_cost_sun,
            "status": order.status,
        },
    )


# A caller that bounds how many placing requests one account has in flight (a batch run:
# ENERGYDASH_BATCH_CONCURRENCY per account) sets this, in the placing thread, to a function
# giving a context manager for an account id: only the placing request is sent inside it, so the
# database work before and after a send does not hold the account's share of the concurrency.
send_gate: contextvars.ContextVar[Callable[[int], contextlib.AbstractContextManager] | None] = (
    contextvars.ContextVar("send_gate", default=None)
)


def _call_provider(order: Order, spec: OrderSpec, adapter: Adapter) -> PlacedOrder:
    gate = send_gate.get()
    with gate(spec.account.pk) if gate is not None else contextlib.nullcontext():
        return _send_request(order, spec, adapter)


def _send_request(order: Order, spec: OrderSpec, adapter: Adapter) -> PlacedOrder:
    if spec.kind == Kind.ENERGY:
        return adapter.place_energy_order(
            spec.receive_address,
            spec.energy,
            spec.period,
            order.reference,
            activate=spec.activate,
            callback_url=callback_url(spec.account),
        )
    if spec.kind == Kind.COLLECTION:
        return adapter.place_collection_order(
            spec.receive_address,
            order.reference,
            to_address=spec.to_address or None,
            callback_url=callback_url(spec.account),
        )
    return adapter.activate_address(spec.receive_address, order.reference)


def _record_safely(order: Order, adapter: Adapter, actor: Any, via: str) -> None:
    """The raw exchange on the timeline; a failure to store it must not strand the order."""
    try:
        record_exchanges(order, adapter.exchanges, actor=actor, label=via)
    except Exception:
        logger.exception("could not record the exchanges of order %s", order.code)
