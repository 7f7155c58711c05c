from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ApiConfig(AppConfig):
    name = "energydash.api"
    label = "api"
    verbose_name = "API, routing and webhooks"

    def ready(self) -> None:
        from energydash.api import webhooks  # noqa: F401  (connects the order_settled receiver)

        post_migrate.connect(_ensure_schedules, sender=self)


def _ensure_schedules(sender: Any, **kwargs: Any) -> None:
    from energydash.api.schedules import ensure_schedules

    ensure_schedules()
