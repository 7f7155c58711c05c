"""django-q2 tasks of the orders app: plain functions returning a short summary."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from energydash.orders.models import POLLABLE, Order
from energydash.orders.polling import poll_pass

# The schedule runs every minute; within a run, keep polling while orders are due soon so a
# status change reaches the console in seconds, and return well before the next run (and well
# inside Q_CLUSTER's timeout).
RUN_FOR_SECONDS = 50
IDLE_SLEEP_SECONDS = 2


def poll_orders(run_for: float = RUN_FOR_SECONDS) -> str:
    deadline = time.monotonic() + run_for
    checked = changed = passes = 0
    while True:
        result = poll_pass()
        passes += 1
        checked += result.checked
        changed += result.changed
        soon = timezone.now() + timedelta(seconds=IDLE_SLEEP_SECONDS * 5)
        anything_due_soon = Order.objects.filter(
            status__in=POLLABLE, next_poll_at__lte=soon
        ).exists()
        if not anything_due_soon or time.monotonic() + IDLE_SLEEP_SECONDS >= deadline:
            break
        time.sleep(IDLE_SLEEP_SECONDS)
    return f"{passes} pass(es), {checked} order(s) checked, {changed} changed"
