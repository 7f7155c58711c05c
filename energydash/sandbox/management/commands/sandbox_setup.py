from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from energydash.sandbox.setup import setup_sandbox


class Command(BaseCommand):
    help = (
        "Create (idempotently) one sandbox account per provider with 5,000 TRX and the matching "
        "provider accounts 'Sandbox itrx', 'Sandbox TronZap', 'Sandbox Netts'."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where this server is reached; accounts point at BASE/sandbox/<provider>.",
        )
        parser.add_argument(
            "--reset-balances",
            action="store_true",
            help="Put every sandbox balance back to 5,000 TRX (otherwise spent balances stay).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for line in setup_sandbox(options["base_url"], reset_balances=options["reset_balances"]):
            self.stdout.write(line)
