"""The balances' django-q2 schedule, created or updated by name (idempotent)."""

from __future__ import annotations

from django.conf import settings

from energydash.balances.ledger_checks import ensure_ledger_schedules
from energydash.core.schedules import every_minutes

REFRESH_BALANCES = "balances: refresh balances and check alerts"
RENOTIFY_ALERTS = "balances: re-notify unacknowledged alerts"


def ensure_schedules() -> list[str]:
    """Every ENERGYDASH_BALANCE_REFRESH_MINUTES: refresh all balances, then one alert pass
    (the refresh task queues it, so alerts always see the fresh figures)."""
    refresh = every_minutes(
        REFRESH_BALANCES,
        "energydash.balances.tasks.refresh_balances",
        settings.ENERGYDASH_BALANCE_REFRESH_MINUTES,
    )
    renotify = every_minutes(RENOTIFY_ALERTS, "energydash.balances.tasks.renotify_alerts", 1)
    return [refresh, *ensure_ledger_schedules(), renotify]
