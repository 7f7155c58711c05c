from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from energydash.providers.models import ProviderAccount


class Kind(models.TextChoices):
    ENERGY = "energy", _("Energy rental")
    COLLECTION = "collection", _("Collection (itrx)")
    ACTIVATION = "activation", _("Address activation")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    DELEGATING = "delegating", _("Delegating")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    UNKNOWN = "unknown", _("Unknown — reconciling")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    # Above the account's approval threshold: saved, nothing sent, until a second person
    # approves it (orders/approvals.py).
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")


FINAL = frozenset({Status.COMPLETED, Status.FAILED, Status.REFUNDED})
# Orders a poller looks at. needs_review waits for a person and is not polled.
POLLABLE = (Status.SUBMITTED, Status.DELEGATING, Status.UNKNOWN)
OPEN = (Status.DRAFT, *POLLABLE, Status.NEEDS_REVIEW, Status.AWAITING_APPROVAL)
# Never sent to a provider (yet): left out of the rollups, spend nothing, reserve no budget.
UNSENT = (Status.DRAFT, Status.AWAITING_APPROVAL)
# Waiting for a person: not polled, and the console stops refreshing them.
WAITING_FOR_PERSON = (Status.NEEDS_REVIEW, Status.AWAITING_APPROVAL)
# The provider accepted these (failed orders too when they carry a provider order id): charged.
CHARGED_STATUSES = (Status.SUBMITTED, Status.DELEGATING, Status.COMPLETED, Status.REFUNDED)
# These may have been charged: their cost is a *possible* charge until they are resolved.
POSSIBLE_STATUSES = (Status.UNKNOWN, Status.NEEDS_REVIEW)
# Every status whose orders may hold spend (kept money or a possible charge): all but drafts.
# What each order counts is orders.money.SPEND (refused and not-placed orders count 0).
SPEND_STATUSES = (*CHARGED_STATUSES, Status.FAILED, *POSSIBLE_STATUSES)
# Orders whose energy is (or may be) delivered: what "energy bought" and prices count.
BOUGHT_STATUSES = (
    Status.SUBMITTED,
    Status.DELEGATING,
    Status.COMPLETED,
    Status.UNKNOWN,
    Status.NEEDS_REVIEW,
)


class Delivery(models.TextChoices):
    """What the chain shows of an order's energy (orders/delivery.py). Blank: not (yet) asked:
    an order that delivers nothing, or one the provider has not called done."""

    PENDING = "pending", _("Checking the chain")
    VERIFIED = "verified", _("Verified on chain")
    SHORT = "short", _("Short on chain")
    MISSING = "missing", _("Missing on chain")
    RECLAIMED_EARLY = "reclaimed_early", _("Reclaimed early")
    NOT_CHECKED = "not_checked", _("Not checked")


DELIVERY_FAILED = (Delivery.SHORT, Delivery.MISSING, Delivery.RECLAIMED_EARLY)


def new_reference() -> str:
    # Sent as itrx out_trade_no / TronZap external_id: short, unique, printable.
    return "ed-" + uuid.uuid4().hex[:24]


class Order(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(ProviderAccount, on_delete=models.PROTECT, related_name="orders")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ENERGY)
    receive_address = models.CharField(max_length=34)
    to_address = models.CharField(max_length=34, blank=True)
    energy = models.PositiveIntegerField(null=True, blank=True)
    period = models.CharField(max_length=8, blank=True)
    activate = models.BooleanField(default=False)
    reference = models.CharField(max_length=40, unique=True, default=new_reference, editable=False)
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    provider_ref = models.CharField(max_length=100, blank=True, db_index=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    raw_status = models.CharField(max_length=40, blank=True)
    quoted_cost_sun = models.BigIntegerField(null=True, blank=True)
    cost_sun = models.BigIntegerField(null=True, blank=True)
    unit_price_sun = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    burn_sun_per_energy = models.PositiveIntegerField()
    balance_after_sun = models.BigIntegerField(null=True, blank=True)
    refund_sun = models.BigIntegerField(null=True, blank=True)
    energy_delivered = models.PositiveIntegerField(null=True, blank=True)
    tx_hashes = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    # Set once, when the charge came out above the quote, the account's maximum per order or its
    # daily budget (orders/cost_check.py): the words the order page and the API show.
    cost_flag = models.CharField(max_length=500, blank=True)
    # Why a provider's "nothing was charged" is in doubt (e.g. "insufficient balance" while the
    # known balance covers the order: orders/refusal_doubt.py); shown on the order's page.
    doubt = models.TextField(blank=True)

    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_via = models.CharField(max_length=40, default="console")  # console / command:place_order
    # Maker-checker (orders/approvals.py): when approval was (last) asked for, and who gave it.
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    updated = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A refund heard after the order was final (orders/late_refunds.py) is money that came back
    # at refunded_at, not at finished_at; refund_check_at is when to ask the provider next.
    refunded_at = models.DateTimeField(null=True, blank=True)
    # The part of refund_sun heard after the order was final (at refunded_at): the ledger counts
    # it there and the rest at finished_at. Null: no late refund.
    late_refund_sun = models.BigIntegerField(null=True, blank=True)
    refund_check_at = models.DateTimeField(null=True, blank=True)

    # Polling bookkeeping: when to look next, how often we looked, and a short claim lease so
    # two workers never process the same order at once.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)

    # On-chain delivery (orders/delivery.py): the verdict, the energy found for this order, when
    # the chain was last read and when next (None: no more looks), and the evidence as JSON.
    # delivery_looks counts writes: every verdict is one UPDATE conditional on the count read.
    delivery_status = models.CharField(
        max_length=16, choices=Delivery.choices, blank=True, default=""
    )
    delivery_energy = models.BigIntegerField(null=True, blank=True)
    delivery_checked_at = models.DateTimeField(null=True, blank=True)
    delivery_next_check_at = models.DateTimeField(null=True, blank=True)
    delivery_looks = models.PositiveIntegerField(default=0)
    delivery_evidence = models.JSONField(default=dict, blank=True)
    # When the chain first showed the energy (the look that verified it): scorecards' time to
    # verification. Written only by delivery_look.write, with the verdict.
    delivery_verified_at = models.DateTimeField(null=True, blank=True)
    # Delegations the chain showed to an uncertain order's address, dated in its window
    # (orders/chain_evidence.py): kept, because a delegation taken back early (or ended) is
    # gone from the chain's current state, but it was there. One UPDATE per reading adds to it.
    chain_sightings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The orders list (newest first, keyset on (created, id)) and its filters: every
            # selective filter leads an index; common values walk order_created_id.
            models.Index(fields=["-created", "-id"], name="order_created_id"),
            models.Index(fields=["status", "-created", "-id"], name="order_status_created"),
            models.Index(fields=["account", "-created", "-id"], name="order_account_created"),
            models.Index(
                fields=["account", "status", "-created", "-id"], name="order_account_status"
            ),
            models.Index(fields=["kind", "-created", "-id"], name="order_kind_created"),
            models.Index(fields=["receive_address", "-created"], name="order_address_created"),
            # Prefix search on the address (PostgreSQL; SQLite compares binary, see orders.paging).
            models.Index(
                fields=["receive_address"],
                name="order_address_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            # Sorting by cost / energy, keyset on (value, id).
            models.Index(
                Coalesce("cost_sun", "quoted_cost_sun", Value(0)).desc(),
                F("id").desc(),
                name="order_cost_id",
            ),
            models.Index(
                Coalesce("energy", Value(0)).desc(), F("id").desc(), name="order_energy_id"
            ),
            # Dashboard counts of open / unknown / needs-review orders read only this small index.
            models.Index(fields=["status"], name="order_open_status", condition=Q(status__in=OPEN)),
            # A token's spend today (its daily cap, orders/limits.py).
            models.Index(fields=["placed_via", "created"], name="order_via_created"),
            # "Includes generated sandbox history": one probe of a tiny index.
            models.Index(
                fields=["placed_via"],
                name="order_sandbox_seed",
                condition=Q(placed_via="sandbox-seed"),
            ),
            # The ledger sums an account's charges and refunds between two balance readings.
            models.Index(fields=["account", "submitted_at"], name="order_account_submitted"),
            models.Index(fields=["account", "finished_at"], name="order_account_finished"),
            models.Index(
                fields=["account", "refunded_at"],
                name="order_account_refunded",
                condition=Q(refunded_at__isnull=False),
            ),
            models.Index(
                fields=["next_poll_at"],
                name="order_open_next_poll",
                condition=Q(status__in=["submitted", "delegating", "unknown"]),
            ),
            # The delivery verifier: completed orders not yet looked at, and looks that are due.
            models.Index(
                fields=["finished_at"],
                name="order_delivery_unstarted",
                condition=Q(
                    status="completed", delivery_status="", kind__in=["energy", "activation"]
                ),
            ),
            models.Index(
                fields=["delivery_next_check_at"],
                name="order_delivery_due",
                condition=Q(delivery_next_check_at__isnull=False),
            ),
            # The orders list's "Deliveries" filter.
            models.Index(
                fields=["delivery_status", "-created", "-id"],
                name="order_delivery_created",
                condition=~Q(delivery_status=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.short_code} on {self.account.name}"

    @property
    def short_code(self) -> str:
        return str(self.code)[:8]

    @property
    def provider(self) -> str:
        return self.account.provider

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def started_at(self) -> datetime:
        """When sending began: its approval for an order that awaited one, else its creation.
        The poller's grace for drafts, its backoff and "stuck" count from here."""
        return self.approved_at or self.created

    @property
    def waits_for_person(self) -> bool:
        return self.status in WAITING_FOR_PERSON

    @property
    def needs_attention(self) -> bool:
        return self.status in (Status.UNKNOWN, Status.NEEDS_REVIEW)

    @property
    def burn_cost_sun(self) -> int | None:
        if not self.energy:
            return None
        return self.energy * self.burn_sun_per_energy

    @property
    def savings_sun(self) -> int | None:
        cost = self.cost_sun if self.cost_sun is not None else self.quoted_cost_sun
        if cost is None or self.burn_cost_sun is None:
            return None
        return self.burn_cost_sun - cost

    # Money (orders/money.py defines it; these are its Python form for one order) -----------

    @property
    def charged(self) -> bool:
        """The provider accepted it, so it charged (a failed order: if it carries its id)."""
        return self.status in CHARGED_STATUSES or (
            self.status == Status.FAILED and bool(self.provider_ref)
        )

    @property
    def cost_or_quote_sun(self) -> int:
        if self.cost_sun is not None:
            return self.cost_sun
        return self.quoted_cost_sun or 0

    @property
    def refund_assumed(self) -> bool:
        """Refunded, but the provider gave no figure: taken as the whole charge."""
        return self.status == Status.REFUNDED and self.refund_sun is None

    @property
    def refunded_sun(self) -> int:
        """What the provider gave back, as counted (the whole charge when assumed)."""
        if not (self.charged or self.status in POSSIBLE_STATUSES):
            return 0
        if self.refund_assumed:
            return self.cost_or_quote_sun
        return self.refund_sun or 0

    @property
    def kept_sun(self) -> int:
        """Money the provider kept: cost - refund of a charged order, else 0."""
        return self.cost_or_quote_sun - self.refunded_sun if self.charged else 0

    @property
    def spend_sun(self) -> int:
        """What the order counts in spend: kept, or the possible charge while unresolved."""
        if self.status in POSSIBLE_STATUSES:
            return self.cost_or_quote_sun - self.refunded_sun
        return self.kept_sun

    @property
    def effective_unit_price(self) -> Decimal | None:
        if self.cost_sun is not None and self.energy:
            return (Decimal(self.cost_sun) / self.energy).quantize(Decimal("0.001"))
        return self.unit_price_sun


class OrderEvent(models.Model):
    """One state change or provider exchange of an order, with who or what caused it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16)  # state / exchange / note
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=60, blank=True)  # task:poll_orders, callback:itrx
    message = models.TextField(blank=True)
    method = models.CharField(max_length=8, blank=True)
    url = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    # The same event again (a poll repeating its failure every few seconds) is not a new row:
    # the latest identical one counts it and remembers when it was last seen (transitions.py).
    count = models.PositiveIntegerField(default=1)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["order", "created"], name="orderevent_order_created")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.from_status}->{self.to_status}"

    @property
    def who(self) -> str:
        if self.actor_id and self.actor:
            return self.actor.get_username()
        return self.actor_label or "system"


class Route(models.Model):
    """One routed order request: the cheapest eligible account, failing over on refusals.

    `key` is unique, so a request (an API Idempotency-Key, a console form token, a batch line)
    is routed once; `body_hash` lets a reused key with a different body be refused.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Routing")
        PLACED = "placed", _("Placed")
        FAILED = "failed", _("Refused everywhere (nothing charged)")
        UNKNOWN = "unknown", _("Outcome unknown: reconciling, no failover")
        AWAITING = "awaiting", _("Awaiting approval (nothing sent yet)")

    key = models.CharField(max_length=100, unique=True)
    body_hash = models.CharField(max_length=64)
    # The API token a route was requested with. By label, not by import: the API sits above
    # orders (the column and its constraint are unchanged since the model lived in api).
    token = models.ForeignKey(
        "api.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="routes"
    )
    via = models.CharField(max_length=40)
    kind = models.CharField(max_length=16, default="energy")
    receive_address = models.CharField(max_length=34)
    energy = models.PositiveIntegerField(null=True, blank=True)
    period = models.CharField(max_length=8, blank=True)
    activate = models.BooleanField(default=False)
    to_address = models.CharField(max_length=34, blank=True)  # a collection's USDT destination
    account = models.ForeignKey(
        ProviderAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    max_cost_sun = models.BigIntegerField(null=True, blank=True)
    # Only these accounts (ids) may take it, when not empty (a watch rule's allowed accounts):
    # kept on the route so that every attempt, and a resumed route, honours them.
    allowed_accounts = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    problem = models.TextField(blank=True)  # why no order was accepted, in words
    claimed_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_route"  # created by the api app, where routes began; kept with its rows
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"route {self.pk} {self.status}"


class RouteAttempt(models.Model):
    """One account tried for a route: its price and what happened."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        NOT_SENT = "not_sent", _("Refused before sending")
        REJECTED = "rejected", _("Rejected by the provider")
        UNAVAILABLE = "unavailable", _("Provider unavailable")
        UNKNOWN = "unknown", _("No usable answer")
        FAILED = "failed", _("Failed after acceptance")
        AWAITING = "awaiting", _("Awaiting approval")
        CAPPED = "capped", _("Over the API token's daily cap")

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    account = models.ForeignKey(ProviderAccount, on_delete=models.PROTECT, related_name="+")
    price_sun = models.BigIntegerField(null=True, blank=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="route_attempts"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    message = models.TextField(blank=True)
    # Why routing chose this account, and how every account ranked at that moment (price,
    # verified-delivery rate, effective price, won / lost / out and why): orders/candidates.py.
    reason = models.TextField(blank=True)
    ranking = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "api_routeattempt"
        ordering = ["route", "number"]
        constraints = [
            models.UniqueConstraint(fields=["route", "number"], name="routeattempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} on {self.account_id}: {self.outcome}"


class ReadyCheck(models.Model):
    """One "Ready to send" request (orders/readiness.py), once per key.

    At most one check per address is `working` at a time (a conditional unique row): a second
    concurrent check for the address waits for it instead of buying the same deficit again.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")  # waits for another check of its address to end
        WORKING = "working", _("Working")
        READY = "ready", _("Ready")
        NOT_READY = "not_ready", _("Not ready")

    key = models.CharField(max_length=100, unique=True)
    body_hash = models.CharField(max_length=64)
    via = models.CharField(max_length=40)
    address = models.CharField(max_length=34)
    recipient = models.CharField(max_length=34, blank=True)
    usdt_units = models.BigIntegerField(null=True, blank=True)  # USDT in 6-decimal units
    state = models.CharField(max_length=16, choices=State.choices, default=State.WORKING)
    reason = models.TextField(blank=True)
    energy_estimate = models.PositiveIntegerField(null=True, blank=True)
    energy_needed = models.PositiveIntegerField(null=True, blank=True)
    energy_available = models.BigIntegerField(null=True, blank=True)
    bandwidth_available = models.BigIntegerField(null=True, blank=True)
    energy_bought = models.PositiveIntegerField(default=0)
    fee_limit_sun = models.BigIntegerField(null=True, blank=True)
    activation_route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    working_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Asked for through the API or the console: who, for the worker that runs it and the webhook.
    token = models.ForeignKey(
        "api.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deadline_seconds = models.PositiveIntegerField(default=60)
    # Set once by the one worker that runs the check (orders/readiness.py run_check).
    started_at = models.DateTimeField(null=True, blank=True)
    energy_fee_sun = models.PositiveIntegerField(
        null=True, blank=True, help_text="Sun per energy the fee_limit was computed with."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address"],
                condition=Q(state="working"),
                name="orders_readycheck_one_working_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"ready check {self.address} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.READY, self.State.NOT_READY)


class PriceSample(models.Model):
    """One price an account quoted for an energy order (orders/prices.py records them): the
    price history on the providers page. At most one per account, size and period every
    ENERGYDASH_PRICE_SAMPLE_MINUTES, from quotes fetched anyway (new-order page, best price,
    routing, the providers page's price board)."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    energy = models.PositiveIntegerField()
    period = models.CharField(max_length=8)
    total_sun = models.BigIntegerField()
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-taken_at", "-id"], name="price_sample_account_time")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.energy} {self.period} {self.total_sun} sun"

    @property
    def unit_price_sun(self) -> Decimal:
        """Sun per energy, to 0.01 (for comparing sizes; the total is the exact figure)."""
        return (Decimal(self.total_sun) / self.energy).quantize(Decimal("0.01"))


class PriceBoardEntry(models.Model):
    """The providers page's "Prices now": an account's latest answer for one common size and
    period, read by the scheduled task (orders/prices.py refresh_board), one row each, replaced
    at every read. A web request only reads these; it never asks a provider."""

    account = models.ForeignKey(ProviderAccount, on_delete=models.CASCADE, related_name="+")
    energy = models.PositiveIntegerField()
    period = models.CharField(max_length=8)
    total_sun = models.BigIntegerField(null=True, blank=True)  # None: no price (see problem)
    problem = models.TextField(blank=True)  # why no price, in English (shown translated)
    min_energy = models.PositiveIntegerField(null=True, blank=True)
    max_energy = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "energy", "period"], name="orders_price_board_one_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.energy} {self.period} {self.total_sun} sun"


class SavedView(models.Model):
    """A named filter of the orders list, one person's own (console/orders/saved.py)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=1000)  # the list's query string, validated filters only
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="orders_savedview_user_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class WatchRule(models.Model):
    """A watch rule (orders/watch.py): keep watched addresses stocked with energy.

    `threshold`: keep at least `energy` on each address (only between hour_from and hour_to in
    the console's time zone when both are set). `renew`: buy `energy` again `renew_minutes`
    before the current rental (the rule's last purchase for the address) expires, or now when
    there is none. Never above max_price_sun per energy, never beyond daily_budget_sun a day.
    """

    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Keep at least")
        RENEW = "renew", _("Renew before expiry")

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.THRESHOLD)
    energy = models.PositiveIntegerField()
    hour_from = models.PositiveSmallIntegerField(null=True, blank=True)
    hour_to = models.PositiveSmallIntegerField(null=True, blank=True)
    renew_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_price_sun = models.PositiveIntegerField(help_text="Sun per energy, at most.")
    daily_budget_sun = models.BigIntegerField(help_text="Sun a day, at most, for the rule.")
    period = models.CharField(max_length=8, default="1H")
    accounts = models.ManyToManyField(
        "providers.ProviderAccount", blank=True, related_name="+"
    )  # none: any enabled account
    enabled = models.BooleanField(default=True)
    interval_seconds = models.PositiveIntegerField(default=300)
    # The one worker acting on the rule sets this (a guarded write); it lapses if it dies.
    busy_until = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class WatchAddress(models.Model):
    """One address watched by a rule."""

    rule = models.ForeignKey(WatchRule, on_delete=models.CASCADE, related_name="addresses")
    address = models.CharField(max_length=34)
    next_check_at = models.DateTimeField(default=timezone.now, db_index=True)
    purchases = models.PositiveIntegerField(default=0)  # numbers each purchase's key
    # Set while the price is above the cap (one alert per episode), cleared when it is not.
    capped_since = models.DateTimeField(null=True, blank=True)
    # The chain said the address is active (a TRON account stays so): getaccount is not asked again.
    activated = models.BooleanField(default=False)
    # The read schedule (watch.py next_read): seconds between reads now, the last read, the
    # energy expected after it (available + bought), the use seen per hour and the most used
    # between two reads (kept above the rule's energy as a margin).
    read_every = models.PositiveIntegerField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_level = models.BigIntegerField(null=True, blank=True)
    use_per_hour = models.BigIntegerField(default=0)
    peak_use = models.BigIntegerField(default=0)
    # Energy bought and not yet seen on chain: counted as coming until the chain's EnergyLimit
    # reaches awaiting_limit, or until awaiting_until.
    awaiting_energy = models.BigIntegerField(default=0)
    awaiting_limit = models.BigIntegerField(default=0)
    awaiting_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "address"], name="orders_watch_one_address")
        ]

    def __str__(self) -> str:
        return self.address


class WatchEvent(models.Model):
    """A rule's history: checks, purchases (with the order), skips with reasons, alerts."""

    class Kind(models.TextChoices):
        CHECK = "check", _("Check")
        PURCHASE = "purchase", _("Purchase")
        ACTIVATION = "activation", _("Activation")
        SKIP = "skip", _("Skipped")
        ALERT = "alert", _("Alert")

    rule = models.ForeignKey(WatchRule, on_delete=models.CASCADE, related_name="events")
    address = models.CharField(max_length=34)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    reason = models.TextField(blank=True)
    energy_available = models.BigIntegerField(null=True, blank=True)
    energy = models.PositiveIntegerField(default=0)  # bought
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.address}"
