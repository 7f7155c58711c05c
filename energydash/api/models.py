"""API tokens, routed requests (the unit an Idempotency-Key maps to) and webhook deliveries."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from energydash.core.outbound import validate_public_url
from energydash.lib.crypto import EncryptedTextField, Secret
from energydash.orders.models import Order

TOKEN_PREFIX = "edk_"
PREFIX_LENGTH = 12  # "edk_" and 8 random characters: enough to tell tokens apart in lists


def hash_token(raw: str) -> str:
    """SHA-256 of the whole token: it carries 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenRole(models.TextChoices):
    OPERATOR = "operator", "Operator (reads and places orders)"
    VIEWER = "viewer", "Viewer (reads only)"


class Scope(models.TextChoices):
    READ = "read", "read: orders, balances, batches"
    QUOTE = "quote", "quote: prices"
    PLACE = "place", "place: orders"
    BATCHES = "batches", "batches: start bulk orders"


ALL_SCOPES = ",".join(Scope.values)
MAX_NETWORKS = 50


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDRs (or single addresses), one per line or comma-separated; ValueError names a bad one."""
    networks = []
    for part in (text or "").replace(",", "\n").splitlines():
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part[:60]!r} is not an IP address or CIDR network.") from None
    if len(networks) > MAX_NETWORKS:
        raise ValueError(f"At most {MAX_NETWORKS} networks.")
    return networks


def validate_networks(text: str) -> None:
    try:
        parse_networks(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def validate_scopes(text: str) -> None:
    unknown = [s for s in text.split(",") if s and s not in Scope.values]
    if unknown or not text:
        raise ValidationError(
            f"Choose at least one of {', '.join(Scope.values)}"
            + (f" (not {', '.join(unknown)[:60]})." if unknown else ".")
        )


http_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// URL.")


class ApiToken(models.Model):
    """A bearer token for /api/v1/. Only its hash is stored; the token is shown once."""

    name = models.CharField(
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_.-]+$", "Use letters, digits, '.', '_' or '-' (no spaces)."
            )
        ],
        help_text="Names the token in orders (placed via api:NAME) and in the audit log.",
    )
    role = models.CharField(max_length=16, choices=TokenRole.choices)
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    webhook_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[http_url, validate_public_url],
        help_text="Optional: POSTed the order JSON when an order placed with this token becomes "
        "final or needs review. Redirects are not followed.",
    )
    webhook_secret = EncryptedTextField(blank=True, editable=False)
    # Secret rotation (api/webhook_signing.py): the replaced secret still signs, beside the new
    # one, until previous_secret_until.
    previous_webhook_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # Set when a delivery was given up after every retry; nothing is sent until re-enabled.
    webhook_disabled_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Narrowing (README "API"): what it may do, until when, from where, and how much a day.
    scopes = models.CharField(
        max_length=64,
        default=ALL_SCOPES,
        validators=[validate_scopes],
        help_text="Comma-separated: read, quote, place, batches.",
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Refused from this time on. Blank: never expires."
    )
    allowed_ips = models.TextField(
        blank=True,
        validators=[validate_networks],
        verbose_name="allowed networks",
        help_text="CIDRs (or addresses), one per line or comma-separated: requests from any "
        "other client address are refused. Blank: any address.",
    )
    daily_cap_sun = models.BigIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        verbose_name="daily spending cap (sun)",
        help_text="Orders placed with this token today may spend at most this. Blank: no cap.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def code(self) -> str:  # what AuditEvent records as the object's id
        return self.prefix

    @property
    def placed_via(self) -> str:
        return f"api:{self.name}"  # at most 36 characters, Order.placed_via holds 40

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_place(self) -> bool:
        return self.active and self.role == TokenRole.OPERATOR

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)

    def expired(self, now: Any = None) -> bool:
        return self.expires_at is not None and (now or timezone.now()) >= self.expires_at

    def allows_ip(self, address: str) -> bool:
        """Whether a request from `address` may use this token (no list: any address)."""
        networks = parse_networks(self.allowed_ips)
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def assign_new_secrets(self) -> tuple[str, str]:
        """Generate the token and the webhook signing secret; returns both in clear, once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        signing = new_signing_secret()
        self.prefix = raw[:PREFIX_LENGTH]
        self.token_hash = hash_token(raw)
        self.webhook_secret = signing
        return raw, signing

    def signing_secret(self) -> str:
        value: Any = self.webhook_secret
        return value.reveal() if isinstance(value, Secret) else str(value or "")

    def previous_signing_secret(self, now: Any = None) -> str:
        """The replaced secret while its overlap window lasts, else ""."""
        until = self.previous_secret_until
        if not until or until <= (now or timezone.now()):
            return ""
        value: Any = self.previous_webhook_secret
        return value.reveal() if isinstance(value, Secret) else str(value or "")


def new_signing_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in standard base64, which every
    standardwebhooks library decodes the same way."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookDelivery(models.Model):
    """The JSON to POST to a token's webhook once: one settled state of one order, or the end of
    one ready check (ready.ready / ready.not_ready)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="deliveries")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ready_check = models.ForeignKey(
        "orders.ReadyCheck", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=32)  # order.completed / order.failed / order.needs_review
    url = models.CharField(max_length=500)
    payload = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "webhook deliveries"
        # The admin's changelist, newest first: its first page reads 50 index entries.
        indexes = [models.Index(fields=["-created", "-id"], name="webhookdelivery_created_id")]
        constraints = [
            models.UniqueConstraint(
                fields=["token", "order", "event"], name="webhookdelivery_once_per_event"
            ),
            models.UniqueConstraint(
                fields=["token", "ready_check", "event"],
                name="webhookdelivery_once_per_ready_check",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=True) ^ Q(ready_check__isnull=True),
                name="webhookdelivery_order_or_ready_check",
            ),
        ]

    def __str__(self) -> str:
        if self.order_id is None:
            return f"{self.event} for ready check {self.ready_check_id}"
        return f"{self.event} for order {self.order_id}"

    @property
    def state(self) -> str:
        if self.delivered_at:
            return "delivered"
        if self.gave_up_at:
            return "gave up"
        return "pending"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    created = models.DateTimeField(default=timezone.now)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "created", "id"]

    def __str__(self) -> str:
        return f"{self.http_status or self.error}"
