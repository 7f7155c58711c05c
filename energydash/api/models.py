"""API tokens, routed requests (the unit an Idempotency-Key maps to) and webhook deliveries."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
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
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

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

    def assign_new_secrets(self) -> tuple[str, str]:
        """Generate the token and the webhook signing secret; returns both in clear, once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        signing = "whsec_" + secrets.token_urlsafe(32)
        self.prefix = raw[:PREFIX_LENGTH]
        self.token_hash = hash_token(raw)
        self.webhook_secret = signing
        return raw, signing

    def signing_secret(self) -> str:
        value: Any = self.webhook_secret
        return value.reveal() if isinstance(value, Secret) else str(value or "")


class WebhookDelivery(models.Model):
    """The order JSON to POST to a token's webhook once, for one settled state of one order."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="deliveries")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
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
            )
        ]

    def __str__(self) -> str:
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
