"""What a piece of evidence says about whether an uncertain order was charged.

Reconciliation (orders/reconciliation.py) weighs it; the ledger (balances/evidence.py) and the
provider's usage summary produce it, asked through orders.hooks.
"""

from __future__ import annotations

from dataclasses import dataclass

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
