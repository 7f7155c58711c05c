"""The ledger's evidence on an uncertain order: was it charged?

Reconciliation (orders/reconciliation.py) asks for it through orders.hooks (balance_evidence,
summary_evidence) when a provider keeps saying it has no such order; it only weighs the
verdicts. Reading the balance history and itrx's usage summary against what the console
recorded is ledger work, so it lives here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import combinations

from django.conf import settings
from django.db.models import Min
from django.db.models.functions import Coalesce
from django.utils import timezone

from energydash.balances.ledger import build_intervals, unexplained_decrease_sun
from energydash.balances.ledger_checks import ITRX_ZONE, recorded_for_itrx_day
from energydash.balances.models import BalanceSnapshot
from energydash.balances.services import refresh_account
from energydash.lib.tron import format_trx
from energydash.orders.evidence import (
    MAYBE_CHARGED,
    NO_EVIDENCE,
    NONE_CHARGED,
    Evidence,
    ReviewFacts,
)
from energydash.orders.models import POSSIBLE_STATUSES, Order
from energydash.orders.transitions import record_exchanges
from energydash.providers.base import Adapter

# The order's story: these lines belong with the reconciliation that asked for the evidence.
logger = logging.getLogger("energydash.orders")


def balance_evidence(order: Order, adapter: Adapter) -> Evidence:
    """What the account's balance history says about whether this order was charged, after
    one fresh reading (so a charge made during the send is inside the history)."""
    try:
        refresh_account(order.account, client=adapter.client)
    except Exception:
        logger.exception("balance refresh before concluding order %s failed", order.code)
    return judge(order)


def charge_window(order: Order) -> tuple[datetime, datetime]:
    """When the provider could have charged this order: from the moment the request left (the
    draft is saved just before it is sent) to a slack after energydash gave up waiting for the
    answer (submitted_at; a provider may still have been processing it)."""
    slack = timedelta(seconds=settings.ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS)
    return order.started_at, (order.submitted_at or order.started_at) + slack


def review_facts(order: Order) -> ReviewFacts:
    """The balance history's facts on an order in review, from the stored readings only (the
    order page shows them; no provider is called)."""
    readings = BalanceSnapshot.objects.filter(account=order.account).order_by("-taken_at", "-id")
    before = readings.filter(taken_at__lte=order.started_at).values("balance_sun", "taken_at")
    before = before.first()
    latest = readings.values("balance_sun", "taken_at").first()
    after = latest if latest and (not before or latest["taken_at"] > before["taken_at"]) else None
    since, until = charge_window(order)
    decrease = unexplained_decrease_sun(order.account, since, until)
    return ReviewFacts(
        evidence=judge(order, decrease=decrease),
        before_sun=before["balance_sun"] if before else None,
        before_at=before["taken_at"] if before else None,
        latest_sun=after["balance_sun"] if after else None,
        latest_at=after["taken_at"] if after else None,
        unexplained_decrease_sun=decrease,
    )


_ASK = object()


def judge(order: Order, *, decrease: int | None | object = _ASK) -> Evidence:
    """The verdict of the readings already recorded (balance_evidence without the refresh);
    `decrease`: unexplained_decrease_sun since the order was sent, when the caller has it."""
    account = order.account
    since, until = charge_window(order)
    cost = least_charge_sun(order)
    cost_words = f"this order's {format_trx(cost)} TRX"
    readings = BalanceSnapshot.objects.filter(account=account)
    if not readings.filter(taken_at__lte=since).exists():
        return Evidence(
            NO_EVIDENCE, "there is no balance reading of the account from before it was sent"
        )
    if not readings.filter(taken_at__gt=until).exists():
        return Evidence(
            NO_EVIDENCE,
            "there is no balance reading of the account since it could have been charged (the "
            "balance could not be refreshed, or not yet)",
        )
    if decrease is _ASK:
        decrease = unexplained_decrease_sun(account, since, until)
    if not isinstance(decrease, int):
        return Evidence(NO_EVIDENCE, "there is no balance reading since it was sent")
    rounding = 2 * (account.ledger_tolerance_sun or 0)
    if decrease + rounding >= cost:
        placed = _placed_others_explain(order, since, until, cost)
        if placed is not None:
            return placed
        return Evidence(
            MAYBE_CHARGED,
            f"the balance fell by {format_trx(decrease)} TRX more than recorded orders explain "
            f"while it could have been charged, enough to cover {cost_words}",
        )
    end = readings.filter(taken_at__gte=until).order_by("taken_at", "id")
    last = end.values_list("taken_at", flat=True).first()
    end_times = readings.filter(taken_at__gt=since, taken_at__lte=last)
    topups = [
        iv
        for iv in build_intervals(account, end_times.values_list("taken_at", flat=True))
        if iv.overlaps(since, until) and iv.topup_sun
    ]
    if topups:
        total = sum(iv.topup_sun for iv in topups)
        return Evidence(
            MAYBE_CHARGED,
            f"the balance rose by {format_trx(total)} TRX that no order explains (a top-up?) "
            f"while it could have been charged, which could hide a charge of {cost_words}",
        )
    left = (
        f"only {format_trx(decrease)} TRX left the account unexplained"
        if decrease
        else "no money left the account unexplained"
    )
    slack = settings.ENERGYDASH_RECONCILE_CHARGE_SLACK_SECONDS
    return Evidence(
        NONE_CHARGED,
        f"the balance agrees: from when it was sent to {slack} s after its answer was given up "
        f"on, {left}, less than {cost_words}",
    )


def least_charge_sun(order: Order) -> int:
    """The least this order can have been charged: its recorded cost, else its quote, less an
    activation the quote counted that the provider may not have charged (an address already
    active): the energy at the quoted price."""
    if order.cost_sun is not None:
        return order.cost_sun
    quoted = order.quoted_cost_sun or 0
    if order.unit_price_sun is not None and order.energy:
        return min(quoted, int(order.unit_price_sun * order.energy))
    return quoted


def summary_evidence(order: Order, adapter: Adapter) -> Evidence | None:
    """itrx's own count of this API key's orders for the day the order was sent, against what
    the console recorded as charged that day; None when there is no such figure."""
    summary_of = getattr(adapter, "summary", None)
    if summary_of is None or order.account.provider != "itrx":
        return None
    sent_day = order.created.astimezone(ITRX_ZONE).date()
    today = timezone.now().astimezone(ITRX_ZONE).date()
    if sent_day not in (today, today - timedelta(days=1)):
        return None
    adapter.exchanges.clear()
    try:
        summary = summary_of()
    except Exception as exc:  # no figure: the balance alone decides
        logger.info("itrx summary for order %s not available: %s", order.code, exc)
        return None
    finally:
        record_exchanges(order, adapter.exchanges, label="reconcile:summary")
    when = "today" if sent_day == today else "yesterday"
    count = summary.today_count if sent_day == today else summary.yesterday_count
    total = summary.today_sum_trx if sent_day == today else summary.yesterday_sum_trx
    recorded = recorded_for_itrx_day(order.account, sent_day)
    figures = (
        f"itrx counts {count} order(s) for {format_trx(total)} TRX {when} for this key, "
        f"energydash recorded {recorded['count']} charged for {format_trx(recorded['sun'])} TRX"
    )
    if count == recorded["count"] and total == recorded["sun"]:
        return Evidence(NONE_CHARGED, f"{figures} (they agree)")
    if count > recorded["count"] or total > recorded["sun"]:
        return Evidence(MAYBE_CHARGED, f"{figures}: itrx has more, which may be this order")
    return Evidence(NO_EVIDENCE, f"{figures} (fewer: no evidence either way)")


def _placed_others_explain(
    order: Order, since: datetime, until: datetime, cost: int
) -> Evidence | None:
    """NONE_CHARGED when the unexplained decrease is other uncertain orders' charges, else None.

    The ledger lets an uncertain order's possible charge explain nothing, so an uncertain
    order the chain shows was placed (its provider's delegator put energy on its own address
    in its window: charged, perhaps delivered short or taken back; chain_evidence.placed_on_chain)
    still leaves its charge unexplained, and blocks every order whose charge window overlaps
    it. Widen the window to hold each such order's whole charge window: if this order was
    charged as well, the money gone there that confirmed orders do not explain is at least its
    cost plus theirs (a charge is never below the quote it was placed at), within the readings'
    rounding. Less than that, with no unexplained rise that could hide a charge, and this
    order was not charged. None when it does not settle (no such orders, readings missing)."""
    from energydash.orders import chain_evidence

    if not chain_evidence.enabled():
        return None
    account = order.account
    nearby = (
        Order.objects.filter(
            account=account,
            status__in=POSSIBLE_STATUSES,
            created__gte=since - timedelta(hours=1),
            created__lte=until,
        )
        .exclude(pk=order.pk)
        .exclude(receive_address=order.receive_address)  # its energy could be this order's
    )
    placed = []
    for other in nearby:
        start, end = charge_window(other)
        if start <= until and end >= since and other.chain_sightings:
            if chain_evidence.placed_on_chain(other, chain_evidence.known_delegators(other)):
                placed.append((other, start, end))
    if not placed:
        return None
    # Each set of such orders gives its own bound; the smallest widening that settles it wins
    # (a wider one may take in a charge nothing explains, such as an order never delivered).
    placed.sort(key=lambda p: abs((p[1] - since).total_seconds()))
    for size in range(1, min(len(placed), 3) + 1):
        for chosen in combinations(placed[:5], size):
            found = _weigh_with(order, since, until, cost, list(chosen))
            if found is not None:
                return found
    return None


def _weigh_with(order: Order, since: datetime, until: datetime, cost: int, placed: list):
    account = order.account
    wide_since = min([since, *(start for _, start, _ in placed)])
    wide_until = max([until, *(end for _, _, end in placed)])
    spans = _span(account, wide_since, wide_until)
    if spans is None:
        return None
    # Over the whole span, money gone that confirmed orders do not explain: residuals summed,
    # so a timing pair (an order's charge read in the interval before the one it is recorded
    # in) nets out inside it. A rise no order explains (a top-up could hide a charge), or a
    # refund (its money may land outside the span): no conclusion.
    if any(
        (iv.residual_sun > iv.tolerance_sun and not iv.timing) or iv.refunds_sun or iv.late_refunds
        for iv in spans
    ):
        return None
    decrease = -sum(iv.residual_sun for iv in spans)
    rounding = 2 * max(iv.tolerance_sun for iv in spans)  # readings' rounding telescopes
    theirs = sum(
        o.cost_sun if o.cost_sun is not None else (o.quoted_cost_sun or 0) for o, _, _ in placed
    )
    if decrease + rounding - theirs >= cost:
        return None
    codes = ", ".join(f"order {o.short_code}" for o, _, _ in placed)
    return Evidence(
        NONE_CHARGED,
        f"the balance agrees: {format_trx(decrease)} TRX left the account unexplained from "
        f"{wide_since:%H:%M:%S} to {wide_until:%H:%M:%S} UTC, and {codes}, which the chain "
        f"shows were placed, account for {format_trx(theirs)} TRX of it; what is left is less "
        f"than this order's {format_trx(cost)} TRX",
    )


def _span(account, since: datetime, until: datetime) -> list | None:
    """The intervals covering [since, until], widened back until every confirmed order
    recorded in them (at submitted_at) was sent inside them: a provider charges between the
    moment the request left and the answer, so each such order's charge lies inside and
    summing residuals never lets an order recorded inside offset a charge from outside. None
    when readings are missing at either end, or it does not close in a few steps."""
    lo = since
    readings = BalanceSnapshot.objects.filter(account=account)
    end = (
        readings.filter(taken_at__gt=until)
        .order_by("taken_at", "id")
        .values_list("taken_at", flat=True)
        .first()
    )
    if end is None:
        return None
    for _ in range(10):
        start = (
            readings.filter(taken_at__lte=lo)
            .order_by("-taken_at", "-id")
            .values_list("taken_at", flat=True)
            .first()
        )
        if start is None:
            return None
        sent = Order.objects.filter(
            account=account, submitted_at__gt=start, submitted_at__lte=end
        ).aggregate(first=Min(Coalesce("approved_at", "created")))["first"]
        if sent is not None and sent <= start:
            lo = sent
            continue
        times = readings.filter(taken_at__gt=start, taken_at__lte=end)
        spans = build_intervals(account, times.values_list("taken_at", flat=True))
        return sorted(spans, key=lambda iv: iv.started_at) or None
    return None
