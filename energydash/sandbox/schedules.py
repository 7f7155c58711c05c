"""django-q2 schedules of the sandbox, created idempotently."""

from __future__ import annotations

from energydash.core.schedules import every_minutes

CALLBACKS_SCHEDULE = "sandbox: deliver itrx callbacks"
TRANSFERS_SCHEDULE = "sandbox: simulated USDT transfers"


def ensure_schedules() -> list[str]:
    """Create or update the sandbox's schedules; returns their names."""
    return [
        every_minutes(CALLBACKS_SCHEDULE, "energydash.sandbox.tasks.deliver_due_callbacks", 1),
        every_minutes(TRANSFERS_SCHEDULE, "energydash.sandbox.tasks.simulate_transfers", 1),
    ]
