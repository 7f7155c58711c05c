from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from energydash.core.schedules import ensure_after_migrate


class OrdersConfig(AppConfig):
    name = "energydash.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        ensure_after_migrate(self, "energydash.orders.schedules.ensure_schedules")
        from energydash.orders.hooks import check_hooks

        checks.register(check_hooks)
