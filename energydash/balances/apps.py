from __future__ import annotations

from django.apps import AppConfig
from django.core import checks

from energydash.core.schedules import ensure_after_migrate
from energydash.core.startup import STARTUP_DATABASE_TAG


class BalancesConfig(AppConfig):
    name = "energydash.balances"
    label = "balances"
    verbose_name = "Balances and alerts"

    def ready(self) -> None:
        from energydash.balances.checks import check_rollup_zone

        checks.register(check_rollup_zone, checks.Tags.database, STARTUP_DATABASE_TAG)
        ensure_after_migrate(self, "energydash.balances.schedules.ensure_schedules")
        from energydash.balances import order_hooks
        from energydash.balances.rollups import connect_signals

        connect_signals()
        from energydash.balances import ledger_days

        ledger_days.connect_signals()
        order_hooks.connect()  # the money work orders hand up (orders/hooks.py)
        from energydash.balances.delivery_alerts import on_delivery_checked
        from energydash.orders.signals import delivery_checked

        delivery_checked.connect(on_delivery_checked, dispatch_uid="energydash.balances.delivery")
        from django.db.models.signals import post_save

        from energydash.balances.channels import on_alert_saved
        from energydash.balances.models import Alert

        post_save.connect(on_alert_saved, sender=Alert, dispatch_uid="energydash.balances.channels")
