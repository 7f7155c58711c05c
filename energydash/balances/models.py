"""Balance history, each account's current balance state, and the alerts sent about it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from energydash.lib.crypto import EncryptedTextField
from energydash.providers.models import ProviderAccount


class Source(models.TextChoices):
    REFRESH = "refresh", _("Scheduled refresh")
    ORDER = "order", _("Order response")
    MANUAL = "manual", _("Manual refresh")


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
    # Where to top the account up, as the provider's balance answer last named it (TronZap,
    # Netts); "" when unknown. Written only by services.refresh_account.
    deposit_address = models.CharField(max_length=34, blank=True)

    def __str__(self) -> str:
        return f"balance state of {self.account_id}"

    @property
    def failing(self) -> bool:
        return bool(self.error_since)


class AlertKind(models.TextChoices):
    LOW_BALANCE = "low_balance", _("Low balance")
    REFRESH_FAILING = "refresh_failing", _("Balance refresh failing")
    LEDGER_DISCREPANCY = "ledger_discrepancy", _("Ledger discrepancy")
    SUMMARY_MISMATCH = "summary_mismatch", _("itrx summary mismatch")
    COST_OVERRUN = "cost_overrun", _("Charge above the limits")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed on chain")
    WEBHOOK_DISABLED = "webhook_disabled", _("Webhook endpoint disabled")
    WATCH_PRICE_CAP = "watch_price_cap", _("Watch rule: price above the cap")


class Alert(models.Model):
    """One alert e-mail (or its failed attempt), with the figures it reported."""

    account = models.ForeignKey(
        ProviderAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )  # empty: about no account (a webhook endpoint disabled)
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    balance_sun = models.BigIntegerField(null=True, blank=True)
    threshold_sun = models.BigIntegerField()
    runway_days = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)  # refresh error in words
    recipients = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=200)
    delivery_error = models.CharField(max_length=300, blank=True)
    # The order a delivery alert is about (balances/delivery_alerts.py): one alert per order.
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The inbox (README "Monitoring", Alert channels): open until acknowledged or resolved;
    # channels are notified when it is raised and again every ENERGYDASH_ALERT_RENOTIFY_MINUTES
    # while nobody acknowledged it.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True, db_index=True)
    notify_count = models.PositiveIntegerField(default=0)
    channel_results = models.JSONField(default=dict, blank=True)  # channel name -> ok / why not

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=models.Q(order__isnull=False),
                name="alert_once_per_order",
            )
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def delivered(self) -> bool:
        return bool(self.recipients) and not self.delivery_error

    @property
    def state(self) -> str:
        if self.resolved_at:
            return "resolved"
        if self.acknowledged_at:
            return "acknowledged"
        return "open"


class ChannelKind(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    WEBHOOK = "webhook", _("Generic webhook (JSON POST)")
    EMAIL = "email", _("E-mail")


class AlertChannel(models.Model):
    """Where alerts are sent besides the account's e-mail (balances/channels.py, Apprise).

    The secret part (Telegram bot token; Slack, Discord or webhook URL, whose path is the
    credential) is encrypted like provider keys and never shown again.
    """

    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    secret = EncryptedTextField(blank=True, editable=False)
    chat_id = models.CharField(
        max_length=64, blank=True, help_text="Telegram only: the chat, group or channel id."
    )
    emails = models.TextField(blank=True, help_text="E-mail only: addresses, comma-separated.")
    account = models.ForeignKey(
        ProviderAccount,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_channels",
        help_text="Only this account's alerts; empty: every account (and alerts about none).",
    )
    alert_kinds = models.JSONField(
        default=list, blank=True, help_text="Only these kinds of alert; empty: every kind."
    )
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def wants(self, alert: Alert) -> bool:
        if not self.enabled:
            return False
        if self.account_id and alert.account_id != self.account_id:
            return False
        return not self.alert_kinds or alert.kind in self.alert_kinds


class RollupFigures(models.Model):
    """What one rollup row adds up: every order of one account, status and kind in one bucket.

    cost_sun is the final cost or, while that is unknown, the quoted cost (what was charged, before
    any refund); spend_sun is what the orders count in spend (orders.money.SPEND: the money the
    provider kept, cost - refund, and for unknown / needs-review orders their possible charge);
    energy and burn_sun are the ordered energy and what burning TRX for it would have cost. Which
    statuses count is decided when reading, so a state change only moves an order between rows.
    """

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # calendar day in settings.TIME_ZONE (rebuild after changing it)
    status = models.CharField(max_length=16)
    kind = models.CharField(max_length=16)
    orders = models.PositiveIntegerField(default=0)
    cost_sun = models.BigIntegerField(default=0)
    energy = models.BigIntegerField(default=0)
    burn_sun = models.BigIntegerField(default=0)
    spend_sun = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class HourlyOrderRollup(RollupFigures):
    """Orders per local hour (hour_start is that hour's first instant), account, status and kind."""

    hour_start = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hour_start", "status", "kind"], name="rollup_hour_unique"
            )
        ]
        indexes = [models.Index(fields=["hour_start"], name="rollup_hour_start")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.hour_start:%Y-%m-%d %H:%M} {self.status} {self.kind}"


class DailyOrderRollup(RollupFigures):
    """The hourly rows of one local day added up: what the dashboard, charts and totals read."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "status", "kind"], name="rollup_day_unique"
            )
        ]
        indexes = [models.Index(fields=["day", "status"], name="rollup_day_status")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.status} {self.kind}"


class LedgerFlag(models.Model):
    """A ledger finding that was reported, once: the unique key is the hysteresis.

    A discrepancy episode is keyed by the reading that starts its first interval (change points
    never move, see services.record_balance; ledger.Episode), an itrx summary mismatch by the
    provider's day. Claiming the row (INSERT under the unique constraint) decides who sends the
    one e-mail.
    """

    class Kind(models.TextChoices):
        DISCREPANCY = "discrepancy", _("Discrepancy")
        SUMMARY_MISMATCH = "summary_mismatch", _("itrx summary mismatch")

    DELIVERY_FAILED = "delivery_failed", _("Delivery failed on chain")

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    amount_sun = models.BigIntegerField()
    details = models.JSONField(default=dict, blank=True)
    alert = models.ForeignKey(
        Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="ledger_flags"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "key"], name="ledger_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.key}"


class HourlyBalanceRollup(models.Model):
    """One account's balance readings in one local hour: lowest, highest and last, with times.

    What the 7/30/90-day balance charts read instead of the snapshots (balance_rollups.py): a
    chart bucket's low, high and last reading are those of its hours. Written only by
    services.record_balance, in the transaction that writes the snapshot, under the account's
    state row lock; `manage.py rebuild_rollups` recomputes every row.
    """

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    hour_start = models.DateTimeField()  # first instant of the local hour (as order rollups)
    readings = models.PositiveIntegerField()
    low_sun = models.BigIntegerField()
    low_at = models.DateTimeField()
    high_sun = models.BigIntegerField()
    high_at = models.DateTimeField()
    last_sun = models.BigIntegerField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hour_start"], name="balance_rollup_hour_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.hour_start:%Y-%m-%d %H:%M} last {self.last_sun}"


class RollupZone(models.Model):
    """The time zone the order rollups' local hours and days were built in (one row).

    Written by the first rollup write and by `manage.py rebuild_rollups`; the system check
    balances.checks.check_rollup_zone refuses to start when settings.TIME_ZONE differs from it.
    """

    zone = models.CharField(max_length=64)
    recorded = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rollup time zone"

    def __str__(self) -> str:
        return self.zone


class LedgerDay(models.Model):
    """One local day of an account's ledger, as balances.ledger.daily_summary shows it.

    A cache of the interval computation (balances.ledger_days), kept exact like the rollups:
    every writer of what the ledger reads (services.record_balance for readings, the order
    transition hook and Order.save() for orders) marks the days whose figures it may change
    stale in its own transaction, under a shared per-account lock that a day's recompute takes
    exclusively. `span_hi` is the last instant whose change can move this day (the end of the
    last interval its computation read); NULL while no reading after it bounds that. Days before
    today only; `manage.py rebuild_rollups` recomputes every row.
    """

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    zone = models.CharField(max_length=64)
    tolerance_sun = models.BigIntegerField()
    stale = models.BooleanField(default=False)
    span_hi = models.DateTimeField(null=True, blank=True)
    opening_sun = models.BigIntegerField(null=True, blank=True)
    closing_sun = models.BigIntegerField(null=True, blank=True)
    charges_sun = models.BigIntegerField(default=0)
    possible_sun = models.BigIntegerField(default=0)
    refunds_sun = models.BigIntegerField(default=0)
    topups_sun = models.BigIntegerField(default=0)
    discrepancies_sun = models.BigIntegerField(default=0)
    timing_sun = models.BigIntegerField(default=0)
    intervals = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="ledger_day_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}"
