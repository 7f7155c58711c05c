"""One look at one order's delivery on chain: what it should be, what the chain says, and the
verdict written by one conditional UPDATE (the rules are delivery_rules.py; the pass that
claims orders and runs looks is delivery.py).

A look costs 2 node requests when the provider names its delegator (the receiver's resources
for the ratio, then that delegator's delegation to it), 2 + N when it does not (N delegators to
the receiver), 1 for an activation; later looks at a verified order read its delegators only.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from energydash.chain.answers import Delegations, ReceivedDelegation
from energydash.chain.delegations import MAX_DELEGATORS
from energydash.chain.outcomes import OK, UNAVAILABLE, Reading
from energydash.chain.reader import ChainReader
from energydash.lib.tron import InvalidAddress, validate_address
from energydash.orders import delivery_rules as rules
from energydash.orders.models import Delivery, Kind, Order, OrderEvent
from energydash.orders.signals import send_delivery_checked
from energydash.orders.transitions import clean_text, record_exchanges

MAINNET_URL = "https://api.trongrid.io"
LABEL = "task:verify_deliveries"
# A look whose read failed (rate limits, a node down) is tried again this much later; a pending
# order the chain cannot be read for this long after its deadline is "not checked".
RETRY_PENDING = timedelta(seconds=10)
RETRY_VERIFIED = timedelta(seconds=30)
GIVE_UP_AFTER_DEADLINE = timedelta(minutes=10)
# Early looks (before the provider's done is recorded): from EARLY_FIRST after the order was
# sent, one a block while it is younger than EARLY_WINDOW; after that the done transition asks.
EARLY_STATUSES = ("submitted", "delegating")
EARLY_FIRST = timedelta(seconds=3)
EARLY_STEP = timedelta(seconds=3)
EARLY_WINDOW = timedelta(seconds=60)
_PERIOD = re.compile(r"^(\d{1,3})([HD])$")
_DELEGATE_ADDRESS = re.compile(r'"delegateAddress"\s*:\s*"(T[1-9A-HJ-NP-Za-km-z]{33})"')
_TXID = re.compile(r"^[0-9a-fA-F]{64}$")


def period_of(order: Order) -> timedelta | None:
    match = _PERIOD.match((order.period or "").upper())
    if not match:
        return None
    n, unit = int(match.group(1)), match.group(2)
    return timedelta(hours=n) if unit == "H" else timedelta(days=n)


def known_delegator(order: Order) -> tuple[str, str]:
    """The delegator the provider named for this order (Netts' delegateAddress in its answer on
    the order's timeline), vetted as an address; ("", "") when none was named."""
    bodies = OrderEvent.objects.filter(
        order=order, kind="exchange", response_body__contains="delegateAddress"
    ).values_list("response_body", flat=True)
    for body in bodies:
        for found in _DELEGATE_ADDRESS.findall(body or ""):
            try:
                validate_address(found)
            except InvalidAddress:
                continue
            return found, f"{order.account.get_provider_display()}'s delegateAddress"
    return "", ""


def expectation(order: Order, now: datetime) -> rules.Expectation:
    evidence = order.delivery_evidence or {}
    if "delegator_known" in evidence:  # decided at the first look; kept for later ones
        delegator = evidence.get("delegator") or ""
        source = evidence.get("delegator_source", "")
    else:
        delegator, source = known_delegator(order)
    done = order.finished_at or now
    deadlines = settings.ENERGYDASH_DELIVERY_DEADLINE_SECONDS
    deadline = timedelta(seconds=deadlines.get(order.account.provider, 180))
    txid = next((t for t in order.tx_hashes or [] if isinstance(t, str) and _TXID.match(t)), "")
    return rules.Expectation(
        kind=order.kind,
        receiver=order.receive_address,
        energy=expected_energy(order),
        created=order.created,
        done=done,
        period=period_of(order),
        deadline=done + deadline,
        tolerance_percent=settings.ENERGYDASH_DELIVERY_TOLERANCE_PERCENT,
        delegator=delegator,
        delegator_source=source,
        txid=txid.lower(),
        mainnet=settings.ENERGYDASH_TRON_API_URL.rstrip("/") == MAINNET_URL,
    )


# A collection's energy is itrx's to decide (one USDT transfer: 65,000, or 131,000 to an address
# that never held USDT); it is held to what itrx says it delivered, or at least one transfer's.
ONE_TRANSFER_ENERGY = 65_000


def expected_energy(order: Order) -> int:
    if order.kind == Kind.COLLECTION:
        return order.energy_delivered or order.energy or ONE_TRANSFER_ENERGY
    return order.energy or 0


def read_from(reader: ChainReader, receiver: str, delegators: list[str]) -> Reading[Delegations]:
    """The receiver's delegations from the named delegators only: 1 + len(delegators) requests."""
    resource = reader.account_resource(receiver)
    if not resource.ok:
        return resource  # type: ignore[return-value]
    exchanges = list(resource.exchanges)
    found: list[ReceivedDelegation] = []
    for delegator in delegators:
        entries = reader.delegated_resources(delegator, receiver)
        if not entries.ok:
            return Reading(
                entries.outcome,
                message=f"reading what {delegator} delegates: {entries.message}",
                exchanges=(*exchanges, *entries.exchanges),
            )
        exchanges.extend(entries.exchanges)
        found.extend(
            ReceivedDelegation(
                delegator=delegator,
                staked_sun=e.energy_sun,
                expire_ms=e.energy_expire_ms,
                energy=resource.value.energy_for(e.energy_sun),
            )
            for e in entries.value
            if e.energy_sun > 0
        )
    value = Delegations(receiver, tuple(found), resource.value, calls=len(exchanges))
    return Reading(OK, value=value, exchanges=tuple(exchanges))


def read_first_look(
    reader: ChainReader, exp: rules.Expectation, now: datetime
) -> Reading[Delegations | None]:
    """An order's delegations, cheapest question first: what the named delegator gives (or, when
    none is named, who delegates to the receiver, then what each gives), and only if something
    is there, or the deadline has passed, the receiver's resources for the network ratio. Value
    None: nothing has landed yet, after 1 request. Otherwise 2 requests with a named delegator,
    2 + N for N delegators to the receiver."""
    exchanges: list[Any] = []

    def failed(reading: Reading[Any], what: str) -> Reading[Delegations | None]:
        return Reading(
            reading.outcome,
            message=f"{what}: {reading.message}" if reading.message else what,
            http_status=reading.http_status,
            exchanges=(*exchanges, *reading.exchanges),
        )

    if exp.delegator:
        delegators = [exp.delegator]
    else:
        index = reader.delegation_index(exp.receiver)
        if not index.ok:
            return failed(index, "reading who delegates to the receiver")
        exchanges.extend(index.exchanges)
        delegators = [d for d in index.value.from_accounts if d != exp.receiver]
        if len(delegators) > MAX_DELEGATORS:
            return Reading(
                UNAVAILABLE,
                message=f"{len(delegators):,} addresses delegate to {exp.receiver}; reading each "
                f"is more than the chain budget allows here (at most {MAX_DELEGATORS})",
                exchanges=tuple(exchanges),
            )
    given: list[tuple[str, Any]] = []
    for delegator in delegators:
        entries = reader.delegated_resources(delegator, exp.receiver)
        if not entries.ok:
            return failed(entries, f"reading what {delegator} delegates")
        exchanges.extend(entries.exchanges)
        given.extend((delegator, e) for e in entries.value if e.energy_sun > 0)
    if not given and now < exp.deadline:
        return Reading(OK, value=None, exchanges=tuple(exchanges))
    resource = reader.account_resource(exp.receiver)
    if not resource.ok:
        return failed(resource, "reading the receiver's resources")
    exchanges.extend(resource.exchanges)
    found = tuple(
        ReceivedDelegation(
            delegator=delegator,
            staked_sun=e.energy_sun,
            expire_ms=e.energy_expire_ms,
            energy=resource.value.energy_for(e.energy_sun),
        )
        for delegator, e in given
    )
    value = Delegations(exp.receiver, found, resource.value, calls=len(exchanges))
    return Reading(OK, value=value, exchanges=tuple(exchanges))


def mid_period_fraction(order: Order) -> float | None:
    """Where in its period a verified order gets its mid-period look, or None for the orders
    the sample leaves out: derived from the order's code, so every worker agrees."""
    digest = hashlib.sha256(f"delivery sample {order.code}".encode()).digest()
    pick = int.from_bytes(digest[:4]) / 2**32
    if pick * 100 >= settings.ENERGYDASH_DELIVERY_MIDPERIOD_PERCENT:
        return None
    return 0.2 + 0.6 * int.from_bytes(digest[4:8]) / 2**32


def end_look_at(exp: rules.Expectation) -> datetime | None:
    """The look near the end of the period: 5% of it before the end, between 1 and 10 minutes."""
    if exp.period_ends is None or exp.period is None:
        return None
    margin = min(max(exp.period / 20, timedelta(minutes=1)), timedelta(minutes=10))
    return exp.period_ends - margin


def next_pending_look(exp: rules.Expectation, now: datetime) -> datetime:
    """While nothing (or too little) is there: 1 s after done at first (the delegation lands in
    the next 3 s block), then half the time since done (at most 30 s), and always at the
    deadline. A missing order costs about a dozen looks until its deadline, not one a second."""
    age = max((now - exp.done).total_seconds(), 0.0)
    step = timedelta(seconds=min(max(1.0, age / 2), 30.0))
    return min(now + step, max(exp.deadline, now + timedelta(seconds=1)))


def next_verified_look(
    order: Order, exp: rules.Expectation, looks: list[Any], now: datetime
) -> datetime | None:
    end = end_look_at(exp)
    if end is None or now >= end:
        return None  # the end-of-period look was this one (or there is no period to watch)
    fraction = mid_period_fraction(order)
    if fraction is not None and not looks:
        mid = exp.done + (end - exp.done) * fraction
        if mid > now:
            return mid
    return end


def look(order: Order, reader: ChainReader, now: datetime) -> tuple[bool, int]:
    """Look once at a claimed order; write what it found. (changed, node requests used)."""
    exp = expectation(order, now)
    if (
        order.status in EARLY_STATUSES
        and order.kind == Kind.ENERGY
        and order.delivery_status in ("", Delivery.PENDING)
        and reader.configured
    ):
        return _look_early(order, exp, reader, now)
    if order.status != "completed":  # refunded or reopened since: nothing to verify any more
        return write(order, order.delivery_status or Delivery.PENDING, now, next_at=None), 0
    if not reader.configured:
        words = (
            "Not checked: no TRON node is configured (ENERGYDASH_TRON_API_URL is empty), so "
            "the chain was not asked."
        )
        evidence = {"status": rules.NOT_CHECKED, "words": words}
        changed = write(order, Delivery.NOT_CHECKED, now, evidence=evidence, words=words)
        return changed, 0
    if order.delivery_status == Delivery.VERIFIED:
        return _look_again(order, exp, reader, now)
    if order.kind == Kind.ACTIVATION:
        reading: Reading[Any] = reader.account(order.receive_address)
    else:
        reading = read_first_look(reader, exp, now)
    if not reading.ok:
        return _unread(order, exp, reading, now), reading.calls
    before = int((order.delivery_evidence or {}).get("calls") or 0)
    spent = before + reading.calls
    if reading.value is None:  # nothing landed yet, and the deadline is ahead
        evidence = {
            **(order.delivery_evidence or {}),
            "calls": spent,
            "delegator_known": bool(exp.delegator),
            "delegator": exp.delegator or None,
            "delegator_source": exp.delegator_source,
        }
        next_look = next_pending_look(exp, now)
        return write(
            order, Delivery.PENDING, now, evidence=evidence, next_at=next_look
        ), spent - before
    if order.kind == Kind.ACTIVATION:
        verdict = rules.judge_activation(exp, reading.value, now)
    else:
        verdict = rules.judge_energy(exp, reading.value, now)
        if verdict.status == rules.MISSING and exp.txid:
            # Nothing now; if the provider's transaction is in a block, it delivered and took
            # the energy back before we looked: reclaimed early, not never sent.
            tx = reader.transaction_info(exp.txid)
            spent += tx.calls
            reading = Reading(
                OK, value=reading.value, exchanges=(*reading.exchanges, *tx.exchanges)
            )
            if tx.ok:
                verdict = rules.judge_missing_with_tx(exp, verdict, tx.value)
    # What verifying took: node requests over every look until the verdict, and when it came.
    verdict.evidence.update(calls=spent, looked_at=now.isoformat())
    if verdict.status == rules.PENDING:
        next_at: datetime | None = next_pending_look(exp, now)
    elif verdict.status == rules.VERIFIED:
        next_at = next_verified_look(order, exp, [], now)
    else:
        next_at = None
    changed = write(
        order,
        verdict.status,
        now,
        energy=verdict.energy,
        evidence=verdict.evidence,
        next_at=next_at,
        words=verdict.words if verdict.status != rules.PENDING else "",
        exchanges=reading.exchanges,
    )
    return changed, spent - before


def _look_early(
    order: Order, exp: rules.Expectation, reader: ChainReader, now: datetime
) -> tuple[bool, int]:
    """A look before the provider's done is recorded: verified as soon as the energy is on
    chain; otherwise pending (nothing is short or missing before done), looked at again a block
    later while the order is young. The poller records the provider's done as before."""
    before = int((order.delivery_evidence or {}).get("calls") or 0)
    evidence: dict[str, Any] = {
        **(order.delivery_evidence or {}),
        "delegator_known": bool(exp.delegator),
        "delegator": exp.delegator or None,
        "delegator_source": exp.delegator_source,
    }
    again: datetime | None = now + EARLY_STEP
    if again - order.created > EARLY_WINDOW:
        again = None  # the transition to done makes the next look due
    reading = read_first_look(reader, exp, now)
    evidence["calls"] = before + reading.calls
    if not reading.ok:
        evidence["last_read"] = str(reading)[:300]
    elif reading.value is not None:
        verdict = rules.judge_energy(exp, reading.value, now)
        if verdict.status == rules.VERIFIED:
            words = (
                f"{verdict.words} Seen on chain before the provider's done was recorded "
                f"({int((now - order.created).total_seconds())} s after the order was sent)."
            )
            verdict.evidence.update(
                calls=before + reading.calls,
                looked_at=now.isoformat(),
                before_done=True,
                words=words,
            )
            changed = write(
                order,
                Delivery.VERIFIED,
                now,
                energy=verdict.energy,
                evidence=verdict.evidence,
                next_at=next_verified_look(order, exp, [], now),
                words=words,
                exchanges=reading.exchanges,
            )
            return changed, reading.calls
    return write(order, Delivery.PENDING, now, evidence=evidence, next_at=again), reading.calls


def _look_again(
    order: Order, exp: rules.Expectation, reader: ChainReader, now: datetime
) -> tuple[bool, int]:
    verified = dict(order.delivery_evidence or {})
    looks = list(verified.get("looks") or [])
    reading = read_from(reader, order.receive_address, list(verified.get("delegators") or []))
    if not reading.ok:
        ends = exp.period_ends
        retry = now + RETRY_VERIFIED
        next_at = retry if ends and retry < ends else None
        looks.append({"at": now.isoformat(), "unread": str(reading)[:300]})
        return write(
            order, Delivery.VERIFIED, now, evidence={**verified, "looks": looks}, next_at=next_at
        ), reading.calls
    verdict = rules.judge_still_there(exp, verified, reading.value, now)
    if verdict.status == rules.RECLAIMED_EARLY:
        changed = write(
            order,
            Delivery.RECLAIMED_EARLY,
            now,
            energy=verdict.energy,
            evidence=verdict.evidence,
            words=verdict.words,
            exchanges=reading.exchanges,
        )
        return changed, reading.calls
    looks.append(verdict.evidence)
    next_at = next_verified_look(order, exp, looks, now)
    changed = write(
        order, Delivery.VERIFIED, now, evidence={**verified, "looks": looks}, next_at=next_at
    )
    return changed, reading.calls


def _unread(order: Order, exp: rules.Expectation, reading: Reading[Any], now: datetime) -> bool:
    """The chain could not be read: look again soon, or give up as "not checked"."""
    evidence = {**(order.delivery_evidence or {}), "last_read": str(reading)[:300]}
    evidence["calls"] = int(evidence.get("calls") or 0) + reading.calls
    if now < exp.deadline + GIVE_UP_AFTER_DEADLINE:
        return write(order, Delivery.PENDING, now, evidence=evidence, next_at=now + RETRY_PENDING)
    words = f"Not checked: the chain could not be read until well after the deadline ({reading})."
    evidence.update(status=rules.NOT_CHECKED, words=words)
    return write(
        order,
        Delivery.NOT_CHECKED,
        now,
        evidence=evidence,
        words=words,
        exchanges=reading.exchanges,
    )


def write(
    order: Order,
    status: str,
    now: datetime,
    *,
    energy: int | None = None,
    evidence: dict[str, Any] | None = None,
    next_at: datetime | None = None,
    words: str = "",
    exchanges: tuple[Any, ...] = (),
) -> bool:
    """Record one look: one UPDATE conditional on the look count this look read, so of two
    passes that looked at once only the first writes (the other changes nothing and tells no
    one). A changed verdict goes on the timeline with the chain exchanges it rests on, and is
    announced after the commit."""
    before = order.delivery_status
    values: dict[str, Any] = {
        "delivery_status": status,
        "delivery_checked_at": now,
        "delivery_next_check_at": next_at,
        "delivery_looks": F("delivery_looks") + 1,
    }
    if evidence is not None:
        values["delivery_evidence"] = json.loads(json.dumps(evidence, default=str))
    if energy is not None:
        values["delivery_energy"] = energy
    if status == Delivery.VERIFIED and before != Delivery.VERIFIED:
        values["delivery_verified_at"] = now
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, delivery_looks=order.delivery_looks).update(
            **values
        ):
            return False
        if status != before and words:
            OrderEvent.objects.create(
                order=order,
                kind="delivery",
                from_status=before[:16],
                to_status=status[:16],
                message=clean_text(words),
                actor_label=LABEL,
            )
            record_exchanges(order, list(exchanges), label=LABEL)  # type: ignore[arg-type]
    order.refresh_from_db()
    if status != before and status in (Delivery.VERIFIED, *_FAILED):
        transaction.on_commit(lambda: send_delivery_checked(order, status))
    return True


_FAILED = (Delivery.SHORT, Delivery.MISSING, Delivery.RECLAIMED_EARLY)
