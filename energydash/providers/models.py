from __future__ import annotations

import uuid
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from energydash.core.outbound import validate_provider_base_url
from energydash.lib.crypto import EncryptedTextField, Secret
from energydash.lib.tron import SUN_PER_TRX
from energydash.providers.credentials import (
    DEFAULT_BASE_URLS,
    ITRX,
    NETTS,
    TRONZAP,
    UNREADABLE,
    Credentials,
    CredentialsUnreadable,
)


class Provider(models.TextChoices):
    ITRX = ITRX, "itrx.io"
    TRONZAP = TRONZAP, "TronZap"
    NETTS = NETTS, "Netts"


# The precision each provider publishes its balance in, in sun: the ledger's default rounding
# tolerance. itrx answers in integer sun (index-data and order `balance`); TronZap
# (/v1/balance, `100.50`) and Netts (/apiv2/userinfo `stats.balance`, `28361.15`) show TRX to
# 0.01 in their documentation (shared/providers.md, 2.7, 3 and 4.5).
BALANCE_PRECISION_SUN = {ITRX: 0, TRONZAP: SUN_PER_TRX // 100, NETTS: SUN_PER_TRX // 100}
MAX_LEDGER_TOLERANCE_SUN = SUN_PER_TRX  # more would hide real discrepancies


class ProviderAccount(models.Model):
    """One prepaid account at one provider: the key vault entry plus its operating limits."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    base_url = models.URLField(
        max_length=300,
        blank=True,
        validators=[validate_provider_base_url],
        help_text="Provider origin, optionally with a path prefix, never the API path. "
        "Blank means the provider's real address. Must be a public address.",
    )
    api_key = EncryptedTextField(blank=True)
    api_secret = EncryptedTextField(blank=True, help_text="Not used by Netts.")
    egress_ip = models.GenericIPAddressField(
        null=True,
        blank=True,
        verbose_name="egress IP",
        help_text="Netts: the whitelisted IP this server calls from, sent as X-Real-IP.",
    )
    enabled = models.BooleanField(default=True)
    low_balance_threshold_sun = models.BigIntegerField(
        default=100 * SUN_PER_TRX,
        validators=[MinValueValidator(0)],
        verbose_name="low-balance threshold (sun)",
    )
    alert_emails = models.TextField(
        blank=True,
        help_text="Low-balance alert recipients, one per line or comma-separated. "
        "Blank means every user in the admin group.",
    )
    max_order_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="maximum cost per order (sun)",
        help_text="Orders quoted above this are refused before the provider is called.",
    )
    daily_budget_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="daily budget (sun)",
        help_text="Refuse an order that would take today's spend on this account above this.",
    )
    large_order_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="large-order warning (sun)",
        help_text="The new-order page asks for a second look at orders quoted above this "
        "(a warning, not a limit).",
    )
    approval_above_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        verbose_name="approval above (sun)",
        help_text="Orders quoted above this wait for a second person's approval before "
        "anything is sent. Blank means never.",
    )
    ledger_tolerance_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_LEDGER_TOLERANCE_SUN)],
        verbose_name="ledger rounding tolerance (sun)",
        help_text="A ledger row whose unexplained change is no larger than this is explained by "
        "the provider rounding its balance. Blank means the precision the provider publishes "
        "(itrx: exact sun; TronZap and Netts: 0.01 TRX).",
    )
    priority = models.SmallIntegerField(
        default=0,
        help_text="Best-price routing: among accounts quoting the same price, the higher "
        "priority is tried first.",
    )
    timeout_seconds = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1)], help_text="Whole-request timeout."
    )
    connect_timeout_seconds = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1)]
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.ledger_tolerance_sun is None:  # blank: the provider's published precision
            self.ledger_tolerance_sun = BALANCE_PRECISION_SUN.get(self.provider, 0)
            fields = kwargs.get("update_fields")
            if fields is not None:
                kwargs["update_fields"] = {*fields, "ledger_tolerance_sun"}
        super().save(*args, **kwargs)

    @property
    def effective_base_url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[self.provider]).rstrip("/")

    @property
    def masked_key(self) -> str:
        return _masked(self.api_key)

    @property
    def masked_secret(self) -> str:
        return _masked(self.api_secret)

    @property
    def credentials_readable(self) -> bool:
        """Whether the stored key and secret decrypt (one Fernet decryption each, no I/O)."""
        return all(secret.readable for secret in (self.api_key, self.api_secret) if secret)

    @property
    def credentials_problem(self) -> str:
        """What stops this account's credentials from being used, in words; "" when nothing."""
        return "" if self.credentials_readable else UNREADABLE

    @property
    def alert_recipients(self) -> list[str]:
        raw = self.alert_emails.replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def credentials(self) -> Credentials:
        """Decrypts the key and secret now, for use; CredentialsUnreadable if either cannot be.

        Everything that talks to a provider goes through here, so an unreadable account is
        refused in one place and in words, before any request is built.
        """
        if not self.credentials_readable:
            raise CredentialsUnreadable(self.name)
        return Credentials(
            provider=self.provider,
            base_url=self.effective_base_url,
            api_key=self.api_key or Secret(""),
            api_secret=self.api_secret or Secret(""),
            egress_ip=self.egress_ip or "",
            timeout=float(self.timeout_seconds),
            connect_timeout=float(self.connect_timeout_seconds),
            label=self.name,
        )


def _masked(secret: Secret | None) -> str:
    """The mask (••••3f9a), "" when not set, or the problem in words when it cannot be read."""
    if not secret:
        return ""
    return secret.masked if secret.readable else UNREADABLE
