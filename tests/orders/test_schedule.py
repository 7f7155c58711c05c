"""The poller's adaptive schedule (orders/schedule.py) and the "look again soon" paths."""

from __future__ import annotations

from datetime import timedelta

import httpx
import time_machine
from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.orders.polling import poll_pass
from energydash.orders.schedule import Schedule, next_delay
from tests.orders.test_tracking import callback, callbacks_reach, payload_for, place  # noqa: F401

S = Schedule(base=2, fast=60, slowdown_percent=20, most=60, callback_factor=2)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_a_young_order_is_looked_at_every_base_interval():
    for age in (0, 1, 30, 59.9):
        assert next_delay(seconds(age), "tronzap", schedule=S) == seconds(2)
        assert next_delay(seconds(age), "itrx", schedule=S) == seconds(2)


def test_the_interval_grows_with_age_up_to_the_cap():
    assert next_delay(seconds(60), "netts", schedule=S) == seconds(2)
    assert next_delay(seconds(160), "netts", schedule=S) == seconds(22)
    assert next_delay(seconds(350), "netts", schedule=S) == seconds(60)
    assert next_delay(seconds(3600), "netts", schedule=S) == seconds(60)
    delays = [next_delay(seconds(a), "netts", schedule=S) for a in range(0, 2000, 7)]
    assert delays == sorted(delays)


def test_a_provider_that_pushes_callbacks_is_polled_less_once_past_the_fast_window():
    assert next_delay(seconds(30), "itrx", schedule=S) == seconds(2)
    assert next_delay(seconds(160), "itrx", schedule=S) == seconds(44)
    assert next_delay(seconds(3600), "itrx", schedule=S) == seconds(120)


def test_an_order_that_just_changed_is_looked_at_again_soon_whatever_its_age():
    assert next_delay(seconds(3600), "netts", changed=True, schedule=S) == seconds(2)
    assert next_delay(seconds(3600), "itrx", changed=True, schedule=S) == seconds(2)


def test_the_schedule_reads_its_settings(settings):
    settings.ENERGYDASH_POLL_BASE_SECONDS = 3
    settings.ENERGYDASH_POLL_FAST_SECONDS = 10
    settings.ENERGYDASH_POLL_SLOWDOWN_PERCENT = 100
    settings.ENERGYDASH_POLL_MAX_SECONDS = 30
    settings.ENERGYDASH_POLL_CALLBACK_FACTOR = 1
    assert next_delay(seconds(5), "netts") == seconds(3)
    assert next_delay(seconds(20), "netts") == seconds(13)
    assert next_delay(seconds(500), "itrx") == seconds(30)


def test_an_old_order_is_rescheduled_by_its_age_after_an_unchanging_look(itrx, http):
    itrx.sandbox.delegation_delay_seconds = 100_000
    itrx.sandbox.save()
    order = place(itrx, http)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(created=now - seconds(20 * 60), next_poll_at=now)
    with time_machine.travel(now, tick=False):
        first = poll_pass(client=http)  # may move it submitted -> delegating: changed
    order.refresh_from_db()
    assert first.checked == 1
    if first.changed:
        assert order.next_poll_at == now + seconds(2)  # it moved: look again soon
        now = order.next_poll_at
        with time_machine.travel(now, tick=False):
            assert poll_pass(client=http).changed == 0
        order.refresh_from_db()
    assert order.status in (Status.SUBMITTED, Status.DELEGATING)
    assert order.next_poll_at == now + next_delay(seconds(20 * 60), "itrx")
    assert order.next_poll_at - now > seconds(10)


def test_an_old_order_that_got_a_callback_is_looked_at_on_the_next_pass(
    itrx,
    http,
    callbacks_reach,  # noqa: F811
):
    """Polled rarely by its age, but a callback makes it due at once: the next pass looks."""
    callbacks_reach(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))))
    itrx.sandbox.delegation_delay_seconds = 100_000
    itrx.sandbox.save()
    order = place(itrx, http)
    now = timezone.now()
    later = now + next_delay(seconds(20 * 60), "itrx")
    Order.objects.filter(pk=order.pk).update(created=now - seconds(20 * 60), next_poll_at=later)
    with time_machine.travel(now + seconds(1), tick=False):
        assert poll_pass(client=http).checked == 0  # not due by its schedule
    assert callback(http, itrx.account, payload_for(order)).status_code == 200
    order.refresh_from_db()
    assert order.next_poll_at <= timezone.now() < later
    with time_machine.travel(timezone.now() + seconds(1), tick=False):
        assert poll_pass(client=http).checked == 1


def test_a_callback_during_a_look_is_not_undone_by_the_release(itrx, http, monkeypatch):
    """A callback that lands while a poller holds the order sets its next look to now; the
    poller's release must not push that back to the order's (long) scheduled interval."""
    from energydash.orders import polling

    itrx.sandbox.delegation_delay_seconds = 100_000
    itrx.sandbox.save()
    order = place(itrx, http)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(created=now - seconds(20 * 60), next_poll_at=now)
    look = polling.process

    def look_while_a_callback_lands(order, adapter, at):
        Order.objects.filter(pk=order.pk).update(next_poll_at=at)  # as callbacks.py does
        return look(order, adapter, at)

    monkeypatch.setattr(polling, "process", look_while_a_callback_lands)
    with time_machine.travel(now + seconds(1), tick=False):
        assert poll_pass(client=http).checked == 1
    monkeypatch.setattr(polling, "process", look)
    order.refresh_from_db()
    assert order.next_poll_at <= now + seconds(1)
    with time_machine.travel(now + seconds(2), tick=False):
        assert poll_pass(client=http).checked == 1


def test_a_callback_that_moves_an_open_order_sets_its_next_look_in_that_same_write(itrx, http):
    """An old order (polled rarely by its age) told by callback that it is delegating: the
    transition's own UPDATE makes it due now, so the next pass looks (issue 23: callbacks make the
    schedule faster), and no separate UPDATE of the order's schedule follows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    itrx.sandbox.delegation_delay_seconds = 100_000
    itrx.sandbox.save()
    order = place(itrx, http)
    assert order.status == Status.SUBMITTED
    now = timezone.now()
    later = now + next_delay(seconds(20 * 60), "itrx")
    Order.objects.filter(pk=order.pk).update(created=now - seconds(20 * 60), next_poll_at=later)
    with CaptureQueriesContext(connection) as queries:
        assert callback(http, itrx.account, payload_for(order, status=30)).status_code == 200
    order.refresh_from_db()
    assert order.status == Status.DELEGATING
    assert order.next_poll_at <= timezone.now() < later
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "orders_order"')]
    assert len(updates) == 1, updates
    assert '"next_poll_at"' in updates[0] and '"status"' in updates[0]
