from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.orders.polling import poll_pass


class Command(BaseCommand):
    help = "Run one polling pass over open orders and print how many changed."

    def handle(self, *args: Any, **options: Any) -> None:
        result = poll_pass()
        self.stdout.write(f"{result.changed} order(s) changed ({result.checked} checked)")
