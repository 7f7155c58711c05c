"""Balance history, each account's current balance state, and the alerts sent about it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from energydash.providers.models import ProviderAccount


class Source(models.TextChoices):
    REFRESH = "refresh", "Scheduled refresh"
    ORDER = "order", "Order response"
    MANUAL = "manual", "Manual refresh"


REFRESH, ORDER, MANUAL = Source.REFRESH.value, Source.ORDER.value, Source.MANUAL.value


class BalanceSnapshot(models.Model):
    """A balance the provider reported at taken_at.

    Rows are change points plus a sparse heartbeat (see services.record_balance): the balance
    held from a row's taken_at until the next row's, so the history is a step function.
    """

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="snapshots")
    balance_sun = models.BigIntegerField()
    taken_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=Source.choices)

    class Meta:
        ordering = ["account", "taken_at", "id"]
        get_latest_by = ["taken_at", "id"]
        indexes = [models.Index(fields=["account", "taken_at"], name="snapshot_account_taken")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.balance_sun} sun at {self.taken_at:%Y-%m-%d %H:%M}"


class AccountBalanceState(models.Model):
    """What the dashboard and the alert pass read per account: one row, updated in place."""

    account = models.OneToOneField(
        ProviderAccount, on_delete=models.CASCADE, related_name="balance_state"
    )
    balance_sun = models.BigIntegerField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The last refresh failure in words ("authentication failed"), kept until a refresh succeeds.
    last_error = models.CharField(max_length=300, blank=True)
    last_error_detail = models.TextField(blank=True)
    error_since = models.DateTimeField(null=True, blank=True)
    # Alert hysteresis: armed means the next qualifying check sends one e-mail and disarms.
    low_alert_armed = models.BooleanField(default=True)
    failing_alert_armed = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"balance state of {self.account_id}"

    @property
    def failing(self) -> bool:
        return bool(self.error_since)


class AlertKind(models.TextChoices):
    LOW_BALANCE = "low_balance", "Low balance"
    REFRESH_FAILING = "refresh_failing", "Balance refresh failing"


class Alert(models.Model):
    """One alert e-mail (or its failed attempt), with the figures it reported."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    balance_sun = models.BigIntegerField(null=True, blank=True)
    threshold_sun = models.BigIntegerField()
    runway_days = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)  # refresh error in words
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=200)
    delivery_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.subject

    @property
    def delivered(self) -> bool:
        return bool(self.recipients) and not self.delivery_error
