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
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from energydash.core.models import AuditEvent
from energydash.lib.tron import InvalidAddress, format_trx, validate_address
from energydash.orders import hooks
from energydash.orders.evidence import MAYBE_CHARGED, NO_EVIDENCE, NONE_CHARGED
from energydash.orders.limits import limit_violation
from energydash.orders.models import FINAL, Kind, Order, Status
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.orders.vetting import (
    Vetted,
    raw_text,
    recognised_raw_status,
    vet_energy,
    vet_raw,
    vet_raw_status,
    vet_ref,
    vet_status,
    vet_sun,
    vet_tx_hashes,
)
from energydash.providers import base
from energydash.providers.base import Adapter, OrderState, PlacedOrder, ProviderError
from energydash.providers.models import ProviderAccount
from energydash.providers.registry import ADAPTERS, adapter_for

logger = logging.getLogger("energydash.orders")

# Worst case energy for a collection: the recipient has never held USDT.
COLLECTION_ESTIMATE_ENERGY = 131_000
FIRST_POLL_SECONDS = 2  # then polling.next_delay: every 2-3 s while the order is young


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
            quote = adapter.quote(
                spec.energy, spec.period, spec.receive_address, activate=spec.activate
            )
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

    Exactly once: the same idempotency_key always yields the same order, and only the request
    that created that order's draft ever sends it. Every other submit with the key gets the order
    back as it is (possibly still being sent, or even refused) with `order.replayed = True` and
    sends nothing, however the requests interleave.
    """
    existing = _by_key(idempotency_key)
    if existing is not None:
        return existing
    try:
        return _place_new(spec, actor, via, idempotency_key, confirmed_cost_sun, client)
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
) -> Order:
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
        order, created = _create_draft(spec, estimate, quote, actor, via, idempotency_key)
        if not created:  # a concurrent submit of the same form created it: that one sends it
            return order
        order.replayed = False
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
        existing = _by_key(idempotency_key)
        if existing is not None:
            return existing, False
        raise
    return order, True


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
            f"SELECT max_order_sun, daily_budget_sun FROM {table} WHERE id = %s{lock}",
            [account.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise PlacementRefused(f"The account {account.name} no longer exists.")
    account.max_order_sun, account.daily_budget_sun = row
    return account


def _send(order: Order, spec: OrderSpec, adapter: Adapter, actor: Any, via: str) -> None:
    """Send the draft once and record the outcome. Whatever happens after the request left, the
    order leaves `draft` (a recording failure sends it to review), so it is never stranded."""
    adapter.exchanges.clear()  # keep only the placing exchange on the order's timeline
    try:
        placed = _call_provider(order, spec, adapter)
    except ProviderError as exc:
        _record_safely(order, adapter, actor, via)
        _placement_failed(order, exc, adapter, actor, via)
    except Exception as exc:  # a bug or an unreadable answer after the request left
        logger.exception("unexpected error placing order %s", order.code)
        _record_safely(order, adapter, actor, via)
        failure = ProviderError(
            base.UNKNOWN,
            f"its answer could not be read ({type(exc).__name__})",
            provider=spec.account.provider,
        )
        _placement_failed(order, failure, adapter, actor, via)
    else:
        try:
            # The usual case in one transaction: the exchange, the placed state and the audit
            # row commit together (one commit instead of three, issue 9).
            with transaction.atomic():
                record_exchanges(order, adapter.exchanges, actor=actor, label=via)
                _placed(order, placed, actor, via)
                _audit_placed(order, spec, actor, via)
            return
        except Exception:  # nothing of it was written: record each part on its own below
            logger.exception("recording the placement of order %s failed; retrying", order.code)
        _record_safely(order, adapter, actor, via)
        try:
            _placed(order, placed, actor, via)
        except Exception as exc:  # the provider accepted it: never leave it in draft
            logger.exception("recording the placement of order %s failed", order.code)
            _to_review_after_send(order, placed, exc, actor, via)
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


def _call_provider(order: Order, spec: OrderSpec, adapter: Adapter) -> PlacedOrder:
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


def _to_review_after_send(
    order: Order, placed: PlacedOrder, exc: Exception, actor: Any, via: str
) -> None:
    reason = f"its answer could not be recorded ({type(exc).__name__})"
    _leave_draft(
        order,
        Status.NEEDS_REVIEW,
        actor=actor,
        label=via,
        message=(
            f"The provider accepted this order (it may have charged), but {reason}. Its answer "
            f"was: {raw_text(placed.raw)}. Check the provider's dashboard, then mark it placed "
            "or not placed."
        ),
        last_error=f"Accepted by the provider, but {reason}.",
        submitted_at=timezone.now(),
    )


def _leave_draft(order: Order, to_status: str, **kwargs: Any) -> bool:
    """Move an order that this request sent out of `draft`.

    A slow provider can outlast DRAFT_GRACE, and then the poller has already moved the draft on
    (to unknown, or to review): the provider's answer is still the best fact, so it is applied
    to whatever open status the order has now. An order meanwhile concluded "not placed" that
    the provider did accept goes back to review rather than staying failed.
    """
    if transition(order, to_status, expected=Status.DRAFT, **kwargs):
        return True
    current = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
    if current in (Status.UNKNOWN, Status.NEEDS_REVIEW):
        order.status = current
        return transition(order, to_status, expected=current, **kwargs)
    if current == Status.FAILED and to_status != Status.FAILED:
        order.status = current
        message = kwargs.pop("message", "")
        return transition(
            order,
            Status.NEEDS_REVIEW,
            expected=current,
            message=(
                "The provider's answer to the placing request arrived after this order was "
                f"closed as failed: {message} Check the provider and decide again."
            ),
            **{k: v for k, v in kwargs.items() if k != "next_poll_at"},
        )
    order.refresh_from_db()
    return False


def vet_placed(order: Order, placed: PlacedOrder) -> Vetted:
    """The placing answer's values that are safe to store, and any problems in words."""
    vetted = Vetted()
    ref = vet_ref(placed.provider_ref, vetted)
    if ref is None and not vetted.problems:
        vetted.problems.append("the provider gave no order id")
    if ref:
        vetted.fields["provider_ref"] = ref
    vetted.fields["raw_status"] = vet_raw_status(placed.raw_status, vetted)
    if placed.status not in (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED) or (
        order.account.provider == "tronzap"
        and not recognised_raw_status(order.account.provider, placed.raw_status)
    ):
        # itrx and Netts answer a placement without a status of their own; TronZap sends one.
        vetted.problems.append(
            f"the provider answered with status {raw_text(placed.raw_status, 60)}, which "
            "energydash does not know"
        )
    for name, value in (
        ("cost_sun", placed.cost_sun),
        ("balance_after_sun", placed.balance_after_sun),
    ):
        words = "cost" if name == "cost_sun" else "balance after the order"
        amount = vet_sun(value, vetted, words)
        if amount is not None:
            vetted.fields[name] = amount
    hashes = vet_tx_hashes(placed.tx_hashes, vetted)
    if hashes:
        vetted.fields["tx_hashes"] = hashes
    vet_raw(placed.raw, vetted, order.account.provider)
    return vetted


def _placed(order: Order, placed: PlacedOrder, actor: Any, via: str) -> None:
    now = timezone.now()
    vetted = vet_placed(order, placed)
    fields: dict[str, Any] = {
        **vetted.fields,
        "submitted_at": now,
        "next_poll_at": now + timedelta(seconds=FIRST_POLL_SECONDS),
    }
    if not vetted.ok:
        reason = vetted.reason()
        _leave_draft(
            order,
            Status.NEEDS_REVIEW,
            actor=actor,
            label=via,
            message=(
                f"The provider accepted this order (it may have charged), but its answer is "
                f"not usable: {reason}. Raw answer: {raw_text(placed.raw)}. Check the provider's "
                "dashboard, then mark it placed (with its order id) or not placed."
            ),
            last_error=f"Provider answer not usable: {reason}."[:1000],
            **fields,
        )
        return
    status = placed.status
    cost = fields.get("cost_sun", order.quoted_cost_sun)
    _leave_draft(
        order,
        status,
        message=(
            f"Accepted by the provider as {fields['provider_ref']}; cost {format_trx(cost)} TRX."
        ),
        actor=actor,
        label=via,
        **fields,
    )
    if "balance_after_sun" in fields:
        hooks.balance_reported(order.account, fields["balance_after_sun"])


def _placement_failed(
    order: Order, exc: ProviderError, adapter: Adapter, actor: Any, via: str
) -> None:
    if exc.outcome in (base.REJECTED, base.UNAVAILABLE):
        _leave_draft(
            order, Status.FAILED, message=str(exc), actor=actor, label=via, last_error=str(exc)
        )
        return
    _leave_draft(
        order,
        Status.UNKNOWN,
        message=str(exc),
        actor=actor,
        label=via,
        last_error=str(exc),
        submitted_at=timezone.now(),
        next_poll_at=timezone.now() + timedelta(seconds=FIRST_POLL_SECONDS),
    )
    try:
        reconcile(order, adapter, label=via)
    except Exception as failure:  # the poller reconciles it later; the request must not fail
        logger.exception("reconciling order %s right after placing failed", order.code)
        note(
            order,
            f"Looking the order up right away failed ({type(failure).__name__}); the poller "
            "will try again.",
            label=via,
        )


def reconcile(order: Order, adapter: Adapter, *, label: str, now: datetime | None = None) -> bool:
    """Settle an `unknown` order by asking the provider for it by our reference.

    Found: adopt the provider's record. Not found after several looks (spread over time, so a
    slow provider is not mistaken for a missing order) AND the balance history shows no money
    gone that could be this order: it was not placed (see conclude_not_found). Provider without
    lookup by reference (Netts): a person decides (needs_review).
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
            return _not_found(order, adapter, label, now or timezone.now())
        note(order, f"Reconciliation attempt failed, will retry: {exc}", label=label)
        return False
    record_exchanges(order, adapter.exchanges, label=label)
    return apply_state(
        order, state, label=label, message="Reconciled: the provider has this order."
    )


def _not_found(order: Order, adapter: Adapter, label: str, now: datetime) -> bool:
    misses = (
        order.events.filter(kind="note", message__startswith="Not found by reference").count() + 1
    )
    settle_after = timedelta(seconds=settings.ENERGYDASH_RECONCILE_NOT_FOUND_SECONDS)
    if misses >= 3 and now - order.created >= settle_after:
        return conclude_not_found(order, adapter, label, misses)
    note(
        order,
        f"Not found by reference {order.reference} (look {misses}); will look again.",
        label=label,
    )
    return False


def conclude_not_found(order: Order, adapter: Adapter, label: str, misses: int) -> bool:
    """The provider keeps saying "no such order". Conclude "not placed, nothing was charged" only
    when independent evidence agrees; otherwise a person decides, with the facts in words.

    Why: a lookup by our reference is documented by itrx only on its newest page; if the live
    API ignored the parameter, "not found" would say nothing, and "not placed" would invite the
    operator to buy again. Evidence, after one fresh balance reading:
    - the ledger: readings from before and after the send, no unexplained decrease (money gone
      that no confirmed order accounts for) as large as this order's cost, no unexplained
      top-up that could hide one;
    - for itrx, its usage summary for the key: the day's order count and sum equal to what the
      console recorded as charged. A higher count is taken as a charge; an equal one counts as
      agreement only when the balance has no evidence either way (it never overrides a
      balance that shows money gone).
    """
    lookup = (
        f"{order.account.get_provider_display()} has no order with our reference "
        f"{order.reference} ({misses} lookups)"
    )
    balance = hooks.balance_evidence(order, adapter)  # the ledger (balances/evidence.py)
    summary = hooks.summary_evidence(order, adapter)
    facts = balance.words + (f"; {summary.words}" if summary else "")
    not_placed = (summary is None or summary.verdict != MAYBE_CHARGED) and (
        balance.verdict == NONE_CHARGED
        or (
            balance.verdict == NO_EVIDENCE
            and summary is not None
            and summary.verdict == NONE_CHARGED
        )
    )
    if not_placed:
        return transition(
            order,
            Status.FAILED,
            label=label,
            last_error="Not placed: the provider has no such order; the evidence shows no charge.",
            message=f"{lookup}, and {facts}: it was not placed and nothing was charged.",
        )
    return transition(
        order,
        Status.NEEDS_REVIEW,
        label=label,
        last_error=f"The provider has no such order, but {facts}.",
        message=(
            f"{lookup}, but {facts}, so energydash cannot conclude that nothing was "
            "charged. Check the provider's dashboard and the account's balance, then mark it "
            "placed or not placed. It will not be re-sent automatically."
        ),
    )


STATUS_FROM_ADAPTER = {
    base.SUBMITTED: Status.SUBMITTED,
    base.DELEGATING: Status.DELEGATING,
    base.COMPLETED: Status.COMPLETED,
    base.FAILED: Status.FAILED,
    base.REFUNDED: Status.REFUNDED,
}


def vet_state(order: Order, state: OrderState) -> tuple[str | None, Vetted]:
    """The order status the provider's record means (None: not known) and the safe fields."""
    vetted = Vetted()
    provider = order.account.provider
    raw_status = vet_raw_status(state.raw_status, vetted)
    vetted.fields["raw_status"] = raw_status
    status = vet_status(state.status, state.raw_status, provider, vetted)
    ref = vet_ref(state.provider_ref, vetted)
    if ref and not order.provider_ref:
        vetted.fields["provider_ref"] = ref
    cost = vet_sun(state.cost_sun, vetted, "cost")
    if cost is not None:
        vetted.fields["cost_sun"] = cost
    refund = vet_sun(state.refund_sun, vetted, "refund")
    if refund is not None:
        paid = cost if cost is not None else order.cost_sun
        if paid is not None and refund > paid:
            vetted.problems.append(
                f"the refund of {format_trx(refund)} TRX is more than the {format_trx(paid)} TRX "
                "paid"
            )
        else:
            vetted.fields["refund_sun"] = refund
    delivered = vet_energy(state.energy_delivered, vetted)
    if delivered is not None:
        vetted.fields["energy_delivered"] = delivered
    hashes = vet_tx_hashes(state.tx_hashes, vetted)
    if hashes:
        vetted.fields["tx_hashes"] = hashes
    vet_raw(state.raw, vetted, provider)
    return (STATUS_FROM_ADAPTER.get(status) if status else None), vetted


def apply_state(
    order: Order,
    state: OrderState,
    *,
    label: str,
    message: str = "",
    actor: Any = None,
) -> bool:
    """Bring the order in line with the provider's record. Final orders never move again.

    Every value is vetted first; a record with anything odd (unknown status, an amount that is
    NaN, huge or negative, an over-long id, junk transaction ids) changes no status or money
    field to garbage: the order goes to needs_review with the reason and the raw record.
    """
    if order.status in FINAL:
        return False
    to_status, vetted = vet_state(order, state)
    fields = vetted.fields
    if order.status == Status.UNKNOWN and order.submitted_at is None:
        fields["submitted_at"] = timezone.now()
    if not vetted.ok:
        return flag_odd_answer(order, vetted, state.raw, label=label, actor=actor, lead=message)
    changed_fields = {k: v for k, v in fields.items() if getattr(order, k) != v}
    if to_status == order.status and not changed_fields:
        return False
    if to_status == order.status:
        text = message
    else:
        text = message or f"Provider reports {state.raw_status or state.status}."
    return transition(order, to_status, message=text, actor=actor, label=label, **fields)


def flag_odd_answer(
    order: Order, vetted: Vetted, raw: Any, *, label: str, actor: Any = None, lead: str = ""
) -> bool:
    """Send an order whose provider record cannot be trusted to review, keeping the safe fields
    (an id, valid transaction ids) and the raw record as text on the timeline."""
    reason = vetted.reason()
    safe = {
        k: v
        for k, v in vetted.fields.items()
        if k in ("provider_ref", "tx_hashes", "submitted_at") and getattr(order, k) != v
    }
    text = (
        f"{lead + ' ' if lead else ''}The provider's answer is not usable: {reason}. Raw answer: "
        f"{raw_text(raw)}. Nothing was taken from it but the safe fields; check the order at "
        "the provider, then mark it placed or not placed."
    )
    if order.status == Status.NEEDS_REVIEW:
        note(order, text, actor=actor, label=label)
        return bool(safe) and transition(order, Status.NEEDS_REVIEW, label=label, **safe)
    return transition(
        order,
        Status.NEEDS_REVIEW,
        message=text,
        actor=actor,
        label=label,
        last_error=f"Provider answer not usable: {reason}."[:1000],
        **safe,
    )
