from __future__ import annotations

from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "energydash.batches"
    label = "batches"
    verbose_name = "Bulk orders"
