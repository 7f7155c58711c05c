from __future__ import annotations

from typing import Any

from energydash.orders.management.loop_command import LoopCommand
from energydash.orders.watch import watch_pass


class Command(LoopCommand):
    help = (
        "Run one pass over the watch rules' due addresses; with --loop, keep checking as a "
        "service (each address when it is due; SIGTERM or Ctrl-C stops it)."
    )
    what = "watched address(es) checked"

    def one_pass(self) -> Any:
        return watch_pass()

    def pass_summary(self, result: Any) -> str:
        return f"{result.changed} order(s) placed ({result.checked} watched address(es) checked)"
