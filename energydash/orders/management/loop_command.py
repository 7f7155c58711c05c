"""The base of poll_orders and verify_deliveries: one pass, or --loop as a service that
SIGTERM or Ctrl-C stops after the pass under way (orders/tasks.py run_loop)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from energydash.orders.tasks import IDLE_SLEEP_SECONDS, PassCounts, run_loop


class LoopCommand(BaseCommand):
    what = "order(s) checked"  # what a pass counts, in the loop's summary

    def one_pass(self) -> PassCounts:
        raise NotImplementedError

    def pass_summary(self, result: Any) -> str:
        return f"{result.changed} order(s) changed ({result.checked} checked)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep going until stopped")
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
            self.stdout.write(self.pass_summary(self.one_pass()))
            return
        stop = {"now": False}

        def request_stop(signum: int, frame: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        should_stop: Callable[[], bool] = lambda: stop["now"]  # noqa: E731
        passes, checked, changed = run_loop(
            self.one_pass,
            options["seconds"],
            idle_sleep=max(0.05, options["idle_sleep"]),
            should_stop=should_stop,
        )
        self.stdout.write(f"{passes} pass(es), {checked} {self.what}, {changed} changed")
