"""Settling an `unknown` order: did the provider place it, and was anything charged?

A lost answer to a placing request is never retried: the order is looked up by our reference
(itrx `out_trade_no`, TronZap `external_id`). Found: the provider's record is adopted
(provider_state.py). Not found, repeatedly: "not placed, nothing charged" only when independent
evidence agrees (the ledger and itrx's summary, asked through orders.hooks); otherwise, and
where no lookup exists (Netts), a person decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from energydash.orders import hooks
from energydash.orders.evidence import MAYBE_CHARGED, NO_EVIDENCE, NONE_CHARGED
from energydash.orders.models import Order, Status
from energydash.orders.provider_state import apply_state
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Adapter, ProviderError


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
    if misses >= 3 and now - order.started_at >= settle_after:
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
