"""Polling in parallel: several orders in flight at once, still one claim per order, even with
two passes (two workers) running at the same time."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from energydash.orders.models import Order, Status
from energydash.orders.placement import place_order
from energydash.orders.polling import LEASE, claim_due, poll_pass
from energydash.orders.spec import OrderSpec
from tests.orders.conftest import address, make_box
from tests.waiting import DEADLINE_SECONDS

ORDERS = 12


class GatedTransport(httpx.BaseTransport):
    """The sandbox, but a status lookup answers only once `gate` lookups are in flight together
    (or after the deadline, failing the test): proof of concurrency without timing."""

    def __init__(self, inner: httpx.BaseTransport, gate: int) -> None:
        self.inner = inner
        self.gate = gate
        self.lock = threading.Condition()
        self.in_flight = 0
        self.most = 0
        self.lookups: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/v1/transaction/check"):  # TronZap's status lookup
            return self.inner.handle_request(request)
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.lookups.append(request.content.decode())
            self.lock.notify_all()
            self.lock.wait_for(lambda: self.most >= self.gate, timeout=DEADLINE_SECONDS)
        try:
            return self.inner.handle_request(request)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def placed(wsgi_app):
    box = make_box("tronzap")
    with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as http:
        for n in range(ORDERS):
            spec = OrderSpec(
                account=box.account,
                kind="energy",
                receive_address=address(f"concurrent {n}"),
                energy=65_000,
                period="1H",
            )
            place_order(spec, client=http)
    assert Order.objects.filter(status__in=(Status.SUBMITTED, Status.DELEGATING)).count() == ORDERS
    return box


@pytest.mark.django_db(transaction=True)
def test_a_pass_polls_several_orders_at_once(placed, wsgi_app, settings):
    settings.ENERGYDASH_POLL_CONCURRENCY = 4
    transport = GatedTransport(httpx.WSGITransport(app=wsgi_app), gate=4)
    with httpx.Client(transport=transport) as client:
        result = poll_pass(now=timezone.now() + timedelta(seconds=30), client=client)
    assert transport.most >= 4  # four lookups were waiting on the provider together
    assert result.checked == ORDERS
    assert set(Order.objects.values_list("poll_count", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_passes_still_claim_each_order_once(placed, wsgi_app):
    transport = GatedTransport(httpx.WSGITransport(app=wsgi_app), gate=2)
    later = timezone.now() + timedelta(seconds=30)
    results = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            start.wait(timeout=DEADLINE_SECONDS)
            with httpx.Client(transport=transport) as client:
                results.append(poll_pass(now=later, client=client, concurrency=3))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS * 4)
    assert not errors, errors
    assert sum(r.checked for r in results) == ORDERS  # every order by exactly one worker
    assert set(Order.objects.values_list("poll_count", flat=True)) == {1}
    assert len(transport.lookups) == len(set(transport.lookups)) == ORDERS


@pytest.mark.django_db(transaction=True)
def test_a_claim_takes_at_most_the_chunk_it_asks_for_and_only_due_orders(placed):
    """One conditional UPDATE claims a chunk: never more than asked (as a plain `IN (subquery)`
    with SKIP LOCKED, PostgreSQL claimed every due order), soonest first, and a claimed order is
    not due for anyone else until its lease ends."""
    later = timezone.now() + timedelta(seconds=30)
    soonest = list(Order.objects.order_by("next_poll_at", "id").values_list("pk", flat=True)[:3])
    first = claim_due(later, 3)
    assert sorted(first) == sorted(soonest)
    assert Order.objects.filter(claimed_until__isnull=False).count() == 3
    second = claim_due(later, ORDERS)
    assert len(second) == ORDERS - 3 and not set(first) & set(second)
    assert claim_due(later, ORDERS) == []  # all leased
    assert len(claim_due(later + LEASE + timedelta(seconds=1), ORDERS)) == ORDERS  # expired


@pytest.mark.django_db(transaction=True)
def test_a_polling_loop_keeps_its_threads_database_connections_across_passes(placed, wsgi_app):
    """Issue 23: a pass used to start its threads afresh and close each one's connection at its
    end, so a loop opened about one database connection per look (a PostgreSQL backend each).
    The loop's threads now live as long as the loop, each with its one connection."""
    from django.db.backends.signals import connection_created

    from energydash.orders.tasks import poll_loop

    main = threading.get_ident()
    opened: list[int] = []

    def count(sender, connection, **kwargs):
        if threading.get_ident() != main:
            opened.append(threading.get_ident())

    passes = {"n": 0}

    def due_again() -> bool:  # between passes: every order is due again
        passes["n"] += 1
        Order.objects.update(next_poll_at=timezone.now() - timedelta(seconds=1))
        return passes["n"] > 3

    connection_created.connect(count)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=wsgi_app)) as client:
            done, checked, _ = poll_loop(
                None, client=client, concurrency=2, should_stop=due_again, idle_sleep=0
            )
    finally:
        connection_created.disconnect(count)
    assert done == 3 and checked == 3 * ORDERS
    assert set(Order.objects.values_list("poll_count", flat=True)) == {3}
    assert len(opened) <= 2, f"{len(opened)} connections for 3 passes of 2 threads"
