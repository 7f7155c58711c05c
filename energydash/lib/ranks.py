"""Order statistics over a handful of figures: nearest-rank percentiles and the median.

Nearest rank is what PostgreSQL's percentile_disc gives (the first value at or above the
fraction), so a figure ranked here and one ranked by the database agree. One helper for every
layer: scorecards, delivery figures, the soak's and bench's reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta


def nearest_rank[T: (int, float, timedelta)](values: Sequence[T], fraction: float) -> T:
    """The value at `fraction` (0 < fraction <= 1) of the sorted non-empty `values`: the
    ceil(fraction x n)-th smallest. 0.5 is the lower median, 1 the largest."""
    if not values:
        raise ValueError("no values to rank")
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    ordered = sorted(values)
    # In thousandths, so 0.95 x 20 is rank 19 exactly, not 19.000000000000004 rounded up to 20.
    rank = max(1, -(-round(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[int] | Sequence[float]) -> float:
    """The middle value, or the mean of the two middle ones, of non-empty `values`."""
    if not values:
        raise ValueError("no values to rank")
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
