from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "energydash.core"
    label = "core"
    verbose_name = "Console"

    def ready(self) -> None:
        from energydash.core import (  # noqa: F401
            checks,
            language,
            logcontext,
            metrics,
            roles,
            task_guard,
        )

        task_guard.connect()
        metrics.connect()
        logcontext.connect()
        language.connect()
