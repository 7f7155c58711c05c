"""Issue 19, finding 2: a refund that comes after an order is final is recorded on the order."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from energydash.orders.late_refunds import check_late_refunds
from energydash.orders.models import Order, Status
from tests.orders.conftest import address, make_box
from tests.orders.test_review_lookup import remote_order

COST = 3_800_000
DEADLINE_SECONDS = 30


def final_order(box, ref: str, *, finished_ago: timedelta, **kw) -> Order:
    finished = timezone.now() - finished_ago
    values = {
        "account": box.account,
        "receive_address": address("late"),
        "energy": 65_000,
        "period": "1H",
        "status": Status.COMPLETED,
        "provider_ref": ref,
        "burn_sun_per_energy": 100,
        "quoted_cost_sun": COST,
        "cost_sun": COST,
        "created": finished - timedelta(minutes=1),
        "submitted_at": finished - timedelta(minutes=1),
        "finished_at": finished,
    }
    values.update(kw)
    return Order.objects.create(**values)


def test_a_refund_after_completion_is_recorded_once_with_a_timeline_row(itrx, http):
    remote_order(itrx, "serial-late-1", cost_sun=COST, refund_sun=1_000_000)
    order = final_order(itrx, "serial-late-1", finished_ago=timedelta(minutes=20))
    assert check_late_refunds(client=http) == 1
    order.refresh_from_db()
    assert order.status == Status.COMPLETED  # a final order does not move
    assert order.refund_sun == 1_000_000 and order.refunded_at is not None
    assert order.late_refund_sun == 1_000_000  # the ledger counts it at refunded_at
    event = order.events.get()
    assert "refunded 1.000000 TRX after the order was final" in event.message
    # Looked at again later: nothing new, nothing written.
    assert check_late_refunds(now=timezone.now() + timedelta(hours=1), client=http) == 0
    assert order.events.count() == 1


def test_orders_outside_the_window_or_not_yet_due_are_not_asked(itrx, settings):
    settings.ENERGYDASH_LATE_REFUND_HOURS = {"itrx": 72, "tronzap": 24, "netts": 0}
    old = final_order(itrx, "serial-old", finished_ago=timedelta(hours=73))
    fresh = final_order(itrx, "serial-fresh", finished_ago=timedelta(minutes=1))

    def no_calls(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"asked {request.url}")

    with httpx.Client(transport=httpx.MockTransport(no_calls)) as client:
        assert check_late_refunds(client=client) == 0
    assert not old.events.exists() and not fresh.events.exists()


def test_a_provider_with_no_window_is_never_asked(netts, settings):
    settings.ENERGYDASH_LATE_REFUND_HOURS = {"itrx": 72, "tronzap": 24, "netts": 0}
    final_order(netts, "1Hlate", finished_ago=timedelta(minutes=20))

    def no_calls(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"asked {request.url}")

    with httpx.Client(transport=httpx.MockTransport(no_calls)) as client:
        assert check_late_refunds(client=client) == 0


def test_after_a_check_the_next_one_waits(itrx, http):
    remote_order(itrx, "serial-late-2", cost_sun=COST)
    order = final_order(itrx, "serial-late-2", finished_ago=timedelta(minutes=20))
    check_late_refunds(client=http)
    order.refresh_from_db()
    assert order.refund_check_at > timezone.now() + timedelta(minutes=9)
    assert order.refund_sun is None and not order.events.exists()


@pytest.mark.django_db(transaction=True)
def test_racing_checks_record_a_late_refund_exactly_once(live_sandbox):
    box = make_box("tronzap", base=live_sandbox)
    remote_order(box, "tz-late-race", cost_sun=COST, refund_sun=COST)
    order = final_order(box, "tz-late-race", finished_ago=timedelta(minutes=20))
    racers = 4
    start = threading.Barrier(racers)
    errors: list[BaseException] = []
    recorded: list[int] = []

    def worker() -> None:
        try:
            start.wait(timeout=DEADLINE_SECONDS)
            recorded.append(check_late_refunds())
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
    assert sum(recorded) == 1
    order.refresh_from_db()
    assert order.refund_sun == COST and order.late_refund_sun == COST
    assert sum(e.count for e in order.events.filter(kind="note")) == 1


def test_a_rise_in_an_uncertain_orders_window_is_matched_to_a_refund_asked_for_at_once(
    tronzap, http
):
    """A TronZap order's answer was lost; its lookups find nothing; the balance rose 1 TRX while
    it could have been charged: a deposit could hide a charge, so no verdict. The rise was a
    refund of a finished order that energydash had not heard yet. Reconciliation asks about the
    account's recently finished orders, hears the refund, the ledger attributes the rise to it,
    and the next weighing concludes "not placed"."""
    from energydash.balances.services import record_balance
    from energydash.orders.reconciliation import conclude_not_found
    from energydash.providers.registry import adapter_for

    now = timezone.now()
    remote_order(tronzap, "tz-refunded", cost_sun=COST, refund_sun=1_000_000)
    final_order(tronzap, "tz-refunded", finished_ago=timedelta(minutes=6))
    lost = Order.objects.create(
        account=tronzap.account,
        receive_address=address("lost"),
        energy=65_000,
        period="1H",
        status=Status.UNKNOWN,
        burn_sun_per_energy=100,
        quoted_cost_sun=COST,
        created=now - timedelta(minutes=3),
        submitted_at=now - timedelta(minutes=3) + timedelta(seconds=2),
    )
    for minutes, trx in ((-4, 100), (-2.5, 101), (-1, 101)):
        taken = now + timedelta(minutes=minutes)
        record_balance(tronzap.account, trx * 1_000_000, source="refresh", taken_at=taken)
    tronzap.sandbox.balance_sun = 101_000_000
    tronzap.sandbox.save(update_fields=["balance_sun"])
    adapter = adapter_for(tronzap.account.credentials(), http)

    assert not conclude_not_found(lost, adapter, "test", 3, now)
    lost.refresh_from_db()
    assert lost.status == Status.UNKNOWN
    assert "1 late refund(s) heard meanwhile" in lost.events.last().message

    assert conclude_not_found(lost, adapter, "test", 3, now + timedelta(seconds=5))
    lost.refresh_from_db()
    assert lost.status == Status.FAILED
    assert "balance agrees" in lost.events.filter(kind="state").last().message
