"""Writing the simulated chain: the delegation a completed sandbox order puts on it.

Sandbox orders complete by the clock (SandboxOrder.delegated_at), not by an event, so the
delegation is recorded when the order is placed, landing at that moment: the chain views show
nothing of it before. The account's chain knobs make it go wrong the ways providers do (see
SandboxAccount: never, a part, late, taken back early, a stranger's beside it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from energydash.sandbox.chain_models import ChainDelegation, ChainNetwork
from energydash.sandbox.models import SandboxOrder


def record_delegation(order: SandboxOrder) -> list[ChainDelegation]:
    """Put an energy or collection order's delegation on the simulated chain (once: a second
    call returns the rows the first made). Returns every row recorded for the order, the
    stranger's included. A collection delegates its scene's energy for its hour, as an energy
    order does (the sweep's transfer using it is not simulated)."""
    delegating = (SandboxOrder.Kind.ENERGY, SandboxOrder.Kind.COLLECT)
    if order.kind not in delegating or order.energy <= 0:
        return []
    account = order.account
    network = ChainNetwork.current()
    fault = order.chain_fault()
    late = account.chain_late_seconds + (account.chain_late_fault_seconds if fault == "late" else 0)
    lands_at = network.block_at_or_after(order.delegated_at() + timedelta(seconds=late))
    period_end = order.expires_at()
    rows = []
    percent = 50 if fault == "short" else account.chain_delegated_percent
    energy = order.energy * percent // 100
    if not (account.chain_never_delegates or fault == "missing") and energy > 0:
        undelegated_at = period_end
        early_after = account.chain_undelegate_after_seconds
        if fault == "early":
            early_after = account.chain_early_fault_seconds
        if early_after is not None:
            early = lands_at + timedelta(seconds=early_after)
            undelegated_at = min(early, period_end)
        rows.append(
            _delegate(
                order,
                txid=order.fake_hash("delegate"),
                delegator=account.delegator(),
                staked_sun=network.stake_for_energy(energy),
                lands_at=lands_at,
                expires_at=period_end,
                undelegated_at=undelegated_at,
            )
        )
    stranger_percent = 100 if fault == "other_party" else account.chain_other_party_percent
    stranger_energy = order.energy * stranger_percent // 100
    if stranger_energy > 0:
        rows.append(
            _delegate(
                order,
                txid=order.fake_hash("other party delegate"),
                delegator=account.other_party(),
                staked_sun=network.stake_for_energy(stranger_energy),
                lands_at=lands_at,
                expires_at=period_end,
                undelegated_at=period_end,
                by_other_party=True,
            )
        )
    return rows


def _delegate(order: SandboxOrder, *, txid: str, **fields: object) -> ChainDelegation:
    row, _ = ChainDelegation.objects.get_or_create(
        txid=txid, defaults={"order": order, "receiver": order.receive_address, **fields}
    )
    return row


def undelegate(order: SandboxOrder, at: datetime) -> int:
    """The provider takes the order's energy back at `at` (itrx's reclaim); the stranger's stays.
    Returns how many delegations it ended."""
    return (
        ChainDelegation.objects.filter(order=order, by_other_party=False)
        .filter(Q(undelegated_at__isnull=True) | Q(undelegated_at__gt=at))
        .update(undelegated_at=at)
    )
