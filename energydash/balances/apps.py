from __future__ import annotations

from django.apps import AppConfig


class BalancesConfig(AppConfig):
    name = "energydash.balances"
    label = "balances"
    verbose_name = "Balances and alerts"
