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


# The worker's loop tasks run back to back: a run that ends queues its successor at once instead
# of leaving the loop idle until the next minute's schedule (django-q2's scheduler looks every
# 30 s: a 55 s run every minute left 5-35 s a minute with no verification and no polling).


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["poll_orders", "verify_deliveries"])
def test_a_loop_task_queues_its_successor_when_its_run_is_over(task, settings, monkeypatch):
    settings.ENERGYDASH_TRON_API_URL = ""
    settings.REDIS_URL = "redis://127.0.0.1:6379/12"  # the lock is shared (the cache is locmem)
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    summary = getattr(tasks, task)(run_for=0)
    assert summary.startswith("1 pass(es)")
    assert queued == [f"energydash.orders.tasks.{task}"]


@pytest.mark.django_db
@pytest.mark.parametrize("task", ["poll_orders", "verify_deliveries"])
def test_a_second_run_while_one_loops_does_nothing_and_queues_nothing(task, settings, monkeypatch):
    """The schedule keeps firing every minute as a watchdog: while a run holds the loop, the
    scheduled one returns at once, so loops never multiply."""
    from django.core.cache import cache

    settings.ENERGYDASH_TRON_API_URL = ""
    settings.REDIS_URL = "redis://127.0.0.1:6379/12"
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    cache.set(tasks.loop_key(task), "another run", 60)
    try:
        summary = getattr(tasks, task)(run_for=0)
    finally:
        cache.delete(tasks.loop_key(task))
    assert summary == "another run is looping; nothing done"
    assert queued == []


@pytest.mark.django_db
def test_without_a_shared_cache_runs_do_not_chain(settings, monkeypatch):
    """Each process's own cache cannot tell one loop from another: chaining would multiply
    them, so without Redis the schedule alone starts runs (as before)."""
    settings.ENERGYDASH_TRON_API_URL = ""
    settings.REDIS_URL = ""
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    assert tasks.verify_deliveries(run_for=0).startswith("1 pass(es)")
    assert queued == []


# A cluster that starts runs django-q2's scheduler only 30 s later: without a kick, every start
# (a deploy, the soak) left 30 s with no polling and no verifying (the soak's early Netts orders:
# a delegation taken back 20 s after landing was never seen, its charged order went to review
# and held its never-charged neighbours there).


@pytest.mark.django_db
def test_a_worker_that_starts_queues_every_loop_at_once(settings, monkeypatch):
    from django_q.signals import post_spawn

    settings.REDIS_URL = "redis://127.0.0.1:6379/12"
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert sorted(queued) == [
        "energydash.orders.tasks.check_watch_rules",
        "energydash.orders.tasks.poll_orders",
        "energydash.orders.tasks.verify_deliveries",
    ]


@pytest.mark.django_db
def test_a_worker_that_starts_while_a_loop_runs_queues_only_the_idle_one(settings, monkeypatch):
    from django.core.cache import cache
    from django_q.signals import post_spawn

    settings.REDIS_URL = "redis://127.0.0.1:6379/12"
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    cache.set(tasks.loop_key("poll_orders"), "another run", 60)
    try:
        post_spawn.send(sender="django_q", proc_name="Process-2")
    finally:
        cache.delete(tasks.loop_key("poll_orders"))
    assert sorted(queued) == [
        "energydash.orders.tasks.check_watch_rules",
        "energydash.orders.tasks.verify_deliveries",
    ]


@pytest.mark.django_db
def test_without_a_shared_cache_a_starting_worker_queues_nothing(settings, monkeypatch):
    from django_q.signals import post_spawn

    settings.REDIS_URL = ""
    queued: list[str] = []
    monkeypatch.setattr(tasks, "_queue", queued.append)
    post_spawn.send(sender="django_q", proc_name="Process-3")
    assert queued == []


@pytest.mark.django_db
def test_a_starting_worker_survives_a_broker_that_fails(settings, monkeypatch):
    """The kick runs inside django-q2's worker start-up: a failure there is logged, never
    raised (it would kill the worker, and the cluster would respawn it in a loop)."""
    from django_q.signals import post_spawn

    settings.REDIS_URL = "redis://127.0.0.1:6379/12"

    def broken(func: str) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks, "_queue", broken)
    post_spawn.send(sender="django_q", proc_name="Process-4")  # does not raise


class _Stat:
    def __init__(self, workers, status):
        self.workers, self.status = workers, status


@pytest.mark.django_db
def test_a_loop_run_ends_at_once_when_its_cluster_is_stopping(settings, monkeypatch):
    """A deploy's SIGTERM: django-q2 lets a worker finish its task and the tasks already handed
    to it, so a loop run (55 s) and each queued successor held the stop for minutes (the smoke
    test's 90 s limit failed). A run of a stopping cluster's worker does no pass."""
    import os

    from django_q.conf import Conf
    from django_q.status import Stat

    settings.REDIS_URL = "redis://127.0.0.1:6379/12"
    monkeypatch.setattr(tasks, "_queue", lambda func: None)
    monkeypatch.setattr(tasks, "_stat_broker", object())
    stats = [_Stat([1, 2], Conf.WORKING), _Stat([os.getpid()], Conf.STOPPING)]
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: stats))
    assert tasks.verify_deliveries(run_for=20).startswith("0 pass(es)")


@pytest.mark.django_db
def test_a_loop_run_of_a_working_cluster_runs_its_passes(settings, monkeypatch):
    import os

    from django_q.conf import Conf
    from django_q.status import Stat

    settings.REDIS_URL = "redis://127.0.0.1:6379/12"
    monkeypatch.setattr(tasks, "_queue", lambda func: None)
    monkeypatch.setattr(tasks, "_stat_broker", object())
    stats = [_Stat([os.getpid()], Conf.WORKING)]
    monkeypatch.setattr(Stat, "get_all", staticmethod(lambda broker=None: stats))
    assert not tasks.verify_deliveries(run_for=0).startswith("0 pass(es)")
