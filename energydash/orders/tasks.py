"""django-q2 tasks of the orders app: plain functions returning a short summary."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from energydash.orders import late_refunds, prices
from energydash.orders.polling import Workers, poll_pass

logger = logging.getLogger("energydash.tasks")

# The worker loops: run a pass over due orders, and when none were due sleep IDLE_SLEEP_SECONDS
# and look again, so an order due now is looked at within about a second (freshness, issue 9).
# As a django-q2 task each runs for RUN_FOR_SECONDS (well inside Q_CLUSTER's 120 s timeout); with
# Redis (a lock every process sees) a run that ends queues its successor at once, so the loop has
# no gap, and the every-minute schedule is a watchdog that restarts a loop whose worker died (a
# run finding the loop held returns at once). Without Redis runs start on the schedule alone.
# `manage.py poll_orders --loop` / `verify_deliveries --loop` / `watch_rules --loop` run the same
# loop as a service.
RUN_FOR_SECONDS = 55
IDLE_SLEEP_SECONDS = 1.0
# A looping run renews its hold on the loop every pass; a killed run's hold lapses after this.
LOOP_HOLD_SECONDS = 90
BUSY = "another run is looping; nothing done"


class PassCounts(Protocol):
    checked: int
    changed: int


def run_loop(
    one_pass: Callable[[], PassCounts],
    run_for: float | None,
    *,
    idle_sleep: float = IDLE_SLEEP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> tuple[int, int, int]:
    """Passes until `run_for` seconds are over (forever when None) or should_stop():
    (passes, checked, changed). Each order's own next look decides when it is due again."""
    deadline = None if run_for is None else time.monotonic() + run_for
    checked = changed = passes = 0
    while not should_stop():
        result = one_pass()
        passes += 1
        checked += result.checked
        changed += result.changed
        if deadline is not None and time.monotonic() + idle_sleep >= deadline:
            break
        if not result.checked:
            sleep(idle_sleep)
    return passes, checked, changed


def _verify_pass() -> PassCounts:
    from django.conf import settings

    from energydash.orders import delivery

    # Short passes (2 orders per thread): a pass waits for its slowest look, and looks go at the
    # request budget's pace, so an order whose done was just recorded (first in the next pass)
    # waits at most one short pass, not a pass over every due order.
    return delivery.verify_pass(limit=2 * settings.ENERGYDASH_DELIVERY_CONCURRENCY)


def poll_loop(
    run_for: float | None,
    *,
    client: Any = None,
    concurrency: int | None = None,
    **options: Any,
) -> tuple[int, int, int]:
    """Polling passes (orders/polling.py) as run_loop, on threads kept for the whole loop (each
    with its database connection: polling.Workers)."""
    from django.conf import settings

    size = concurrency or settings.ENERGYDASH_POLL_CONCURRENCY
    with Workers(size) as workers:
        return run_loop(lambda: poll_pass(client=client, workers=workers), run_for, **options)


def verify_loop(run_for: float | None, **options: Any) -> tuple[int, int, int]:
    """Delivery verification passes (orders/delivery.py) as run_loop."""
    return run_loop(_verify_pass, run_for, **options)


def loop_key(task: str) -> str:
    return f"loop-running:{task}"


def _queue(func: str) -> None:
    from django_q.tasks import async_task

    async_task(func)


_stat_broker: Any = None


def cluster_stopping() -> bool:
    """Whether the django-q2 cluster whose worker runs this process is stopping (a deploy's
    SIGTERM). A stopping cluster lets each worker finish its task and then the tasks already
    handed to it, before it exits; a loop run lasts RUN_FOR_SECONDS, so without this a stop
    waited for one run and then for each queued successor (over a minute each). The cluster's
    status is the Stat it keeps in the broker (Redis) with its workers' pids; read once a pass.
    Anything unreadable counts as not stopping (the loop then ends on its own clock)."""
    global _stat_broker
    try:
        import os

        from django_q.brokers import get_broker
        from django_q.conf import Conf
        from django_q.status import Stat

        if _stat_broker is None:
            _stat_broker = get_broker()
        pid = os.getpid()
        for stat in Stat.get_all(broker=_stat_broker):
            if pid in (getattr(stat, "workers", None) or []):
                return stat.status in (Conf.STOPPING, Conf.STOPPED)
    except Exception:
        logger.debug("could not read the cluster's status", exc_info=True)
    return False


def _chained(
    task: str, loop: Callable[..., tuple[int, int, int]], run_for: float
) -> tuple[int, int, int] | None:
    """Run `loop` as the one loop of its kind, then queue the next run (see the top)."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.REDIS_URL:
        return loop(run_for)
    key, token = loop_key(task), uuid.uuid4().hex
    if not cache.add(key, token, LOOP_HOLD_SECONDS):
        return None

    def lost_hold() -> bool:
        if cluster_stopping():
            return True  # the worker is told to stop: end the run now, not in up to a minute
        if cache.get(key) != token:
            return True  # the hold lapsed and another run took over: end here
        cache.touch(key, LOOP_HOLD_SECONDS)
        return False

    try:
        counts = loop(run_for, should_stop=lost_hold)
    finally:
        if cache.get(key) == token:
            cache.delete(key)
    _queue(f"energydash.orders.tasks.{task}")
    return counts


LOOPS = ("poll_orders", "verify_deliveries", "check_watch_rules")


def start_loops(**kwargs: Any) -> None:
    """django-q2's post_spawn (a worker process started): queue each loop no run holds.

    django-q2 runs its scheduler first 30 s after a cluster starts, so without this every start
    (a deploy, a restart) left 30 s with no polling and no verifying: an uncertain order's
    delegation taken back within that time was never seen. With Redis only (the loop's hold is
    shared; without it the schedule alone starts runs); a run that finds its loop held returns
    at once, so a kick from each worker never multiplies loops."""
    from django.conf import settings
    from django.core.cache import cache

    if not settings.REDIS_URL:
        return
    for task in LOOPS:
        try:
            if cache.get(loop_key(task)) is None:
                _queue(f"energydash.orders.tasks.{task}")
        except Exception:  # never kill a starting worker: the schedule starts the loop later
            logger.exception("could not queue %s at worker start", task)


def poll_orders(run_for: float = RUN_FOR_SECONDS) -> str:
    counts = _chained("poll_orders", poll_loop, run_for)
    if counts is None:
        return BUSY
    passes, checked, changed = counts
    return f"{passes} pass(es), {checked} order(s) checked, {changed} changed"


def check_late_refunds() -> str:
    """Ask about recently final orders whose provider may still refund (late_refunds.py)."""
    return f"{late_refunds.check_late_refunds()} late refund(s) recorded"


def reweigh_reviews() -> str:
    """Weigh the recent orders in review again (reconciliation.reweigh)."""
    from energydash.orders.reconciliation import reweigh_reviews as one_pass

    return f"{one_pass()} order(s) in review settled on new evidence"


def verify_deliveries(run_for: float = RUN_FOR_SECONDS) -> str:
    counts = _chained("verify_deliveries", verify_loop, run_for)
    if counts is None:
        return BUSY
    passes, checked, changed = counts
    return f"{passes} pass(es), {checked} delivery look(s), {changed} changed"


def expire_approvals() -> str:
    """Fail orders nobody approved within ENERGYDASH_APPROVAL_EXPIRY_HOURS."""
    from energydash.orders.approvals import expire_due

    return f"{expire_due()} order approval request(s) expired"


def run_ready_check(check_id: int) -> str:
    """Work on one ready check queued by POST /api/v1/ready or the console (readiness.py)."""
    from energydash.orders.readiness import run_check

    check = run_check(check_id)
    return f"ready check {check_id}: {check.state if check is not None else 'gone'}"


def _watch_pass() -> PassCounts:
    from energydash.orders.watch import watch_pass

    return watch_pass()


def watch_loop(run_for: float | None, **options: Any) -> tuple[int, int, int]:
    """Watch rule passes (orders/watch.py) as run_loop: an address due now is read within about
    a second, so each rule's interval (and each address's read schedule) holds within seconds."""
    return run_loop(_watch_pass, run_for, **options)


def check_watch_rules(run_for: float = RUN_FOR_SECONDS) -> str:
    """The watch rules' loop (orders/watch.py), chained like poll_orders; the every-minute
    schedule restarts it if its worker died."""
    counts = _chained("check_watch_rules", watch_loop, run_for)
    if counts is None:
        return BUSY
    passes, checked, changed = counts
    return f"{passes} pass(es), {checked} watched address(es) checked, {changed} order(s) placed"


def refresh_price_board() -> str:
    """The providers page's "Prices now": ask each enabled account for the common sizes and
    store the answers (orders/prices.py), so no web request asks a provider."""
    return f"{prices.refresh_board()} prices read"
