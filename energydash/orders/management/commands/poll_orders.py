from __future__ import annotations

from typing import Any

from django.conf import settings

from energydash.orders.management.loop_command import LoopCommand
from energydash.orders.polling import Workers, poll_pass


class Command(LoopCommand):
    help = (
        "Run one polling pass over open orders and print how many changed; with --loop, keep "
        "polling as a service (each order when it is due; SIGTERM or Ctrl-C stops it)."
    )
    what = "order(s) checked"
    workers: Workers | None = None

    def handle(self, *args: Any, **options: Any) -> None:
        # A loop keeps its polling threads (and their database connections) from pass to pass.
        with Workers(settings.ENERGYDASH_POLL_CONCURRENCY) as self.workers:
            super().handle(*args, **options)

    def one_pass(self) -> Any:
        return poll_pass(workers=self.workers)
