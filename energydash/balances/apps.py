from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BalancesConfig(AppConfig):
    name = "energydash.balances"
    label = "balances"
    verbose_name = "Balances and alerts"

    def ready(self) -> None:
        post_migrate.connect(_ensure_schedules, sender=self)
        from energydash.balances import order_hooks
        from energydash.balances.rollups import connect_signals

        connect_signals()
        order_hooks.connect()  # the money work orders hand up (orders/hooks.py)


def _ensure_schedules(sender: Any, **kwargs: Any) -> None:
    from energydash.balances.schedules import ensure_schedules

    ensure_schedules()
