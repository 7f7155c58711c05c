from __future__ import annotations

from django.apps import AppConfig

from energydash.core.schedules import ensure_after_migrate


class BatchesConfig(AppConfig):
    name = "energydash.batches"
    label = "batches"
    verbose_name = "Bulk orders"

    def ready(self) -> None:
        ensure_after_migrate(self, "energydash.batches.schedules.ensure_schedules")
