"""Placing orders and keeping their state true to the provider's.

The order row (with our reference) is committed before the provider is called, so whatever
happens next — a refusal, a timeout, a crash — there is a record to reconcile. A placing request
is sent once; a lost answer makes the order `unknown`, resolved by looking it up by our reference
where the provider allows (itrx, TronZap) and by a person where it does not (Netts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.lib.tron import InvalidAddress, format_trx, validate_address
from energydash.orders.limits import limit_violation
from energydash.orders.models import FINAL, Kind, Order, Status
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers import base
from energydash.providers.base import Adapter, OrderState, PlacedOrder, ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import ADAPTERS, adapter_for

logger = logging.getLogger("energydash.orders")

# Worst case energy for a collection: the recipient has never held USDT.
COLLECTION_ESTIMATE_ENERGY = 131_000
FIRST_POLL_SECONDS = 5


class PlacementRefused(Exception):
    """Refused before anything was sent to the provider: nothing was charged."""


@dataclass(frozen=True)
class OrderSpec:
    account: ProviderAccount
    kind: str
    receive_address: str
    energy: int | None = None
    period: str = "1H"
    activate: bool = False
    to_address: str = ""


def adapter_class(account: ProviderAccount) -> type[Adapter]:
    return ADAPTERS[account.provider]


def check_spec(spec: OrderSpec) -> OrderSpec:
    """Everything we can refuse without asking the provider, in words an operator can act on."""
    account = spec.account
    if not account.enabled:
        raise PlacementRefused(f"{account.name} is disabled.")
    if account.credentials_problem:  # unreadable key/secret: refuse before any request
        raise PlacementRefused(f"{account.name}: {account.credentials_problem}.")
    cls = adapter_class(account)
    try:
        address = validate_address(spec.receive_address)
        to_address = validate_address(spec.to_address) if spec.to_address else ""
    except InvalidAddress as exc:
        raise PlacementRefused(f"Invalid TRON address: {exc}.") from None
    if spec.kind == Kind.ENERGY:
        if not spec.energy or spec.energy <= 0:
            raise PlacementRefused("Enter the amount of energy to rent.")
        if spec.period not in cls.periods:
            raise PlacementRefused(
                f"{account.name} does not offer {spec.period}; it offers {', '.join(cls.periods)}."
            )
    elif spec.kind == Kind.COLLECTION:
        if not cls.supports_collection:
            raise PlacementRefused("Collection orders exist only at itrx.")
    elif spec.kind == Kind.ACTIVATION:
        if not cls.supports_activation_order:
            raise PlacementRefused(
                f"{account.get_provider_display()} has no separate activation order: tick "
                "'activate the address' on an energy order instead."
            )
    else:
        raise PlacementRefused(f"Unknown order kind {spec.kind!r}.")
    energy = spec.energy if spec.kind == Kind.ENERGY else None
    period = spec.period if spec.kind == Kind.ENERGY else ""
    return replace(
        spec, receive_address=address, to_address=to_address, energy=energy, period=period
    )


def estimate_cost(spec: OrderSpec, adapter: Adapter) -> tuple[int, base.Quote | None]:
    """The cost the limits are checked against (a read; nothing is charged)."""
    try:
        if spec.kind == Kind.ENERGY:
            quote = adapter.quote(spec.energy, spec.period, spec.receive_address)
            _check_limits(spec, quote.limits)
            return quote.total_sun, quote
        if spec.kind == Kind.COLLECTION:
            quote = adapter.quote(COLLECTION_ESTIMATE_ENERGY, "1H", spec.receive_address)
            return quote.total_sun, quote
        return adapter.activation_price(spec.receive_address), None
    except ProviderError as exc:
        raise PlacementRefused(f"Could not get a price before placing: {exc}") from None


def _check_limits(spec: OrderSpec, limits: base.Limits) -> None:
    name = spec.account.get_provider_display()
    if limits.min_energy and spec.energy < limits.min_energy:
        raise PlacementRefused(
            f"{spec.energy:,} energy is below {name}'s minimum order of {limits.min_energy:,}."
        )
    if limits.max_energy and spec.energy > limits.max_energy:
        raise PlacementRefused(
            f"{spec.energy:,} energy is above {name}'s maximum order of {limits.max_energy:,}."
        )


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
) -> Order:
    """Place one order. Raises PlacementRefused (nothing sent) or returns the order in its state.

    The same idempotency_key always yields the same order, however often it is submitted.
    """
    if idempotency_key:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    spec = check_spec(spec)
    if confirmed_cost_sun is not None:
        # The operator saw this cost: a limit it breaks is refused before any provider call.
        reason = limit_violation(spec.account, confirmed_cost_sun)
        if reason:
            raise PlacementRefused(reason)
    adapter = adapter_for(spec.account.credentials(), client)
    try:
        estimate, quote = estimate_cost(spec, adapter)
        if confirmed_cost_sun is not None and estimate > confirmed_cost_sun:
            raise PlacementRefused(
                f"The price rose from {format_trx(confirmed_cost_sun)} to {format_trx(estimate)} "
                "TRX since you confirmed; review the order again."
            )
        order = _create_draft(spec, estimate, quote, actor, via, idempotency_key)
        if order.status != Status.DRAFT:  # a concurrent submit of the same form won the race
            return order
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
) -> Order:
    try:
        with transaction.atomic():
            # Lock the account so two placements cannot both fit under the same budget.
            account = ProviderAccount.objects.select_for_update().get(pk=spec.account.pk)
            reason = limit_violation(account, estimate)
            if reason:
                raise PlacementRefused(reason)
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
            )
            note(order, f"Created; quoted {format_trx(estimate)} TRX.", actor=actor, label=via)
    except IntegrityError:
        if idempotency_key:
            return Order.objects.get(idempotency_key=idempotency_key)
        raise
    return order


def _send(order: Order, spec: OrderSpec, adapter: Adapter, actor: Any, via: str) -> None:
    adapter.exchanges.clear()  # keep only the placing exchange on the order's timeline
    try:
        if spec.kind == Kind.ENERGY:
            placed = adapter.place_energy_order(
                spec.receive_address,
                spec.energy,
                spec.period,
                order.reference,
                activate=spec.activate,
                callback_url=callback_url(spec.account),
            )
        elif spec.kind == Kind.COLLECTION:
            placed = adapter.place_collection_order(
                spec.receive_address,
                order.reference,
                to_address=spec.to_address or None,
                callback_url=callback_url(spec.account),
            )
        else:
            placed = adapter.activate_address(spec.receive_address, order.reference)
    except ProviderError as exc:
        record_exchanges(order, adapter.exchanges, actor=actor, label=via)
        _placement_failed(order, exc, adapter, actor, via)
    except Exception as exc:  # a bug after the request left: the money is in doubt, not lost
        logger.exception("unexpected error placing order %s", order.code)
        record_exchanges(order, adapter.exchanges, actor=actor, label=via)
        failure = ProviderError(
            base.UNKNOWN,
            f"unexpected error after sending ({type(exc).__name__})",
            provider=spec.account.provider,
        )
        _placement_failed(order, failure, adapter, actor, via)
    else:
        record_exchanges(order, adapter.exchanges, actor=actor, label=via)
        _placed(order, placed, actor, via)
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


def _placed(order: Order, placed: PlacedOrder, actor: Any, via: str) -> None:
    now = timezone.now()
    status = (
        placed.status
        if placed.status in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED)
        else Status.SUBMITTED
    )
    fields: dict[str, Any] = {
        "provider_ref": placed.provider_ref,
        "raw_status": placed.raw_status[:40],
        "submitted_at": now,
        "next_poll_at": now + timedelta(seconds=FIRST_POLL_SECONDS),
        "tx_hashes": list(placed.tx_hashes),
    }
    if placed.cost_sun is not None:
        fields["cost_sun"] = placed.cost_sun
    if placed.balance_after_sun is not None:
        fields["balance_after_sun"] = placed.balance_after_sun
    cost = placed.cost_sun if placed.cost_sun is not None else order.quoted_cost_sun
    transition(
        order,
        status,
        message=f"Accepted by the provider as {placed.provider_ref}; cost {format_trx(cost)} TRX.",
        actor=actor,
        label=via,
        **fields,
    )
    if placed.balance_after_sun is not None:
        _record_balance(order.account, placed.balance_after_sun)


def _placement_failed(
    order: Order, exc: ProviderError, adapter: Adapter, actor: Any, via: str
) -> None:
    if exc.outcome in (base.REJECTED, base.UNAVAILABLE):
        transition(
            order, Status.FAILED, message=str(exc), actor=actor, label=via, last_error=str(exc)
        )
        return
    transition(
        order,
        Status.UNKNOWN,
        message=str(exc),
        actor=actor,
        label=via,
        last_error=str(exc),
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=FIRST_POLL_SECONDS),
    )
    reconcile(order, adapter, label=via)


def reconcile(order: Order, adapter: Adapter, *, label: str, now: datetime | None = None) -> bool:
    """Settle an `unknown` order by asking the provider for it by our reference.

    Found: adopt the provider's record. Not found after several looks (spread over time, so a
    slow provider is not mistaken for a missing order): it was never placed, so nothing was
    charged. Provider without lookup by reference (Netts): a person decides (needs_review).
    """
    if order.status != Status.UNKNOWN:
        return False
    if not adapter.supports_reference_lookup:
        return transition(
            order,
            Status.NEEDS_REVIEW,
            label=label,
            message=(
                f"{order.account.get_provider_display()} cannot look an order up by our "
                "reference, so energydash cannot tell whether this order was placed. Check the "
                "provider's dashboard, then mark it placed (with the provider's order id) or not "
                "placed. It will not be re-sent automatically."
            ),
        )
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(reference=order.reference)
    except ProviderError as exc:
        record_exchanges(order, adapter.exchanges, label=label)
        if exc.not_found:
            return _not_found(order, label, now or timezone.now())
        note(order, f"Reconciliation attempt failed, will retry: {exc}", label=label)
        return False
    record_exchanges(order, adapter.exchanges, label=label)
    return apply_state(
        order, state, label=label, message="Reconciled: the provider has this order."
    )


def _not_found(order: Order, label: str, now: datetime) -> bool:
    misses = (
        order.events.filter(kind="note", message__startswith="Not found by reference").count() + 1
    )
    settle_after = timedelta(seconds=settings.ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS)
    if misses >= 3 and now - order.created >= settle_after:
        return transition(
            order,
            Status.FAILED,
            label=label,
            last_error="The provider has no order with our reference: it was not placed.",
            message=(
                f"The provider has no order with reference {order.reference} after {misses} "
                "lookups: it was not placed and nothing was charged."
            ),
        )
    note(
        order,
        f"Not found by reference {order.reference} (look {misses}); will look again.",
        label=label,
    )
    return False


STATUS_FROM_ADAPTER = {
    base.SUBMITTED: Status.SUBMITTED,
    base.DELEGATING: Status.DELEGATING,
    base.COMPLETED: Status.COMPLETED,
    base.FAILED: Status.FAILED,
    base.REFUNDED: Status.REFUNDED,
}


def apply_state(
    order: Order,
    state: OrderState,
    *,
    label: str,
    message: str = "",
    actor: Any = None,
) -> bool:
    """Bring the order in line with the provider's record. Final orders never move again."""
    if order.status in FINAL:
        return False
    to_status = STATUS_FROM_ADAPTER.get(state.status, Status.DELEGATING)
    fields: dict[str, Any] = {"raw_status": state.raw_status[:40]}
    if state.provider_ref and not order.provider_ref:
        fields["provider_ref"] = state.provider_ref
    if state.cost_sun is not None:
        fields["cost_sun"] = state.cost_sun
    if state.energy_delivered is not None:
        fields["energy_delivered"] = state.energy_delivered
    if state.refund_sun is not None:
        fields["refund_sun"] = state.refund_sun
    if state.tx_hashes:
        fields["tx_hashes"] = list(state.tx_hashes)
    if order.status == Status.UNKNOWN and order.submitted_at is None:
        fields["submitted_at"] = timezone.now()
    changed_fields = {k: v for k, v in fields.items() if getattr(order, k) != v}
    if to_status == order.status and not changed_fields:
        return False
    if to_status == order.status:
        text = message
    else:
        text = message or f"Provider reports {state.raw_status or state.status}."
    return transition(order, to_status, message=text, actor=actor, label=label, **fields)


def _record_balance(account: ProviderAccount, balance_sun: int) -> None:
    from energydash.balances.services import record_balance

    record_balance(account, balance_sun, source="order")
