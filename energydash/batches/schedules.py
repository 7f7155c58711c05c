from __future__ import annotations

from energydash.core.schedules import every_minutes

RESUME_STALLED = "batches: resume stalled batches"


def ensure_schedules() -> list[str]:
    """The watchdog that resumes batches whose worker died; safe to run any number of times."""
    return [every_minutes(RESUME_STALLED, "energydash.batches.tasks.resume_stalled_batches", 1)]
