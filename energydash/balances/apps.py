from __future__ import annotations

from django.apps import AppConfig

from energydash.core.schedules import ensure_after_migrate


class BalancesConfig(AppConfig):
    name = "energydash.balances"
    label = "balances"
    verbose_name = "Balances and alerts"

    def ready(self) -> None:
        ensure_after_migrate(self, "energydash.balances.schedules.ensure_schedules")
        from energydash.balances import order_hooks
        from energydash.balances.rollups import connect_signals

        connect_signals()
        order_hooks.connect()  # the money work orders hand up (orders/hooks.py)
