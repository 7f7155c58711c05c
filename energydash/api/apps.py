from __future__ import annotations

from django.apps import AppConfig

from energydash.core.schedules import ensure_after_migrate


class ApiConfig(AppConfig):
    name = "energydash.api"
    label = "api"
    verbose_name = "API, routing and webhooks"

    def ready(self) -> None:
        from energydash.api.caps import spend_cap
        from energydash.orders import hooks

        hooks.spend_cap.register(spend_cap)
        from energydash.api import monitoring, webhooks  # noqa: F401  (webhooks: receivers)
        from energydash.core import metrics

        metrics.register_collector(monitoring.collect)

        ensure_after_migrate(self, "energydash.api.schedules.ensure_schedules")
