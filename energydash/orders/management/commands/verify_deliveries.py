from __future__ import annotations

import signal
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from energydash.orders.delivery import verify_pass
from energydash.orders.delivery_figures import figures
from energydash.orders.tasks import IDLE_SLEEP_SECONDS, verify_loop


class Command(BaseCommand):
    help = (
        "Run one pass verifying due orders' deliveries on the TRON chain and print what changed; "
        "with --loop, keep verifying as a service (SIGTERM or Ctrl-C stops it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="verify until stopped")
        parser.add_argument(
            "--seconds", type=float, default=None, help="with --loop: stop after this long"
        )
        parser.add_argument(
            "--idle-sleep",
            type=float,
            default=IDLE_SLEEP_SECONDS,
            help="with --loop: seconds to wait when nothing was due (default 1)",
        )

        parser.add_argument(
            "--figures",
            action="store_true",
            help="print chain calls per verified order and the latency after the provider's "
            "done (verified orders finished in the last --minutes), then exit",
        )
        parser.add_argument("--minutes", type=int, default=60, help="with --figures: the window")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["figures"]:
            since = timezone.now() - timedelta(minutes=options["minutes"])
            for line in figures(since).lines():
                self.stdout.write(line)
            return
        if not options["loop"]:
            result = verify_pass()
            self.stdout.write(
                f"{result.changed} order(s) changed ({result.checked} looked at, "
                f"{result.calls} chain request(s))"
            )
            return
        stop = {"now": False}

        def request_stop(signum: int, frame: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        idle = max(0.05, options["idle_sleep"])
        passes, checked, changed = verify_loop(
            options["seconds"], idle_sleep=idle, should_stop=lambda: stop["now"]
        )
        self.stdout.write(f"{passes} pass(es), {checked} look(s), {changed} changed")
