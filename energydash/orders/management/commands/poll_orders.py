from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from energydash.orders.polling import poll_pass
from energydash.orders.tasks import IDLE_SLEEP_SECONDS, poll_loop


class Command(BaseCommand):
    help = (
        "Run one polling pass over open orders and print how many changed; with --loop, keep "
        "polling as a service (each order when it is due; SIGTERM or Ctrl-C stops it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="poll until stopped")
        parser.add_argument(
            "--seconds", type=float, default=None, help="with --loop: stop after this long"
        )
        parser.add_argument(
            "--idle-sleep",
            type=float,
            default=IDLE_SLEEP_SECONDS,
            help="with --loop: seconds to wait when nothing was due (default 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["loop"]:
            result = poll_pass()
            self.stdout.write(f"{result.changed} order(s) changed ({result.checked} checked)")
            return
        stop = {"now": False}

        def request_stop(signum: int, frame: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        idle = max(0.05, options["idle_sleep"])
        passes, checked, changed = poll_loop(
            options["seconds"], idle_sleep=idle, should_stop=lambda: stop["now"]
        )
        self.stdout.write(f"{passes} pass(es), {checked} order(s) checked, {changed} changed")
