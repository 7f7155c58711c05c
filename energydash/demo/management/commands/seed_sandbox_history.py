from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.demo.seed import SeedRefused, seed_history


class Command(BaseCommand):
    help = (
        "Sandbox only: generate 30 days of orders and balance history for the sandbox accounts, "
        "once (nothing happens if they already have history). Marked as sandbox data in the UI."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lines = seed_history()
        except SeedRefused as exc:
            self.stdout.write(f"Sandbox history not generated: {exc}.")
            return
        for line in lines:
            self.stdout.write(self.style.SUCCESS(line))
