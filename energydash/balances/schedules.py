"""The balances' django-q2 schedule, created or updated by name (idempotent)."""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

REFRESH_BALANCES = "balances: refresh balances and check alerts"


def ensure_schedules() -> list[str]:
    """Every ENERGYDASH_BALANCE_REFRESH_MINUTES: refresh all balances, then one alert pass
    (the refresh task queues it, so alerts always see the fresh figures)."""
    Schedule.objects.update_or_create(
        name=REFRESH_BALANCES,
        defaults={
            "func": "energydash.balances.tasks.refresh_balances",
            "schedule_type": Schedule.MINUTES,
            "minutes": settings.ENERGYDASH_BALANCE_REFRESH_MINUTES,
            "repeats": -1,
        },
    )
    from energydash.balances.ledger_checks import ensure_ledger_schedules

    return [REFRESH_BALANCES, *ensure_ledger_schedules()]
