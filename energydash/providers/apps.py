from __future__ import annotations

from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "energydash.providers"
    label = "providers"
    verbose_name = "Provider accounts"
