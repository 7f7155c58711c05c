from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.sandbox.tasks import deliver_due_callbacks


class Command(BaseCommand):
    help = "Send the sandbox's due itrx callbacks once (the schedule does this every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = deliver_due_callbacks()
        self.stdout.write(f"{made} callback delivery attempt(s) made.")
