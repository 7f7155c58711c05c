from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from energydash.orders.delivery import verify_pass
from energydash.orders.delivery_figures import figures
from energydash.orders.management.loop_command import LoopCommand


class Command(LoopCommand):
    help = (
        "Run one pass verifying due orders' deliveries on the TRON chain and print what changed; "
        "with --loop, keep verifying as a service (SIGTERM or Ctrl-C stops it)."
    )
    what = "look(s)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--figures",
            action="store_true",
            help="print chain calls per verified order and the latency after the provider's "
            "done (verified orders finished in the last --minutes), then exit",
        )
        parser.add_argument("--minutes", type=int, default=60, help="with --figures: the window")

    def one_pass(self) -> Any:
        return verify_pass()

    def pass_summary(self, result: Any) -> str:
        return (
            f"{result.changed} order(s) changed ({result.checked} looked at, "
            f"{result.calls} chain request(s))"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["figures"]:
            since = timezone.now() - timedelta(minutes=options["minutes"])
            for line in figures(since).lines():
                self.stdout.write(line)
            return
        super().handle(*args, **options)
