"""Money faults of the simulated providers: the knobs (on SandboxAccount) and an order's fate
(on SandboxOrder), as abstract bases so models.py stays one screenful per table.

Every knob is off by default. What each does, and the provider documents it follows, is in
energydash/sandbox/README.md ("Money knobs"); money.py applies them.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

RATE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class MoneyKnobs(models.Model):
    partial_refund_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="itrx: share of orders that end 41 (refund termination) with part of the "
        "cost refunded (partial_refund_percent): refund_amount < amount.",
    )
    partial_refund_percent = models.PositiveSmallIntegerField(
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text="The share of the cost a partial refund gives back (itrx 41, TronZap late "
        "refunds in part).",
    )
    failed_after_accept_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of accepted orders that fail instead of completing: itrx ends 0 "
        "(timeout closed) or 43 (abnormal termination), TronZap 'failed'. Nothing is "
        "delegated; failed_refund_percent of the cost comes back.",
    )
    failed_refund_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="The share of a failed order's cost refunded when it fails (0: the provider "
        "keeps it all, as itrx's refund_amount 0 says).",
    )
    transient_status_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="itrx: share of orders (chosen by their id) that show 31 (partly delegated), "
        "then 32 (exception, retrying) while delegating, before their final status.",
    )
    late_refund_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Share of orders that complete and are refunded late_refund_seconds later: "
        "half in full, half by partial_refund_percent (TronZap 'success', then 'refunded').",
    )
    late_refund_seconds = models.PositiveIntegerField(
        default=60, help_text="Time from completion to the late refund."
    )
    unactivated_recipient_rate = models.FloatField(
        default=0.0,
        validators=RATE,
        help_text="Netts: share of orders whose recipient (unknown to Sandbox addresses) turns "
        "out never activated; Netts activates it at cost, unasked.",
    )
    balance_precision_sun = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Balances shown by the API (balance endpoints and answers carrying a balance) "
        "are rounded to this many sun, half up: 10000 = 0.01 TRX, as TronZap and Netts print "
        "them. Blank: exact.",
    )

    class Meta:
        abstract = True


class Fate(models.TextChoices):
    NORMAL = "", "completes"
    REFUNDED_PART = "refunded_part", "itrx 41, part refunded"
    CLOSED = "closed", "itrx 0, timeout closed"
    ABORTED = "aborted", "itrx 43, abnormal termination"
    FAILED = "failed", "TronZap failed after acceptance"
    REFUNDED_LATE = "refunded_late", "completes, refunded later"


FAILED_FATES = (Fate.CLOSED, Fate.ABORTED, Fate.FAILED)


class OrderFate(models.Model):
    """Decided when the order is placed (the knobs may change later; the order's story may not)."""

    fate = models.CharField(max_length=16, choices=Fate.choices, default=Fate.NORMAL, blank=True)
    refund_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the planned refund goes back to the balance."
    )
    refund_due_sun = models.BigIntegerField(null=True, blank=True)

    class Meta:
        abstract = True
