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
        from energydash.orders.hooks import check_hooks

        checks.register(check_hooks)


def _ensure_schedules(sender: Any, **kwargs: Any) -> None:
    from energydash.orders.schedules import ensure_schedules

    ensure_schedules()
