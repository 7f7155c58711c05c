"""Bulk orders: many addresses, one plan, each line its own routed order."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from energydash.orders.models import Order, Route
from energydash.providers.models import ProviderAccount


class Batch(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned — waiting for confirmation")
        # Confirmed, but its planned total is above ENERGYDASH_BATCH_APPROVAL_ABOVE_TRX: no line
        # is placed until another operator or admin approves it (batches/approvals.py).
        AWAITING = "awaiting", _("Awaiting approval")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        CANCELLED = "cancelled", _("Cancelled")
        FINISHED = "finished", _("Finished")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Re-submitting the same batch (same API Idempotency-Key, same command file) finds it again.
    key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    body_hash = models.CharField(max_length=64, blank=True)
    via = models.CharField(max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The API token that started the batch, by label: the API sits above batches.
    token = models.ForeignKey(
        "api.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    period = models.CharField(max_length=8, default="1H")
    activate = models.BooleanField(default=False)
    max_cost_sun = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    cancel_requested = models.BooleanField(default=False)
    planned_total_sun = models.BigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When it was last queued (Start, Resume, or the watchdog): a queued batch no worker has
    # taken up within a lease is stalled.
    queued_at = models.DateTimeField(null=True, blank=True)
    # The lease of the worker running a slice (services.py): its owner token and until when it
    # holds, renewed by a heartbeat. A lapsed lease means the worker died; another resumes.
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Set when the one alert for the current stall was raised; cleared when a worker takes it.
    stall_alerted_at = models.DateTimeField(null=True, blank=True)
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"Batch {str(self.code)[:8]}"

    @property
    def short_code(self) -> str:
        return str(self.code)[:8]

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class BatchLine(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PLACED = "placed", _("Placed")
        FAILED = "failed", _("Failed (nothing charged)")
        REVIEW = "review", _("Unknown / needs review")
        AWAITING = "awaiting", _("Awaiting approval (nothing sent)")
        CANCELLED = "cancelled", _("Cancelled")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveIntegerField()
    address = models.CharField(max_length=34)
    energy = models.PositiveIntegerField()
    plan_account = models.ForeignKey(
        ProviderAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan_price_sun = models.BigIntegerField(null=True, blank=True)
    plan_error = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "number"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "number"], name="batchline_unique_number")
        ]

    def __str__(self) -> str:
        return f"line {self.number} {self.address}"
