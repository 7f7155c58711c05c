from __future__ import annotations

from django_q.models import Schedule

RETRY_WEBHOOKS = "api: retry webhooks"


def ensure_schedules() -> list[str]:
    """Create or update the webhook retry schedule; safe to run any number of times."""
    Schedule.objects.update_or_create(
        name=RETRY_WEBHOOKS,
        defaults={
            "func": "energydash.api.tasks.deliver_due_webhooks",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return [RETRY_WEBHOOKS]
