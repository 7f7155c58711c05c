from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.balances import schedules as balance_schedules
from energydash.orders import schedules as order_schedules


# Here, not in orders: it sets up the schedules of orders and of balances, and only a layer at or
# above balances may import both (pyproject.toml [tool.importlinter]).
class Command(BaseCommand):
    help = "Create or update every django-q2 schedule of energydash (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        for setup in (order_schedules.ensure_schedules, balance_schedules.ensure_schedules):
            for name in setup():
                self.stdout.write(f"Schedule ready: {name}")
