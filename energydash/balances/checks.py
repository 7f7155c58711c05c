"""A system check: the rollups' local days must be days in the TIME_ZONE the console shows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error
from django.db import DatabaseError

from energydash.balances.models import RollupZone


def check_rollup_zone(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """Refused when the rollups were built in another zone than settings.TIME_ZONE: every
    "today", chart and daily figure would count the old zone's days under the new zone's name.

    A database check (registered with Tags.database): `manage.py check --database default`,
    `migrate` and the WSGI/ASGI start-up (core.startup) run it."""
    if not databases:
        return []
    try:
        built = RollupZone.objects.values_list("zone", flat=True).first()
    except DatabaseError:  # not migrated yet (nothing built), or unreachable (start anyway)
        return []
    if built is None or built == settings.TIME_ZONE:
        return []
    return [
        Error(
            f"The order rollups were built in {built}, but TIME_ZONE is {settings.TIME_ZONE}: "
            "the dashboard's days, the charts and the daily exports would count the old zone's "
            "days.",
            hint="Run `python manage.py rebuild_rollups` (safe while the console runs), or set "
            f"TIME_ZONE back to {built}.",
            id="energydash.E010",
        )
    ]
