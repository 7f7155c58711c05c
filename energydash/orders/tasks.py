"""django-q2 tasks of the orders app: plain functions returning a short summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from energydash.orders import late_refunds
from energydash.orders.polling import poll_pass

# The worker loops: run a pass over due orders, and when none were due sleep IDLE_SLEEP_SECONDS
# and look again, so an order due now is looked at within about a second (freshness, issue 9).
# As a django-q2 task each runs for RUN_FOR_SECONDS and is re-scheduled every minute (well inside
# Q_CLUSTER's 120 s timeout); `manage.py poll_orders --loop` / `verify_deliveries --loop` run the
# same loop as a service.
RUN_FOR_SECONDS = 55
IDLE_SLEEP_SECONDS = 1.0


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
    from energydash.orders.delivery import verify_pass

    return verify_pass()


def poll_loop(run_for: float | None, **options: Any) -> tuple[int, int, int]:
    """Polling passes (orders/polling.py) as run_loop."""
    return run_loop(poll_pass, run_for, **options)


def verify_loop(run_for: float | None, **options: Any) -> tuple[int, int, int]:
    """Delivery verification passes (orders/delivery.py) as run_loop."""
    return run_loop(_verify_pass, run_for, **options)


def poll_orders(run_for: float = RUN_FOR_SECONDS) -> str:
    passes, checked, changed = poll_loop(run_for)
    return f"{passes} pass(es), {checked} order(s) checked, {changed} changed"


def check_late_refunds() -> str:
    """Ask about recently final orders whose provider may still refund (late_refunds.py)."""
    return f"{late_refunds.check_late_refunds()} late refund(s) recorded"


def verify_deliveries(run_for: float = RUN_FOR_SECONDS) -> str:
    passes, checked, changed = verify_loop(run_for)
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


def check_watch_rules() -> str:
    """One pass over the watch rules' due addresses (orders/watch.py); scheduled every minute."""
    from energydash.orders.watch import watch_pass

    done = watch_pass()
    return f"{done.checked} watched address(es) checked, {done.changed} order(s) placed"
