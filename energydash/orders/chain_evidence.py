"""The chain as a witness for an uncertain order (issue 20, "chain evidence in reconciliation").

An unknown energy order (its answer lost; Netts, which cannot be looked up by our reference)
either put energy on the receive address or it did not. What counts:

- *From that provider*: a delegation from one of the account's known delegators: the one the
  provider named (Netts' delegateAddress on any of the account's orders) or one that delivered
  the account's verified orders (at least twice, so one stranger's coincidence does not teach
  it). Delegators come from orders energydash verified itself (orders/delivery*.py).
- *In the window*: its lock began after the request left and by the provider's delivery
  deadline: lock end in [sent + period - slack, sent + deadline + period + slack].
- *Of the size*: energy (at the network ratio now) within the delivery tolerance of the order's
  energy, above or below.
- *Ours, not a sibling's*: more such delegations than other orders of the account to the same
  address and size sent in the window (each of those may own one).

*Seen, not only present*: every delegation dated in the window is kept on the order
(Order.chain_sightings) when it is read, and weighed with what the chain shows now: a delegation
taken back early, or one whose delegator was learnt only later, still counts.

Verdicts: DELIVERED (the energy arrived: it was placed); NONE_SEEN (past the deadline, no
delegation from a known delegator of any size in the window, and none of the size from anyone:
strong evidence for "not placed", to be taken together with the ledger); NOT_YET (before the
deadline); DOUBT (something that could be ours: a part, a stranger's of the size, a sibling's
claim); UNREAD (the chain could not be read). None when chain evidence is off, no node is
configured, or the order delivers no energy.

*Asked sparingly*: an uncertain order is weighed at every poll (every 2 s while young), but the
chain changes once a block, and every node request comes out of the request budget the delivery
check shares (chain/budget.py). So a reading of a receive address is kept in the cache (shared by
every process with Redis) and reused by every order to that address while it is younger than
ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS (a block, 3) or a quarter of the order's age, whichever is
longer, at most ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS (30). A reading taken before the
provider's deadline is never reused after it: "nothing past the deadline" needs a reading past it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce

from energydash.chain.answers import Delegations, ReceivedDelegation, from_ms
from energydash.chain.delegations import delegations_to
from energydash.chain.outcomes import OK, Reading
from energydash.chain.reader import ChainReader
from energydash.orders.delivery_look import known_delegator, period_of
from energydash.orders.delivery_rules import LOCK_SLACK
from energydash.orders.models import (
    CHARGED_STATUSES,
    POLLABLE,
    POSSIBLE_STATUSES,
    Delivery,
    Kind,
    Order,
)

DELIVERED = "delivered"
NONE_SEEN = "none_seen"
NOT_YET = "not_yet"
DOUBT = "doubt"
UNREAD = "unread"
LEARN_FROM = 200  # verified orders of the account whose delegators are learnt
READING_KEY = "chain-evidence:reading:"


@dataclass(frozen=True)
class ChainFacts:
    verdict: str
    words: str
    calls: int = 0


def enabled() -> bool:
    return settings.ENERGYDASH_CHAIN_EVIDENCE and bool(settings.ENERGYDASH_TRON_API_URL)


def deadline_of(order: Order) -> datetime:
    seconds = settings.ENERGYDASH_DELIVERY_DEADLINE_SECONDS.get(order.account.provider, 180)
    return order.started_at + timedelta(seconds=seconds)


def known_delegators(order: Order) -> dict[str, str]:
    """The account's delegators, each with how it is known, in words."""
    found: dict[str, str] = {}
    named, source = known_delegator(order)
    if named:
        found[named] = source
    rows = (
        Order.objects.filter(account=order.account, delivery_status=Delivery.VERIFIED)
        .exclude(pk=order.pk)
        .order_by("-id")
        .values_list("delivery_evidence", flat=True)[:LEARN_FROM]
    )
    seen: Counter[str] = Counter()
    for evidence in rows:
        evidence = evidence or {}
        for d in evidence.get("delegators") or []:
            if evidence.get("delegator_known"):
                found.setdefault(d, f"named by {order.account.get_provider_display()}")
            seen[d] += 1
    for d, n in seen.items():
        if n >= 2:
            found.setdefault(d, f"delivered {n} of this account's verified orders")
    return found


def _dated_in_window(order: Order, d: ReceivedDelegation, period: timedelta) -> bool:
    expires = from_ms(d.expire_ms) if d.expire_ms else None
    if expires is None:
        return False
    earliest = order.started_at + period - LOCK_SLACK
    latest = deadline_of(order) + period + LOCK_SLACK
    return earliest <= expires <= latest


def _of_size(order: Order, d: ReceivedDelegation) -> bool:
    tolerance = settings.ENERGYDASH_DELIVERY_TOLERANCE_PERCENT
    energy, want = d.energy or 0, order.energy or 0
    return want * (100 - tolerance) <= energy * 100 <= want * (100 + tolerance)


def _siblings(order: Order) -> int:
    """Other orders of the account to the same address and size sent in the window: each may
    own one matching delegation. "Sent" is started_at (approval for an approved order, else
    creation), the moment the window is measured from."""
    tolerance = settings.ENERGYDASH_DELIVERY_TOLERANCE_PERCENT
    want = order.energy or 0
    span = deadline_of(order) - order.started_at + LOCK_SLACK
    return (
        Order.objects.annotate(
            sent=Coalesce("approved_at", "created", output_field=DateTimeField())
        )
        .filter(
            account=order.account,
            receive_address=order.receive_address,
            kind=Kind.ENERGY,
            sent__gte=order.started_at - span,
            sent__lte=order.started_at + span,
            energy__gte=want * (100 - tolerance) // 100,
            energy__lte=want * (100 + tolerance) // 100 + 1,
            status__in=(*CHARGED_STATUSES, *POSSIBLE_STATUSES, "failed"),
        )
        .exclude(pk=order.pk)
        .exclude(status="failed", provider_ref="")
        .count()
    )


def _key(d: ReceivedDelegation) -> tuple[str, int, int]:
    return d.delegator, d.expire_ms, d.staked_sun


def _as_delegation(row: dict) -> ReceivedDelegation:
    return ReceivedDelegation(
        row["delegator"], int(row["staked_sun"]), int(row["expire_ms"]), row.get("energy")
    )


def sightings(order: Order) -> list[ReceivedDelegation]:
    """The delegations kept on the order (seen dated in its window at some reading)."""
    return [_as_delegation(r) for r in order.chain_sightings or [] if isinstance(r, dict)]


def _remember(order: Order, dated: list[ReceivedDelegation], now: datetime) -> list:
    """Add what the chain shows dated in the window to what was seen before (one locked
    read-merge-write, so two readings at once lose nothing); return the union, current first."""
    with transaction.atomic():
        kept = (
            Order.objects.select_for_update()
            .filter(pk=order.pk)
            .values_list("chain_sightings", flat=True)
            .first()
        ) or []
        rows = [r for r in kept if isinstance(r, dict)]
        known = {_key(_as_delegation(r)) for r in rows}
        new = [d for d in dated if _key(d) not in known]
        if new:
            rows += [
                {
                    "delegator": d.delegator,
                    "staked_sun": d.staked_sun,
                    "expire_ms": d.expire_ms,
                    "energy": d.energy,
                    "seen_at": now.isoformat(),
                }
                for d in new
            ]
            # The chain says something changed: an open order is looked at on the next pass
            # whatever its age (orders/schedule.py), in the same write that keeps the sighting.
            Order.objects.filter(pk=order.pk).update(
                chain_sightings=rows,
                next_poll_at=Case(
                    When(status__in=POLLABLE, then=Value(now)), default=F("next_poll_at")
                ),
            )
    order.chain_sightings = rows
    current = {_key(d) for d in dated}
    return dated + [_as_delegation(r) for r in rows if _key(_as_delegation(r)) not in current]


def placed_on_chain(order: Order, delegators: dict[str, str]) -> bool:
    """The provider's own delegator put energy (any amount) on this order's address in its
    window, at some reading, and no other order of the account to that address and size was
    sent in the window: the provider placed it, so it was charged (possibly delivered short)."""
    if not any(d.delegator in delegators for d in sightings(order)):
        return False
    return _siblings(order) == 0


def activated_by(order: Order, adapter: Any) -> tuple[int, str] | None:
    """(the charge, when activated) when a provider that activates unasked (Netts) must have
    activated the receive address with this order: the chain says the account was created
    after the order was sent, and the quote (energy at the quoted sun per energy) did not count
    activation. None otherwise, or when the chain cannot say."""
    fee = getattr(type(adapter), "activation_fee_sun", None)
    if not getattr(type(adapter), "activates_unasked", False) or not fee:
        return None
    if order.unit_price_sun is None or not order.energy or order.quoted_cost_sun is None:
        return None
    energy_part = int(order.unit_price_sun * order.energy)
    if order.quoted_cost_sun - energy_part >= fee:
        return None  # activation was quoted already
    reading = ChainReader.for_evidence().account(order.receive_address)
    if not reading.ok or not reading.value.activated or reading.value.created_at is None:
        return None
    created = reading.value.created_at
    if created < order.started_at - LOCK_SLACK:
        return None
    return energy_part + fee, f"{created:%Y-%m-%d %H:%M:%S} UTC"


def reuse_for(order: Order, now: datetime) -> timedelta:
    """How old a reading of the order's receive address may be and still be weighed for it."""
    least = settings.ENERGYDASH_CHAIN_EVIDENCE_REUSE_SECONDS
    most = max(least, settings.ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS)
    age = (now - order.started_at).total_seconds()
    return timedelta(seconds=min(most, max(least, age / 4)))


def _kept_reading(order: Order, now: datetime) -> tuple[datetime, Delegations] | None:
    try:
        kept = cache.get(READING_KEY + order.receive_address)
    except Exception:  # the cache is down: read the chain instead
        return None
    if not isinstance(kept, tuple) or len(kept) != 2:
        return None
    read_at, value = kept
    if not isinstance(read_at, datetime) or not isinstance(value, Delegations):
        return None
    if read_at > now or now - read_at >= reuse_for(order, now):
        return None
    if read_at < deadline_of(order) <= now:
        return None  # only a reading past the deadline can show nothing came by it
    return read_at, value


def _keep_reading(order: Order, read_at: datetime, value: Delegations) -> None:
    timeout = max(1, int(settings.ENERGYDASH_CHAIN_EVIDENCE_REUSE_MAX_SECONDS) + 1)
    try:
        cache.set(READING_KEY + order.receive_address, (read_at, value), timeout=timeout)
    except Exception:  # the cache is down: the next weighing reads again
        return


def receiver_reading(
    order: Order, now: datetime, reader: ChainReader
) -> tuple[Reading[Delegations], datetime]:
    """(the delegations to the order's receive address, when they were read): a kept reading
    while it is fresh enough for this order (no node request), else a new one."""
    kept = _kept_reading(order, now)
    if kept is not None:
        read_at, value = kept
        return Reading(OK, value=value), read_at
    reading = delegations_to(order.receive_address, reader)
    if reading.ok:
        _keep_reading(order, now, reading.value)
    return reading, now


def chain_facts(
    order: Order, now: datetime, reader: ChainReader | None = None
) -> ChainFacts | None:
    """What the chain says about whether this uncertain order's energy arrived."""
    if not enabled() or order.kind != Kind.ENERGY or not order.energy:
        return None
    reader = reader or ChainReader.for_evidence()
    if not reader.configured:
        return None
    period = period_of(order)
    if period is None:
        return None
    reading, read_at = receiver_reading(order, now, reader)
    if not reading.ok:
        return ChainFacts(UNREAD, f"the chain could not be read ({reading})", reading.calls)
    delegators = known_delegators(order)
    every = list(reading.value.delegations)
    now_dated = [d for d in every if _dated_in_window(order, d, period)]
    dated = _remember(order, now_dated, now)
    gone = {_key(d) for d in dated} - {_key(d) for d in now_dated}
    ours = [d for d in dated if d.delegator in delegators]
    fits = [d for d in ours if _of_size(order, d)]
    strangers = [d for d in dated if d.delegator not in delegators and _of_size(order, d)]
    siblings = _siblings(order)
    past = read_at >= deadline_of(order)
    receiver = order.receive_address
    if len(fits) > siblings:
        d = fits[0]
        words = (
            f"the chain shows {d.energy:,} energy delegated to {receiver} by {d.delegator} "
            f"({delegators[d.delegator]}), {d.staked_sun:,} sun staked, locked until "
            f"{from_ms(d.expire_ms):%Y-%m-%d %H:%M:%S} UTC: it began after this order was sent "
            f"and by the provider's deadline, and is within "
            f"{settings.ENERGYDASH_DELIVERY_TOLERANCE_PERCENT}% of the {order.energy:,} energy "
            f"ordered"
        )
        if _key(d) in gone:
            words += " (seen at an earlier reading; it is no longer delegated)"
        if siblings:
            words += f" ({len(fits)} such delegations for {siblings + 1} orders of this size)"
        return ChainFacts(DELIVERED, words, reading.calls)
    if ours or strangers:
        parts = []
        if fits:
            parts.append(
                f"{len(fits)} delegation(s) of this size from the provider's delegators, which "
                f"{siblings} other order(s) to this address may own"
            )
        elif ours:
            parts.append(
                f"{len(ours)} delegation(s) of another size from the provider's delegators"
            )
        if strangers:
            parts.append(f"{len(strangers)} delegation(s) of this size from other addresses")
        return ChainFacts(
            DOUBT, f"the chain shows {' and '.join(parts)} since it was sent", reading.calls
        )
    if not past:
        return ChainFacts(
            NOT_YET,
            f"no delegation to {receiver} from the provider yet (its deadline is "
            f"{deadline_of(order):%H:%M:%S} UTC)",
            reading.calls,
        )
    known = ", ".join(sorted(delegators)) or "none learnt yet"
    return ChainFacts(
        NONE_SEEN,
        f"the chain shows no delegation to {receiver} that began after it was sent, from the "
        f"provider's delegators ({known}) or of its size from anyone, past the provider's "
        f"deadline",
        reading.calls,
    )


@dataclass(frozen=True)
class SeenRow:
    delegator: str
    known_as: str  # how it is known as the provider's, or "" for another address
    energy: int | None
    staked_sun: int
    lock_end: datetime | None
    seen_at: str
    of_size: bool


@dataclass(frozen=True)
class ReviewChain:
    """The chain facts on an uncertain order for the review box, from what was recorded when
    reconciliation read the chain (Order.chain_sightings); no chain call."""

    window_from: datetime
    deadline: datetime
    delegators: dict[str, str]
    rows: list[SeenRow]
    looked: bool  # reconciliation read the chain for it at least once


def review_facts(order: Order) -> ReviewChain | None:
    if not enabled() or order.kind != Kind.ENERGY or not order.energy:
        return None
    if period_of(order) is None:
        return None
    delegators = known_delegators(order)
    rows = []
    for r in order.chain_sightings or []:
        if not isinstance(r, dict):
            continue
        d = _as_delegation(r)
        rows.append(
            SeenRow(
                delegator=d.delegator,
                known_as=delegators.get(d.delegator, ""),
                energy=d.energy,
                staked_sun=d.staked_sun,
                lock_end=from_ms(d.expire_ms),
                seen_at=str(r.get("seen_at", ""))[:19].replace("T", " "),
                of_size=_of_size(order, d),
            )
        )
    looked = rows != [] or order.events.filter(message__contains="delegation to").exists()
    return ReviewChain(order.started_at, deadline_of(order), delegators, rows, looked)
