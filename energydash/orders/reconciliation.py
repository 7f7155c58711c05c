"""Settling an `unknown` order: did the provider place it, and was anything charged?

A lost answer to a placing request is never retried: the order is looked up by our reference
(itrx `out_trade_no`, TronZap `external_id`). Found: the provider's record is adopted
(provider_state.py). Not found, repeatedly: "not placed, nothing charged" only when independent
evidence agrees (the ledger and itrx's summary, asked through orders.hooks); otherwise, and
where no lookup exists (Netts), a person decides.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from energydash.lib.tron import format_trx
from energydash.orders import chain_evidence, hooks
from energydash.orders.cost_check import check_charge
from energydash.orders.evidence import MAYBE_CHARGED, NO_EVIDENCE, NONE_CHARGED
from energydash.orders.late_refunds import check_recent
from energydash.orders.models import Kind, Order, Status
from energydash.orders.provider_state import apply_state
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Adapter, ProviderError

logger = logging.getLogger("energydash.orders")


def reconcile(order: Order, adapter: Adapter, *, label: str, now: datetime | None = None) -> bool:
    """Settle an `unknown` order by asking the provider for it by our reference.

    Found: adopt the provider's record. Not found after several looks (spread over time, so a
    slow provider is not mistaken for a missing order) AND the balance history shows no money
    gone that could be this order: it was not placed (see conclude_not_found). Provider without
    lookup by reference (Netts): a person decides (needs_review).
    """
    if order.status != Status.UNKNOWN:
        return False
    now = now or timezone.now()
    if not adapter.supports_reference_lookup:
        if chain_evidence.enabled() and order.kind == Kind.ENERGY:
            return settle_without_lookup(order, adapter, label, now)
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
            return _not_found(order, adapter, label, now)
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
    if misses >= 3 and now - order.started_at >= settle_after:
        return conclude_not_found(order, adapter, label, misses, now)
    note(
        order,
        f"Not found by reference {order.reference} (look {misses}); will look again.",
        label=label,
    )
    return False


def conclude_not_found(
    order: Order, adapter: Adapter, label: str, misses: int, now: datetime | None = None
) -> bool:
    """The provider keeps saying "no such order". Conclude "not placed, nothing was charged" only
    when independent evidence agrees; otherwise a person decides, with the facts in words.

    Why: a lookup by our reference is documented by itrx only on its newest page; if the live
    API ignored the parameter, "not found" would say nothing, and "not placed" would invite the
    operator to buy again. Evidence, after one fresh balance reading:
    - the ledger: readings from before the send and after the time it could have been charged
      (balances.evidence.charge_window), no unexplained decrease as large as this order's cost
      in that time, no unexplained top-up that could hide one;
    - for itrx, its usage summary for the key: the day's order count and sum equal to what the
      console recorded as charged. A higher count is taken as a charge; an equal one counts as
      agreement only when the balance has no evidence either way (it never overrides a
      balance that shows money gone);
    - the chain (when configured): a delegation that could be this order's forbids "not
      placed" (chain_evidence.py).
    While the evidence does not allow "not placed" and may still settle (another order's charge
    or refund not yet recorded), the order stays unknown and is weighed again at the next poll,
    for ENERGYDASH_RECONCILE_PATIENCE_SECONDS after it was sent; then it goes to review.
    """
    now = now or timezone.now()
    lookup = (
        f"{order.account.get_provider_display()} has no order with our reference "
        f"{order.reference} ({misses} lookups)"
    )
    not_placed, facts = weigh_not_found(order, adapter, now)
    if not_placed:
        return transition(
            order,
            Status.FAILED,
            label=label,
            last_error="Not placed: the provider has no such order; the evidence shows no charge.",
            message=f"{lookup}, and {facts}: it was not placed and nothing was charged.",
        )
    if _patient(order, now):
        # A rise the ledger cannot explain may be a refund not heard yet: ask about the
        # account's recently finished orders, so the next weighing has it.
        heard = check_recent(order.account, order.created - RECENT_REFUNDS, client=adapter.client)
        more = f"; {heard} late refund(s) heard meanwhile" if heard else ""
        note(
            order, f"Not concluded yet ({lookup}, but {facts}{more}); weighing again.", label=label
        )
        return False
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


def weigh_not_found(order: Order, adapter: Adapter, now: datetime) -> tuple[bool, str]:
    """(whether the evidence allows "not placed", the facts in words) for an order its
    provider says it does not have: the ledger after one fresh reading, itrx's summary, and
    the chain (see conclude_not_found)."""
    balance = hooks.balance_evidence(order, adapter)  # the ledger (balances/evidence.py)
    summary = hooks.summary_evidence(order, adapter)
    chain = chain_evidence.chain_facts(order, now)
    facts = balance.words + (f"; {summary.words}" if summary else "")
    if chain is not None:
        facts += f"; {chain.words}"
    chain_allows = chain is None or chain.verdict not in CHAIN_CHARGE_SIGNS
    not_placed = (
        chain_allows
        and (summary is None or summary.verdict != MAYBE_CHARGED)
        and (
            balance.verdict == NONE_CHARGED
            or (
                balance.verdict == NO_EVIDENCE
                and summary is not None
                and summary.verdict == NONE_CHARGED
            )
        )
    )
    return not_placed, facts


# Orders that finished this long before an uncertain order was sent may still refund into its
# charge window.
RECENT_REFUNDS = timedelta(minutes=15)
# Chain verdicts that say the order may have been charged: never "not placed" with them.
CHAIN_CHARGE_SIGNS = (chain_evidence.DELIVERED, chain_evidence.DOUBT)


def _patient(order: Order, now: datetime) -> bool:
    patience = timedelta(seconds=settings.ENERGYDASH_RECONCILE_PATIENCE_SECONDS)
    return now - order.created < patience


def _placed_on_chain(order: Order, adapter: Adapter, label: str, words: str) -> bool:
    """Completed on chain evidence. The provider stated no charge: the quoted cost, plus the
    activation a provider that activates unasked (Netts) charged when the chain shows the
    address was created after this order was sent and the quote did not count activation."""
    name = order.account.get_provider_display()
    cost = order.cost_sun if order.cost_sun is not None else order.quoted_cost_sun
    fields: dict = {}
    activation = chain_evidence.activated_by(order, adapter)
    if activation:
        cost, when = activation
        fields["cost_sun"] = cost
        charge = (
            f"The chain shows {order.receive_address} was activated at {when}, after this order "
            f"was sent, and {name} activates at cost: its charge is taken as the energy at the "
            f"quoted price plus activation, {format_trx(cost)} TRX; {name} stated none."
        )
    else:
        charge = f"Its charge is taken as the quoted {format_trx(cost)} TRX; {name} stated none."
    done = transition(
        order,
        Status.COMPLETED,
        label=label,
        last_error="",
        submitted_at=order.submitted_at or order.created,
        message=f"{words}: it was placed (settled on chain evidence). {charge}",
        **fields,
    )
    if done and "cost_sun" in fields:
        check_charge(order, label=label)
    return done


def settle_without_lookup(order: Order, adapter: Adapter, label: str, now: datetime) -> bool:
    """An unknown energy order at a provider that cannot be looked up by our reference (Netts):
    the chain and the ledger decide where they are conclusive, each decision with its reasons.

    - The energy arrived from the provider's delegator, of the size, in the window: placed
      (completed, at its quoted cost: the provider stated no figure).
    - No such delegation past the provider's deadline, and the ledger shows no charge: not
      placed, nothing was charged.
    - Otherwise it waits (energy not on chain yet, the ledger still settling), and after
      ENERGYDASH_RECONCILE_PATIENCE_SECONDS a person decides, with the facts.
    """
    name = order.account.get_provider_display()
    lead = f"{name} cannot look an order up by our reference"
    decided = _decide_without_lookup(order, adapter, label, now, lead)
    if isinstance(decided, bool):
        return decided
    words = decided
    if _patient(order, now):
        note(order, f"Waiting for evidence: {words}.", label=label)
        return False
    return transition(
        order,
        Status.NEEDS_REVIEW,
        label=label,
        last_error=f"Cannot be looked up, and {words}."[:1000],
        message=(
            f"{lead}, and the evidence does not settle it: {words}. Check the provider's "
            "dashboard, then mark it placed (with the provider's order id) or not placed. It "
            "will not be re-sent automatically."
        ),
    )


def _decide_without_lookup(
    order: Order, adapter: Adapter, label: str, now: datetime, lead: str
) -> bool | str:
    """Settle on the chain and the ledger where they are conclusive (the transition's result),
    else the facts in words (a str: nothing was written)."""
    chain = chain_evidence.chain_facts(order, now)
    if chain is None:
        return "the chain could not be asked"
    if chain.verdict == chain_evidence.DELIVERED:
        return _placed_on_chain(order, adapter, label, f"{lead}, but {chain.words}")
    if chain.verdict != chain_evidence.NONE_SEEN:
        return chain.words
    balance = hooks.balance_evidence(order, adapter)  # one fresh reading, then the ledger
    if balance.verdict != NONE_CHARGED:
        return f"{chain.words}, but {balance.words}"
    return transition(
        order,
        Status.FAILED,
        label=label,
        last_error="Not placed: no energy on chain and the balance shows no charge.",
        message=(
            f"{lead}, but {chain.words}, and {balance.words}: it was not placed and "
            "nothing was charged (settled on chain and ledger evidence)."
        ),
    )


REWEIGH_LABEL = "task:reweigh_reviews"


def reweigh(order: Order, adapter: Adapter, *, now: datetime | None = None) -> bool:
    """Weigh an order in review again, as reconciliation weighed it when it was unknown: new
    evidence may have come since (an uncertain neighbour settled, a balance reading, the
    energy on chain, the provider's record). Settled only where the evidence is conclusive,
    each decision with its reasons on the timeline; otherwise nothing is written and a person
    decides. Only orders reconciliation sent to review (they were unknown) are weighed. A
    person's decision takes the order out of review and every write here is conditional on it
    still being in review, so a decision is never overwritten. True when it moved."""
    if order.status != Status.NEEDS_REVIEW or order.provider_ref:
        return False
    came_from_unknown = order.events.filter(
        kind="state", from_status=Status.UNKNOWN, to_status=Status.NEEDS_REVIEW
    ).exists()
    if not came_from_unknown:
        return False
    now = now or timezone.now()
    label = REWEIGH_LABEL
    name = order.account.get_provider_display()
    if not adapter.supports_reference_lookup:
        if not (chain_evidence.enabled() and order.kind == Kind.ENERGY):
            return False
        lead = f"Weighed again in review: {name} cannot look an order up by our reference"
        decided = _decide_without_lookup(order, adapter, label, now, lead)
        return decided is True
    adapter.exchanges.clear()
    try:
        state = adapter.get_order(reference=order.reference)
    except ProviderError as exc:
        if not exc.not_found:
            return False
        adapter.exchanges.clear()
        not_placed, facts = weigh_not_found(order, adapter, now)
        if not not_placed:
            return False
        return transition(
            order,
            Status.FAILED,
            label=label,
            last_error="Not placed: the provider has no such order; the evidence shows no charge.",
            message=(
                f"Weighed again in review: {name} has no order with our reference "
                f"{order.reference}, and {facts}: it was not placed and nothing was charged."
            ),
        )
    record_exchanges(order, adapter.exchanges, label=label)
    return apply_state(
        order, state, label=label, message="Weighed again in review: the provider has this order."
    )


# Orders in review are weighed again for this long after they were sent (the evidence that can
# still come, a neighbour's fate, a late balance reading, settles within hours), at most
# REWEIGH_BATCH per pass, the newest first.
REWEIGH_HOURS = 24
REWEIGH_BATCH = 50


def reweigh_reviews(*, now: datetime | None = None, client: Any = None) -> int:
    """One pass of reweigh over the recent orders in review; how many it settled."""
    from energydash.providers.registry import adapter_for

    now = now or timezone.now()
    rows = (
        Order.objects.select_related("account")
        .filter(
            status=Status.NEEDS_REVIEW,
            provider_ref="",
            created__gte=now - timedelta(hours=REWEIGH_HOURS),
        )
        .order_by("-created", "-id")[:REWEIGH_BATCH]
    )
    settled = 0
    for order in list(rows):
        try:
            adapter = adapter_for(order.account.credentials(), client)
        except ProviderError:
            continue
        try:
            settled += reweigh(order, adapter, now=now)
        except Exception:  # one order's trouble never stops the pass; weighed again later
            logger.exception("weighing order %s again in review failed", order.code)
        finally:
            adapter.close()
    return settled
