"""Energy consumption on the simulated chain: USDT transfers that use the sender's energy.

A transfer needs the energy triggerconstantcontract estimates (65,000 to an address that holds
USDT, 131,000 to one that never did) unless told otherwise. The sender's energy available is its
EnergyLimit (delegations in force) less its EnergyUsed; the transfer takes what it needs from
that, and burns TRX for any rest (energy_fee_sun per missing energy: the chain's getEnergyFee), as
the real chain does with a high enough fee_limit. Each transfer is a ChainTransfer row;
`burned_sun > 0` is a transfer that burned TRX.

EnergyUsed recovers linearly over 24 hours, as on the real chain. Stake 2.0 hands a receiver's
usage back to the delegator (in proportion) when a delegation is taken back; the sandbox keeps it
simpler: usage from before the oldest delegation now in force is forgotten, so a rental that
ended does not weigh on the next one.

ChainConsumer rows make addresses send by themselves, in bursts (run_consumers, the sandbox task
simulate_transfers every minute, or a soak with its own clock).
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from energydash.sandbox.chain_models import (
    ChainAccount,
    ChainConsumer,
    ChainDelegation,
    ChainNetwork,
    ChainTransfer,
)
from energydash.sandbox.itrx_orders import USDT_ENERGY_NEW, USDT_ENERGY_OLD

RECOVERY = timedelta(hours=24)


@dataclass(frozen=True)
class Energy:
    limit: int
    used: int

    @property
    def available(self) -> int:
        return max(self.limit - self.used, 0)


def energy(address: str, now: datetime, network: ChainNetwork | None = None) -> Energy:
    """The address's EnergyLimit and EnergyUsed at `now` (see the module's words)."""
    network = network or ChainNetwork.current()
    in_force = ChainDelegation.objects.on_chain(now).filter(receiver=address)
    rows = list(in_force.values_list("staked_sun", "lands_at"))
    if not rows:
        return Energy(0, 0)
    limit = network.energy_for_stake(sum(staked for staked, _ in rows))
    since = max(min(lands for _, lands in rows), now - RECOVERY)
    used = 0.0
    transfers = ChainTransfer.objects.filter(sender=address, at__gte=since, at__lte=now)
    for taken, at in transfers.values_list("energy_from_stake", "at"):
        used += taken * (1 - (now - at) / RECOVERY)
    return Energy(limit, math.ceil(used))


def transfer_energy(recipient: str) -> int:
    """What a USDT transfer to `recipient` needs (triggerconstantcontract's figure)."""
    holds = (
        bool(recipient) and ChainAccount.objects.filter(address=recipient, holds_usdt=True).exists()
    )
    return USDT_ENERGY_OLD if holds else USDT_ENERGY_NEW


def send_usdt(
    sender: str,
    now: datetime,
    *,
    recipient: str = "",
    needs: int | None = None,
    tag: str = "",
) -> ChainTransfer:
    """Send one USDT transfer from `sender` at `now`: take its energy from the sender's, burn
    TRX for the rest. `needs` overrides the estimate; `tag` makes the txid unique per caller."""
    network = ChainNetwork.current()
    needs = transfer_energy(recipient) if needs is None else needs
    with transaction.atomic():
        # One sender's transfers are serial, as the chain orders them.
        ChainAccount.objects.get_or_create(address=sender)
        ChainAccount.objects.select_for_update().filter(address=sender).first()
        have = energy(sender, now, network).available
        covered = min(have, needs)
        seed = f"{sender}|{recipient}|{now.isoformat()}|{needs}|{tag}|"
        count = ChainTransfer.objects.filter(sender=sender).count()
        return ChainTransfer.objects.create(
            txid=hashlib.sha256(f"{seed}{count}".encode()).hexdigest(),
            sender=sender,
            recipient=recipient,
            energy=needs,
            energy_from_stake=covered,
            burned_sun=(needs - covered) * network.energy_fee_sun,
            at=now,
        )


def _gap_and_size(consumer: ChainConsumer, number: int) -> tuple[float, int]:
    """The seconds before burst `number` and its size: bursts average (1 + burst) / 2
    transfers, so they come every that many / transfers_per_hour hours on average
    (exponential gaps)."""
    rng = random.Random(f"{consumer.address}|{consumer.seed}|{number}")
    mean_size = (1 + consumer.burst) / 2
    mean_gap = 3600 * mean_size / consumer.transfers_per_hour
    return rng.expovariate(1 / mean_gap), rng.randint(1, consumer.burst)


def run_consumers(now: datetime, *, limit: int = 10_000) -> list[ChainTransfer]:
    """Send every burst due by `now` (each consumer's first burst is planned on its first run).
    Safe to run twice: a burst is claimed by a guarded write before it is sent."""
    sent: list[ChainTransfer] = []
    consumers = ChainConsumer.objects.filter(enabled=True)
    for consumer in consumers.filter(next_burst_at__isnull=True)[:limit]:
        gap, _ = _gap_and_size(consumer, 0)
        ChainConsumer.objects.filter(pk=consumer.pk, next_burst_at__isnull=True).update(
            next_burst_at=now + timedelta(seconds=gap)
        )
    for consumer in consumers.filter(next_burst_at__lte=now).order_by("next_burst_at")[:limit]:
        while consumer.next_burst_at is not None and consumer.next_burst_at <= now:
            number = consumer.bursts + 1
            _, size = _gap_and_size(consumer, number)
            gap, _ = _gap_and_size(consumer, number + 1)
            at = consumer.next_burst_at
            claimed = ChainConsumer.objects.filter(pk=consumer.pk, bursts=consumer.bursts).update(
                bursts=F("bursts") + 1, next_burst_at=at + timedelta(seconds=max(gap, 1))
            )
            if not claimed:
                break  # another runner sent it
            for one in range(size):
                sent.append(
                    send_usdt(
                        consumer.address,
                        at,
                        needs=consumer.energy_per_transfer,
                        tag=f"burst {number}.{one}",
                    )
                )
            consumer.bursts = number
            consumer.next_burst_at = at + timedelta(seconds=max(gap, 1))
    return sent
