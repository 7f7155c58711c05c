from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.balances import passes
from energydash.balances.models import MANUAL


class Command(BaseCommand):
    help = "Refresh every enabled account's balance once and print each balance or error."

    def handle(self, *args: Any, **options: Any) -> None:
        results = passes.refresh_all(source=MANUAL)
        if not results:
            self.stdout.write("No enabled provider accounts.")
        for result in results:
            style = self.style.ERROR if result.error else self.style.SUCCESS
            self.stdout.write(style(result.line))
        self.stdout.write(passes.summarise_refresh(results))
