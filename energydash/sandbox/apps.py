from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "energydash.sandbox"
    label = "sandbox"
    verbose_name = "Provider sandbox"
