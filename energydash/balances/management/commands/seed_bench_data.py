from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from energydash.balances.benchdata import SeedRefused, seed


class Command(BaseCommand):
    help = (
        "Fill an empty database with benchmark data: 5 provider accounts (itrx, TronZap, Netts), "
        "N orders over 90 days with their events, M balance snapshots, and the rollups. "
        "For `make bench`; never on a production database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=10_000)
        parser.add_argument("--snapshots", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=9, help="random seed (same data again)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            result = seed(options["orders"], options["snapshots"], seed=options["seed"])
        except SeedRefused as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        self.stdout.write(
            f"{result.accounts} accounts, {result.orders:,} orders, {result.events:,} events, "
            f"{result.snapshots:,} snapshots, {result.rollup_rows:,} hourly rollup rows "
            f"in {seconds:.1f} s"
        )
