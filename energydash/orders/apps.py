from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class OrdersConfig(AppConfig):
    name = "energydash.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        post_migrate.connect(_ensure_schedules, sender=self)
        checks.register(_hooks_registered)


def _ensure_schedules(sender: Any, **kwargs: Any) -> None:
    from energydash.orders.schedules import ensure_schedules

    ensure_schedules()


def _hooks_registered(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every orders hook has a handler (orders/hooks.py): money bookkeeping is never skipped."""
    from energydash.orders import hooks

    return [
        checks.Error(
            f"The orders hook {name!r} has no handler: order code that calls it would fail.",
            hint="energydash.balances registers it in its AppConfig.ready(): is it installed?",
            id="energydash.E005",
        )
        for name in hooks.missing()
    ]
