from __future__ import annotations

from typing import Any

from energydash.orders.management.loop_command import LoopCommand
from energydash.orders.polling import poll_pass


class Command(LoopCommand):
    help = (
        "Run one polling pass over open orders and print how many changed; with --loop, keep "
        "polling as a service (each order when it is due; SIGTERM or Ctrl-C stops it)."
    )
    what = "order(s) checked"

    def one_pass(self) -> Any:
        return poll_pass()
