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

        from django_q.signals import post_spawn

        from energydash.orders.tasks import start_loops

        # A worker that starts queues the poll and verify loops (tasks.start_loops).
        post_spawn.connect(start_loops, dispatch_uid="orders:start_loops")
