"""Issue 19, finding 4: repeated identical events fold into one timeline row with a count."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from energydash.orders.models import Order, OrderEvent, Status
from energydash.orders.transitions import note, record_exchanges, transition
from energydash.providers.base import Exchange
from tests.orders.conftest import address

DEADLINE_SECONDS = 30


def _order(box, **kw) -> Order:
    values = {
        "account": box.account,
        "receive_address": address("repeats"),
        "energy": 65_000,
        "period": "1H",
        "status": Status.SUBMITTED,
        "burn_sun_per_energy": 100,
        "quoted_cost_sun": 4_000_000,
    }
    values.update(kw)
    return Order.objects.create(**values)


def _lookup(status: int = 200) -> Exchange:
    return Exchange(
        method="GET",
        url="https://example.test/apiv2/order_check?order_id=1Hmistyped",
        status_code=status,
        request_body="",
        response_body='{"success": false, "msg": "order not found"}',
        elapsed_ms=12,
        error="",
    )


def test_a_repeated_poll_result_folds_into_one_row_with_a_count(itrx):
    order = _order(itrx)
    start = timezone.now()
    for minute in range(96):
        with time_machine.travel(start + timedelta(seconds=5 * minute), tick=False):
            record_exchanges(order, [_lookup()], label="task:poll_orders")
            note(order, "Status check failed: order not found", label="task:poll_orders")
    rows = list(order.events.order_by("id"))
    assert [(e.kind, e.count) for e in rows] == [("exchange", 96), ("note", 96)]
    assert rows[1].created == start
    assert rows[1].last_seen == start + timedelta(seconds=5 * 95)


def test_a_different_event_in_between_starts_a_new_row(itrx):
    order = _order(itrx)
    note(order, "Status check failed: timeout", label="task:poll_orders")
    note(order, "Status check failed: timeout", label="task:poll_orders")
    note(order, "Status check failed: timeout", label="someone else")  # other actor
    transition(order, Status.DELEGATING, label="task:poll_orders")
    note(order, "Status check failed: timeout", label="task:poll_orders")
    rows = [(e.kind, e.actor_label, e.count) for e in order.events.order_by("id")]
    assert rows == [
        ("note", "task:poll_orders", 2),
        ("note", "someone else", 1),
        ("state", "task:poll_orders", 1),
        ("note", "task:poll_orders", 1),
    ]


def test_the_timeline_shows_the_count_and_the_last_time(viewer_client, itrx):
    order = _order(itrx)
    start = timezone.now().replace(microsecond=0)
    for n in range(3):
        with time_machine.travel(start + timedelta(seconds=5 * n), tick=False):
            note(order, "Status check failed: order not found", label="task:poll_orders")
    html = viewer_client.get(reverse("orders:detail", args=[order.code])).content.decode()
    assert html.count("Status check failed: order not found") == 1
    last = (start + timedelta(seconds=10)).strftime("%H:%M:%S")
    assert "×3" in html and "last at" in html and last in html


@pytest.mark.django_db(transaction=True)
def test_racing_identical_notes_fold_into_one_row_and_none_is_lost(itrx):
    order = _order(itrx)
    note(order, "Status check failed: order not found", label="task:poll_orders")
    racers = 6
    start = threading.Barrier(racers)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=DEADLINE_SECONDS)
            note(order, "Status check failed: order not found", label="task:poll_orders")
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS * 2)
    assert not errors, errors
    rows = list(OrderEvent.objects.filter(order=order))
    assert len(rows) == 1 and rows[0].count == racers + 1
