"""django-q2 schedules, created or updated by name so that running setup again is safe.

Every app that runs on a timer names its schedules in its own schedules.py and calls
`every_minutes`; `ensure_after_migrate` has them (re)created after each `migrate`. A schedule's
function must be one of core.task_guard.TASK_FUNCTIONS, or saving it is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def every_minutes(name: str, func: str, minutes: int) -> str:
    """Run `func` (a dotted path) every `minutes`, for ever; returns the schedule's name."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": minutes,
            "repeats": -1,
        },
    )
    return name


def ensure_after_migrate(app: AppConfig, ensure: str) -> None:
    """After this app's migrations, call `ensure` ("module.function", imported then)."""
    module_name, _, function_name = ensure.rpartition(".")

    def _receiver(sender: Any, **kwargs: Any) -> None:
        function: Callable[[], Any] = getattr(import_module(module_name), function_name)
        function()

    post_migrate.connect(_receiver, sender=app, weak=False, dispatch_uid=f"schedules:{ensure}")
