from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """Owns no models: an app so Django finds its template tag libraries (money, routing)."""

    name = "energydash.console"
    label = "console"
    verbose_name = "Console pages"
