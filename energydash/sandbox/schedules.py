"""django-q2 schedules of the sandbox, created idempotently."""

from __future__ import annotations

from django_q.models import Schedule

CALLBACKS_SCHEDULE = "sandbox: deliver itrx callbacks"


def ensure_schedules() -> list[str]:
    """Create or update the sandbox's schedules; returns their names."""
    Schedule.objects.update_or_create(
        name=CALLBACKS_SCHEDULE,
        defaults={
            "func": "energydash.sandbox.tasks.deliver_due_callbacks",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return [CALLBACKS_SCHEDULE]
