"""What the chain shows of one order's energy, as a verdict with its evidence.

Pure rules: no database, no requests (delivery.py reads the chain and writes the verdict). All
figures are integers in the chain's units (sun, energy, ms); the evidence is JSON an operator can
check against a block explorer, and `words` says the same in a sentence.

Matching: the delegations to the receiver are compared with what was ordered. When the provider
names its delegator (Netts' delegateAddress), only that delegator's stake counts, so another
party delegating to the same address at the same moment is not counted as ours. When it does
not, a delegation counts if it began after the order was placed (its lock ends no earlier than
the order's period after placement) or cannot be dated (not locked); the words say that this is
weaker evidence. Verified at (100 - tolerance)% of the ordered energy at the network ratio of the
moment; less is short (by how much) and nothing is missing, both only once the provider's
deadline has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from energydash.chain.answers import (
    Account,
    Delegations,
    ReceivedDelegation,
    TransactionInfo,
    from_ms,
)
from energydash.lib.tron import SUN_PER_TRX

PENDING = "pending"
VERIFIED = "verified"
SHORT = "short"
MISSING = "missing"
RECLAIMED_EARLY = "reclaimed_early"
NOT_CHECKED = "not_checked"

# A lock that ends up to this much before "placed + period" still began after the placement:
# clocks and block times differ by seconds.
LOCK_SLACK = timedelta(minutes=1)
TRONSCAN = "https://tronscan.org/#/transaction/"


@dataclass(frozen=True)
class Expectation:
    """What an order should have put on chain, and what we know of who delivers it."""

    kind: str  # energy / activation
    receiver: str
    energy: int
    created: datetime
    done: datetime  # when we learned the provider's "done"
    period: timedelta | None
    deadline: datetime  # done + the provider's deadline
    tolerance_percent: int
    delegator: str = ""  # named by the provider, else ""
    delegator_source: str = ""  # in words: "Netts' delegateAddress"
    txid: str = ""
    mainnet: bool = False

    @property
    def needed(self) -> int:
        """The least energy that counts as delivered: ordered less the tolerance, rounded up."""
        return -(-self.energy * (100 - self.tolerance_percent) // 100)

    @property
    def period_ends(self) -> datetime | None:
        return self.done + self.period if self.period else None


@dataclass(frozen=True)
class Verdict:
    status: str
    energy: int | None
    words: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _trx(sun: int) -> str:
    whole, rest = divmod(sun, SUN_PER_TRX)
    return f"{whole:,}.{rest:06d}".rstrip("0").rstrip(".")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _since(exp: Expectation, now: datetime) -> int:
    return max(int((now - exp.done).total_seconds()), 0)


def _tx_words(exp: Expectation) -> str:
    if not exp.txid:
        return ""
    link = tronscan(exp)
    return f" Provider's transaction {exp.txid}" + (f" ({link})." if link else ".")


def tronscan(exp: Expectation) -> str | None:
    return TRONSCAN + exp.txid if exp.mainnet and exp.txid else None


def delegation_json(d: ReceivedDelegation) -> dict[str, Any]:
    return {
        "delegator": d.delegator,
        "staked_sun": d.staked_sun,
        "energy": d.energy,
        "expires_at": _iso(d.expires_at),
    }


def _base(exp: Expectation, status: str, value: Delegations | None) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "status": status,
        "receiver": exp.receiver,
        "ordered_energy": exp.energy,
        "needed_energy": exp.needed,
        "tolerance_percent": exp.tolerance_percent,
        "delegator_known": bool(exp.delegator),
        "delegator": exp.delegator or None,
        "delegator_source": exp.delegator_source,
        "tx_id": exp.txid or None,
        "tronscan": tronscan(exp),
        "done_at": _iso(exp.done),
        "deadline": _iso(exp.deadline),
        "period_ends_at": _iso(exp.period_ends),
    }
    if value is not None:
        evidence.update(
            receiver_energy_limit=value.resource.energy_limit,
            total_energy_limit=value.resource.total_energy_limit,
            total_energy_weight=value.resource.total_energy_weight,
        )
    return evidence


def is_dated_to(exp: Expectation, d: ReceivedDelegation) -> bool:
    """Whether the delegation's lock began after the order was placed (see module docstring)."""
    if not d.expire_ms:
        return False
    earliest = exp.created + (exp.period or timedelta(0)) - LOCK_SLACK
    expires = from_ms(d.expire_ms)
    return expires is not None and expires >= earliest


def pick_ours(
    exp: Expectation, value: Delegations
) -> tuple[list[ReceivedDelegation], list[ReceivedDelegation], str]:
    """(ours, others, how ours were told apart, in words)."""
    every = list(value.delegations)
    if exp.delegator:
        ours = [d for d in every if d.delegator == exp.delegator]
        others = [d for d in every if d.delegator != exp.delegator]
        return ours, others, f"the delegator named by the provider ({exp.delegator_source})"
    dated = [d for d in every if is_dated_to(exp, d)]
    undated = [d for d in every if not d.expire_ms]
    old = [d for d in every if d not in dated and d not in undated]
    candidates = dated + undated
    how = (
        "the provider does not name its delegator, so a delegation that began after the order "
        "was placed (by its lock end) was matched by amount: weaker evidence than a named "
        "delegator"
    )
    if undated:
        how += f"; {len(undated)} delegation(s) are not locked and cannot be dated"
    fits = [d for d in candidates if d.energy is not None and d.energy >= exp.needed]
    if fits:
        best = min(fits, key=lambda d: (not d.expire_ms, abs((d.energy or 0) - exp.energy)))
        return [best], [d for d in every if d is not best], how
    return candidates, old, how


def _energy_of(value: Delegations, ours: list[ReceivedDelegation]) -> int:
    return value.resource.energy_for(sum(d.staked_sun for d in ours)) or 0


def judge_energy(exp: Expectation, value: Delegations, now: datetime) -> Verdict:
    """Verified, short or missing once the deadline has passed; pending before unless verified."""
    ours, others, how = pick_ours(exp, value)
    if not value.resource.has_ratio:
        words = "the node gave no network energy ratio; looking again"
        return Verdict(PENDING, None, words, _base(exp, PENDING, value))
    energy = _energy_of(value, ours)
    staked = sum(d.staked_sun for d in ours)
    if energy >= exp.needed:
        status = VERIFIED
    elif now < exp.deadline:
        status = PENDING
    else:
        status = SHORT if energy > 0 else MISSING
    evidence = _base(exp, status, value)
    evidence.update(
        energy=energy,
        staked_sun=staked,
        delegations=[delegation_json(d) for d in ours],
        delegators=sorted({d.delegator for d in ours}),
        other_delegations=[delegation_json(d) for d in others],
        matched_by=how,
        seconds_after_done=_since(exp, now),
    )
    if status == SHORT:
        evidence["short_by_energy"] = exp.energy - energy
    words = _energy_words(exp, status, energy, staked, ours, others, how, value, now)
    evidence["words"] = words
    return Verdict(status, energy, words, evidence)


def _energy_words(
    exp: Expectation,
    status: str,
    energy: int,
    staked: int,
    ours: list[ReceivedDelegation],
    others: list[ReceivedDelegation],
    how: str,
    value: Delegations,
    now: datetime,
) -> str:
    r = value.resource
    ratio = f"network ratio {r.total_energy_limit:,} energy / {r.total_energy_weight:,} TRX staked"
    ordered = (
        f"ordered {exp.energy:,} energy (verified from {exp.needed:,}, "
        f"tolerance {exp.tolerance_percent}%)"
    )
    if ours:
        parts = []
        for d in ours:
            until = f"locked until {_when(d.expires_at)}" if d.expires_at else "not locked"
            stake = f"{_trx(d.staked_sun)} TRX ({d.staked_sun:,} sun)"
            parts.append(f"{d.delegator} stakes {stake}, {until}")
        found = "; ".join(parts) + f" = {energy:,} energy at the {ratio}"
    else:
        found = f"no delegation to {exp.receiver} matches"
    lead = {
        VERIFIED: "Verified on chain",
        PENDING: "Not on chain yet",
        SHORT: f"Short on chain by {exp.energy - energy:,} energy",
        MISSING: f"Missing on chain {_since(exp, now)} s after the provider's done",
    }[status]
    words = f"{lead}: {found}; {ordered}. Matched by {how}."
    words += _tx_words(exp)
    if others:
        total = _trx(sum(d.staked_sun for d in others))
        words += f" Not counted: {len(others)} other delegation(s) to this address ({total} TRX)."
    if status == VERIFIED and exp.period_ends and ours:
        locks = [d.expires_at for d in ours if d.expires_at]
        if not locks or min(locks) < exp.period_ends - LOCK_SLACK:
            words += " The lock ends before the period paid for: it may be taken back early."
    return words


def judge_activation(exp: Expectation, account: Account, now: datetime) -> Verdict:
    if account.activated:
        status = VERIFIED
        created = _when(account.created_at) if account.created_at else "at an unknown time"
        words = f"Verified on chain: {exp.receiver} exists (created {created})."
    elif now < exp.deadline:
        status, words = PENDING, f"Not on chain yet: {exp.receiver} is not activated."
    else:
        status = MISSING
        words = (
            f"Missing on chain: {exp.receiver} is still not activated {_since(exp, now)} s "
            "after the provider's done."
        )
    words += _tx_words(exp)
    evidence = _base(exp, status, None)
    evidence.update(
        activated=account.activated,
        account_created_at=_iso(account.created_at),
        balance_sun=account.balance_sun,
        words=words,
    )
    return Verdict(status, None, words, evidence)


def judge_still_there(
    exp: Expectation, verified: dict[str, Any], value: Delegations, now: datetime
) -> Verdict:
    """A later look at a verified order: still verified, or reclaimed early (stake gone or cut
    below the tolerance before the period ends). Compared in staked sun: the ratio drifts over a
    period, the stake does not."""
    delegators = set(verified.get("delegators") or [])
    was = int(verified.get("staked_sun") or 0)
    now_ours = [d for d in value.delegations if d.delegator in delegators]
    staked = sum(d.staked_sun for d in now_ours)
    energy = value.resource.energy_for(staked) or 0
    look = {"at": _iso(now), "staked_sun": staked, "energy": energy}
    if staked * 100 >= was * (100 - exp.tolerance_percent):
        return Verdict(VERIFIED, verified.get("energy"), verified.get("words", ""), look)
    ends = exp.period_ends
    words = (
        f"Reclaimed early: at {_when(now)} "
        f"{', '.join(sorted(delegators)) or 'the delegator'} stakes {_trx(staked)} TRX "
        f"({staked:,} sun, {energy:,} energy) for {exp.receiver}, down from {_trx(was)} TRX "
        f"when verified; the period paid for ends {_when(ends) if ends else 'later'}."
    )
    evidence = {**verified, "status": RECLAIMED_EARLY, "reclaimed": look, "words": words}
    return Verdict(RECLAIMED_EARLY, energy, words, evidence)


def judge_missing_with_tx(exp: Expectation, missing: Verdict, tx: TransactionInfo) -> Verdict:
    """Nothing delegated past the deadline, weighed with the provider's transaction: in a block,
    the energy was delivered and taken back before we looked (reclaimed early); not on chain,
    missing stands, now saying so."""
    evidence = {**missing.evidence, "tx_on_chain": tx.on_chain}
    if not tx.on_chain:
        words = missing.words + " The provider's transaction is not on chain."
        evidence["words"] = words
        return Verdict(MISSING, missing.energy, words, evidence)
    block = f"block {tx.block_number:,}" if tx.block_number is not None else "a block"
    at = f" at {_when(tx.block_time)}" if tx.block_time else ""
    ends = exp.period_ends
    since = missing.evidence.get("seconds_after_done", 0)
    words = (
        f"Reclaimed early: the provider's transaction {exp.txid} is on chain ({block}{at}), but "
        f"{since} s after the provider's done no delegation to "
        f"{exp.receiver} from it remains; the period paid for ends "
        f"{_when(ends) if ends else 'later'}."
    )
    link = tronscan(exp)
    if link:
        words += f" {link}"
    evidence.update(
        status=RECLAIMED_EARLY,
        tx_block=tx.block_number,
        tx_block_time=_iso(tx.block_time),
        words=words,
    )
    return Verdict(RECLAIMED_EARLY, 0, words, evidence)
