"""When the poller looks at an open order next: one pure function, the adaptive schedule.

    delay = BASE                                   while the order is younger than FAST, or it
                                                   changed at its last look (or was just told to)
    delay = BASE + (age - FAST) * SLOWDOWN%        after that, growing with age ...
    delay <= MAX                                   ... up to a cap
    delay *= CALLBACK_FACTOR                       past FAST, for providers that push callbacks
                                                   (itrx: a change arrives by callback anyway)

Most orders settle within a minute of placing, so a young order is looked at every BASE seconds
(freshness, issue 9: <= 10 s p95). An order still open after that has usually stalled at its
provider; looking at it less often is what lets a few processes keep up with 10,000 open orders
(issue 23). Anything that learns an order changed (a provider callback, the chain) sets its
next_poll_at to now instead: it is due on the next pass whatever its age.

Settings (energydash/settings.py, env of the same name): ENERGYDASH_POLL_BASE_SECONDS (2),
ENERGYDASH_POLL_FAST_SECONDS (60), ENERGYDASH_POLL_SLOWDOWN_PERCENT (20),
ENERGYDASH_POLL_MAX_SECONDS (60), ENERGYDASH_POLL_CALLBACK_FACTOR (2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

# Providers whose changes also arrive by callback (console/orders/callbacks.py).
PUSHES_CALLBACKS = frozenset({"itrx"})


@dataclass(frozen=True)
class Schedule:
    base: float
    fast: float
    slowdown_percent: int
    most: float
    callback_factor: int

    @classmethod
    def from_settings(cls) -> Schedule:
        return cls(
            base=settings.ENERGYDASH_POLL_BASE_SECONDS,
            fast=settings.ENERGYDASH_POLL_FAST_SECONDS,
            slowdown_percent=settings.ENERGYDASH_POLL_SLOWDOWN_PERCENT,
            most=settings.ENERGYDASH_POLL_MAX_SECONDS,
            callback_factor=settings.ENERGYDASH_POLL_CALLBACK_FACTOR,
        )


def next_delay(
    age: timedelta,
    provider: str = "",
    *,
    changed: bool = False,
    schedule: Schedule | None = None,
) -> timedelta:
    """How long until the next look at an order `age` old (placed to now) at `provider`;
    `changed`: its last look changed it (it is moving: look again soon)."""
    s = schedule or Schedule.from_settings()
    seconds = age.total_seconds()
    if changed or seconds < s.fast:
        return timedelta(seconds=s.base)
    delay = min(s.most, s.base + (seconds - s.fast) * s.slowdown_percent / 100)
    if provider in PUSHES_CALLBACKS:
        delay *= s.callback_factor
    return timedelta(seconds=max(s.base, delay))
