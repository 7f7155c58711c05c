"""Figures of verification: node requests per verified order and the time from the provider's
"done" (as we recorded it: finished_at) to the verifying look. `verify_deliveries --figures`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from energydash.lib.ranks import median, nearest_rank
from energydash.orders.models import Delivery, Order


@dataclass(frozen=True)
class Figures:
    verified: int
    calls_median: float | None
    calls_max: int | None
    latency_p50: float | None  # seconds after done
    latency_p99: float | None

    def lines(self) -> list[str]:
        if not self.verified:
            return ["no verified orders in the window"]
        return [
            f"verified orders: {self.verified}",
            f"chain calls per verified order: median {self.calls_median:g}, max {self.calls_max}",
            f"verification latency after the provider's done: p50 {self.latency_p50:.2f} s, "
            f"p99 {self.latency_p99:.2f} s",
        ]


def figures(since: datetime | None = None) -> Figures:
    rows = Order.objects.filter(delivery_status=Delivery.VERIFIED, finished_at__isnull=False)
    if since is not None:
        rows = rows.filter(finished_at__gte=since)
    calls: list[int] = []
    latency: list[float] = []
    for finished, evidence in rows.values_list("finished_at", "delivery_evidence").iterator():
        if not isinstance(evidence, dict) or "looked_at" not in evidence:
            continue
        calls.append(int(evidence.get("calls") or 0))
        looked = datetime.fromisoformat(evidence["looked_at"])
        latency.append(max((looked - finished).total_seconds(), 0.0))
    if not calls:
        return Figures(0, None, None, None, None)
    return Figures(
        len(calls),
        median(calls),
        max(calls),
        nearest_rank(latency, 0.5),
        nearest_rank(latency, 0.99),
    )
