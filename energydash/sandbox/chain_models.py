"""The simulated TRON chain's tables: network figures, accounts and Stake 2.0 energy delegations.

Imported by models.py, so these belong to the sandbox app.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from energydash.lib.tron import address_from_payload

SUN_PER_TRX = 1_000_000


def sandbox_address(seed: str) -> str:
    """A deterministic, valid T-address for a sandbox role (a provider's delegator, ...)."""
    return address_from_payload(hashlib.sha256(seed.encode()).digest()[:20])


class ChainNetwork(models.Model):
    """The network-wide figures the simulated chain answers with (one row), and its rate limit.

    Defaults are mainnet-like, not measured: 180,000,000,000 energy a day shared by 17,000,000,000
    TRX staked for energy, so 1 TRX staked yields 10.59 energy and a 65,000-energy order needs
    about 6,139 TRX staked.
    """

    total_energy_limit = models.BigIntegerField(default=180_000_000_000)
    total_energy_weight = models.BigIntegerField(
        default=17_000_000_000, help_text="TRX (not sun) staked for energy network-wide."
    )
    total_net_limit = models.BigIntegerField(default=43_200_000_000)
    total_net_weight = models.BigIntegerField(default=26_000_000_000)
    free_net_limit = models.PositiveIntegerField(default=600)
    energy_fee_sun = models.PositiveIntegerField(
        default=100,
        help_text="getEnergyFee: sun burned per energy a transaction lacks (getchainparameters).",
    )
    rate_limit_qps = models.PositiveIntegerField(
        default=0,
        help_text="Requests a second the chain answers; more get rate_limit_status. 0: no limit.",
    )
    rate_limit_status = models.PositiveSmallIntegerField(
        default=429, choices=[(403, "403"), (429, "429"), (503, "503")]
    )
    rate_limit_retry_after = models.PositiveIntegerField(
        default=0, help_text="Retry-After seconds sent with a rate-limit answer. 0: no header."
    )
    block_seconds = models.PositiveSmallIntegerField(
        default=0,
        help_text="Block time: a delegation appears at the first block at or after the moment "
        "it is sent (blocks every this many seconds since the epoch). 0: at once.",
    )
    rate_limited_answers = models.BigIntegerField(
        default=0, help_text="Rate-limit answers sent so far (the soak reports them)."
    )

    class Meta:
        verbose_name = "chain network"

    def __str__(self) -> str:
        return f"simulated chain ({self.energy_per_trx_text} energy per TRX staked)"

    @classmethod
    def current(cls) -> ChainNetwork:
        network, _ = cls.objects.get_or_create(pk=1)
        return network

    @property
    def energy_per_trx_text(self) -> str:
        per_mille = self.total_energy_limit * 1000 // max(self.total_energy_weight, 1)
        return f"{per_mille / 1000:.2f}"

    def block_at_or_after(self, moment: datetime) -> datetime:
        """When a transaction sent at `moment` is on chain: the next block's time."""
        if not self.block_seconds:
            return moment
        step = self.block_seconds * 1_000_000
        micros = int(moment.timestamp()) * 1_000_000 + moment.microsecond
        wait = -micros % step
        return moment + timedelta(microseconds=wait)

    def energy_for_stake(self, staked_sun: int) -> int:
        """Energy that much stake yields, rounded down (the chain's EnergyLimit arithmetic)."""
        return staked_sun * self.total_energy_limit // (SUN_PER_TRX * self.total_energy_weight)

    def stake_for_energy(self, energy: int) -> int:
        """The least sun staked that yields at least `energy`."""
        numerator = energy * SUN_PER_TRX * self.total_energy_weight
        return -(-numerator // self.total_energy_limit)


class ChainAccount(models.Model):
    """Details of a simulated account. Whether an address is activated is SandboxAddress's say
    (unlisted addresses are); this adds a balance, a creation time and USDT history."""

    address = models.CharField(max_length=34, unique=True)
    balance_sun = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(default=timezone.now)
    holds_usdt = models.BooleanField(
        default=False,
        help_text="A USDT transfer to it costs the lower energy (it already holds USDT).",
    )

    def __str__(self) -> str:
        return self.address


class ChainDelegationQuerySet(QuerySet):
    def on_chain(self, now: datetime) -> ChainDelegationQuerySet:
        """Delegations in force at `now`: landed, and not yet taken back."""
        return self.filter(lands_at__lte=now).filter(
            Q(undelegated_at__isnull=True) | Q(undelegated_at__gt=now)
        )


class ChainDelegation(models.Model):
    """A Stake 2.0 DelegateResourceContract on the simulated chain, with its undelegation.

    It is on chain from lands_at (the block of its transaction) until undelegated_at; the views
    show nothing of it before lands_at, so a "late" delegation simply lands later.
    """

    class Resource(models.TextChoices):
        ENERGY = "ENERGY", "energy"

    txid = models.CharField(max_length=64, unique=True)
    delegator = models.CharField(max_length=34)
    receiver = models.CharField(max_length=34)
    resource = models.CharField(max_length=16, choices=Resource.choices, default=Resource.ENERGY)
    staked_sun = models.BigIntegerField(validators=[MinValueValidator(1)])
    lands_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="End of the lock (expire_time_for_energy).")
    undelegated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the delegator takes it back. Blank: never."
    )
    created = models.DateTimeField(auto_now_add=True)
    order = models.ForeignKey(
        "sandbox.SandboxOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chain_delegations",
    )
    by_other_party = models.BooleanField(
        default=False, help_text="Someone else's delegation to the order's receiver."
    )

    objects = ChainDelegationQuerySet.as_manager()

    class Meta:
        ordering = ["lands_at", "id"]
        indexes = [
            models.Index(fields=["receiver", "lands_at"], name="sandbox_chain_receiver"),
            models.Index(fields=["delegator", "lands_at"], name="sandbox_chain_delegator"),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} -> {self.receiver}: {self.staked_sun:,} sun"


class ChainTransfer(models.Model):
    """A USDT transfer sent on the simulated chain (chain_consumption.py): the energy it needed,
    what the sender's energy covered, and the TRX burned for the rest (energy_fee_sun a unit,
    the chain's getEnergyFee). burned_sun > 0 is a transfer that burned TRX."""

    txid = models.CharField(max_length=64, unique=True)
    sender = models.CharField(max_length=34)
    recipient = models.CharField(max_length=34, blank=True)
    energy = models.PositiveIntegerField(help_text="Energy the transfer needed.")
    energy_from_stake = models.PositiveIntegerField(
        default=0, help_text="Of it, what the sender's energy (its delegations) covered."
    )
    burned_sun = models.BigIntegerField(default=0, help_text="TRX burned for the rest, in sun.")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["sender", "at"], name="sandbox_transfer_sender")]

    def __str__(self) -> str:
        return f"{self.sender}: {self.energy:,} energy, {self.burned_sun:,} sun burned"


class ChainConsumer(models.Model):
    """An address that sends USDT on the simulated chain by itself, in bursts
    (chain_consumption.run_consumers): on average `transfers_per_hour`, in bursts of 1 to
    `burst` transfers at once, each needing `energy_per_transfer`. Random but reproducible:
    the gaps and burst sizes come from the address, `seed` and the burst's number."""

    address = models.CharField(max_length=34, unique=True)
    transfers_per_hour = models.PositiveIntegerField(default=4, validators=[MinValueValidator(1)])
    burst = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="Most transfers in one burst."
    )
    energy_per_transfer = models.PositiveIntegerField(default=65_000)
    seed = models.CharField(max_length=40, blank=True)
    enabled = models.BooleanField(default=True)
    next_burst_at = models.DateTimeField(null=True, blank=True)
    bursts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.address}: {self.transfers_per_hour}/h in bursts of up to {self.burst}"
