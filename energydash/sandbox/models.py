"""Tables behind the simulated providers: accounts, orders, callbacks and the simulated chain."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from energydash.lib.crypto import EncryptedTextField
from energydash.providers.models import Provider
from energydash.sandbox.chain_models import (
    ChainAccount,
    ChainConsumer,
    ChainDelegation,
    ChainNetwork,
    ChainTransfer,
    sandbox_address,
)
from energydash.sandbox.defaults import ITRX_DAY_PRICES_SUN, PROVIDER_DEFAULTS
from energydash.sandbox.money_models import MoneyKnobs, OrderFate

__all__ = [
    "ChainAccount",
    "ChainConsumer",
    "ChainDelegation",
    "ChainNetwork",
    "ChainTransfer",
    "SandboxAccount",
    "SandboxAddress",
    "SandboxCallback",
    "SandboxOrder",
]
RATE = [MinValueValidator(0.0), MaxValueValidator(1.0)]
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def key_digest(key: str) -> str:
    """What account lookups compare: the SHA-256 of the key (the key itself is encrypted)."""
    return hashlib.sha256(key.encode()).hexdigest() if key else ""


def _day_prices() -> dict[str, int]:
    return dict(ITRX_DAY_PRICES_SUN)


class SandboxAccount(MoneyKnobs):
    """One fake prepaid account at a simulated provider.

    The key and secret are encrypted with the field keys like a real ProviderAccount's (a
    sandbox may run on a staging server, and its keys open it). Requests name an account by its
    key, and Fernet ciphertext cannot be searched, so api_key_digest (SHA-256 of the key, set
    on save) is what lookups filter on.
    """

    provider = models.CharField(max_length=16, choices=Provider.choices)
    name = models.CharField(max_length=100, unique=True)
    api_key = EncryptedTextField(help_text="itrx API-KEY, TronZap token, Netts key.")
    api_secret = EncryptedTextField(blank=True, help_text="Not used by Netts.")
    api_key_digest = models.CharField(max_length=64, editable=False, default="")
    balance_sun = models.BigIntegerField(default=0, verbose_name="balance (sun)")
    whitelist_ips = models.TextField(
        blank=True, help_text="Netts: X-Real-IP values accepted, one per line or comma-separated."
    )
    deposit_address = models.CharField(max_length=34, blank=True)

    min_energy = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank: provider default."
    )
    max_energy = models.PositiveIntegerField(
        null=True, blank=True, help_text="Blank: provider default."
    )
    price_sun = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        verbose_name="1-hour price (sun per energy)",
        help_text="Blank: provider default.",
    )
    day_prices_sun = models.JSONField(
        default=_day_prices,
        blank=True,
        help_text='itrx only: sun per energy per day by tier, e.g. {"1": 85, "3": 80, "30": 75}.',
    )
    activation_fee_sun = models.BigIntegerField(
        null=True, blank=True, help_text="Blank: provider default."
    )
    orders_unavailable = models.BooleanField(
        default=False,
        help_text="Placing answers the provider's 'temporarily unavailable' error "
        "(nothing charged).",
    )

    latency_ms = models.PositiveIntegerField(default=0, help_text="Added to every request.")
    error_rate = models.FloatField(default=0.0, validators=RATE, help_text="Share answering 5xx.")
    timeout_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share held for hang_seconds, then answered 504 (nothing done).",
    )
    lose_response_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of placing requests that create and charge the order, then hold the "
        "response for hang_seconds.",
    )
    charge_without_order_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of placing requests that deduct the order's cost from the balance but "
        "create no order and answer the insufficient-funds refusal: money gone, no order "
        "(the console's ledger shows a discrepancy).",
    )
    charge_without_order_once = models.BooleanField(
        default=False,
        help_text="The next placing request charges without an order (as above), then this "
        "switches itself off.",
    )
    hang_seconds = models.FloatField(default=30.0, validators=[MinValueValidator(0.0)])
    delegation_delay_seconds = models.PositiveIntegerField(
        default=6, help_text="Time from order to delegation (status, hashes, callback)."
    )
    error_after_create_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of placing requests that create and charge the order, then answer 502 "
        "as a failing gateway would: the provider's answer is lost.",
    )
    slow_delegation_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of orders (chosen by their id, so always the same ones) delegated only "
        "after slow_delegation_seconds.",
    )
    slow_delegation_seconds = models.PositiveIntegerField(default=60)
    duplicate_callback_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="itrx: share of delivered callbacks sent a second time, as itrx may.",
    )
    out_of_order_callback_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="itrx: share of delivered callbacks followed by a stale 'delegating' one "
        "(status 30), arriving after the final status.",
    )
    # The simulated chain (chain_state.record_delegation): what lands on chain for an energy order.
    delegator_address = models.CharField(
        max_length=34,
        blank=True,
        help_text="The address this account delegates energy from. Blank: one derived from the "
        "name.",
    )
    chain_never_delegates = models.BooleanField(
        default=False, help_text="Chain fault: orders complete, but nothing is delegated."
    )
    chain_delegated_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=PERCENT,
        help_text="Chain fault below 100: only this share of an order's energy is delegated.",
    )
    chain_late_seconds = models.PositiveIntegerField(
        default=0,
        help_text="Chain fault: the delegation lands this long after the order reports it done.",
    )
    chain_undelegate_after_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Chain fault: the delegation is taken back this long after it lands, before the "
        "period paid for ends. Blank: at the end of the period.",
    )
    chain_other_party_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=PERCENT,
        help_text="Chain fault above 0: someone else delegates this share of the order's energy "
        "to the same receiver at the same moment.",
    )
    # Per-order delivery faults (the soak's): each order draws one fraction from its id, so the
    # shares are disjoint in this order and every read agrees on which orders they hit.
    chain_missing_rate = models.FloatField(
        default=0.0, validators=RATE, help_text="Share of orders delegating nothing."
    )
    chain_short_rate = models.FloatField(
        default=0.0, validators=RATE, help_text="Share of orders delegating half the energy."
    )
    chain_late_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of orders whose delegation lands chain_late_fault_seconds after done.",
    )
    chain_late_fault_seconds = models.PositiveIntegerField(default=10)
    chain_early_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of orders whose energy is taken back chain_early_fault_seconds after "
        "it lands.",
    )
    chain_early_fault_seconds = models.PositiveIntegerField(default=20)
    chain_other_party_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of orders beside which a stranger delegates the same energy at the "
        "same moment.",
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "api_key_digest"], name="sandbox_account_key_digest_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def save(self, *args: object, **kwargs: object) -> None:
        for field, value in PROVIDER_DEFAULTS.get(self.provider, {}).items():
            if getattr(self, field) is None:
                setattr(self, field, value)
        self.api_key_digest = key_digest(self.api_key.reveal() if self.api_key else "")
        self.delegator_address = self.delegator_address or self.delegator()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "api_key" in update_fields:  # type: ignore[operator]
            kwargs["update_fields"] = [*update_fields, "api_key_digest"]  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def for_key(cls, provider: str, key: str) -> SandboxAccount | None:
        """The account of `provider` whose key is exactly `key`, or None."""
        if not key:
            return None
        return cls.objects.filter(provider=provider, api_key_digest=key_digest(key)).first()

    def delegator(self) -> str:
        """The address this account's energy is delegated from on the simulated chain."""
        return self.delegator_address or sandbox_address(f"sandbox delegator:{self.name}")

    def other_party(self) -> str:
        """The stranger who delegates beside this account (knob chain_other_party_percent)."""
        return sandbox_address(f"sandbox other party:{self.name}")

    @property
    def secret(self) -> str:
        """The API secret in clear, for signing; never put it anywhere it could be shown."""
        return self.api_secret.reveal() if self.api_secret else ""

    @property
    def whitelist(self) -> set[str]:
        return {
            ip.strip() for ip in self.whitelist_ips.replace(",", "\n").splitlines() if ip.strip()
        }

    def charge(self, sun: int) -> bool:
        """Deduct sun atomically; False (and nothing changed) if the balance would go below zero.

        One conditional UPDATE: two concurrent orders can never both pass the check.
        """
        updated = SandboxAccount.objects.filter(pk=self.pk, balance_sun__gte=sun).update(
            balance_sun=F("balance_sun") - sun
        )
        self.refresh_from_db(fields=["balance_sun"])
        return updated == 1


class SandboxAddress(models.Model):
    """The simulated chain's view of an address. Addresses not listed here count as activated."""

    address = models.CharField(max_length=34, unique=True)
    activated = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "sandbox addresses"

    def __str__(self) -> str:
        return f"{self.address} ({'activated' if self.activated else 'not activated'})"

    @classmethod
    def is_activated(cls, address: str) -> bool:
        return not cls.objects.filter(address=address, activated=False).exists()

    @classmethod
    def activate(cls, address: str) -> None:
        cls.objects.filter(address=address, activated=False).update(
            activated=True, activated_at=timezone.now()
        )


class SandboxOrder(OrderFate):
    """An order at a simulated provider. Its progress is computed from created_at on read."""

    class Kind(models.TextChoices):
        ENERGY = "energy", "energy"
        COLLECT = "collect", "itrx collection"
        ACTIVATE = "activate", "address activation"

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="orders")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ENERGY)
    ref = models.CharField(max_length=64, unique=True, help_text="serial / id / orderId")
    client_ref = models.CharField(
        max_length=128,
        blank=True,
        help_text="out_trade_no / external_id (not unique, as at the providers)",
    )
    receive_address = models.CharField(max_length=34)
    energy = models.PositiveIntegerField(default=0)
    period = models.CharField(
        max_length=8, blank=True, help_text="Provider notation: 1H, 3D, 1, 1h."
    )
    duration_seconds = models.PositiveIntegerField(default=3600)
    cost_sun = models.BigIntegerField(help_text="Total charged, activation included.")
    activation_sun = models.BigIntegerField(default=0)
    scene = models.PositiveSmallIntegerField(null=True, blank=True)
    callback_url = models.CharField(max_length=2048, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reclaimed_at = models.DateTimeField(null=True, blank=True)
    refund_sun = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Set when the provider refunded the order (TronZap status 'refunded'); the "
        "amount went back to the balance.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "client_ref"], name="sandbox_order_client_ref"),
            models.Index(fields=["account", "refund_due_at"], name="sandbox_order_refund_due"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.ref}"

    def delegated_at(self) -> datetime:
        return self.created_at + timedelta(seconds=self.delegation_delay())

    def delegation_delay(self) -> int:
        """The account's delay, or its slow one for the share of orders slow delegation picks:
        a fraction derived from the order's id, so every read agrees on the same orders."""
        account = self.account
        if account.slow_delegation_rate > 0:
            fraction = int(self.fake_hash("slow")[:8], 16) / 0x1_0000_0000
            if fraction < account.slow_delegation_rate:
                return max(account.slow_delegation_seconds, account.delegation_delay_seconds)
        return account.delegation_delay_seconds

    def is_delegated(self, now: datetime) -> bool:
        return now >= self.delegated_at()

    def expires_at(self) -> datetime:
        return self.delegated_at() + timedelta(seconds=self.duration_seconds)

    def reclaimed(self, now: datetime) -> datetime | None:
        """When the delegation was (or will have been, by now) taken back, else None."""
        if self.reclaimed_at and self.reclaimed_at <= now:
            return self.reclaimed_at
        return self.expires_at() if now >= self.expires_at() else None

    CHAIN_FAULTS = ("missing", "short", "late", "early", "other_party")

    def chain_fault(self) -> str:
        """The per-order delivery fault the account's rates give this order, or ""."""
        fraction = int(self.fake_hash("chain fault")[:8], 16) / 0x1_0000_0000
        edge = 0.0
        for fault in self.CHAIN_FAULTS:
            edge += getattr(self.account, f"chain_{fault}_rate")
            if fraction < edge:
                return fault
        return ""

    def fake_hash(self, what: str) -> str:
        return hashlib.sha256(f"{self.ref}:{what}".encode()).hexdigest()

    def refund(self, sun: int | None = None, at: datetime | None = None) -> bool:
        """Give `sun` (default: the whole cost) back to the account, once (a conditional UPDATE:
        two concurrent refunds cannot both credit). True when this call refunded it."""
        sun = self.cost_sun if sun is None else sun
        at = at or timezone.now()
        with transaction.atomic():
            done = SandboxOrder.objects.filter(pk=self.pk, refund_sun__isnull=True).update(
                refund_sun=sun
            )
            if done:
                SandboxAccount.objects.filter(pk=self.account_id).update(
                    balance_sun=F("balance_sun") + sun
                )
                # A refunded order is not (or no longer) delivered: its delegation leaves the
                # chain (or never lands, when it had not yet). Not before now: a refund due
                # earlier but credited now cannot change what the chain already showed.
                gone = max(at, timezone.now())
                self.chain_delegations.filter(by_other_party=False).filter(
                    Q(undelegated_at__isnull=True) | Q(undelegated_at__gt=gone)
                ).update(undelegated_at=gone)
        self.refresh_from_db(fields=["refund_sun"])
        return bool(done)


class SandboxCallback(models.Model):
    """itrx's signed POST to an order's callback_url, retried 15s, 15s, 30s, 180s, 600s, 1200s,
    1800s after failures, then dropped."""

    order = models.OneToOneField(SandboxOrder, on_delete=models.CASCADE, related_name="callback")
    url = models.CharField(max_length=2048)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Blank: no more attempts."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status.")
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="sandbox_callback_due")]

    def __str__(self) -> str:
        return f"callback for {self.order.ref}"

    @property
    def dropped(self) -> bool:
        return self.delivered_at is None and self.next_attempt_at is None and self.attempts > 0
