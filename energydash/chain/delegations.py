"""Who gives a receiver energy right now, how much, until when: the question behind "was the
order's energy delivered".

Index first: the Stake 2.0 index of who delegates to the receiver; when nobody does, that one
request is the whole answer (the usual case while an order's energy has not landed). Otherwise
2 + N node requests for N delegators: the index, the receiver's resources (its EnergyLimit and the
network ratio), then one getdelegatedresourcev2 per delegator. Any one failing fails the whole
reading: half a list of delegations is not evidence.
"""

from __future__ import annotations

from energydash.chain.answers import Delegations, ReceivedDelegation
from energydash.chain.outcomes import OK, UNAVAILABLE, Reading
from energydash.chain.reader import ChainReader

MAX_DELEGATORS = 50


def delegations_to(
    receiver: str, reader: ChainReader | None = None, *, max_delegators: int = MAX_DELEGATORS
) -> Reading[Delegations]:
    """The energy delegations to `receiver` (delegator, staked sun, lock end, energy now)."""
    reader = reader or ChainReader.from_settings()
    exchanges = []

    def failed(reading: Reading, what: str) -> Reading[Delegations]:
        return Reading(
            reading.outcome,
            message=f"{what}: {reading.message}" if reading.message else what,
            http_status=reading.http_status,
            exchanges=(*exchanges, *reading.exchanges),
        )

    index = reader.delegation_index(receiver)
    if not index.ok:
        return failed(index, "reading who delegates to the receiver")
    exchanges.extend(index.exchanges)
    delegators = [d for d in index.value.from_accounts if d != receiver]
    if not delegators:
        value = Delegations(receiver, (), None, calls=len(exchanges))
        return Reading(OK, value=value, exchanges=tuple(exchanges))
    if len(delegators) > max_delegators:
        return Reading(
            UNAVAILABLE,
            message=f"{len(delegators):,} addresses delegate to {receiver}; reading each is more "
            f"than the chain budget allows here (at most {max_delegators})",
            exchanges=tuple(exchanges),
        )
    resource = reader.account_resource(receiver)
    if not resource.ok:
        return failed(resource, "reading the receiver's resources")
    exchanges.extend(resource.exchanges)
    found: list[ReceivedDelegation] = []
    for delegator in delegators:
        entries = reader.delegated_resources(delegator, receiver)
        if not entries.ok:
            return failed(entries, f"reading what {delegator} delegates")
        exchanges.extend(entries.exchanges)
        for entry in entries.value:
            if entry.energy_sun > 0:
                found.append(
                    ReceivedDelegation(
                        delegator=delegator,
                        staked_sun=entry.energy_sun,
                        expire_ms=entry.energy_expire_ms,
                        energy=resource.value.energy_for(entry.energy_sun),
                    )
                )
    value = Delegations(receiver, tuple(found), resource.value, calls=len(exchanges))
    return Reading(OK, value=value, exchanges=tuple(exchanges))
