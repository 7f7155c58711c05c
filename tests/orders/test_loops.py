"""The one loop behind poll_orders and verify_deliveries (tasks.run_loop and the commands)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command

from energydash.orders import tasks


@dataclass
class Counts:
    checked: int
    changed: int


def test_the_loop_sleeps_only_when_nothing_was_due_and_stops_when_asked():
    results = iter([Counts(3, 1), Counts(0, 0), Counts(2, 2), Counts(0, 0)])
    slept: list[float] = []
    done = {"passes": 0}

    def one_pass():
        done["passes"] += 1
        return next(results)

    passes, checked, changed = tasks.run_loop(
        one_pass,
        None,
        idle_sleep=0.5,
        sleep=slept.append,
        should_stop=lambda: done["passes"] >= 4,
    )
    assert (passes, checked, changed) == (4, 5, 3)
    assert slept == [0.5, 0.5]  # after the two passes that found nothing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "words"),
    [("poll_orders", "order(s) checked"), ("verify_deliveries", "look(s)")],
)
def test_both_commands_run_one_pass_or_a_bounded_loop(command, words, settings):
    settings.ENERGYDASH_TRON_API_URL = ""
    once = io.StringIO()
    call_command(command, stdout=once)
    assert "0 order(s) changed" in once.getvalue()
    looped = io.StringIO()
    call_command(command, "--loop", "--seconds", "0", stdout=looped)
    assert looped.getvalue().strip() == f"1 pass(es), 0 {words}, 0 changed"
