from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from energydash.lib.tron import format_trx
from energydash.orders.readiness import ReadyRefused, ensure_ready, usdt_units


class Command(BaseCommand):
    help = (
        "Make SENDER ready to send USDT now: activate it if needed, buy only the energy it lacks "
        "(best-price routing) and wait for it on chain. Exits 1 when not ready, with the reason."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("sender", help="Sender address (T...)")
        parser.add_argument("--recipient", default="", help="USDT recipient (T...): estimated")
        parser.add_argument("--usdt", help="USDT amount of the transfer (e.g. 12.5)")
        parser.add_argument("--deadline", type=int, help="Seconds to wait for on-chain proof")
        parser.add_argument(
            "--key", help="Idempotency key: run again with the same key to get the same answer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["key"] or f"cli-{uuid.uuid4()}"
        try:
            answer = ensure_ready(
                f"cli:{key}",
                options["sender"],
                recipient=options["recipient"],
                usdt=usdt_units(options["usdt"]),
                deadline_seconds=options["deadline"],
                via="command:ensure_ready",
            )
        except ReadyRefused as exc:
            raise CommandError(f"refused, nothing done: {exc}") from None
        if not answer.same_body:
            raise CommandError("this --key was used with another request; nothing was done")
        check = answer.check
        if not check.finished:
            raise CommandError(
                f"still working: the check with this --key (id {check.pk}) has not ended by the "
                "deadline; run again with the same --key for its answer"
            )
        if check.state != "ready":
            raise CommandError(f"not_ready: {check.reason}")
        self.stdout.write(
            f"ready {check.address}: energy {check.energy_available:,}, bandwidth "
            f"{check.bandwidth_available:,}, fee_limit {check.fee_limit_sun} sun "
            f"({format_trx(check.fee_limit_sun)} TRX), bought {check.energy_bought:,} energy"
        )
        self.stdout.write(check.reason)
