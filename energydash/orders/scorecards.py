"""Provider scorecards: what each account really did with our own orders over a window.

Per account, from the orders created in the window (drafts aside): time from placing to the
provider's "done" and to the chain's verification (p50/p95, nearest rank), fill rate (completed
of accepted), the share of chain verdicts that were short, missing or reclaimed early, what it
charged against what it quoted, and its refusals by reason. Set-based: one aggregate query for
the counts and sums, one for the refusals, one per duration for the percentiles (PostgreSQL's
percentile_disc; elsewhere, SQLite in development, the durations are read and ranked here).

Best-price routing (candidates.py) reads `delivery_rates`: the verified share of the orders the
chain judged, over ENERGYDASH_ROUTING_HEALTH_WINDOW_MINUTES.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from energydash.lib.ranks import nearest_rank
from energydash.orders.models import CHARGED_STATUSES, DELIVERY_FAILED, Delivery, Order, Status

JUDGED = (Delivery.VERIFIED, *DELIVERY_FAILED)
ACCEPTED = Q(status__in=CHARGED_STATUSES) | (Q(status=Status.FAILED) & ~Q(provider_ref=""))
# Refused: failed before the provider accepted it (nothing charged).
REFUSED = Q(status=Status.FAILED, provider_ref="", submitted_at__isnull=True)
PRICED = Q(cost_sun__isnull=False, quoted_cost_sun__isnull=False)
REFUSAL_REASONS_SHOWN = 5


class PercentileDisc(Aggregate):
    """PostgreSQL's ordered-set aggregate: the first value at or above the fraction (nearest
    rank, as lib.ranks.nearest_rank)."""

    function = "PERCENTILE_DISC"
    name = "PercentileDisc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 < fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        super().__init__(
            expression, fraction=repr(float(fraction)), output_field=DurationField(), **extra
        )


@dataclass
class Scorecard:
    account_id: int
    since: datetime
    orders: int = 0
    accepted: int = 0
    completed: int = 0
    refused: int = 0
    judged: int = 0
    verified: int = 0
    short: int = 0
    missing: int = 0
    reclaimed_early: int = 0
    not_checked: int = 0
    priced: int = 0  # orders with both a quote and a charge
    quoted_sun: int = 0
    charged_sun: int = 0
    above_quote: int = 0  # of those, charged more than quoted
    done_p50: float | None = None  # seconds from placing to the provider's done
    done_p95: float | None = None
    verified_p50: float | None = None  # seconds from placing to the chain's verification
    verified_p95: float | None = None
    refusals: list[tuple[str, int]] = field(default_factory=list)

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def fill_rate(self) -> float | None:
        """Percent of the orders the provider accepted that completed."""
        return self._share(self.completed, self.accepted)

    @property
    def verified_rate(self) -> float | None:
        """Percent of the orders the chain judged that were verified."""
        return self._share(self.verified, self.judged)

    @property
    def short_share(self) -> float | None:
        return self._share(self.short, self.judged)

    @property
    def missing_share(self) -> float | None:
        return self._share(self.missing, self.judged)

    @property
    def reclaimed_share(self) -> float | None:
        return self._share(self.reclaimed_early, self.judged)

    @property
    def charged_vs_quoted(self) -> float | None:
        """Charged as a percent of quoted, over the orders that have both."""
        return self._share(self.charged_sun, self.quoted_sun)

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "orders": self.orders,
            "accepted": self.accepted,
            "completed": self.completed,
            "fill_rate_percent": self.fill_rate,
            "refused": self.refused,
            "refusals": [{"reason": r, "count": n} for r, n in self.refusals],
            "delivery": {
                "judged": self.judged,
                "verified": self.verified,
                "short": self.short,
                "missing": self.missing,
                "reclaimed_early": self.reclaimed_early,
                "not_checked": self.not_checked,
                "verified_percent": self.verified_rate,
                "short_percent": self.short_share,
                "missing_percent": self.missing_share,
                "reclaimed_early_percent": self.reclaimed_share,
            },
            "price": {
                "orders": self.priced,
                "quoted_sun": self.quoted_sun,
                "charged_sun": self.charged_sun,
                "charged_percent_of_quoted": self.charged_vs_quoted,
                "charged_above_quote": self.above_quote,
            },
            "seconds_to_done": {"p50": self.done_p50, "p95": self.done_p95},
            "seconds_to_verified": {"p50": self.verified_p50, "p95": self.verified_p95},
        }


def _window(since: datetime, account_ids: list[int] | None) -> QuerySet[Order]:
    rows = Order.objects.filter(created__gte=since).exclude(status=Status.DRAFT)
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    return rows


def _seconds(span: timedelta) -> float:
    return max(span.total_seconds(), 0.0)


def _percentiles(
    rows: QuerySet[Order], end: str, condition: Q
) -> dict[int, tuple[float | None, float | None]]:
    """{account_id: (p50, p95)} of `end` - created over the rows matching condition."""
    rows = rows.filter(condition, **{f"{end}__isnull": False})
    took = ExpressionWrapper(F(end) - F("created"), output_field=DurationField())
    if connection.vendor == "postgresql":
        found = (
            rows.order_by()
            .values("account_id")
            .annotate(p50=PercentileDisc(took, 0.5), p95=PercentileDisc(took, 0.95))
        )
        return {
            r["account_id"]: (
                max(r["p50"].total_seconds(), 0.0) if r["p50"] is not None else None,
                max(r["p95"].total_seconds(), 0.0) if r["p95"] is not None else None,
            )
            for r in found
        }
    spans: dict[int, list[timedelta]] = defaultdict(list)
    for account_id, created, ended in rows.values_list("account_id", "created", end).iterator():
        spans[account_id].append(ended - created)
    return {
        a: (_seconds(nearest_rank(v, 0.5)), _seconds(nearest_rank(v, 0.95)))
        for a, v in spans.items()
    }


def scorecards(
    since: datetime | None = None,
    *,
    hours: int | None = None,
    account_ids: list[int] | None = None,
) -> dict[int, Scorecard]:
    """Every account's scorecard over the orders created since `since` (or the last `hours`)."""
    if since is None:
        from django.conf import settings

        since = timezone.now() - timedelta(
            hours=hours or settings.ENERGYDASH_SCORECARD_WINDOW_HOURS
        )
    rows = _window(since, account_ids)
    counts = (
        rows.order_by()
        .values("account_id")
        .annotate(
            orders=Count("id"),
            accepted=Count("id", filter=ACCEPTED),
            completed=Count("id", filter=Q(status=Status.COMPLETED)),
            refused=Count("id", filter=REFUSED),
            judged=Count("id", filter=Q(delivery_status__in=JUDGED)),
            verified=Count("id", filter=Q(delivery_status=Delivery.VERIFIED)),
            short=Count("id", filter=Q(delivery_status=Delivery.SHORT)),
            missing=Count("id", filter=Q(delivery_status=Delivery.MISSING)),
            reclaimed_early=Count("id", filter=Q(delivery_status=Delivery.RECLAIMED_EARLY)),
            not_checked=Count("id", filter=Q(delivery_status=Delivery.NOT_CHECKED)),
            priced=Count("id", filter=PRICED),
            quoted_sun=Sum("quoted_cost_sun", filter=PRICED),
            charged_sun=Sum("cost_sun", filter=PRICED),
            above_quote=Count("id", filter=PRICED & Q(cost_sun__gt=F("quoted_cost_sun"))),
        )
    )
    cards: dict[int, Scorecard] = {}
    for row in counts:
        account_id = row.pop("account_id")
        row["quoted_sun"] = int(row["quoted_sun"] or 0)
        row["charged_sun"] = int(row["charged_sun"] or 0)
        cards[account_id] = Scorecard(account_id=account_id, since=since, **row)
    done = Q(status=Status.COMPLETED)
    for account_id, (p50, p95) in _percentiles(rows, "finished_at", done).items():
        cards[account_id].done_p50, cards[account_id].done_p95 = p50, p95
    verified = Q(delivery_status__in=JUDGED)
    for account_id, (p50, p95) in _percentiles(rows, "delivery_verified_at", verified).items():
        cards[account_id].verified_p50, cards[account_id].verified_p95 = p50, p95
    reasons = (
        rows.filter(REFUSED)
        .order_by()
        .values("account_id", "last_error")
        .annotate(n=Count("id"))
        .order_by("account_id", "-n", "last_error")
    )
    for row in reasons:
        card = cards[row["account_id"]]
        if len(card.refusals) < REFUSAL_REASONS_SHOWN:
            card.refusals.append(((row["last_error"] or "no reason given")[:300], row["n"]))
    return cards


def delivery_rates(account_ids: list[int], since: datetime) -> dict[int, tuple[int, int]]:
    """{account_id: (verified, judged)} over the orders created since `since`: one query."""
    found = (
        _window(since, account_ids)
        .filter(delivery_status__in=JUDGED)
        .order_by()
        .values("account_id")
        .annotate(
            judged=Count("id"), verified=Count("id", filter=Q(delivery_status=Delivery.VERIFIED))
        )
    )
    return {r["account_id"]: (r["verified"], r["judged"]) for r in found}
