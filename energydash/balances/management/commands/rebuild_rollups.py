from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from energydash.balances import balance_rollups, ledger_days
from energydash.balances.rollups import rebuild


class Command(BaseCommand):
    help = (
        "Recompute the per-hour and per-day order rollups from the orders, the hourly "
        "balance rollups from the snapshots and the ledger's daily summary (after changing "
        "TIME_ZONE, restoring a backup, or editing orders by hand). Safe while the console runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        rows = rebuild()
        balance_rows = balance_rollups.rebuild()
        ledger_rows = ledger_days.rebuild()
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{rows:,} hourly rollup rows, {balance_rows:,} hourly balance rows and "
            f"{ledger_rows:,} ledger days rebuilt in {seconds:.1f} s"
        )
