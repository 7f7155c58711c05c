from __future__ import annotations

from energydash.core.schedules import every_minutes

RETRY_WEBHOOKS = "api: retry webhooks"


def ensure_schedules() -> list[str]:
    """Create or update the webhook retry schedule; safe to run any number of times."""
    return [every_minutes(RETRY_WEBHOOKS, "energydash.api.tasks.deliver_due_webhooks", 1)]
