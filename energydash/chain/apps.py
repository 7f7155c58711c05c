from __future__ import annotations

from django.apps import AppConfig


class ChainConfig(AppConfig):
    name = "energydash.chain"
    label = "chain"
    verbose_name = "TRON chain reader"
