"""What a piece of evidence says about whether an uncertain order was charged.

Reconciliation (orders/reconciliation.py) weighs it; the ledger (balances/evidence.py) and the
provider's usage summary produce it, asked through orders.hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NONE_CHARGED = "none_charged"
MAYBE_CHARGED = "maybe_charged"
NO_EVIDENCE = "no_evidence"


@dataclass(frozen=True)
class Evidence:
    verdict: str  # NONE_CHARGED / MAYBE_CHARGED / NO_EVIDENCE
    words: str

    @property
    def nothing_charged(self) -> bool:
        return self.verdict == NONE_CHARGED


@dataclass(frozen=True)
class ReviewFacts:
    """What the recorded balance history says about an order in review, for the person deciding
    (and for the refusal of "not placed" against it). Read from stored readings only: showing it
    calls no provider. Amounts in sun; None where there is no reading."""

    evidence: Evidence  # the same verdict reconciliation weighs, without a fresh reading
    before_sun: int | None = None  # the last reading before the order was sent
    before_at: datetime | None = None
    latest_sun: int | None = None  # the newest reading
    latest_at: datetime | None = None
    unexplained_decrease_sun: int | None = None  # money gone since then that no order explains

    @property
    def change_sun(self) -> int | None:
        if self.before_sun is None or self.latest_sun is None:
            return None
        return self.latest_sun - self.before_sun
