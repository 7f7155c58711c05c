"""Typed answers of the chain reader, after vetting: integers in the chain's own units.

Sun for TRX amounts, energy units for energy, milliseconds since the epoch for chain times (as
the node sends them; `datetime` helpers beside them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from energydash.lib.tron import SUN_PER_TRX

# The latest moment a datetime can hold (year 9999), in ms: a chain time beyond it is absurd.
MAX_TIME_MS = 253_402_300_799_999


def from_ms(ms: int | None) -> datetime | None:
    """A chain time as an aware UTC datetime; None for None or 0 (the chain's "not set")."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def energy_from_stake(frozen_sun: int, total_energy_limit: int, total_energy_weight: int) -> int:
    """Energy that staking `frozen_sun` yields at the network's current ratio, rounded down:
    frozen_sun / 1,000,000 x TotalEnergyLimit / TotalEnergyWeight, in integers throughout.

    TotalEnergyWeight is the TRX (not sun) staked for energy network-wide. Raises ValueError for
    a ratio that cannot be used (a weight of 0, negative figures): callers check `has_ratio`.
    """
    if total_energy_weight <= 0 or total_energy_limit < 0 or frozen_sun < 0:
        raise ValueError("no usable energy ratio")
    return frozen_sun * total_energy_limit // (SUN_PER_TRX * total_energy_weight)


@dataclass(frozen=True)
class AccountResource:
    """`/wallet/getaccountresource`: the address's resources and the network totals.
    Every field the node leaves out is 0, as the node means it."""

    energy_limit: int
    energy_used: int
    net_limit: int
    net_used: int
    free_net_limit: int
    free_net_used: int
    total_energy_limit: int
    total_energy_weight: int

    @property
    def has_ratio(self) -> bool:
        return self.total_energy_weight > 0

    @property
    def energy_available(self) -> int:
        return max(self.energy_limit - self.energy_used, 0)

    def energy_for(self, frozen_sun: int) -> int | None:
        """Energy `frozen_sun` staked yields at this reading's ratio; None without a ratio."""
        if not self.has_ratio:
            return None
        return energy_from_stake(frozen_sun, self.total_energy_limit, self.total_energy_weight)


@dataclass(frozen=True)
class Account:
    """`/wallet/getaccount`. An address the chain does not know (`{}`) is not activated."""

    address: str
    activated: bool
    balance_sun: int
    create_time_ms: int | None

    @property
    def created_at(self) -> datetime | None:
        return from_ms(self.create_time_ms)


@dataclass(frozen=True)
class DelegationIndex:
    """`/wallet/getdelegatedresourceaccountindexv2` (Stake 2.0)."""

    account: str
    from_accounts: tuple[str, ...]  # who delegates to this address
    to_accounts: tuple[str, ...]  # whom this address delegates to


@dataclass(frozen=True)
class DelegatedResource:
    """One entry of `/wallet/getdelegatedresourcev2`'s `delegatedResource`. The chain keeps at
    most two per (from, to): locked and unlocked; several delegations of one pair are summed."""

    delegator: str
    receiver: str
    energy_sun: int  # frozen_balance_for_energy: staked TRX in sun
    energy_expire_ms: int  # expire_time_for_energy: end of the lock (0: not locked)
    bandwidth_sun: int
    bandwidth_expire_ms: int

    @property
    def energy_expires_at(self) -> datetime | None:
        return from_ms(self.energy_expire_ms)


@dataclass(frozen=True)
class TransactionInfo:
    """`/wallet/gettransactioninfobyid`. `{}` (not on chain, or not yet) has no block."""

    txid: str
    block_number: int | None
    block_timestamp_ms: int | None
    receipt_result: str | None  # "SUCCESS", "REVERT", ...; absent for system contracts
    failed: bool  # the node's top-level result says FAILED

    @property
    def on_chain(self) -> bool:
        return self.block_number is not None

    @property
    def block_time(self) -> datetime | None:
        return from_ms(self.block_timestamp_ms)


@dataclass(frozen=True)
class TransferEstimate:
    """`/wallet/triggerconstantcontract` for a TRC-20 `transfer(address,uint256)`."""

    energy_used: int  # includes the contract's dynamic energy penalty
    energy_penalty: int
    succeeded: bool  # result.result: the call would not revert
    message: str  # the node's words when it would fail (bounded)


@dataclass(frozen=True)
class ChainParameters:
    """`/wallet/getchainparameters`: the network's parameters we use."""

    energy_fee_sun: int  # getEnergyFee: sun burned per energy a transaction lacks


@dataclass(frozen=True)
class ReceivedDelegation:
    """Energy one delegator gives the receiver now, with its value at the current ratio."""

    delegator: str
    staked_sun: int
    expire_ms: int  # 0: not locked
    energy: int | None  # None when the node gave no ratio

    @property
    def expires_at(self) -> datetime | None:
        return from_ms(self.expire_ms)


@dataclass(frozen=True)
class Delegations:
    """Everything delegated to a receiver for energy, from the index then each delegator."""

    receiver: str
    delegations: tuple[ReceivedDelegation, ...]
    # The receiver's EnergyLimit and the ratio used; None when nobody delegates to it (the
    # index answered empty, so its resources were not read: one request instead of two).
    resource: AccountResource | None
    calls: int  # node requests it took (retries included)

    @property
    def staked_sun(self) -> int:
        return sum(d.staked_sun for d in self.delegations)

    @property
    def energy(self) -> int | None:
        """The energy of all of them together, converted once (as the chain does)."""
        if self.resource is None:
            return 0 if not self.delegations else None
        return self.resource.energy_for(self.staked_sun)

    def from_delegator(self, delegator: str) -> tuple[ReceivedDelegation, ...]:
        return tuple(d for d in self.delegations if d.delegator == delegator)
