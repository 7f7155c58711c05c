from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "energydash.core"
    label = "core"
    verbose_name = "Console"

    def ready(self) -> None:
        from energydash.core import checks, logcontext, metrics, roles, task_guard  # noqa: F401

        task_guard.connect()
        metrics.connect()
        logcontext.connect()
